/**
 * Day numbers for the law module. Interest is computed for millions of invoices at a time (bench:
 * 1,000,000 under 2 s), and going through Temporal for every boundary costs microseconds each; plain
 * integer day numbers (days since 1970-01-01, proleptic Gregorian) cost nanoseconds. The algorithm is
 * Howard Hinnant's days_from_civil / civil_from_days, exact for every Gregorian date.
 */
import type { CalendarDate } from '../dates.ts';
import { validation, type ErrorPlace } from '../../errors.ts';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export function daysInYear(y: number): number {
  return isLeap(y) ? 366 : 365;
}

export function civilToDay(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month 1-12, day 1-31] of a day number. */
export function dayToCivil(n: number): [number, number, number] {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d];
}

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
  const max = m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!;
  if (day > max) throw badDate(d, where);
  return civilToDay(y, m, day);
}

function badDate(d: unknown, where?: ErrorPlace) {
  return validation(`"${String(d)}" is not a calendar date (expected YYYY-MM-DD)`, where);
}

// Dates of 1970–2189 are formatted once and kept: a batch formats the same few thousand days again and again.
const CACHE_DAYS = 80_353;
const dateStrings: (CalendarDate | undefined)[] = new Array(CACHE_DAYS);
const semesters = new Int32Array(CACHE_DAYS);

function formatDay(n: number): CalendarDate {
  const [y, m, d] = dayToCivil(n);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}` as CalendarDate;
}

export function fromDay(n: number): CalendarDate {
  if (n < 0 || n >= CACHE_DAYS) return formatDay(n);
  let s = dateStrings[n];
  if (s === undefined) {
    s = formatDay(n);
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
