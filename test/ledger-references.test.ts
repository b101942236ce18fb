/**
 * What the foreign keys of invoices and payments promised, now kept by statement-level checks
 * (migration 0013); the bulk path that writes file batches by COPY straight into invoices; and
 * the customer search of the web app (migration 0014).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { refusalText, upsertInvoices } from '../src/ledger/bulk.ts';
import { ImportSession } from '../src/ledger/import-session.ts';
import { renderText } from '../src/i18n/index.ts';
import type { UpsertInvoice } from '../src/ledger/bulk-types.ts';
import { createCustomer, createInvoice, createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

/** n invoice rows of a file from line `from`, numbered PREFIX-00001…, all for one customer. */
const fileRows = (prefix: string, customer: string, from: number, n: number): UpsertInvoice[] =>
  Array.from({ length: n }, (_, i) => ({
    line: from + i,
    customerExternalId: customer,
    number: `${prefix}-${String(from + i).padStart(5, '0')}`,
    externalId: null,
    issueDate: '2026-09-01' as UpsertInvoice['issueDate'],
    dueDate: '2026-10-01' as UpsertInvoice['dueDate'],
    currency: 'EUR',
    amountExclTaxMinor: 1000n,
    amountInclTaxMinor: 1200n,
  }));

describe.each(dbTargets())('references and customer search on $name', (target) => {
  let db: Db;
  let org: string;
  let other: string;
  let dupont: bigint;
  let martin: bigint;
  let foreign: bigint;
  const invoice = (customerId: bigint, number: string) => ({
    customerId,
    number,
    issueDate: '2026-10-01',
    dueDate: '2026-10-31',
    currency: 'EUR',
    amountExclTaxMinor: 10000n,
    amountInclTaxMinor: 12000n,
  });

  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', siren: '732829320' })).id;
    other = (await createOrganisation(db, { legalName: 'Autre SARL' })).id;
    dupont = (await createCustomer(db, org, { externalId: 'CLI-0042', legalName: 'Établissements Dupont & Fils', siren: '552100554' })).id;
    martin = (await createCustomer(db, org, { externalId: 'M7', legalName: 'Boulangerie Martin' })).id;
    foreign = (await createCustomer(db, other, { legalName: 'Client d’une autre organisation' })).id;
    await createInvoice(db, org, invoice(dupont, 'FA-2026-001'));
  });
  afterAll(async () => db?.close());

  const insertInvoice = (orgId: string, customerId: bigint, number: string, pdf: bigint | null = null) =>
    db.query(
      `INSERT INTO invoices (organisation_id, customer_id, number, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor, pdf_document_id)
       VALUES ($1, $2, $3, '2026-10-01', '2026-10-31', 'EUR', 100, 120, $4)`,
      [orgId, customerId, number, pdf],
    );

  it('refuses an invoice or a payment for a customer that does not exist in the organisation, the whole statement', async () => {
    await expect(insertInvoice(org, 999_999n, 'FA-X1')).rejects.toMatchObject({ code: 'ledger_invariant', details: { constraint: 'invoices_organisation_id_customer_id_fkey' } });
    // Another organisation's customer is not this one's.
    await expect(insertInvoice(org, foreign, 'FA-X2')).rejects.toMatchObject({ code: 'ledger_invariant' });
    await expect(
      db.query(
        `INSERT INTO invoices (organisation_id, customer_id, number, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
         SELECT $1, c, 'FA-X3-' || c, '2026-10-01', '2026-10-31', 'EUR', 100, 120 FROM unnest($2::bigint[]) AS c`,
        [org, `{${martin},${999_998n}}`],
      ),
    ).rejects.toMatchObject({ code: 'ledger_invariant' });
    await expect(insertInvoice(org, martin, 'FA-X4', 123_456n)).rejects.toMatchObject({
      details: { constraint: 'invoices_organisation_id_pdf_document_id_fkey' },
    });
    await expect(
      db.query(`INSERT INTO payments (organisation_id, customer_id, payment_date, currency, amount_minor) VALUES ($1, $2, '2026-10-05', 'EUR', 100)`, [org, foreign]),
    ).rejects.toMatchObject({ details: { constraint: 'payments_organisation_id_customer_id_fkey' } });
    const [n] = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM invoices WHERE organisation_id = $1 AND number LIKE 'FA-X%'`, [org]);
    expect(n!.n).toBe(0n);
    // A payment without a customer (not yet matched) is fine.
    await db.query(`INSERT INTO payments (organisation_id, payment_date, currency, amount_minor) VALUES ($1, '2026-10-05', 'EUR', 100)`, [org]);
  });

  it('refuses moving an invoice or a payment to a customer that does not exist; moving to one that does is fine', async () => {
    await expect(db.query(`UPDATE invoices SET customer_id = $2 WHERE organisation_id = $1 AND number = 'FA-2026-001'`, [org, foreign])).rejects.toMatchObject({
      code: 'ledger_invariant',
    });
    await db.query(`UPDATE invoices SET customer_id = $2 WHERE organisation_id = $1 AND number = 'FA-2026-001'`, [org, martin]);
    await db.query(`UPDATE invoices SET customer_id = $2 WHERE organisation_id = $1 AND number = 'FA-2026-001'`, [org, dupont]);
    await expect(db.query(`UPDATE payments SET customer_id = 999999 WHERE organisation_id = $1`, [org])).rejects.toMatchObject({ code: 'ledger_invariant' });
  });

  it('refuses deleting a customer who still has invoices or payments; one without goes', async () => {
    await expect(db.query('DELETE FROM customers WHERE organisation_id = $1 AND id = $2', [org, dupont])).rejects.toMatchObject({
      code: 'ledger_invariant',
      details: { constraint: 'invoices_organisation_id_customer_id_fkey' },
    });
    const payer = (await createCustomer(db, org, { legalName: 'Payeur Seul' })).id;
    await db.query(`INSERT INTO payments (organisation_id, customer_id, payment_date, currency, amount_minor) VALUES ($1, $2, '2026-10-05', 'EUR', 100)`, [org, payer]);
    await expect(db.query('DELETE FROM customers WHERE organisation_id = $1 AND id = $2', [org, payer])).rejects.toMatchObject({
      details: { constraint: 'payments_organisation_id_customer_id_fkey' },
    });
    const lone = (await createCustomer(db, org, { legalName: 'Sans Factures' })).id;
    await db.query('DELETE FROM customers WHERE organisation_id = $1 AND id = $2', [org, lone]);
  });

  it('bulk batches: new rows by COPY, existing ones updated, a number seen earlier in the transaction or an unknown customer refused with its line', async () => {
    const rows = (from: number, n: number) => fileRows('BULK', 'M7', from, n);
    const out = await db.tx(async (q) => {
      const s = new ImportSession(q, org);
      const first = await upsertInvoices(s, rows(1, 300));
      // Line 600 repeats line 1's number, written by the first batch: a duplicate in the file.
      const dup = rows(301, 300);
      dup[299] = { ...dup[299]!, number: 'BULK-00001' };
      const second = await upsertInvoices(s, dup);
      const unknown = rows(601, 300);
      unknown[5] = { ...unknown[5]!, customerExternalId: 'NOBODY' };
      const third = await upsertInvoices(s, unknown);
      return { first, second, third };
    });
    expect(out.first).toEqual({ inserted: 300, updated: 0, unchanged: 0, refused: [] });
    expect(out.second.refused).toEqual([{ line: 600, field: 'number', reason: 'invoice_twice', value: null }]);
    expect(renderText(refusalText(out.second.refused[0]!), 'en')).toBe('this invoice number appears twice in the file');
    expect(renderText(refusalText(out.second.refused[0]!), 'fr')).toBe('ce numéro de facture apparaît deux fois dans le fichier');
    expect(out.second.inserted).toBe(0);
    expect(out.third.refused).toEqual([{ line: 606, field: 'customer', reason: 'no_customer_import_first', value: 'NOBODY' }]);
    expect(renderText(refusalText(out.third.refused[0]!), 'en')).toContain('no customer "NOBODY"');
    const [n] = await db.query<{ n: bigint; customer: bigint }>(
      `SELECT count(*) AS n, min(customer_id) AS customer FROM invoices WHERE organisation_id = $1 AND number LIKE 'BULK-%'`,
      [org],
    );
    expect(n).toEqual({ n: 300n, customer: martin });
    // Next transaction: the same 300 plus 300 new; 100 of the old ones with a new amount.
    const again = rows(1, 600).map((r, i) => (i < 100 ? { ...r, amountInclTaxMinor: 1500n } : r));
    const r = await db.tx((q) => upsertInvoices(new ImportSession(q, org), again));
    expect(r).toEqual({ inserted: 300, updated: 100, unchanged: 200, refused: [] });
    const [m] = await db.query<{ n: bigint; changed: bigint }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE amount_incl_tax_minor = 1500) AS changed FROM invoices WHERE organisation_id = $1 AND number LIKE 'BULK-%'`,
      [org],
    );
    expect(m).toEqual({ n: 600n, changed: 100n });
  });

  it('bulk batches into an organisation without invoices: numbers are not looked up, yet a repeat across batches is still refused with its line', async () => {
    const fresh = (await createOrganisation(db, { legalName: 'Nouvelle SAS' })).id;
    await createCustomer(db, fresh, { externalId: 'N1', legalName: 'Nouveau Client' });
    const rows = (from: number, n: number) => fileRows('NEW', 'N1', from, n);
    const out = await db.tx(async (q) => {
      const s = new ImportSession(q, fresh);
      const first = await upsertInvoices(s, rows(1, 250));
      const second = await upsertInvoices(s, rows(251, 250));
      const again = rows(501, 250);
      again[100] = { ...again[100]!, number: 'NEW-00300' };
      const third = await upsertInvoices(s, again);
      return { first, second, third };
    });
    expect(out.first.inserted + out.second.inserted).toBe(500);
    expect(out.third).toEqual({ inserted: 0, updated: 0, unchanged: 0, refused: [{ line: 601, field: 'number', reason: 'invoice_twice', value: null }] });
  });

  it('finds customers by the beginning of any word of the name, the SIREN or the customer code, accents ignored, and by an invoice number', async () => {
    const admin = await ensureAdmin(db, org, 'admin@relance.local');
    const s = await db.tx((q) => login(q, admin!.email, admin!.password!, { now: new Date() }));
    const app = createApp({ db, now: () => new Date('2026-11-22T10:00:00Z') });
    const search = async (q: string) => {
      const res = await app.request(`/api/app/customers?q=${encodeURIComponent(q)}`, { headers: { cookie: `relance_session=${s.token}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { total: number; rows: { name: string }[] };
      expect(body.total).toBe(body.rows.length);
      return body.rows.map((r) => r.name).sort();
    };
    expect(await search('etablissements')).toEqual(['Établissements Dupont & Fils']);
    expect(await search('DUP fil')).toEqual(['Établissements Dupont & Fils']);
    expect(await search('Établ')).toEqual(['Établissements Dupont & Fils']);
    expect(await search('5521')).toEqual(['Établissements Dupont & Fils']);
    expect(await search('cli-0042')).toEqual(['Établissements Dupont & Fils']);
    expect(await search('FA-2026-001')).toEqual(['Établissements Dupont & Fils']);
    expect(await search('boul')).toEqual(['Boulangerie Martin']);
    // Inside a word is not the beginning of one; another organisation's customers never show.
    expect(await search('langerie')).toEqual([]);
    expect(await search('autre')).toEqual([]);
    expect(await search('dupont martin')).toEqual([]);
    // Renamed: found by the new name, not the old one.
    await db.query(`UPDATE customers SET legal_name = 'Martin Frères' WHERE organisation_id = $1 AND id = $2`, [org, martin]);
    expect(await search('boul')).toEqual([]);
    expect(await search('freres')).toEqual(['Martin Frères']);
  });
});
