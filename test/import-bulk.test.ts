/**
 * Imports large enough to take the bulk path (batches of 200 rows or more go by COPY into a staging
 * table, on PGlite as on PostgreSQL): new rows, re-import unchanged, re-import with changes
 * (updated by number, never duplicated), refusals with their line and column, all or nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { importCsv } from '../src/imports/csv.ts';
import { createOrganisation, getInvoiceByNumber } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const N = 600;
const csv = (rows: string[]) => Buffer.from(`N° facture;Code client;Client;Date;Date d'échéance;Montant TTC;Montant HT\n${rows.join('\n')}\n`, 'utf8');
const row = (i: number, ttc = 120 + i) =>
  `FB-${String(i).padStart(5, '0')};K${i};Client ${i}\tS\\A;${String((i % 28) + 1).padStart(2, '0')}/01/2026;15/03/2026;${ttc},00;${100 + i},00`;

describe.each(dbTargets())('bulk CSV imports on $name', (target) => {
  let db: Db;
  let org: string;
  const count = async (table: string) =>
    Number((await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${table} WHERE organisation_id = $1`, [org]))[0]!.n);

  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', siren: '732829320' })).id;
  });
  afterAll(async () => db?.close());

  const rows = Array.from({ length: N }, (_, i) => row(i));

  it('imports every row, with its customers', async () => {
    const progress: number[] = [];
    const r = await importCsv(db, org, 'invoices', { bytes: csv(rows), filename: 'big.csv' }, { onProgress: (p) => progress.push(p.rows) });
    expect(r.problems).toEqual([]);
    expect(r.outcome).toBe('imported');
    expect(r.counts.invoices).toEqual({ inserted: N, updated: 0, unchanged: 0 });
    expect(r.counts.customers?.inserted).toBe(N);
    expect(progress.at(-1)).toBe(N);
    const inv = await getInvoiceByNumber(db, org, 'FB-00007');
    expect(inv).toMatchObject({ issueDate: '2026-01-08', dueDate: '2026-03-15', amountInclTaxMinor: 12700n, amountExclTaxMinor: 10700n });
    // A tab or a backslash inside a field travels through COPY escaped.
    const [c] = await db.query<{ legal_name: string }>(`SELECT legal_name FROM customers WHERE organisation_id = $1 AND external_id = 'K7'`, [org]);
    expect(c!.legal_name).toBe('Client 7\tS\\A');
  });

  it('the same file again changes nothing; changed amounts update the invoices in place', async () => {
    const again = await importCsv(db, org, 'invoices', { bytes: csv(rows), filename: 'big.csv' });
    expect(again.counts.invoices).toEqual({ inserted: 0, updated: 0, unchanged: N });
    const changed = rows.map((r, i) => (i % 3 === 0 ? row(i, 500 + i) : r));
    const r = await importCsv(db, org, 'invoices', { bytes: csv([...changed, row(N), row(N + 1)]), filename: 'big2.csv' });
    expect(r.problems).toEqual([]);
    expect(r.counts.invoices).toEqual({ inserted: 2, updated: N / 3, unchanged: N - N / 3 });
    expect(await count('invoices')).toBe(N + 2);
    expect((await getInvoiceByNumber(db, org, 'FB-00003')).amountInclTaxMinor).toBe(50300n);
  });

  it('a bad row anywhere: every problem reported with its line and column, nothing written', async () => {
    const bad = [...rows];
    bad[10] = row(10).replace('11/01/2026', '31/02/2026');
    bad[400] = bad[5]!; // the same number twice
    bad[450] = row(450).replace('570,00', 'douze');
    const before = await count('invoices');
    const r = await importCsv(db, org, 'invoices', { bytes: csv([...bad, row(9000)]), filename: 'bad.csv' });
    expect(r.outcome).toBe('rejected');
    expect(r.problems).toEqual([
      { line: 12, column: 'Date', reason: expect.stringMatching(/31\/02\/2026/) },
      { line: 402, column: 'N° facture', reason: 'appears twice in the file (first at line 7)' },
      { line: 452, column: 'Montant TTC', reason: expect.stringMatching(/douze/) },
    ]);
    expect(await count('invoices')).toBe(before);
  });
});
