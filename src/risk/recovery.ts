/**
 * Expected recovery over the ledger: the organisation's calibration (one aggregate of its history:
 * per age bucket, the invoices that reached that age unpaid at least 90 days ago, and how many of
 * them were paid in full since), and each open invoice's chance and expected amount, per invoice or
 * per action of the Today worklist.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { type CalendarDate, daysBetween } from '../domain/dates.ts';
import { type Calibration, calibrate, expectedMinor, RECOVERY_BUCKETS, recoveryProbability } from '../domain/recovery.ts';
import type { Minor } from '../domain/money.ts';
import { computeRisk } from './behaviour.ts';

/** Days an invoice is watched after reaching an age before its outcome counts. */
export const OBSERVATION_DAYS = 90;

export async function loadCalibration(q: Queryable, orgId: string, today: CalendarDate): Promise<Calibration> {
  const rows = await q.query<{ k: number; reached: bigint; recovered: bigint }>(
    `WITH paid AS (SELECT invoice_id, max(allocated_on) AS paid_on FROM allocations WHERE organisation_id = $1 GROUP BY invoice_id),
          inv AS (SELECT i.due_date, CASE WHEN i.allocated_minor >= i.amount_incl_tax_minor THEN p.paid_on END AS paid_on
                    FROM invoices i LEFT JOIN paid p ON p.invoice_id = i.id
                   WHERE i.organisation_id = $1 AND i.due_date <= $2::date - ${OBSERVATION_DAYS}),
          b AS (SELECT k, lower FROM unnest($3::int[]) WITH ORDINALITY AS u(lower, k))
     SELECT b.k::int AS k,
            count(inv.due_date) FILTER (WHERE inv.due_date + greatest(b.lower, 0) <= $2::date - ${OBSERVATION_DAYS} AND (inv.paid_on IS NULL OR inv.paid_on >= inv.due_date + b.lower)) AS reached,
            count(inv.due_date) FILTER (WHERE inv.due_date + greatest(b.lower, 0) <= $2::date - ${OBSERVATION_DAYS} AND inv.paid_on >= inv.due_date + b.lower) AS recovered
       FROM b LEFT JOIN inv ON true GROUP BY b.k ORDER BY b.k`,
    [orgId, today, pgArray([...RECOVERY_BUCKETS])],
  );
  return calibrate(rows.map((r) => ({ reached: Number(r.reached), recovered: Number(r.recovered) })));
}

export interface ExpectedInvoice {
  invoiceId: bigint;
  number: string;
  customerId: bigint;
  dueDate: CalendarDate;
  daysOverdue: number;
  openMinor: Minor;
  currency: string;
  probability: number;
  expectedMinor: Minor;
}

async function scoresOf(q: Queryable, orgId: string, today: CalendarDate, customerIds: bigint[]): Promise<Map<bigint, number>> {
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return new Map();
  return new Map((await computeRisk(q, orgId, today, ids)).map((r) => [r.customerId, r.score]));
}

function expected(rows: Record<string, unknown>[], cal: Calibration, scores: Map<bigint, number>, today: CalendarDate): ExpectedInvoice[] {
  return rows.map((r) => {
    const dueDate = r.due_date as CalendarDate;
    const daysOverdue = daysBetween(dueDate, today);
    const probability = recoveryProbability(cal, daysOverdue, scores.get(r.customer_id as bigint) ?? null);
    return {
      invoiceId: r.id as bigint,
      number: String(r.number),
      customerId: r.customer_id as bigint,
      dueDate,
      daysOverdue,
      openMinor: r.open as bigint,
      currency: String(r.currency),
      probability: Math.round(probability * 10_000) / 10_000,
      expectedMinor: expectedMinor(r.open as bigint, probability),
    };
  });
}

/** A customer's open invoices with their chance of being paid and what that is worth. */
export async function customerExpectedRecovery(q: Queryable, orgId: string, customerId: bigint, today: CalendarDate): Promise<{ calibration: Calibration; invoices: ExpectedInvoice[] }> {
  const calibration = await loadCalibration(q, orgId, today);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT id, number, customer_id, due_date, currency, amount_incl_tax_minor - allocated_minor - written_off_minor AS open FROM invoices
      WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY due_date, id`,
    [orgId, customerId],
  );
  return { calibration, invoices: expected(rows, calibration, await scoresOf(q, orgId, today, [customerId]), today) };
}

/** What each action of the worklist may bring in: the expected recovery of the invoices it chases. */
export async function expectedByAction(q: Queryable, orgId: string, actionIds: bigint[], today: CalendarDate): Promise<Map<string, Minor>> {
  if (actionIds.length === 0) return new Map();
  const rows = await q.query<Record<string, unknown>>(
    `SELECT DISTINCT sr.action_id, i.id, i.number, i.customer_id, i.due_date, i.currency, i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open
       FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
      WHERE sr.organisation_id = $1 AND sr.action_id = ANY($2::bigint[]) AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor`,
    [orgId, pgArray(actionIds)],
  );
  const cal = await loadCalibration(q, orgId, today);
  const scores = await scoresOf(q, orgId, today, rows.map((r) => r.customer_id as bigint));
  const out = new Map<string, Minor>();
  expected(rows, cal, scores, today).forEach((e, k) => {
    const a = String(rows[k]!.action_id);
    out.set(a, (out.get(a) ?? 0n) + e.expectedMinor);
  });
  return out;
}
