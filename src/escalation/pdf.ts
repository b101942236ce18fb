/**
 * The escalation documents' PDF layout (declaration of claim, case file cover, statement of
 * account, injonction de payer data): pdfkit with the DejaVu fonts through the letters' `newPdf`,
 * titles, label/value lines and tables that continue on the next page with their header. Dated by
 * the day the document states (never the clock): the same inputs give the same bytes.
 */
import { type CalendarDate, formatLongDate } from '../domain/dates.ts';
import { formatMoney, type Minor } from '../domain/money.ts';
import { newPdf } from '../delivery/letters.ts';
import type { Lang } from '../i18n/index.ts';

export type Doc = PDFKit.PDFDocument;

const LEFT = 50;
const WIDTH = 495;
const BOTTOM = 780;

export function escalationPdf(title: string, lang: Lang, day: CalendarDate): { doc: Doc; bytes: Promise<Buffer> } {
  return newPdf(title, lang, new Date(`${day}T00:00:00Z`));
}

export const money = (minor: Minor, currency: string, lang: Lang) => formatMoney(minor, currency, lang);
export const longDate = (d: CalendarDate, lang: Lang) => formatLongDate(d, lang);

export function title(doc: Doc, text: string): void {
  doc.font('bold').fontSize(15).text(text, LEFT, doc.y, { width: WIDTH });
  doc.moveDown(0.4).font('regular').fontSize(10);
}

export function heading(doc: Doc, text: string): void {
  if (doc.y > BOTTOM - 60) doc.addPage();
  doc.moveDown(0.6).font('bold').fontSize(11.5).text(text, LEFT, doc.y, { width: WIDTH });
  doc.moveDown(0.2).font('regular').fontSize(9.5);
}

export function para(doc: Doc, text: string, opts: { size?: number; color?: string } = {}): void {
  if (doc.y > BOTTOM - 20) doc.addPage();
  doc.font('regular').fontSize(opts.size ?? 9.5).fillColor(opts.color ?? 'black').text(text, LEFT, doc.y, { width: WIDTH });
  doc.fillColor('black');
}

/** "Label: value" lines, the label in bold; empty values are left out. */
export function fields(doc: Doc, rows: Array<[string, string | null | undefined]>, lang: Lang): void {
  const sep = lang === 'fr' ? ' : ' : ': ';
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === '') continue;
    if (doc.y > BOTTOM - 14) doc.addPage();
    doc.font('bold').fontSize(9.5).text(`${label}${sep}`, LEFT, doc.y, { continued: true, width: WIDTH });
    doc.font('regular').text(value);
  }
}

export interface Column {
  header: string;
  width: number;
  align?: 'left' | 'right';
}

/** A table; rows that would cross the bottom go to the next page under the header again. */
export function table(doc: Doc, cols: Column[], rows: string[][], opts: { boldLast?: boolean } = {}): void {
  const total = cols.reduce((a, c) => a + c.width, 0);
  const scale = WIDTH / total;
  const widths = cols.map((c) => c.width * scale);
  const drawRow = (cells: string[], bold: boolean) => {
    doc.font(bold ? 'bold' : 'regular').fontSize(8.5);
    const h = Math.max(...cells.map((c, k) => doc.heightOfString(c, { width: widths[k]! - 4 })), 10) + 4;
    if (doc.y + h > BOTTOM) {
      doc.addPage();
      drawRow(cols.map((c) => c.header), true);
    }
    const y = doc.y;
    let x = LEFT;
    cells.forEach((c, k) => {
      doc.text(c, x + 2, y + 2, { width: widths[k]! - 4, align: cols[k]!.align ?? 'left' });
      x += widths[k]!;
    });
    doc.y = y + h;
    doc.moveTo(LEFT, doc.y).lineTo(LEFT + WIDTH, doc.y).lineWidth(0.3).strokeColor('#999999').stroke();
  };
  drawRow(cols.map((c) => c.header), true);
  rows.forEach((r, k) => {
    drawRow(r, opts.boldLast === true && k === rows.length - 1);
  });
  doc.x = LEFT;
  doc.font('regular').fontSize(9.5);
  doc.moveDown(0.3);
}
