/**
 * A credit of 1 181,82 € from a customer named in the remittance text, exactly the sum of two of
 * its open invoices (918,56 € left on one after a partial payment, and 263,26 €), among other open
 * invoices: the review queue proposes those two invoices with their amounts, and accepting the
 * proposal (one call, as the screen's button does) settles both and cancels their reminders, while
 * the other invoices stay open and reminded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { ensureBuiltinScenarios } from '../src/engine/scenarios.ts';
import { createApp } from '../src/http/app.ts';
import type { BankResponse } from '../src/http/routes/app/shapes/bank.ts';
import { allocate, createCustomer, createInvoice, createOrganisation, getInvoice, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
const TODAY = '2026-06-10' as CalendarDate;
const NOW = new Date('2026-06-10T08:00:00Z');
const IBAN = 'FR7630004008210001234567849';

const camt = `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>SUM-1</MsgId></GrpHdr>
<Stmt><Id>SUM</Id><Acct><Id><IBAN>${IBAN}</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">1181.82</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-06-09</Dt></BookgDt><AcctSvcrRef>SUM-L1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>VIR SEPA BOULANGERIE MARTIN REGLEMENT FACTURES MAI</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;

describe.each(dbTargets())('a credit equal to two open invoices, accepted from the review queue, on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let cookie: string;
  let orgId: string;
  const inv: Record<string, bigint> = {};

  const headers = () => ({ cookie, host: HOST, origin: `http://${HOST}` });
  const call = async <T = Record<string, unknown>>(path: string, body?: unknown) => {
    const res = await app.request(`http://${HOST}/api/app${path}`, body === undefined ? { headers: headers() } : { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  };
  /** The invoice's reminders not yet sent and not cancelled. */
  const pendingSteps = async (invoiceId: bigint) =>
    (
      await db.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM step_records sr JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
          WHERE sr.organisation_id = $1 AND sr.invoice_id = $2 AND sr.outcome = 'planned' AND a.status IN ('planned', 'awaiting_approval', 'queued')`,
        [orgId, invoiceId],
      )
    )[0]!.n;

  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Moulins Réunis', iban: IBAN, live: true })).id;
    await db.tx((q) => ensureBuiltinScenarios(q, orgId));
    await db.tx((q) => addUser(q, orgId, { email: 'claire@moulins.fr', role: 'collector', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'claire@moulins.fr', PASSWORD, { organisationId: orgId, now: NOW }));
    cookie = `relance_session=${s.token}`;
    app = createApp({ db, now: () => NOW });
    const c = await createCustomer(db, orgId, {
      legalName: 'Boulangerie Martin SARL',
      contacts: [{ name: 'Compta', email: 'compta@boulangerie-martin.fr', receivesReminders: true }],
    });
    const add = async (number: string, issue: string, due: string, amount: bigint) => {
      inv[number] = (await createInvoice(db, orgId, { customerId: c.id, number, issueDate: issue, dueDate: due, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: amount })).id;
    };
    // Other open invoices, one of them half paid: the money must not go to them.
    await add('F-2026-0101', '2026-02-02', '2026-03-04', 54_000n);
    await add('F-2026-0142', '2026-04-21', '2026-05-21', 131_337n);
    await add('F-2026-0388', '2026-04-21', '2026-05-21', 141_856n);
    await add('F-2026-0391', '2026-04-21', '2026-05-21', 26_326n);
    await db.tx(async (q) => {
      const p = await recordPayment(q, orgId, { customerId: c.id, paymentDate: '2026-05-02', currency: 'EUR', amountMinor: 80_000n });
      await allocate(q, orgId, { invoiceId: inv['F-2026-0101']!, paymentId: p.id, amountMinor: 30_000n, allocatedOn: '2026-05-02' as CalendarDate });
      // 500,00 € of the 1 418,56 € invoice paid on account: 918,56 € left.
      await allocate(q, orgId, { invoiceId: inv['F-2026-0388']!, paymentId: p.id, amountMinor: 50_000n, allocatedOn: '2026-05-02' as CalendarDate });
    });
    // J+20 for the last three: their firm reminder goes out today.
    await runCycle(db, orgId, { today: TODAY });
  }, 120_000);
  afterAll(async () => db?.close());

  it('the review queue proposes the two invoices; accepting settles both and stops their reminders only', async () => {
    expect(await pendingSteps(inv['F-2026-0388']!)).toBeGreaterThan(0n);
    expect(await pendingSteps(inv['F-2026-0391']!)).toBeGreaterThan(0n);
    const form = new FormData();
    form.set('file', new Blob([camt]), 'releve.xml');
    const res = await app.request(`http://${HOST}/api/app/bank/import`, { method: 'POST', headers: headers(), body: form });
    expect(res.status).toBe(200);

    const bank = (await call<BankResponse>('/bank')).body;
    expect(bank.queue).toHaveLength(1);
    const [best] = bank.queue[0]!.candidates;
    expect(best!.customerName).toBe('Boulangerie Martin SARL');
    expect(best!.allocations.map((a) => [a.number, a.amountMinor])).toEqual([
      ['F-2026-0388', '91856'],
      ['F-2026-0391', '26326'],
    ]);
    expect(best!.unallocatedMinor).toBe('0');
    expect(best!.reason.fr).toContain('F-2026-0388, F-2026-0391');
    expect(best!.reason.en).not.toContain('oldest');

    expect((await call(`/bank/proposals/${best!.proposalId}/accept`, {})).status).toBe(200);

    const rows = [];
    for (const id of Object.values(inv)) {
      const i = await getInvoice(db, orgId, id);
      rows.push({ number: i.number, status: i.status, open: i.openMinor });
    }
    expect(rows).toEqual([
      { number: 'F-2026-0101', status: 'partially_paid', open: 24_000n },
      { number: 'F-2026-0142', status: 'open', open: 131_337n },
      { number: 'F-2026-0388', status: 'paid', open: 0n },
      { number: 'F-2026-0391', status: 'paid', open: 0n },
    ]);
    const [payment] = await db.query<{ amount_minor: bigint; allocated: bigint }>(
      `SELECT p.amount_minor, (SELECT sum(a.amount_minor) FROM allocations a WHERE a.organisation_id = p.organisation_id AND a.payment_id = p.id) AS allocated
         FROM payments p WHERE p.organisation_id = $1 AND p.external_id LIKE 'bank-line:%'`,
      [orgId],
    );
    expect(payment).toEqual({ amount_minor: 118_182n, allocated: 118_182n });
    // Their reminders are cancelled as paid; the other open invoice is still reminded.
    expect(await pendingSteps(inv['F-2026-0388']!)).toBe(0n);
    expect(await pendingSteps(inv['F-2026-0391']!)).toBe(0n);
    const cancelled = await db.query<{ reason: string }>(
      `SELECT DISTINCT reason FROM step_records WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[]) AND outcome = 'cancelled'`,
      [orgId, [inv['F-2026-0388']!, inv['F-2026-0391']!]],
    );
    expect(cancelled.map((r) => r.reason)).toEqual(['paid']);
    expect(await pendingSteps(inv['F-2026-0142']!)).toBeGreaterThan(0n);

    const after = (await call<BankResponse>('/bank')).body;
    expect(after.queue).toEqual([]);
    expect(after.matched.map((m) => [m.customerName, m.matchedBy])).toEqual([['Boulangerie Martin SARL', 'manual']]);
  });
});
