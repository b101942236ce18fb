import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { addDays, type CalendarDate, dayOfWeek } from '../src/domain/dates.ts';
import { workingDays } from '../src/domain/engine/holidays.ts';
import { computeLateFees, defaultRateTables } from '../src/domain/law/index.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { importBankFile } from '../src/bank/import.ts';
import { reconcile } from '../src/bank/reconcile.ts';
import { createSubscription } from '../src/webhooks/index.ts';
import { createPaymentPlan, createPause, liftPause, openDispute, recordPromise, replanAfterScenarioChange, replanCustomer, replanOnPayment, resolveDispute } from '../src/engine/events.ts';
import { customerCalendar } from '../src/engine/preview.ts';
import { assignScenario, ensureBuiltinScenarios, getScenario, updateScenario } from '../src/engine/scenarios.ts';
import { allocate, createCustomer, createInvoice, createOrganisation, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const d = (s: string) => s as CalendarDate;

describe.each(dbTargets())('dunning engine on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  let n = 0;
  async function setup(opts: { invoices?: { due: string; amount?: bigint }[]; tz?: string; kind?: 'business' | 'consumer' } = {}) {
    n++;
    const org = await createOrganisation(db, { legalName: `Org ${n}`, timeZone: opts.tz ?? 'Europe/Paris', live: true });
    await db.tx((q) => ensureBuiltinScenarios(q, org.id));
    const c = await createCustomer(db, org.id, {
      legalName: `Client ${n} SARL`,
      kind: opts.kind ?? 'business',
      contacts: [{ name: 'Compta', email: 'compta@client.fr', phone: '+33140000000', addressLine1: '1 rue de la Paix', postalCode: '75002', city: 'Paris', receivesReminders: true }],
    });
    const invoices = [];
    for (const [k, inv] of (opts.invoices ?? [{ due: '2026-03-02' }]).entries()) {
      invoices.push(
        await createInvoice(db, org.id, {
          customerId: c.id, number: `F${n}-${k + 1}`, issueDate: addDays(d(inv.due), -30), dueDate: inv.due, currency: 'EUR',
          amountExclTaxMinor: 0n, amountInclTaxMinor: inv.amount ?? 120_000n,
        }),
      );
    }
    return { org: org.id, customer: c.id, invoices };
  }
  /** What the delivery workers would do by the end of the day: every message approved and sent. */
  const sendAll = (org: string, day: string) =>
    db.query(
      `UPDATE actions SET status = 'sent', sent_at = $2::date + time '10:00', approved_by = coalesce(approved_by, 'test')
        WHERE organisation_id = $1 AND status IN ('awaiting_approval', 'queued') AND planned_on <= $2::date`,
      [org, day],
    );
  const actions = (org: string) =>
    db.query<{ id: bigint; dedupe_key: string; channel: string; step_offset: number; status: string; planned_on: string; status_reason: string | null; send_after: string; tone: string }>(
      'SELECT * FROM actions WHERE organisation_id = $1 ORDER BY id',
      [org],
    );

  it('Invoice Ninja #553 / #2330: running the cycle twice the same day adds nothing the second time', async () => {
    const s = await setup();
    const first = await runCycle(db, s.org, { today: d('2026-03-02') });
    expect(first.actionsCreated).toBe(1);
    const second = await runCycle(db, s.org, { today: d('2026-03-02') });
    expect(second.actionsCreated).toBe(0);
    expect(await actions(s.org)).toHaveLength(1);
  });

  it('two cycles racing at once plan each reminder once', async () => {
    const s = await setup({ invoices: [{ due: '2026-03-02' }, { due: '2026-02-20' }, { due: '2026-02-01' }] });
    const results = await Promise.all([runCycle(db, s.org, { today: d('2026-03-02') }), runCycle(db, s.org, { today: d('2026-03-02') })]);
    const created = results.reduce((a, r) => a + r.actionsCreated, 0);
    const rows = await actions(s.org);
    expect(rows.length).toBe(created);
    expect(new Set(rows.map((r) => `${r.channel}:${r.planned_on}`)).size).toBe(rows.length);
    const dup = await db.query('SELECT invoice_id, step_key, count(*) FROM step_records WHERE organisation_id = $1 GROUP BY 1, 2 HAVING count(*) > 1', [s.org]);
    expect(dup).toEqual([]);
  });

  it('--dry-run decides exactly what the real run does and writes nothing', async () => {
    const s = await setup({ invoices: [{ due: '2026-03-02' }, { due: '2026-01-15' }] });
    const seen: string[][] = [[], []];
    const dry = await runCycle(db, s.org, { today: d('2026-03-02'), dryRun: true, onChunk: (a) => seen[0]!.push(...a.map((x) => `${x.channel}:${x.stepOffset}:${x.invoices.map((i) => i.number)}`)) });
    expect(await actions(s.org)).toHaveLength(0);
    expect((await db.query('SELECT * FROM step_records WHERE organisation_id = $1', [s.org])).length).toBe(0);
    const real = await runCycle(db, s.org, { today: d('2026-03-02'), onChunk: (a) => seen[1]!.push(...a.map((x) => `${x.channel}:${x.stepOffset}:${x.invoices.map((i) => i.number)}`)) });
    expect(seen[0]).toEqual(seen[1]);
    expect({ ...dry, dryRun: true }).toEqual({ ...real, dryRun: true });
  });

  it('a payment between planning and sending cancels the pending reminder (for that customer only)', async () => {
    const s = await setup();
    const other = await setup();
    await runCycle(db, s.org, { today: d('2026-03-02') });
    await runCycle(db, other.org, { today: d('2026-03-02') });
    await db.tx(async (q) => {
      const p = await recordPayment(q, s.org, { customerId: s.customer, paymentDate: '2026-03-02', currency: 'EUR', amountMinor: 120_000n });
      await allocate(q, s.org, { invoiceId: s.invoices[0]!.id, paymentId: p.id, amountMinor: 120_000n, allocatedOn: d('2026-03-02') });
      await replanCustomer(q, s.org, s.customer, d('2026-03-02'));
    });
    expect((await actions(s.org)).map((a) => [a.status, a.status_reason])).toEqual([['cancelled', 'paid']]);
    expect((await actions(other.org)).map((a) => a.status)).toEqual(['queued']);
    expect((await runCycle(db, s.org, { today: d('2026-03-20') })).actionsCreated).toBe(0);
  });

  it('Invoice Ninja #5458: a scenario change applies to invoices in progress from their next step', async () => {
    const s = await setup();
    await runCycle(db, s.org, { today: d('2026-03-10') }); // J+8 call
    const std = await getScenario(db, s.org, 'standard-b2b');
    await db.tx((q) =>
      updateScenario(q, s.org, 'standard-b2b', {
        ...std.definition,
        steps: [...std.definition.steps.filter((x) => x.offset !== 20), { offset: 15, channel: 'sms', template: 'reminder', tone: 'reminder' }],
      }),
    );
    await db.tx((q) => replanAfterScenarioChange(q, s.org, d('2026-03-10')));
    const r = await runCycle(db, s.org, { today: d('2026-03-17') });
    expect(r.actionsCreated).toBe(1);
    const rows = await actions(s.org);
    expect(rows.at(-1)).toMatchObject({ channel: 'sms', step_offset: 15 });
    expect((await getScenario(db, s.org, 'standard-b2b')).version).toBe(2);
  });

  it('a scenario change cancels the pending reminders of a step it removed, for every customer, and only those', async () => {
    const s = await setup({ invoices: [{ due: '2026-02-27' }] }); // J+20 on 2026-03-19
    const more: bigint[] = [];
    for (const [k, due] of ['2026-02-27', '2026-03-11'].entries()) {
      const c = await createCustomer(db, s.org, { legalName: `Autre ${k}`, kind: 'business', contacts: [{ name: 'AP', email: `ap${k}@autre.fr`, phone: '+33140000001', addressLine1: '2 rue X', postalCode: '75001', city: 'Paris', receivesReminders: true }] });
      await createInvoice(db, s.org, { customerId: c.id, number: `B${k}`, issueDate: addDays(d(due), -30), dueDate: due, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 90_000n });
      more.push(c.id);
    }
    // first contacts: the J+8 call for the first two; the courtesy e-mail, late, for the third (not overdue yet)
    await runCycle(db, s.org, { today: d('2026-03-09') });
    await sendAll(s.org, '2026-03-09');
    await runCycle(db, s.org, { today: d('2026-03-19') }); // J+20 email and letter for two customers, J+8 call for the third
    const pending = async () =>
      db.query<{ customer_id: bigint; channel: string; step_offset: number; status: string; status_reason: string | null }>(
        'SELECT customer_id, channel, step_offset, status, status_reason FROM actions WHERE organisation_id = $1 ORDER BY customer_id, channel',
        [s.org],
      );
    expect((await pending()).filter((a) => a.step_offset === 20 && a.status === 'queued')).toHaveLength(4);
    const std = await getScenario(db, s.org, 'standard-b2b');
    await db.tx((q) => updateScenario(q, s.org, 'standard-b2b', { ...std.definition, steps: std.definition.steps.filter((x) => x.offset !== 20) }));
    const r = await db.tx((q) => replanAfterScenarioChange(q, s.org, d('2026-03-19')));
    expect(r.cancelledActions).toBe(4);
    const after = await pending();
    expect(after.filter((a) => a.step_offset === 20).every((a) => a.status === 'cancelled' && a.status_reason === 'scenario_changed')).toBe(true);
    expect(after.find((a) => a.customer_id === more[1])).toMatchObject({ channel: 'call_task', step_offset: 8, status: 'queued' });
  });

  it('months of days: every working day for 100 days, with payments, a pause and a dispute; no duplicate, no weekend, no reminder after payment, no step lost', async () => {
    const dues = Array.from({ length: 12 }, (_, k) => ({ due: addDays(d('2026-02-02'), k * 5), amount: BigInt(50_000 + k * 1000) }));
    const s = await setup({ invoices: dues });
    const fr = workingDays('FR');
    let pauseId: bigint | null = null;
    let disputeId: bigint | null = null;
    for (let day = 0; day < 100; day++) {
      const today = addDays(d('2026-01-20'), day);
      if (day === 30) {
        // a partial payment, then a full one
        const p = await recordPayment(db, s.org, { customerId: s.customer, paymentDate: today, currency: 'EUR', amountMinor: 20_000n });
        await db.tx(async (q) => {
          await allocate(q, s.org, { invoiceId: s.invoices[0]!.id, paymentId: p.id, amountMinor: 20_000n, allocatedOn: today });
          await replanCustomer(q, s.org, s.customer, today);
        });
      }
      if (day === 35) {
        const p = await recordPayment(db, s.org, { customerId: s.customer, paymentDate: today, currency: 'EUR', amountMinor: s.invoices[1]!.amountInclTaxMinor });
        await db.tx(async (q) => {
          await allocate(q, s.org, { invoiceId: s.invoices[1]!.id, paymentId: p.id, amountMinor: s.invoices[1]!.amountInclTaxMinor, allocatedOn: today });
          await replanCustomer(q, s.org, s.customer, today);
        });
      }
      if (day === 40) pauseId = await db.tx((q) => createPause(q, s.org, { customerId: s.customer, invoiceIds: [s.invoices[2]!.id], reason: 'manual_hold', startsOn: today }, today));
      if (day === 55 && pauseId) await db.tx((q) => liftPause(q, s.org, pauseId!, today));
      if (day === 45) disputeId = await db.tx((q) => openDispute(q, s.org, { customerId: s.customer, invoiceIds: [s.invoices[3]!.id], reason: 'livraison incomplète' }, today));
      if (day === 70 && disputeId) await db.tx((q) => resolveDispute(q, s.org, disputeId!, 'avoir partiel accepté', today));
      if (!fr.isWorkingDay(today)) continue; // the cycle runs on working days only, like an office
      await runCycle(db, s.org, { today });
      await runCycle(db, s.org, { today }); // and a nervous operator reruns it
      await sendAll(s.org, today);
    }
    const rows = await actions(s.org);
    for (const a of rows) {
      expect(dayOfWeek(d(a.planned_on))).toBeLessThan(6);
      expect(fr.isWorkingDay(d(a.planned_on))).toBe(true);
    }
    // Invoice 2 was paid on day 35: no step planned for it from that day on
    const paidOn = addDays(d('2026-01-20'), 35);
    const after = await db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND outcome <> 'cancelled' AND recorded_on >= $3`,
      [s.org, s.invoices[1]!.id, paidOn],
    );
    expect(after[0]!.n).toBe(0n);
    // Invoice 1, partly paid, kept being followed up until the handover
    const cal1 = (await customerCalendar(db, s.org, s.customer, addDays(d('2026-01-20'), 100))).filter((l) => l.invoice === s.invoices[0]!.number);
    expect(cal1.find((l) => l.offset === 45)?.state).toBe('done');
    // No step of any still-open invoice whose date passed is left without a record: planned, skipped or cancelled
    const cal = await customerCalendar(db, s.org, s.customer, addDays(d('2026-01-20'), 99));
    expect(cal.filter((l) => l.state === 'due')).toEqual([]);
    // The disputed invoice got nothing while disputed
    const disputed = await db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND outcome = 'planned' AND recorded_on >= $3 AND recorded_on < $4 AND step_key NOT LIKE 'ack:%'`,
      [s.org, s.invoices[3]!.id, addDays(d('2026-01-20'), 45), addDays(d('2026-01-20'), 70)],
    );
    expect(disputed[0]!.n).toBe(0n);
    // but it was acknowledged to the debtor the day it was recorded
    expect(await db.query('SELECT template, planned_on FROM actions WHERE organisation_id = $1 AND dispute_id IS NOT NULL', [s.org])).toEqual([{ template: 'dispute_ack', planned_on: addDays(d('2026-01-20'), 45) }]);
    // Minimum gap: two reminders to the customer are at least 3 days apart (an acknowledgement
    // answers the customer and is no reminder)
    const msgDays = [...new Set(rows.filter((a) => ['email', 'sms', 'letter', 'registered_letter'].includes(a.channel) && a.status !== 'cancelled' && !a.dedupe_key.startsWith('ack:')).map((a) => a.planned_on))].sort();
    for (let i = 1; i < msgDays.length; i++) expect(addDays(d(msgDays[i - 1]!), 3) <= msgDays[i]!).toBe(true);
  }, 300000);

  it('a pause that ends resumes where the scenario was, with no burst of missed steps', async () => {
    const s = await setup();
    await runCycle(db, s.org, { today: d('2026-03-10') }); // J+8 call done
    const pid = await db.tx((q) => createPause(q, s.org, { customerId: s.customer, customerWide: true, reason: 'manual_hold', startsOn: d('2026-03-11'), endsOn: d('2026-04-20') }, d('2026-03-11')));
    expect(pid).toBeTypeOf('bigint');
    expect((await runCycle(db, s.org, { today: d('2026-04-01') })).actionsCreated).toBe(0);
    // The J+8 call was still pending when the pause began: the pause cancelled it, so it is
    // where the scenario resumes (40 days paused: 19 April, a Sunday -> Monday 20 April).
    expect((await actions(s.org)).map((a) => [a.step_offset, a.status, a.status_reason])).toEqual([[8, 'cancelled', 'paused']]);
    const r = await runCycle(db, s.org, { today: d('2026-04-20') });
    expect(r.actionsCreated).toBe(1);
    expect(r.stepsSkipped).toBe(0);
    expect((await actions(s.org)).at(-1)).toMatchObject({ channel: 'call_task', step_offset: 8 });
    // J+20 is now due on 1 May (a holiday) -> 4 May; nothing in between
    expect((await runCycle(db, s.org, { today: d('2026-04-30') })).actionsCreated).toBe(0);
    const next = await runCycle(db, s.org, { today: d('2026-05-04') });
    expect(next.actionsCreated).toBe(2); // J+20 email and letter, not J+30 nor J+45
    expect((await actions(s.org)).slice(-2).map((a) => a.step_offset)).toEqual([20, 20]);
  });

  it('a broken promise becomes a task and reminders resume', async () => {
    const s = await setup();
    await runCycle(db, s.org, { today: d('2026-03-10') });
    await db.tx((q) => recordPromise(q, s.org, { customerId: s.customer, invoiceIds: [s.invoices[0]!.id], promisedOn: d('2026-03-16'), amountMinor: 120_000n }, d('2026-03-11')));
    expect((await runCycle(db, s.org, { today: d('2026-03-16') })).actionsCreated).toBe(0);
    const r = await runCycle(db, s.org, { today: d('2026-03-19') });
    expect(r.promisesBroken).toBe(1);
    const tasks = await db.query<{ kind: string }>('SELECT kind FROM tasks WHERE organisation_id = $1', [s.org]);
    expect(tasks.map((t) => t.kind)).toEqual(['broken_promise']);
    // resumes: the paused days shifted J+20 (22 March) by the 8 days of the promise
    const later = await runCycle(db, s.org, { today: d('2026-03-31') });
    expect(later.actionsCreated).toBeGreaterThan(0);
  });

  it('a paid instalment is not reminded; the next one is, on its own date', async () => {
    const s = await setup();
    await db.tx((q) =>
      createPaymentPlan(q, s.org, { customerId: s.customer, invoiceIds: [s.invoices[0]!.id], instalments: [{ dueDate: d('2026-03-16'), amountMinor: 60_000n }, { dueDate: d('2026-04-16'), amountMinor: 60_000n }] }, d('2026-03-05')),
    );
    await db.tx(async (q) => {
      const p = await recordPayment(q, s.org, { customerId: s.customer, paymentDate: '2026-03-10', currency: 'EUR', amountMinor: 60_000n });
      await allocate(q, s.org, { invoiceId: s.invoices[0]!.id, paymentId: p.id, amountMinor: 60_000n, allocatedOn: d('2026-03-10') });
      await replanCustomer(q, s.org, s.customer, d('2026-03-10'));
    });
    expect((await runCycle(db, s.org, { today: d('2026-03-13') })).instalmentReminders).toBe(0);
    expect((await runCycle(db, s.org, { today: d('2026-03-17') })).instalmentReminders).toBe(0);
    const r = await runCycle(db, s.org, { today: d('2026-04-13') });
    expect(r.instalmentReminders).toBe(1);
    expect((await db.query<{ template: string; instalment_seq: number }>('SELECT template, instalment_seq FROM actions WHERE organisation_id = $1 ORDER BY id', [s.org])).map((a) => [a.template, a.instalment_seq])).toEqual([
      ['payment_plan', null], // the plan's confirmation, queued when it was agreed
      ['instalment', 2],
    ]);
    // and the plan's pause keeps the regular scenario quiet meanwhile
    expect(r.actionsCreated).toBe(1);
  });

  it('a missed instalment breaks the payment plan', async () => {
    const s = await setup();
    await db.tx((q) =>
      createPaymentPlan(q, s.org, { customerId: s.customer, invoiceIds: [s.invoices[0]!.id], instalments: [{ dueDate: d('2026-03-15'), amountMinor: 60_000n }, { dueDate: d('2026-04-15'), amountMinor: 60_000n }] }, d('2026-03-05')),
    );
    // each instalment is followed up on its own date: 3 days before, then the day after if unpaid
    const before = await runCycle(db, s.org, { today: d('2026-03-12') });
    expect([before.actionsCreated, before.instalmentReminders]).toEqual([1, 1]);
    expect((await runCycle(db, s.org, { today: d('2026-03-12') })).actionsCreated).toBe(0);
    const after = await runCycle(db, s.org, { today: d('2026-03-16') });
    expect(after.instalmentReminders).toBe(1);
    const rows = (await actions(s.org)).slice(1); // after the plan's confirmation
    expect(rows.map((a) => [a.tone, a.step_offset, a.planned_on])).toEqual([
      ['courtesy', -3, '2026-03-12'],
      ['reminder', 1, '2026-03-16'],
    ]);
    expect((await db.query<{ template: string; instalment_seq: number }>('SELECT template, instalment_seq FROM actions WHERE organisation_id = $1 ORDER BY id', [s.org])).map((a) => [a.template, a.instalment_seq])).toEqual([
      ['payment_plan', null],
      ['instalment', 1],
      ['instalment', 1],
    ]);
    const r = await runCycle(db, s.org, { today: d('2026-03-23') });
    expect(r.plansBroken).toBe(1);
    // the plan ended: its pending (never sent) instalment reminders go too, and the scenario resumes
    expect((await actions(s.org)).slice(1).map((a) => [a.status, a.status_reason])).toEqual([
      ['cancelled', 'plan_ended'],
      ['cancelled', 'plan_ended'],
    ]);
    expect((await db.query<{ status: string }>('SELECT status FROM payment_plans WHERE organisation_id = $1', [s.org]))[0]!.status).toBe('broken');
    // the plan paused the invoice from 5 to 23 March: its clock resumes, and reminders come again;
    // never reminded by its scenario, it starts at its first post-due step, J+8 shifted by the 18
    // days paused: Saturday 28 March, so Monday 30 March
    expect((await db.query<{ kind: string }>('SELECT kind FROM tasks WHERE organisation_id = $1', [s.org])).map((t) => t.kind)).toEqual(['missed_instalment']);
    expect((await runCycle(db, s.org, { today: d('2026-03-27') })).actionsCreated).toBe(0);
    const later = await runCycle(db, s.org, { today: d('2026-03-30') });
    expect(later.actionsCreated).toBe(1);
    expect((await actions(s.org)).at(-1)).toMatchObject({ channel: 'call_task', step_offset: 8, status: 'queued' });
  });

  it('an organisation far from UTC: the window opens at 09:00 local (Nouméa)', async () => {
    const s = await setup({ tz: 'Pacific/Noumea' });
    await runCycle(db, s.org, { today: d('2026-03-02') });
    expect((await actions(s.org))[0]!.send_after).toMatch(/^2026-03-01 22:00:00(\+00)?|^2026-03-01T22:00:00/);
  });

  it('consumers follow the consumer scenario by segment assignment', async () => {
    const s = await setup({ kind: 'consumer' });
    await db.query(`UPDATE customers SET segment = 'particuliers' WHERE organisation_id = $1`, [s.org]);
    await runCycle(db, s.org, { today: d('2026-03-02') });
    const c = await getScenario(db, s.org, 'consumer');
    const rows = await db.query<{ scenario_id: bigint }>('SELECT scenario_id FROM actions WHERE organisation_id = $1', [s.org]);
    expect(rows.map((r) => r.scenario_id)).toEqual([c.id]);
    await db.tx((q) => assignScenario(q, s.org, 'weekly', { customerId: s.customer }));
    await runCycle(db, s.org, { today: d('2026-03-09') });
    const w = await getScenario(db, s.org, 'weekly');
    expect((await db.query<{ scenario_id: bigint }>('SELECT scenario_id FROM actions WHERE organisation_id = $1 ORDER BY id', [s.org])).at(-1)!.scenario_id).toBe(w.id);
  });

  it('stale bank data: the cycle plans but holds sending and says why', async () => {
    const s = await setup();
    await db.query(
      `INSERT INTO bank_statements (organisation_id, format, account_key, file_sha256, statement_index, imported_at) VALUES ($1, 'camt053', 'FR76', 'abc', 0, '2026-02-20T10:00:00Z')`,
      [s.org],
    );
    const r = await runCycle(db, s.org, { today: d('2026-03-02') });
    expect(r.hold).toMatchObject({ held: true, reason: 'stale_bank_data', lastImportOn: '2026-02-20' });
    expect(r.hold.message).toMatch(/10 days ago/);
    expect((await db.query<{ hold_reason: string }>('SELECT hold_reason FROM actions WHERE organisation_id = $1', [s.org]))[0]!.hold_reason).toBe('stale_bank_data');
  });

  it('Akaunting #259: a bank statement that pays the invoice cancels its pending reminder at once', async () => {
    const s = await setup();
    await runCycle(db, s.org, { today: d('2026-03-02') });
    expect((await actions(s.org)).map((a) => a.status)).toEqual(['queued']);
    const csv = `Date;Libellé;Montant\n02/03/2026;VIR SEPA CLIENT ${n} SARL FACTURE ${s.invoices[0]!.number};1200,00\n`;
    await importBankFile(db, s.org, Buffer.from(csv), { filename: 'releve.csv', account: 'FR7630006000011234567890189' });
    const r = await reconcile(db, s.org, { onCustomersChanged: replanOnPayment(d('2026-03-02')) });
    expect(r.matched).toBe(1);
    expect((await actions(s.org)).map((a) => [a.status, a.status_reason])).toEqual([['cancelled', 'paid']]);
  });

  it('webhook events from the engine: invoice.overdue once, promise.broken, case.escalated with suspension recommended, invoice.paid from the bank', async () => {
    const s = await setup({ invoices: [{ due: '2026-03-02' }, { due: '2026-03-02' }] });
    await createSubscription(db, s.org, { url: 'https://hooks.example.com/hook', events: ['*'] });
    const events = async () => (await db.query<{ type: string }>('SELECT type FROM webhook_events WHERE organisation_id = $1 ORDER BY id', [s.org])).map((e) => e.type);
    await runCycle(db, s.org, { today: d('2026-03-02') });
    await sendAll(s.org, '2026-03-02');
    expect(await events()).toEqual([]); // due today is not overdue yet
    await runCycle(db, s.org, { today: d('2026-03-03') });
    await runCycle(db, s.org, { today: d('2026-03-03') });
    expect(await events()).toEqual(['invoice.overdue', 'invoice.overdue']);
    await db.tx((q) => recordPromise(q, s.org, { customerId: s.customer, invoiceIds: [s.invoices[0]!.id], promisedOn: d('2026-03-05'), amountMinor: 120_000n }, d('2026-03-03')));
    await runCycle(db, s.org, { today: d('2026-03-09') });
    expect((await events()).slice(2)).toEqual(['promise.created', 'promise.broken']);
    // J+45 and more: the handover needs a formal notice delivered and its deadline passed, so the
    // notice goes first (the due-day e-mail was sent), then the handover after its deadline:
    // sent Thursday 30 April, presented Tuesday 5 May (1 May is a holiday), deadline 13 May; the
    // handover on the next working day, Friday 15 May (14 May is Ascension Day)
    await runCycle(db, s.org, { today: d('2026-04-30') });
    expect((await actions(s.org)).at(-1)).toMatchObject({ tone: 'formal_notice', status: 'awaiting_approval' });
    await sendAll(s.org, '2026-04-30');
    await runCycle(db, s.org, { today: d('2026-05-13') });
    expect((await events()).slice(4)).toEqual([]);
    await runCycle(db, s.org, { today: d('2026-05-15') });
    expect((await events()).slice(4)).toEqual(['case.escalated', 'customer.suspension_recommended']);
    const csv = `Date;Libellé;Montant\n30/04/2026;VIR CLIENT ${n} SARL FACTURE ${s.invoices[1]!.number};1200,00\n`;
    await importBankFile(db, s.org, Buffer.from(csv), { filename: 'r.csv', account: 'FR7630006000011234567890189' });
    await reconcile(db, s.org, { onCustomersChanged: replanOnPayment(d('2026-04-30')) });
    expect((await events()).slice(6)).toEqual(['invoice.paid']);
  });

  it('an email address that bounced is no way to reach the customer: the step falls back to its letter', async () => {
    const s = await setup();
    await runCycle(db, s.org, { today: d('2026-03-10') });
    const [ct] = await db.query<{ id: bigint; email: string }>('SELECT id, email FROM contacts WHERE organisation_id = $1', [s.org]);
    await db.query(`INSERT INTO contact_address_status (organisation_id, contact_id, kind, value, reason) VALUES ($1, $2, 'email', $3, '550 mailbox unknown')`, [s.org, ct!.id, ct!.email]);
    await runCycle(db, s.org, { today: d('2026-03-23') }); // J+20: email (fallback letter) and letter
    const rows = await db.query<{ channel: string; fallback_from: string | null }>('SELECT channel, fallback_from FROM actions WHERE organisation_id = $1 AND planned_on = $2', [s.org, '2026-03-23']);
    expect(rows).toEqual([{ channel: 'letter', fallback_from: 'email' }]);
  });

  it('a cycle walked in small chunks (each read while the previous is written) decides exactly what one chunk does', async () => {
    const build = async () => {
      const s = await setup({ invoices: [{ due: '2026-01-05' }, { due: '2026-02-16' }] });
      for (let k = 0; k < 4; k++) {
        const c = await createCustomer(db, s.org, { legalName: `Autre ${k}`, kind: 'business', contacts: [{ name: 'AP', email: `ap${k}@autre.fr`, receivesReminders: true }] });
        for (const [j, due] of ['2026-01-20', '2026-02-27', '2026-03-09'].entries()) {
          await createInvoice(db, s.org, { customerId: c.id, number: `A${k}-${j}`, issueDate: addDays(d(due), -30), dueDate: due, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 50_000n * BigInt(k + 1) });
        }
      }
      return s.org;
    };
    const [one, many] = [await build(), await build()];
    const shape = async (org: string) => ({
      actions: (await db.query<Record<string, unknown>>('SELECT channel, tone, step_offset, status FROM actions WHERE organisation_id = $1 ORDER BY customer_id, channel', [org])),
      records: (await db.query<Record<string, unknown>>(
        `SELECT i.number, sr.step_key, sr.outcome, sr.superseded FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
          WHERE sr.organisation_id = $1 ORDER BY i.number, sr.step_key`, [org])).map((r) => ({ ...r, number: String(r.number).replace(/^F\d+-/, 'F-') })),
      schedule: await db.query('SELECT s.next_step_on FROM invoice_schedule s JOIN invoices i ON i.organisation_id = s.organisation_id AND i.id = s.invoice_id WHERE s.organisation_id = $1 ORDER BY i.customer_id, i.due_date', [org]),
    });
    for (const today of ['2026-03-10', '2026-03-11', '2026-03-30']) {
      const a = await runCycle(db, one, { today: d(today) });
      const b = await runCycle(db, many, { today: d(today), chunkSize: 1 });
      expect({ ...b, today: a.today }).toEqual(a);
    }
    const [x, y] = [await shape(one), await shape(many)];
    expect(x.actions.length).toBeGreaterThan(5);
    expect(y).toEqual(x);
  });

  it('step records name an invoice and an action of the organisation, and go with their invoice', async () => {
    const s = await setup();
    const other = await setup();
    await runCycle(db, s.org, { today: d('2026-03-02') });
    const [action] = await actions(s.org);
    const invoiceId = s.invoices[0]!.id;
    // Another organisation's invoice, or an action that does not exist, is refused and nothing is written.
    await expect(
      db.query(`INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, recorded_on) VALUES ($1, $2, '8:call_task', 8, 'skipped', '2026-03-10')`, [
        s.org,
        other.invoices[0]!.id,
      ]),
    ).rejects.toThrow(/does not exist in this organisation/);
    await expect(
      db.query(`INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, action_id, recorded_on) VALUES ($1, $2, '8:call_task', 8, 'planned', $3, '2026-03-10')`, [
        s.org,
        invoiceId,
        action!.id + 1000n,
      ]),
    ).rejects.toThrow(/does not exist in this organisation/);
    const count = async () => Number((await db.query<{ n: bigint }>('SELECT count(*) AS n FROM step_records WHERE organisation_id = $1 AND invoice_id = $2', [s.org, invoiceId]))[0]!.n);
    expect(await count()).toBe(1);
    // An invoice that goes takes its step records and its schedule along (no settlement yet).
    await db.tx(async (q) => {
      await q.query(`UPDATE actions SET status = 'cancelled' WHERE organisation_id = $1`, [s.org]);
      await q.query('DELETE FROM invoices WHERE organisation_id = $1 AND id = $2', [s.org, invoiceId]);
    });
    expect(await count()).toBe(0);
    expect(await db.query('SELECT 1 FROM invoice_schedule WHERE organisation_id = $1 AND invoice_id = $2', [s.org, invoiceId])).toEqual([]);
  });

  it('Invoice Ninja #11118: late fees are statutory interest plus the 40 € indemnity, not a flat fee', () => {
    const r = computeLateFees({ jurisdiction: 'FR', debtor: 'business', currency: 'EUR', amountMinor: 1_200_000n, dueDate: d('2025-06-15'), until: d('2025-09-15') }, defaultRateTables());
    expect([r.interestMinor, r.indemnityMinor, r.totalMinor]).toEqual([37_243n, 4_000n, 41_243n]);
  });
});

describe.each(dbTargets())('daily cycle in the server on $name', (target) => {
  it('runs once per organisation per local day, in the organisation time zone', async () => {
    const { runDueCycles } = await import('../src/engine/scheduler.ts');
    const db = await target.open();
    try {
      const org = await createOrganisation(db, { legalName: 'Sched SAS', timeZone: 'Pacific/Noumea', live: true });
      const c = await createCustomer(db, org.id, { legalName: 'C', contacts: [{ name: 'x', email: 'x@y.fr', receivesReminders: true }] });
      await createInvoice(db, org.id, { customerId: c.id, number: 'S-1', issueDate: '2026-02-01', dueDate: '2026-03-02', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 100n });
      const lines: string[] = [];
      // 13:30 UTC on 1 March is 00:30 on 2 March in Nouméa: the due day there.
      const first = await runDueCycles(db, Date.UTC(2026, 2, 1, 13, 30), (l) => lines.push(l));
      expect(first.map((s) => s.today)).toEqual(['2026-03-02']);
      expect(first[0]!.actionsCreated).toBe(1);
      expect(await runDueCycles(db, Date.UTC(2026, 2, 1, 20, 0), (l) => lines.push(l))).toEqual([]);
      expect(lines[0]).toMatch(/daily cycle 2026-03-02 for Sched SAS: 1 actions planned/);
    } finally {
      await db.close();
    }
  });
});

describe.each(dbTargets())('one organisation failing does not stop the others on $name', (target) => {
  it('a scenario naming an unknown holiday calendar fails its organisation\'s cycle with the reason, never silently France, and the next organisation still runs', async () => {
    const { runDueCycles } = await import('../src/engine/scheduler.ts');
    const db = await target.open();
    try {
      const orgs = [];
      for (const name of ['Cassé SAS', 'Saine SAS']) {
        const org = await createOrganisation(db, { legalName: name, timeZone: 'Europe/Paris', live: true });
        const c = await createCustomer(db, org.id, { legalName: `Client de ${name}`, contacts: [{ name: 'x', email: 'x@y.fr', receivesReminders: true }] });
        await createInvoice(db, org.id, { customerId: c.id, number: 'S-1', issueDate: '2026-02-01', dueDate: '2026-03-02', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 100n });
        orgs.push(org);
      }
      // A definition stored before its calendar was withdrawn (saving refuses an unknown one today)
      await db.query(`UPDATE scenarios SET definition = jsonb_set(definition, '{options,holidayCalendar}', '"XX"') WHERE organisation_id = $1`, [orgs[0]!.id]);
      const lines: string[] = [];
      const ran = await runDueCycles(db, Date.UTC(2026, 2, 2, 8, 0), (l) => lines.push(l));
      expect(ran).toHaveLength(1);
      expect(lines.join('\n')).toMatch(/daily cycle 2026-03-02 for Cassé SAS failed: unknown holiday calendar "XX"/);
      expect(lines.join('\n')).toMatch(/daily cycle 2026-03-02 for Saine SAS: 1 actions planned/);
      const actions = await db.query<{ organisation_id: string }>('SELECT organisation_id FROM actions');
      expect(actions.map((a) => a.organisation_id)).toEqual([orgs[1]!.id]);
      // Not recorded as run: once the scenario is corrected, the next tick runs it
      await db.query(`UPDATE scenarios SET definition = jsonb_set(definition, '{options,holidayCalendar}', '"FR"') WHERE organisation_id = $1`, [orgs[0]!.id]);
      expect(await runDueCycles(db, Date.UTC(2026, 2, 2, 8, 15), (l) => lines.push(l))).toHaveLength(1);
      expect(lines.at(-1)).toMatch(/daily cycle 2026-03-02 for Cassé SAS: 1 actions planned/);
    } finally {
      await db.close();
    }
  });

  it('the worker does not send by another calendar either: the message waits, saying why, until the scenario is corrected', async () => {
    const { actions, addCustomer, addInvoice, paris, plan, setupOrg, worker } = await import('./delivery-fixture.ts');
    const db = await target.open();
    try {
      const org = await setupOrg(db);
      const c = await addCustomer(db, org.id);
      await addInvoice(db, org.id, c.id, '2026-03-02');
      await plan(db, org.id, '2026-03-02');
      const [queued] = await actions(db, org.id);
      expect(queued).toMatchObject({ channel: 'email', status: 'queued' });
      for (const table of ['scenarios', 'scenario_versions'])
        await db.query(`UPDATE ${table} SET definition = jsonb_set(definition, '{options,holidayCalendar}', '"XX"') WHERE organisation_id = $1`, [org.id]);
      await worker(db, paris('2026-03-02', '10:00')).runOnce();
      const [held] = await actions(db, org.id);
      expect(held!.status).toBe('queued');
      expect(held!.last_error).toMatch(/unknown holiday calendar "XX"/);
      expect(new Date(held!.next_attempt_at!).getTime()).toBe(paris('2026-03-02', '11:00').getTime());
    } finally {
      await db.close();
    }
  }, 180000);
});

describe.each(dbTargets())('imports stop reminders on $name', (target) => {
  it('a CSV of payments that settles an invoice cancels its pending reminder in the same import', async () => {
    const db = await target.open();
    try {
      const org = await createOrganisation(db, { legalName: 'Import SAS', live: true });
      const c = await createCustomer(db, org.id, { legalName: 'Client Import SARL', externalId: 'CI1', contacts: [{ name: 'x', email: 'x@y.fr', receivesReminders: true }] });
      await createInvoice(db, org.id, { customerId: c.id, number: 'IMP-1', issueDate: '2026-02-01', dueDate: '2026-03-02', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 50_000n });
      await runCycle(db, org.id, { today: d('2026-03-02') });
      const { importCsv } = await import('../src/imports/csv.ts');
      const csv = 'N° facture;Date;Montant\nIMP-1;03/03/2026;500,00\n';
      const report = await importCsv(db, org.id, 'payments', { bytes: Buffer.from(csv), filename: 'paiements.csv' });
      expect(report.outcome).toBe('imported');
      const rows = await db.query<{ status: string; status_reason: string }>('SELECT status, status_reason FROM actions WHERE organisation_id = $1', [org.id]);
      expect(rows).toEqual([{ status: 'cancelled', status_reason: 'paid' }]);
    } finally {
      await db.close();
    }
  });
});
