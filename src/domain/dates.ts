/**
 * Calendar dates are ISO strings "YYYY-MM-DD" (type CalendarDate), never a Date: a Date is an
 * instant, and an instant shifts the day when a time zone is applied. Arithmetic goes through
 * Temporal.PlainDate, which has no time zone at all.
 */
import { Temporal } from 'temporal-polyfill';
import { validation, type ErrorPlace } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('dates', {
  calendar_date: { fr: "« {value} » n’est pas une date du calendrier (AAAA-MM-JJ attendu)", en: "\"{value}\" is not a calendar date (expected YYYY-MM-DD)" },
  date: { fr: "« {value} » n’est pas une date : elle doit être au format JJ/MM/AAAA ou AAAA-MM-JJ", en: "\"{value}\" is not a date (expected YYYY-MM-DD or DD/MM/YYYY)" },
});

export type CalendarDate = string & { readonly __calendarDate: unique symbol };

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isCalendarDate(s: string): s is CalendarDate {
  const m = ISO_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Validate an ISO date string; the error names where it came from. */
export function calendarDate(s: string, where?: ErrorPlace): CalendarDate {
  if (!isCalendarDate(s)) throw validation(E('calendar_date', { value: s }), where);
  return s;
}

/**
 * The one reader of the dates files write (imports, FEC, bank CSV statements, the API): ISO (a time
 * after it ignored), d/m/yyyy with `/`, `-` or `.`, yyyymmdd (FEC). Day first is the French
 * convention: "03/04/2026" is 3 April; `monthFirst` reads it as 4 March (a bank export in the US
 * order, said by its mapping or proven by a day above 12). `shortYear`: a two-digit year is of the
 * 2000s (bank exports only). null: not a date. The fast path of a million-line file is
 * `fastDate` (src/formats/values.ts), which gives the same answers for its shapes.
 */
export function readDate(text: string, opts: { monthFirst?: boolean; shortYear?: boolean } = {}): CalendarDate | null {
  const s = text.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/.exec(s);
  let iso: string | null = null;
  if (m) iso = `${m[1]}-${m[2]}-${m[3]}`;
  else if ((m = (opts.shortYear ? /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$/ : /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/).exec(s))) {
    const year = m[3]!.length === 2 ? `20${m[3]}` : m[3]!;
    const [day, month] = opts.monthFirst ? [m[2]!, m[1]!] : [m[1]!, m[2]!];
    iso = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  } else if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(s))) iso = `${m[1]}-${m[2]}-${m[3]}`;
  return iso && isCalendarDate(iso) ? iso : null;
}

/** readDate, day first, four-digit years; a refusal names the place. */
export function parseCalendarDate(text: string, where?: ErrorPlace): CalendarDate {
  const d = readDate(text);
  if (d === null) throw validation(E('date', { value: text }), where);
  return d;
}

/**
 * Day arithmetic on epoch-day numbers (days since 1970-01-01, proleptic Gregorian), with Howard
 * Hinnant's civil-date algorithms: exact integer maths, ~100x faster than the Temporal polyfill,
 * which matters when a cycle or a loader touches millions of dates.
 */
export function civilToDay(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month 1-12, day 1-31] of an epoch-day number. */
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

/** Epoch day of an ISO date already known to be valid (no checks: the hot path of cycles and loaders). */
export function toEpochDay(d: CalendarDate): number {
  const y = (d.charCodeAt(0) - 48) * 1000 + (d.charCodeAt(1) - 48) * 100 + (d.charCodeAt(2) - 48) * 10 + (d.charCodeAt(3) - 48);
  const m = (d.charCodeAt(5) - 48) * 10 + (d.charCodeAt(6) - 48);
  const day = (d.charCodeAt(8) - 48) * 10 + (d.charCodeAt(9) - 48);
  return civilToDay(y, m, day);
}

export function fromEpochDay(n: number): CalendarDate {
  const [y, m, d] = dayToCivil(n);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}` as CalendarDate;
}

export function addDays(d: CalendarDate, days: number): CalendarDate {
  return fromEpochDay(toEpochDay(d) + days);
}

/** Same day n months later, clamped to the month's last day (31 January + 1 month = 28/29 February). */
export function addMonths(d: CalendarDate, months: number): CalendarDate {
  const total = yearOf(d) * 12 + (monthOf(d) - 1) + months;
  const y = Math.floor(total / 12);
  const m = (total % 12) + 1;
  const day = Math.min(Number(d.slice(8, 10)), daysInMonth(y, m));
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}` as CalendarDate;
}

/** Whole days from a to b (positive when b is later). */
export function daysBetween(a: CalendarDate, b: CalendarDate): number {
  return toEpochDay(b) - toEpochDay(a);
}

export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function maxDate(a: CalendarDate, b: CalendarDate): CalendarDate {
  return a > b ? a : b;
}

export function minDate(a: CalendarDate, b: CalendarDate): CalendarDate {
  return a < b ? a : b;
}

export function endOfMonth(d: CalendarDate): CalendarDate {
  return `${d.slice(0, 8)}${String(daysInMonth(yearOf(d), monthOf(d))).padStart(2, '0')}` as CalendarDate;
}

/** ISO weekday: 1 = Monday ... 7 = Sunday. */
export function dayOfWeek(d: CalendarDate): number {
  // 1970-01-01 was a Thursday (4).
  return ((((toEpochDay(d) + 3) % 7) + 7) % 7) + 1;
}

export function yearOf(d: CalendarDate): number {
  return Number(d.slice(0, 4));
}

export function monthOf(d: CalendarDate): number {
  return Number(d.slice(5, 7));
}

/** Today's calendar date in a time zone, from an instant the caller supplies (the clock is a parameter). */
export function todayIn(timeZone: string, now: Date | number): CalendarDate {
  const instant = Temporal.Instant.fromEpochMilliseconds(typeof now === 'number' ? now : now.getTime());
  return instant.toZonedDateTimeISO(timeZone).toPlainDate().toString() as CalendarDate;
}

/** Days past due at a date: 0 when not yet due (the due date itself is not late). */
export function daysPastDue(dueDate: CalendarDate, at: CalendarDate): number {
  return Math.max(0, daysBetween(dueDate, at));
}

/** "22 novembre 2026" / "22 November 2026". */
export function formatLongDate(d: CalendarDate, locale: 'fr' | 'en'): string {
  const FR = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  const EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const day = Number(d.slice(8, 10));
  const month = (locale === 'fr' ? FR : EN)[monthOf(d) - 1]!;
  if (locale === 'fr') return `${day === 1 ? '1er' : day} ${month} ${yearOf(d)}`;
  return `${day} ${month} ${yearOf(d)}`;
}

/** "22/11/2026" in French, "22/11/2026" in British English too (day first), ISO for machines. */
export function formatShortDate(d: CalendarDate, _locale: 'fr' | 'en'): string {
  return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;
}
