/**
 * Letters as A4 PDFs with pdfkit and embedded DejaVu fonts (which cover all of French: é è ç œ « » €
 * and the narrow no-break space).
 *
 * French postal layout (La Poste / NF Z 11-001 practice): sender block top left; recipient address
 * placed for a DL envelope with a right-hand window (block at 110 mm from the left edge, 50 mm from
 * the top, inside the 45 × 100 mm window); the sending mode ("Lettre recommandée avec accusé de
 * réception") just above the address; the place and date line under it; "Objet" and "Réf." lines;
 * body; signature on the right; payment box with the EPC QR code; legal mentions and "Page n/N" in
 * the footer of every page. English letters keep the same envelope geometry (the organisation's
 * envelopes do not change with the language) and follow English conventions: date without a place,
 * "Subject" / "Our ref." lines, "Yours sincerely" in the template.
 *
 * The body is the rendered letter template: paragraphs separated by blank lines, "# " a centred
 * title, "- " a bullet, and the markers left by {% invoice_table %} and {% amounts_table %}, which
 * become tables that continue on the next page (header repeated) when the list is long.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import { defineMessages, type Lang, t } from '../i18n/index.ts';
import { blockMarker, LETTER_BLOCKS, type LetterBlock } from './engine.ts';
import { epcQrMatrix, linkQrMatrix, type QrMatrix } from './qr.ts';
import type { Branding, DocumentVariables } from './variables.ts';

const MM = 72 / 25.4;
const A4 = { width: 595.28, height: 841.89 };
const LEFT = 20 * MM;
const RIGHT = A4.width - 20 * MM;
const WIDTH = RIGHT - LEFT;
const TOP = 15 * MM;
const BOTTOM = A4.height - 24 * MM;
/** Recipient block: DL right-hand window. */
const ADDRESS = { x: 110 * MM, y: 50 * MM, width: 85 * MM };

const FONT_FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;
/** A parsed font as fontkit gives it; pdfkit accepts it in place of a file (anything with a `layout`). */
type ParsedFont = { layout: (...args: unknown[]) => unknown; glyphForCodePoint(cp: number): unknown };

/**
 * fontkit caches a glyph object with the characters it was first reached from, and pdfkit writes
 * those characters into the PDF's ToUnicode map (what copy-paste and text extraction read). When
 * the font is shared between documents, a glyph first reached through an OpenType lookup would be
 * cached with no character and vanish from extracted text: reaching every glyph of the scripts we
 * print through its code point first, once, prevents that.
 */
const PRIMED_RANGES: Array<[number, number]> = [
  [0x20, 0x7e], [0xa0, 0x24f], [0x2000, 0x206f], [0x20a0, 0x20bf], [0x2100, 0x2122],
];
function prime(font: ParsedFont): ParsedFont {
  for (const [from, to] of PRIMED_RANGES) for (let cp = from; cp <= to; cp++) font.glyphForCodePoint(cp);
  return font;
}
let fonts: { regular: ParsedFont; bold: ParsedFont } | null = null;

/**
 * The fonts of the dejavu-fonts-ttf package, parsed once per process with the fontkit that pdfkit
 * itself uses (resolved from pdfkit's own location). Handing pdfkit a parsed font instead of the
 * file saves re-parsing 700 KB of TrueType and re-shaping every word in every letter: it is what
 * takes letters from ~20 to several hundred a second.
 */
function loadFonts() {
  if (!fonts) {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(buffer: Uint8Array): ParsedFont };
    fonts = {
      regular: prime(fontkit.create(readFileSync(join(dir, FONT_FILES.regular)))),
      bold: prime(fontkit.create(readFileSync(join(dir, FONT_FILES.bold)))),
    };
  }
  return fonts;
}

/**
 * pdfkit shapes each word once per document and keeps the result in the font's layoutCache; every
 * letter uses the same few hundred words, so shaped words are shared between documents (per font:
 * the runs are already scaled to the font, and each document still builds its own subset from the
 * glyphs it uses). pdfkit adds word spacing into the position objects when it justifies a line, so
 * a document gets its own copy of the positions, never the shared ones. Bounded in size.
 */
interface ShapedRun {
  glyphs: unknown[];
  positions: Array<Record<string, number>>;
  advanceWidth: number;
}
const shaped = new Map<string, Map<string, ShapedRun>>();
function shareLayoutCache(doc: PDFKit.PDFDocument, name: string) {
  let runs = shaped.get(name);
  if (!runs) shaped.set(name, (runs = new Map()));
  if (runs.size > 100_000) runs.clear();
  const store = runs;
  const cache = new Proxy(Object.create(null) as Record<string, ShapedRun>, {
    get(_target, key) {
      const run = typeof key === 'string' ? store.get(key) : undefined;
      return run ? { glyphs: run.glyphs, positions: run.positions.map((p) => ({ ...p })), advanceWidth: run.advanceWidth } : undefined;
    },
    set(_target, key, value: ShapedRun) {
      // fontkit's GlyphRun computes advanceWidth in a getter: copy the value, not the object.
      if (typeof key === 'string') store.set(key, { glyphs: value.glyphs, positions: value.positions.map((p) => ({ ...p })), advanceWidth: value.advanceWidth });
      return true;
    },
  });
  doc.font(name);
  const font = (doc as unknown as { _font?: { layoutCache?: unknown } })._font;
  if (font?.layoutCache) font.layoutCache = cache;
}

const L = defineMessages({
  registered: { fr: 'Lettre recommandée avec accusé de réception', en: 'Registered letter with acknowledgement of receipt' },
  date_line: { fr: '{place}, le {date}', en: '{date}' },
  subject: { fr: 'Objet\u202f: ', en: 'Subject: ' },
  ref: { fr: 'Réf.\u202f: ', en: 'Our ref.: ' },
  invoice: { fr: 'Facture', en: 'Invoice' },
  invoices_n: { fr: '{n} factures', en: '{n} invoices' },
  customer_no: { fr: 'client n° {n}', en: 'customer {n}' },
  col_invoice: { fr: 'Facture', en: 'Invoice' },
  col_date: { fr: 'Date', en: 'Date' },
  col_due: { fr: 'Échéance', en: 'Due' },
  col_days: { fr: 'Retard', en: 'Days late' },
  col_amount: { fr: 'Montant TTC', en: 'Amount' },
  col_open: { fr: 'Reste dû', en: 'Outstanding' },
  total_open: { fr: 'Total restant dû', en: 'Total outstanding' },
  days: { fr: '{n} j', en: '{n}' },
  principal: { fr: 'Principal restant dû', en: 'Outstanding principal' },
  interest: { fr: 'Pénalités de retard au {date}', en: 'Late-payment interest to {date}' },
  indemnity: { fr: 'Indemnité forfaitaire pour frais de recouvrement', en: 'Fixed compensation for recovery costs' },
  claimed: { fr: 'Total réclamé', en: 'Total claimed' },
  pay_title: { fr: 'Règlement', en: 'Payment' },
  pay_amount: { fr: 'Montant à régler', en: 'Amount to pay' },
  pay_beneficiary: { fr: 'Bénéficiaire', en: 'Beneficiary' },
  pay_reference: { fr: 'Référence à indiquer', en: 'Reference to quote' },
  pay_scan: { fr: 'Scannez le QR code avec votre application bancaire : le virement est prérempli.', en: 'Scan the QR code with your banking app: the transfer is filled in for you.' },
  pay_link: { fr: 'Paiement en ligne : {link}', en: 'Pay online: {link}' },
  portal_title: { fr: 'Votre espace client', en: 'Your customer area' },
  portal_text: {
    fr: 'Scannez ce QR code ou ouvrez le lien ci-dessous pour consulter vos factures, signaler un paiement, annoncer une date de paiement, demander un échéancier ou contester une facture, sans créer de compte.',
    en: 'Scan this QR code or open the link below to see your invoices, report a payment, announce a payment date, ask for a payment plan or dispute an invoice, without creating an account.',
  },
  page: { fr: 'Page {n}/{total}', en: 'Page {n}/{total}' },
});

export interface LetterInput {
  lang: Lang;
  vars: DocumentVariables;
  /** The rendered template parts. */
  subject: string;
  body: string;
  branding: Branding;
  registered: boolean;
  /** EPC payload for the payment box; null prints the box without QR code, undefined prints no box. */
  epcPayload?: string | null;
  /** PDF metadata dates are fixed to this instant so the same letter gives the same file. */
  creationDate?: Date;
}

type Doc = PDFKit.PDFDocument;

export function renderLetterPdf(input: LetterInput): Promise<Buffer> {
  const { lang, vars, branding } = input;
  const f = loadFonts();
  const doc: Doc = new PDFDocument({
    size: 'A4',
    margins: { top: 20 * MM, bottom: A4.height - BOTTOM, left: LEFT, right: A4.width - RIGHT },
    bufferPages: true,
    autoFirstPage: true,
    // Deflating the page streams cost a third of the time per letter (81 -> 116 letters/s measured
    // with npm run bench documents) for files about twice as large (30 -> 67 KiB): a printer's batch
    // and an e-mail attachment both carry that easily.
    compress: false,
    info: {
      Title: input.subject,
      Author: vars.organisation.name,
      Subject: input.subject,
      Creator: 'Relance',
      CreationDate: input.creationDate ?? new Date(0),
    },
    lang: lang === 'fr' ? 'fr-FR' : 'en-GB',
    // Our font from the start: the default would load Helvetica's metrics for nothing.
    font: f.regular as unknown as string,
  });
  for (const name of ['regular', 'bold'] as const) {
    doc.registerFont(name, f[name] as unknown as PDFKit.Mixins.PDFFontSource);
    shareLayoutCache(doc, name);
  }
  const colour = /^#[0-9a-fA-F]{6}$/.test(branding.colour) ? branding.colour : '#1F4E79';
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  header(doc, input, colour);
  body(doc, input, colour);
  signature(doc, input);
  if (input.epcPayload !== undefined) paymentBox(doc, input, colour);
  if (input.vars.payment.portal_link) portalBox(doc, input, colour, input.vars.payment.portal_link);
  footers(doc, input);
  doc.end();
  return done;
}

function header(doc: Doc, input: LetterInput, colour: string) {
  const { lang, vars, branding } = input;
  const org = vars.organisation;
  let y = TOP;
  if (branding.logoPng) {
    doc.image(Buffer.from(branding.logoPng), LEFT, y, { fit: [45 * MM, 18 * MM] });
    y += 20 * MM;
  }
  doc.font('bold').fontSize(12).fillColor(colour).text(org.name, LEFT, y, { width: 80 * MM });
  doc.font('regular').fontSize(8.5).fillColor('#333333');
  const lines = [
    org.address_line1,
    org.address_line2,
    [org.postal_code, org.city].filter(Boolean).join(' ') || null,
    org.phone,
    org.email,
    org.website,
  ].filter((l): l is string => Boolean(l));
  doc.text(lines.join('\n'), LEFT, doc.y + 2, { width: 80 * MM, lineGap: 1 });

  if (input.registered) {
    doc.font('bold').fontSize(8.5).fillColor('#000000').text(t(L, lang, 'registered'), ADDRESS.x, ADDRESS.y - 5 * MM, { width: ADDRESS.width });
  }
  doc.font('regular').fontSize(10.5).fillColor('#000000');
  const recipient = vars.customer.address_lines;
  doc.font('bold').text(recipient[0] ?? vars.customer.name, ADDRESS.x, ADDRESS.y, { width: ADDRESS.width, lineGap: 1.5 });
  if (recipient.length > 1) doc.font('regular').text(recipient.slice(1).join('\n'), ADDRESS.x, doc.y, { width: ADDRESS.width, lineGap: 1.5 });

  const place = org.place ?? '';
  const dateLine = lang === 'fr' && place ? t(L, lang, 'date_line', { place, date: vars.today }) : vars.today;
  doc.font('regular').fontSize(10).text(dateLine, ADDRESS.x, Math.max(doc.y + 6 * MM, 95 * MM), { width: ADDRESS.width });

  let ry = Math.max(doc.y + 8 * MM, 108 * MM);
  doc.fontSize(10);
  const labelled = (label: string, value: string) => {
    doc.font('bold').text(label, LEFT, ry, { continued: true }).font('regular').text(value, { width: WIDTH });
    ry = doc.y + 1;
  };
  labelled(t(L, lang, 'subject'), input.subject);
  const inv = vars.invoices;
  const refParts = [
    inv.length === 1 ? `${t(L, lang, 'invoice')} ${vars.invoice.number}` : t(L, lang, 'invoices_n', { n: inv.length }),
    vars.payment.reference,
    t(L, lang, 'customer_no', { n: vars.customer.number }),
  ].filter((x): x is string => Boolean(x));
  labelled(t(L, lang, 'ref'), refParts.join(' · '));
  doc.y = ry + 6 * MM;
}

function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > BOTTOM) doc.addPage();
}

function body(doc: Doc, input: LetterInput, colour: string) {
  const markers = new Map<string, LetterBlock>(LETTER_BLOCKS.map((b) => [blockMarker(b), b]));
  const paragraphs = input.body.split(/\n{2,}|\n(?=\uE000)|(?<=\uE000)\n/);
  for (const raw of paragraphs) {
    const p = raw.trim();
    if (!p) continue;
    const block = markers.get(p);
    if (block === 'invoice_table') {
      invoiceTable(doc, input, colour);
      continue;
    }
    if (block === 'amounts_table') {
      amountsTable(doc, input);
      continue;
    }
    if (p.startsWith('# ')) {
      ensureSpace(doc, 30);
      doc.font('bold').fontSize(14).fillColor(colour).text(p.slice(2), LEFT, doc.y, { width: WIDTH, align: 'center' });
      doc.fillColor('#000000').moveDown(0.8);
      continue;
    }
    doc.font('regular').fontSize(10).fillColor('#000000');
    const lines = p.split('\n');
    for (const line of lines) {
      if (line.startsWith('- ')) {
        ensureSpace(doc, 14);
        const y = doc.y;
        doc.text('•', LEFT + 3 * MM, y, { width: 4 * MM });
        doc.text(line.slice(2), LEFT + 8 * MM, y, { width: WIDTH - 8 * MM, lineGap: 1.5 });
      } else {
        ensureSpace(doc, 14);
        doc.text(line, LEFT, doc.y, { width: WIDTH, align: 'justify', lineGap: 1.5 });
      }
    }
    doc.moveDown(0.7);
  }
}

interface Column {
  label: string;
  width: number;
  align: 'left' | 'right';
}

function tableRow(doc: Doc, cols: Column[], cells: string[], y: number, font: 'regular' | 'bold') {
  let x = LEFT;
  doc.font(font).fontSize(8.5);
  cols.forEach((c, i) => {
    doc.text(cells[i] ?? '', x + 2, y + 3, { width: c.width - 4, align: c.align, lineBreak: false });
    x += c.width;
  });
}

function invoiceTable(doc: Doc, input: LetterInput, colour: string) {
  const { lang, vars } = input;
  const w = WIDTH;
  const cols: Column[] = [
    { label: t(L, lang, 'col_invoice'), width: w * 0.22, align: 'left' },
    { label: t(L, lang, 'col_date'), width: w * 0.14, align: 'left' },
    { label: t(L, lang, 'col_due'), width: w * 0.14, align: 'left' },
    { label: t(L, lang, 'col_days'), width: w * 0.12, align: 'right' },
    { label: t(L, lang, 'col_amount'), width: w * 0.19, align: 'right' },
    { label: t(L, lang, 'col_open'), width: w * 0.19, align: 'right' },
  ];
  const rowH = 15;
  // Each row is placed at an explicit y: doc.text moves doc.y, so rows never rely on it.
  let y = 0;
  const head = () => {
    y = doc.y;
    doc.rect(LEFT, y, w, rowH).fill(colour);
    doc.fillColor('#FFFFFF');
    tableRow(doc, cols, cols.map((c) => c.label), y, 'bold');
    doc.fillColor('#000000');
    y += rowH;
  };
  ensureSpace(doc, rowH * 3);
  head();
  vars.invoices.forEach((i, n) => {
    if (y + rowH > BOTTOM) {
      doc.addPage();
      head();
    }
    if (n % 2 === 1) doc.rect(LEFT, y, w, rowH).fill('#F2F4F7');
    doc.fillColor('#000000');
    tableRow(
      doc,
      cols,
      [i.number, i.issue_date_short, i.due_date_short, i.days_past_due > 0 ? t(L, lang, 'days', { n: i.days_past_due }) : '', i.amount, i.open_amount],
      y,
      'regular',
    );
    y += rowH;
  });
  if (vars.invoices.length > 1) {
    if (y + rowH > BOTTOM) {
      doc.addPage();
      y = doc.y;
    }
    doc.moveTo(LEFT, y).lineTo(RIGHT, y).lineWidth(0.8).stroke('#666666');
    tableRow(doc, cols, [t(L, lang, 'total_open'), '', '', '', vars.totals.amount, vars.totals.open_amount], y, 'bold');
    y += rowH;
  }
  doc.y = y;
  doc.x = LEFT;
  doc.moveDown(0.8);
}

function amountsTable(doc: Doc, input: LetterInput) {
  const { lang, vars } = input;
  const rows: Array<[string, string, boolean]> = [[t(L, lang, 'principal'), vars.totals.open_amount, false]];
  // Interest that runs only from this notice (French consumers) has no amount yet: the text says so.
  if (vars.penalties.applicable && vars.penalties.computed) {
    rows.push([t(L, lang, 'interest', { date: vars.today }), vars.penalties.interest, false]);
    if (vars.penalties.indemnity_applicable) rows.push([t(L, lang, 'indemnity'), vars.penalties.indemnity, false]);
  }
  rows.push([t(L, lang, 'claimed'), vars.totals.claimed, true]);
  const rowH = 15;
  const x = LEFT + WIDTH * 0.25;
  const w = WIDTH * 0.75;
  ensureSpace(doc, rowH * rows.length + 10);
  for (const [label, value, strong] of rows) {
    if (strong) doc.moveTo(x, doc.y).lineTo(x + w, doc.y).lineWidth(0.8).stroke('#666666');
    doc.font(strong ? 'bold' : 'regular').fontSize(9.5).fillColor('#000000');
    const y = doc.y;
    doc.text(label, x, y + 3, { width: w * 0.7, lineBreak: false });
    doc.text(value, x + w * 0.7, y + 3, { width: w * 0.3, align: 'right', lineBreak: false });
    doc.y = y + rowH;
  }
  doc.x = LEFT;
  doc.moveDown(0.8);
}

function signature(doc: Doc, input: LetterInput) {
  const { vars, branding } = input;
  const height = (branding.signaturePng ? 20 * MM : 8 * MM) + 30;
  ensureSpace(doc, height);
  const x = ADDRESS.x;
  doc.moveDown(0.5);
  if (branding.signaturePng) {
    const y = doc.y;
    doc.image(Buffer.from(branding.signaturePng), x, y, { fit: [50 * MM, 18 * MM] });
    doc.y = y + 19 * MM;
  }
  doc.font('bold').fontSize(10).fillColor('#000000').text(vars.organisation.signatory_name, x, doc.y, { width: RIGHT - x });
  if (vars.organisation.signatory_title) doc.font('regular').fontSize(9).text(vars.organisation.signatory_title, x, doc.y, { width: RIGHT - x });
  doc.font('regular').fontSize(9).text(vars.organisation.name, x, doc.y, { width: RIGHT - x });
  doc.x = LEFT;
  doc.moveDown(1.2);
}

function paymentBox(doc: Doc, input: LetterInput, colour: string) {
  const { lang, vars } = input;
  const qrSide = 34 * MM;
  const pad = 4 * MM;
  const boxH = qrSide + 2 * pad;
  ensureSpace(doc, boxH + 4);
  const y0 = doc.y;
  doc.roundedRect(LEFT, y0, WIDTH, boxH, 4).lineWidth(1).stroke(colour);
  const textW = WIDTH - qrSide - 3 * pad;
  let y = y0 + pad;
  doc.font('bold').fontSize(10).fillColor(colour).text(t(L, lang, 'pay_title'), LEFT + pad, y, { width: textW });
  y = doc.y + 2;
  const line = (label: string, value: string, bold = false) => {
    doc.font('regular').fontSize(8.5).fillColor('#555555').text(`${label} `, LEFT + pad, y, { width: textW, continued: true });
    doc.font(bold ? 'bold' : 'regular').fontSize(bold ? 10 : 8.5).fillColor('#000000').text(value);
    y = doc.y + 1;
  };
  const colon = lang === 'fr' ? '\u202f:' : ':';
  line(`${t(L, lang, 'pay_amount')}${colon}`, vars.payment.amount, true);
  line(`${t(L, lang, 'pay_beneficiary')}${colon}`, vars.payment.beneficiary);
  if (vars.payment.iban) line('IBAN', vars.payment.iban);
  if (vars.payment.bic) line('BIC', vars.payment.bic);
  line(`${t(L, lang, 'pay_reference')}${colon}`, vars.payment.remittance, true);
  if (vars.payment.link) {
    doc.font('regular').fontSize(8).fillColor('#000000').text(t(L, lang, 'pay_link', { link: vars.payment.link }), LEFT + pad, y + 2, { width: textW });
    y = doc.y;
  }
  if (input.epcPayload) {
    doc.font('regular').fontSize(7.5).fillColor('#555555').text(t(L, lang, 'pay_scan'), LEFT + pad, Math.max(y + 2, y0 + boxH - pad - 18), { width: textW });
    drawQr(doc, epcQrMatrix(input.epcPayload), RIGHT - pad - qrSide, y0 + pad, qrSide);
  }
  doc.fillColor('#000000');
  doc.x = LEFT;
  doc.y = y0 + boxH + 4;
}

/** The debtor portal's link as a QR code and in full, below the payment box. */
function portalBox(doc: Doc, input: LetterInput, colour: string, url: string) {
  const { lang } = input;
  const qrSide = 26 * MM;
  const pad = 4 * MM;
  const boxH = qrSide + 2 * pad;
  ensureSpace(doc, boxH + 4);
  const y0 = doc.y;
  doc.roundedRect(LEFT, y0, WIDTH, boxH, 4).lineWidth(1).stroke(colour);
  const textW = WIDTH - qrSide - 3 * pad;
  doc.font('bold').fontSize(10).fillColor(colour).text(t(L, lang, 'portal_title'), LEFT + pad, y0 + pad, { width: textW });
  doc.font('regular').fontSize(8.5).fillColor('#000000').text(t(L, lang, 'portal_text'), LEFT + pad, doc.y + 2, { width: textW });
  doc.font('regular').fontSize(8).fillColor('#000000').text(url, LEFT + pad, doc.y + 2, { width: textW });
  drawQr(doc, linkQrMatrix(url), RIGHT - pad - qrSide, y0 + pad, qrSide);
  doc.fillColor('#000000');
  doc.x = LEFT;
  doc.y = y0 + boxH + 4;
}

/** Dark modules as filled squares, runs of a row merged into one rectangle; the quiet zone is the box's white. */
function drawQr(doc: Doc, qr: QrMatrix, x: number, y: number, side: number) {
  const quiet = 4;
  const cell = side / (qr.size + 2 * quiet);
  doc.rect(x, y, side, side).fill('#FFFFFF');
  for (let r = 0; r < qr.size; r++) {
    let c = 0;
    while (c < qr.size) {
      if (qr.modules[r * qr.size + c]) {
        const start = c;
        while (c < qr.size && qr.modules[r * qr.size + c]) c++;
        // A hair of overlap so anti-aliased viewers show no seam between adjacent squares.
        doc.rect(x + (quiet + start) * cell, y + (quiet + r) * cell, (c - start) * cell + 0.05, cell + 0.05);
      } else c++;
    }
  }
  doc.fill('#000000');
}

function footers(doc: Doc, input: LetterInput) {
  const range = doc.bufferedPageRange();
  const total = range.count;
  for (let i = range.start; i < range.start + total; i++) {
    doc.switchToPage(i);
    // Writing below the bottom margin would make pdfkit open a new page: lift the margin while writing.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = A4.height - 16 * MM;
    doc.moveTo(LEFT, y - 2 * MM).lineTo(RIGHT, y - 2 * MM).lineWidth(0.4).stroke('#BBBBBB');
    doc.font('regular').fontSize(7).fillColor('#666666').text(input.vars.organisation.legal_mentions, LEFT, y, { width: WIDTH - 22 * MM, lineGap: 0.5 });
    doc.text(t(L, input.lang, 'page', { n: i - range.start + 1, total }), RIGHT - 20 * MM, y, { width: 20 * MM, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}
