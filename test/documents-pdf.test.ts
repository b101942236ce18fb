/**
 * PDF letters checked from the outside, the way a bank app and a reader see them: the page is
 * rasterised by poppler (pdftoppm), the QR code decoded by an independent reader (jsQR), the text
 * extracted by pdftotext. Needs Debian's poppler-utils (apt-get install -y poppler-utils).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeDocument } from '../src/documents/compose.ts';
import { sampleInput } from '../src/documents/samples.ts';

// jsqr is CommonJS with an ES-style default in its types: take whichever the loader hands over.
type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { binaryData: number[] } | null;
const jsQR = ((jsQRModule as unknown as { default?: JsQr }).default ?? jsQRModule) as unknown as JsQr;

let dir: string;
beforeAll(() => {
  try {
    execFileSync('pdftoppm', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('these tests need pdftoppm and pdftotext: apt-get install -y poppler-utils');
  }
  dir = mkdtempSync(join(tmpdir(), 'relance-pdf-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writePdf(name: string, pdf: Buffer): string {
  const file = join(dir, `${name}.pdf`);
  writeFileSync(file, pdf);
  return file;
}

/** Text of the PDF with every kind of space made ordinary, so assertions read naturally. */
function pdfText(file: string): string {
  return layoutText(file).replace(/[\u00a0\u202f\s]+/g, ' ');
}

/** Text laid out as on the page: a table row stays on one line. */
function layoutText(file: string): string {
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
}

/** Rasterise every page at 200 dpi and return the first QR code found, decoded. */
function decodeQr(file: string): string | null {
  const prefix = join(dir, `page-${Math.random().toString(36).slice(2)}`);
  execFileSync('pdftoppm', ['-r', '200', '-png', file, prefix]);
  const pages = readdirSync(dir).filter((f) => join(dir, f).startsWith(prefix)).sort();
  for (const p of pages) {
    const png = PNG.sync.read(readFileSync(join(dir, p)));
    const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
    if (code) return new TextDecoder().decode(Uint8Array.from(code.binaryData));
  }
  return null;
}

function pageCount(file: string): number {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Number(/Pages:\s+(\d+)/.exec(info)![1]);
}

describe('letter PDFs', () => {
  it('print an EPC QR code that an independent decoder reads back as the exact payload', async () => {
    const doc = await composeDocument({ key: 'reminder', channel: 'letter', input: sampleInput('business', 'fr', 'reminder') });
    expect(doc.epcPayload).toBe('BCD\n002\n1\nSCT\nAGRIFRPP\nAtelier Dupont SAS\nFR7630006000011234567890189\nEUR12000.00\n\nRF22F20250412');
    const file = writePdf('reminder', doc.pdf!);
    expect(decodeQr(file)).toBe(doc.epcPayload);
  });

  it('put the penalties in the QR amount of a formal notice, and UTF-8 names survive the round trip', async () => {
    const input = sampleInput('business', 'en', 'formal_notice');
    input.organisation = { ...input.organisation, legalName: 'Société Générale d’Œuvres «Ça» SAS' };
    // Without the portal's box, the notice's first page keeps its payment QR code alone.
    input.links = { ...input.links, portal: null };
    const doc = await composeDocument({ key: 'formal_notice', channel: 'letter', input });
    expect(doc.epcPayload!.split('\n')[7]).toBe('EUR12412.43');
    expect(doc.epcPayload!.split('\n')[5]).toBe('Société Générale d’Œuvres «Ça» SAS');
    expect(decodeQr(writePdf('fn-en', doc.pdf!))).toBe(doc.epcPayload);
  });

  it('the French formal notice contains its mandatory mentions', async () => {
    const doc = await composeDocument({ key: 'formal_notice', channel: 'letter', input: sampleInput('business', 'fr', 'formal_notice') });
    const text = pdfText(writePdf('fn-fr', doc.pdf!));
    for (const mention of [
      'MISE EN DEMEURE',
      'Lettre recommandée avec accusé de réception',
      'nous vous mettons en demeure',
      'Principal restant dû 12 000,00 €',
      'Pénalités de retard au 15 septembre 2025 372,43 €',
      'Indemnité forfaitaire pour frais de recouvrement 40,00 €',
      '40 € par facture',
      'Total réclamé 12 412,43 €',
      'délai de 8 jours',
      'soit au plus tard le 23 septembre 2025',
      'injonction de payer',
      'recouvrement',
      'Lyon, le 15 septembre 2025',
      'Claire Martin',
      'Responsable comptabilité clients',
      'Objet : Mise en demeure de payer',
      'Réf. : Facture F-2025-0412 · RF22F20250412',
      'Boulangerie Lefèvre SARL',
      'SIREN 732 829 320',
    ]) {
      expect(text, mention).toContain(mention);
    }
    expect(text).toMatch(/Page 1\/\d/);
  });

  it('the consumer formal notice leaves out the business-only items', async () => {
    const doc = await composeDocument({ key: 'formal_notice', channel: 'letter', input: sampleInput('consumer', 'fr', 'formal_notice') });
    const text = pdfText(writePdf('fn-consumer', doc.pdf!));
    expect(text).toContain('MISE EN DEMEURE');
    expect(text.replace(/\s+/g, ' ')).toContain('elle portera intérêts au taux de l’intérêt légal à compter de la présente mise en demeure');
    // No amount for interest that has not started to run yet.
    expect(text).not.toMatch(/L441-10|Indemnité forfaitaire|40,00 €|Intérêts au taux légal/);
  });

  it('a statement of 80 invoices runs over several numbered pages, every invoice listed once', async () => {
    const doc = await composeDocument({ key: 'statement', channel: 'letter', input: sampleInput('business', 'fr', 'statement', 80) });
    const file = writePdf('statement', doc.pdf!);
    const pages = pageCount(file);
    expect(pages).toBeGreaterThanOrEqual(3);
    const text = pdfText(file);
    expect(text).toContain(`Page 1/${pages}`);
    expect(text).toContain(`Page ${pages}/${pages}`);
    const rows = layoutText(file)
      .split('\n')
      .map((l) => /^\s*(F-2025-\d{4})\s+\d{2}\/\d{2}\/\d{4}/.exec(l)?.[1])
      .filter(Boolean);
    expect(rows).toEqual(Array.from({ length: 80 }, (_, n) => `F-2025-${String(412 + n).padStart(4, '0')}`));
    expect(text).toContain('Total restant dû');
  });

  it('English letters follow English conventions', async () => {
    const doc = await composeDocument({ key: 'firm', channel: 'letter', input: sampleInput('business', 'en', 'firm') });
    const text = pdfText(writePdf('firm-en', doc.pdf!));
    expect(text).toContain('15 September 2025');
    expect(text).not.toContain('Lyon, le');
    expect(text).toContain('Subject: Second reminder');
    expect(text).toContain('Our ref.: Invoice F-2025-0412');
    expect(text).toContain('Yours sincerely');
    expect(text).toContain('€12,000.00');
  });

  it('the dispute acknowledgement asks for no payment: no payment box, no payment QR code; the portal’s QR code opens the customer’s link', async () => {
    const doc = await composeDocument({ key: 'dispute_ack', channel: 'letter', input: sampleInput('business', 'fr', 'dispute_ack') });
    expect(doc.epcPayload).toBeNull();
    const file = writePdf('dispute', doc.pdf!);
    const text = pdfText(file);
    expect(text).not.toContain('Montant à régler');
    expect(text).toContain('Votre espace client');
    expect(text).toContain('https://portail.atelier-dupont.fr/c/42');
    expect(decodeQr(file)).toBe('https://portail.atelier-dupont.fr/c/42');
    const without = await composeDocument({ key: 'dispute_ack', channel: 'letter', input: { ...sampleInput('business', 'fr', 'dispute_ack'), links: {} } });
    expect(decodeQr(writePdf('dispute-no-portal', without.pdf!))).toBeNull();
  });
});
