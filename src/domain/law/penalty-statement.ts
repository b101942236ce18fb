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
    if (!inv.number?.trim()) throw validation('invoice number is required', { path, field: 'number' });
    if (inv.currency && inv.currency !== input.currency) {
      throw validation(`invoice ${inv.number} is in ${inv.currency}, the statement in ${input.currency}: one statement per currency`, { path, field: 'currency' });
    }
    if (inv.paidOn && toDay(inv.paidOn, { path, field: 'paidOn' }) > asOfDay) {
      throw validation(`invoice ${inv.number} is settled on ${inv.paidOn}, after the statement date ${input.asOf}`, { path, field: 'paidOn' });
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
      if (e instanceof RelanceError) throw new RelanceError(e.code, `invoice ${inv.number}: ${e.message}`, { where: { ...e.where, path }, details: e.details, cause: e });
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
 * supply, so no VAT is added (French administrative practice [S]; the organisation's accountant may
 * decide otherwise, in which case the caller adds the tax itself).
 */
export function penaltyReceivable(
  statement: PenaltyStatement,
  doc: { number: string; issueDate: CalendarDate; dueDate: CalendarDate },
): { number: string; issueDate: CalendarDate; dueDate: CalendarDate; currency: string; amountExclTaxMinor: bigint; amountInclTaxMinor: bigint; invoiceNumbers: string[] } {
  if (statement.totalMinor <= 0n) throw validation('the statement has nothing to invoice: no penalty or indemnity is owed', { field: 'totalMinor' });
  if (statement.provisional) {
    throw validation('the statement uses a provisional rate: add the official rate (relance rates set) before invoicing it', { field: 'provisional' });
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
