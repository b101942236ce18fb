import { describe, expect, it } from 'vitest';
import { addDays, type CalendarDate } from '../dates.ts';
import { invoiceCalendar, missedInstalment, type PlannerCustomer, type PlannerInvoice, pausedDaysBetween, planDay, promiseState } from './planner.ts';
import { BUILTIN_SCENARIOS, type ScenarioDefinition, validateScenario } from './scenario.ts';
import { windowStart } from './window.ts';

const d = (s: string) => s as CalendarDate;
const b2b = BUILTIN_SCENARIOS['standard-b2b']!.definition;
const noHolidays: ScenarioDefinition = { ...b2b, options: { ...b2b.options, workingDaysOnly: false } };

function customer(id: bigint, over: Partial<PlannerCustomer> = {}): PlannerCustomer {
  return { id, name: `C${id}`, kind: 'business', tags: [], hasEmail: true, hasPhone: true, hasPostalAddress: true, lastMessageOn: null, ...over };
}
function invoice(id: bigint, customerId: bigint, due: string, over: Partial<PlannerInvoice> = {}): PlannerInvoice {
  return {
    invoiceId: id, number: `F-${id}`, customerId, currency: 'EUR', openMinor: 100_000n, dueDate: d(due), scenarioId: 1n, scenarioVersion: 1,
    scenario: noHolidays, paused: false, pausedDays: 0, done: new Set(), maxDoneOffset: null, ...over,
  };
}
const one = (c: PlannerCustomer) => new Map([[c.id, c]]);

describe('planner', () => {
  it('plans the step whose date has come, in its channel and tone', () => {
    const plan = planDay(d('2026-03-09'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01')]);
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({ channel: 'call_task', tone: 'reminder', stepOffset: 8 });
    // J-5 and J+0 were due too but never done: recorded as skipped, not silently dropped
    expect(plan.skipped.map((s) => [s.stepKey, s.reason])).toEqual([
      ['-5:email', 'superseded'],
      ['0:email', 'superseded'],
    ]);
  });

  it('Invoice Ninja #637 / Dolibarr #25197: after downtime only the latest due step goes out, the missed ones are recorded', () => {
    const plan = planDay(d('2026-04-05'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { done: new Set(['-5:email']), maxDoneOffset: -5 })]);
    expect(plan.actions.map((a) => [a.channel, a.stepOffset])).toEqual([['registered_letter', 30]]);
    expect(plan.actions[0]!.requiresApproval).toBe(true);
    expect(plan.skipped.map((s) => s.stepKey)).toEqual(['0:email', '8:call_task', '20:email', '20:letter', '25:call_task']);
  });

  it('never a step twice, and never one earlier than a step already done', () => {
    const inv = invoice(1n, 1n, '2026-03-01', { done: new Set(['20:email', '20:letter']), maxDoneOffset: 20 });
    expect(planDay(d('2026-03-21'), one(customer(1n)), [inv]).actions).toEqual([]);
    expect(planDay(d('2026-03-21'), one(customer(1n)), [inv]).skipped).toEqual([]);
  });

  it('two steps on the same day (J+20 email and letter) both go out', () => {
    const plan = planDay(d('2026-03-21'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { done: new Set(['8:call_task']), maxDoneOffset: 8 })]);
    expect(plan.actions.map((a) => a.channel).sort()).toEqual(['email', 'letter']);
  });

  it('ERPNext #12429: one message per customer listing its invoices at their step, in the most advanced tone', () => {
    const c = customer(1n);
    const plan = planDay(d('2026-03-21'), one(c), [
      invoice(1n, 1n, '2026-03-01', { done: new Set(['8:call_task']), maxDoneOffset: 8 }),
      invoice(2n, 1n, '2026-03-21', { done: new Set(['-5:email']), maxDoneOffset: -5 }),
    ]);
    const emails = plan.actions.filter((a) => a.channel === 'email');
    expect(emails).toHaveLength(1);
    expect(emails[0]!.invoices.map((i) => [i.number, i.stepOffset])).toEqual([
      ['F-1', 20],
      ['F-2', 0],
    ]);
    expect(emails[0]!.tone).toBe('firm');
  });

  it('one message per invoice when the scenario says so', () => {
    const perInvoice = { ...noHolidays, options: { ...noHolidays.options, grouping: 'per_invoice' as const } };
    const plan = planDay(d('2026-03-01'), one(customer(1n)), [
      invoice(1n, 1n, '2026-03-01', { scenario: perInvoice, done: new Set(['-5:email']), maxDoneOffset: -5 }),
      invoice(2n, 1n, '2026-03-01', { scenario: perInvoice, done: new Set(['-5:email']), maxDoneOffset: -5 }),
    ]);
    expect(plan.actions).toHaveLength(2);
  });

  it('Akaunting #259: a paid invoice gets nothing; OCA credit-control #330: a partly paid one keeps being followed for its open amount', () => {
    const plan = planDay(d('2026-03-09'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { openMinor: 0n }), invoice(2n, 1n, '2026-03-01', { openMinor: 4_000n })]);
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]!.invoices).toEqual([expect.objectContaining({ number: 'F-2', openMinor: 4_000n })]);
  });

  it('Invoice Ninja #4293: a paused invoice gets nothing while its sibling is reminded', () => {
    const plan = planDay(d('2026-03-09'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { paused: true }), invoice(2n, 1n, '2026-03-01')]);
    expect(plan.actions.flatMap((a) => a.invoices.map((i) => i.number))).toEqual(['F-2']);
  });

  it('a pause stops the clock: after a 20-day pause J+20 comes 20 days later', () => {
    const inv = invoice(1n, 1n, '2026-03-01', { done: new Set(['8:call_task']), maxDoneOffset: 8, pausedDays: 20 });
    expect(planDay(d('2026-03-21'), one(customer(1n)), [inv]).actions).toEqual([]);
    expect(planDay(d('2026-04-10'), one(customer(1n)), [inv]).actions.map((a) => a.stepOffset)).toEqual([20, 20]);
    expect(pausedDaysBetween([{ start: d('2026-03-10'), end: d('2026-03-30') }, { start: d('2026-03-20'), end: d('2026-04-02') }], d('2026-03-01'), d('2026-05-01'))).toBe(23);
  });

  it('fallback channel when the contact has no email; skipped with the reason when there is no way at all', () => {
    const c = customer(1n, { hasEmail: false });
    const plan = planDay(d('2026-03-21'), one(c), [invoice(1n, 1n, '2026-03-01', { done: new Set(['8:call_task']), maxDoneOffset: 8 })]);
    // the J+20 email falls back to a letter; the J+20 letter also goes: same channel, one message
    expect(plan.actions.map((a) => [a.channel, a.fallbackFrom])).toEqual([['letter', 'email']]);
    const mute = customer(2n, { hasEmail: false, hasPhone: false, hasPostalAddress: false });
    const plan2 = planDay(d('2026-03-09'), one(mute), [invoice(2n, 2n, '2026-03-01')]);
    expect(plan2.skipped.find((s) => s.stepKey === '8:call_task')?.reason).toBe('no_contact_channel');
  });

  it('conditions: minimum overdue amount, customer kind and tags', () => {
    const s = validateScenario({
      options: noHolidays.options,
      steps: [{ offset: 10, channel: 'email', template: 'reminder', tone: 'reminder', conditions: { minOverdueMinor: { EUR: '50000' }, customerKind: 'business' } }],
    });
    const small = planDay(d('2026-03-11'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { scenario: s, openMinor: 10_000n })]);
    expect(small.skipped.map((x) => x.reason)).toEqual(['condition_not_met']);
    const big = planDay(d('2026-03-11'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { scenario: s, openMinor: 60_000n })]);
    expect(big.actions).toHaveLength(1);
    const consumer = planDay(d('2026-03-11'), one(customer(1n, { kind: 'consumer' })), [invoice(1n, 1n, '2026-03-01', { scenario: s, openMinor: 60_000n })]);
    expect(consumer.actions).toHaveLength(0);
  });

  it('minimum gap between two reminders to the same customer holds messages, not calls', () => {
    const c = customer(1n, { lastMessageOn: d('2026-03-20') });
    const plan = planDay(d('2026-03-21'), one(c), [invoice(1n, 1n, '2026-03-01', { done: new Set(['8:call_task']), maxDoneOffset: 8 })]);
    expect(plan.actions).toEqual([]);
    expect(plan.held[0]).toMatchObject({ reason: 'min_gap', until: '2026-03-23' });
    const calls = planDay(d('2026-03-09'), one(customer(2n, { lastMessageOn: d('2026-03-08') })), [invoice(2n, 2n, '2026-03-01')]);
    expect(calls.actions.map((a) => a.channel)).toEqual(['call_task']);
  });

  it('working days: a step falling on Easter Monday goes out on Tuesday; 29 February exists in 2028', () => {
    const inv = invoice(1n, 1n, '2026-03-28', { scenario: b2b, done: new Set(['0:email']), maxDoneOffset: 0 }); // J+8 = Sun 5 April 2026
    expect(invoiceCalendar(inv, d('2026-04-01')).find((e) => e.offset === 8)!.date).toBe('2026-04-07');
    expect(planDay(d('2026-04-06'), one(customer(1n)), [inv]).actions).toEqual([]);
    expect(planDay(d('2026-04-07'), one(customer(1n)), [inv]).actions).toHaveLength(1);
    const leap = invoice(2n, 1n, '2028-02-29', { scenario: b2b });
    expect(invoiceCalendar(leap, d('2028-02-01')).map((e) => e.date).slice(0, 3)).toEqual(['2028-02-24', '2028-02-29', '2028-03-08']);
  });

  it('Invoice Ninja #8672 / #11692: the sending window is in the organisation time zone, across DST', () => {
    expect(windowStart(d('2026-01-15'), 'Europe/Paris', '09:00')).toBe('2026-01-15T08:00:00Z');
    expect(windowStart(d('2026-07-15'), 'Europe/Paris', '09:00')).toBe('2026-07-15T07:00:00Z');
    expect(windowStart(d('2026-03-29'), 'Europe/Paris', '09:00')).toBe('2026-03-29T07:00:00Z'); // DST starts that night
    expect(windowStart(d('2026-07-15'), 'Pacific/Noumea', '09:00')).toBe('2026-07-14T22:00:00Z');
  });

  it('promises and payment plans', () => {
    const p = { promisedOn: d('2026-03-10'), amountMinor: 50_000n, openAtPromiseMinor: 100_000n };
    expect(promiseState(p, 100_000n, d('2026-03-11'))).toBe('open');
    expect(promiseState(p, 100_000n, d('2026-03-12'))).toBe('broken');
    expect(promiseState(p, 50_000n, d('2026-03-12'))).toBe('kept');
    const inst = [1, 2, 3].map((k) => ({ seq: k, dueDate: addDays(d('2026-03-01'), 30 * (k - 1)), amountMinor: 10_000n }));
    expect(missedInstalment(inst, 10_000n, d('2026-03-20'), 5)).toBeNull();
    expect(missedInstalment(inst, 10_000n, d('2026-04-10'), 5)).toEqual({ seq: 2, dueDate: '2026-03-31' });
  });

  it('validation names the step and field', () => {
    expect(() => validateScenario({ options: noHolidays.options, steps: [{ offset: 1.5, channel: 'email', template: 't', tone: 'reminder' }] })).toThrow(/offset/);
    expect(() => validateScenario({ options: noHolidays.options, steps: [{ offset: 1, channel: 'fax' as never, template: 't', tone: 'reminder' }] })).toThrow(/channel/);
  });
});
