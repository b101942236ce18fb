/**
 * After the organisation's sending options change: what was planned under the scenarios that follow
 * them is looked at again. Steps are the scenarios' (unchanged), so nothing is cancelled for them;
 * the hour a pending message may leave follows the new window. The worker checks the window and
 * the working days again when it sends (outbox-claim.ts), so a new holiday defers a message there.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { windowStart } from '../domain/engine/window.ts';
import { replanAfterScenarioChange } from './events.ts';
import { listScenarios, loadSendingDefaults, saveSendingDefaults } from './scenarios.ts';
import type { SendingOptions } from '../domain/engine/sending.ts';

export async function changeSendingDefaults(q: Queryable, orgId: string, change: Partial<SendingOptions>, today: CalendarDate): Promise<{ rescheduled: number }> {
  const before = await loadSendingDefaults(q, orgId);
  const next = await saveSendingDefaults(q, orgId, change);
  await replanAfterScenarioChange(q, orgId, today);
  if (before.window.start === next.window.start) return { rescheduled: 0 };
  const following = (await listScenarios(q, orgId)).filter((s) => s.follows.includes('window')).map((s) => s.id);
  if (following.length === 0) return { rescheduled: 0 };
  const [org] = await q.query<{ time_zone: string }>('SELECT time_zone FROM organisations WHERE id = $1', [orgId]);
  // Messages of today or later not yet gone; one sent late (its day passed) is the worker's to place.
  const days = await q.query<{ planned_on: CalendarDate }>(
    `SELECT DISTINCT planned_on FROM actions
      WHERE organisation_id = $1 AND status IN ('planned', 'awaiting_approval', 'queued') AND planned_on >= $2 AND scenario_id = ANY($3::bigint[])`,
    [orgId, today, pgArray(following)],
  );
  let rescheduled = 0;
  for (const { planned_on } of days) {
    const rows = await q.query<{ id: bigint }>(
      `UPDATE actions SET send_after = $4 WHERE organisation_id = $1 AND status IN ('planned', 'awaiting_approval', 'queued')
          AND planned_on = $2 AND scenario_id = ANY($3::bigint[]) AND fallback_from IS NULL RETURNING id`,
      [orgId, planned_on, pgArray(following), windowStart(planned_on, org!.time_zone, next.window.start)],
    );
    rescheduled += rows.length;
  }
  return { rescheduled };
}
