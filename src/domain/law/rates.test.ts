import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../dates.ts';
import { RelanceError } from '../../errors.ts';
import { civilToDay, dayToCivil, fromDay, toDay } from './calendar.ts';
import { defaultRateTables, formatRatePercent, parseRatePercent, RATE_TABLE_NAMES, rateOn, withOverrides } from './index.ts';

const d = (s: string) => s as CalendarDate;
const rates = defaultRateTables();

describe('rate tables', () => {
  it('hold rates as exact decimals: "2.15" and "2,15" are 21500, never a float', () => {
    expect(parseRatePercent('2.15')).toBe(21_500n);
    expect(parseRatePercent('2,15')).toBe(21_500n);
    expect(parseRatePercent('-0.88')).toBe(-8_800n);
    expect(parseRatePercent('12.125')).toBe(121_250n);
    expect(formatRatePercent(131_500n)).toBe('13.15');
    expect(formatRatePercent(150_000n)).toBe('15.00');
    expect(formatRatePercent(121_250n)).toBe('12.125');
    expect(() => parseRatePercent('2.123456')).toThrow(/at most 4 decimals/);
    expect(() => parseRatePercent('abc')).toThrow(RelanceError);
  });

  it('give the rates of docs/rates.md on their dates', () => {
    expect(rateOn(rates, 'ecb-mro', d('2025-01-01')).ratePercent).toBe('3.15');
    expect(rateOn(rates, 'ecb-mro', d('2025-07-01')).ratePercent).toBe('2.15');
    expect(rateOn(rates, 'ecb-mro', d('2024-01-01')).ratePercent).toBe('4.50');
    expect(rateOn(rates, 'ecb-mro', d('2024-07-01')).ratePercent).toBe('4.25');
    expect(rateOn(rates, 'fr-taux-legal-autres', d('2026-03-15')).ratePercent).toBe('2.62');
    expect(rateOn(rates, 'fr-taux-legal-particulier', d('2024-08-01')).ratePercent).toBe('8.16');
    expect(rateOn(rates, 'de-basiszinssatz', d('2026-01-01')).ratePercent).toBe('1.27');
    for (const name of RATE_TABLE_NAMES) expect(rates[name].entries.length).toBeGreaterThan(0);
  });

  it('answer past what they know with the latest rate, flagged provisional', () => {
    const l = rateOn(rates, 'fr-taux-legal-autres', d('2026-07-01'));
    expect(l.provisional).toBe(true);
    expect(l.ratePercent).toBe('2.62');
    expect(rateOn(rates, 'fr-taux-legal-autres', d('2026-06-30')).provisional).toBe(false);
  });

  it('take operator rates: a newer one extends the table, one on an existing date replaces it', () => {
    const t = withOverrides(rates, [
      { table: 'fr-taux-legal-autres', from: d('2026-07-01'), ratePercent: '2.5' },
      { table: 'ecb-mro', from: d('2025-06-11'), ratePercent: '2.16', note: 'test correction' },
    ]);
    const l = rateOn(t, 'fr-taux-legal-autres', d('2026-12-31'));
    expect(l).toMatchObject({ ratePercent: '2.50', provisional: false });
    expect(l.entry.origin).toBe('operator');
    expect(t['fr-taux-legal-autres'].knownThrough).toBe('2026-12-31');
    expect(rateOn(t, 'ecb-mro', d('2025-07-01')).ratePercent).toBe('2.16');
    expect(t['ecb-mro'].entries.filter((e) => e.from === '2025-06-11')).toHaveLength(1);
    // The shipped tables are untouched.
    expect(rateOn(rates, 'ecb-mro', d('2025-07-01')).ratePercent).toBe('2.15');
  });

  it('refuse an unknown table, or a half-year rate that does not start on 1 January or 1 July', () => {
    expect(() => withOverrides(rates, [{ table: 'fed-funds' as never, from: d('2026-07-01'), ratePercent: '4' }])).toThrow(/unknown rate table "fed-funds"/);
    expect(() => withOverrides(rates, [{ table: 'de-basiszinssatz', from: d('2026-07-15'), ratePercent: '1' }])).toThrow(/1 January or 1 July/);
  });
});

describe('day numbers', () => {
  it('round-trip every day from 1999 to 2031 and agree with the calendar', () => {
    let n = toDay('1999-01-01');
    expect(n).toBe(10_592);
    for (let i = 0; i < 12_000; i++, n++) expect(toDay(fromDay(n))).toBe(n);
    expect(dayToCivil(civilToDay(2024, 2, 29))).toEqual([2024, 2, 29]);
    expect(toDay('2024-03-01') - toDay('2024-02-28')).toBe(2);
    expect(() => toDay('2025-02-29')).toThrow(RelanceError);
    expect(() => toDay('2025-1-01')).toThrow(RelanceError);
  });
});
