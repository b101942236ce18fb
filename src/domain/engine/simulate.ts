/**
 * The planner run day by day as if every action went out on the day it was planned (approvals
 * given, messages delivered): what the scenario editor shows for a sample invoice and what
 * `relance golive` counts for a whole ledger. Pure: the days are parameters.
 */
import { addDays, type CalendarDate } from '../dates.ts';
import { MESSAGE_CHANNELS, REMINDER_TONES } from './escalation.ts';
import { type DayPlan, planDay, type PlannerCustomer, type PlannerInvoice } from './planner.ts';

export interface SimulationOptions {
  from: CalendarDate;
  /** Last day simulated (inclusive). */
  to: CalendarDate;
  customers: ReadonlyMap<bigint, PlannerCustomer>;
  invoices: readonly PlannerInvoice[];
  /** Invoices paid in full on a day: nothing for them from that day on. */
  paidOn?: ReadonlyMap<bigint, CalendarDate>;
  onDay(date: CalendarDate, plan: DayPlan, invoices: ReadonlyMap<bigint, PlannerInvoice>): void;
}

export function simulate(o: SimulationOptions): void {
  const customers = new Map([...o.customers].map(([id, c]) => [id, { ...c }]));
  const invoices = o.invoices.map((i) => ({ ...i, done: new Set(i.done), history: { ...i.history } }));
  const byId = new Map(invoices.map((i) => [i.invoiceId, i]));
  for (let day = o.from; day <= o.to; day = addDays(day, 1)) {
    for (const inv of invoices) {
      const paid = o.paidOn?.get(inv.invoiceId);
      if (paid && paid <= day) inv.openMinor = 0n;
    }
    const plan = planDay(day, customers, invoices);
    feedBack(day, plan, byId, customers);
    o.onDay(day, plan, byId);
  }
}

/** What the day's plan leaves behind, as the cycle and the workers would record it. */
function feedBack(day: CalendarDate, plan: DayPlan, invoices: Map<bigint, PlannerInvoice>, customers: Map<bigint, PlannerCustomer>): void {
  const recorded = new Set<bigint>();
  const mark = (inv: PlannerInvoice, key: string, offset: number) => {
    (inv.done as Set<string>).add(key);
    inv.maxDoneOffset = inv.maxDoneOffset === null ? offset : Math.max(inv.maxDoneOffset, offset);
  };
  for (const a of plan.actions) {
    const message = MESSAGE_CHANNELS.has(a.channel);
    if (message) customers.get(a.customerId)!.lastMessageOn = day;
    for (const item of a.invoices) {
      const inv = invoices.get(item.invoiceId)!;
      recorded.add(inv.invoiceId);
      mark(inv, item.stepKey, item.stepOffset);
      const h = inv.history;
      h.lastContactOn = day;
      if (item.stepOffset >= 0) h.chased = true;
      if (message && REMINDER_TONES.has(a.tone)) h.lastReminderSentOn = day;
      if (message && a.tone === 'formal_notice') h.formalNotice = { sentOn: day, channel: a.channel };
    }
  }
  for (const k of plan.skipped) if (k.reason !== 'superseded') recorded.add(k.invoiceId);
  // Passed-over steps are written with the invoice's record of the day, when it has one.
  for (const k of plan.skipped) {
    if (k.reason === 'superseded' && !recorded.has(k.invoiceId)) continue;
    mark(invoices.get(k.invoiceId)!, k.stepKey, k.stepOffset);
  }
}
