/**
 * Payments that arrive without saying which invoice they settle (by the API, or a CSV of payments
 * with no invoice column) go through the same matching as bank lines: reference, known IBAN and
 * amount, payer name and amount. A proposal above the threshold is applied as allocations (and the
 * customer, if the payment named none); anything less stays as the customer's unallocated credit,
 * reported with its candidates for a person to decide.
 */
import { type Queryable, pgArray } from '../db/driver.ts';
import { type MatchLine, matchLines, type MatchSettings, type Proposal } from '../domain/matching.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { allocate, writeOff } from '../ledger/repo.ts';
import { loadMatchingInputs } from './reconcile.ts';

export interface PaymentMatchResult {
  considered: number;
  applied: { paymentId: bigint; customerId: bigint; invoices: string[]; confidence: number }[];
  /** Left as unallocated credit: no proposal, or none sure enough. */
  leftOpen: { paymentId: bigint; candidates: { customerId: bigint; invoices: string[]; confidence: number }[] }[];
  customerIds: bigint[];
}

/** Matches the given payments (default: every payment with nothing allocated yet) in the caller's transaction. */
export async function matchPayments(
  q: Queryable,
  orgId: string,
  opts: { paymentIds?: bigint[]; createdInThisTransaction?: boolean; settings?: Partial<MatchSettings> } = {},
): Promise<PaymentMatchResult> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT p.id, p.customer_id, p.payment_date, p.currency, p.amount_minor, p.reference, p.payer_name, p.payer_iban, c.legal_name AS customer_name
       FROM payments p LEFT JOIN customers c ON c.organisation_id = p.organisation_id AND c.id = p.customer_id
      WHERE p.organisation_id = $1 AND p.allocated_minor = 0 AND ($2::bigint[] IS NULL OR p.id = ANY($2::bigint[]))
        AND (NOT $3::boolean OR p.created_at = now())
      ORDER BY p.payment_date, p.id`,
    [orgId, opts.paymentIds ? pgArray(opts.paymentIds) : null, Boolean(opts.createdInThisTransaction)],
  );
  const result: PaymentMatchResult = { considered: rows.length, applied: [], leftOpen: [], customerIds: [] };
  if (rows.length === 0) return result;
  const { invoices, customers } = await loadMatchingInputs(q, orgId, null);
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  const lines: MatchLine[] = rows.map((r) => ({
    id: String(r.id),
    bookingDate: r.payment_date as CalendarDate,
    amountMinor: r.amount_minor as bigint,
    currency: String(r.currency),
    // A payment recorded on a customer's account (a FEC's 411 line, a CSV naming the customer) is
    // that customer's: their name stands for the payer's when the file gives none.
    counterpartyName: (r.payer_name as string | null) ?? (r.customer_name as string | null) ?? null,
    counterpartyIban: (r.payer_iban as string | null) ?? null,
    remittanceText: (r.reference as string | null) ?? null,
    creditorReference: /^RF\d{2}/i.test(String(r.reference ?? '')) ? String(r.reference).replace(/\s/g, '') : null,
    label: null,
    reversal: false,
  }));
  const describe = (p: Proposal) => ({ customerId: p.customerId, invoices: p.allocations.map((a) => a.number), confidence: p.confidence });
  for (const outcome of matchLines(lines, invoices, customers, opts.settings)) {
    const payment = byId.get(outcome.lineId)!;
    const paymentId = payment.id as bigint;
    const known = (payment.customer_id as bigint | null) ?? null;
    if (outcome.kind === 'auto' && (known === null || known === outcome.proposal.customerId)) {
      const p = outcome.proposal;
      if (known === null) await q.query('UPDATE payments SET customer_id = $3 WHERE organisation_id = $1 AND id = $2', [orgId, paymentId, p.customerId]);
      for (const a of p.allocations) {
        await allocate(q, orgId, { invoiceId: a.invoiceId, paymentId, amountMinor: a.amountMinor, allocatedOn: payment.payment_date as CalendarDate });
      }
      for (const w of p.writeOffs) {
        await writeOff(q, orgId, { invoiceId: w.invoiceId, amountMinor: w.amountMinor, writtenOffOn: payment.payment_date as CalendarDate, reason: 'bank charges deducted by the payer' });
      }
      result.applied.push({ paymentId, ...describe(p) });
      result.customerIds.push(p.customerId);
    } else {
      const candidates = outcome.kind === 'review' ? outcome.candidates.map(describe) : outcome.kind === 'auto' ? [describe(outcome.proposal)] : [];
      result.leftOpen.push({ paymentId, candidates });
    }
  }
  result.customerIds = [...new Set(result.customerIds)];
  return result;
}
