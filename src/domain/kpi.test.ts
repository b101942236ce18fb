import { describe, expect, it } from 'vitest';
import type { CalendarDate } from './dates.ts';
import { aging, agingBucket, averageDaysDelinquent, averageDaysToPay, bestPossibleDso, collectionEffectivenessIndex, dsoCountback, overdueShare } from './kpi.ts';

const d = (s: string) => s as CalendarDate;

describe('receivables KPIs', () => {
  it('puts open items in aging buckets by days past due, disputed ones apart', () => {
    const today = d('2026-06-30');
    expect(agingBucket(d('2026-06-30'), today)).toBe('not_due');
    expect(agingBucket(d('2026-06-29'), today)).toBe('1_30');
    expect(agingBucket(d('2026-05-31'), today)).toBe('1_30');
    expect(agingBucket(d('2026-05-30'), today)).toBe('31_60');
    expect(agingBucket(d('2026-04-01'), today)).toBe('61_90');
    expect(agingBucket(d('2026-04-01'), today)).not.toBe('over_90');
    expect(agingBucket(d('2026-03-31'), today)).toBe('over_90');
    const a = aging(
      [
        { dueDate: d('2026-07-15'), openMinor: 100_00n, disputed: false },
        { dueDate: d('2026-06-01'), openMinor: 50_00n, disputed: false },
        { dueDate: d('2026-01-01'), openMinor: 30_00n, disputed: false },
        { dueDate: d('2026-01-01'), openMinor: 70_00n, disputed: true },
        { dueDate: d('2026-01-01'), openMinor: 0n, disputed: false },
      ],
      today,
      25_00n,
    );
    expect(a.buckets.not_due).toEqual({ amountMinor: 100_00n, count: 1 });
    expect(a.buckets['1_30']).toEqual({ amountMinor: 50_00n, count: 1 });
    expect(a.buckets.over_90).toEqual({ amountMinor: 30_00n, count: 1 });
    expect(a.disputed).toEqual({ amountMinor: 70_00n, count: 1 });
    expect(a.totalMinor).toBe(250_00n);
    expect(a.unallocatedMinor).toBe(25_00n);
  });

  it('DSO countback walks back month by month and prorates the last one', () => {
    // AR 250 000; June sales 100 000 (30 d), May 120 000 (31 d), April 90 000 (30 d):
    // 30 + 31 + 30 x 30 000 / 90 000 = 71.0 days.
    const months = [
      { salesMinor: 100_000_00n, days: 30 },
      { salesMinor: 120_000_00n, days: 31 },
      { salesMinor: 90_000_00n, days: 30 },
    ];
    expect(dsoCountback(250_000_00n, months)).toEqual({ days: 71, exhausted: false });
    expect(dsoCountback(50_000_00n, months)).toEqual({ days: 15, exhausted: false });
    expect(dsoCountback(0n, months)).toEqual({ days: 0, exhausted: false });
    expect(dsoCountback(400_000_00n, months)).toEqual({ days: 91, exhausted: true });
    // 1/3 of a 31-day month: 10.333 -> 10.3
    expect(dsoCountback(1n, [{ salesMinor: 3n, days: 31 }]).days).toBe(10.3);
  });

  it('best possible DSO and average days delinquent', () => {
    // Current AR 60 000 over 3 months of sales 310 000 and 91 days: 17.6 days.
    const bp = bestPossibleDso(60_000_00n, 310_000_00n, 91);
    expect(bp).toBe(17.6);
    expect(averageDaysDelinquent(71, bp)).toBe(53.4);
  });

  it('CEI with the N-month convention', () => {
    // Opening 200 000, sales 300 000 over 3 months (100 000 a month), closing 180 000 of which 80 000 current:
    // (200 000 + 100 000 - 180 000) / (200 000 + 100 000 - 80 000) = 54.5 %.
    expect(
      collectionEffectivenessIndex({
        openingReceivablesMinor: 200_000_00n,
        creditSalesMinor: 300_000_00n,
        months: 3,
        closingReceivablesMinor: 180_000_00n,
        closingCurrentReceivablesMinor: 80_000_00n,
      }),
    ).toBe(54.5);
  });

  it('overdue share and average days to pay weighted by amount', () => {
    expect(overdueShare(25_00n, 100_00n)).toBe(25);
    expect(overdueShare(1n, 3n)).toBe(33.3);
    expect(overdueShare(0n, 0n)).toBe(0);
    expect(
      averageDaysToPay([
        { amountMinor: 100_00n, issueDate: d('2026-01-01'), paidDate: d('2026-01-31') },
        { amountMinor: 300_00n, issueDate: d('2026-01-01'), paidDate: d('2026-03-02') },
      ]),
    ).toBe(52.5);
    expect(averageDaysToPay([])).toBeNull();
  });
});
