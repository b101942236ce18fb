import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBankFile } from '../src/bank/import.ts';
import { acceptProposal, manualMatch, reconcile, reviewQueue, undoMatch } from '../src/bank/reconcile.ts';
import type { Db, Queryable } from '../src/db/driver.ts';
import { creditorReference } from '../src/domain/identifiers.ts';
import { RelanceError } from '../src/errors.ts';
import { createCustomer, createInvoice, createOrganisation, getInvoiceByNumber } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const FIX = fileURLToPath(new URL('./fixtures/bank', import.meta.url));
const ACCOUNT = 'FR7630006000011234567890189';
const ACME_IBAN = 'DE89370400440532013000';

const camt = (entries: string, account = ACCOUNT) => `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr>
<Stmt><Id>S</Id><Acct><Id><IBAN>${account}</IBAN></Id></Acct>${entries}</Stmt></BkToCstmrStmt></Document>`;
const credit = (o: { ref?: string; amount: string; date: string; name?: string; iban?: string; text?: string; rf?: string; dbit?: boolean; reversal?: boolean }) => `
<Ntry><Amt Ccy="EUR">${o.amount}</Amt><CdtDbtInd>${o.dbit ? 'DBIT' : 'CRDT'}</CdtDbtInd>${o.reversal ? '<RvslInd>true</RvslInd>' : ''}<Sts><Cd>BOOK</Cd></Sts>
 <BookgDt><Dt>${o.date}</Dt></BookgDt>${o.ref ? `<AcctSvcrRef>${o.ref}</AcctSvcrRef>` : ''}
 <NtryDtls><TxDtls><RltdPties>${o.name ? `<Dbtr><Pty><Nm>${o.name}</Nm></Pty></Dbtr>` : ''}${o.iban ? `<DbtrAcct><Id><IBAN>${o.iban}</IBAN></Id></DbtrAcct>` : ''}</RltdPties>
 <RmtInf>${o.text ? `<Ustrd>${o.text}</Ustrd>` : ''}${o.rf ? `<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>${o.rf}</Ref></CdtrRefInf></Strd>` : ''}</RmtInf></TxDtls></NtryDtls></Ntry>`;

describe.each(dbTargets())('bank import and reconciliation on $name', (target) => {
  let db: Db;
  let org: string;
  const count = async (table: string) => Number((await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${table} WHERE organisation_id = $1`, [org]))[0]!.n);
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', iban: ACCOUNT })).id;
  });
  afterAll(async () => db?.close());

  describe('import', () => {
    it('imports the CFONB example once: a second import adds nothing', async () => {
      const file = readFileSync(`${FIX}/cfonb120/example.txt`);
      const first = await importBankFile(db, org, file, { filename: 'example.txt' });
      expect(first.format).toBe('cfonb120');
      expect(first.summary).toMatchObject({ read: 6, new: 6, duplicates: 0 });
      expect(first.summary.byCurrency.EUR).toEqual({ credits: { count: 1, totalMinor: 9749n }, debits: { count: 5, totalMinor: -7081n } });
      const again = await importBankFile(db, org, file, { filename: 'example.txt' });
      expect(again.summary).toMatchObject({ read: 6, new: 0, duplicates: 6 });
      const stored = await db.query<{ label: string; amount_minor: bigint; booking_date: string }>(
        `SELECT label, amount_minor, booking_date FROM bank_lines WHERE organisation_id = $1 AND account_key = 'FR7618706000000012345678954' ORDER BY id`,
        [org],
      );
      expect(stored.map((r) => [r.label, r.amount_minor, r.booking_date])).toEqual([
        ['PRLV SEPA GROUPAMA CEN', 9749n, '2019-05-17'],
        ['F FRAIS PRLV IMP 97 49EUR', -1210n, '2019-05-15'],
        ['F COMMISSION D INTERVENTION', -790n, '2019-05-16'],
      ]);
    });

    it('imports every good fixture and stores nothing from the broken ones', async () => {
      for (const f of ['camt053/camt053.v2.minimal.xml', 'camt053/camt053.v2.multi.statement.xml', 'camt053/camt053.v8.xml']) {
        const r = await importBankFile(db, org, readFileSync(`${FIX}/${f}`), { filename: f });
        expect(r.summary.read).toBeGreaterThan(0);
      }
      for (const f of ['ofx/anzcc.ofx', 'ofx/bank_medium.ofx', 'ofx/checking.ofx', 'ofx/suncorp.ofx']) {
        const r = await importBankFile(db, org, readFileSync(`${FIX}/${f}`), { filename: f });
        expect(r.summary.new).toBe(r.summary.read);
      }
      const lines = await count('bank_lines');
      const statements = await count('bank_statements');
      for (const f of ['camt053/camt053.v2.wrong.xml', 'cfonb120/invalid_date.txt', 'cfonb120/operation_out_of_statement.txt', 'ofx/broken-date_missing.ofx']) {
        await expect(importBankFile(db, org, readFileSync(`${FIX}/${f}`), { filename: f })).rejects.toMatchObject({ code: 'parse' });
      }
      expect(await count('bank_lines')).toBe(lines);
      expect(await count('bank_statements')).toBe(statements);
    });

    it('overlapping files without bank ids: each line stored once, same-day twins kept apart', async () => {
      const a = camt(credit({ amount: '10.00', date: '2026-01-05', text: 'A' }) + credit({ amount: '10.00', date: '2026-01-05', text: 'A' }) + credit({ amount: '20.00', date: '2026-01-06', text: 'B' }));
      const b = camt(credit({ amount: '10.00', date: '2026-01-05', text: 'A' }) + credit({ amount: '10.00', date: '2026-01-05', text: 'A' }) + credit({ amount: '20.00', date: '2026-01-06', text: 'B' }) + credit({ amount: '30.00', date: '2026-01-07', text: 'C' }));
      const dry = await importBankFile(db, org, a, { dryRun: true });
      expect(dry.summary.new).toBe(3);
      expect((await db.query('SELECT 1 FROM bank_lines WHERE organisation_id = $1 AND booking_date = $2', [org, '2026-01-05'])).length).toBe(0);
      expect((await importBankFile(db, org, a)).summary.new).toBe(3);
      expect((await importBankFile(db, org, b)).summary).toMatchObject({ new: 1, duplicates: 3 });
    });

    it('refuses a file of another account than --account', async () => {
      const e = await importBankFile(db, org, camt(credit({ amount: '1.00', date: '2026-01-05' })), { account: 'FR1420041010050500013M02606' }).catch((x) => x);
      expect(e).toBeInstanceOf(RelanceError);
      expect(e.message).toMatch(/not FR1420041010050500013M02606/);
    });
  });

  describe('reconciliation', () => {
    let acme: bigint;
    let beta: bigint;
    const changed: bigint[][] = [];
    const hook = async (q: Queryable, _org: string, ids: bigint[]) => {
      // Runs inside the transaction: the payment is visible to the hook.
      const [r] = await q.query<{ n: bigint }>('SELECT count(*) AS n FROM payments WHERE organisation_id = $1', [org]);
      expect(r!.n).toBeGreaterThan(0n);
      changed.push(ids);
    };
    beforeAll(async () => {
      await db.query('UPDATE bank_lines SET status = $2 WHERE organisation_id = $1', [org, 'ignored']);
      acme = (await createCustomer(db, org, { legalName: 'ACME Plomberie SARL' })).id;
      beta = (await createCustomer(db, org, { legalName: 'Beta Transports SAS' })).id;
      await db.query(`INSERT INTO customer_ibans (organisation_id, customer_id, iban) VALUES ($1, $2, $3)`, [org, acme, ACME_IBAN]);
      const mk = (customerId: bigint, number: string, amount: bigint) =>
        createInvoice(db, org, { customerId, number, issueDate: '2026-02-01', dueDate: '2026-03-01', currency: 'EUR', amountExclTaxMinor: amount, amountInclTaxMinor: amount });
      await mk(acme, 'F-2026-00001', 120_000n);
      await mk(acme, 'F-2026-00002', 30_000n);
      await mk(acme, 'F-2026-00003', 45_000n);
      await mk(beta, 'F-2026-00010', 99_900n);
      await mk(beta, 'F-2026-00011', 50_000n);
    });

    it('applies sure matches, queues the rest, ignores debits, and calls the hook in the transaction', async () => {
      await importBankFile(
        db,
        org,
        camt(
          credit({ ref: 'R1', amount: '1200.00', date: '2026-03-02', name: 'ACME', rf: creditorReference('F-2026-00001') }) +
            credit({ ref: 'R2', amount: '750.00', date: '2026-03-03', name: 'ACME PLOMBERIE', iban: ACME_IBAN }) +
            credit({ ref: 'R3', amount: '990.00', date: '2026-03-04', name: 'BETA TRANSPORTS GMBH', text: 'INVOICE F-2026-00010' }) +
            credit({ ref: 'R4', amount: '123.45', date: '2026-03-05', name: 'INCONNU' }) +
            credit({ ref: 'R5', amount: '80.00', date: '2026-03-05', name: 'URSSAF', dbit: true }),
        ),
      );
      const r = await reconcile(db, org, { bankChargesToleranceMinor: 1500n, onCustomersChanged: hook });
      expect(r).toMatchObject({ considered: 5, matched: 3, unmatched: 1, ignored: 1 });
      expect(changed).toEqual([[acme, beta]]);
      expect((await getInvoiceByNumber(db, org, 'F-2026-00001')).status).toBe('paid');
      expect((await getInvoiceByNumber(db, org, 'F-2026-00002')).status).toBe('paid');
      expect((await getInvoiceByNumber(db, org, 'F-2026-00003')).status).toBe('paid');
      const charged = await getInvoiceByNumber(db, org, 'F-2026-00010');
      expect([charged.status, charged.allocatedMinor, charged.writtenOffMinor]).toEqual(['paid', 99_000n, 900n]);
      const [wo] = await db.query<{ reason: string }>('SELECT reason FROM write_offs WHERE organisation_id = $1', [org]);
      expect(wo!.reason).toMatch(/^bank charges deducted by the payer/);
      // Learnt: Beta's payer IBAN is none here, ACME's was known; a rerun changes nothing.
      expect(await reconcile(db, org)).toMatchObject({ considered: 1, matched: 0 });
    });

    it('puts an ambiguous credit in the review queue, accepts a candidate, undoes it', async () => {
      await importBankFile(db, org, camt(credit({ ref: 'R6', amount: '200.00', date: '2026-03-10', name: 'BETA TRANSPORTS', text: 'ACOMPTE' })));
      await reconcile(db, org);
      const queue = await reviewQueue(db, org);
      const item = queue.find((i) => i.amountMinor === 20_000n)!;
      expect(item.status).toBe('review');
      expect(item.candidates[0]!.customerId).toBe(beta);
      expect(item.candidates[0]!.reason.fr).toMatch(/Payeur « BETA TRANSPORTS » proche de Beta Transports SAS/);
      const paymentId = await acceptProposal(db, org, item.candidates[0]!.proposalId);
      expect((await getInvoiceByNumber(db, org, 'F-2026-00011')).openMinor).toBe(30_000n);
      await undoMatch(db, org, item.lineId);
      expect((await getInvoiceByNumber(db, org, 'F-2026-00011')).openMinor).toBe(50_000n);
      expect((await db.query('SELECT 1 FROM payments WHERE organisation_id = $1 AND id = $2', [org, paymentId])).length).toBe(0);
      // Undone by a person: proposed again, never applied automatically.
      await reconcile(db, org);
      const [line] = await db.query<{ status: string }>('SELECT status FROM bank_lines WHERE organisation_id = $1 AND id = $2', [org, item.lineId]);
      expect(line!.status).toBe('review');
      await manualMatch(db, org, item.lineId, { customerId: beta, allocations: [{ invoiceId: (await getInvoiceByNumber(db, org, 'F-2026-00011')).id, amountMinor: 15_000n }] });
      const [p] = await db.query<{ allocated_minor: bigint; amount_minor: bigint }>(`SELECT allocated_minor, amount_minor FROM payments WHERE organisation_id = $1 AND external_id = $2`, [org, `bank-line:${item.lineId}`]);
      // The rest of the money stays on the customer's account as credit.
      expect([p!.amount_minor, p!.allocated_minor]).toEqual([20_000n, 15_000n]);
    });

    it('a reversal undoes the match of the credit it cancels', async () => {
      changed.length = 0;
      await importBankFile(db, org, camt(credit({ ref: 'R7', amount: '750.00', date: '2026-03-12', name: 'ACME PLOMBERIE', iban: ACME_IBAN, dbit: true, reversal: true })));
      const r = await reconcile(db, org, { onCustomersChanged: hook });
      expect(r.reversed).toBe(1);
      expect(changed).toEqual([[acme]]);
      expect((await getInvoiceByNumber(db, org, 'F-2026-00002')).status).toBe('open');
      expect((await getInvoiceByNumber(db, org, 'F-2026-00003')).status).toBe('open');
      const rows = await db.query<{ status: string }>(`SELECT status FROM bank_lines WHERE organisation_id = $1 AND entry_reference IN ('R2', 'R7') ORDER BY entry_reference`, [org]);
      expect(rows.map((x) => x.status)).toEqual(['reversed', 'reversal']);
    });
  });
});
