/**
 * Every text a user reads is a message key with a French and an English text. Each area keeps its
 * messages next to its code (`defineMessages`), and `t` fills {placeholders}.
 */
export type Lang = 'fr' | 'en';
export const LANGS: readonly Lang[] = ['fr', 'en'];

export type MessageTable = Record<string, { fr: string; en: string }>;

export function defineMessages<T extends MessageTable>(m: T): T {
  return m;
}

export function t<T extends MessageTable>(table: T, lang: Lang, key: keyof T & string, vars: Record<string, string | number> = {}): string {
  const entry = table[key];
  if (!entry) throw new Error(`missing message key ${key}`);
  return entry[lang].replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}
