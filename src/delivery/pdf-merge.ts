/**
 * Concatenates PDFs into one, for print batches and evidence files. Each file is read with the one
 * PDF object reader (src/formats/pdf.ts): every object is written back with its number shifted
 * past the previous file's, each file's page tree becomes a child of one new page tree, and a new
 * catalog and cross-reference table are written. Stream data is copied byte for byte (still
 * encoded), so the pages are exactly the letters that were stored as proof. Object streams and
 * cross-reference streams are unpacked by the reader and not copied: their objects are written
 * out one by one, under the classic table.
 */
import { ERROR_CODES, isRelanceError, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { name, type PdfDict, type PdfFile, PdfRef, readPdf, writeValue } from '../formats/pdf.ts';

const E = defineErrors('delivery-pdf-merge', {
  not_pdf: { fr: 'impossible d’assembler {file} : ce n’est pas un fichier PDF', en: 'cannot merge {file}: not a PDF file' },
  no_pages: { fr: 'impossible d’assembler {file} : le PDF n’a pas d’arbre des pages lisible', en: 'cannot merge {file}: the PDF has no readable page tree' },
  nothing_to_merge: { fr: 'aucun fichier à assembler', en: 'nothing to merge' },
});

/** A PDF read once (parsePdf): its objects, catalog, page tree and page count. */
export interface ParsedPdf {
  name: string;
  file: PdfFile;
  root: number;
  pagesRoot: number;
  pageCount: number;
  version: string;
}

/** Reads a PDF to merge; a file that is not a PDF or has no page tree is refused, naming it. */
export function parsePdf(pdf: Buffer, file: string): ParsedPdf {
  const version = /^%PDF-(\d\.\d)/.exec(pdf.toString('latin1', 0, 16))?.[1];
  if (!version) throw new RelanceError(ERROR_CODES.PARSE, E('not_pdf', { file }), { where: { file } });
  let read: PdfFile;
  try {
    read = readPdf(pdf, (f) => f);
  } catch (e) {
    // The reader's own refusal (too complex, a stream too large), with the file it was about.
    if (isRelanceError(e)) throw new RelanceError(e.code, e.text ?? e.message, { where: { file }, cause: e });
    throw e;
  }
  const rootRef = read.trailer.get('Root');
  const catalog = read.resolve(rootRef);
  const pagesRef = catalog instanceof Map ? catalog.get('Pages') : undefined;
  const pages = read.resolve(pagesRef);
  const count = pages instanceof Map ? read.resolve(pages.get('Count')) : undefined;
  if (!(rootRef instanceof PdfRef) || !(pagesRef instanceof PdfRef) || typeof count !== 'number') {
    throw new RelanceError(ERROR_CODES.PARSE, E('no_pages', { file }), { where: { file } });
  }
  return { name: file, file: read, root: rootRef.num, pagesRoot: pagesRef.num, pageCount: count, version };
}

/** Objects the merged file does not copy: the reader unpacked them (object and xref streams). */
const unpacked = (v: unknown) => v instanceof Map && ['ObjStm', 'XRef'].includes(name((v as PdfDict).get('Type')) ?? '');

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
    const p = 'file' in f ? f : parsePdf(f.pdf, f.name);
    const shift = nextNum - 1;
    let max = 0;
    const renumber = (n: number) => n + shift;
    for (const [num, o] of p.file.objects) {
      if (num === p.root || unpacked(o.value)) continue; // its catalog is replaced by ours
      max = Math.max(max, num);
      let value = o.value;
      if (num === p.pagesRoot && value instanceof Map) {
        // The file's page tree hangs under ours (written as object 2, before any shift).
        value = new Map(value).set('Parent', new PdfRef(2 - shift, 0));
      }
      if (o.stream === undefined) {
        bodies.push({ num: num + shift, body: Buffer.from(writeValue(value, renumber), 'latin1') });
        continue;
      }
      const data = p.file.rawStream(o);
      const dict = new Map(value instanceof Map ? value : []).set('Length', data.length);
      bodies.push({ num: num + shift, body: Buffer.concat([Buffer.from(`${writeValue(dict, renumber)}\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')]) });
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
