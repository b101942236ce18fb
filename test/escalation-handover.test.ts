/**
 * Issue 21, handover: handing invoices over stops their reminders at once (the customer's other
 * invoices keep their calendar), the agent's export (CSV and JSON) says who owes what, and the
 * agent's report of a payment through the API settles the invoice through the ledger's payment
 * path (allocated, re-planned, told), once even if the report is sent twice.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { handOver } from '../src/escalation/handover.ts';
import { recordProceeding } from '../src/escalation/insolvency.ts';
import { isRelanceError } from '../src/errors.ts';
import { createApp } from '../src/http/app.ts';
import { createCustomer, getInvoice } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, plain } from './debtor-harness.ts';
import { actions, addInvoice, d, plan, setupOrg, sirenFor } from './delivery-fixture.ts';

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!isRelanceError(e)) throw new Error(`expected a refusal, got ${String(e)}`);
  return { code: e.code, field: e.where?.field, fr: e.detail('fr'), en: e.detail('en') };
}

let k = 700;
async function debtor(db: Db, orgId: string) {
  k++;
  return createCustomer(db, orgId, {
    legalName: `Menuiserie Client ${k} SARL`,
    siren: sirenFor(k),
    contacts: [{ name: 'Mme Roux', email: `roux${k}@client.test`, phone: '+33611223344', addressLine1: '8 rue Neuve', postalCode: '69001', city: 'Lyon', receivesReminders: true }],
  });
}

describe.each(dbTargets())('handover to an agency, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it("stops the reminders of the invoices handed over at once; the agency's reported payment settles the invoice", async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-HO-A', amount: 150_000n });
    const b = await addInvoice(db, org.id, c.id, '2026-03-16', { number: 'F-HO-B', amount: 40_000n });
    await plan(db, org.id, '2026-03-02');
    const r = await db.tx((q) => handOver(q, org.id, { customerId: c.id, invoiceNumbers: ['F-HO-A'], agentKind: 'agency', agentName: 'Recouvrement Rhône SAS', by: 'alice' }, d('2026-03-03')));
    expect(r.cancelledActions).toBe(1);
    expect((await actions(db, org.id)).map((x) => [x.status, x.status_reason])).toEqual([['cancelled', 'handover']]);
    expect(r.handover.caseFileReference).toBe(`RL-${c.id}-20260303`);
    expect(r.handover.amountMinor).toBe(150_000n);
    // B keeps its calendar; A gets nothing more.
    expect((await plan(db, org.id, '2026-03-16')).actionsCreated).toBe(1);
    await plan(db, org.id, '2026-04-20');
    const forA = await db.query(`SELECT 1 FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND outcome = 'planned' AND recorded_on > '2026-03-03'`, [org.id, a.id]);
    expect(forA).toEqual([]);
    // Handed over once only.
    const twice = await refusal(db.tx((q) => handOver(q, org.id, { customerId: c.id, invoiceNumbers: ['F-HO-A'], agentKind: 'lawyer', agentName: 'Me Durand', by: 'alice' }, d('2026-03-04'))));
    expect(twice.code).toBe('conflict');
    expect(twice.fr).toContain('déjà confiée à Recouvrement Rhône SAS');

    // The agency reports through the API that it collected the whole amount, and its fees.
    const { key } = await createApiKey(db, org.id, { name: 'agency', scope: 'write' });
    const app = createApp({ db, now: () => new Date('2026-04-21T09:00:00Z') });
    const report = (body: unknown) =>
      app.request(`/api/v1/handovers/${r.handover.id}/reports`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await report({ reference: 'RR-2026-118', payment: { amount: '1500.00', paidOn: '2026-04-20' }, fees: '180.00' });
    expect(res.status).toBe(201);
    const out = (await res.json()) as { handover: { status: string; recoveredMinor: string; feesMinor: string }; paymentId: string; replayed: boolean };
    expect(out.handover).toMatchObject({ status: 'recovered', recoveredMinor: '150000', feesMinor: '18000' });
    const paid = await getInvoice(db, org.id, a.id);
    expect([paid.status, paid.openMinor]).toEqual(['paid', 0n]);
    const [alloc] = await db.query<{ payment_id: bigint; allocated_on: string }>('SELECT payment_id, allocated_on FROM allocations WHERE organisation_id = $1 AND invoice_id = $2', [org.id, a.id]);
    expect(String(alloc!.payment_id)).toBe(out.paymentId);
    expect(alloc!.allocated_on).toBe('2026-04-20');
    const events = await db.query<{ type: string }>(`SELECT type FROM webhook_events WHERE organisation_id = $1 AND type = 'invoice.paid'`, [org.id]);
    expect(events.length).toBe(1);
    // B is untouched by the agency's payment.
    expect((await getInvoice(db, org.id, b.id)).openMinor).toBe(40_000n);
    // The same report again records nothing twice.
    const again = (await (await report({ reference: 'RR-2026-118', payment: { amount: '1500.00', paidOn: '2026-04-20' }, fees: '180.00' })).json()) as { replayed: boolean };
    expect(again.replayed).toBe(true);
    expect((await db.query('SELECT 1 FROM payments WHERE organisation_id = $1', [org.id])).length).toBe(1);
    // More than is owed is refused.
    const over = await report({ reference: 'RR-2026-119', payment: { amount: '10.00', paidOn: '2026-04-20' } });
    expect(over.status).toBe(422);
  });

  it('exports what the agency needs as CSV and JSON, and refuses a debtor under collective proceedings', async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-01-15', { number: 'F-EXP-1', amount: 240_000n });
    await addInvoice(db, org.id, c.id, '2026-02-15', { number: 'F-EXP-2', amount: 36_000n });
    const dir = mkdtempSync(join(tmpdir(), 'relance-handover-'));
    const csvFile = join(dir, 'agence.csv');
    const said = plain(await cli(db, org.id, ['handover', 'create', '--customer', String(c.id), '--all-open', '--to', 'Cabinet Lefort', '--kind', 'lawyer', '--out', csvFile, '--date', '2026-03-20'], 'fr'));
    expect(said).toContain('Transmission');
    expect(said).toContain('2 facture(s), 2 760,00 €, confiée(s) à Cabinet Lefort');
    const rows = parse(readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((x) => x.invoice_number)).toEqual(['F-EXP-1', 'F-EXP-2']);
    expect(rows[0]).toMatchObject({ case_file_reference: `RL-${c.id}-20260320`, debtor_name: c.legalName, debtor_siren: c.siren, contact_email: c.contacts[0]!.email, open_amount: '2400.00', currency: 'EUR', days_past_due: '64', indemnity: '40.00', limitation_deadline: '2031-01-15' });
    const [h] = await db.query<{ id: bigint }>('SELECT id FROM handovers WHERE organisation_id = $1', [org.id]);
    const jsonFile = join(dir, 'agence.json');
    await cli(db, org.id, ['handover', 'export', String(h!.id), '--format', 'json', '--out', jsonFile, '--date', '2026-03-20']);
    const x = JSON.parse(readFileSync(jsonFile, 'utf8'));
    expect(x.debtor).toMatchObject({ legalName: c.legalName, siren: c.siren, address: '8 rue Neuve, 69001 Lyon' });
    expect(x.contacts[0]).toMatchObject({ name: 'Mme Roux', phone: '+33611223344' });
    expect(x.totals).toMatchObject({ currency: 'EUR', principal: '2760.00', indemnity: '80.00' });
    expect(x.history).toMatchObject({ remindersSent: 0, formalNotices: [] });
    expect(x.handover).toMatchObject({ agentKind: 'lawyer', agentName: 'Cabinet Lefort', status: 'handed_over' });

    const c2 = await debtor(db, org.id);
    await addInvoice(db, org.id, c2.id, '2026-01-15');
    await db.tx((q) => recordProceeding(q, org.id, { customerId: c2.id, kind: 'liquidation', judgmentDate: '2026-03-01' }, d('2026-03-02')));
    const no = await refusal(db.tx((q) => handOver(q, org.id, { customerId: c2.id, allOpenInvoices: true, agentKind: 'agency', agentName: 'X', by: 'a' }, d('2026-03-03'))));
    expect(no.code).toBe('legal_rule');
    expect(no.en).toContain('declared to the court-appointed representative');
  });
});
