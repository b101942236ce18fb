/**
 * Concatenates PDFs into one, for print batches and evidence files. No installed package merges
 * PDFs (pdfkit only writes), so this is a deliberately small merger for the files Relance itself
 * produces (pdfkit: classic cross-reference table, no object streams, no incremental updates):
 * every object of every file is copied with its number shifted, each file's page tree becomes a
 * child of one new page tree, and a new catalog and cross-reference table are written. Stream
 * data is copied byte for byte, so the pages are exactly the letters that were stored as proof.
 * A file it cannot read (object streams, xref streams) is refused with a clear error.
 */
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('delivery-pdf-merge', {
  cannot_merge: { fr: 'impossible d’assembler {file} : {reason}', en: 'cannot merge {file}: {reason}' },
  nothing_to_merge: { fr: 'aucun fichier à assembler', en: 'nothing to merge' },
});

/** A PDF read once (parsePdf): its objects, catalog, page tree and page count. */
export interface ParsedPdf {
  name: string;
  objects: Map<number, Buffer>;
  root: number;
  pagesRoot: number;
  pageCount: number;
  version: string;
}

const latin1 = (b: Buffer) => b.toString('latin1');

function refuse(message: string, file: string): never {
  throw new RelanceError(ERROR_CODES.PARSE, E('cannot_merge', { file, reason: message }), { where: { file } });
}

/** Reads a PDF this module can merge (see above); refuses the others with a clear error. */
export function parsePdf(pdf: Buffer, file: string): ParsedPdf {
  const head = latin1(pdf.subarray(0, 16));
  const version = /^%PDF-(\d\.\d)/.exec(head)?.[1] ?? refuse('not a PDF file', file);
  const tail = latin1(pdf.subarray(Math.max(0, pdf.length - 2048)));
  const sx = /startxref\s+(\d+)\s+%%EOF\s*$/.exec(tail) ?? refuse('no startxref at the end', file);
  const xrefAt = Number(sx[1]);
  const fromXref = latin1(pdf.subarray(xrefAt, Math.min(pdf.length, xrefAt + 20 * 1024 * 1024)));
  if (!fromXref.startsWith('xref')) refuse('cross-reference streams are not supported', file);
  const offsets = new Map<number, number>();
  const re = /(\d+) (\d+)\s*\r?\n|(\d{10}) (\d{5}) ([nf])\s*\r?\n?|trailer/y;
  re.lastIndex = 4;
  let next = 0;
  for (;;) {
    while (/\s/.test(fromXref[re.lastIndex] ?? '')) re.lastIndex++;
    const m = re.exec(fromXref);
    if (!m) refuse('unreadable cross-reference table', file);
    if (m[0] === 'trailer') break;
    if (m[1] !== undefined) next = Number(m[1]);
    else {
      if (m[5] === 'n' && Number(m[3]) > 0) offsets.set(next, Number(m[3]));
      next++;
    }
  }
  const trailer = fromXref.slice(re.lastIndex, re.lastIndex + 4096);
  if (/\/Prev\s/.test(trailer)) refuse('incrementally updated files are not supported', file);
  const root = Number((/\/Root (\d+) 0 R/.exec(trailer) ?? refuse('no /Root in the trailer', file))[1]);

  const objects = new Map<number, Buffer>();
  for (const [num, at] of offsets) {
    const headerText = latin1(pdf.subarray(at, at + 32));
    const h = /^(\d+) (\d+) obj\s*/.exec(headerText) ?? refuse(`object ${num} is not where the table says`, file);
    if (Number(h[1]) !== num) refuse(`object ${num} is not where the table says`, file);
    const bodyStart = at + h[0].length;
    // The object's dictionary part, up to "stream" or "endobj" outside strings.
    const { end, streamAt } = scanObject(pdf, bodyStart, file, num);
    if (streamAt === null) {
      objects.set(num, pdf.subarray(bodyStart, end));
      continue;
    }
    const dict = latin1(pdf.subarray(bodyStart, streamAt));
    const len = /\/Length (\d+)(?! \d+ R)/.exec(dict) ?? refuse(`object ${num}: stream length is not a direct number`, file);
    let dataStart = streamAt + 'stream'.length;
    if (pdf[dataStart] === 0x0d) dataStart++;
    if (pdf[dataStart] === 0x0a) dataStart++;
    const dataEnd = dataStart + Number(len[1]);
    const after = latin1(pdf.subarray(dataEnd, dataEnd + 40));
    const em = /^\s*endstream\s*endobj/.exec(after) ?? refuse(`object ${num}: stream length does not match`, file);
    objects.set(num, pdf.subarray(bodyStart, dataEnd + em[0].length - 'endobj'.length));
  }
  const catalog = latin1(objects.get(root) ?? refuse('the catalog is missing', file));
  const pagesRoot = Number((/\/Pages (\d+) 0 R/.exec(catalog) ?? refuse('the catalog has no page tree', file))[1]);
  const pagesDict = latin1(objects.get(pagesRoot) ?? refuse('the page tree is missing', file));
  const pageCount = Number((/\/Count (\d+)/.exec(pagesDict) ?? refuse('the page tree has no /Count', file))[1]);
  return { name: file, objects, root, pagesRoot, pageCount, version };
}

/** Finds where an object's body ends, skipping literal strings (which may contain anything). */
function scanObject(pdf: Buffer, from: number, file: string, num: number): { end: number; streamAt: number | null } {
  let i = from;
  let depth = 0;
  while (i < pdf.length) {
    const c = pdf[i]!;
    if (depth > 0) {
      if (c === 0x5c) i += 2; // backslash escape
      else {
        if (c === 0x28) depth++;
        else if (c === 0x29) depth--;
        i++;
      }
      continue;
    }
    if (c === 0x28) {
      depth = 1;
      i++;
      continue;
    }
    if (c === 0x25) {
      // comment: to the end of the line
      while (i < pdf.length && pdf[i] !== 0x0a && pdf[i] !== 0x0d) i++;
      continue;
    }
    if (c === 0x73 && pdf.subarray(i, i + 6).toString('latin1') === 'stream') return { end: i, streamAt: i };
    if (c === 0x65 && pdf.subarray(i, i + 6).toString('latin1') === 'endobj') return { end: i, streamAt: null };
    i++;
  }
  refuse(`object ${num} has no end`, file);
}

/** Shifts every "n 0 R" outside literal strings and outside stream data. */
function renumber(body: Buffer, shift: number): Buffer {
  const streamAt = (() => {
    const s = scanForStream(body);
    return s;
  })();
  const dictPart = streamAt === null ? body : body.subarray(0, streamAt);
  const rest = streamAt === null ? Buffer.alloc(0) : body.subarray(streamAt);
  const text = latin1(dictPart);
  let out = '';
  let i = 0;
  let plainStart = 0;
  const flush = (to: number) => {
    out += text.slice(plainStart, to).replace(/(\d+) (\d+) R\b/g, (_m, n, g) => `${Number(n) + shift} ${g} R`);
  };
  while (i < text.length) {
    if (text[i] === '(') {
      flush(i);
      let depth = 1;
      let j = i + 1;
      while (j < text.length && depth > 0) {
        if (text[j] === '\\') j += 2;
        else {
          if (text[j] === '(') depth++;
          else if (text[j] === ')') depth--;
          j++;
        }
      }
      out += text.slice(i, j);
      i = j;
      plainStart = j;
      continue;
    }
    i++;
  }
  flush(text.length);
  return Buffer.concat([Buffer.from(out, 'latin1'), rest]);
}

function scanForStream(body: Buffer): number | null {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (depth > 0) {
      if (c === 0x5c) i++;
      else if (c === 0x28) depth++;
      else if (c === 0x29) depth--;
      continue;
    }
    if (c === 0x28) depth = 1;
    else if (c === 0x73 && body.subarray(i, i + 6).toString('latin1') === 'stream') return i;
  }
  return null;
}

/** One PDF made of the given ones, in order (each given as bytes, or already read by parsePdf). */
export function mergePdfs(files: Array<{ name: string; pdf: Buffer } | ParsedPdf>, info: { title?: string } = {}): Buffer {
  if (files.length === 0) throw new RelanceError(ERROR_CODES.VALIDATION, E('nothing_to_merge'));
  const chunks: Buffer[] = [];
  const offsets: number[] = [];
  let size = 0;
  const push = (b: Buffer) => {
    chunks.push(b);
    size += b.length;
  };
  push(Buffer.from('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n', 'latin1'));
  // Objects 1 and 2: the new catalog and page tree; 3: info. Then every file's objects.
  let nextNum = 4;
  const kids: number[] = [];
  let total = 0;
  const bodies: Array<{ num: number; body: Buffer }> = [];
  for (const f of files) {
    const p = 'objects' in f ? f : parsePdf(f.pdf, f.name);
    const shift = nextNum - 1;
    let max = 0;
    for (const [num, body] of p.objects) {
      if (num === p.root) continue; // its catalog is replaced by ours
      max = Math.max(max, num);
      let b = renumber(body, shift);
      if (num === p.pagesRoot) {
        // The file's page tree hangs under ours.
        const t = latin1(b).replace(/^\s*<</, '<<\n/Parent 2 0 R');
        b = Buffer.from(t, 'latin1');
      }
      bodies.push({ num: num + shift, body: b });
    }
    kids.push(p.pagesRoot + shift);
    total += p.pageCount;
    nextNum = Math.max(nextNum, max + shift + 1);
  }
  // A text string in UTF-16BE with its byte order mark: accents and typographic apostrophes kept.
  const text = (s: string) => `<FEFF${Buffer.from(s, 'utf16le').swap16().toString('hex').toUpperCase()}>`;
  const head = [
    { num: 1, body: Buffer.from('<<\n/Type /Catalog\n/Pages 2 0 R\n>>\n', 'latin1') },
    { num: 2, body: Buffer.from(`<<\n/Type /Pages\n/Count ${total}\n/Kids [${kids.map((k) => `${k} 0 R`).join(' ')}]\n>>\n`, 'latin1') },
    { num: 3, body: Buffer.from(`<<\n/Producer (Relance)\n/Title ${text(info.title ?? 'Relance')}\n>>\n`, 'latin1') },
  ];
  for (const o of [...head, ...bodies]) {
    offsets[o.num] = size;
    push(Buffer.from(`${o.num} 0 obj\n`, 'latin1'));
    push(o.body);
    push(Buffer.from('\nendobj\n', 'latin1'));
  }
  const xrefAt = size;
  const count = nextNum;
  let xref = `xref\n0 ${count}\n0000000000 65535 f \n`;
  for (let k = 1; k < count; k++) {
    const off = offsets[k];
    xref += off === undefined ? '0000000000 65535 f \n' : `${String(off).padStart(10, '0')} 00000 n \n`;
  }
  push(Buffer.from(`${xref}trailer\n<<\n/Size ${count}\n/Root 1 0 R\n/Info 3 0 R\n>>\nstartxref\n${xrefAt}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(chunks);
}

/** Number of pages of a PDF this module can read. */
export function pdfPageCount(pdf: Buffer, name = 'file.pdf'): number {
  return parsePdf(pdf, name).pageCount;
}
