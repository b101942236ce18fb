/**
 * Payment behaviour and risk over the ledger. One set-based statement computes every customer's
 * behaviour aggregates (src/domain/risk.ts `Behaviour`: amount-weighted days late over all time,
 * 6 and 12 months, invoices paid after 0/1/2/3+ reminders, what is owed now and how old, promises
 * kept and broken, disputes), for one customer, some, or the whole organisation; the pure
 * `assessRisk` scores each; the results are kept in `customer_risk` (recomputed by the daily
 * cycle for everyone, and for a customer when a payment, a dispute or a promise changes its story).
 */
import { jsonReplacer, pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { assessRisk, type Behaviour, type RiskAssessment } from '../domain/risk.ts';

/** The invoices of the customers in scope ($1 organisation, $2 today, $3 customer ids or null), with the day each was settled and the reminders before it. */
const facts = (scoped: boolean) => `
  inv AS (
    SELECT i.id, i.customer_id, i.amount_incl_tax_minor AS amt, i.due_date, i.allocated_minor >= i.amount_incl_tax_minor AS settled,
           i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open
      FROM invoices i
     WHERE i.organisation_id = $1 ${scoped ? 'AND i.customer_id = ANY($3::bigint[])' : ''} AND i.issue_date <= $2),
  paid AS MATERIALIZED (
    SELECT a.invoice_id, max(a.allocated_on) AS paid_on FROM allocations a
     WHERE a.organisation_id = $1 ${scoped ? 'AND a.invoice_id IN (SELECT id FROM inv)' : ''}
     GROUP BY a.invoice_id),
  sent AS (
    SELECT sr.invoice_id, sr.recorded_on FROM step_records sr
     WHERE sr.organisation_id = $1 AND sr.outcome = 'planned' AND sr.step_offset >= 0
       ${scoped ? 'AND sr.invoice_id IN (SELECT id FROM inv)' : ''}),
  -- Computed once: with few customers the planner expects one row and would otherwise redo it
  -- for every invoice (34 s for 100 customers of the demo, on the Today screen).
  reminded AS MATERIALIZED (
    SELECT s.invoice_id, count(*) FILTER (WHERE NOT inv.settled OR s.recorded_on < p.paid_on) AS n
      FROM sent s JOIN inv ON inv.id = s.invoice_id LEFT JOIN paid p ON p.invoice_id = s.invoice_id
     GROUP BY s.invoice_id),
  facts AS (
    SELECT inv.customer_id, inv.amt, inv.due_date, inv.open,
           CASE WHEN inv.settled THEN p.paid_on END AS paid_on, coalesce(r.n, 0) AS reminders
      FROM inv LEFT JOIN paid p ON p.invoice_id = inv.id LEFT JOIN reminded r ON r.invoice_id = inv.id)`;

/** What is owed past due counts as late by the days so far (weights: the open amounts). */
const OWED_DAYS = 'coalesce(sum(open::numeric * ($2::date - due_date)) FILTER (WHERE open > 0 AND due_date < $2::date), 0)';
const OWED = 'coalesce(sum(open) FILTER (WHERE open > 0 AND due_date < $2::date), 0)';

export const behaviourSql = (scoped: boolean) => `
  WITH ${facts(scoped)},
  per_customer AS (
    SELECT customer_id,
           round((coalesce(sum(amt::numeric * greatest(0, paid_on - due_date)), 0) + ${OWED_DAYS})
                 / nullif(coalesce(sum(amt) FILTER (WHERE paid_on IS NOT NULL), 0) + ${OWED}, 0), 1) AS late_all,
           round((coalesce(sum(amt::numeric * greatest(0, paid_on - due_date)) FILTER (WHERE paid_on > $2::date - 182), 0) + ${OWED_DAYS})
                 / nullif(coalesce(sum(amt) FILTER (WHERE paid_on > $2::date - 182), 0) + ${OWED}, 0), 1) AS late_6,
           round((coalesce(sum(amt::numeric * greatest(0, paid_on - due_date)) FILTER (WHERE paid_on > $2::date - 365), 0) + ${OWED_DAYS})
                 / nullif(coalesce(sum(amt) FILTER (WHERE paid_on > $2::date - 365), 0) + ${OWED}, 0), 1) AS late_12,
           count(*) FILTER (WHERE paid_on IS NOT NULL) AS settled,
           count(*) FILTER (WHERE paid_on IS NOT NULL AND reminders = 0) AS r0,
           count(*) FILTER (WHERE paid_on IS NOT NULL AND reminders = 1) AS r1,
           count(*) FILTER (WHERE paid_on IS NOT NULL AND reminders = 2) AS r2,
           count(*) FILTER (WHERE paid_on IS NOT NULL AND reminders >= 3) AS r3,
           coalesce(sum(open) FILTER (WHERE open > 0), 0) AS open,
           coalesce(sum(open) FILTER (WHERE open > 0 AND due_date < $2::date), 0) AS overdue,
           coalesce(sum(open) FILTER (WHERE open > 0 AND due_date < $2::date - 90), 0) AS overdue90,
           coalesce(max($2::date - due_date) FILTER (WHERE open > 0 AND due_date < $2::date), 0) AS oldest
      FROM facts GROUP BY customer_id),
  promised AS (
    SELECT customer_id, count(*) FILTER (WHERE status = 'kept') AS kept, count(*) FILTER (WHERE status = 'broken') AS broken
      FROM promises WHERE organisation_id = $1 ${scoped ? 'AND customer_id = ANY($3::bigint[])' : ''} GROUP BY customer_id),
  disputed AS (
    SELECT customer_id, count(*) AS n, count(*) FILTER (WHERE resolved_on IS NULL) AS open
      FROM disputes WHERE organisation_id = $1 ${scoped ? 'AND customer_id = ANY($3::bigint[])' : ''} GROUP BY customer_id)
  SELECT c.id AS customer_id, pc.late_all::float8 AS late_all, pc.late_6::float8 AS late_6, pc.late_12::float8 AS late_12,
         coalesce(pc.settled, 0) AS settled, coalesce(pc.r0, 0) AS r0, coalesce(pc.r1, 0) AS r1, coalesce(pc.r2, 0) AS r2, coalesce(pc.r3, 0) AS r3,
         coalesce(pc.open, 0)::bigint AS open, coalesce(pc.overdue, 0)::bigint AS overdue, coalesce(pc.overdue90, 0)::bigint AS overdue90, coalesce(pc.oldest, 0) AS oldest,
         coalesce(pr.kept, 0) AS kept, coalesce(pr.broken, 0) AS broken, coalesce(d.n, 0) AS disputes, coalesce(d.open, 0) AS disputes_open
    FROM customers c
    LEFT JOIN per_customer pc ON pc.customer_id = c.id
    LEFT JOIN promised pr ON pr.customer_id = c.id
    LEFT JOIN disputed d ON d.customer_id = c.id
   WHERE c.organisation_id = $1 ${scoped ? 'AND c.id = ANY($3::bigint[])' : ''}
   ORDER BY c.id`;

const n = (v: unknown) => Number(v ?? 0);
const f = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toBehaviour(r: Record<string, unknown>): Behaviour {
  return {
    daysLate: { all: f(r.late_all), last6: f(r.late_6), last12: f(r.late_12) },
    settledCount: n(r.settled),
    paidAfterReminders: [n(r.r0), n(r.r1), n(r.r2), n(r.r3)],
    openMinor: BigInt(r.open as bigint),
    overdueMinor: BigInt(r.overdue as bigint),
    overdue90Minor: BigInt(r.overdue90 as bigint),
    oldestDaysPastDue: n(r.oldest),
    promisesKept: n(r.kept),
    promisesBroken: n(r.broken),
    disputes: n(r.disputes),
    disputesOpen: n(r.disputes_open),
  };
}

export interface CustomerRisk extends RiskAssessment {
  customerId: bigint;
  behaviour: Behaviour;
  computedOn: CalendarDate;
}

/** Behaviour and risk of the customers named (every customer when null), computed now, not stored. */
export async function computeRisk(q: Queryable, orgId: string, today: CalendarDate, customerIds: readonly bigint[] | null = null): Promise<CustomerRisk[]> {
  const rows = await q.query<Record<string, unknown>>(
    behaviourSql(customerIds !== null),
    customerIds === null ? [orgId, today] : [orgId, today, pgArray([...customerIds])],
  );
  return rows.map((r) => {
    const behaviour = toBehaviour(r);
    return { customerId: r.customer_id as bigint, behaviour, computedOn: today, ...assessRisk(behaviour) };
  });
}

/** Computes and keeps the risk of the customers named (all when null); returns how many. */
export async function refreshRisk(q: Queryable, orgId: string, today: CalendarDate, customerIds: readonly bigint[] | null = null): Promise<number> {
  if (customerIds !== null && customerIds.length === 0) return 0;
  // The whole organisation (caller's transaction): JIT compiling the aggregate costs more than it saves.
  if (customerIds === null) await q.exec(`SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
  const all = await computeRisk(q, orgId, today, customerIds);
  for (let k = 0; k < all.length; k += 5000) {
    const batch = all.slice(k, k + 5000).map((x) => ({
      customer_id: String(x.customerId),
      score: x.score,
      details: { level: x.level, reasons: x.reasons, behaviour: x.behaviour },
    }));
    await q.query(
      `INSERT INTO customer_risk (organisation_id, customer_id, score, computed_on, details)
       SELECT $1, x.customer_id, x.score, $2, x.details FROM json_to_recordset($3::json) AS x(customer_id bigint, score integer, details jsonb)
       ON CONFLICT (organisation_id, customer_id) DO UPDATE SET score = EXCLUDED.score, computed_on = EXCLUDED.computed_on, details = EXCLUDED.details`,
      [orgId, today, JSON.stringify(batch, jsonReplacer)],
    );
  }
  return all.length;
}

/** The risk kept for a customer (null before the first computation). */
export async function storedRisk(q: Queryable, orgId: string, customerId: bigint): Promise<{ score: number; computedOn: CalendarDate; details: Record<string, unknown> } | null> {
  const [r] = await q.query<Record<string, unknown>>('SELECT score, computed_on, details FROM customer_risk WHERE organisation_id = $1 AND customer_id = $2', [orgId, customerId]);
  if (!r) return null;
  return { score: Number(r.score), computedOn: r.computed_on as CalendarDate, details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown> };
}
