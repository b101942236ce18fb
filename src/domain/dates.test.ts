import { describe, expect, it } from 'vitest';
import { addDays, addMonths, type CalendarDate, calendarDate, daysBetween, daysPastDue, endOfMonth, formatLongDate, parseCalendarDate, readDate, todayIn } from './dates.ts';

const d = (s: string) => s as CalendarDate;

describe('calendar dates', () => {
  it('validates real calendar days, including 29 February', () => {
    expect(calendarDate('2028-02-29')).toBe('2028-02-29');
    expect(() => calendarDate('2026-02-29')).toThrow(/not a calendar date/);
    expect(() => calendarDate('2026-13-01')).toThrow();
  });

  it('parses the forms found in files, day first', () => {
    expect(parseCalendarDate('03/04/2026')).toBe('2026-04-03');
    expect(parseCalendarDate('20260403')).toBe('2026-04-03');
    expect(parseCalendarDate('2026-04-03T10:00:00Z')).toBe('2026-04-03');
    expect(() => parseCalendarDate('31/02/2026', { line: 3 })).toThrow(/not a date/);
  });

  it('does arithmetic without time-zone drift, across DST changes and leap years', () => {
    expect(addDays(d('2026-03-28'), 2)).toBe('2026-03-30'); // DST starts 29 March in Europe
    expect(addDays(d('2028-02-28'), 1)).toBe('2028-02-29');
    expect(daysBetween(d('2025-06-15'), d('2025-09-15'))).toBe(92);
    expect(addMonths(d('2026-01-31'), 1)).toBe('2026-02-28');
    expect(endOfMonth(d('2028-02-10'))).toBe('2028-02-29');
    expect(daysPastDue(d('2026-11-22'), d('2026-11-22'))).toBe(0);
    expect(daysPastDue(d('2026-11-22'), d('2026-11-23'))).toBe(1);
  });

  it('today depends on the organisation time zone, from an instant given by the caller', () => {
    const instant = Date.UTC(2026, 10, 22, 23, 30); // 23:30 UTC on 22 November
    expect(todayIn('Europe/Paris', instant)).toBe('2026-11-23');
    expect(todayIn('Pacific/Honolulu', instant)).toBe('2026-11-22');
    expect(todayIn('Pacific/Noumea', instant)).toBe('2026-11-23');
  });

  it('writes long dates in French and English', () => {
    expect(formatLongDate(d('2026-11-22'), 'fr')).toBe('22 novembre 2026');
    expect(formatLongDate(d('2026-11-01'), 'fr')).toBe('1er novembre 2026');
    expect(formatLongDate(d('2026-11-22'), 'en')).toBe('22 November 2026');
  });
});

describe('epoch-day arithmetic agrees with Temporal over four centuries', () => {
  it('every 7th day from 1900 to 2300, weekdays included', async () => {
    const { Temporal } = await import('temporal-polyfill');
    const { toEpochDay, fromEpochDay, dayOfWeek } = await import('./dates.ts');
    let p = Temporal.PlainDate.from('1900-01-01');
    for (let i = 0; i < 21000; i++, p = p.add({ days: 7 })) {
      const iso = p.toString() as CalendarDate;
      const n = toEpochDay(iso);
      expect(n).toBe(p.since('1970-01-01').days);
      expect(fromEpochDay(n)).toBe(iso);
      expect(dayOfWeek(iso)).toBe(p.dayOfWeek);
    }
  });
});

describe('readDate: the one reader of dates in files', () => {
  it('reads day first unless told otherwise, two-digit years only when asked, and refuses impossible days', () => {
    expect(readDate('03/04/2026')).toBe('2026-04-03');
    expect(readDate('03/04/2026', { monthFirst: true })).toBe('2026-03-04');
    expect(readDate(' 3.4.2026 ')).toBe('2026-04-03');
    expect(readDate('3-4-26')).toBeNull();
    expect(readDate('3-4-26', { shortYear: true })).toBe('2026-04-03');
    expect(readDate('20260403')).toBe('2026-04-03');
    expect(readDate('2026-04-03T10:00:00')).toBe('2026-04-03');
    expect(readDate('31/02/2026')).toBeNull();
    expect(readDate('13/13/2026', { monthFirst: true })).toBeNull();
    // The imports' reader and the bank CSV reader agree wherever both read.
    for (const s of ['01/12/2025', '1.2.2026', '2026-02-28', '20251231', '29/02/2024']) expect(parseCalendarDate(s)).toBe(readDate(s, { shortYear: true }));
  });
});
