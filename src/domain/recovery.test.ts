import { describe, expect, it } from 'vitest';
import { calibrate, expectedMinor, recoveryProbability } from './recovery.ts';

describe('expected recovery', () => {
  it('without history, follows the practitioners: about 90 % within three months of the due date, about 10 % after a year', () => {
    const cal = calibrate([]);
    expect(recoveryProbability(cal, 45, null)).toBeCloseTo(0.9, 2);
    expect(recoveryProbability(cal, 80, null)).toBeGreaterThanOrEqual(0.85);
    expect(recoveryProbability(cal, 400, null)).toBeCloseTo(0.1, 2);
    expect(recoveryProbability(cal, 200, null)).toBeLessThan(recoveryProbability(cal, 100, null));
  });

  it("learns the organisation's own history, the prior weighing 20 invoices; an older debt is never likelier to be paid", () => {
    // This organisation recovers everything up to 90 days, and half of what passed a year.
    const cal = calibrate([
      { reached: 500, recovered: 500 },
      { reached: 200, recovered: 200 },
      { reached: 100, recovered: 100 },
      { reached: 80, recovered: 80 },
      { reached: 60, recovered: 45 },
      { reached: 40, recovered: 24 },
      { reached: 180, recovered: 90 },
    ]);
    expect(recoveryProbability(cal, 45, null)).toBeGreaterThan(0.98);
    expect(recoveryProbability(cal, 400, null)).toBeCloseTo((0.1 * 20 + 90) / 200, 3);
    const odd = calibrate([{ reached: 0, recovered: 0 }, { reached: 100, recovered: 10 }, { reached: 100, recovered: 90 }]);
    expect(odd.p[2]).toBeLessThanOrEqual(odd.p[1]!);
  });

  it("the customer's risk moves the chance: a risky customer's debt is worth less than a prompt one's at the same age", () => {
    const cal = calibrate([]);
    const prompt = recoveryProbability(cal, 20, 0);
    const unknown = recoveryProbability(cal, 20, 30);
    const risky = recoveryProbability(cal, 20, 80);
    expect(prompt).toBeGreaterThan(unknown);
    expect(unknown).toBeGreaterThan(risky);
    expect(unknown).toBeCloseTo(0.93, 2);
  });

  it('expected amount in integer minor units, rounded half up', () => {
    expect(expectedMinor(100_000n, 0.9)).toBe(90_000n);
    expect(expectedMinor(333n, 0.5)).toBe(167n);
    expect(expectedMinor(0n, 0.5)).toBe(0n);
  });
});
