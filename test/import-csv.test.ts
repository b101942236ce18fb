import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { importCsv } from '../src/imports/csv.ts';
import { createOrganisation, getCustomer, getInvoiceByNumber, listCustomers } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const F = (n: string) => join(import.meta.dirname, 'fixtures', 'imports', n);

describe.each(dbTargets())('CSV imports on $name', (target) => {
  let db: Db;
  let org: string;
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', siren: '732829320' })).id;
  });
  afterAll(async () => db?.close());

  it('reads a Windows-1252, semicolon, French-header file with decimal commas and dd/mm/yyyy dates', async () => {
    const r = await importCsv(db, org, 'invoices', { path: F('invoices-fr-1252.csv') });
    expect(r.problems).toEqual([]);
    expect(r.outcome).toBe('imported');
    expect(r.detected).toMatchObject({
      encoding: 'windows-1252',
      separator: ';',
      columns: { number: 'N° facture', dueDate: "Date d'échéance", amountInclTax: 'Montant TTC', customerKey: 'Code client', customerName: 'Client' },
    });
    expect(r.counts.invoices).toEqual({ inserted: 4, updated: 0, unchanged: 0 });
    const inv = await getInvoiceByNumber(db, org, 'FA-2026-002');
    expect(inv).toMatchObject({ issueDate: '2026-01-20', dueDate: '2026-02-19', amountInclTaxMinor: 30060n, amountExclTaxMinor: 25050n });
    // "Reste dû" below the total: the part already paid in the invoicing tool is settled.
    expect(inv.openMinor).toBe(10060n);
    expect((await getInvoiceByNumber(db, org, 'FA-2026-003')).status).toBe('paid');
    // No due date: issue date + 30 days, said in the report.
    expect((await getInvoiceByNumber(db, org, 'FA-2026-004')).dueDate).toBe('2026-03-05');
    expect(r.warnings.join()).toMatch(/due date/);
    const [emile] = await listCustomers(db, org, { search: 'C001' });
    expect(emile!.legalName).toBe('Boulangerie Pâtisserie Émile');
    expect(emile!.siren).toBe('552100554');
  });

  it('re-importing the same file changes nothing and duplicates nothing', async () => {
    const r = await importCsv(db, org, 'invoices', { path: F('invoices-fr-1252.csv') });
    expect(r.outcome).toBe('imported');
    expect(r.counts.invoices).toEqual({ inserted: 0, updated: 0, unchanged: 4 });
    expect(r.counts.payments).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
    expect(r.counts.allocations?.inserted).toBe(0);
    expect((await getInvoiceByNumber(db, org, 'FA-2026-002')).openMinor).toBe(10060n);
  });

  it('reads a UTF-8 file with a BOM, comma separator and English headers', async () => {
    const r = await importCsv(db, org, 'invoices', { path: F('invoices-en-bom.csv') });
    expect(r.problems).toEqual([]);
    expect(r.detected).toMatchObject({ encoding: 'utf-8', bom: true, separator: ',' });
    const inv = await getInvoiceByNumber(db, org, 'INV-2');
    expect(inv.currency).toBe('GBP');
    expect(inv.amountInclTaxMinor).toBe(9990n);
    const [acme] = await listCustomers(db, org, { search: 'K1' });
    expect(acme!.legalName).toBe('Acme, Ltd');
  });

  it('rejects a file with bad rows whole, naming every line, column and reason', async () => {
    const r = await importCsv(db, org, 'invoices', { path: F('invoices-bad.tsv') });
    expect(r.outcome).toBe('rejected');
    expect(r.detected).toMatchObject({ separator: 'tab' });
    expect(r.problems.map((p) => [p.line, p.column])).toEqual([
      [3, 'Date facture'],
      [4, 'Échéance'],
      [5, 'Montant TTC'],
      [6, 'N° facture'],
      [7, 'N° facture'],
      [8, 'Montant TTC'],
    ]);
    expect(r.problems[0]!.reason).toMatch(/31\/02\/2026/);
    expect(r.problems[3]!.reason).toMatch(/first at line 2/);
    // Nothing was written, not even the good first row.
    await expect(getInvoiceByNumber(db, org, 'B-1')).rejects.toThrow(/not found/);
  });

  it('dry run checks and counts but writes nothing', async () => {
    const r = await importCsv(db, org, 'customers', { path: F('customers-fr.csv') }, { dryRun: true });
    expect(r.outcome).toBe('dry_run');
    // C002 came with the invoices with the same name and SIREN: unchanged.
    expect(r.counts.customers).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
    expect(await listCustomers(db, org, { search: 'C004' })).toEqual([]);
  });

  it('imports customers with contacts, then payments allocated to their invoices', async () => {
    const c = await importCsv(db, org, 'customers', { path: F('customers-fr.csv') });
    expect(c.problems).toEqual([]);
    const [emile] = await listCustomers(db, org, { search: 'C001' });
    const full = await getCustomer(db, org, emile!.id);
    expect(full.paymentTermsDays).toBe(45);
    expect(full.vatNumber).toBe('FR40552100554');
    expect(full.contacts.map((x) => x.email)).toEqual(['compta@emile.fr']);
    const again = await importCsv(db, org, 'customers', { path: F('customers-fr.csv') });
    expect(again.counts.customers).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
    expect((await getCustomer(db, org, emile!.id)).contacts).toHaveLength(1);

    const p = await importCsv(db, org, 'payments', { path: F('payments-fr.csv') });
    expect(p.problems).toEqual([]);
    expect(p.counts.payments?.inserted).toBe(3);
    expect((await getInvoiceByNumber(db, org, 'FA-2026-001')).status).toBe('paid');
    expect((await getInvoiceByNumber(db, org, 'FA-2026-002')).openMinor).toBe(5060n);
    const p2 = await importCsv(db, org, 'payments', { path: F('payments-fr.csv') });
    expect(p2.counts.payments).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
    expect((await getInvoiceByNumber(db, org, 'FA-2026-002')).openMinor).toBe(5060n);
  });

  it('a mapping file names columns the headers do not give away', async () => {
    const csv = 'Ref;Tiers;Emis le;Payable le;Total\nX-1;Zed;01/03/2026;03/31/2026;10\n';
    const r = await importCsv(db, org, 'invoices', { bytes: Buffer.from(csv), filename: 'custom.csv' }, {
      mapping: { columns: { number: 'Ref', customerName: 'Tiers', issueDate: 'Emis le', dueDate: 'Payable le', amountInclTax: 5 }, dateFormat: 'mm/dd/yyyy' },
    });
    expect(r.problems).toEqual([]);
    expect((await getInvoiceByNumber(db, org, 'X-1')).dueDate).toBe('2026-03-31');
  });

  it('says which column it could not find', async () => {
    const r = await importCsv(db, org, 'invoices', { bytes: Buffer.from('foo;bar\n1;2\n'), filename: 'x.csv' });
    expect(r.outcome).toBe('rejected');
    expect(r.problems[0]).toMatchObject({ line: 1, column: 'number' });
    expect(r.problems[0]!.reason).toMatch(/--mapping/);
  });
});
