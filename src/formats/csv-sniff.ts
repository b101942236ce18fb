/**
 * What a delimited text file is before it can be parsed: its encoding (UTF-8 with or without BOM,
 * else Windows-1252 / ISO 8859-15, the encodings French accounting exports use) and its separator
 * (the one of `,` `;` TAB `|` that splits the header line into the most fields).
 */
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('csv', {
  utf16: { fr: "les fichiers UTF-16 ne sont pas pris en charge : enregistrez le fichier en UTF-8", en: "UTF-16 files are not supported: save the file as UTF-8" },
  encoding: { fr: "encodage inconnu « {encoding} » (utf-8, windows-1252 ou iso-8859-15)", en: "unknown encoding \"{encoding}\" (use utf-8, windows-1252 or iso-8859-15)" },
  separator: { fr: "impossible de déterminer le séparateur : la ligne d’en-tête n’a qu’une colonne (, ; TAB ou | attendu)", en: "cannot tell the separator: the header line has a single column (expected , ; TAB or |)" },
  bad_utf8: {
    fr: "le fichier est en UTF-8 mais l’octet 0x{byte} (ligne {line}, colonne {column}) n’est pas de l’UTF-8 valide : enregistrez-le de nouveau en UTF-8, ou indiquez son encodage s’il n’est pas en UTF-8 (--encoding windows-1252)",
    en: "the file is UTF-8 but byte 0x{byte} (line {line}, column {column}) is not valid UTF-8: save it again as UTF-8, or give its encoding if it is not UTF-8 (--encoding windows-1252)",
  },
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
export function sniffEncoding(head: Uint8Array, declared?: string, eightBit: TextEncoding = 'windows-1252', file?: string): Sniffed {
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  if (declared) return { encoding: normaliseEncoding(declared), bomLength: bom };
  if (head[0] === 0xff && head[1] === 0xfe) throw validation(E('utf16'), { field: 'encoding' });
  const u = utf8Census(head, true);
  if (u.firstInvalid < 0) return { encoding: 'utf-8', bomLength: bom };
  // Not valid UTF-8. A file with a byte-order mark, or whose accented letters are mostly valid
  // UTF-8 sequences, is UTF-8 with a damaged byte: refused by place, never read as Windows-1252
  // (every other accent would turn into two wrong characters). A file with no valid sequence is an
  // 8-bit export. Between the two, the majority decides.
  if (bom || u.valid >= u.invalid) throw badUtf8(head, u.firstInvalid, file);
  return { encoding: eightBit, bomLength: 0 };
}

/** The refusal naming the damaged byte of a UTF-8 text by line and column. */
export function badUtf8(bytes: Uint8Array, at: number, file?: string, firstLine = 1) {
  let line = firstLine;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  // The column in characters: continuation bytes of the line's earlier letters do not count.
  let column = 1;
  for (let i = lineStart; i < at; i++) if ((bytes[i]! & 0xc0) !== 0x80) column++;
  const byte = bytes[at]!.toString(16).toUpperCase().padStart(2, '0');
  return new RelanceError(ERROR_CODES.PARSE, E('bad_utf8', { byte, line, column }), { where: { file, line } });
}

/**
 * Decodes a whole text file by the same rule as the streamed imports: a BOM or valid UTF-8 is
 * UTF-8; UTF-8 with damaged bytes is refused with the place; otherwise the 8-bit encoding given
 * (a declared charset, or the format's usual one).
 */
export function decodeText(bytes: Uint8Array, opts: { eightBit?: 'windows-1252' | 'latin1'; file?: string } = {}): string {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const u = utf8Census(bytes, false);
  if (u.firstInvalid < 0) return Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString('utf8');
  if (bom || u.valid >= u.invalid) throw badUtf8(bytes, u.firstInvalid, opts.file);
  return new TextDecoder(opts.eightBit === 'latin1' ? 'iso-8859-1' : 'windows-1252').decode(bytes);
}

/**
 * Counts the valid multi-byte UTF-8 sequences and the invalid bytes of a text, and where the first
 * invalid one is (-1: none). `prefix`: a sequence cut by the end of the sample is not invalid.
 */
export function utf8Census(b: Uint8Array, prefix: boolean): { valid: number; invalid: number; firstInvalid: number } {
  let valid = 0;
  let invalid = 0;
  let firstInvalid = -1;
  let i = 0;
  const n = b.length;
  outer: while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) need = 2;
    else if (c >= 0xf0 && c <= 0xf4) need = 3;
    else need = -1;
    if (need > 0) {
      let ok = true;
      for (let k = 1; k <= need; k++) {
        if (i + k >= n) {
          if (prefix) break outer;
          ok = false;
          break;
        }
        if ((b[i + k]! & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
      }
      if (ok) {
        valid++;
        i += need + 1;
        continue;
      }
    }
    invalid++;
    if (firstInvalid < 0) firstInvalid = i;
    i++;
  }
  return { valid, invalid, firstInvalid };
}

export function normaliseEncoding(e: string): TextEncoding {
  const s = e.toLowerCase().replace(/[_\s]/g, '-');
  if (s === 'utf8' || s === 'utf-8') return 'utf-8';
  if (['windows-1252', 'cp1252', 'win1252', 'latin1', 'iso-8859-1', 'latin-1'].includes(s)) return 'windows-1252';
  if (['iso-8859-15', 'latin9', 'latin-9', 'iso8859-15'].includes(s)) return 'iso-8859-15';
  throw validation(E('encoding', { encoding: e }), { field: 'encoding' });
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

/**
 * The separator of a file whose header may not come first (bank exports print account details
 * above it): the one that splits the first lines into the same number (> 1) of columns, `,` when
 * none does.
 */
export function separatorOfLines(lines: string[]): Separator {
  let best: Separator = ',';
  let bestScore = 0;
  for (const d of [';', '\t', ',', '|'] as const) {
    const counts = lines.map((l) => countOutsideQuotes(l, d));
    const first = counts[0] ?? 0;
    if (first === 0) continue;
    const consistent = counts.filter((c) => c === first).length;
    const score = consistent * 100 + first;
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let q = false;
  for (const ch of line) {
    if (ch === '"') q = !q;
    else if (ch === d && !q) n++;
  }
  return n;
}

/** "N° facture" -> "nfacture", "Date d'échéance" -> "datedecheance": how headers are compared. */
export function headerKey(h: string): string {
  return h
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}
