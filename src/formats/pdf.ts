/**
 * The one PDF object reader: objects (also inside compressed object streams), indirect
 * references, the trailer (classic or cross-reference stream) and FlateDecode streams inflated
 * with node:zlib, all within bounds a hostile file cannot get round. It reads by scanning for
 * "N G obj" rather than trusting the cross-reference table, so a file with a broken table or
 * incremental updates (the last definition of an object wins) is still read. The e-invoice
 * extractor (src/formats/einvoice/pdf.ts) looks for attachments with it; the letter merger
 * (src/delivery/pdf-merge.ts) copies objects with it and writes them back with writeValue.
 * It does not render or validate a PDF.
 */
import { inflateSync } from 'node:zlib';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('pdf-reader', {
  filter: { fr: "le filtre de flux PDF {filter} n’est pas pris en charge", en: "PDF stream filter {filter} is not supported" },
  not_pdf: { fr: "ce n’est pas un fichier PDF (pas d’en-tête %PDF-)", en: "not a PDF file (no %PDF- header)" },
  too_large: { fr: "le PDF fait {size} octets, au-delà des {max} admis", en: "the PDF is {size} bytes, beyond the {max} accepted" },
  inflate_limit: { fr: "un flux du PDF (objet {object}) se décompresse au-delà de {max} octets : refusé", en: "a stream of the PDF (object {object}) inflates beyond {max} bytes: refused" },
  inflate_total: { fr: "les flux du PDF se décompressent au-delà de {max} octets au total : refusé", en: "the PDF's streams inflate beyond {max} bytes in all: refused" },
  inflate_bad: { fr: "un flux du PDF (objet {object}) est illisible : {reason}", en: "a stream of the PDF (object {object}) cannot be read: {reason}" },
  too_complex: { fr: "le PDF est trop complexe à lire (plus de {max} éléments ou une imbrication au-delà de {depth} niveaux)", en: "the PDF is too complex to read (more than {max} elements or nesting deeper than {depth} levels)" },
});

/**
 * Bounds that keep a hostile or broken PDF from holding the server: the file's size, what its
 * streams may inflate to (one and all together), how deep its values nest, how many values the
 * reader looks at (linear in the file's size), how many name-tree nodes it visits.
 */
export const PDF_LIMITS = {
  maxBytes: 50 * 1024 * 1024,
  maxStreamBytes: 32 * 1024 * 1024,
  maxInflatedBytes: 64 * 1024 * 1024,
  maxDepth: 64,
  /** Values lexed per byte of the file (plus a floor): a budget, not a hard size. */
  valuesPerByte: 2,
  minValues: 1_000_000,
  maxTreeNodes: 10_000,
};

/** A bound of PDF_LIMITS reached: the reading stops (readPdf turns it into a clear refusal). */
export class PdfLimit extends Error {}

export type PdfValue = number | boolean | null | string | PdfName | PdfRef | PdfValue[] | PdfDict | PdfBytes;
export class PdfName {
  constructor(readonly name: string) {}
}
export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}
/** A PDF string, kept as bytes (decoded to text where a name is needed). */
export class PdfBytes {
  constructor(readonly bytes: Buffer) {}
}
export type PdfDict = Map<string, PdfValue>;

export interface PdfObject {
  value: PdfValue;
  /** Raw stream bytes, when the object is a stream. */
  stream?: Buffer;
}

/** \n \r \t \b \f in PDF literal strings. */
const ESCAPES = new Map([
  [0x6e, 0x0a],
  [0x72, 0x0d],
  [0x74, 0x09],
  [0x62, 0x08],
  [0x66, 0x0c],
]);
const WS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIM = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

/** The work a reading may do: shared by every lexer of one file. */
class Budget {
  values = 0;
  constructor(readonly maxValues: number) {}
  spend() {
    if (++this.values > this.maxValues) throw new PdfLimit('values');
  }
}

class Lexer {
  private depth = 0;
  constructor(
    readonly b: Buffer,
    public pos: number,
    readonly budget: Budget,
  ) {}
  skip() {
    const b = this.b;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (WS.has(c)) this.pos++;
      else if (c === 0x25) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }
  word(): string {
    const start = this.pos;
    while (this.pos < this.b.length && !WS.has(this.b[this.pos]!) && !DELIM.has(this.b[this.pos]!)) this.pos++;
    return this.b.toString('latin1', start, this.pos);
  }
  value(): PdfValue {
    this.budget.spend();
    this.skip();
    const b = this.b;
    const c = b[this.pos];
    if (c === undefined) throw new Error('unexpected end of PDF');
    if ((c === 0x3c && b[this.pos + 1] === 0x3c) || c === 0x5b) {
      if (this.depth >= PDF_LIMITS.maxDepth) throw new PdfLimit('depth');
      this.depth++;
      try {
        return this.container();
      } finally {
        this.depth--;
      }
    }
    return this.scalar();
  }
  private container(): PdfValue {
    const b = this.b;
    const c = b[this.pos];
    if (c === 0x3c && b[this.pos + 1] === 0x3c) {
      this.pos += 2;
      const d: PdfDict = new Map();
      for (;;) {
        this.skip();
        if (b[this.pos] === 0x3e && b[this.pos + 1] === 0x3e) {
          this.pos += 2;
          return d;
        }
        const k = this.value();
        if (!(k instanceof PdfName)) throw new Error('dictionary key is not a name');
        d.set(k.name, this.value());
      }
    }
    if (c === 0x5b) {
      this.pos++;
      const arr: PdfValue[] = [];
      for (;;) {
        this.skip();
        if (b[this.pos] === 0x5d) {
          this.pos++;
          return arr;
        }
        arr.push(this.value());
      }
    }
    throw new Error('not a container');
  }
  private scalar(): PdfValue {
    const b = this.b;
    const c = b[this.pos]!;
    if (c === 0x2f) {
      this.pos++;
      return new PdfName(this.word().replace(/#([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))));
    }
    if (c === 0x3c) {
      // A hex string runs to its ">"; one never closed is the end of a broken file, not a loop.
      const end = b.indexOf(0x3e, this.pos);
      if (end < 0) throw new Error('unterminated hex string');
      const hex = b.toString('latin1', this.pos + 1, end).replace(/\s/g, '');
      this.pos = end + 1;
      return new PdfBytes(Buffer.from(hex.length % 2 ? `${hex}0` : hex, 'hex'));
    }
    if (c === 0x28) return this.literal();
    const w = this.word();
    if (w === 'true') return true;
    if (w === 'false') return false;
    if (w === 'null') return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(w)) {
      // "N G R": an indirect reference.
      const save = this.pos;
      if (/^\d+$/.test(w)) {
        this.skip();
        const g = this.word();
        if (/^\d+$/.test(g)) {
          this.skip();
          if (b[this.pos] === 0x52 && (this.pos + 1 >= b.length || WS.has(b[this.pos + 1]!) || DELIM.has(b[this.pos + 1]!))) {
            this.pos++;
            return new PdfRef(Number(w), Number(g));
          }
        }
        this.pos = save;
      }
      return Number(w);
    }
    if (w === '') {
      this.pos++;
      return null;
    }
    return w;
  }
  literal(): PdfBytes {
    const b = this.b;
    this.pos++;
    const out: number[] = [];
    let depth = 1;
    while (this.pos < b.length) {
      const c = b[this.pos++]!;
      if (c === 0x5c) {
        const n = b[this.pos++]!;
        const esc = ESCAPES.get(n);
        if (esc !== undefined) out.push(esc);
        else if (n >= 0x30 && n <= 0x37) {
          let oct = n - 0x30;
          for (let k = 0; k < 2 && b[this.pos]! >= 0x30 && b[this.pos]! <= 0x37; k++) oct = oct * 8 + (b[this.pos++]! - 0x30);
          out.push(oct & 0xff);
        } else if (n === 0x0d) {
          if (b[this.pos] === 0x0a) this.pos++;
        } else if (n !== 0x0a) out.push(n);
      } else if (c === 0x28) {
        depth++;
        out.push(c);
      } else if (c === 0x29) {
        if (--depth === 0) break;
        out.push(c);
      } else out.push(c);
    }
    return new PdfBytes(Buffer.from(out));
  }
}

export function pdfText(v: PdfValue | undefined): string | null {
  if (!(v instanceof PdfBytes)) return null;
  const b = v.bytes;
  if (b[0] === 0xfe && b[1] === 0xff) return b.subarray(2).swap16().toString('utf16le');
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
  return b.toString('latin1');
}

/** A damaged value is skipped; a limit reached ends the reading. */
const skipDamaged = (e: unknown) => {
  if (e instanceof PdfLimit || e instanceof RelanceError) throw e;
};

export class PdfFile {
  readonly objects = new Map<number, PdfObject>();
  trailer: PdfDict = new Map();
  readonly budget: Budget;
  private inflated = 0;

  constructor(readonly b: Buffer) {
    this.budget = new Budget(Math.max(PDF_LIMITS.minValues, PDF_LIMITS.valuesPerByte * b.length));
    const text = b.toString('latin1');
    const re = /(?:^|[\s>])(\d+)\s+(\d+)\s+obj\b/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const num = Number(m[1]);
      const lex = new Lexer(b, m.index + m[0].length, this.budget);
      try {
        const value = lex.value();
        lex.skip();
        let stream: Buffer | undefined;
        if (text.startsWith('stream', lex.pos)) {
          let start = lex.pos + 6;
          if (b[start] === 0x0d) start++;
          if (b[start] === 0x0a) start++;
          const declared = value instanceof Map ? value.get('Length') : undefined;
          const end = typeof declared === 'number' ? start + declared : text.indexOf('endstream', start);
          // An indirect /Length is resolved later; the endstream search is the fallback.
          stream = b.subarray(start, end < 0 ? b.length : end);
          if (typeof declared !== 'number') stream = trimEol(stream);
          re.lastIndex = Math.max(re.lastIndex, end);
        }
        this.objects.set(num, { value, stream });
      } catch (e) {
        // A damaged object that is not an attachment does not matter here.
        skipDamaged(e);
      }
    }
    for (let i = text.lastIndexOf('trailer'); i >= 0; i = text.lastIndexOf('trailer', i - 1)) {
      try {
        const v = new Lexer(b, i + 7, this.budget).value();
        if (v instanceof Map) {
          this.trailer = v;
          break;
        }
      } catch (e) {
        skipDamaged(e); // try an earlier trailer
      }
    }
    // Cross-reference streams (PDF 1.5+) hold the trailer entries in their own dictionary.
    for (const o of this.objects.values()) {
      if (o.value instanceof Map && name(o.value.get('Type')) === 'XRef' && !this.trailer.has('Root')) this.trailer = o.value;
      if (o.value instanceof Map && name(o.value.get('Type')) === 'ObjStm') this.unpackObjectStream(o);
    }
  }

  private unpackObjectStream(o: PdfObject) {
    const d = o.value as PdfDict;
    let data: Buffer;
    try {
      data = this.streamData(o);
    } catch (e) {
      skipDamaged(e);
      return;
    }
    const first = Number(d.get('First'));
    if (!Number.isInteger(first) || first < 0 || first > data.length) return;
    const head = data.toString('latin1', 0, first).trim().split(/\s+/).map(Number);
    // N is the stream's own claim: never more objects than its header lists.
    const n = Math.min(Number(d.get('N')) || 0, Math.floor(head.length / 2));
    for (let i = 0; i < n; i++) {
      const num = head[2 * i]!;
      if (this.objects.has(num)) continue;
      try {
        this.objects.set(num, { value: new Lexer(data, first + head[2 * i + 1]!, this.budget).value() });
      } catch (e) {
        skipDamaged(e);
      }
    }
  }

  resolve(v: PdfValue | undefined): PdfValue | undefined {
    for (let k = 0; v instanceof PdfRef && k < 32; k++) v = this.objects.get(v.num)?.value;
    return v;
  }

  objectOf(v: PdfValue | undefined): PdfObject | undefined {
    return v instanceof PdfRef ? this.objects.get(v.num) : undefined;
  }

  /** A stream's bytes as stored (still encoded), cut at its /Length when that is known. */
  rawStream(o: PdfObject): Buffer {
    const raw = o.stream ?? Buffer.alloc(0);
    const len = this.resolve(o.value instanceof Map ? o.value.get('Length') : undefined);
    return typeof len === 'number' && len >= 0 && len <= raw.length ? raw.subarray(0, len) : raw;
  }

  /** A stream's bytes decoded (FlateDecode only), within the inflate limits. */
  streamData(o: PdfObject, object = '?'): Buffer {
    const d = o.value instanceof Map ? o.value : new Map<string, PdfValue>();
    let raw = this.rawStream(o);
    const filters = this.resolve(d.get('Filter'));
    const list = Array.isArray(filters) ? filters.map((f) => name(this.resolve(f))) : filters ? [name(filters)] : [];
    for (const f of list) {
      if (f === 'FlateDecode') raw = this.inflate(raw, object);
      else throw new RelanceError(ERROR_CODES.PARSE, E('filter', { filter: String(f) }), { where: { path: 'EmbeddedFile' } });
    }
    return raw;
  }

  /** FlateDecode within the limits: one stream, and all the file's streams together. */
  private inflate(raw: Buffer, object: string): Buffer {
    const room = Math.min(PDF_LIMITS.maxStreamBytes, PDF_LIMITS.maxInflatedBytes - this.inflated);
    let out: Buffer;
    try {
      out = inflateSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH: tolerate a missing end */, maxOutputLength: Math.max(room, 1) });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
        if (room < PDF_LIMITS.maxStreamBytes) throw new RelanceError(ERROR_CODES.PARSE, E('inflate_total', { max: PDF_LIMITS.maxInflatedBytes }), { where: { path: `obj ${object}` } });
        throw new RelanceError(ERROR_CODES.PARSE, E('inflate_limit', { object, max: PDF_LIMITS.maxStreamBytes }), { where: { path: `obj ${object}` } });
      }
      throw new RelanceError(ERROR_CODES.PARSE, E('inflate_bad', { object, reason: (e as Error).message }), { where: { path: `obj ${object}` } });
    }
    this.inflated += out.length;
    return out;
  }
}

function trimEol(b: Buffer): Buffer {
  let end = b.length;
  if (b[end - 1] === 0x0a) end--;
  if (b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}

export const name = (v: PdfValue | undefined) => (v instanceof PdfName ? v.name : undefined);


/**
 * Reads a PDF's objects within PDF_LIMITS; `then` works on the file read (walks its trees), and a
 * limit reached there is refused the same way as one reached while reading.
 */
export function readPdf<T>(pdf: Buffer, then: (f: PdfFile) => T): T {
  if (pdf.toString('latin1', 0, 5) !== '%PDF-') throw new RelanceError(ERROR_CODES.PARSE, E('not_pdf'));
  if (pdf.length > PDF_LIMITS.maxBytes) throw new RelanceError(ERROR_CODES.PARSE, E('too_large', { size: pdf.length, max: PDF_LIMITS.maxBytes }));
  try {
    return then(new PdfFile(pdf));
  } catch (e) {
    if (e instanceof PdfLimit || e instanceof RangeError) {
      throw new RelanceError(ERROR_CODES.PARSE, E('too_complex', { max: Math.max(PDF_LIMITS.minValues, PDF_LIMITS.valuesPerByte * pdf.length), depth: PDF_LIMITS.maxDepth }));
    }
    throw e;
  }
}

/** A name written back: the characters a name cannot hold as they are go as #xx. */
function writeName(n: string): string {
  let out = '/';
  for (const ch of Buffer.from(n, 'latin1')) {
    out += ch > 0x20 && ch < 0x7f && ch !== 0x23 && !DELIM.has(ch) ? String.fromCharCode(ch) : `#${ch.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A real number without an exponent (PDF has none), to the precision the file can hold. */
function writeNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}

/**
 * A value written back as PDF syntax, its indirect references renumbered by `renumber` (the
 * merger shifts each file's objects past the previous file's). Strings are written in hex: the
 * same bytes, no escaping to get wrong.
 */
export function writeValue(v: PdfValue, renumber: (num: number) => number = (n) => n): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return writeNumber(v);
  if (typeof v === 'string') return v;
  if (v instanceof PdfName) return writeName(v.name);
  if (v instanceof PdfRef) return `${renumber(v.num)} ${v.gen} R`;
  if (v instanceof PdfBytes) return `<${v.bytes.toString('hex')}>`;
  if (Array.isArray(v)) return `[${v.map((x) => writeValue(x, renumber)).join(' ')}]`;
  let out = '<<';
  for (const [k, x] of v) out += `\n${writeName(k)} ${writeValue(x, renumber)}`;
  return `${out}\n>>`;
}
