/**
 * The penalty statement ("relevé des pénalités de retard"): a separate document listing, per invoice,
 * the late-payment interest and fixed compensation owed. It never changes the original invoice; the
 * documents module renders it, and the ledger may book its total as a new receivable if the
 * organisation chooses (`penaltyReceivable`).
 */
import type { CalendarDate } from '../dates.ts';
import { RelanceError, validation } from '../../errors.ts';
import { toDay } from './calendar.ts';
import { computeLateFees, type CreditorKind, type DebtorKind, type Jurisdiction, type LateFeePeriod, type LateFeeRules } from './interest.ts';
import type { LawNote } from './messages.ts';
import type { RateTables } from './rates.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('law-penalties', {
  invoice_number: { fr: "le numéro de facture est obligatoire", en: "invoice number is required" },
  currency: { fr: "la facture {invoice} est en {currency}, le décompte en {statementCurrency} : un décompte par devise", en: "invoice {invoice} is in {currency}, the statement in {statementCurrency}: one statement per currency" },
  paid_after: { fr: "la facture {invoice} est réglée le {paidOn}, après la date du décompte {asOf}", en: "invoice {invoice} is settled on {paidOn}, after the statement date {asOf}" },
  invoice_prefix: { fr: "facture {invoice} : {reason}", en: "invoice {invoice}: {reason}" },
  nothing_owed: { fr: "le décompte n’a rien à facturer : aucune pénalité ni indemnité n’est due", en: "the statement has nothing to invoice: no penalty or indemnity is owed" },
  provisional: { fr: "le décompte utilise un taux provisoire : ajoutez le taux officiel (relance rates set) avant de le facturer", en: "the statement uses a provisional rate: add the official rate (relance rates set) before invoicing it" },
});

export interface PenaltyStatementInvoice {
  number: string;
  issueDate?: CalendarDate;
  dueDate: CalendarDate;
  /** Amount due tax included, minor units. */
  amountMinor: bigint;
  currency?: string;
  /** Partial payments and credit notes allocated to the invoice, with their dates. */
  payments?: { date: CalendarDate; amountMinor: bigint }[];
  /** Date of the payment that settled it, when settled: interest stops there. */
  paidOn?: CalendarDate;
  contractRatePercent?: string;
  noticeDate?: CalendarDate;
}

export interface PenaltyStatementInput {
  jurisdiction: Jurisdiction;
  debtor: DebtorKind;
  creditorKind?: CreditorKind;
  currency: string;
  /** Date of the statement: interest on unsettled invoices runs to it. */
  asOf: CalendarDate;
  invoices: PenaltyStatementInvoice[];
  /** Default contractual rate (the organisation's terms), unless an invoice has its own. */
  contractRatePercent?: string;
  rules?: Partial<LateFeeRules>;
}

export interface PenaltyStatementLine {
  invoiceNumber: string;
  issueDate: CalendarDate | undefined;
  dueDate: CalendarDate;
  until: CalendarDate;
  settled: boolean;
  daysLate: number;
  amountMinor: bigint;
  interestMinor: bigint;
  indemnityMinor: bigint;
  totalMinor: bigint;
  periods: LateFeePeriod[];
  provisional: boolean;
}

export interface PenaltyStatement {
  asOf: CalendarDate;
  jurisdiction: Jurisdiction;
  debtor: DebtorKind;
  currency: string;
  /** Late invoices only, in the order given. */
  lines: PenaltyStatementLine[];
  interestMinor: bigint;
  indemnityMinor: bigint;
  totalMinor: bigint;
  provisional: boolean;
  notes: string[];
  noteDetails: LawNote[];
  roundingRule: string;
}

export function buildPenaltyStatement(input: PenaltyStatementInput, rates: RateTables): PenaltyStatement {
  const asOfDay = toDay(input.asOf, { field: 'asOf' });
  const lines: PenaltyStatementLine[] = [];
  const notes: string[] = [];
  const noteDetails: LawNote[] = [];
  let roundingRule = '';
  let provisional = false;
  input.invoices.forEach((inv, i) => {
    const path = `invoices[${i}]`;
    if (!inv.number?.trim()) throw validation(E('invoice_number'), { path, field: 'number' });
    if (inv.currency && inv.currency !== input.currency) {
      throw validation(E('currency', { invoice: inv.number, currency: inv.currency, statementCurrency: input.currency }), { path, field: 'currency' });
    }
    if (inv.paidOn && toDay(inv.paidOn, { path, field: 'paidOn' }) > asOfDay) {
      throw validation(E('paid_after', { invoice: inv.number, paidOn: inv.paidOn, asOf: input.asOf }), { path, field: 'paidOn' });
    }
    const until = inv.paidOn ?? input.asOf;
    const contractRatePercent = inv.contractRatePercent ?? input.contractRatePercent;
    let r: ReturnType<typeof computeLateFees>;
    try {
      r = computeLateFees(
        {
          jurisdiction: input.jurisdiction,
          debtor: input.debtor,
          currency: input.currency,
          amountMinor: inv.amountMinor,
          dueDate: inv.dueDate,
          until,
          ...(inv.payments ? { payments: inv.payments.filter((p) => p.date <= until) } : {}),
          ...(contractRatePercent !== undefined ? { contractRatePercent } : {}),
          ...(inv.noticeDate !== undefined ? { noticeDate: inv.noticeDate } : {}),
          ...(input.creditorKind ? { creditorKind: input.creditorKind } : {}),
          ...(input.rules ? { rules: input.rules } : {}),
        },
        rates,
      );
    } catch (e) {
      // Name the invoice: "invoices[3] field dueDate: ..." rather than a bare field.
      if (e instanceof RelanceError) throw new RelanceError(e.code, E('invoice_prefix', { invoice: inv.number, reason: e.text ?? e.message }), { where: { ...e.where, path }, details: e.details, cause: e });
      throw e;
    }
    roundingRule = r.roundingRule;
    r.noteDetails.forEach((n, k) => {
      const text = r.notes[k]!;
      if (!notes.includes(text)) {
        notes.push(text);
        noteDetails.push(n);
      }
    });
    if (r.daysLate === 0) return;
    provisional ||= r.provisional;
    lines.push({
      invoiceNumber: inv.number,
      issueDate: inv.issueDate,
      dueDate: inv.dueDate,
      until,
      settled: inv.paidOn !== undefined,
      daysLate: r.daysLate,
      amountMinor: inv.amountMinor,
      interestMinor: r.interestMinor,
      indemnityMinor: r.indemnityMinor,
      totalMinor: r.totalMinor,
      periods: r.periods,
      provisional: r.provisional,
    });
  });
  let interest = 0n;
  let indemnity = 0n;
  for (const l of lines) {
    interest += l.interestMinor;
    indemnity += l.indemnityMinor;
  }
  return {
    asOf: input.asOf,
    jurisdiction: input.jurisdiction,
    debtor: input.debtor,
    currency: input.currency,
    lines,
    interestMinor: interest,
    indemnityMinor: indemnity,
    totalMinor: interest + indemnity,
    provisional,
    notes,
    noteDetails,
    roundingRule,
  };
}

/**
 * What the ledger books when the organisation invoices the penalties: a new receivable for the
 * statement total. Late-payment interest and the fixed indemnity are compensation, not the price of a
 * supply, so no VAT is added (French administrative practice, docs/law.md §1; the organisation's accountant may
 * decide otherwise, in which case the caller adds the tax itself).
 */
export function penaltyReceivable(
  statement: PenaltyStatement,
  doc: { number: string; issueDate: CalendarDate; dueDate: CalendarDate },
): { number: string; issueDate: CalendarDate; dueDate: CalendarDate; currency: string; amountExclTaxMinor: bigint; amountInclTaxMinor: bigint; invoiceNumbers: string[] } {
  if (statement.totalMinor <= 0n) throw validation(E('nothing_owed'), { field: 'totalMinor' });
  if (statement.provisional) {
    throw validation(E('provisional'), { field: 'provisional' });
  }
  return {
    number: doc.number,
    issueDate: doc.issueDate,
    dueDate: doc.dueDate,
    currency: statement.currency,
    amountExclTaxMinor: statement.totalMinor,
    amountInclTaxMinor: statement.totalMinor,
    invoiceNumbers: statement.lines.map((l) => l.invoiceNumber),
  };
}
