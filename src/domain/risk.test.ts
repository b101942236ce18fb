import { describe, expect, it } from 'vitest';
import { prng } from '../demo/generate.ts';
import { addDays, type CalendarDate } from './dates.ts';
import { assessRisk, behaviourOf, type InvoiceFact, riskReasonText } from './risk.ts';

const TODAY = '2026-11-30' as CalendarDate;
const NONE = { promisesKept: 0, promisesBroken: 0, disputes: 0, disputesOpen: 0 };

/** A year of monthly invoices paid `delay(k)` days after their due date (k = 0 oldest). */
function history(seed: string, delay: (k: number, r: () => number) => number | null, n = 12): InvoiceFact[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, k) => {
    const due = addDays(TODAY, -30 * (n - k) - 10);
    const amount = BigInt(50_000 + Math.floor(r() * 200_000));
    const d = delay(k, r);
    const paidOn = d === null ? null : addDays(due, d);
    const settled = paidOn !== null && paidOn <= TODAY;
    return { amountMinor: amount, dueDate: due, paidOn: settled ? paidOn : null, openMinor: settled ? 0n : amount, reminders: d === null ? 3 : d > 20 ? 2 : d > 5 ? 1 : 0 };
  });
}

describe('risk score on generated histories with known behaviour', () => {
  const prompt = behaviourOf(history('prompt', (_k, r) => Math.floor(r() * 6) - 3), NONE, TODAY);
  const late = behaviourOf(history('late', (_k, r) => 35 + Math.floor(r() * 25)), NONE, TODAY);
  const worsening = behaviourOf(history('worse', (k) => (k < 6 ? 2 : 10 + 8 * (k - 6))), NONE, TODAY);
  const defaulting = behaviourOf(history('bad', (k) => (k < 8 ? 40 : null)), { promisesKept: 0, promisesBroken: 2, disputes: 1, disputesOpen: 1 }, TODAY);

  it('ranks a habitual late payer above a prompt one, and a customer who stopped paying above both', () => {
    const [p, l, d] = [assessRisk(prompt), assessRisk(late), assessRisk(defaulting)];
    expect(p.score).toBeLessThan(10);
    expect(p.level).toBe('low');
    expect(l.score).toBeGreaterThan(p.score + 20);
    expect(d.score).toBeGreaterThan(l.score);
    expect(d.level).toBe('high');
  });

  it('measures amount-weighted days late, their trend over 6 and 12 months, and the share paid after each reminder', () => {
    expect(late.daysLate.all).toBeGreaterThanOrEqual(35);
    expect(late.daysLate.all).toBeLessThanOrEqual(60);
    expect(prompt.daysLate.all).toBeLessThanOrEqual(2);
    expect(worsening.daysLate.last6!).toBeGreaterThan(worsening.daysLate.last12! + 5);
    expect(late.paidAfterReminders).toEqual([0, 0, 12, 0]);
    expect(prompt.paidAfterReminders[0]).toBe(12);
    expect(assessRisk(worsening).reasons.map((r) => r.key)).toContain('worsening');
  });

  it('weights days late by amount: one large late invoice outweighs many small prompt ones', () => {
    const facts: InvoiceFact[] = [
      ...Array.from({ length: 9 }, (_, k) => ({ amountMinor: 10_000n, dueDate: addDays(TODAY, -100 - k), paidOn: addDays(TODAY, -100 - k), openMinor: 0n, reminders: 0 })),
      { amountMinor: 910_000n, dueDate: addDays(TODAY, -150), paidOn: addDays(TODAY, -90), openMinor: 0n, reminders: 2 },
    ];
    expect(behaviourOf(facts, NONE, TODAY).daysLate.all).toBe(54.6);
  });

  it('says its reasons in French and English words, never codes', () => {
    const d = assessRisk(defaulting);
    const keys = d.reasons.map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining(['late_avg', 'overdue_90', 'promises_broken', 'disputes']));
    const fr = d.reasons.map((r) => riskReasonText(r, 'fr'));
    const en = d.reasons.map((r) => riskReasonText(r, 'en'));
    expect(fr.join('\n')).toMatch(/paie en moyenne \d+(,\d)? jours après l’échéance/);
    expect(fr.join('\n')).toMatch(/2 promesse\(s\) de paiement non tenue\(s\) sur 2/);
    expect(en.join('\n')).toMatch(/pays \d+(\.\d)? days after the due date on average/);
    for (const s of [...fr, ...en]) expect(s).not.toMatch(/[{}]|_/);
  });

  it('a customer with no settled invoice is not taken for a safe one', () => {
    const r = assessRisk(behaviourOf([], NONE, TODAY));
    expect(r.reasons.map((x) => x.key)).toEqual(['no_history']);
    expect(r.score).toBe(30);
  });
});
