/**
 * Day numbers for the law module. Interest is computed for millions of invoices at a time (bench:
 * 1,000,000 under 2 s), so it works on integer day numbers; the arithmetic is src/domain/dates.ts's
 * (Hinnant's civil-date algorithms), and this adds a validating parse, a cache of formatted days
 * and the half-years the reference rates are fixed by.
 */
import { type CalendarDate, civilToDay, dayToCivil, daysInMonth, fromEpochDay, isLeapYear } from '../dates.ts';
import { validation, type ErrorPlace } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('law-calendar', {
  calendar_date: { fr: "« {value} » n’est pas une date du calendrier (AAAA-MM-JJ attendu)", en: "\"{value}\" is not a calendar date (expected YYYY-MM-DD)" },
});

export function daysInYear(y: number): number {
  return isLeapYear(y) ? 366 : 365;
}

export { civilToDay, dayToCivil };

/** Char code of '0'..'9', else -1000 so that any non-digit makes the range checks below fail. */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1000;
}

/** Day number of an ISO "YYYY-MM-DD" date; anything else is refused with the field it came from. */
export function toDay(d: string, where?: ErrorPlace): number {
  if (typeof d !== 'string' || d.length !== 10 || d.charCodeAt(4) !== 45 || d.charCodeAt(7) !== 45) throw badDate(d, where);
  const y = digit(d, 0) * 1000 + digit(d, 1) * 100 + digit(d, 2) * 10 + digit(d, 3);
  const m = digit(d, 5) * 10 + digit(d, 6);
  const day = digit(d, 8) * 10 + digit(d, 9);
  if (!(y >= 0) || !(m >= 1 && m <= 12) || !(day >= 1)) throw badDate(d, where);
  if (day > daysInMonth(y, m)) throw badDate(d, where);
  return civilToDay(y, m, day);
}

function badDate(d: unknown, where?: ErrorPlace) {
  return validation(E('calendar_date', { value: String(d) }), where);
}

// Dates of 1970–2189 are formatted once and kept: a batch formats the same few thousand days again and again.
const CACHE_DAYS = 80_353;
const dateStrings: (CalendarDate | undefined)[] = new Array(CACHE_DAYS);
const semesters = new Int32Array(CACHE_DAYS);

export function fromDay(n: number): CalendarDate {
  if (n < 0 || n >= CACHE_DAYS) return fromEpochDay(n);
  let s = dateStrings[n];
  if (s === undefined) {
    s = fromEpochDay(n);
    dateStrings[n] = s;
  }
  return s;
}

/**
 * Half-years ("semestres", "Halbjahre") are the unit in which the French, EU and German reference
 * rates are fixed. Index = year × 2 + (0 for January–June, 1 for July–December).
 */
export function semesterOfDay(n: number): number {
  if (n >= 0 && n < CACHE_DAYS) {
    const s = semesters[n]!;
    if (s !== 0) return s;
  }
  const [y, m] = dayToCivil(n);
  const s = y * 2 + (m > 6 ? 1 : 0);
  if (n >= 0 && n < CACHE_DAYS) semesters[n] = s;
  return s;
}

export function semesterStartDay(s: number): number {
  return civilToDay(Math.floor(s / 2), s % 2 === 0 ? 1 : 7, 1);
}

export function semesterStart(s: number): CalendarDate {
  return `${Math.floor(s / 2)}-${s % 2 === 0 ? '01' : '07'}-01` as CalendarDate;
}

export function semesterEnd(s: number): CalendarDate {
  return `${Math.floor(s / 2)}-${s % 2 === 0 ? '06-30' : '12-31'}` as CalendarDate;
}

/** "2026-H2", the label used in notes and rate sources. */
export function semesterLabel(s: number): string {
  return `${Math.floor(s / 2)}-H${(s % 2) + 1}`;
}
