import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../dates.ts';
import { easterSunday, workingDays } from './holidays.ts';

const d = (s: string) => s as CalendarDate;

describe('holiday calendars (docs/law.md §9)', () => {
  it('Easter by the anonymous Gregorian algorithm', () => {
    expect([2024, 2025, 2026, 2027, 2028].map(easterSunday)).toEqual(['2024-03-31', '2025-04-20', '2026-04-05', '2027-03-28', '2028-04-16']);
  });

  it('France: fixed days and Easter-based days are not working days', () => {
    const fr = workingDays('FR');
    for (const h of ['2026-01-01', '2026-04-06', '2026-05-01', '2026-05-08', '2026-05-14', '2026-05-25', '2026-07-14', '2026-08-15', '2026-11-11', '2026-12-25']) {
      expect(fr.isWorkingDay(d(h)), h).toBe(false);
    }
    expect(fr.isWorkingDay(d('2026-04-03'))).toBe(true); // Good Friday works outside Alsace-Moselle
    expect(fr.isWorkingDay(d('2026-12-26'))).toBe(false); // a Saturday anyway
    expect(fr.nextWorkingDay(d('2026-04-04'))).toBe('2026-04-07'); // Sat -> Sun -> Easter Monday -> Tuesday
  });

  it('Alsace-Moselle adds Good Friday and 26 December; overseas departments their own day', () => {
    const am = workingDays('FR-ALSACE-MOSELLE');
    expect(am.isWorkingDay(d('2026-04-03'))).toBe(false);
    expect(am.isWorkingDay(d('2025-12-26'))).toBe(false);
    expect(workingDays('FR-RE').isWorkingDay(d('2024-12-20'))).toBe(false);
    expect(workingDays('FR-MQ').isWorkingDay(d('2026-05-22'))).toBe(false);
    expect(workingDays('FR').isWorkingDay(d('2026-05-22'))).toBe(true);
  });
});
