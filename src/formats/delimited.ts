/**
 * The one record splitter of delimited text: the CSV, FEC and payment imports (streamed through
 * src/imports/source.ts) and bank statements exported as CSV (src/formats/bank/csv.ts, whole text).
 * Splits decoded text into records the way csv-parse reads it with the options the imports used
 * (`relax_column_count`, `relax_quotes`, `skip_empty_lines`, record delimiter discovered from the
 * first line break: \r\n, \n or \r), about five times faster: a record without a quote is one
 * indexOf and one split; only records with a quote go character by character. Text is pushed
 * chunk by chunk; a record cut by the end of a chunk waits for the next one.
 *
 * - A field that starts with a quote is quoted: separators and line breaks inside are data, "" is
 *   one quote; a closing quote followed by something else than a separator, a line break or the
 *   end keeps both quotes and the field goes on unquoted (csv-parse's relax_quotes). A quote inside
 *   an unquoted field is a character. `quoted: false` (FEC) makes every quote a character.
 * - Lines are counted as csv-parse counts them (`info.lines`): each record carries the line where
 *   it ends; the record delimiter counts one line, any other \r or \n character one each.
 * - A quote still open at the end of the text is an error naming the line where the field began.
 */
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('imports-delimited', {
  unclosed_quote: { fr: 'un guillemet ouvert à la ligne {line} n’est jamais refermé', en: 'a quote opened at line {line} is never closed' },
  field_too_long: {
    fr: 'ligne {line}, colonne {column} : un champ de {length} caractères, au-delà des {max} admis (un guillemet mal fermé ?)',
    en: 'line {line}, column {column}: a field of {length} characters, beyond the {max} accepted (a quote not closed?)',
  },
});

/**
 * No field of an accounting or bank export comes near this; a longer one is a broken quote or an
 * attack, refused by line and column before anything is written. A record still open past
 * MAX_RECORD_CHARS is refused while it is read, so memory and rescanning stay bounded.
 */
export const MAX_FIELD_CHARS = 100_000;
export const MAX_RECORD_CHARS = 1_000_000;

export interface DelimitedRecord {
  line: number;
  fields: string[];
}

const QUOTE = 34; // "
const CR = 13;
const NL = 10;

export class RecordSplitter {
  private carry = '';
  /** Line breaks before the start of `carry` (csv-parse's info.lines - 1 there). */
  private breaks = 0;
  private delimiter: '\r\n' | '\n' | '\r' | null = null;

  /** `firstLine`: the file's line number of the text's first line (a bank CSV's header row). */
  constructor(
    readonly separator: string,
    readonly quoted: boolean,
    readonly file?: string,
    firstLine = 1,
  ) {
    this.breaks = firstLine - 1;
  }

  /** Adds text; appends the records it completes to `out`. */
  push(text: string, out: DelimitedRecord[]): void {
    this.run(this.carry ? this.carry + text : text, false, out);
  }

  /** The end of the text: the last record, even without a line break after it. */
  end(out: DelimitedRecord[]): void {
    if (this.carry) this.run(this.carry, true, out);
    this.carry = '';
  }

  private run(s: string, final: boolean, out: DelimitedRecord[]): void {
    const n = s.length;
    const sep = this.separator;
    let pos = 0;
    let breaks = this.breaks;
    // Where the next quote is (-1: none left in this text), found once, not once per record.
    let nextQuote = this.quoted ? s.indexOf('"') : -1;
    while (pos < n) {
      if (this.delimiter === null && !this.discover(s, pos, final)) break;
      const rd = this.delimiter;
      const eol = rd === null ? -1 : s.indexOf(rd, pos);
      if (eol < 0 && !final) break; // the line goes on in the next chunk
      const lineEnd = eol < 0 ? n : eol;
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = s.indexOf('"', pos);
      if (nextQuote === -1 || nextQuote >= lineEnd) {
        // No quote on this line: one split.
        if (lineEnd > pos) {
          const text = s.slice(pos, lineEnd);
          breaks += strayBreaks(text);
          // csv-parse counts a line break when the next character is read: not a last one.
          const rec = { line: breaks + 1 - (eol < 0 && endsWithBreak(text) ? 1 : 0), fields: text.split(sep) };
          if (text.length > MAX_FIELD_CHARS) this.checkFields(rec);
          out.push(rec);
        }
        if (eol < 0) {
          pos = n;
          break;
        }
        breaks++;
        pos = eol + rd!.length;
        continue;
      }
      const r = this.slow(s, pos, final, breaks);
      if (r === null) break; // the record goes on in the next chunk
      breaks = r.breaks;
      if (r.fields) {
        const rec = { line: r.line, fields: r.fields };
        if (r.next - pos > MAX_FIELD_CHARS) this.checkFields(rec);
        out.push(rec);
      }
      pos = r.next;
    }
    this.carry = pos < n && !final ? s.slice(pos) : '';
    this.breaks = breaks;
    if (this.carry.length > MAX_RECORD_CHARS) {
      // The record has no end in sight: its longest field names the column.
      const parts = this.carry.split(sep);
      let column = 1;
      for (let k = 1; k < parts.length; k++) if (parts[k]!.length > parts[column - 1]!.length) column = k + 1;
      this.tooLong(breaks + 1, column, parts[column - 1]!.length);
    }
  }

  private checkFields(rec: DelimitedRecord) {
    const k = rec.fields.findIndex((f) => f.length > MAX_FIELD_CHARS);
    if (k >= 0) this.tooLong(rec.line, k + 1, rec.fields[k]!.length);
  }

  private tooLong(line: number, column: number, length: number): never {
    throw new RelanceError(ERROR_CODES.PARSE, E('field_too_long', { line, column, length, max: MAX_FIELD_CHARS }), { where: { file: this.file, line, field: `column ${column}` } });
  }

  /** Finds the record delimiter at the first line break outside quotes. False: need more text. */
  private discover(s: string, pos: number, final: boolean): boolean {
    let inQuote = false;
    let fieldStart = true;
    for (let i = pos; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (inQuote) {
        if (c === QUOTE) {
          if (s.charCodeAt(i + 1) === QUOTE) i++;
          else inQuote = false;
        }
        continue;
      }
      if (c === CR) {
        if (i + 1 >= s.length && !final) return false;
        this.delimiter = s.charCodeAt(i + 1) === NL ? '\r\n' : '\r';
        return true;
      }
      if (c === NL) {
        this.delimiter = '\n';
        return true;
      }
      if (this.quoted && c === QUOTE && fieldStart) inQuote = true;
      fieldStart = s.startsWith(this.separator, i);
    }
    return final; // at the end, a file of one line without a break
  }

  /**
   * One record, character by character. Returns null when the text ends inside it (more to come),
   * else its fields (null for a skipped empty line), its line, and where the next record starts.
   */
  private slow(s: string, start: number, final: boolean, breaksBefore: number): { fields: string[] | null; line: number; next: number; breaks: number } | null {
    const n = s.length;
    const sep = this.separator;
    const rd = this.delimiter;
    const rdAt = (at: number): number => {
      if (rd === null) return 0;
      if (rd === '\r\n') return s.charCodeAt(at) === CR && s.charCodeAt(at + 1) === NL ? 2 : 0;
      return s.charCodeAt(at) === rd.charCodeAt(0) ? 1 : 0;
    };
    // A \r as the last character may be the first half of a \r\n delimiter.
    const undecided = (at: number) => rd === '\r\n' && !final && at === n - 1 && s.charCodeAt(at) === CR;
    const fields: string[] = [];
    let field = '';
    let quoting = false;
    let wasQuoting = false;
    let quoteLine = 0;
    let breaks = breaksBefore;
    let i = start;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (quoting) {
        if (c === QUOTE) {
          const next = i + 1;
          if (next >= n && !final) return null;
          if (next < n && s.charCodeAt(next) === QUOTE) {
            field += '"';
            i += 2;
            continue;
          }
          if (undecided(next)) return null;
          quoting = false;
          wasQuoting = true;
          // Not followed by a separator, a line break or the end: relax_quotes keeps the quotes.
          if (next < n && !s.startsWith(sep, next) && !rdAt(next)) field = `"${field}"`;
          i++;
          continue;
        }
        if (c === CR || c === NL) breaks++;
        field += s[i];
        i++;
        continue;
      }
      if (undecided(i)) return null;
      const rdl = rdAt(i);
      if (rdl) {
        if (fields.length === 0 && field.length === 0 && !wasQuoting) return { fields: null, line: breaks + 1, next: i + rdl, breaks: breaks + 1 };
        fields.push(field);
        return { fields, line: breaks + 1, next: i + rdl, breaks: breaks + 1 };
      }
      if (s.startsWith(sep, i)) {
        fields.push(field);
        field = '';
        wasQuoting = false;
        i += sep.length;
        continue;
      }
      if (c === QUOTE && this.quoted && field.length === 0) {
        quoting = true;
        quoteLine = breaks + 1;
        i++;
        continue;
      }
      if (c === CR || c === NL) breaks++;
      field += s[i];
      i++;
    }
    if (!final) return null;
    if (quoting) {
      throw new RelanceError(ERROR_CODES.PARSE, E('unclosed_quote', { line: quoteLine }), { where: { file: this.file, line: quoteLine } });
    }
    if (fields.length === 0 && field.length === 0 && !wasQuoting) return { fields: null, line: breaks + 1, next: n, breaks };
    fields.push(field);
    return { fields, line: breaks + 1 - (endsWithBreak(s) ? 1 : 0), next: n, breaks };
  }
}

/** A whole text at once (a bank statement is read in memory); lines counted from `firstLine`. */
export function splitRecords(text: string, separator: string, opts: { file?: string; firstLine?: number; quoted?: boolean } = {}): DelimitedRecord[] {
  const splitter = new RecordSplitter(separator, opts.quoted !== false, opts.file, opts.firstLine);
  const out: DelimitedRecord[] = [];
  splitter.push(text, out);
  splitter.end(out);
  return out;
}

function endsWithBreak(text: string): boolean {
  const c = text.charCodeAt(text.length - 1);
  return c === CR || c === NL;
}

/** \r or \n characters inside a line that are not its delimiter (csv-parse counts each as a line). */
function strayBreaks(text: string): number {
  let k = 0;
  if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === CR || c === NL) k++;
    }
  }
  return k;
}
