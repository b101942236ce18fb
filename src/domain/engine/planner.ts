/**
 * The planner: a pure function of (open items, their scenario, pauses, what was already done,
 * today) that returns the actions due now, the steps recorded as skipped, and each invoice's full
 * calendar. The daily cycle and the previews both call it; nothing here reads a clock or a database.
 *
 * Rules (PRODUCT.md, "Promises the engine keeps"):
 * - A step is due when its date (due date + offset + days spent paused, moved to the next working
 *   day) is on or before today, it was not done, and no later step was done.
 * - After downtime only the most advanced due step goes out; earlier due ones are recorded as
 *   skipped with the reason ("superseded"), never silently dropped.
 * - A pause stops the invoice's clock from its due date on: when it ends the scenario resumes where
 *   it was. Steps before the due date keep their date (they announce it); one whose moment has
 *   passed (today is after the due date) is recorded as skipped, never sent late.
 * - Partially paid invoices keep being followed up for their open amount.
 */
import { addDays, type CalendarDate, daysBetween, fromEpochDay, toEpochDay } from '../dates.ts';
import type { Minor } from '../money.ts';
import { type WorkingDays, workingDays } from './holidays.ts';
import { type Channel, requiresApproval, type ScenarioDefinition, type Step, stepKey, TONES, type Tone } from './scenario.ts';

export interface PlannerCustomer {
  id: bigint;
  name: string;
  kind: 'business' | 'consumer';
  tags: string[];
  hasEmail: boolean;
  hasPhone: boolean;
  hasPostalAddress: boolean;
  /** Last day a message (not a task) was planned for this customer, before today. */
  lastMessageOn: CalendarDate | null;
}

export interface PlannerInvoice {
  invoiceId: bigint;
  number: string;
  customerId: bigint;
  currency: string;
  openMinor: Minor;
  dueDate: CalendarDate;
  scenarioId: bigint;
  scenarioVersion: number;
  scenario: ScenarioDefinition;
  /** An active pause (invoice or customer), dispute, promise or payment plan covers it today. */
  paused: boolean;
  /** When the active pause is planned to end (null: until lifted). */
  pausedUntil?: CalendarDate | null;
  /** Days spent paused since the due date: the clock of the steps from the due date on stopped for them. */
  pausedDays: number;
  /** Step keys ("offset:channel") already planned, sent or skipped for this invoice. */
  done: ReadonlySet<string>;
  /** The most advanced offset done, whatever the scenario it came from. */
  maxDoneOffset: number | null;
}

export interface ActionInvoice {
  invoiceId: bigint;
  number: string;
  stepOffset: number;
  stepKey: string;
  openMinor: Minor;
  currency: string;
}

export interface PlannedAction {
  dedupeKey: string;
  customerId: bigint;
  customerName: string;
  channel: Channel;
  /** The channel the step asked for, when the fallback replaced it. */
  fallbackFrom: Channel | null;
  tone: Tone;
  template: string;
  stepOffset: number;
  requiresApproval: boolean;
  scenarioId: bigint;
  scenarioVersion: number;
  plannedOn: CalendarDate;
  invoices: ActionInvoice[];
}

export const SKIP_REASONS = ['superseded', 'condition_not_met', 'no_contact_channel', 'due_date_passed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface SkippedStep {
  invoiceId: bigint;
  number: string;
  customerId: bigint;
  stepKey: string;
  stepOffset: number;
  channel: Channel;
  reason: SkipReason;
}

export interface HeldInvoice {
  invoiceId: bigint;
  customerId: bigint;
  reason: 'min_gap';
  until: CalendarDate;
}

/** 'infinity': nothing left to decide until something happens (a payment undone, a pause lifted). */
export type NextStepOn = CalendarDate | 'infinity';

export interface DayPlan {
  actions: PlannedAction[];
  skipped: SkippedStep[];
  held: HeldInvoice[];
  /** For every invoice looked at: the next day the planner has something to decide for it. */
  nextStepOn: Map<bigint, NextStepOn>;
}

const MESSAGE_CHANNELS: ReadonlySet<Channel> = new Set(['email', 'sms', 'letter', 'registered_letter']);
const toneRank = (t: Tone) => TONES.indexOf(t);

const calendars = new Map<string, WorkingDays>();
function calendarFor(name: string): WorkingDays {
  let c = calendars.get(name);
  if (!c) calendars.set(name, (c = workingDays(name)));
  return c;
}

/** The day a step falls on for an invoice. */
export function stepDate(inv: Pick<PlannerInvoice, 'dueDate' | 'pausedDays' | 'scenario'>, step: Step): CalendarDate {
  return fromEpochDay(stepDay(toEpochDay(inv.dueDate), inv.pausedDays, inv.scenario, step));
}

/**
 * stepDate on day numbers. A step before the due date announces it and keeps its date; the
 * others move by the days spent paused since the due date.
 */
function stepDay(dueDay: number, pausedDays: number, scenario: ScenarioDefinition, step: Step): number {
  const raw = dueDay + step.offset + (step.offset < 0 ? 0 : pausedDays);
  return scenario.options.workingDaysOnly ? calendarFor(scenario.options.holidayCalendar).nextWorkingEpochDay(raw) : raw;
}

const stepKeys = new WeakMap<Step, string>();
/** A step's key, made once per step object (the planner asks for it per invoice and step). */
function keyOf(step: Step): string {
  let k = stepKeys.get(step);
  if (k === undefined) stepKeys.set(step, (k = stepKey(step)));
  return k;
}

/** One object per skipped step, built in one go: catching up a ledger skips millions of them. */
function skip(inv: PlannerInvoice, step: Step, reason: SkipReason): SkippedStep {
  return { invoiceId: inv.invoiceId, number: inv.number, customerId: inv.customerId, stepKey: keyOf(step), stepOffset: step.offset, channel: step.channel, reason };
}

function canReach(c: PlannerCustomer, ch: Channel): boolean {
  switch (ch) {
    case 'email':
      return c.hasEmail;
    case 'sms':
    case 'call_task':
      return c.hasPhone;
    case 'letter':
    case 'registered_letter':
      return c.hasPostalAddress;
    case 'manual_task':
      return true;
  }
}

function conditionsMet(step: Step, c: PlannerCustomer, inv: PlannerInvoice, customerOverdue: Map<string, Minor>): boolean {
  const cond = step.conditions;
  if (!cond) return true;
  if (cond.customerKind && cond.customerKind !== c.kind) return false;
  if (cond.tags?.length && !cond.tags.some((t) => c.tags.includes(t))) return false;
  const min = cond.minOverdueMinor?.[inv.currency];
  if (min !== undefined) {
    // Before the due date nothing is overdue yet: the invoice's own amount decides.
    const amount = step.offset <= 0 ? inv.openMinor : (customerOverdue.get(inv.currency) ?? 0n);
    if (amount < BigInt(min)) return false;
  }
  return true;
}

/**
 * Plans one day for a set of customers and their open invoices. Invoices of customers not in
 * `customers` are ignored (the cycle feeds both in chunks).
 */
export function planDay(
  today: CalendarDate,
  customers: ReadonlyMap<bigint, PlannerCustomer>,
  invoices: readonly PlannerInvoice[],
  /** Each customer's overdue total per currency over all its open invoices, when `invoices` holds only some. */
  overdue?: ReadonlyMap<bigint, Map<string, Minor>>,
): DayPlan {
  const plan: DayPlan = { actions: [], skipped: [], held: [], nextStepOn: new Map() };
  const overdueByCustomer = new Map<bigint, Map<string, Minor>>(overdue ?? []);
  if (!overdue) for (const inv of invoices) {
    if (inv.openMinor <= 0n || inv.dueDate >= today) continue;
    let m = overdueByCustomer.get(inv.customerId);
    if (!m) overdueByCustomer.set(inv.customerId, (m = new Map()));
    m.set(inv.currency, (m.get(inv.currency) ?? 0n) + inv.openMinor);
  }
  const groups = new Map<string, PlannedAction>();
  const todayDay = toEpochDay(today);
  const noOverdue = new Map<string, Minor>();
  for (const inv of invoices) {
    const customer = customers.get(inv.customerId);
    if (!customer) continue;
    if (inv.openMinor <= 0n) {
      plan.nextStepOn.set(inv.invoiceId, 'infinity');
      continue;
    }
    if (inv.paused) {
      plan.nextStepOn.set(inv.invoiceId, inv.pausedUntil ?? 'infinity');
      continue;
    }
    const due: Step[] = [];
    let nextFuture: number | null = null;
    const dueDay = toEpochDay(inv.dueDate);
    for (const step of inv.scenario.steps) {
      if (inv.done.has(keyOf(step))) continue;
      if (inv.maxDoneOffset !== null && step.offset <= inv.maxDoneOffset) continue;
      const day = stepDay(dueDay, inv.pausedDays, inv.scenario, step);
      if (day <= todayDay) due.push(step);
      else if (nextFuture === null || day < nextFuture) nextFuture = day;
    }
    plan.nextStepOn.set(inv.invoiceId, nextFuture === null ? 'infinity' : fromEpochDay(nextFuture));
    if (due.length === 0) continue;
    let top = due[0]!.offset;
    for (const step of due) if (step.offset > top) top = step.offset;
    for (const step of due) {
      if (step.offset < top) {
        plan.skipped.push(skip(inv, step, 'superseded'));
        continue;
      }
      // A notice before the due date ("falls due on …") after that date would say something false.
      if (step.offset < 0 && todayDay > dueDay) {
        plan.skipped.push(skip(inv, step, 'due_date_passed'));
        continue;
      }
      if (!conditionsMet(step, customer, inv, overdueByCustomer.get(inv.customerId) ?? noOverdue)) {
        plan.skipped.push(skip(inv, step, 'condition_not_met'));
        continue;
      }
      let channel: Channel = step.channel;
      let fallbackFrom: Channel | null = null;
      if (!canReach(customer, channel)) {
        if (step.fallbackChannel && canReach(customer, step.fallbackChannel)) {
          fallbackFrom = channel;
          channel = step.fallbackChannel;
        } else {
          plan.skipped.push(skip(inv, step, 'no_contact_channel'));
          continue;
        }
      }
      const gap = inv.scenario.options.minGapDays;
      if (MESSAGE_CHANNELS.has(channel) && customer.lastMessageOn && daysBetween(customer.lastMessageOn, today) < gap) {
        const until = addDays(customer.lastMessageOn, gap);
        plan.held.push({ invoiceId: inv.invoiceId, customerId: inv.customerId, reason: 'min_gap', until });
        plan.nextStepOn.set(inv.invoiceId, until);
        continue;
      }
      const perCustomer = inv.scenario.options.grouping === 'per_customer';
      const dedupeKey = perCustomer ? `${today}:c${inv.customerId}:${channel}` : `${today}:i${inv.invoiceId}:${channel}`;
      let action = groups.get(dedupeKey);
      if (!action) {
        action = {
          dedupeKey,
          customerId: inv.customerId,
          customerName: customer.name,
          channel,
          fallbackFrom,
          tone: step.tone,
          template: step.template,
          stepOffset: step.offset,
          requiresApproval: requiresApproval(step),
          scenarioId: inv.scenarioId,
          scenarioVersion: inv.scenarioVersion,
          plannedOn: today,
          invoices: [],
        };
        groups.set(dedupeKey, action);
      } else {
        // A statement goes out in the tone of its most advanced invoice.
        if (toneRank(step.tone) > toneRank(action.tone) || (step.tone === action.tone && step.offset > action.stepOffset)) {
          action.tone = step.tone;
          action.template = step.template;
          action.stepOffset = step.offset;
          action.scenarioId = inv.scenarioId;
          action.scenarioVersion = inv.scenarioVersion;
        }
        action.requiresApproval ||= requiresApproval(step);
        action.fallbackFrom ??= fallbackFrom;
      }
      action.invoices.push({ invoiceId: inv.invoiceId, number: inv.number, stepOffset: step.offset, stepKey: keyOf(step), openMinor: inv.openMinor, currency: inv.currency });
    }
  }
  plan.actions = [...groups.values()];
  return plan;
}

export interface CalendarEntry {
  stepKey: string;
  offset: number;
  channel: Channel;
  tone: Tone;
  template: string;
  date: CalendarDate;
  state: 'done' | 'due' | 'future' | 'passed';
}

/** Every step of an invoice's scenario with its date and whether it is done, due now, or to come. */
export function invoiceCalendar(inv: PlannerInvoice, today: CalendarDate): CalendarEntry[] {
  return inv.scenario.steps.map((step) => {
    const date = stepDate(inv, step);
    const key = keyOf(step);
    let state: CalendarEntry['state'];
    if (inv.done.has(key)) state = 'done';
    else if (inv.maxDoneOffset !== null && step.offset <= inv.maxDoneOffset) state = 'passed';
    else if (step.offset < 0 && today > inv.dueDate) state = 'passed';
    else state = date <= today ? 'due' : 'future';
    return { stepKey: key, offset: step.offset, channel: step.channel, tone: step.tone, template: step.template, date, state };
  });
}

/** Days within [from, to) covered by at least one pause interval [start, end). */
export function pausedDaysBetween(pauses: ReadonlyArray<{ start: CalendarDate; end: CalendarDate | null }>, from: CalendarDate, to: CalendarDate): number {
  const a = toEpochDay(from);
  const b = toEpochDay(to);
  if (b <= a) return 0;
  const spans = pauses
    .map((p) => [Math.max(a, toEpochDay(p.start)), Math.min(b, toEpochDay(p.end ?? to))] as const)
    .filter(([s, e]) => e > s)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cursor = a;
  for (const [s, e] of spans) {
    const start = Math.max(s, cursor);
    if (e > start) {
      total += e - start;
      cursor = e;
    }
  }
  return total;
}

/** Whether a promise to pay is kept, broken, or still running (a day of grace after its date). */
export function promiseState(
  p: { promisedOn: CalendarDate; amountMinor: Minor; openAtPromiseMinor: Minor },
  openNowMinor: Minor,
  today: CalendarDate,
): 'open' | 'kept' | 'broken' {
  const paid = p.openAtPromiseMinor - openNowMinor;
  if (paid >= p.amountMinor || openNowMinor <= 0n) return 'kept';
  return today > addDays(p.promisedOn, 1) ? 'broken' : 'open';
}

/**
 * A payment plan is followed instalment by instalment: instalment k is met when what was paid
 * on the plan's invoices since it started covers instalments 1..k. Returns the first missed one.
 */
export function missedInstalment(
  instalments: ReadonlyArray<{ seq: number; dueDate: CalendarDate; amountMinor: Minor }>,
  paidSinceStartMinor: Minor,
  today: CalendarDate,
  graceDays: number,
): { seq: number; dueDate: CalendarDate } | null {
  let cumulative = 0n;
  for (const i of [...instalments].sort((x, y) => x.seq - y.seq)) {
    cumulative += i.amountMinor;
    if (addDays(i.dueDate, graceDays) < today && paidSinceStartMinor < cumulative) return { seq: i.seq, dueDate: i.dueDate };
  }
  return null;
}

