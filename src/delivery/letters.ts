/**
 * The day's letters as one print-ready PDF: a cover list (recipient, registered or not, tracking
 * number, pages, SHA-256 of each letter as stored), then every letter exactly as it was stored in
 * the proof store. Printing is recorded on each delivery ('printed' event).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { defineMessages, type Lang, t } from '../i18n/index.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { mergePdfs, type ParsedPdf, parsePdf } from './pdf-merge.ts';

let fonts: { regular: Buffer; bold: Buffer } | null = null;
function loadFonts() {
  if (!fonts) {
    const require = createRequire(import.meta.url);
    const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    fonts = { regular: readFileSync(join(dir, 'DejaVuSans.ttf')), bold: readFileSync(join(dir, 'DejaVuSans-Bold.ttf')) };
  }
  return fonts;
}

/** A pdfkit A4 document with the DejaVu fonts, and its bytes once ended. */
export function newPdf(title: string, lang: Lang, creationDate: Date): { doc: PDFKit.PDFDocument; bytes: Promise<Buffer> } {
  const f = loadFonts();
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: title, Creator: 'Relance', CreationDate: creationDate }, lang: lang === 'fr' ? 'fr-FR' : 'en-GB' });
  doc.registerFont('regular', f.regular);
  doc.registerFont('bold', f.bold);
  doc.font('regular');
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const bytes = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, bytes };
}

const M = defineMessages({
  title: { fr: 'Lot d’impression du {date}', en: 'Print batch of {date}' },
  summary: { fr: '{n} courrier(s), {r} en recommandé avec AR, {p} page(s) au total', en: '{n} letter(s), {r} registered with acknowledgement of receipt, {p} page(s) in all' },
  registered: { fr: 'RAR', en: 'Registered' },
  simple: { fr: 'Simple', en: 'Standard' },
  col_no: { fr: 'N°', en: 'No.' },
  col_recipient: { fr: 'Destinataire', en: 'Recipient' },
  col_mode: { fr: 'Envoi', en: 'Mode' },
  col_tracking: { fr: 'N° de suivi', en: 'Tracking no.' },
  col_pages: { fr: 'Pages', en: 'Pages' },
  col_hash: { fr: 'Empreinte SHA-256', en: 'SHA-256' },
  none: { fr: 'Aucun courrier ce jour-là.', en: 'No letter that day.' },
});

export interface BatchLetter {
  deliveryId: bigint;
  actionId: bigint;
  registered: boolean;
  recipient: string[];
  tracking: string | null;
  pages: number;
  sha256: string;
  pdf: Buffer;
  /** The letter read once, for the page count and the merge. */
  parsed: ParsedPdf;
}

export async function lettersOfDay(q: Queryable, orgId: string, day: CalendarDate, opts: { registered?: boolean } = {}): Promise<BatchLetter[]> {
  const org = await getOrganisation(q, orgId);
  // The PDFs come as base64 text: the embedded database hands bytea over many times slower.
  const rows = await q.query<{ id: bigint; action_id: bigint; channel: string; recipients: { address?: string[] } | string; sha256: string; content: string; tracking_number: string | null }>(
    `SELECT d.id, d.action_id, d.channel, d.recipients, d.sha256, encode(d.content, 'base64') AS content, r.tracking_number
       FROM deliveries d
       LEFT JOIN registered_letters r ON r.organisation_id = d.organisation_id AND r.delivery_id = d.id
      WHERE d.organisation_id = $1 AND d.channel = ANY($2::text[]) AND (d.handed_over_at AT TIME ZONE $3)::date = $4
        AND EXISTS (SELECT 1 FROM actions a WHERE a.organisation_id = d.organisation_id AND a.id = d.action_id AND a.status IN ('sent', 'exported', 'uncertain'))
      ORDER BY d.id`,
    [orgId, opts.registered === false ? '{letter}' : '{letter,registered_letter}', org.timeZone, day],
  );
  return rows.map((r) => {
    const pdf = Buffer.from(r.content, 'base64');
    const rec = typeof r.recipients === 'string' ? (JSON.parse(r.recipients) as { address?: string[] }) : r.recipients;
    const parsed = parsePdf(pdf, `delivery ${r.id}`);
    return {
      deliveryId: r.id,
      actionId: r.action_id,
      registered: r.channel === 'registered_letter',
      recipient: rec.address ?? [],
      tracking: r.tracking_number,
      pages: parsed.pageCount,
      sha256: r.sha256,
      pdf,
      parsed,
    };
  });
}

/** The cover list and the letters, merged; records a 'printed' event on each letter. */
export async function printBatch(q: Queryable, orgId: string, day: CalendarDate, now: Date, opts: { registered?: boolean; record?: boolean } = {}): Promise<{ pdf: Buffer; letters: BatchLetter[] }> {
  const org = await getOrganisation(q, orgId);
  const lang: Lang = org.language === 'en' ? 'en' : 'fr';
  const letters = await lettersOfDay(q, orgId, day, opts);
  const cover = await coverList(letters, org.legalName, day, lang, now);
  const pdf = mergePdfs([{ name: 'cover', pdf: cover }, ...letters.map((l) => l.parsed)], { title: t(M, lang, 'title', { date: day }) });
  if (opts.record !== false && letters.length) {
    await q.query(
      `INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, detail)
       SELECT $1, x.a::bigint, x.d::bigint, 'printed', $3, jsonb_build_object('batch', $4::text)
         FROM json_to_recordset($2::json) AS x(a text, d text)`,
      [orgId, JSON.stringify(letters.map((l) => ({ a: String(l.actionId), d: String(l.deliveryId) }))), now.toISOString(), day],
    );
  }
  return { pdf, letters };
}

async function coverList(letters: BatchLetter[], orgName: string, day: CalendarDate, lang: Lang, now: Date): Promise<Buffer> {
  const { doc, bytes } = newPdf(t(M, lang, 'title', { date: day }), lang, now);
  doc.font('bold').fontSize(16).text(orgName);
  doc.fontSize(13).text(t(M, lang, 'title', { date: day }));
  doc.moveDown(0.5);
  const registered = letters.filter((l) => l.registered).length;
  const pages = letters.reduce((n, l) => n + l.pages, 0);
  doc.font('regular').fontSize(10).text(t(M, lang, 'summary', { n: letters.length, r: registered, p: pages }));
  doc.moveDown();
  if (letters.length === 0) doc.text(t(M, lang, 'none'));
  const cols = [
    { key: 'col_no', x: 50, w: 30 },
    { key: 'col_recipient', x: 80, w: 175 },
    { key: 'col_mode', x: 258, w: 50 },
    { key: 'col_tracking', x: 310, w: 95 },
    { key: 'col_pages', x: 407, w: 30 },
    { key: 'col_hash', x: 440, w: 105 },
  ] as const;
  const header = () => {
    const y = doc.y;
    doc.font('bold').fontSize(8);
    for (const c of cols) doc.text(t(M, lang, c.key), c.x, y, { width: c.w });
    doc.moveTo(50, doc.y + 2).lineTo(545, doc.y + 2).stroke();
    doc.y += 6;
    doc.font('regular');
  };
  header();
  letters.forEach((l, k) => {
    if (doc.y > 760) {
      doc.addPage();
      header();
    }
    const y = doc.y;
    const cells = [String(k + 1), l.recipient.join(', '), t(M, lang, l.registered ? 'registered' : 'simple'), l.tracking ?? '', String(l.pages), l.sha256.slice(0, 16)];
    let bottom = y;
    cols.forEach((c, i) => {
      doc.text(cells[i]!, c.x, y, { width: c.w });
      bottom = Math.max(bottom, doc.y);
    });
    doc.y = bottom + 4;
  });
  doc.end();
  return bytes;
}
