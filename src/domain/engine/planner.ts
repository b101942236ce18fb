/**
 * The planner: a pure function of (open items, their scenario, pauses, what was already done and
 * sent, today) that returns the actions due now, the steps recorded as skipped, the invoices held,
 * and each invoice's full calendar. The daily cycle, `relance golive` and the previews all call it;
 * nothing here reads a clock or a database.
 *
 * Rules (docs/product.md, "Promises the engine keeps"):
 * - A step's natural date is the due date + its offset + the days spent paused, moved to the next
 *   working day. The steps still to come follow each other: each at its natural date, but never
 *   sooner than the scenario's minimum gap after the step before it (or the last contact), nor
 *   before its prerequisite's known date. Steps at the same offset form one rung and go together.
 * - An invoice the engine has never chased (no reminder planned or sent here, none sent outside
 *   Relance) that is already overdue starts at the first post-due step of its scenario, whatever
 *   its age: the earlier steps are recorded as skipped ("superseded"), the later ones follow from
 *   that first contact compressed to the minimum gap, one at a time, never skipped over.
 * - For an invoice already being chased, after true downtime (several rungs due at once) only the
 *   most advanced due rung goes out and the earlier ones are recorded as skipped, never silently
 *   dropped; it never jumps past an unmet prerequisite (escalation.ts): a formal notice needs a
 *   reminder actually sent and the minimum gap since, a handover (or a final call after the
 *   notice) the notice sent and its stated deadline passed. When the most advanced due rung waits
 *   for one, the latest due rung that provides it goes instead; what waits for a sending or a date
 *   holds the invoice ("prerequisite") until then.
 * - An escalation (formal notice, handover) never carries, in one grouped message, an invoice whose
 *   own step is not one: that invoice waits for the next message.
 * - A pause stops the invoice's clock from its due date on: when it ends the scenario resumes where
 *   it was. Steps before the due date keep their date (they announce it); one whose moment has
 *   passed (today is after the due date) is recorded as skipped, never sent late.
 * - Partially paid invoices keep being followed up for their open amount.
 */
import { MESSAGE_CHANNEL_KEYS, reachable } from '../channels.ts';
import { addDays, type CalendarDate, daysBetween, fromEpochDay, toEpochDay } from '../dates.ts';
import type { Minor } from '../money.ts';
import { escalationOf, formalNoticeDeadline, isReminderStep, type Prerequisite, prerequisiteOf } from './escalation.ts';
import { workingDays } from './holidays.ts';
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

/** What was already done for an invoice that the prerequisites and the first contact depend on. */
export interface InvoiceHistory {
  /** A step from the due day on was planned or sent for it, or a reminder was sent outside Relance. */
  chased: boolean;
  /** Last day a step was planned for it (any step), or a reminder sent outside Relance. */
  lastContactOn: CalendarDate | null;
  /** Last day a reminder (tone reminder, firm or final, by a message channel) was actually sent, here or outside Relance. */
  lastReminderSentOn: CalendarDate | null;
  /** A reminder is planned and not sent yet (awaiting approval, queued, sending). */
  reminderPending: boolean;
  /** The latest formal notice actually sent, here or outside Relance. */
  formalNotice: { sentOn: CalendarDate; channel: Channel } | null;
  /** A formal notice is planned and not sent yet. */
  formalNoticePending: boolean;
  /** The last level reached outside Relance: the scenario's steps up to that tone count as passed. */
  outsideLevel: Tone | null;
  /** The day of that last reminder sent outside Relance. */
  outsideOn: CalendarDate | null;
}

export const NEVER_CHASED: InvoiceHistory = Object.freeze({
  chased: false,
  lastContactOn: null,
  lastReminderSentOn: null,
  reminderPending: false,
  formalNotice: null,
  formalNoticePending: false,
  outsideLevel: null,
  outsideOn: null,
});

/** Levels a reminder sent outside Relance can have reached (the scenario tones from a reminder on, below a handover). */
export const OUTSIDE_LEVELS = ['reminder', 'firm', 'final', 'formal_notice'] as const satisfies readonly Tone[];
export type OutsideLevel = (typeof OUTSIDE_LEVELS)[number];

const LEVEL_WORDS: Record<string, OutsideLevel> = {
  '1': 'reminder', reminder: 'reminder', relance: 'reminder', 'relance 1': 'reminder', 'premiere relance': 'reminder', rappel: 'reminder', 'first reminder': 'reminder',
  '2': 'firm', firm: 'firm', 'relance 2': 'firm', 'deuxieme relance': 'firm', 'seconde relance': 'firm', 'relance ferme': 'firm', 'second reminder': 'firm', 'firm reminder': 'firm',
  '3': 'final', final: 'final', 'relance 3': 'final', 'derniere relance': 'final', 'dernier rappel': 'final', 'last reminder': 'final', 'final reminder': 'final', 'final notice': 'final',
  '4': 'formal_notice', formal_notice: 'formal_notice', 'formal notice': 'formal_notice', 'mise en demeure': 'formal_notice', med: 'formal_notice',
};

/**
 * The level a reminder sent outside Relance reached, as a file or an API call words it: a tone
 * (reminder, firm, final, formal_notice), a number 1 to 4, or the French and English words for
 * them ("deuxième relance", "mise en demeure", "last reminder"). Null when not recognised.
 */
export function outsideLevelOf(text: string): OutsideLevel | null {
  const k = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, ' ')
    .trim();
  return LEVEL_WORDS[k] ?? null;
}

/**
 * The history with a reminder sent outside Relance (another tool, by hand) at `level` on `on`:
 * the invoice is being chased, a reminder was sent that day, and a formal notice too at that level
 * (by registered letter: the later deadline of the two, as nothing says how it was sent).
 */
export function withOutsideReminder(h: InvoiceHistory, level: OutsideLevel, on: CalendarDate): InvoiceHistory {
  const later = (a: CalendarDate | null) => (a === null || a < on ? on : a);
  return {
    ...h,
    chased: true,
    outsideLevel: level,
    outsideOn: on,
    lastContactOn: later(h.lastContactOn),
    lastReminderSentOn: later(h.lastReminderSentOn),
    formalNotice: level === 'formal_notice' && (!h.formalNotice || h.formalNotice.sentOn < on) ? { sentOn: on, channel: 'registered_letter' } : h.formalNotice,
  };
}

/** The last offset of the scenario an outside level covers: its steps of that tone or below. */
function outsideOffset(scenario: ScenarioDefinition, level: Tone | null): number | null {
  if (level === null) return null;
  let max: number | null = null;
  for (const st of scenario.steps) if (toneRank(st.tone) <= toneRank(level) && (max === null || st.offset > max)) max = st.offset;
  return max;
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
  history: InvoiceHistory;
}

export interface ActionInvoice {
  invoiceId: bigint;
  number: string;
  stepOffset: number;
  stepKey: string;
  /** The tone of this invoice's own step (the message takes the most advanced of its invoices'). */
  tone: Tone;
  /** The engine had never chased this invoice before this action. */
  firstContact: boolean;
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

export type HoldReason = 'min_gap' | 'prerequisite' | 'escalation_apart';

export interface HeldInvoice {
  invoiceId: bigint;
  customerId: bigint;
  reason: HoldReason;
  /** For a prerequisite: which one the held step waits for. */
  waitingFor?: Prerequisite;
  stepOffset?: number;
  /** 'infinity': nothing the engine does will meet it (the scenario has no step that provides it). */
  until: CalendarDate | 'infinity';
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

const MESSAGE_CHANNELS: ReadonlySet<Channel> = new Set(MESSAGE_CHANNEL_KEYS);
const ESCALATION_TONES: ReadonlySet<Tone> = new Set(['formal_notice', 'handover']);
const toneRank = (t: Tone) => TONES.indexOf(t);

/** The day a step falls on for an invoice, by its offset alone (see invoiceCalendar for the chained dates). */
export function stepDate(inv: Pick<PlannerInvoice, 'dueDate' | 'pausedDays' | 'scenario'>, step: Step): CalendarDate {
  return fromEpochDay(stepDay(toEpochDay(inv.dueDate), inv.pausedDays, inv.scenario, step.offset));
}

/**
 * stepDate on day numbers. A step before the due date announces it and keeps its date; the
 * others move by the days spent paused since the due date.
 */
function stepDay(dueDay: number, pausedDays: number, scenario: ScenarioDefinition, offset: number): number {
  return onWorkingDay(scenario, dueDay + offset + (offset < 0 ? 0 : pausedDays));
}

function onWorkingDay(scenario: ScenarioDefinition, day: number): number {
  return scenario.options.workingDaysOnly ? workingDays(scenario.options.holidayCalendar).nextWorkingEpochDay(day) : day;
}

const stepKeys = new WeakMap<Step, string>();
/** A step's key, made once per step object (the planner asks for it per invoice and step). */
function keyOf(step: Step): string {
  let k = stepKeys.get(step);
  if (k === undefined) stepKeys.set(step, (k = stepKey(step)));
  return k;
}

/** The steps of one offset, which go out together, and what the most demanding of them needs first. */
interface Rung {
  offset: number;
  steps: Step[];
  prerequisite: Prerequisite | null;
  providesReminder: boolean;
  providesFormalNotice: boolean;
}

const rungCache = new WeakMap<ScenarioDefinition, Rung[]>();
function rungsOf(scenario: ScenarioDefinition): Rung[] {
  let rungs = rungCache.get(scenario);
  if (rungs) return rungs;
  rungs = [];
  const sorted = [...scenario.steps].sort((a, b) => a.offset - b.offset);
  for (const step of sorted) {
    let r = rungs.at(-1);
    if (!r || r.offset !== step.offset) rungs.push((r = { offset: step.offset, steps: [], prerequisite: null, providesReminder: false, providesFormalNotice: false }));
    r.steps.push(step);
    const pre = prerequisiteOf(step, scenario);
    // formal_notice_expired is the later (more demanding) of the two.
    if (pre && (r.prerequisite === null || pre === 'formal_notice_expired')) r.prerequisite = pre;
    r.providesReminder ||= isReminderStep(step);
    r.providesFormalNotice ||= step.tone === 'formal_notice';
  }
  rungCache.set(scenario, rungs);
  return rungs;
}

/** The earliest day a prerequisite lets its step go, when history says it (null: not yet known). */
function prerequisiteDay(pre: Prerequisite, inv: PlannerInvoice): number | null {
  const h = inv.history;
  if (pre === 'reminder_sent') {
    return h.lastReminderSentOn ? toEpochDay(h.lastReminderSentOn) + inv.scenario.options.minGapDays : null;
  }
  if (!h.formalNotice) return null;
  return toEpochDay(formalNoticeDeadline(h.formalNotice.sentOn, h.formalNotice.channel, inv.scenario.options).deadline) + 1;
}

/** Whether the history can still meet a prerequisite by itself (a planned reminder or notice not sent yet). */
const pendingFor = (pre: Prerequisite, h: InvoiceHistory) => (pre === 'reminder_sent' ? h.reminderPending : h.formalNoticePending);

interface Scheduled {
  rung: Rung;
  /** Day number the rung falls on, chained (see the header). */
  day: number;
}

interface InvoicePlan {
  /** The rungs still to come, in order, with their days; those before `first` are passed over. */
  pending: Scheduled[];
  first: number;
  /** Index in `pending` of the rung that goes out today, or -1. */
  target: number;
  hold: { waitingFor: Prerequisite; stepOffset: number; until: number | 'infinity' } | null;
}

/**
 * The chained days of an invoice's rungs still to come: each rung at its natural day, at least the
 * minimum gap after the one before (or after the last contact), and not before its prerequisite's
 * known day. `anchor`: the rung at index `first` counts as planned that day at the latest.
 */
function chain(inv: PlannerInvoice, pending: Scheduled[], first: number, anchor: number | null): void {
  const dueDay = toEpochDay(inv.dueDate);
  const gap = inv.scenario.options.minGapDays;
  let prev = inv.history.lastContactOn ? toEpochDay(inv.history.lastContactOn) : null;
  for (let k = first; k < pending.length; k++) {
    const s = pending[k]!;
    let day = stepDay(dueDay, inv.pausedDays, inv.scenario, s.rung.offset);
    if (prev !== null) day = Math.max(day, onWorkingDay(inv.scenario, prev + gap));
    if (s.rung.prerequisite) {
      const known = prerequisiteDay(s.rung.prerequisite, inv);
      if (known !== null) day = Math.max(day, onWorkingDay(inv.scenario, known));
    }
    if (k === first && anchor !== null) day = Math.max(day, anchor);
    s.day = day;
    prev = day;
  }
}

/** What happens to one invoice today: which rung goes out, which are passed over, what it waits for. */
function planInvoice(inv: PlannerInvoice, todayDay: number, customer?: PlannerCustomer): InvoicePlan {
  const pending: Scheduled[] = [];
  const outside = outsideOffset(inv.scenario, inv.history.outsideLevel);
  for (const rung of rungsOf(inv.scenario)) {
    if (inv.maxDoneOffset !== null && rung.offset <= inv.maxDoneOffset) continue;
    if (outside !== null && rung.offset <= outside) continue;
    if (rung.steps.every((st) => inv.done.has(keyOf(st)))) continue;
    pending.push({ rung, day: 0 });
  }
  const overdue = todayDay > toEpochDay(inv.dueDate);
  const firstContact = !inv.history.chased && overdue;
  let first = 0;
  if (firstContact) {
    // The first step after the due date that can reach this customer: a call to a customer with
    // no phone would be skipped, and the first contact of a backlog would wait for the next step.
    const after = (s: Scheduled) => s.rung.offset > 0;
    // Only a reminder can be a first contact: a formal notice or a handover never is.
    const reaches = (s: Scheduled) =>
      !customer ||
      s.rung.steps.some((st) => st.tone !== 'formal_notice' && st.tone !== 'handover' && (canReach(customer, st.channel) || (st.fallbackChannel != null && canReach(customer, st.fallbackChannel))));
    first = pending.findIndex((s) => after(s) && reaches(s));
    if (first < 0) first = pending.findIndex(after);
    if (first < 0) first = pending.length;
  }
  // The first contact of an invoice never chased is today at the earliest: what follows counts from it.
  chain(inv, pending, first, firstContact ? todayDay : null);
  const plan: InvoicePlan = { pending, first, target: -1, hold: null };
  if (first >= pending.length || pending[first]!.day > todayDay) return plan;
  let t = first;
  if (!firstContact) while (t + 1 < pending.length && pending[t + 1]!.day <= todayDay) t++;
  for (;;) {
    const pre = pending[t]!.rung.prerequisite;
    const known = pre ? prerequisiteDay(pre, inv) : null;
    if (!pre || (known !== null && known <= todayDay)) break;
    if (known !== null || pendingFor(pre, inv.history)) {
      // A date to wait for, or a reminder or notice planned and not sent yet: the invoice waits.
      plan.hold = { waitingFor: pre, stepOffset: pending[t]!.rung.offset, until: known ?? todayDay + 1 };
      return plan;
    }
    // Nothing sent meets it yet: the latest due rung that provides it goes first, else the one before.
    let j = t - 1;
    while (j >= first && !(pre === 'reminder_sent' ? pending[j]!.rung.providesReminder : pending[j]!.rung.providesFormalNotice)) j--;
    if (j < first) j = t - 1;
    if (j < first) {
      plan.hold = { waitingFor: pre, stepOffset: pending[t]!.rung.offset, until: 'infinity' };
      return plan;
    }
    t = j;
  }
  plan.target = t;
  return plan;
}

/** One object per skipped step, built in one go: catching up a ledger skips millions of them. */
function skip(inv: PlannerInvoice, step: Step, reason: SkipReason): SkippedStep {
  return { invoiceId: inv.invoiceId, number: inv.number, customerId: inv.customerId, stepKey: keyOf(step), stepOffset: step.offset, channel: step.channel, reason };
}

function canReach(c: PlannerCustomer, ch: Channel): boolean {
  return reachable(ch, c);
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
    const ip = planInvoice(inv, todayDay, customer);
    // A notice before the due date ("falls due on …") whose moment passed is recorded as skipped
    // with why, at once: never sent late, whatever goes out instead and when.
    const dueDay = toEpochDay(inv.dueDate);
    const passedNotice = (s: Scheduled) => s.rung.offset < 0 && todayDay > dueDay;
    for (const [k, s] of ip.pending.entries()) {
      if (k === ip.target || !passedNotice(s)) continue;
      for (const step of s.rung.steps) if (!inv.done.has(keyOf(step))) plan.skipped.push(skip(inv, step, 'due_date_passed'));
    }
    if (ip.hold) {
      const until = ip.hold.until === 'infinity' ? 'infinity' : fromEpochDay(ip.hold.until);
      plan.held.push({ invoiceId: inv.invoiceId, customerId: inv.customerId, reason: 'prerequisite', waitingFor: ip.hold.waitingFor, stepOffset: ip.hold.stepOffset, until });
      plan.nextStepOn.set(inv.invoiceId, until);
      continue;
    }
    if (ip.target < 0) {
      const next = ip.pending[ip.first];
      plan.nextStepOn.set(inv.invoiceId, next ? fromEpochDay(next.day) : 'infinity');
      continue;
    }
    // What follows counts from today's rung.
    const after = ip.pending[ip.target + 1];
    if (after) chain({ ...inv, history: { ...inv.history, lastContactOn: today } }, ip.pending, ip.target + 1, null);
    plan.nextStepOn.set(inv.invoiceId, after ? fromEpochDay(after.day) : 'infinity');
    for (let k = 0; k < ip.target; k++) {
      if (passedNotice(ip.pending[k]!)) continue;
      for (const step of ip.pending[k]!.rung.steps) if (!inv.done.has(keyOf(step))) plan.skipped.push(skip(inv, step, 'superseded'));
    }
    for (const step of ip.pending[ip.target]!.rung.steps) {
      if (inv.done.has(keyOf(step))) continue;
      // A notice before the due date ("falls due on …") after that date would say something false.
      if (step.offset < 0 && today > inv.dueDate) {
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
      action.invoices.push({
        invoiceId: inv.invoiceId,
        number: inv.number,
        stepOffset: step.offset,
        stepKey: keyOf(step),
        tone: step.tone,
        firstContact: !inv.history.chased,
        openMinor: inv.openMinor,
        currency: inv.currency,
      });
    }
  }
  for (const action of groups.values()) {
    // A formal notice or a handover names only the invoices whose own step is one: the others
    // (a first reminder, say) wait for the next message rather than be escalated with them.
    if (ESCALATION_TONES.has(action.tone) && action.invoices.some((i) => !ESCALATION_TONES.has(i.tone))) {
      const apart = action.invoices.filter((i) => !ESCALATION_TONES.has(i.tone));
      action.invoices = action.invoices.filter((i) => ESCALATION_TONES.has(i.tone));
      const tomorrow = addDays(today, 1);
      for (const i of apart) {
        plan.held.push({ invoiceId: i.invoiceId, customerId: action.customerId, reason: 'escalation_apart', stepOffset: i.stepOffset, until: tomorrow });
        plan.nextStepOn.set(i.invoiceId, tomorrow);
      }
      // Its passed-over steps are recorded with the step that finally goes.
      const held = new Set(apart.map((i) => i.invoiceId));
      plan.skipped = plan.skipped.filter((k) => !(held.has(k.invoiceId) && k.reason === 'superseded'));
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
  /** What the step needs before it may go (escalation.ts), null when nothing. */
  prerequisite: Prerequisite | null;
  /** The invoice is held today on this step's prerequisite. */
  waiting: boolean;
}

/**
 * Every step of an invoice's scenario with its date and whether it is done, due now, passed over,
 * or to come. Dates to come are chained as the planner will take them (minimum gap, first contact,
 * prerequisites' known dates).
 */
export function invoiceCalendar(inv: PlannerInvoice, today: CalendarDate, customer?: PlannerCustomer): CalendarEntry[] {
  const todayDay = toEpochDay(today);
  const ip = planInvoice(inv, todayDay, customer);
  // What follows today's rung counts from today, as planDay will record it.
  if (ip.target >= 0 && ip.target + 1 < ip.pending.length) chain({ ...inv, history: { ...inv.history, lastContactOn: today } }, ip.pending, ip.target + 1, null);
  const held = ip.hold ? ip.pending.findIndex((s) => s.rung.offset === ip.hold!.stepOffset) : -1;
  const at = new Map<Rung, number>();
  for (const [index, s] of ip.pending.entries()) at.set(s.rung, index);
  const dueDay = toEpochDay(inv.dueDate);
  const entries: CalendarEntry[] = [];
  for (const rung of rungsOf(inv.scenario)) {
    const index = at.get(rung);
    for (const step of rung.steps) {
      const key = keyOf(step);
      let state: CalendarEntry['state'];
      let day = stepDay(dueDay, inv.pausedDays, inv.scenario, step.offset);
      if (inv.done.has(key)) state = 'done';
      else if (index === undefined || index < ip.first || (ip.target >= 0 && index < ip.target)) state = 'passed';
      else if (step.offset < 0 && today > inv.dueDate) state = 'passed';
      else {
        day = ip.pending[index]!.day;
        if (index === held && ip.hold!.until !== 'infinity') day = Math.max(day, ip.hold!.until);
        state = index === ip.target ? 'due' : 'future';
      }
      entries.push({
        stepKey: key,
        offset: step.offset,
        channel: step.channel,
        tone: step.tone,
        template: step.template,
        date: fromEpochDay(day),
        state,
        prerequisite: rung.prerequisite,
        waiting: index !== undefined && index === held,
      });
    }
  }
  return entries;
}

/** The escalation options and prerequisites of a scenario's steps, as the editor and previews show them. */
export function scenarioPrerequisites(scenario: ScenarioDefinition): { options: ReturnType<typeof escalationOf>; steps: { stepKey: string; prerequisite: Prerequisite | null }[] } {
  return { options: escalationOf(scenario.options), steps: scenario.steps.map((s) => ({ stepKey: keyOf(s), prerequisite: prerequisiteOf(s, scenario) })) };
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

