/**
 * Payments that arrive without naming their invoice (CSV of payments, API) go through the same
 * matching as bank lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { importCsv } from '../src/imports/csv.ts';
import { createCustomer, createInvoice, createOrganisation, getInvoiceByNumber } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

describe.each(dbTargets())('payments matched like bank lines on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('a CSV of payments without an invoice column: the invoice named in the label is paid; an unknown payment stays credit', async () => {
    const org = (await createOrganisation(db, { legalName: 'Match SAS' })).id;
    const c = await createCustomer(db, org, { legalName: 'Boulangerie Martin SARL' });
    const other = await createCustomer(db, org, { legalName: 'Garage Dupont SAS' });
    await createInvoice(db, org, { customerId: c.id, number: 'FA-2026-0100', issueDate: '2026-02-01', dueDate: '2026-03-02', currency: 'EUR', amountExclTaxMinor: 10_000n, amountInclTaxMinor: 12_000n });
    await createInvoice(db, org, { customerId: other.id, number: 'FA-2026-0101', issueDate: '2026-02-01', dueDate: '2026-03-02', currency: 'EUR', amountExclTaxMinor: 10_000n, amountInclTaxMinor: 55_555n });
    const csv = 'Date;Payeur;Montant;Libellé\n05/03/2026;BOULANGERIE MARTIN;120,00;VIR SEPA REGLEMENT FACT FA 2026 0100\n06/03/2026;INCONNU SA;77,00;VIREMENT\n';
    const report = await importCsv(db, org, 'payments', { bytes: Buffer.from(csv, 'utf8'), filename: 'reglements.csv' });
    expect(report.outcome).toBe('imported');
    const paid = await getInvoiceByNumber(db, org, 'FA-2026-0100');
    expect([paid.status, paid.openMinor]).toEqual(['paid', 0n]);
    expect((await getInvoiceByNumber(db, org, 'FA-2026-0101')).openMinor).toBe(55_555n);
    const payments = await db.query<{ amount_minor: bigint; allocated_minor: bigint; customer_id: bigint | null }>(
      'SELECT amount_minor, allocated_minor, customer_id FROM payments WHERE organisation_id = $1 ORDER BY payment_date',
      [org],
    );
    expect(payments).toEqual([
      { amount_minor: 12_000n, allocated_minor: 12_000n, customer_id: c.id },
      { amount_minor: 7_700n, allocated_minor: 0n, customer_id: null },
    ]);
  });
});
