/**
 * Going live. A new organisation starts in review mode: the daily cycle plans as usual but every
 * action waits for a human's approval (status_reason "review"). `goLivePreview` tells what would
 * go out over the next days if it were live (the planner simulated day by day over the whole
 * ledger, every action assumed sent on its day); `setLive` switches the organisation live or back.
 */
import type { Queryable } from '../db/driver.ts';
import { pgArray } from '../db/driver.ts';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { MESSAGE_CHANNELS, REMINDER_TONES } from '../domain/engine/escalation.ts';
import { simulate } from '../domain/engine/simulate.ts';
import { getOrganisation, type Organisation, updateOrganisation } from '../ledger/repo.ts';
import { REVIEW_REASON } from './cycle.ts';
import { loadPlannerInput } from './planner-input.ts';
import { ensureBuiltinScenarios, loadAssignments } from './scenarios.ts';

export interface GoLiveLine {
  stepOffset: number;
  template: string;
  channel: string;
  tone: string;
  actions: number;
  invoices: number;
  customers: number;
  /** Open amounts of the invoices named, by currency, in minor units. */
  amountMinor: Record<string, bigint>;
}

export interface GoLivePreview {
  from: CalendarDate;
  to: CalendarDate;
  days: number;
  live: boolean;
  actions: number;
  awaitingApproval: number;
  customers: number;
  invoices: number;
  amountMinor: Record<string, bigint>;
  byStep: GoLiveLine[];
  byChannel: Record<string, number>;
  byTone: Record<string, number>;
  firstDay: { actions: number; customers: number };
  /** Invoices that would get a formal notice or a handover before any reminder was sent for them: always 0. */
  escalationsAsFirstContact: number;
  /** Invoices never chased before that the engine would start (at their first post-due step). */
  firstContacts: number;
}

const ESCALATION_TONES = new Set(['formal_notice', 'handover']);

export async function goLivePreview(q: Queryable, orgId: string, today: CalendarDate, days: number): Promise<GoLivePreview> {
  const org = await getOrganisation(q, orgId);
  await ensureBuiltinScenarios(q, orgId, org.language);
  const assignments = await loadAssignments(q, orgId);
  const input = await loadPlannerInput(q, orgId, today, { fromExclusive: -1n, toInclusive: 9_223_372_036_854_775_807n }, assignments, { unsentAsUndone: true });
  const to = addDays(today, days - 1);
  const byStep = new Map<string, GoLiveLine & { customerSet: Set<bigint> }>();
  const byChannel: Record<string, number> = {};
  const byTone: Record<string, number> = {};
  const customers = new Set<bigint>();
  const invoices = new Set<bigint>();
  const amounts = new Map<bigint, { currency: string; open: bigint }>();
  // An independent check of the planner's promise: an invoice is reminded before it is escalated.
  const reminded = new Set(input.invoices.filter((i) => i.history.lastReminderSentOn !== null).map((i) => i.invoiceId));
  let escalationsAsFirstContact = 0;
  let firstContacts = 0;
  let total = 0;
  let awaitingApproval = 0;
  const firstDay = { actions: 0, customers: new Set<bigint>() };
  simulate({
    from: today,
    to,
    customers: input.customers,
    invoices: input.invoices,
    onDay(day, plan) {
      for (const a of plan.actions) {
        total++;
        if (a.requiresApproval) awaitingApproval++;
        byChannel[a.channel] = (byChannel[a.channel] ?? 0) + 1;
        byTone[a.tone] = (byTone[a.tone] ?? 0) + 1;
        customers.add(a.customerId);
        if (day === today) {
          firstDay.actions++;
          firstDay.customers.add(a.customerId);
        }
        const key = `${a.stepOffset}|${a.template}|${a.channel}|${a.tone}`;
        let line = byStep.get(key);
        if (!line) {
          line = { stepOffset: a.stepOffset, template: a.template, channel: a.channel, tone: a.tone, actions: 0, invoices: 0, customers: 0, amountMinor: {}, customerSet: new Set() };
          byStep.set(key, line);
        }
        line.actions++;
        line.customerSet.add(a.customerId);
        for (const i of a.invoices) {
          line.invoices++;
          line.amountMinor[i.currency] = (line.amountMinor[i.currency] ?? 0n) + i.openMinor;
          invoices.add(i.invoiceId);
          amounts.set(i.invoiceId, { currency: i.currency, open: i.openMinor });
          if (i.firstContact) firstContacts++;
          if (ESCALATION_TONES.has(a.tone) && !reminded.has(i.invoiceId)) escalationsAsFirstContact++;
          if (MESSAGE_CHANNELS.has(a.channel) && REMINDER_TONES.has(a.tone)) reminded.add(i.invoiceId);
        }
      }
    },
  });
  const amountMinor: Record<string, bigint> = {};
  for (const { currency, open } of amounts.values()) amountMinor[currency] = (amountMinor[currency] ?? 0n) + open;
  return {
    from: today,
    to,
    days,
    live: org.live,
    actions: total,
    awaitingApproval,
    customers: customers.size,
    invoices: invoices.size,
    amountMinor,
    byStep: [...byStep.values()]
      .map(({ customerSet, ...l }) => ({ ...l, customers: customerSet.size }))
      .sort((a, b) => a.stepOffset - b.stepOffset || a.channel.localeCompare(b.channel)),
    byChannel,
    byTone,
    firstDay: { actions: firstDay.actions, customers: firstDay.customers.size },
    escalationsAsFirstContact,
    firstContacts,
  };
}

/**
 * Switches the organisation live (or back to review). Going live releases the actions of the day
 * held only for review (they go out in today's window); older ones are cancelled and their steps
 * planned again by the next cycle, so nothing leaves late with yesterday's wording.
 */
export async function setLive(q: Queryable, orgId: string, live: boolean, today: CalendarDate): Promise<{ organisation: Organisation; released: number; replanned: number }> {
  const organisation = await updateOrganisation(q, orgId, { live });
  if (!live) return { organisation, released: 0, replanned: 0 };
  const released = await q.query(
    `UPDATE actions SET status = 'queued', status_reason = NULL, updated_at = now()
      WHERE organisation_id = $1 AND status = 'awaiting_approval' AND status_reason = $2 AND planned_on >= $3 RETURNING id`,
    [orgId, REVIEW_REASON, today],
  );
  const stale = await q.query<{ id: bigint }>(
    `UPDATE actions SET status = 'cancelled', status_reason = 'review_expired', updated_at = now()
      WHERE organisation_id = $1 AND status = 'awaiting_approval' AND status_reason = $2 AND planned_on < $3 RETURNING id`,
    [orgId, REVIEW_REASON, today],
  );
  if (stale.length) {
    const ids = pgArray(stale.map((r) => r.id));
    const invoices = await q.query<{ invoice_id: bigint }>(
      `UPDATE step_records SET outcome = 'cancelled', reason = 'review_expired' WHERE organisation_id = $1 AND action_id = ANY($2::bigint[]) RETURNING invoice_id`,
      [orgId, ids],
    );
    await q.query('DELETE FROM invoice_schedule WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[])', [orgId, pgArray(invoices.map((r) => r.invoice_id))]);
  }
  return { organisation, released: released.length, replanned: stale.length };
}
