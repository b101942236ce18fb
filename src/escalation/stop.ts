/**
 * Stopping the amicable recovery for a debtor (collective proceedings) or for some of its invoices
 * (a handover): a pause of that reason, so the planner plans nothing more and the outbox re-check
 * refuses what slipped through, and every pending action cancelled now with the reason, open call
 * tasks closed with it. In the caller's transaction.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { cancelEmptyActions, createPause } from '../engine/events.ts';

export type StopReason = 'insolvency' | 'handover';

export async function stopRecovery(
  q: Queryable,
  orgId: string,
  s: { customerId: bigint; invoiceIds: bigint[] | null; reason: StopReason; note: string | null },
  today: CalendarDate,
): Promise<{ pauseId: bigint; cancelledActions: number }> {
  const only = s.invoiceIds ? pgArray(s.invoiceIds) : null;
  // The steps of pending actions for what stops: cancelled with the reason before the pause's own
  // re-plan, which would only say "paused".
  await q.query(
    `UPDATE step_records sr SET outcome = 'cancelled', reason = $4
       FROM actions a
      WHERE a.organisation_id = $1 AND a.customer_id = $2 AND a.status IN ('planned', 'awaiting_approval', 'queued')
        AND sr.organisation_id = a.organisation_id AND sr.action_id = a.id AND sr.outcome = 'planned'
        AND ($3::bigint[] IS NULL OR sr.invoice_id = ANY($3::bigint[]))`,
    [orgId, s.customerId, only, s.reason],
  );
  let cancelled = await cancelEmptyActions(q, orgId, s.customerId);
  if (s.invoiceIds === null) {
    // A whole debtor: anything pending for it goes, even an action that names no invoice.
    const rest = await q.query(
      `UPDATE actions SET status = 'cancelled', status_reason = $3, updated_at = now()
        WHERE organisation_id = $1 AND customer_id = $2 AND status IN ('planned', 'awaiting_approval', 'queued') RETURNING id`,
      [orgId, s.customerId, s.reason],
    );
    cancelled += rest.length;
  }
  // Calls not made yet: for the whole debtor, or those about the handed-over invoices only.
  await q.query(
    `UPDATE call_tasks t SET status = 'cancelled', closed_at = now()
      WHERE t.organisation_id = $1 AND t.customer_id = $2 AND t.status = 'open'
        AND ($3::bigint[] IS NULL OR NOT EXISTS (
              SELECT 1 FROM step_records sr WHERE sr.organisation_id = t.organisation_id AND sr.action_id = t.action_id
                 AND NOT (sr.invoice_id = ANY($3::bigint[]))))`,
    [orgId, s.customerId, only],
  );
  const pauseId = await createPause(
    q,
    orgId,
    { customerId: s.customerId, ...(s.invoiceIds ? { invoiceIds: s.invoiceIds } : { customerWide: true }), reason: s.reason, startsOn: today, note: s.note },
    today,
  );
  return { pauseId, cancelledActions: cancelled };
}
