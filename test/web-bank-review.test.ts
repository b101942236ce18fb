/**
 * Issue 19, the bank review from the web app through /api/app: a credit that is not a customer's
 * payment is set aside (it leaves the review queue, is never matched automatically) and can be put
 * back; a matched line's undo sends it back to the queue; a statement that names no account is the
 * organisation's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { createCustomer, createInvoice, createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
const NOW = new Date('2026-06-01T08:00:00Z');
const IBAN = 'FR7630004008210001234567849';

const camt = (lines: { ref: string; amount: string; payer: string; text: string }[]) => `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>WEB-1</MsgId></GrpHdr>
<Stmt><Id>WEB</Id><Acct><Id><IBAN>${IBAN}</IBAN></Id></Acct>
${lines
  .map(
    (l) => `<Ntry><Amt Ccy="EUR">${l.amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-05-29</Dt></BookgDt><AcctSvcrRef>${l.ref}</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>${l.payer}</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>${l.text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>`,
  )
  .join('\n')}
</Stmt></BkToCstmrStmt></Document>`;

describe.each(dbTargets())('bank review from the web app on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let cookie: string;
  let orgId: string;
  let customerId: bigint;
  let invoiceId: bigint;

  const headers = () => ({ cookie, host: HOST, origin: `http://${HOST}` });
  const call = async <T = Record<string, unknown>>(path: string, body?: unknown) => {
    const res = await app.request(`http://${HOST}/api/app${path}`, body === undefined ? { headers: headers() } : { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  };
  type Bank = { queue: { lineId: string; counterpartyName: string }[]; ignored: { id: string; counterpartyName: string }[]; matched: { id: string }[]; statements: { accountIban: string }[] };

  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Menuiserie Banque', iban: IBAN })).id;
    await db.tx((q) => addUser(q, orgId, { email: 'claire@banque.fr', role: 'collector', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'claire@banque.fr', PASSWORD, { organisationId: orgId, now: NOW }));
    cookie = `relance_session=${s.token}`;
    app = createApp({ db, now: () => NOW });
    const c = await db.tx((q) => createCustomer(q, orgId, { legalName: 'Boulangerie Lune' }));
    customerId = c.id;
    invoiceId = (await db.tx((q) => createInvoice(q, orgId, { customerId: c.id, number: 'F-1', issueDate: '2026-04-01', dueDate: '2026-05-01', currency: 'EUR', amountExclTaxMinor: 50_000n, amountInclTaxMinor: 50_000n }))).id;
  }, 60_000);
  afterAll(async () => db?.close());

  it('sets aside a credit that is not a customer payment, and puts it back', async () => {
    const form = new FormData();
    form.set('file', new Blob([camt([{ ref: 'L-1', amount: '1500.00', payer: 'CAISSE DE RETRAITE', text: 'REMBOURSEMENT TROP PERCU' }, { ref: 'L-2', amount: '500.00', payer: 'INCONNU', text: 'VIREMENT' }])]), 'releve.xml');
    const res = await app.request(`http://${HOST}/api/app/bank/import`, { method: 'POST', headers: headers(), body: form });
    expect(res.status).toBe(200);
    let bank = (await call<Bank>('/bank')).body;
    expect(bank.statements[0]!.accountIban).toBe(IBAN);
    const refund = bank.queue.find((l) => l.counterpartyName === 'CAISSE DE RETRAITE')!;
    expect(refund).toBeDefined();
    expect((await call(`/bank/lines/${refund.lineId}/ignore`, {})).status).toBe(200);
    bank = (await call<Bank>('/bank')).body;
    expect(bank.queue.map((l) => l.lineId)).not.toContain(refund.lineId);
    expect(bank.ignored.map((l) => l.id)).toEqual([refund.lineId]);
    const [row] = await db.query<{ status: string; n: bigint }>(
      'SELECT status, (SELECT count(*) FROM bank_match_proposals p WHERE p.organisation_id = l.organisation_id AND p.line_id = l.id) AS n FROM bank_lines l WHERE organisation_id = $1 AND id = $2',
      [orgId, BigInt(refund.lineId)],
    );
    expect(row).toEqual({ status: 'ignored', n: 0n });
    // Set aside twice is refused, and so is putting back a line that is not set aside.
    expect((await call(`/bank/lines/${refund.lineId}/ignore`, {})).status).toBe(400);
    expect((await call(`/bank/lines/${refund.lineId}/restore`, {})).status).toBe(200);
    expect((await call(`/bank/lines/${refund.lineId}/restore`, {})).status).toBe(400);
    bank = (await call<Bank>('/bank')).body;
    expect(bank.queue.map((l) => l.lineId)).toContain(refund.lineId);
    expect(bank.ignored).toEqual([]);
  });

  it('a matched line cannot be set aside; its undo sends it back to the queue', async () => {
    let bank = (await call<Bank>('/bank')).body;
    const line = bank.queue.find((l) => l.counterpartyName === 'INCONNU')!;
    expect((await call(`/bank/lines/${line.lineId}/match`, { customerId: String(customerId), allocations: [{ invoiceId: String(invoiceId), amountMinor: '50000' }] })).status).toBe(200);
    expect((await call(`/bank/lines/${line.lineId}/ignore`, {})).status).toBe(400);
    expect((await call(`/bank/lines/${line.lineId}/undo`, {})).status).toBe(200);
    bank = (await call<Bank>('/bank')).body;
    expect(bank.queue.map((l) => l.lineId)).toContain(line.lineId);
    expect(bank.matched).toEqual([]);
  });
});
