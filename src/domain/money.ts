/**
 * Money is an integer count of minor units held in a bigint, with its ISO 4217 currency beside it.
 * No float ever holds money: parsing goes from decimal text straight to minor units, and every
 * division states its rounding.
 */
import { validation, type ErrorPlace } from '../errors.ts';
import { defineErrors, type Text } from '../i18n/index.ts';

const E = defineErrors('money', {
  currency: { fr: "« {currency} » n’est pas un code devise ISO 4217", en: "\"{currency}\" is not an ISO 4217 currency code" },
  not_an_amount: { fr: "« {text} » n’est pas un montant", en: "\"{text}\" is not an amount" },
  decimals: { fr: "« {text} » a plus de {exp} décimales pour {currency}", en: "\"{text}\" has more than {exp} decimals for {currency}" },
  too_large: { fr: "« {text} » dépasse le plus grand montant admis ({max})", en: "\"{text}\" exceeds the largest amount accepted ({max})" },
});

export type Minor = bigint;

/**
 * The largest amount, in minor units, that Relance accepts anywhere (10^13: a hundred billion
 * euros). Sums over a ledger of such amounts stay far inside a bigint column; beyond it an input
 * is a mistake or an attack, refused where it enters with the place named.
 */
export const MAX_AMOUNT_MINOR = 10n ** 13n;

export const amountInRange = (minor: Minor) => minor <= MAX_AMOUNT_MINOR && minor >= -MAX_AMOUNT_MINOR;

/** The refusal of an amount beyond the range, naming it as written. */
export const tooLargeText = (text: string, currency: string): Text => E('too_large', { text, max: toDecimalString(MAX_AMOUNT_MINOR, currency) });

/** Refuses an amount beyond ±MAX_AMOUNT_MINOR, naming the text as written and the place. */
export function assertAmountInRange(minor: Minor, text: string, currency: string, where?: ErrorPlace): Minor {
  if (!amountInRange(minor)) throw validation(tooLargeText(text, currency), where);
  return minor;
}

/** Minor-unit exponent per currency (ISO 4217). Currencies not listed use 2. */
const EXPONENTS: Record<string, number> = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, BHD: 3, KWD: 3, TND: 3, OMR: 3, JOD: 3 };

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

const CURRENCY_RE = /^[A-Z]{3}$/;
export function assertCurrency(currency: string, where?: ErrorPlace): string {
  if (!CURRENCY_RE.test(currency)) throw validation(E('currency', { currency }), where);
  return currency;
}

/**
 * Parse a decimal amount written by a human or a file ("1 234,56", "1234.56", "-12", "1.234,56")
 * into minor units. Refuses more decimals than the currency has, rather than rounding silently.
 */
export function parseAmount(text: string, currency = 'EUR', where?: ErrorPlace): Minor {
  const exp = currencyExponent(currency);
  let s = text.trim().replace(/[\s\u00a0\u202f']/g, '');
  s = s.replace(/(€|EUR|GBP|£|\$|USD|CHF)$/i, '').replace(/^(€|EUR|GBP|£|\$|USD|CHF)/i, '');
  let sign = 1n;
  if (s.startsWith('-')) {
    sign = -1n;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  const lastDot = s.lastIndexOf('.');
  const lastComma = s.lastIndexOf(',');
  let intPart = s;
  let frac = '';
  if (lastDot >= 0 || lastComma >= 0) {
    // The right-most separator is the decimal one when both appear ("1.234,56" or "1,234.56").
    const decIdx = Math.max(lastDot, lastComma);
    const decSep = s[decIdx];
    const otherSep = decSep === '.' ? ',' : '.';
    const occurrences = s.split(decSep!).length - 1;
    // Thousands separators group exactly three digits: "12..34" or "1.2.3" is no amount.
    const grouped = (x: string, sep: string) => new RegExp(`^\\d{1,3}(\\${sep}\\d{3})+$`).test(x);
    if (occurrences > 1 || (s.includes(otherSep) && s.indexOf(otherSep) > decIdx)) {
      // "1.234.567" — only thousands separators, no decimals
      if (occurrences > 1 && !s.includes(otherSep) && grouped(s, decSep!)) {
        intPart = s.split(decSep!).join('');
        frac = '';
      } else throw validation(E('not_an_amount', { text }), where);
    } else {
      const head = s.slice(0, decIdx);
      if (head.includes(otherSep) && !grouped(head, otherSep)) throw validation(E('not_an_amount', { text }), where);
      intPart = head.split(otherSep).join('');
      frac = s.slice(decIdx + 1);
    }
  }
  if (!/^\d+$/.test(intPart || '0') || !/^\d*$/.test(frac) || (intPart === '' && frac === '')) {
    throw validation(E('not_an_amount', { text }), where);
  }
  if (frac.length > exp) {
    if (/^0*$/.test(frac.slice(exp))) frac = frac.slice(0, exp);
    else throw validation(E('decimals', { text, exp, currency }), where);
  }
  const minor = BigInt((intPart || '0') + frac.padEnd(exp, '0'));
  return assertAmountInRange(sign * minor, text, currency, where);
}

/** Minor units to a plain decimal string with a dot: 41243n -> "412.43" (API and JSON form). */
export function toDecimalString(minor: Minor, currency = 'EUR'): string {
  const exp = currencyExponent(currency);
  const neg = minor < 0n;
  const abs = (neg ? -minor : minor).toString().padStart(exp + 1, '0');
  const out = exp === 0 ? abs : `${abs.slice(0, abs.length - exp)}.${abs.slice(abs.length - exp)}`;
  return neg ? `-${out}` : out;
}

const NNBSP = '\u202f';
const SYMBOLS: Record<string, string> = { EUR: '€', GBP: '£', USD: '$' };

/**
 * Format for people: "1 234,56 €" in French (narrow no-break space for thousands and before €),
 * "€1,234.56" in English.
 */
export function formatMoney(minor: Minor, currency: string, locale: 'fr' | 'en'): string {
  const dec = toDecimalString(minor < 0n ? -minor : minor, currency);
  const [i, f] = dec.split('.') as [string, string | undefined];
  const groupSep = locale === 'fr' ? NNBSP : ',';
  const grouped = i.replace(/\B(?=(\d{3})+(?!\d))/g, groupSep);
  const num = f === undefined ? grouped : `${grouped}${locale === 'fr' ? ',' : '.'}${f}`;
  const sym = SYMBOLS[currency];
  const sign = minor < 0n ? '-' : '';
  if (locale === 'fr') return `${sign}${num}${NNBSP}${sym ?? currency}`;
  return sym ? `${sign}${sym}${num}` : `${sign}${num} ${currency}`;
}

/** An amount as a text in both languages (a message variable): "1 234,56 €" / "€1,234.56". */
export function moneyText(minor: Minor, currency: string): Text {
  return { key: 'money', fr: formatMoney(minor, currency, 'fr'), en: formatMoney(minor, currency, 'en'), vars: {} };
}

/** Integer division rounded half away from zero (the commercial rule for cents). */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const neg = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return neg ? -q : q;
}

export function sum(values: Iterable<Minor>): Minor {
  let total = 0n;
  for (const v of values) total += v;
  return total;
}

export function minMinor(a: Minor, b: Minor): Minor {
  return a < b ? a : b;
}

export function maxMinor(a: Minor, b: Minor): Minor {
  return a > b ? a : b;
}
