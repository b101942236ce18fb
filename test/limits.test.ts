/**
 * Issue 15, "No upload stops the server" (parsers and limits): each finding has a test named after
 * it. Files are built from the real fixtures where a real file shows the case.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { RelanceError } from '../src/errors.ts';
import { decodeText, sniffEncoding } from '../src/formats/csv-sniff.ts';
import { parseBankFile } from '../src/formats/bank/detect.ts';
import { importCsv } from '../src/imports/csv.ts';
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
});
