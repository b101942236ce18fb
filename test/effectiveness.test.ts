/**
 * Issue 22, what works and why customers do not pay, both databases: the share of invoices paid
 * within 7 days after each step sent; the reasons recorded in call outcomes and disputes; through
 * `relance report` (French, English) and the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { addDays, type CalendarDate } from '../src/domain/dates.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { openDispute } from '../src/engine/events.ts';
import { createApp } from '../src/http/app.ts';
import { allocate, recordPayment } from '../src/ledger/repo.ts';
import { stepEffectiveness } from '../src/risk/effectiveness.ts';
import { replayScenario } from '../src/risk/replay.ts';
import { dbTargets } from './db.ts';
import { cli } from './debtor-harness.ts';
import { addCustomer, addInvoice, setupOrg } from './delivery-fixture.ts';

const DUE = '2026-03-02' as CalendarDate; // a Monday
const TODAY = '2026-04-15' as CalendarDate;

describe.each(dbTargets())('step effectiveness and reasons on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('share paid within 7 days after the due-day e-mail; reasons from calls and disputes, most frequent first', async () => {
    const org = await setupOrg(db);
    const invoices: { c: Awaited<ReturnType<typeof addCustomer>>; inv: Awaited<ReturnType<typeof addInvoice>> }[] = [];
    for (let k = 0; k < 4; k++) {
      const c = await addCustomer(db, org.id);
      invoices.push({ c, inv: await addInvoice(db, org.id, c.id, DUE, { amount: 100_000n }) });
    }
    await runCycle(db, org.id, { today: DUE });
    // The due-day e-mails went out that morning.
    await db.query(`UPDATE actions SET status = 'sent', sent_at = $2::date + time '09:30' WHERE organisation_id = $1 AND planned_on = $2`, [org.id, DUE]);
    // Two customers pay within the week, one after three weeks, one never.
    for (const [k, days] of [[0, 3], [1, 7], [2, 21]] as const) {
      const { c, inv } = invoices[k]!;
      const on = addDays(DUE, days);
      const p = await recordPayment(db, org.id, { customerId: c.id, paymentDate: on, currency: 'EUR', amountMinor: 100_000n });
      await allocate(db, org.id, { invoiceId: inv.id, paymentId: p.id, amountMinor: 100_000n, allocatedOn: on });
    }
    const [due] = (await stepEffectiveness(db, org.id, TODAY)).filter((s) => s.stepOffset === 0);
    expect(due).toMatchObject({ scenario: 'test', channel: 'email', invoices: 4, paidWithin7Days: 2, share: 0.5 });

    // Why the others do not pay: a call outcome and two disputes.
    const c = invoices[3]!.c;
    await db.tx((q) => openDispute(q, org.id, { customerId: c.id, customerWide: true, reason: 'Livraison incomplète' }, TODAY));
    await db.tx((q) => openDispute(q, org.id, { customerId: invoices[2]!.c.id, customerWide: true, reason: 'livraison incomplète ' }, TODAY));
    const [a] = await db.query<{ id: bigint }>('SELECT id FROM actions WHERE organisation_id = $1 LIMIT 1', [org.id]);
    const [task] = await db.query<{ id: bigint }>(
      `INSERT INTO call_tasks (organisation_id, action_id, customer_id, kind, assigned_to, invoices, due_on) VALUES ($1,$2,$3,'call','marie','[]'::jsonb,$4) RETURNING id`,
      [org.id, a!.id, c.id, TODAY],
    );
    await db.query(
      `INSERT INTO call_outcomes (organisation_id, call_task_id, customer_id, outcome, non_payment_reason, recorded_by, recorded_on) VALUES ($1,$2,$3,'reached','cash_difficulty','marie',$4)`,
      [org.id, task!.id, c.id, TODAY],
    );
    const fr = await cli(db, org.id, ['report', 'reasons'], 'fr');
    expect(fr.split('\n').slice(1)).toEqual(['- litige · livraison incomplète : 2 fois, 2 client(s)', '- appel · difficultés de trésorerie : 1 fois, 1 client(s)']);
    const steps = await cli(db, org.id, ['report', 'steps', '--date', TODAY], 'en');
    expect(steps).toMatch(/- test, D\+0 email \(reminder\): 2 of 4 invoices, 50 %/);

    const key = await db.tx((q) => createApiKey(q, org.id, { name: 'bi', scope: 'read' }));
    const app = createApp({ db, now: () => new Date('2026-04-15T10:00:00Z') });
    const res = await app.request('/api/v1/reports/non-payment-reasons', { headers: { authorization: `Bearer ${key.key}` } });
    expect(((await res.json()) as { reasons: { reason: string }[] }).reasons.map((r) => r.reason)).toEqual(['livraison incomplète', 'cash_difficulty']);
  });

  it("replays a scenario on last year's invoices: each leaves the run the day it was actually paid", async () => {
    const org = await setupOrg(db);
    const prompt = await addCustomer(db, org.id);
    const never = await addCustomer(db, org.id);
    const paidOnDue = await addInvoice(db, org.id, prompt.id, DUE, { amount: 50_000n });
    await addInvoice(db, org.id, never.id, DUE, { amount: 80_000n });
    const p = await recordPayment(db, org.id, { customerId: prompt.id, paymentDate: DUE, currency: 'EUR', amountMinor: 50_000n });
    await allocate(db, org.id, { invoiceId: paidOnDue.id, paymentId: p.id, amountMinor: 50_000n, allocatedOn: DUE });
    const r = await replayScenario(db, org.id, 'test', TODAY);
    expect(r.invoices).toBe(2);
    // The unpaid invoice goes through every step of the test scenario; the one paid on its due day through none.
    expect(r.wouldHave).toMatchObject({ invoicesChased: 1, actions: 6, byTone: { reminder: 4, firm: 1, formal_notice: 1 } });
    expect(r.actually.actions).toBe(0);
    const fr = await cli(db, org.id, ['report', 'replay', '--scenario', 'test', '--date', TODAY], 'fr');
    expect(fr).toContain('Rejeu du scénario test sur les 2 factures échues');
    expect(fr).toMatch(/Il aurait fait 6 actions \(.*registered_letter 1.*\) et relancé 1 factures\./);
  });
});
