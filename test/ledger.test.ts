import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { RelanceError } from '../src/errors.ts';
import {
  allocate,
  createCreditNote,
  createCustomer,
  createInvoice,
  createOrganisation,
  customerLedger,
  getCustomer,
  getInvoice,
  getInvoiceByNumber,
  listCustomers,
  listInvoices,
  recordPayment,
  reverseAllocation,
  writeOff,
} from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const d = (s: string) => s as CalendarDate;

describe.each(dbTargets())('ledger on $name', (target) => {
  let db: Db;
  let orgA: string;
  let orgB: string;
  beforeAll(async () => {
    db = await target.open();
    orgA = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', siren: '732829320' })).id;
    orgB = (await createOrganisation(db, { legalName: 'Other Co' })).id;
  });
  afterAll(async () => db?.close());

  async function customerWithInvoice(org: string, number: string, amount = 120_000n, currency = 'EUR') {
    const c = await createCustomer(db, org, {
      legalName: `Client ${number}`,
      siren: '552100554',
      contacts: [{ name: 'Marie Curie', email: 'marie@example.fr', receivesReminders: true }],
    });
    const inv = await createInvoice(db, org, {
      customerId: c.id,
      number,
      issueDate: '2026-01-10',
      dueDate: '2026-02-09',
      currency,
      amountExclTaxMinor: (amount * 5n) / 6n,
      amountInclTaxMinor: amount,
    });
    return { c, inv };
  }

  it('reads dates as calendar strings and money as bigint on both drivers', async () => {
    const { inv } = await customerWithInvoice(orgA, 'F-0001');
    expect(inv.issueDate).toBe('2026-01-10');
    expect(inv.dueDate).toBe('2026-02-09');
    expect(inv.amountInclTaxMinor).toBe(120_000n);
    expect(inv.openMinor).toBe(120_000n);
    expect(inv.status).toBe('open');
  });

  it('derives status and open amount from partial allocations, credit notes and write-offs', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0002', 100_000n);
    const p = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 60_000n });
    await allocate(db, orgA, { invoiceId: inv.id, paymentId: p.id, amountMinor: 60_000n, allocatedOn: d('2026-02-20') });
    let now = await getInvoice(db, orgA, inv.id);
    expect(now.status).toBe('partially_paid');
    expect(now.openMinor).toBe(40_000n);
    const cn = await createCreditNote(db, orgA, { customerId: c.id, number: 'AV-1', issueDate: '2026-02-21', currency: 'EUR', amountMinor: 30_000n });
    await allocate(db, orgA, { invoiceId: inv.id, creditNoteId: cn.id, amountMinor: 30_000n, allocatedOn: d('2026-02-21') });
    await writeOff(db, orgA, { invoiceId: inv.id, amountMinor: 10_000n, writtenOffOn: d('2026-03-01'), reason: 'small balance' });
    now = await getInvoice(db, orgA, inv.id);
    expect(now.openMinor).toBe(0n);
    expect(now.status).toBe('paid');
  });

  it('refuses an allocation above the open amount or the payment, and writes nothing', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0003', 50_000n);
    const p = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 80_000n });
    await expect(allocate(db, orgA, { invoiceId: inv.id, paymentId: p.id, amountMinor: 50_001n, allocatedOn: d('2026-02-20') })).rejects.toMatchObject({
      code: 'ledger_invariant',
    });
    const small = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 1_000n });
    await expect(allocate(db, orgA, { invoiceId: inv.id, paymentId: small.id, amountMinor: 2_000n, allocatedOn: d('2026-02-20') })).rejects.toThrow(
      /exceeds what is left of payment/,
    );
    expect((await getInvoice(db, orgA, inv.id)).openMinor).toBe(50_000n);
  });

  it('the database itself refuses over-allocation even when the domain check is bypassed', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0004', 10_000n);
    const p = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 50_000n });
    const raw = db.query(
      `INSERT INTO allocations (organisation_id, invoice_id, payment_id, currency, amount_minor, allocated_on)
       VALUES ($1,$2,$3,'EUR',6000,'2026-02-20'), ($1,$2,$3,'EUR',6000,'2026-02-20')`,
      [orgA, inv.id, p.id],
    );
    await expect(raw).rejects.toMatchObject({ code: 'ledger_invariant' });
    expect((await getInvoice(db, orgA, inv.id)).allocatedMinor).toBe(0n);
    expect((await db.query<{ n: bigint }>('SELECT count(*) AS n FROM allocations WHERE invoice_id = $1', [inv.id]))[0]!.n).toBe(0n);
  });

  it('refuses a currency mismatch, in the domain and in the database', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0005', 10_000n, 'GBP');
    const p = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 10_000n });
    await expect(allocate(db, orgA, { invoiceId: inv.id, paymentId: p.id, amountMinor: 10_000n, allocatedOn: d('2026-02-20') })).rejects.toThrow(
      /currencies do not match/,
    );
    await expect(
      db.query(
        `INSERT INTO allocations (organisation_id, invoice_id, payment_id, currency, amount_minor, allocated_on) VALUES ($1,$2,$3,'GBP',100,'2026-02-20')`,
        [orgA, inv.id, p.id],
      ),
    ).rejects.toBeInstanceOf(RelanceError);
  });

  it('a reversal reopens the invoice', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0006', 10_000n);
    const p = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 10_000n });
    const a = await allocate(db, orgA, { invoiceId: inv.id, paymentId: p.id, amountMinor: 10_000n, allocatedOn: d('2026-02-20') });
    expect((await getInvoice(db, orgA, inv.id)).status).toBe('paid');
    await reverseAllocation(db, orgA, a.id);
    expect((await getInvoice(db, orgA, inv.id)).status).toBe('open');
    await expect(db.query('UPDATE allocations SET amount_minor = 1 WHERE organisation_id = $1', [orgA])).rejects.toMatchObject({ code: 'ledger_invariant' });
  });

  it('balance, open items, days past due and unallocated credit of a customer', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0007', 30_000n);
    await createInvoice(db, orgA, {
      customerId: c.id, number: 'F-0008', issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 20_000n,
    });
    const p = await recordPayment(db, orgA, { customerId: c.id, paymentDate: '2026-03-05', currency: 'EUR', amountMinor: 35_000n });
    await allocate(db, orgA, { invoiceId: inv.id, paymentId: p.id, amountMinor: 10_000n, allocatedOn: d('2026-03-05') });
    const l = await customerLedger(db, orgA, c.id, d('2026-03-10'));
    expect(l.openItems.map((i) => [i.number, i.openMinor, i.daysPastDue])).toEqual([
      ['F-0007', 20_000n, 29],
      ['F-0008', 20_000n, 0],
    ]);
    expect(l.balances).toEqual([{ currency: 'EUR', openInvoicesMinor: 40_000n, unallocatedCreditMinor: 25_000n, balanceMinor: 15_000n, overdueMinor: 20_000n }]);
  });

  it('refuses bad input with the field named, and a duplicate invoice number', async () => {
    const { c } = await customerWithInvoice(orgA, 'F-0009');
    const base = { customerId: c.id, number: 'F-0010', issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'EUR', amountExclTaxMinor: 100n, amountInclTaxMinor: 120n };
    await expect(createInvoice(db, orgA, { ...base, dueDate: '2026-02-30' })).rejects.toMatchObject({ code: 'validation', where: { field: 'dueDate' } });
    await expect(createInvoice(db, orgA, { ...base, dueDate: '2026-02-01' })).rejects.toMatchObject({ where: { field: 'dueDate' } });
    await expect(createInvoice(db, orgA, { ...base, currency: 'euro' })).rejects.toMatchObject({ where: { field: 'currency' } });
    await expect(createInvoice(db, orgA, { ...base, amountInclTaxMinor: 0n })).rejects.toMatchObject({ where: { field: 'amountInclTax' } });
    await expect(createCustomer(db, orgA, { legalName: 'X', siren: '123456789' })).rejects.toMatchObject({ where: { field: 'siren' } });
    await expect(createInvoice(db, orgA, { ...base, number: 'F-0009' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('a transaction that fails half-way writes nothing', async () => {
    const before = (await listCustomers(db, orgA, { limit: 10_000 })).length;
    await expect(
      db.tx(async (q) => {
        const c = await createCustomer(q, orgA, { legalName: 'Half Written SARL' });
        await createInvoice(q, orgA, { customerId: c.id, number: 'F-0009', issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'EUR', amountExclTaxMinor: 1n, amountInclTaxMinor: 1n });
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect((await listCustomers(db, orgA, { limit: 10_000 })).length).toBe(before);
  });

  it('one organisation can never read or change another organisation’s data', async () => {
    const { c, inv } = await customerWithInvoice(orgA, 'F-0100');
    await expect(getCustomer(db, orgB, c.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getInvoice(db, orgB, inv.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(getInvoiceByNumber(db, orgB, 'F-0100')).rejects.toMatchObject({ code: 'not_found' });
    expect(await listInvoices(db, orgB)).toEqual([]);
    expect(await listCustomers(db, orgB)).toEqual([]);
    // Creating an invoice for A's customer from B is refused.
    await expect(
      createInvoice(db, orgB, { customerId: c.id, number: 'X-1', issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'EUR', amountExclTaxMinor: 1n, amountInclTaxMinor: 1n }),
    ).rejects.toMatchObject({ code: 'not_found' });
    // B's payment cannot be allocated to A's invoice, not even by raw SQL: the composite keys refuse it.
    const cb = await createCustomer(db, orgB, { legalName: 'B customer' });
    const pb = await recordPayment(db, orgB, { customerId: cb.id, paymentDate: '2026-02-20', currency: 'EUR', amountMinor: 1_000n });
    await expect(allocate(db, orgB, { invoiceId: inv.id, paymentId: pb.id, amountMinor: 100n, allocatedOn: d('2026-02-20') })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      db.query(
        `INSERT INTO allocations (organisation_id, invoice_id, payment_id, currency, amount_minor, allocated_on) VALUES ($1,$2,$3,'EUR',100,'2026-02-20')`,
        [orgB, inv.id, pb.id],
      ),
    ).rejects.toBeInstanceOf(RelanceError);
    expect((await getInvoice(db, orgA, inv.id)).openMinor).toBe(inv.amountInclTaxMinor);
  });
});

describe.each(dbTargets())('deleting settled rows on $name', (target) => {
  it('an unallocated payment can be deleted; an allocated one or a written-off invoice cannot', async () => {
    const db = await target.open();
    try {
      const org = (await createOrganisation(db, { legalName: 'Del SAS' })).id;
      const c = await createCustomer(db, org, { legalName: 'C' });
      const inv = await createInvoice(db, org, { customerId: c.id, number: 'D-1', issueDate: '2026-01-01', dueDate: '2026-01-31', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 1_000n });
      const free = await recordPayment(db, org, { customerId: c.id, paymentDate: '2026-02-01', currency: 'EUR', amountMinor: 500n });
      await db.query('DELETE FROM payments WHERE organisation_id = $1 AND id = $2', [org, free.id]);
      const used = await recordPayment(db, org, { customerId: c.id, paymentDate: '2026-02-01', currency: 'EUR', amountMinor: 500n });
      await allocate(db, org, { invoiceId: inv.id, paymentId: used.id, amountMinor: 500n, allocatedOn: '2026-02-01' as CalendarDate });
      await expect(db.query('DELETE FROM payments WHERE organisation_id = $1 AND id = $2', [org, used.id])).rejects.toMatchObject({ code: 'ledger_invariant' });
      await writeOff(db, org, { invoiceId: inv.id, amountMinor: 100n, writtenOffOn: '2026-02-02' as CalendarDate });
      await expect(db.query('DELETE FROM invoices WHERE organisation_id = $1 AND id = $2', [org, inv.id])).rejects.toThrow(/allocations|write-offs/);
    } finally {
      await db.close();
    }
  });
});

describe.each(dbTargets())('loading a new organisation on $name', (target) => {
  it('all or nothing: a bad batch in one worker leaves no trace of the organisation', async () => {
    const { loadNewOrganisation } = await import('../src/ledger/parallel-load.ts');
    const { generateLedger } = await import('../src/demo/generate.ts');
    const { listOrganisations } = await import('../src/ledger/repo.ts');
    const db = await target.open();
    try {
      const good = [...generateLedger({ customers: 40, invoices: 400, seed: 3, today: '2026-11-22' as CalendarDate, batchCustomers: 10 })];
      const ok = await loadNewOrganisation(db, { legalName: 'Good Load SAS' }, good, { parallel: 2 });
      expect(ok.counts).toMatchObject({ customers: 40, invoices: 400 });
      expect((await listOrganisations(db)).map((o) => o.legalName)).toContain('Good Load SAS');
      const bad = [...generateLedger({ customers: 40, invoices: 400, seed: 4, today: '2026-11-22' as CalendarDate, batchCustomers: 10 })];
      // the last batch repeats an invoice number of the first one: the unique key refuses it
      bad[3]!.invoices[0] = { ...bad[3]!.invoices[0]!, number: bad[0]!.invoices[0]!.number };
      await expect(loadNewOrganisation(db, { legalName: 'Bad Load SAS' }, bad, { parallel: 2 })).rejects.toMatchObject({ code: 'conflict' });
      expect((await listOrganisations(db)).map((o) => o.legalName)).not.toContain('Bad Load SAS');
      const left = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM organisations WHERE legal_name = 'Bad Load SAS'`);
      expect(left[0]!.n).toBe(0n);
    } finally {
      await db.close();
    }
  });

  // The API's create and the bulk loader write invoices through one statement (insertInvoices).
  it('the loader and the API write an invoice alike; the loader refuses an unknown customer by name', async () => {
    const { loadBatches } = await import('../src/ledger/bulk.ts');
    const { createOrganisation, createCustomer, createInvoice } = await import('../src/ledger/repo.ts');
    const db = await target.open();
    try {
      const org = (await createOrganisation(db, { legalName: 'Deux Chemins SAS' })).id;
      const c = await createCustomer(db, org, { externalId: 'C1', legalName: 'Client Un' });
      const fields = { issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'EUR', amountExclTaxMinor: 1000n, amountInclTaxMinor: 1200n };
      await createInvoice(db, org, { customerId: c.id, number: 'API-1', externalId: 'x-1', ...fields });
      const batch = { customers: [], payments: [], allocations: [], invoices: [{ customerExternalId: 'C1', number: 'LOAD-1', externalId: 'x-2', ...fields }] };
      await db.tx((q) => loadBatches(q, org, [batch as never]));
      const rows = await db.query<Record<string, unknown>>(
        `SELECT number, customer_id, external_id, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor FROM invoices WHERE organisation_id = $1 ORDER BY number`,
        [org],
      );
      const { number: _a, external_id: _x, ...api } = rows[0]!;
      const { number: _b, external_id: _y, ...loaded } = rows[1]!;
      expect(rows.map((r) => [r.number, r.external_id])).toEqual([['API-1', 'x-1'], ['LOAD-1', 'x-2']]);
      expect(loaded).toEqual(api);
      expect(api).toMatchObject({ customer_id: c.id, issue_date: '2026-03-01', amount_incl_tax_minor: 1200n });
      const unknown = { ...batch, invoices: [{ ...batch.invoices[0]!, number: 'LOAD-2', customerExternalId: 'NOBODY' }] };
      await expect(db.tx((q) => loadBatches(q, org, [unknown as never]))).rejects.toMatchObject({ code: 'validation', where: { field: 'customer' } });
    } finally {
      await db.close();
    }
  });
});
