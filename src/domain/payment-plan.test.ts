import { describe, expect, it } from 'vitest';
import type { CalendarDate } from './dates.ts';
import { planSchedule } from './payment-plan.ts';

const d = (s: string) => s as CalendarDate;
const rows = (p: Parameters<typeof planSchedule>[0]) => planSchedule(p)?.map((i) => [i.dueDate, i.amountMinor, i.down]);

describe('a payment plan schedule', () => {
  it('a down payment on the first date, then monthly instalments; the last takes the remainder, the whole adds up to the cent', () => {
    const s = rows({ totalMinor: 118_182n, firstDate: d('2027-01-15'), instalments: 3, downPaymentMinor: 20_000n });
    expect(s).toEqual([
      ['2027-01-15', 20_000n, true],
      ['2027-02-15', 32_727n, false],
      ['2027-03-15', 32_727n, false],
      ['2027-04-15', 32_728n, false],
    ]);
    expect(s!.reduce((a, r) => a + (r[1] as bigint), 0n)).toBe(118_182n);
  });

  it('without a down payment the first instalment is on the first date', () => {
    expect(rows({ totalMinor: 90_000n, firstDate: d('2027-01-10'), instalments: 2 })).toEqual([
      ['2027-01-10', 45_000n, false],
      ['2027-02-10', 45_000n, false],
    ]);
  });

  it('a 31st falls on the last day of shorter months, counted from the first date (not drifting to the 28th)', () => {
    expect(rows({ totalMinor: 400n, firstDate: d('2027-01-31'), instalments: 4 })!.map((r) => r[0])).toEqual(['2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30']);
    expect(rows({ totalMinor: 200n, firstDate: d('2028-01-31'), instalments: 2 })!.map((r) => r[0])).toEqual(['2028-01-31', '2028-02-29']);
  });

  it('no schedule when nothing would be left to pay, when there is nothing owed, or when an instalment would be zero', () => {
    expect(planSchedule({ totalMinor: 10_000n, firstDate: d('2027-01-01'), instalments: 3, downPaymentMinor: 10_000n })).toBeNull();
    expect(planSchedule({ totalMinor: 10_000n, firstDate: d('2027-01-01'), instalments: 3, downPaymentMinor: 12_000n })).toBeNull();
    expect(planSchedule({ totalMinor: 0n, firstDate: d('2027-01-01'), instalments: 3 })).toBeNull();
    expect(planSchedule({ totalMinor: 2n, firstDate: d('2027-01-01'), instalments: 3 })).toBeNull();
    expect(planSchedule({ totalMinor: 100n, firstDate: d('2027-01-01'), instalments: 0 })).toBeNull();
  });
});
