/**
 * Issue 22, payment behaviour and risk over the ledger, on both databases: the set-based SQL gives
 * the same behaviour as the pure reference on a generated history; the habitual late payer ranks
 * above the prompt one; `relance risk` (French, English, JSON) and GET /api/v1/customers/{id}/risk
 * say the score with its reasons; a dispute or a payment recomputes the kept score.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { prng } from '../src/demo/generate.ts';
import { addDays, type CalendarDate } from '../src/domain/dates.ts';
import { behaviourOf, type InvoiceFact } from '../src/domain/risk.ts';
import { openDispute, replanOnPayment } from '../src/engine/events.ts';
import { createApp } from '../src/http/app.ts';
import { allocate, createInvoice, recordPayment } from '../src/ledger/repo.ts';
import { computeRisk, storedRisk } from '../src/risk/behaviour.ts';
import { dbTargets } from './db.ts';
import { cli } from './debtor-harness.ts';
import { addCustomer, setupOrg } from './delivery-fixture.ts';

const TODAY = '2026-11-30' as CalendarDate;
const NOW = new Date('2026-11-30T10:00:00Z');
let seq = 0;

/** Twelve monthly invoices, each paid `delay` days after its due date (null: never), as the ledger records them. */
async function history(db: Db, orgId: string, customerId: bigint, seed: string, delay: (k: number, r: () => number) => number | null): Promise<InvoiceFact[]> {
  const r = prng(seed);
  const facts: InvoiceFact[] = [];
  for (let k = 0; k < 12; k++) {
    const due = addDays(TODAY, -30 * (12 - k) - 10);
    const amount = BigInt(50_000 + Math.floor(r() * 200_000));
    const inv = await createInvoice(db, orgId, { customerId, number: `R-${++seq}`, issueDate: addDays(due, -30), dueDate: due, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: amount });
    const d = delay(k, r);
    const paidOn = d === null ? null : addDays(due, d);
    if (paidOn !== null && paidOn <= TODAY) {
      // Paid in two parts: the invoice counts as paid on the day of the last one.
      const p = await recordPayment(db, orgId, { customerId, paymentDate: paidOn, currency: 'EUR', amountMinor: amount });
      await allocate(db, orgId, { invoiceId: inv.id, paymentId: p.id, amountMinor: amount - 1000n, allocatedOn: addDays(paidOn, -3) });
      await allocate(db, orgId, { invoiceId: inv.id, paymentId: p.id, amountMinor: 1000n, allocatedOn: paidOn });
      facts.push({ amountMinor: amount, dueDate: due, paidOn, openMinor: 0n, reminders: 0 });
    } else facts.push({ amountMinor: amount, dueDate: due, paidOn: null, openMinor: amount, reminders: 0 });
  }
  return facts;
}

describe.each(dbTargets())('payment behaviour and risk on $name', (target) => {
  let db: Db;
  let org: { id: string };
  const who: Record<string, { id: bigint; facts: InvoiceFact[] }> = {};
  beforeAll(async () => {
    db = await target.open();
    org = await setupOrg(db);
    for (const [name, delay] of [
      ['prompt', (_k: number, r: () => number) => Math.floor(r() * 6) - 3],
      ['late', (_k: number, r: () => number) => 35 + Math.floor(r() * 25)],
      ['stopped', (k: number) => (k < 8 ? 40 : null)],
    ] as const) {
      const c = await addCustomer(db, org.id);
      who[name] = { id: c.id, facts: await history(db, org.id, c.id, name, delay) };
    }
  });
  afterAll(async () => db?.close());

  it('the set-based SQL gives the behaviour the pure reference computes from the same history', async () => {
    const all = await computeRisk(db, org.id, TODAY);
    for (const { id, facts } of Object.values(who)) {
      const sql = all.find((x) => x.customerId === id)!;
      expect(sql.behaviour).toEqual(behaviourOf(facts, { promisesKept: 0, promisesBroken: 0, disputes: 0, disputesOpen: 0 }, TODAY));
    }
  });

  it('ranks the habitual late payer above the prompt one, and the one who stopped paying above both', async () => {
    const all = await computeRisk(db, org.id, TODAY);
    const score = (name: string) => all.find((x) => x.customerId === who[name]!.id)!.score;
    expect(score('late')).toBeGreaterThan(score('prompt') + 20);
    expect(score('stopped')).toBeGreaterThan(score('late'));
    const ranked = [...all].filter((x) => Object.values(who).some((w) => w.id === x.customerId)).sort((a, b) => b.score - a.score);
    expect(ranked.map((x) => x.customerId)).toEqual([who.stopped!.id, who.late!.id, who.prompt!.id]);
  });

  it('relance risk and the API say the score with its reasons in French and English', async () => {
    const fr = await cli(db, org.id, ['risk', '--customer', String(who.late!.id), '--date', TODAY], 'fr');
    expect(fr).toMatch(/score de risque \d+\/100, risque (moyen|élevé)/);
    expect(fr).toMatch(/- paie en moyenne \d+(,\d)? jours après l’échéance \(pondéré par les montants\)/);
    expect(fr).toMatch(/Factures réglées : 12 ; sans relance 100 %/);
    const en = await cli(db, org.id, ['risk', '--customer', String(who.prompt!.id), '--date', TODAY], 'en');
    expect(en).toMatch(/risk score \d+\/100, low risk/);
    expect(en).toMatch(/- pays on time/);
    const json = JSON.parse(await cli(db, org.id, ['risk', '--customer', String(who.stopped!.id), '--date', TODAY, '--json']));
    expect(json.level).toBe('high');
    expect(json.reasons.map((r: { key: string }) => r.key)).toContain('overdue_90');
    // The CLI keeps what it computed.
    expect((await storedRisk(db, org.id, who.stopped!.id))?.score).toBe(json.score);

    const key = await db.tx((q) => createApiKey(q, org.id, { name: 'bi', scope: 'read' }));
    const res = await createApp({ db, now: () => NOW }).request(`/api/v1/customers/${who.late!.id}/risk`, { headers: { authorization: `Bearer ${key.key}`, 'accept-language': 'fr-FR' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { score: number; levelText: string; reasons: { text: string }[]; behaviour: { settledCount: number } };
    expect(body.behaviour.settledCount).toBe(12);
    expect(body.reasons[0]!.text).toMatch(/paie en moyenne/);
  });

  it('a dispute or a payment recomputes the customer’s kept score', async () => {
    const id = who.prompt!.id;
    await db.tx((q) => openDispute(q, org.id, { customerId: id, customerWide: true, reason: 'livraison incomplète' }, TODAY));
    const after = await storedRisk(db, org.id, id);
    expect((after!.details.behaviour as { disputes: number }).disputes).toBe(1);
    const before = after!.score;
    // The stopped customer pays an old invoice: its risk is recomputed in the payment's transaction.
    const [open] = await db.query<{ id: bigint; amount: bigint }>(
      'SELECT id, amount_incl_tax_minor AS amount FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor = 0 ORDER BY due_date LIMIT 1',
      [org.id, who.stopped!.id],
    );
    await db.tx(async (q) => {
      const p = await recordPayment(q, org.id, { customerId: who.stopped!.id, paymentDate: TODAY, currency: 'EUR', amountMinor: open!.amount });
      await allocate(q, org.id, { invoiceId: open!.id, paymentId: p.id, amountMinor: open!.amount, allocatedOn: TODAY });
      await replanOnPayment(TODAY)(q, org.id, [who.stopped!.id]);
    });
    expect(((await storedRisk(db, org.id, who.stopped!.id))!.details.behaviour as { settledCount: number }).settledCount).toBe(9);
    expect(before).toBeGreaterThan(0);
  });
});
