/**
 * What works: for each scenario step (scenario, offset, channel, tone), the share of the invoices it
 * chased that were paid in full within 7 days after it went out; and why customers do not pay, from
 * the reasons recorded in call outcomes and disputes. One aggregate each.
 */
import type { Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';

export interface StepEffectiveness {
  scenario: string;
  stepOffset: number;
  channel: string;
  tone: string;
  invoices: number;
  paidWithin7Days: number;
  share: number;
}

/** Steps sent at least 7 days before `today` (the week after each is known). */
export async function stepEffectiveness(q: Queryable, orgId: string, today: CalendarDate): Promise<StepEffectiveness[]> {
  const rows = await q.query<Record<string, unknown>>(
    `WITH paid AS (SELECT invoice_id, max(allocated_on) AS paid_on FROM allocations WHERE organisation_id = $1 GROUP BY invoice_id),
          steps AS (
            SELECT s.key AS scenario, a.step_offset, a.channel, a.tone,
                   coalesce((a.sent_at AT TIME ZONE o.time_zone)::date, a.planned_on) AS sent_on,
                   CASE WHEN i.allocated_minor >= i.amount_incl_tax_minor THEN p.paid_on END AS paid_on
              FROM step_records sr
              JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
              JOIN scenarios s ON s.organisation_id = a.organisation_id AND s.id = a.scenario_id
              JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
              JOIN organisations o ON o.id = sr.organisation_id
              LEFT JOIN paid p ON p.invoice_id = sr.invoice_id
             WHERE sr.organisation_id = $1 AND sr.outcome = 'planned' AND a.status IN ('sent', 'exported'))
     SELECT scenario, step_offset, channel, tone, count(*) AS invoices,
            count(*) FILTER (WHERE paid_on >= sent_on AND paid_on <= sent_on + 7) AS paid7
       FROM steps WHERE sent_on <= $2::date - 7
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    [orgId, today],
  );
  return rows.map((r) => {
    const invoices = Number(r.invoices);
    const paid = Number(r.paid7);
    return { scenario: String(r.scenario), stepOffset: Number(r.step_offset), channel: String(r.channel), tone: String(r.tone), invoices, paidWithin7Days: paid, share: invoices ? Math.round((paid * 1000) / invoices) / 1000 : 0 };
  });
}

export interface ReasonLine {
  source: 'call' | 'dispute';
  reason: string;
  count: number;
  customers: number;
}

/** Reasons for non-payment: the coded reasons of call outcomes, the reasons disputes were opened for (as typed). */
export async function nonPaymentReasons(q: Queryable, orgId: string, since: CalendarDate | null = null): Promise<ReasonLine[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT 'call' AS source, non_payment_reason AS reason, count(*) AS n, count(DISTINCT customer_id) AS customers
       FROM call_outcomes WHERE organisation_id = $1 AND non_payment_reason IS NOT NULL AND ($2::date IS NULL OR recorded_on >= $2)
      GROUP BY non_payment_reason
     UNION ALL
     SELECT 'dispute', lower(btrim(reason)), count(*), count(DISTINCT customer_id)
       FROM disputes WHERE organisation_id = $1 AND ($2::date IS NULL OR opened_on >= $2)
      GROUP BY lower(btrim(reason))
     ORDER BY 3 DESC, 1, 2`,
    [orgId, since],
  );
  return rows.map((r) => ({ source: r.source as 'call' | 'dispute', reason: String(r.reason), count: Number(r.n), customers: Number(r.customers) }));
}
