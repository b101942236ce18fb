/**
 * What a delimited text file is before it can be parsed: its encoding (UTF-8 with or without BOM,
 * else Windows-1252 / ISO 8859-15, the encodings French accounting exports use) and its separator
 * (the one of `,` `;` TAB `|` that splits the header line into the most fields).
 */
import { validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('csv', {
  utf16: { fr: "les fichiers UTF-16 ne sont pas pris en charge : enregistrez le fichier en UTF-8", en: "UTF-16 files are not supported: save the file as UTF-8" },
  encoding: { fr: "encodage inconnu « {encoding} » (utf-8, windows-1252 ou iso-8859-15)", en: "unknown encoding \"{encoding}\" (use utf-8, windows-1252 or iso-8859-15)" },
  separator: { fr: "impossible de déterminer le séparateur : la ligne d’en-tête n’a qu’une colonne (, ; TAB ou | attendu)", en: "cannot tell the separator: the header line has a single column (expected , ; TAB or |)" },
});

export type TextEncoding = 'utf-8' | 'windows-1252' | 'iso-8859-15';
export type Separator = ',' | ';' | '\t' | '|';

export const SEPARATORS: readonly Separator[] = [',', ';', '\t', '|'];

export interface Sniffed {
  encoding: TextEncoding;
  /** Bytes to skip at the start (a byte-order mark). */
  bomLength: number;
}

/**
 * Decides the encoding from the first bytes. A file that is valid UTF-8 in its first 64 KiB is
 * taken as UTF-8 (a Windows-1252 file with accents almost never is); otherwise Windows-1252, a
 * superset of ISO 8859-1 that also decodes ISO 8859-15 text except for its 8 changed letters.
 */
export function sniffEncoding(head: Uint8Array, declared?: string, eightBit: TextEncoding = 'windows-1252'): Sniffed {
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  if (declared) return { encoding: normaliseEncoding(declared), bomLength: bom };
  if (bom) return { encoding: 'utf-8', bomLength: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) throw validation(E('utf16'), { field: 'encoding' });
  return { encoding: isUtf8Prefix(head) ? 'utf-8' : eightBit, bomLength: 0 };
}

export function normaliseEncoding(e: string): TextEncoding {
  const s = e.toLowerCase().replace(/[_\s]/g, '-');
  if (s === 'utf8' || s === 'utf-8') return 'utf-8';
  if (['windows-1252', 'cp1252', 'win1252', 'latin1', 'iso-8859-1', 'latin-1'].includes(s)) return 'windows-1252';
  if (['iso-8859-15', 'latin9', 'latin-9', 'iso8859-15'].includes(s)) return 'iso-8859-15';
  throw validation(E('encoding', { encoding: e }), { field: 'encoding' });
}

/** Valid UTF-8, allowing a multi-byte sequence cut at the end of the sample. */
function isUtf8Prefix(b: Uint8Array): boolean {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) need = 2;
    else if (c >= 0xf0 && c <= 0xf4) need = 3;
    else return false;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return true;
      if ((b[i + k]! & 0xc0) !== 0x80) return false;
    }
    i += need + 1;
  }
  return true;
}

/** The separator that splits the header line into the most fields (quoted parts ignored). */
export function sniffSeparator(headerLine: string, candidates: readonly Separator[] = SEPARATORS): Separator {
  let best: Separator = candidates[0]!;
  let bestCount = -1;
  for (const sep of candidates) {
    let count = 0;
    let quoted = false;
    for (const ch of headerLine) {
      if (ch === '"') quoted = !quoted;
      else if (!quoted && ch === sep) count++;
    }
    if (count > bestCount) {
      best = sep;
      bestCount = count;
    }
  }
  if (bestCount <= 0) throw validation(E('separator'), { line: 1 });
  return best;
}

/** "N° facture" -> "nfacture", "Date d'échéance" -> "datedecheance": how headers are compared. */
export function headerKey(h: string): string {
  return h
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}
