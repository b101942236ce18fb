/**
 * Documents keep their recipient's language (an English customer's subject in the French outbox), so
 * the English words checked in the French interface are the stored codes, not everyday words.
 *
 * What a raw code looks like in a page's visible text: a snake_case identifier ("manual_task"), a
 * message key or a dotted code ("template.instalment"), JSON, a word repeated as a label and its code
 * ("Cancelled Cancelled"), and in the French interface the English code words statuses and reasons
 * are stored as ("superseded", "paused"). Addresses and links are removed first: they are data.
 */
const ENGLISH_CODES = [
  'awaiting', 'cancelled', 'completed', 'exported', 'failed', 'kept', 'paid', 'partially', 'planned', 'queued', 'sending', 'uncertain',
  'superseded', 'paused', 'pending', 'scheduled', 'skipped', 'matched', 'unmatched', 'ignored', 'rejected', 'weekends', 'handover',
  'instalment', 'overdue', 'broken', 'draft', 'true', 'false', 'null', 'undefined',
];

export function rawCodesIn(text: string, lang: 'fr' | 'en'): string[] {
  const clean = text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, ' ')
    // File names the user gave ("releve.xml") and domain names are data, not codes.
    .replace(/\b[\w-]+\.(csv|xml|xlsx|pdf|eml|txt|json|ofx|sta|mt940|fr|com|eu|org|net|test|example|local)\b/gi, ' ')
    // A template's own variables are what its editor shows.
    .replace(/\{\{[^}]*\}\}|\{%[^%]*%\}/g, ' ');
  const found = new Set<string>();
  // Each finding with the words around it, so a failure says where it is.
  const add = (m: RegExpMatchArray, what = m[0]) => found.add(`${what} in “${clean.slice(Math.max(0, m.index! - 30), m.index! + m[0].length + 30).replace(/\s+/g, ' ')}”`);
  for (const m of clean.matchAll(/\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g)) add(m);
  for (const m of clean.matchAll(/\b[a-z]+\.[a-z][a-zA-Z_]{3,}\b/g)) add(m);
  for (const m of clean.matchAll(/\{\s*"[^"]+"\s*:/g)) add(m);
  for (const m of clean.matchAll(/\b([A-Z][a-zé]+) \1\b/g)) add(m);
  for (const m of clean.matchAll(/\bNaN\b|\bundefined\b|\[object Object\]|Invalid Date/g)) add(m);
  if (lang === 'fr') {
    const words = new RegExp(`(^|[^\\p{L}])(${ENGLISH_CODES.join('|')})(?=$|[^\\p{L}])`, 'giu');
    for (const m of clean.matchAll(words)) {
      add(m, m[2]!);
    }
  }
  return [...found];
}
