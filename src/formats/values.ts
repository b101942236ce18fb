/**
 * Fast paths for the values a million-line file is made of: a plain decimal amount ("1234,56",
 * "-12.5", "300") and a plain date ("20250131", "31/01/2025", "2025-01-31"). Each returns exactly
 * what the general parsers (`parseAmount`, `parseCalendarDate`) return for these shapes, without
 * their regular expressions; anything else (thousands separators, currency signs, a bad day...)
 * goes to the general parser, which also words the error.
 */
import { type CalendarDate, daysInMonth, parseCalendarDate } from '../domain/dates.ts';
import type { ErrorPlace } from '../errors.ts';
import { currencyExponent, MAX_AMOUNT_MINOR, type Minor, parseAmount } from '../domain/money.ts';

const digit = (c: number) => c >= 48 && c <= 57;
const MAX_FAST = Number(MAX_AMOUNT_MINOR);

/** An amount already trimmed, in minor units of `currency`. */
export function amountOf(s: string, currency: string, where?: ErrorPlace): Minor {
  return fastAmount(s, currencyExponent(currency)) ?? parseAmount(s, currency, where);
}

/** The fast path alone: null for anything but [-]digits[,|.]digits (callers then build the error place). */
export function fastAmount(s: string, exp: number): Minor | null {
  const n = s.length;
  let i = 0;
  if (s.charCodeAt(0) === 45) i = 1; // "-"
  let j = i;
  while (j < n && digit(s.charCodeAt(j))) j++;
  // Up to 13 integer digits: the value in minor units stays an exact double.
  if (j === i || j - i > 13 || exp > 3) return null;
  let frac = 0;
  if (j < n) {
    const sep = s.charCodeAt(j);
    const fracLen = n - j - 1;
    if ((sep !== 44 && sep !== 46) || fracLen < 1 || fracLen > exp) return null;
    for (let k = j + 1; k < n; k++) {
      const c = s.charCodeAt(k);
      if (!digit(c)) return null;
      frac = frac * 10 + (c - 48);
    }
    for (let k = fracLen; k < exp; k++) frac *= 10;
  }
  const minor = Number(s.slice(i, j)) * 10 ** exp + frac;
  // Beyond the accepted range the general parser words the refusal.
  if (minor > MAX_FAST) return null;
  return BigInt(i === 1 ? -minor : minor);
}

const two = (s: string, at: number) => (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);

/** A date already trimmed: YYYYMMDD, DD/MM/YYYY or YYYY-MM-DD on the fast path. */
export function dateOf(s: string, where?: ErrorPlace): CalendarDate {
  return fastDate(s) ?? parseCalendarDate(s, where);
}

/** The fast path alone: null for any other shape or an impossible day. */
export function fastDate(s: string): CalendarDate | null {
  let y: number;
  let m: number;
  let d: number;
  let iso: string;
  if (s.length === 8 && allDigits(s, 0, 8)) {
    y = Number(s.slice(0, 4));
    m = two(s, 4);
    d = two(s, 6);
    iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
  } else if (s.length === 10 && s.charCodeAt(2) === 47 && s.charCodeAt(5) === 47 && allDigits(s, 0, 2) && allDigits(s, 3, 5) && allDigits(s, 6, 10)) {
    y = Number(s.slice(6, 10));
    m = two(s, 3);
    d = two(s, 0);
    iso = `${s.slice(6, 10)}-${s.slice(3, 5)}-${s.slice(0, 2)}`;
  } else if (s.length === 10 && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45 && allDigits(s, 0, 4) && allDigits(s, 5, 7) && allDigits(s, 8, 10)) {
    y = Number(s.slice(0, 4));
    m = two(s, 5);
    d = two(s, 8);
    iso = s;
  } else return null;
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return iso as CalendarDate;
}

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!digit(s.charCodeAt(i))) return false;
  return true;
}
