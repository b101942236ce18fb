/**
 * The scenario editor's simulation of one sample invoice. Pure: the sample and its days are parameters.
 */
import { addDays, type CalendarDate, daysBetween, maxDate } from '../dates.ts';
import type { Minor } from '../money.ts';
import { escalationOf } from './escalation.ts';
import { type CalendarEntry, invoiceCalendar, NEVER_CHASED, type PlannerCustomer, type PlannerInvoice, scenarioPrerequisites } from './planner.ts';
import { type ScenarioDefinition, stepKey } from './scenario.ts';
import { simulate } from './simulate.ts';

export interface SampleInvoice {
  dueDate: CalendarDate;
  amountMinor: Minor;
  kind: 'business' | 'consumer';
  hasEmail: boolean;
  hasPhone: boolean;
  hasPostalAddress: boolean;
  /** The sample invoice is paid that day: nothing after it. */
  paidOn: CalendarDate | null;
  /**
   * The day the engine first sees the invoice (a first import of a backlog): never chased before,
   * overdue already. Null: from before its first step.
   */
  firstRunOn?: CalendarDate | null;
}

/**
 * What a scenario would do to one invoice, day by day: the planner itself run on each day from
 * before the first step (or the first run on a backlog) to after the last, as if every action
 * went out on its day (simulate.ts) — the same decisions the daily cycle would take, including
 * working days, holidays, fallbacks, catch-up, the first contact and the escalation prerequisites.
 */
export function simulateScenario(def: ScenarioDefinition, s: SampleInvoice) {
  const offsets = def.steps.map((x) => x.offset);
  const from = s.firstRunOn ?? addDays(s.dueDate, Math.min(...offsets, 0) - 1);
  const esc = escalationOf(def.options);
  // Long enough for a compressed ladder and every prerequisite's deadline.
  const to = addDays(maxDate(from, s.dueDate), Math.max(...offsets, 0) + 10 + (def.steps.length + 1) * def.options.minGapDays + esc.formalNoticeDeadlineDays + 2 * esc.postalDelayWorkingDays + 6);
  const customer: PlannerCustomer = { id: 1n, name: 'Sample', kind: s.kind, tags: [], hasEmail: s.hasEmail, hasPhone: s.hasPhone, hasPostalAddress: s.hasPostalAddress, lastMessageOn: null };
  const inv: PlannerInvoice = {
    invoiceId: 1n,
    number: 'F-SAMPLE-001',
    customerId: 1n,
    currency: 'EUR',
    openMinor: s.amountMinor,
    dueDate: s.dueDate,
    scenarioId: 1n,
    scenarioVersion: 1,
    scenario: def,
    paused: false,
    pausedDays: 0,
    done: new Set(),
    maxDoneOffset: null,
    history: NEVER_CHASED,
  };
  const calendar: CalendarEntry[] = invoiceCalendar(inv, from);
  const days: {
    date: CalendarDate;
    relative: number;
    actions: { channel: string; fallbackFrom: string | null; template: string; tone: string; requiresApproval: boolean; stepOffset: number; firstContact: boolean }[];
    skipped: { stepKey: string; reason: string }[];
    held: boolean;
    waitingFor: string | null;
  }[] = [];
  simulate({
    from,
    to,
    customers: new Map([[1n, customer]]),
    invoices: [inv],
    paidOn: s.paidOn ? new Map([[1n, s.paidOn]]) : undefined,
    onDay(date, plan) {
      days.push({
        date,
        relative: daysBetween(s.dueDate, date),
        actions: plan.actions.map((a) => ({
          channel: a.channel, fallbackFrom: a.fallbackFrom, template: a.template, tone: a.tone, requiresApproval: a.requiresApproval, stepOffset: a.stepOffset,
          firstContact: a.invoices.some((i) => i.firstContact),
        })),
        skipped: plan.skipped.map((k) => ({ stepKey: k.stepKey, reason: k.reason })),
        held: plan.held.length > 0,
        waitingFor: plan.held.find((h) => h.waitingFor)?.waitingFor ?? null,
      });
    },
  });
  const prerequisites = scenarioPrerequisites(def);
  return {
    from,
    to,
    dueDate: s.dueDate,
    calendar,
    days,
    escalation: prerequisites.options,
    steps: def.steps.map((x) => ({ ...x, key: stepKey(x), prerequisite: prerequisites.steps.find((p) => p.stepKey === stepKey(x))?.prerequisite ?? null })),
  };
}

