/**
 * Issue 15, "No upload stops the server" (parsers and limits): each finding has a test named after
 * it. Files are built from the real fixtures where a real file shows the case.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDeflate, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { RelanceError } from '../src/errors.ts';
import { decodeText, sniffEncoding } from '../src/formats/csv-sniff.ts';
import { parseBankFile } from '../src/formats/bank/detect.ts';
import { embeddedFiles, PDF_LIMITS } from '../src/formats/einvoice/pdf.ts';
import { parseEInvoice } from '../src/formats/einvoice/index.ts';
import { createApp } from '../src/http/app.ts';
import { importCsv } from '../src/imports/csv.ts';
import { MAX_FIELD_CHARS } from '../src/formats/delimited.ts';
import { importEInvoices } from '../src/imports/einvoice.ts';
import { importFec } from '../src/imports/fec.ts';
import { openDelimited } from '../src/imports/source.ts';
import { createOrganisation, listInvoices } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const fixture = (p: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url)));

function refusal(fn: () => unknown): RelanceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RelanceError);
    return e as RelanceError;
  }
  throw new Error('expected a refusal');
}

describe('15.11 one bad byte in a UTF-8 file', () => {
  // The real French bank export, in UTF-8, with one byte of one accented letter lost on the way.
  const good = fixture('bank/csv/bsp-csv_french_headers.csv');
  const at = good.indexOf(Buffer.from('Café'));
  const bad = Buffer.concat([good.subarray(0, at + 3), Buffer.from([0xe9]), good.subarray(at + 5)]);

  it('15.11 a UTF-8 file with one bad byte is refused naming the line, column and byte, never read as Windows-1252', () => {
    expect(good.includes(Buffer.from('é'))).toBe(true);
    const e = refusal(() => parseBankFile(bad, { filename: 'releve.csv' }));
    expect(e.code).toBe('parse');
    expect(e.where).toMatchObject({ file: 'releve.csv', line: 4 });
    expect(e.message).toBe('the file is UTF-8 but byte 0xE9 (line 4, column 15) is not valid UTF-8: save it again as UTF-8, or give its encoding if it is not UTF-8 (--encoding windows-1252)');
    expect(e.detail('fr')).toMatch(/^le fichier est en UTF-8 mais l’octet 0xE9 \(ligne 4, colonne 15\)/);
  });

  it('15.11 the rule per file: valid UTF-8 is UTF-8, an 8-bit export with no UTF-8 sequence is Windows-1252, a BOM says UTF-8', () => {
    expect(decodeText(good)).toContain('Date opération;Libellé;Débit;Crédit');
    const latin = Buffer.from('Date;Libellé;Montant\n01/02/2026;Café;4,50\n', 'latin1');
    expect(decodeText(latin)).toContain('Libellé');
    expect(sniffEncoding(latin)).toEqual({ encoding: 'windows-1252', bomLength: 0 });
    expect(sniffEncoding(good)).toEqual({ encoding: 'utf-8', bomLength: 0 });
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), latin]);
    expect(refusal(() => sniffEncoding(bom, undefined, 'windows-1252', 'f.csv')).where).toEqual({ file: 'f.csv', line: 1 });
    // Declared by the user, the encoding is taken as given.
    expect(sniffEncoding(bad, 'windows-1252').encoding).toBe('windows-1252');
  });
});

/** A PDF of the given objects (each "N 0 obj ... endobj"), with the catalog as object 1. */
function pdf(objects: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  objects.forEach((o, i) => {
    parts.push(Buffer.from(`${i + 1} 0 obj\n`), Buffer.isBuffer(o) ? o : Buffer.from(o), Buffer.from('\nendobj\n'));
  });
  parts.push(Buffer.from('trailer << /Root 1 0 R >>\n%%EOF\n'));
  return Buffer.concat(parts);
}

/** A stream object whose FlateDecode data inflates to `bytes` zeros (compressed while it is made). */
async function zeros(bytes: number): Promise<Buffer> {
  const z = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => z.on('end', r));
  const mib = Buffer.alloc(1 << 20);
  for (let n = 0; n < bytes; n += mib.length) if (!z.write(mib)) await new Promise((r) => z.once('drain', r));
  z.end();
  await done;
  const data = Buffer.concat(out);
  return Buffer.concat([Buffer.from(`<< /Type /EmbeddedFile /Filter /FlateDecode /Length ${data.length} >>\nstream\n`), data, Buffer.from('\nendstream')]);
}

describe('15.7 / 15.8 the PDF reader is bounded', () => {
  it('15.7 a 33-byte PDF with a self-referencing object does not hang the reader', () => {
    const b = Buffer.from('%PDF-1.7\n/K <41 1 0 obj << /K <41');
    expect(b.length).toBe(33);
    expect(embeddedFiles(b)).toEqual([]);
    expect(refusal(() => parseEInvoice(b)).message).toMatch(/no factur-x\.xml/);
  });

  it('15.7 a name tree whose /Kids lists itself is walked once', () => {
    const kids = Array.from({ length: 20 }, () => '2 0 R').join(' ');
    const b = pdf(['<< /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >>', `<< /Kids [${kids}] >>`]);
    expect(embeddedFiles(b)).toEqual([]);
  });

  it('15.7 values nested beyond the reader\'s depth are refused as too complex, not a stack overflow', () => {
    const deep = pdf([`<< /Type /Catalog /AF ${'['.repeat(100_000)} >>`]);
    expect(refusal(() => embeddedFiles(deep)).message).toMatch(/too complex to read .*deeper than 64 levels/);
    // Objects opened inside one another: each would be read again to the end of the file. The
    // reader's budget (values per byte of the file) stops it, linear in the file's size.
    const body = Array.from({ length: 5000 }, (_, k) => `${k + 1} 0 obj [${' 1'.repeat(200)}`).join('\n');
    const many = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(body)]);
    expect(refusal(() => embeddedFiles(many)).message).toMatch(/too complex to read/);
  });

  it('15.8 a PDF whose attachment inflates to 256 MiB is refused at the stream limit, memory bounded', async () => {
    const stream = await zeros(256 << 20);
    const b = pdf([
      '<< /Type /Catalog /AF [3 0 R] >>',
      stream,
      '<< /Type /Filespec /F (factur-x.xml) /UF (factur-x.xml) /EF << /F 2 0 R >> >>',
    ]);
    expect(b.length).toBeLessThan(1 << 20);
    const e = refusal(() => parseEInvoice(b, 'bomb.pdf'));
    expect(e.code).toBe('parse');
    expect(e.message).toBe(`a stream of the PDF (object 2) inflates beyond ${PDF_LIMITS.maxStreamBytes} bytes: refused`);
  });

  it('15.8 streams that each fit but together inflate beyond the file\'s budget are refused', async () => {
    const s = await zeros(30 << 20);
    const specs = [4, 5, 6].map((n, i) => `<< /Type /Filespec /F (a${i}.xml) /EF << /F ${n - 3 + 1} 0 R >> >>`);
    const b = pdf(['<< /Type /Catalog /AF [5 0 R 6 0 R 7 0 R] >>', s, s, s, ...specs]);
    expect(refusal(() => embeddedFiles(b)).message).toBe(`the PDF's streams inflate beyond ${PDF_LIMITS.maxInflatedBytes} bytes in all: refused`);
    // A real Factur-X PDF is far inside every limit.
    expect(embeddedFiles(fixture('einvoice/factur-x-invoice_EN16931.pdf')).map((f) => f.name)).toContain('factur-x.xml');
    expect(deflateSync(Buffer.alloc(10)).length).toBeGreaterThan(0);
  });
});

describe('15.9 the delimited reader is linear and refuses a giant field by line and column', () => {
  it('15.9 a 16 MB field is refused once the record passes the limit, naming its line and column', async () => {
    const big = 'x'.repeat(16 << 20);
    const bytes = Buffer.from(`N° facture;Client;Montant\nF-1;A;10,00\nF-2;"${big}";20,00\n`);
    const f = await openDelimited({ bytes, filename: 'big.csv' });
    let err: unknown;
    try {
      for await (const _ of f.batches) {
        // read on
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RelanceError);
    expect((err as RelanceError).where).toEqual({ file: 'big.csv', line: 3, field: 'column 2' });
    expect((err as RelanceError).message).toMatch(/^line 3, column 2: a field of \d+ characters, beyond the 100000 accepted/);
  });
});

describe.each(dbTargets())('issue 15 limits through the importers on $name', (target) => {
  let db: Db;
  let org: string;
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Limites' })).id;
  });
  afterAll(async () => db?.close());

  it('15.11 an invoice import with one bad byte deep in a UTF-8 file stores nothing and names the line', async () => {
    const rows = Array.from({ length: 6000 }, (_, i) => `F-${i};Client ${i % 7};Société Générale d’Électricité;01/02/2026;03/03/2026;${i + 1},00`);
    const text = Buffer.from(`N° facture;Code client;Client;Date;Échéance;Montant TTC\n${rows.join('\n')}\n`);
    const at = text.indexOf(Buffer.from('F-5000;'));
    const pos = text.indexOf(Buffer.from('é'), at);
    const bytes = Buffer.concat([text.subarray(0, pos), Buffer.from([0xe9, 0x20]), text.subarray(pos + 2)]);
    const r = await importCsv(db, org, 'invoices', { bytes, filename: 'factures.csv' });
    expect(r.outcome).toBe('rejected');
    expect(r.problems[0]).toMatchObject({ line: 5002 });
    expect(r.problems[0]!.reason).toMatch(/byte 0xE9 \(line 5002, column \d+\) is not valid UTF-8/);
    expect(await listInvoices(db, org, {})).toHaveLength(0);
  });

  it('15.9 a 1 MB field is refused with its line and column before anything reaches the database', async () => {
    const bytes = Buffer.from(`N° facture;Code client;Client;Date;Échéance;Montant TTC\nF-1;C1;Client 1;01/02/2026;03/03/2026;10,00\nF-2;C2;${'y'.repeat(1 << 20)};01/02/2026;03/03/2026;20,00\n`);
    const r = await importCsv(db, org, 'invoices', { bytes, filename: 'f.csv' });
    expect(r.outcome).toBe('rejected');
    expect(r.problems).toEqual([{ line: 3, column: 'column 3', reason: expect.stringMatching(new RegExp(`^line 3, column 3: a field of \\d+ characters, beyond the ${MAX_FIELD_CHARS} accepted`)) }]);
    expect(await listInvoices(db, org, {})).toHaveLength(0);
  });

  it('15.12 an amount of 2^63 in a CSV is refused by line and column, and the ledger stays readable', async () => {
    const bytes = Buffer.from('N° facture;Code client;Client;Date;Échéance;Montant TTC\nF-9;C9;Client 9;01/02/2026;03/03/2026;92233720368547758,07\n');
    const r = await importCsv(db, org, 'invoices', { bytes, filename: 'f.csv' });
    expect(r.outcome).toBe('rejected');
    expect(r.problems[0]).toMatchObject({ line: 2, column: 'Montant TTC' });
    expect(r.problems[0]!.reason).toBe('"92233720368547758,07" exceeds the largest amount accepted (100000000000.00)');
  });

  it('15.12 over-range amounts are refused with their place in every reader and in the API', async () => {
    const camt = fixture('bank/camt053/camt053.v2.minimal.xml').toString('utf8').replace('>885<', '>885<').replace(/<Amt Ccy="EUR">8\.85<\/Amt>/, '<Amt Ccy="EUR">100000000000.01</Amt>');
    expect(camt).toContain('100000000000.01');
    expect(refusal(() => parseBankFile(Buffer.from(camt), { filename: 'c.xml' })).where).toMatchObject({ file: 'c.xml', path: expect.stringMatching(/Ntry\[1\]\/Amt$/) });
    const ofx = fixture('bank/ofx/checking.ofx').toString('latin1').replace(/<TRNAMT>[^<\n]+/, '<TRNAMT>-9999999999999999.99');
    expect(refusal(() => parseBankFile(Buffer.from(ofx, 'latin1'), { filename: 'o.ofx' })).message).toMatch(/exceeds the largest amount accepted/);
    const fec = fixture('fec/123456782FEC20251231.txt').toString('latin1').replace('\t1200,00\t0,00\tAA', '\t99999999999999,00\t0,00\tAA');
    const r = await importFec(db, org, { bytes: Buffer.from(fec, 'latin1'), filename: 'FEC.txt' });
    expect(r.problems[0]).toMatchObject({ line: 2, column: 'Debit' });
    const key = (await createApiKey(db, org, { name: 'k', scope: 'write' })).key;
    const app = createApp({ db, now: () => new Date() });
    const c = await app.request('/api/v1/customers', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ legalName: 'API Client' }) });
    const customerId = ((await c.json()) as { id: string }).id;
    const res = await app.request('/api/v1/invoices', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, number: 'API-1', issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '922337203685477.58' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'validation', where: { field: 'amountInclTax' } });
  });

  it('control characters are refused in identifiers: CSV invoice numbers, FEC piece references, e-invoice numbers, the API', async () => {
    const csv = Buffer.from('N° facture;Code client;Client;Date;Échéance;Montant TTC\n"F-1\r\nX";C1;Client 1;01/02/2026;03/03/2026;10,00\n');
    const r = await importCsv(db, org, 'invoices', { bytes: csv, filename: 'f.csv' });
    expect(r.problems[0]).toMatchObject({ column: 'N° facture' });
    expect(r.problems[0]!.reason).toBe('number holds a control character (U+000D) at position 4: an identifier is one line of printable characters');
    const fec = fixture('fec/123456782FEC20251231.txt').toString('latin1').replace('\tF-0042\t20250120\tFacture F-0042 Bernard\t2400,00', '\tF-00\u000b42\t20250120\tFacture F-0042 Bernard\t2400,00');
    const f = await importFec(db, org, { bytes: Buffer.from(fec, 'latin1'), filename: 'FEC.txt' });
    expect(f.problems[0]).toMatchObject({ line: 8, column: 'PieceRef' });
    const xml = fixture('einvoice/factur-x-basic.xml').toString('utf8').replace('<ram:ID>F20260023</ram:ID>', '<ram:ID>F2026\n0023</ram:ID>');
    const e = await importEInvoices(db, org, [{ bytes: Buffer.from(xml), filename: 'fx.xml' }]);
    expect(e.problems[0]!.reason).toMatch(/BT-1 holds a control character \(U\+000A\)/);
    const key = (await createApiKey(db, org, { name: 'k2', scope: 'write' })).key;
    const app = createApp({ db, now: () => new Date() });
    const c = await app.request('/api/v1/customers', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ legalName: 'API Client 2' }) });
    const customerId = ((await c.json()) as { id: string }).id;
    const res = await app.request('/api/v1/invoices', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, number: 'API\r\n2', issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '12.00' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'validation', where: { field: 'number' } });
  });

  it('FEC errors name the physical line and the FEC date format (LF and CRLF files)', async () => {
    for (const eol of ['\r\n', '\n']) {
      const text = fixture('fec/123456782FEC20251231.txt').toString('latin1').replace(/\r\n/g, eol).replace('VE\tVentes\t2\t20250115', 'VE\tVentes\t2\t20251315');
      const r = await importFec(db, org, { bytes: Buffer.from(text, 'latin1'), filename: 'FEC.txt' });
      expect(r.problems).toEqual([{ line: 5, column: 'EcritureDate', reason: '"20251315" is not a date (YYYYMMDD expected, the FEC\'s date format)' }]);
    }
  });
});
