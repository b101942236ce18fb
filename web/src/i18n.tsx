/**
 * Interface language per user (French or English), and the user's locale for amounts and dates:
 * "1 234,56 €" and "22/11/2026" in French. Amounts travel as minor units in decimal strings and are
 * formatted with the same function the documents use (src/domain/money.ts), never through a float.
 */
import { createContext, type ReactNode, useContext } from 'react';
import { formatMoney } from '../../src/domain/money.ts';
import type { Lang } from '../../src/i18n/index.ts';
import { MESSAGES, type MessageKey } from './messages.ts';

export type { Lang };

const LangContext = createContext<Lang>('fr');

export function LangProvider({ lang, children }: { lang: Lang; children: ReactNode }) {
  return <LangContext.Provider value={lang}>{children}</LangContext.Provider>;
}

export function useLang(): Lang {
  return useContext(LangContext);
}

export function translate(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const entry = MESSAGES[key];
  const text = entry ? entry[lang] : key;
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function useT() {
  const lang = useLang();
  return (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars);
}

/** Does a message key exist (for codes coming from the server: channels, statuses, reasons). */
export function hasKey(k: string): k is MessageKey {
  return k in MESSAGES;
}

export function money(minor: string | bigint | null | undefined, currency: string, lang: Lang): string {
  if (minor === null || minor === undefined || minor === '') return '—';
  return formatMoney(typeof minor === 'bigint' ? minor : BigInt(minor), currency, lang);
}

/** "22/11/2026" in both languages (day first); ISO "YYYY-MM-DD" in, no Date involved. */
export function date(iso: string | null | undefined, _lang: Lang): string {
  if (!iso) return '—';
  const d = iso.slice(0, 10);
  return `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;
}

/** An instant (timestamptz) shown in the browser's time zone, day first. */
export function dateTime(iso: string | null | undefined, lang: Lang): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' }).format(d);
}

/** A plain number with the locale's separators ("1 234" / "1,234"), one decimal when asked. */
export function num(n: number | string | null | undefined, lang: Lang, decimals = 0): string {
  if (n === null || n === undefined || n === '') return '—';
  const v = typeof n === 'string' ? Number(n) : n;
  if (!Number.isFinite(v)) return '—';
  return new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(v);
}

export function pct(n: number | string | null | undefined, lang: Lang, decimals = 1): string {
  if (n === null || n === undefined || n === '') return '—';
  return `${num(n, lang, decimals)}${lang === 'fr' ? '\u202f%' : '%'}`;
}

/**
 * A step's place relative to the due date: "J", "J+8", "J-5" in French (the credit controller's
 * shorthand), "due day", "day +8", "day −5" in English.
 */
export function stepLabel(offset: number, lang: Lang): string {
  if (lang === 'fr') return offset === 0 ? 'J' : `J${offset > 0 ? '+' : ''}${offset}`;
  return offset === 0 ? 'due day' : `day ${offset > 0 ? '+' : '−'}${Math.abs(offset)}`;
}
