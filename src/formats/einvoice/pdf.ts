/**
 * The files embedded in a PDF (PDF/A-3 attachments), enough to take the invoice XML out of a
 * Factur-X / ZUGFeRD / XRechnung PDF: the catalog's EmbeddedFiles name tree and /AF array and
 * any file specification, read with the one PDF object reader (src/formats/pdf.ts).
 */
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';
import { name, type PdfDict, type PdfFile, PdfLimit, type PdfObject, PdfRef, type PdfValue, pdfText, readPdf } from '../pdf.ts';

import { PDF_LIMITS } from '../pdf.ts';

export { PDF_LIMITS };

const E = defineErrors('einvoice-pdf', {
  no_xml: { fr: "aucun fichier factur-x.xml, zugferd-invoice.xml ou xrechnung.xml joint à ce PDF", en: "no factur-x.xml, zugferd-invoice.xml or xrechnung.xml embedded in this PDF" },
  no_xml_holds: { fr: "aucun fichier factur-x.xml, zugferd-invoice.xml ou xrechnung.xml joint à ce PDF (il contient : {files})", en: "no factur-x.xml, zugferd-invoice.xml or xrechnung.xml embedded in this PDF (it holds: {files})" },
});

export interface EmbeddedFile {
  name: string;
  relationship: string | null;
  data: Buffer;
}

/** Every embedded file: from the EmbeddedFiles name tree, the /AF array, and any Filespec found. */
export function embeddedFiles(pdf: Buffer): EmbeddedFile[] {
  return readPdf(pdf, readEmbedded);
}

function readEmbedded(f: PdfFile): EmbeddedFile[] {
  const specs = new Set<PdfObject | PdfDict>();
  const catalog = f.resolve(f.trailer.get('Root'));
  // A name tree is a tree: a node seen before (a /Kids listing itself or an ancestor) is not
  // visited again, and the whole walk is bounded.
  const seenNodes = new Set<PdfDict>();
  const visitTree = (node: PdfValue | undefined, depth = 0) => {
    const n = f.resolve(node);
    if (!(n instanceof Map) || depth > 16 || seenNodes.has(n)) return;
    seenNodes.add(n);
    if (seenNodes.size > PDF_LIMITS.maxTreeNodes) throw new PdfLimit('tree');
    const names = f.resolve(n.get('Names'));
    if (Array.isArray(names)) for (let i = 1; i < names.length; i += 2) addSpec(names[i]);
    const kids = f.resolve(n.get('Kids'));
    if (Array.isArray(kids)) for (const k of kids) visitTree(k, depth + 1);
  };
  const addSpec = (v: PdfValue | undefined) => {
    const d = f.resolve(v);
    if (d instanceof Map) specs.add(d);
  };
  if (catalog instanceof Map) {
    const names = f.resolve(catalog.get('Names'));
    if (names instanceof Map) visitTree(names.get('EmbeddedFiles'));
    const af = f.resolve(catalog.get('AF'));
    if (Array.isArray(af)) af.forEach(addSpec);
  }
  for (const o of f.objects.values()) if (o.value instanceof Map && name(o.value.get('Type')) === 'Filespec') specs.add(o.value);
  const out: EmbeddedFile[] = [];
  const seen = new Set<number>();
  for (const s of specs) {
    const spec = s as PdfDict;
    const fileName = pdfText(f.resolve(spec.get('UF'))) ?? pdfText(f.resolve(spec.get('F')));
    const ef = f.resolve(spec.get('EF'));
    if (!fileName || !(ef instanceof Map)) continue;
    const ref = ef.get('UF') ?? ef.get('F');
    const obj = f.objectOf(ref);
    if (!obj || (ref instanceof PdfRef && seen.has(ref.num))) continue;
    if (ref instanceof PdfRef) seen.add(ref.num);
    out.push({ name: fileName, relationship: name(f.resolve(spec.get('AFRelationship'))) ?? null, data: f.streamData(obj, ref instanceof PdfRef ? String(ref.num) : '?') });
  }
  return out;
}

/** The names an e-invoice XML goes by inside a PDF: Factur-X, ZUGFeRD 2.0, XRechnung (case ignored). */
export const INVOICE_XML_NAMES = ['factur-x.xml', 'zugferd-invoice.xml', 'xrechnung.xml'];

export function invoiceXmlFromPdf(pdf: Buffer): { name: string; xml: Buffer } {
  const files = embeddedFiles(pdf);
  const hit = files.find((x) => INVOICE_XML_NAMES.includes(x.name.toLowerCase())) ?? files.find((x) => /\.xml$/i.test(x.name) && /CrossIndustryInvoice|CrossIndustryDocument|<Invoice\b/.test(x.data.toString('utf8', 0, 4096)));
  if (!hit) {
    throw new RelanceError(
      ERROR_CODES.PARSE,
      files.length ? E('no_xml_holds', { files: files.map((x) => x.name).join(', ') }) : E('no_xml'),
      { where: { path: 'EmbeddedFiles' } },
    );
  }
  return { name: hit.name, xml: hit.data };
}
