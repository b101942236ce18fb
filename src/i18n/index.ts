/**
 * Every text a user reads is a message key with a French and an English text. Each area keeps its
 * messages next to its code (`defineMessages`), and `t` fills {placeholders}. Error texts are
 * defined the same way with `defineErrors`, which names the area (the key's prefix) and returns a
 * function making a `Text` (key, both texts and the variables) that a RelanceError carries.
 */
export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];

export type MessageTable = Record<string, { fr: string; en: string }>;

/** Values put in {placeholders}: numbers, strings, bigints (minor units), or a nested text. */
export type Vars = Record<string, string | number | bigint | Text>;

/** A text to show in either language: its key, both texts and what fills them. */
export interface Text {
  key: string;
  fr: string;
  en: string;
  vars: Vars;
}

export function defineMessages<T extends MessageTable>(m: T): T {
  return m;
}

/** Replaces {name} by vars.name (a nested Text is rendered in the same language). */
export function fill(s: string, vars: Vars, lang: Lang = 'en'): string {
  return s.replace(/\{(\w+)\}/g, (_, k: string) => {
    if (!(k in vars)) return `{${k}}`;
    const v = vars[k]!;
    return typeof v === 'object' ? renderText(v, lang) : String(v);
  });
}

export function t<T extends MessageTable>(table: T, lang: Lang, key: keyof T & string, vars: Vars = {}): string {
  const entry = table[key];
  if (!entry) throw new Error(`missing message key ${key}`);
  return fill(entry[lang], vars, lang);
}

export function renderText(text: Text, lang: Lang): string {
  return fill(text[lang], text.vars, lang);
}

/** Every table given to `defineErrors`, by area: the unit test checks them all. */
export const ERROR_TABLES = new Map<string, MessageTable>();

/**
 * An area's error texts: `const E = defineErrors('ledger', {...})`, then
 * `throw validation(E('amount_positive', { n }), { field: 'amount' })`.
 */
export function defineErrors<T extends MessageTable>(area: string, table: T): (key: keyof T & string, vars?: Vars) => Text {
  ERROR_TABLES.set(area, table);
  return (key, vars = {}) => {
    const entry = table[key];
    if (!entry) throw new Error(`missing message key ${area}.${key}`);
    return { key: `${area}.${key}`, fr: entry.fr, en: entry.en, vars };
  };
}

/** The language of a locale string: "fr", "fr_FR.UTF-8", "fr-FR,fr;q=0.9" → fr; anything else → en. */
export function langOf(locale: string | null | undefined): Lang | undefined {
  if (!locale) return undefined;
  const l = locale.trim().toLowerCase();
  if (l === '') return undefined;
  return /^fr(?:[-_.@,;]|$)/.test(l) ? 'fr' : 'en';
}
