import { describe, expect, it } from 'vitest';
import { addDays, type CalendarDate, daysBetween } from '../dates.ts';
import { formalNoticeDeadline } from './escalation.ts';
import { simulate } from './simulate.ts';
import { invoiceCalendar, missedInstalment, NEVER_CHASED, withOutsideReminder, type PlannerCustomer, type PlannerInvoice, pausedDaysBetween, planDay, promiseState } from './planner.ts';
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
    scenario: noHolidays, paused: false, pausedDays: 0, done: new Set(), maxDoneOffset: null, history: NEVER_CHASED, ...over,
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
      ['-5:email', 'due_date_passed'],
      ['0:email', 'superseded'],
    ]);
  });

  it('Invoice Ninja #637 / Dolibarr #25197: after downtime only the latest due step goes out, the missed ones are recorded', () => {
    // Being chased: the due-day e-mail went out on the due date; then the engine stopped for a month.
    const chased = { ...NEVER_CHASED, chased: true, lastContactOn: d('2026-03-01'), lastReminderSentOn: d('2026-03-01') };
    const plan = planDay(d('2026-04-05'), one(customer(1n)), [invoice(1n, 1n, '2026-03-01', { done: new Set(['-5:email', '0:email']), maxDoneOffset: 0, history: chased })]);
    expect(plan.actions.map((a) => [a.channel, a.stepOffset])).toEqual([['registered_letter', 30]]);
    expect(plan.actions[0]!.requiresApproval).toBe(true);
    expect(plan.skipped.map((s) => s.stepKey)).toEqual(['8:call_task', '20:email', '20:letter', '25:call_task']);
  });

  it('after downtime the catch-up never jumps past an unmet prerequisite: no reminder sent yet, the firm reminder goes before any formal notice', () => {
    // Only the courtesy notice went out before the due date (a contact, but no reminder of an unpaid invoice).
    const courtesyOnly = { ...NEVER_CHASED, chased: true, lastContactOn: d('2026-02-24') };
    const inv = invoice(1n, 1n, '2026-03-01', { done: new Set(['-5:email']), maxDoneOffset: -5, history: courtesyOnly });
    const plan = planDay(d('2026-04-20'), one(customer(1n)), [inv]);
    expect(plan.actions.map((a) => [a.channel, a.tone, a.stepOffset]).sort()).toEqual([
      ['email', 'firm', 20],
      ['letter', 'firm', 20],
    ]);
    expect(plan.skipped.map((s) => s.stepKey)).toEqual(['0:email', '8:call_task']);
    // the steps after it follow, compressed to the minimum gap (3 days), one at a time
    expect(plan.nextStepOn.get(1n)).toBe('2026-04-23');
  });

  it('a formal notice waits while its reminder is planned but not sent, then the minimum gap after it was sent', () => {
    const h = { ...NEVER_CHASED, chased: true, lastContactOn: d('2026-03-21'), reminderPending: true };
    const inv = invoice(1n, 1n, '2026-03-01', { done: new Set(['20:email', '20:letter', '25:call_task']), maxDoneOffset: 25, history: h });
    const waiting = planDay(d('2026-03-31'), one(customer(1n)), [inv]);
    expect(waiting.actions).toEqual([]);
    expect(waiting.held).toEqual([expect.objectContaining({ reason: 'prerequisite', waitingFor: 'reminder_sent', stepOffset: 30, until: '2026-04-01' })]);
    const sentLate = { ...inv, history: { ...h, reminderPending: false, lastReminderSentOn: d('2026-03-30') } };
    expect(planDay(d('2026-03-31'), one(customer(1n)), [sentLate]).nextStepOn.get(1n)).toBe('2026-04-02');
    expect(planDay(d('2026-04-02'), one(customer(1n)), [sentLate]).actions.map((a) => a.tone)).toEqual(['formal_notice']);
    const neverSent = { ...inv, history: { ...h, reminderPending: false } };
    // nothing sent and nothing due that would send one: the notice can never go, and says so
    expect(planDay(d('2026-03-31'), one(customer(1n)), [neverSent]).held[0]).toMatchObject({ waitingFor: 'reminder_sent', until: 'infinity' });
  });

  it('a handover waits for the formal notice deadline the letter states (postal delay in working days, then 8 days)', () => {
    // Registered letter sent Friday 6 March 2026: presented Tuesday 10 March, deadline Wednesday 18 March.
    expect(formalNoticeDeadline(d('2026-03-06'), 'registered_letter', b2b.options)).toEqual({ receivedOn: '2026-03-10', deadline: '2026-03-18', days: 8 });
    // By e-mail: from sending; Saturday 14 March moves to Monday 16 March.
    expect(formalNoticeDeadline(d('2026-03-06'), 'email', b2b.options).deadline).toBe('2026-03-16');
    const slow = { ...b2b.options, escalation: { postalDelayWorkingDays: 4 } };
    expect(formalNoticeDeadline(d('2026-03-06'), 'registered_letter', slow).deadline).toBe('2026-03-20');
    const h = { ...NEVER_CHASED, chased: true, lastContactOn: d('2026-03-06'), lastReminderSentOn: d('2026-02-20'), formalNotice: { sentOn: d('2026-03-06'), channel: 'registered_letter' as const } };
    const inv = invoice(1n, 1n, '2026-02-01', { scenario: b2b, done: new Set(['30:registered_letter']), maxDoneOffset: 30, history: h });
    expect(planDay(d('2026-03-18'), one(customer(1n)), [inv]).actions).toEqual([]);
    expect(planDay(d('2026-03-18'), one(customer(1n)), [inv]).nextStepOn.get(1n)).toBe('2026-03-19');
    expect(planDay(d('2026-03-19'), one(customer(1n)), [inv]).actions.map((a) => a.tone)).toEqual(['handover']);
    expect(invoiceCalendar(inv, d('2026-03-10')).find((e) => e.tone === 'handover')).toMatchObject({ date: '2026-03-19', prerequisite: 'formal_notice_expired' });
    // the option off: the handover goes at its offset
    const off = { ...b2b, options: { ...b2b.options, escalation: { handoverNeedsFormalNotice: false } } };
    expect(planDay(d('2026-03-18'), one(customer(1n)), [{ ...inv, scenario: off, history: { ...h, formalNotice: null } }]).actions.map((a) => a.tone)).toEqual(['handover']);
  });

  it('first contact of a backlog by the first step that can reach the customer: no phone, so the J+20 e-mail today, not a call skipped and ten silent days', () => {
    const today = d('2026-12-07');
    const noPhone = customer(1n, { hasPhone: false, hasPostalAddress: false });
    const inv = invoice(1n, 1n, '2026-08-31', { scenario: b2b });
    const plan = planDay(today, one(noPhone), [inv]);
    expect(plan.actions.map((a) => [a.channel, a.tone, a.stepOffset, a.invoices[0]!.firstContact])).toEqual([['email', 'firm', 20, true]]);
    // The earlier rungs are passed over (superseded), never sent late.
    expect(plan.skipped.filter((x) => x.reason === 'superseded').map((x) => x.stepOffset)).toEqual([0, 8]);
    // The calendar shown to the controller says the same.
    expect(invoiceCalendar(inv, today, noPhone).filter((e) => e.state === 'due').map((e) => [e.offset, e.channel])).toEqual([
      [20, 'email'],
      [20, 'letter'],
    ]);
    // With a phone, the J+8 call stays the first contact.
    expect(planDay(today, one(customer(1n)), [inv]).actions.map((a) => [a.channel, a.stepOffset])).toEqual([['call_task', 8]]);
  });

  it('never an escalation as first contact: a backlog overdue by 5, 40, 120 and 400 days starts at the first post-due step and climbs one rung at a time', () => {
    const today = d('2026-06-01');
    const ages = [5, 40, 120, 400];
    const customers = new Map(ages.map((_, k) => [BigInt(k + 1), customer(BigInt(k + 1))]));
    const invoices = ages.map((age, k) => invoice(BigInt(k + 1), BigInt(k + 1), addDays(today, -age), { scenario: b2b }));
    const log = new Map<bigint, { day: CalendarDate; tone: string; offset: number; firstContact: boolean }[]>();
    simulate({
      from: today,
      to: addDays(today, 59),
      customers,
      invoices,
      onDay(day, plan) {
        for (const a of plan.actions) for (const i of a.invoices) log.set(i.invoiceId, [...(log.get(i.invoiceId) ?? []), { day, tone: a.tone, offset: i.stepOffset, firstContact: i.firstContact }]);
      },
    });
    for (const [k, age] of ages.entries()) {
      const steps = log.get(BigInt(k + 1))!;
      // first contact: the J+8 call (5 days overdue: on its day, 3 days later), never a formal notice or a handover
      expect(steps[0]).toMatchObject({ offset: 8, firstContact: true });
      if (age > 8) expect(steps[0]!.day).toBe(today);
      else expect(steps[0]!.day).toBe('2026-06-04');
      // then every later step in order, none skipped
      expect(steps.map((x) => x.offset)).toEqual([8, 20, 20, 25, 30, 45]);
      expect(steps.filter((x) => x.firstContact)).toHaveLength(1);
      const fn = steps.find((x) => x.tone === 'formal_notice')!;
      const firm = steps.find((x) => x.tone === 'firm')!;
      expect(daysBetween(firm.day, fn.day)).toBeGreaterThanOrEqual(3);
      const handover = steps.find((x) => x.tone === 'handover')!;
      expect(handover.day > formalNoticeDeadline(fn.day, 'registered_letter', b2b.options).deadline).toBe(true);
    }
    // an old invoice's ladder is compressed to the minimum gap after its first contact (Mon 1 June 2026;
    // Sunday 7 June moves to Monday; the notice of Thursday 11 June is presented Monday 15, deadline Tuesday 23)
    expect(log.get(4n)!.map((x) => x.day)).toEqual(['2026-06-01', '2026-06-04', '2026-06-04', '2026-06-08', '2026-06-11', '2026-06-24']);
  });

  it('a formal notice never carries, in one grouped message, an invoice whose own step is a first reminder', () => {
    const fnByEmail: ScenarioDefinition = {
      options: noHolidays.options,
      steps: [
        { offset: 10, channel: 'email', template: 'reminder', tone: 'reminder' },
        { offset: 30, channel: 'email', template: 'formal_notice', tone: 'formal_notice', requiresApproval: true },
      ],
    };
    const h = { ...NEVER_CHASED, chased: true, lastContactOn: d('2026-03-11'), lastReminderSentOn: d('2026-03-11') };
    const plan = planDay(d('2026-03-31'), one(customer(1n)), [
      invoice(1n, 1n, '2026-03-01', { scenario: fnByEmail, done: new Set(['10:email']), maxDoneOffset: 10, history: h }),
      invoice(2n, 1n, '2026-03-10', { scenario: fnByEmail }),
    ]);
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]!.invoices.map((i) => i.number)).toEqual(['F-1']);
    expect(plan.held).toEqual([expect.objectContaining({ invoiceId: 2n, reason: 'escalation_apart', until: '2026-04-01' })]);
  });

  it('reminders sent outside Relance: the ladder continues after their level and they meet the prerequisites', () => {
    const inv = invoice(1n, 1n, '2026-01-15', { scenario: noHolidays, history: withOutsideReminder(NEVER_CHASED, 'firm', d('2026-02-20')) });
    const plan = planDay(d('2026-03-02'), one(customer(1n)), [inv]);
    // steps up to the firm reminder count as done outside; downtime rule: the most advanced due step, the formal notice
    expect(plan.actions.map((a) => [a.tone, a.stepOffset])).toEqual([['formal_notice', 30]]);
    expect(plan.skipped.map((s) => s.stepKey)).toEqual(['25:call_task']);
    expect(plan.actions[0]!.invoices[0]!.firstContact).toBe(false);
    const notice = invoice(2n, 1n, '2026-01-15', { scenario: noHolidays, history: withOutsideReminder(NEVER_CHASED, 'formal_notice', d('2026-03-02')) });
    // a formal notice sent outside on 2 March: deadline 2 March + 2 working days + 8 days
    expect(planDay(d('2026-03-02'), one(customer(1n)), [notice]).nextStepOn.get(2n)).toBe('2026-03-13');
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
