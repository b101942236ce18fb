import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { importFec } from '../src/imports/fec.ts';
import { createOrganisation, getInvoiceByNumber, listCustomers } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const F = (n: string) => join(import.meta.dirname, 'fixtures', 'imports', n);

describe.each(dbTargets())('FEC import on $name', (target) => {
  let db: Db;
  let org: string;
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', siren: '732829320' })).id;
  });
  afterAll(async () => db?.close());

  it('turns 411 lines into customers, invoices, credit notes, payments and lettering into allocations', async () => {
    const r = await importFec(db, org, { path: F('732829320FEC20261231.txt') });
    expect(r.problems).toEqual([]);
    expect(r.outcome).toBe('imported');
    expect(r.detected).toMatchObject({ encoding: 'iso-8859-15', separator: 'tab', amounts: 'debit_credit', partialLetteringGroups: 1 });
    expect(r.counts.customers?.inserted).toBe(2);
    expect(r.counts.invoices?.inserted).toBe(4);
    expect(r.counts.credit_notes?.inserted).toBe(1);
    expect(r.counts.payments?.inserted).toBe(4);

    const customers = await listCustomers(db, org, {});
    expect(customers.map((c) => [c.externalId, c.legalName]).sort()).toEqual([
      ['411DUP', 'Dupont SARL'],
      ['411MAR', 'Martin & Fils Électricité'],
    ]);
    // Lettered group AA balanced: paid.
    const fa1 = await getInvoiceByNumber(db, org, 'FA001');
    expect(fa1).toMatchObject({ status: 'paid', amountInclTaxMinor: 120000n, amountExclTaxMinor: 100000n, issueDate: '2026-01-10', dueDate: '2026-02-09' });
    // Partial lettering "b": 200 of 600 paid.
    expect(await getInvoiceByNumber(db, org, 'FA002')).toMatchObject({ status: 'partially_paid', openMinor: 40000n });
    // Unlettered: open.
    expect(await getInvoiceByNumber(db, org, 'FA003')).toMatchObject({ status: 'open', openMinor: 24000n });
    // Settled by a credit note and a payment in the same group.
    expect(await getInvoiceByNumber(db, org, 'FA004')).toMatchObject({ status: 'paid' });
    const [unallocated] = await db.query<{ amount_minor: bigint; allocated_minor: bigint }>(
      `SELECT amount_minor, allocated_minor FROM payments WHERE organisation_id = $1 AND external_id = 'fec:BQ:BQ4:411DUP'`,
      [org],
    );
    expect(unallocated).toEqual({ amount_minor: 5000n, allocated_minor: 0n });
  });

  it('re-importing the same FEC changes nothing', async () => {
    const r = await importFec(db, org, { path: F('732829320FEC20261231.txt') });
    expect(r.problems).toEqual([]);
    expect(r.counts.invoices).toEqual({ inserted: 0, updated: 0, unchanged: 4 });
    expect(r.counts.payments).toEqual({ inserted: 0, updated: 0, unchanged: 4 });
    expect(r.counts.allocations?.inserted).toBe(0);
    expect((await getInvoiceByNumber(db, org, 'FA002')).openMinor).toBe(40000n);
    const [{ n }] = (await db.query<{ n: bigint }>('SELECT count(*) AS n FROM allocations WHERE organisation_id = $1', [org])) as [{ n: bigint }];
    expect(n).toBe(4n);
  });

  it('reads the ";" / Montant + Sens / dd/mm/yyyy variant seen in the wild', async () => {
    const r = await importFec(db, org, { path: F('fec-montant-sens.csv') });
    expect(r.problems).toEqual([]);
    expect(r.detected).toMatchObject({ separator: ';', amounts: 'montant_sens', encoding: 'utf-8' });
    expect(await getInvoiceByNumber(db, org, 'F-900')).toMatchObject({ amountInclTaxMinor: 12000n, amountExclTaxMinor: 10000n, issueDate: '2026-01-10' });
  });

  it('rejects a FEC with bad lines whole, with line and column', async () => {
    const r = await importFec(db, org, { path: F('fec-montant-sens-bad.csv') });
    expect(r.outcome).toBe('rejected');
    expect(r.problems.map((p) => [p.line, p.column])).toEqual([
      [5, 'Montant'],
      [6, 'Sens'],
    ]);
  });

  it('refuses a file that is not a FEC', async () => {
    const r = await importFec(db, org, { bytes: Buffer.from('a\tb\n1\t2\n'), filename: 'x.txt' });
    expect(r.outcome).toBe('rejected');
    expect(r.problems[0]!.reason).toMatch(/not a FEC file/);
  });
});
