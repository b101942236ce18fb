import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../dates.ts';
import { RelanceError } from '../../errors.ts';
import { computeLateFees, defaultRateTables, type LateFeeInput, renderLawNote, withOverrides } from './index.ts';

const d = (s: string) => s as CalendarDate;
const rates = defaultRateTables();
const fr = (over: Partial<LateFeeInput> = {}): LateFeeInput => ({
  jurisdiction: 'FR',
  debtor: 'business',
  currency: 'EUR',
  amountMinor: 1_200_000n,
  dueDate: d('2025-06-15'),
  until: d('2025-09-15'),
  ...over,
});
const summary = (r: ReturnType<typeof computeLateFees>) =>
  r.periods.map((p) => `${p.from}..${p.to} ${p.days}d ${p.ratePercent}% on ${p.baseMinor} = ${p.interestMinor}`);

describe('France, business debtor', () => {
  it('gives the worked example of docs/law.md §1 exactly: 372.43 + 40.00 = 412.43 EUR', () => {
    const r = computeLateFees(fr(), rates);
    expect(summary(r)).toEqual(['2025-06-16..2025-06-30 15d 13.15% on 1200000 = 6485', '2025-07-01..2025-09-15 77d 12.15% on 1200000 = 30758']);
    expect(r.interestMinor).toBe(37_243n);
    expect(r.indemnityMinor).toBe(4_000n);
    expect(r.totalMinor).toBe(41_243n);
    expect(r.daysLate).toBe(92);
    expect(r.provisional).toBe(false);
    expect(r.notes).toEqual([]);
    expect(r.periods[0]!.rateSource).toContain('ECB MRO 3.15% in force on 2025-01-01 + 10 points');
    expect(r.periods[1]!.rateSource).toContain('ECB MRO 2.15% in force on 2025-07-01 + 10 points');
    expect(r.roundingRule).toMatch(/365.*rounded/);
  });

  it('splits a delay crossing 31 December at each half-year rate', () => {
    const r = computeLateFees(fr({ amountMinor: 500_000n, dueDate: d('2024-12-10'), until: d('2025-01-20') }), rates);
    expect(summary(r)).toEqual(['2024-12-11..2024-12-31 21d 14.25% on 500000 = 4099', '2025-01-01..2025-01-20 20d 13.15% on 500000 = 3603']);
    expect(r.totalMinor).toBe(7_702n + 4_000n);
  });

  it('counts 29 February and divides by 365 in a leap year, or by 366 when configured', () => {
    const input = fr({ amountMinor: 1_000_000n, dueDate: d('2024-02-15'), until: d('2024-03-15') });
    const r = computeLateFees(input, rates);
    expect(summary(r)).toEqual(['2024-02-16..2024-03-15 29d 14.50% on 1000000 = 11521']);
    const actual = computeLateFees({ ...input, rules: { dayCount: 'actual' } }, rates);
    expect(actual.interestMinor).toBe(11_489n);
    expect(actual.roundingRule).toContain('366');
  });

  it('reduces the base from the day after a partial payment, and still owes the 40 EUR', () => {
    const r = computeLateFees(fr({ payments: [{ date: d('2025-07-31'), amountMinor: 400_000n }] }), rates);
    expect(summary(r)).toEqual([
      '2025-06-16..2025-06-30 15d 13.15% on 1200000 = 6485',
      '2025-07-01..2025-07-31 31d 12.15% on 1200000 = 12383',
      '2025-08-01..2025-09-15 46d 12.15% on 800000 = 12250',
    ]);
    expect(r.interestMinor).toBe(31_118n);
    expect(r.indemnityMinor).toBe(4_000n);
  });

  it('owes the indemnity from the first day late even when most was paid on time, and credit notes reduce the base', () => {
    const r = computeLateFees(
      fr({
        payments: [
          { date: d('2025-06-15'), amountMinor: 1_100_000n },
          { date: d('2025-08-31'), amountMinor: 50_000n },
        ],
      }),
      rates,
    );
    expect(r.periods.map((p) => p.baseMinor)).toEqual([100_000n, 100_000n, 50_000n]);
    expect(r.indemnityMinor).toBe(4_000n);
  });

  it('owes nothing when paid on the due date, or settled by a credit note before it', () => {
    expect(computeLateFees(fr({ until: d('2025-06-15') }), rates).totalMinor).toBe(0n);
    const settled = computeLateFees(fr({ payments: [{ date: d('2025-06-01'), amountMinor: 1_200_000n }] }), rates);
    expect(settled.totalMinor).toBe(0n);
    expect(settled.periods).toEqual([]);
    expect(settled.daysLate).toBe(0);
  });

  it('applies a contractual rate at or above 3 × the taux légal "autres cas"', () => {
    const r = computeLateFees(fr({ contractRatePercent: '15' }), rates);
    expect(summary(r)).toEqual(['2025-06-16..2025-06-30 15d 15.00% on 1200000 = 7397', '2025-07-01..2025-09-15 77d 15.00% on 1200000 = 37973']);
    // 8.28 % is exactly the 2025-H2 floor (3 × 2.76 %).
    const h2 = computeLateFees(fr({ dueDate: d('2025-07-10'), until: d('2025-08-10'), contractRatePercent: '8.28' }), rates);
    expect(h2.periods[0]!.ratePercent).toBe('8.28');
  });

  it('refuses a contractual rate below the floor of a half-year, naming the floor', () => {
    let err: unknown;
    try {
      computeLateFees(fr({ contractRatePercent: '10' }), rates);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RelanceError);
    const e = err as RelanceError;
    expect(e.code).toBe('legal_rule');
    expect(e.where?.field).toBe('contractRatePercent');
    expect(e.message).toContain('below the legal floor of 11.13% for 2025-H1');
    expect(e.message).toContain('3.71');
  });

  it('flags a delay past the last known rate as provisional and names the period and rate assumed', () => {
    const input = fr({ dueDate: d('2026-06-15'), until: d('2026-09-15') });
    const r = computeLateFees(input, rates);
    expect(r.provisional).toBe(true);
    expect(r.periods.map((p) => p.provisional)).toEqual([false, true]);
    expect(r.periods[1]!.ratePercent).toBe('12.15');
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toContain('2026-H2 (2026-07-01 – 2026-12-31)');
    expect(r.notes[0]).toContain('latest known rate 2.15%');
    expect(r.notes[0]).toContain('giving 12.15%');
    expect(renderLawNote(r.noteDetails[0]!, 'fr')).toContain('Taux provisoire');
    // Once the operator adds the official rate, the result is final.
    const known = computeLateFees(input, withOverrides(rates, [{ table: 'ecb-mro', from: d('2026-07-01'), ratePercent: '2.40' }]));
    expect(known.provisional).toBe(false);
    expect(known.periods[1]!.ratePercent).toBe('12.40');
    expect(known.notes).toEqual([]);
  });
});

describe('France, consumer debtor', () => {
  const consumer = (over: Partial<LateFeeInput> = {}) =>
    fr({ debtor: 'consumer', amountMinor: 100_000n, dueDate: d('2025-03-01'), until: d('2025-08-10'), ...over });

  it('charges the taux légal only from the formal notice, without indemnity', () => {
    const r = computeLateFees(consumer({ noticeDate: d('2025-04-10') }), rates);
    expect(summary(r)).toEqual(['2025-04-11..2025-06-30 81d 3.71% on 100000 = 823', '2025-07-01..2025-08-10 41d 2.76% on 100000 = 310']);
    expect(r.indemnityMinor).toBe(0n);
    expect(r.totalMinor).toBe(1_133n);
    expect(r.noteDetails.map((n) => n.key)).toContain('consumer_no_indemnity');
  });

  it('uses the "créancier particulier" rate when the creditor is an individual', () => {
    const r = computeLateFees(consumer({ noticeDate: d('2025-04-10'), creditorKind: 'individual' }), rates);
    expect(r.periods.map((p) => p.ratePercent)).toEqual(['7.21', '6.65']);
    expect(r.interestMinor).toBe(1_600n + 747n);
  });

  it('charges nothing without a formal notice, and says why', () => {
    const r = computeLateFees(consumer(), rates);
    expect(r.totalMinor).toBe(0n);
    expect(r.periods).toEqual([]);
    expect(r.noteDetails.map((n) => n.key)).toEqual(['consumer_needs_notice', 'consumer_no_indemnity']);
  });

  it('does not apply a contractual rate to a consumer', () => {
    const r = computeLateFees(consumer({ noticeDate: d('2025-04-10'), contractRatePercent: '20' }), rates);
    expect(r.periods[0]!.ratePercent).toBe('3.71');
    expect(r.noteDetails[0]!.key).toBe('contract_rate_ignored_consumer');
  });
});

describe('other jurisdictions', () => {
  const gb = (amountMinor: bigint) =>
    computeLateFees({ jurisdiction: 'GB', debtor: 'business', currency: 'GBP', amountMinor, dueDate: d('2025-03-31'), until: d('2025-04-30') }, rates);

  it('UK: £40 under £1,000, £70 from £1,000, £100 from £10,000', () => {
    expect(gb(99_999n).indemnityMinor).toBe(4_000n);
    expect(gb(100_000n).indemnityMinor).toBe(7_000n);
    expect(gb(999_999n).indemnityMinor).toBe(7_000n);
    expect(gb(1_000_000n).indemnityMinor).toBe(10_000n);
  });

  it('UK: Bank Rate on the 31 December before interest starts + 8, fixed across half-years', () => {
    expect(summary(gb(100_000n))).toEqual(['2025-04-01..2025-04-30 30d 12.75% on 100000 = 1048']);
    const r = computeLateFees({ jurisdiction: 'GB', debtor: 'business', currency: 'GBP', amountMinor: 100_000n, dueDate: d('2025-06-15'), until: d('2025-09-15') }, rates);
    expect(r.periods).toHaveLength(1);
    expect(r.periods[0]!.days).toBe(92);
    expect(r.periods[0]!.rateSource).toContain('Bank Rate 4.75% on 2024-12-31 + 8 points');
    // Interest starting in July uses 30 June.
    const july = computeLateFees({ jurisdiction: 'GB', debtor: 'business', currency: 'GBP', amountMinor: 100_000n, dueDate: d('2025-06-30'), until: d('2025-07-31') }, rates);
    expect(july.periods[0]!.ratePercent).toBe('12.25');
  });

  it('Germany: Basiszinssatz + 9 points and 40 EUR for a business, + 5 and no 40 EUR for a consumer', () => {
    const base = { jurisdiction: 'DE', currency: 'EUR', amountMinor: 1_000_000n, dueDate: d('2025-06-30'), until: d('2025-07-31') } as const;
    const b2b = computeLateFees({ ...base, debtor: 'business' }, rates);
    expect(summary(b2b)).toEqual(['2025-07-01..2025-07-31 31d 10.27% on 1000000 = 8722']);
    expect(b2b.indemnityMinor).toBe(4_000n);
    const b2c = computeLateFees({ ...base, debtor: 'consumer' }, rates);
    expect(summary(b2c)).toEqual(['2025-07-01..2025-07-31 31d 6.27% on 1000000 = 5325']);
    expect(b2c.indemnityMinor).toBe(0n);
  });

  it('EU, Belgium, Spain, Italy: ECB rate of the half-year + 8 points and 40 EUR', () => {
    for (const jurisdiction of ['EU', 'BE', 'ES', 'IT'] as const) {
      const r = computeLateFees(fr({ jurisdiction }), rates);
      expect(r.periods.map((p) => p.ratePercent)).toEqual(['11.15', '10.15']);
      expect(r.indemnityMinor).toBe(4_000n);
    }
  });

  it('does not apply business-to-business rules to consumers outside France and Germany', () => {
    const r = computeLateFees(fr({ jurisdiction: 'ES', debtor: 'consumer' }), rates);
    expect(r.totalMinor).toBe(0n);
    expect(r.noteDetails[0]!.key).toBe('consumer_not_covered');
  });

  it('owes but does not convert the 40 EUR when the debt is in another currency', () => {
    const r = computeLateFees(fr({ currency: 'USD' }), rates);
    expect(r.interestMinor).toBe(37_243n);
    expect(r.indemnityMinor).toBe(0n);
    expect(r.notes[0]).toContain('40.00 EUR');
  });
});

describe('input checks', () => {
  it('names the field of a bad date, amount or rate', () => {
    const fieldOf = (input: LateFeeInput) => {
      try {
        computeLateFees(input, rates);
      } catch (e) {
        return (e as RelanceError).where?.field;
      }
      return undefined;
    };
    expect(fieldOf(fr({ dueDate: d('2025-02-30') }))).toBe('dueDate');
    expect(fieldOf(fr({ amountMinor: -1n }))).toBe('amountMinor');
    expect(fieldOf(fr({ contractRatePercent: 'douze' }))).toBe('contractRatePercent');
    expect(fieldOf(fr({ payments: [{ date: d('2025-07-01'), amountMinor: 0n }] }))).toBe('payments[0].amountMinor');
  });

  it('refuses to compute before the first known rate rather than guess', () => {
    expect(() => computeLateFees(fr({ dueDate: d('2020-01-10'), until: d('2020-02-10') }), rates)).toThrow(/no ecb-mro rate is known for 2020-01-01/);
  });
});
