import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { defaultRateTables } from '../src/domain/law/index.ts';
import { bookPenaltyStatement, ledgerLawFindings, ledgerPenaltyStatement } from '../src/law/ledger-law.ts';
import { allocate, createCustomer, createInvoice, createOrganisation, getInvoiceByNumber, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const d = (s: string) => s as CalendarDate;

describe.each(dbTargets())('late-payment law over the ledger on $name', (target) => {
  let db: Db;
  let org: string;
  let business: bigint;
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Loi SAS' })).id;
    business = (await createCustomer(db, org, { legalName: 'Pro SARL', kind: 'business' })).id;
    const consumer = (await createCustomer(db, org, { legalName: 'Jean Particulier', kind: 'consumer' })).id;
    const inv = (customerId: bigint, number: string, issue: string, due: string, amount = 120_000n) =>
      createInvoice(db, org, { customerId, number, issueDate: issue, dueDate: due, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: amount });
    await inv(business, 'LONG-TERMS', '2026-01-05', '2026-04-20'); // 105 days: beyond 60
    await inv(business, 'OLD-B2B', '2021-11-01', '2021-12-01'); // 5 years end 2026-12-01
    await inv(consumer, 'OLD-B2C', '2024-09-01', '2024-10-01'); // 2 years ended 2026-10-01
    await inv(business, 'OK-1', '2026-10-01', '2026-10-31');
    // the worked example of docs/law.md §1: 12,000.00 € due 15 June 2025, paid 15 September 2025
    await inv(business, 'WORKED', '2025-05-16', '2025-06-15', 1_200_000n);
    const p = await recordPayment(db, org, { customerId: business, paymentDate: '2025-09-15', currency: 'EUR', amountMinor: 1_200_000n });
    const w = await getInvoiceByNumber(db, org, 'WORKED');
    await allocate(db, org, { invoiceId: w.id, paymentId: p.id, amountMinor: 1_200_000n, allocatedOn: d('2025-09-15') });
  });
  afterAll(async () => db?.close());

  it('flags terms beyond 60 days, a B2B debt nearing 5 years, a consumer debt past 2 years; nothing for a normal invoice', async () => {
    const f = await ledgerLawFindings(db, org, d('2026-11-22'));
    const by = new Map(f.map((x) => [x.invoice, x]));
    expect(by.get('LONG-TERMS')!.terms.map((w) => w.code)).toEqual(['terms_over_60_days']);
    expect(by.get('OLD-B2B')!.prescription).toMatchObject({ status: 'approaching', legalBasis: 'C. com. L110-4' });
    expect(by.get('OLD-B2C')!.prescription).toMatchObject({ status: 'prescribed', legalBasis: 'C. conso L218-2' });
    expect(by.has('OK-1')).toBe(false);
    expect(by.has('WORKED')).toBe(false); // paid
  });

  it('the penalty statement of one invoice is the worked example, and booking it twice is refused', async () => {
    const { statement, customerId } = await ledgerPenaltyStatement(db, org, { invoiceNumber: 'WORKED' }, d('2025-10-01'), defaultRateTables());
    expect(statement.lines.map((l) => [l.invoiceNumber, l.interestMinor, l.indemnityMinor, l.totalMinor])).toEqual([['WORKED', 37_243n, 4_000n, 41_243n]]);
    const booked = await db.tx((q) => bookPenaltyStatement(q, org, customerId, statement, { issueDate: d('2025-10-01') }));
    expect([booked.number, booked.amountInclTaxMinor, booked.amountExclTaxMinor, booked.dueDate]).toEqual([`PEN-${customerId}-20251001`, 41_243n, 41_243n, '2025-10-31']);
    // the original invoice is untouched
    expect((await getInvoiceByNumber(db, org, 'WORKED')).amountInclTaxMinor).toBe(1_200_000n);
    await expect(db.tx((q) => bookPenaltyStatement(q, org, customerId, statement, { issueDate: d('2025-10-01') }))).rejects.toMatchObject({ code: 'conflict' });
  });

  it("a customer's statement lists each late invoice, open ones accruing to its date; a rate the tables lack is asked for, never guessed", async () => {
    await expect(ledgerPenaltyStatement(db, org, { customerId: business }, d('2026-11-22'), defaultRateTables())).rejects.toThrow(
      /invoice OLD-B2B: no ecb-mro rate is known for 2021-07-01.*relance rates set/,
    );
    const recent = (await createCustomer(db, org, { legalName: 'Récent SAS', kind: 'business' })).id;
    for (const [number, due] of [['R-1', '2026-09-30'], ['R-2', '2026-10-31']] as const) {
      await createInvoice(db, org, { customerId: recent, number, issueDate: '2026-09-01', dueDate: due, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 100_000n });
    }
    const { statement } = await ledgerPenaltyStatement(db, org, { customerId: recent }, d('2026-11-22'), defaultRateTables());
    expect(statement.lines.map((l) => [l.invoiceNumber, l.daysLate, l.indemnityMinor, l.settled])).toEqual([
      ['R-1', 53, 4_000n, false],
      ['R-2', 22, 4_000n, false],
    ]);
    // 2026-H2 has no published rate yet: the result says so rather than guessing silently
    expect(statement.provisional).toBe(true);
  });
});
