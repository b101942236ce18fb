/**
 * What a customer owes on a day, as an escalation document states it: per invoice the principal
 * still open that day (payments, credit notes and write-offs dated up to it taken off), the
 * late-payment interest and fixed indemnity computed to that day by the law module under the
 * customer's regime, the payments received, and the limitation date of each debt. The insolvency
 * declaration states it at the judgment date; the case file and the injonction de payer today.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { buildPenaltyStatement, type PenaltyStatement, prescriptionStatus, type PrescriptionStatus, type RateTables, type RegimeDecision } from '../domain/law/index.ts';
import type { Minor } from '../domain/money.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { customerRegime } from '../law/regime.ts';

const E = defineErrors('escalation-claim', {
  currencies: { fr: "les factures retenues sont dans plusieurs devises ({currencies}) : un dossier par devise (--invoices)", en: "the invoices chosen are in several currencies ({currencies}): one file per currency (--invoices)" },
  nothing_owed: { fr: "le client ne doit rien à cette date sur les factures retenues", en: "the customer owes nothing on that day on the invoices chosen" },
  unknown_invoices: { fr: "facture(s) inconnue(s) pour ce client : {list}", en: "invoice(s) not found for this customer: {list}" },
});

export interface ClaimLine {
  invoiceId: bigint;
  number: string;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountExclTaxMinor: Minor;
  amountInclTaxMinor: Minor;
  /** Paid (payments and credit notes) by the day. */
  settledMinor: Minor;
  writtenOffMinor: Minor;
  principalMinor: Minor;
  interestMinor: Minor;
  indemnityMinor: Minor;
  /** Due on or before the day (échue), or not yet (à échoir). */
  due: boolean;
  daysLate: number;
  pdfDocumentId: bigint | null;
  limitation: PrescriptionStatus;
}

export interface ClaimPayment {
  invoiceNumber: string;
  date: CalendarDate;
  amountMinor: Minor;
  source: 'payment' | 'credit_note';
  reference: string | null;
}

export interface Claim {
  customerId: bigint;
  asOf: CalendarDate;
  currency: string;
  regime: RegimeDecision;
  lines: ClaimLine[];
  payments: ClaimPayment[];
  principalMinor: Minor;
  interestMinor: Minor;
  indemnityMinor: Minor;
  totalMinor: Minor;
  /** Some interest assumed a rate not published yet. */
  provisional: boolean;
  statement: PenaltyStatement;
}

/**
 * The claim on `asOf` over the customer's invoices issued by then with something still open that
 * day (or over the invoices named, by number).
 */
export async function claimAt(
  q: Queryable,
  orgId: string,
  customerId: bigint,
  asOf: CalendarDate,
  rates: RateTables,
  opts: { invoiceNumbers?: readonly string[] | null; today?: CalendarDate } = {},
): Promise<Claim> {
  const regime = await customerRegime(q, orgId, customerId);
  const named = opts.invoiceNumbers?.length ? [...new Set(opts.invoiceNumbers)] : null;
  const rows = await q.query<Record<string, unknown>>(
    `SELECT i.id, i.number, i.issue_date, i.due_date, i.currency, i.amount_excl_tax_minor, i.amount_incl_tax_minor, i.pdf_document_id,
            coalesce((SELECT sum(a.amount_minor) FROM allocations a WHERE a.organisation_id = i.organisation_id AND a.invoice_id = i.id AND a.allocated_on <= $3), 0) AS settled,
            coalesce((SELECT sum(w.amount_minor) FROM write_offs w WHERE w.organisation_id = i.organisation_id AND w.invoice_id = i.id AND w.written_off_on <= $3), 0) AS written_off,
            (SELECT max(a.allocated_on) FROM allocations a WHERE a.organisation_id = i.organisation_id AND a.invoice_id = i.id AND a.allocated_on <= $3) AS last_payment
       FROM invoices i
      WHERE i.organisation_id = $1 AND i.customer_id = $2 AND i.issue_date <= $3 AND ($4::text[] IS NULL OR i.number = ANY($4::text[]))
      ORDER BY i.due_date, i.id`,
    [orgId, customerId, asOf, named ? pgArray(named) : null],
  );
  if (named) {
    const missing = named.filter((n) => !rows.some((r) => r.number === n));
    if (missing.length) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('unknown_invoices', { list: missing.join(', ') }), { where: { field: '--invoices' } });
  }
  const open = rows.filter((r) => (r.amount_incl_tax_minor as bigint) - (r.settled as bigint) - (r.written_off as bigint) > 0n);
  if (open.length === 0) throw new RelanceError(ERROR_CODES.VALIDATION, E('nothing_owed'), { where: { field: 'customer' } });
  const currencies = [...new Set(open.map((r) => String(r.currency)))];
  if (currencies.length > 1) throw new RelanceError(ERROR_CODES.VALIDATION, E('currencies', { currencies: currencies.join(', ') }), { where: { field: '--invoices' } });
  const currency = currencies[0]!;
  const ids = open.map((r) => r.id as bigint);
  const paid = await q.query<Record<string, unknown>>(
    `SELECT a.invoice_id, a.allocated_on, a.amount_minor, a.payment_id, p.reference, c.number AS credit_note
       FROM allocations a LEFT JOIN payments p ON p.organisation_id = a.organisation_id AND p.id = a.payment_id
       LEFT JOIN credit_notes c ON c.organisation_id = a.organisation_id AND c.id = a.credit_note_id
      WHERE a.organisation_id = $1 AND a.invoice_id = ANY($2::bigint[]) AND a.allocated_on <= $3 ORDER BY a.allocated_on, a.id`,
    [orgId, pgArray(ids), asOf],
  );
  const writeOffs = await q.query<Record<string, unknown>>(
    `SELECT invoice_id, written_off_on, amount_minor FROM write_offs WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[]) AND written_off_on <= $3`,
    [orgId, pgArray(ids), asOf],
  );
  const numberOf = new Map(open.map((r) => [r.id as bigint, String(r.number)]));
  // Interest runs on what was left unpaid: payments, credit notes and write-offs reduce the base.
  const reductions = (id: bigint) => [
    ...paid.filter((p) => p.invoice_id === id).map((p) => ({ date: p.allocated_on as CalendarDate, amountMinor: p.amount_minor as bigint })),
    ...writeOffs.filter((w) => w.invoice_id === id).map((w) => ({ date: w.written_off_on as CalendarDate, amountMinor: w.amount_minor as bigint })),
  ].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const statement = buildPenaltyStatement(
    {
      jurisdiction: regime.jurisdiction,
      debtor: regime.debtor,
      ...(regime.contractRatePercent ? { contractRatePercent: regime.contractRatePercent } : {}),
      currency,
      asOf,
      invoices: open
        .filter((r) => (r.due_date as CalendarDate) < asOf)
        .map((r) => ({
          number: String(r.number),
          issueDate: r.issue_date as CalendarDate,
          dueDate: r.due_date as CalendarDate,
          amountMinor: r.amount_incl_tax_minor as bigint,
          currency,
          payments: reductions(r.id as bigint),
        })),
    },
    rates,
  );
  const byNumber = new Map(statement.lines.map((l) => [l.invoiceNumber, l]));
  const limitationDay = opts.today ?? asOf;
  const lines: ClaimLine[] = open.map((r) => {
    const l = byNumber.get(String(r.number));
    const settled = r.settled as bigint;
    const writtenOff = r.written_off as bigint;
    return {
      invoiceId: r.id as bigint,
      number: String(r.number),
      issueDate: r.issue_date as CalendarDate,
      dueDate: r.due_date as CalendarDate,
      currency,
      amountExclTaxMinor: r.amount_excl_tax_minor as bigint,
      amountInclTaxMinor: r.amount_incl_tax_minor as bigint,
      settledMinor: settled,
      writtenOffMinor: writtenOff,
      principalMinor: (r.amount_incl_tax_minor as bigint) - settled - writtenOff,
      interestMinor: l?.interestMinor ?? 0n,
      indemnityMinor: l?.indemnityMinor ?? 0n,
      due: (r.due_date as CalendarDate) <= asOf,
      daysLate: l?.daysLate ?? 0,
      pdfDocumentId: (r.pdf_document_id as bigint | null) ?? null,
      // A payment on account acknowledges the debt and restarts the period (C. civ. 2240).
      limitation: prescriptionStatus({
        debtor: regime.debtor,
        from: r.due_date as CalendarDate,
        today: limitationDay,
        ...(r.last_payment ? { interruptedOn: r.last_payment as CalendarDate } : {}),
      }),
    };
  });
  const payments: ClaimPayment[] = paid.map((p) => ({
    invoiceNumber: numberOf.get(p.invoice_id as bigint)!,
    date: p.allocated_on as CalendarDate,
    amountMinor: p.amount_minor as bigint,
    source: p.payment_id ? 'payment' : 'credit_note',
    reference: p.payment_id ? ((p.reference as string | null) ?? null) : String(p.credit_note),
  }));
  const principal = lines.reduce((a, l) => a + l.principalMinor, 0n);
  return {
    customerId,
    asOf,
    currency,
    regime,
    lines,
    payments,
    principalMinor: principal,
    interestMinor: statement.interestMinor,
    indemnityMinor: statement.indemnityMinor,
    totalMinor: principal + statement.totalMinor,
    provisional: statement.provisional,
    statement,
  };
}
