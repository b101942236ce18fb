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
import { addCustomer, addInvoice, setupOrg } from './delivery-fixture.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { webSession } from './debtor-harness.ts';

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

  it("Today's worklist can be sorted by what each action may bring in: each action's expected amount (open × chance of being paid), the prompt payer's invoice likelier to be paid than the late payer's", async () => {
    const o = await setupOrg(db);
    await db.query('UPDATE organisations SET live = false WHERE id = $1', [o.id]);
    const prompt = await addCustomer(db, o.id);
    const late = await addCustomer(db, o.id);
    const bigger = await addCustomer(db, o.id);
    await history(db, o.id, prompt.id, 'p2', (_k, r) => Math.floor(r() * 4) - 2);
    await history(db, o.id, late.id, 'l2', (_k, r) => 45 + Math.floor(r() * 20));
    for (const c of [prompt, late]) await addInvoice(db, o.id, c.id, addDays(TODAY, -12), { amount: 100_000n });
    await addInvoice(db, o.id, bigger.id, addDays(TODAY, -12), { amount: 50_000n });
    await runCycle(db, o.id, { today: TODAY });
    const web = await webSession(db, o.id, NOW);
    type Row = { customerId: string; openMinor: string; expectedMinor: string };
    const planned = (await web.get<{ approvals: Row[] }>('/today')).approvals;
    const sorted = (await web.get<{ sort: string; approvals: Row[] }>('/today?sort=expected'));
    expect(sorted.sort).toBe('expected');
    expect(sorted.approvals.map((a) => a.customerId).sort()).toEqual(planned.map((a) => a.customerId).sort());
    const expected = sorted.approvals.map((a) => BigInt(a.expectedMinor));
    for (let k = 1; k < expected.length; k++) expect(expected[k - 1]!).toBeGreaterThanOrEqual(expected[k]!);
    for (const a of sorted.approvals) expect(BigInt(a.expectedMinor)).toBeLessThanOrEqual(BigInt(a.openMinor));
    const of = (id: bigint) => BigInt(sorted.approvals.find((a) => a.customerId === String(id))!.expectedMinor);
    // The late payer's action chases more invoices (some of the history is still owed): it may bring more in.
    expect(of(late.id)).toBeGreaterThan(of(prompt.id));
    expect(of(prompt.id)).toBeGreaterThan(of(bigger.id));

    // The same chance, per invoice, through the API and the CLI.
    const key = await db.tx((q) => createApiKey(q, o.id, { name: 'bi', scope: 'read' }));
    const res = await createApp({ db, now: () => NOW }).request(`/api/v1/customers/${prompt.id}/expected-recovery`, { headers: { authorization: `Bearer ${key.key}` } });
    const body = (await res.json()) as { expectedMinor: string; invoices: { daysOverdue: number; probability: number }[]; calibration: { fromDaysOverdue: number; probability: number }[] };
    expect(body.expectedMinor).toBe(String(of(prompt.id)));
    expect(body.invoices).toEqual([expect.objectContaining({ daysOverdue: 12 })]);
    expect(body.calibration[0]).toMatchObject({ fromDaysOverdue: 0 });
    // At the same age and amount, the prompt payer's invoice is likelier to be paid than the late payer's.
    const lateBody = (await (await createApp({ db, now: () => NOW }).request(`/api/v1/customers/${late.id}/expected-recovery`, { headers: { authorization: `Bearer ${key.key}` } })).json()) as typeof body;
    const twelve = lateBody.invoices.find((i) => i.daysOverdue === 12)!;
    expect(body.invoices[0]!.probability).toBeGreaterThan(twelve.probability);
    const fr = await cli(db, o.id, ['risk', '--customer', String(late.id), '--date', TODAY], 'fr');
    expect(fr).toContain('Recouvrement attendu des factures ouvertes :');
    expect(fr).toMatch(/- F-\d+ échue depuis 12 j : 1\s000,00\s€ × \d+(,\d)? % = /);
    expect(fr).toMatch(/Total attendu : /);
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
