/** An invoice's or a customer's dunning calendar: past steps with what happened, future steps with dates. */
import type { Queryable } from '../db/driver.ts';
import { type CalendarDate, daysBetween } from '../domain/dates.ts';
import { invoiceCalendar } from '../domain/engine/planner.ts';
import { loadPlannerInput } from './planner-input.ts';
import { loadAssignments } from './scenarios.ts';

export interface CalendarLine {
  invoice: string;
  stepKey: string;
  offset: number;
  channel: string;
  tone: string;
  date: CalendarDate;
  /** outside: a reminder sent before Relance (another tool, by hand), as the import recorded it. */
  state: 'done' | 'due' | 'future' | 'passed' | 'skipped' | 'cancelled' | 'outside';
  actionStatus: string | null;
  reason: string | null;
  paused: boolean;
  /** What the step needs before it may go out (escalation.ts): reminder_sent, formal_notice_expired. */
  prerequisite: string | null;
  /** The invoice waits today on this step's prerequisite. */
  waiting: boolean;
}

export async function customerCalendar(q: Queryable, orgId: string, customerId: bigint, today: CalendarDate): Promise<CalendarLine[]> {
  const input = await loadPlannerInput(q, orgId, today, { customerId }, await loadAssignments(q, orgId));
  const records = await q.query<Record<string, unknown>>(
    `SELECT sr.invoice_id, sr.step_key, sr.outcome, sr.reason, sr.recorded_on, sr.superseded, a.status, a.status_reason
       FROM step_records sr LEFT JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
       JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
      WHERE sr.organisation_id = $1 AND i.customer_id = $2`,
    [orgId, customerId],
  );
  const rec = new Map(records.map((r) => [`${r.invoice_id}|${r.step_key}`, r]));
  for (const r of records) {
    for (const k of (r.superseded as string[]) ?? []) {
      rec.set(`${r.invoice_id}|${k}`, { outcome: 'skipped', reason: 'superseded', recorded_on: r.recorded_on, status: null, status_reason: null });
    }
  }
  const lines: CalendarLine[] = [];
  for (const inv of input.invoices) {
    const h = inv.history;
    if (h.outsideLevel && h.outsideOn) {
      lines.push({
        invoice: inv.number, stepKey: 'outside', offset: daysBetween(inv.dueDate, h.outsideOn), channel: '-', tone: h.outsideLevel, date: h.outsideOn,
        state: 'outside', actionStatus: null, reason: 'outside', paused: inv.paused, prerequisite: null, waiting: false,
      });
    }
    for (const e of invoiceCalendar(inv, today, input.customers.get(inv.customerId))) {
      const r = rec.get(`${inv.invoiceId}|${e.stepKey}`);
      const state: CalendarLine['state'] = r ? (r.outcome === 'planned' ? 'done' : (r.outcome as 'skipped' | 'cancelled')) : e.state;
      lines.push({
        invoice: inv.number,
        stepKey: e.stepKey,
        offset: e.offset,
        channel: e.channel,
        tone: e.tone,
        date: r ? (r.recorded_on as CalendarDate) : e.date,
        state,
        actionStatus: (r?.status as string | undefined) ?? null,
        reason: ((r?.reason ?? r?.status_reason) as string | undefined) ?? null,
        paused: inv.paused,
        prerequisite: e.prerequisite,
        waiting: !r && e.waiting,
      });
    }
  }
  return lines;
}
