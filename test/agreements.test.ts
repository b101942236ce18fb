/**
 * Issue 16, points 1, 2, 12 and 13: what a promise, a payment plan, a dispute or a pause covers,
 * what happens to the calendars when it ends, what the debtor is told when one is recorded, and
 * that every one is told to integrators (webhooks) whatever the way it was recorded. Each test
 * reads what the debtor receives (.eml parsed by mailparser, letters by pdftotext).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { listCallTasks, recordCallOutcome } from '../src/delivery/calls.ts';
import { setAcknowledgeAgreements } from '../src/engine/acknowledgements.ts';
import { createPause, createPaymentPlan, liftPause, openDispute, recordPromise } from '../src/engine/events.ts';
import { createScenario, assignScenario } from '../src/engine/scenarios.ts';
import { isRelanceError } from '../src/errors.ts';
import { createSubscription } from '../src/webhooks/index.ts';
import { dbTargets } from './db.ts';
import { cli, mailText, outboxMails, pdfText, subject, webSession } from './debtor-harness.ts';
import { actions, addCustomer, addInvoice, chasedUntil, d, paris, plan, setupOrg, worker } from './delivery-fixture.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'relance-agreements-'));

async function refusal(p: Promise<unknown>): Promise<{ code: string; field: string | undefined; fr: string; en: string }> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!isRelanceError(e)) throw new Error(`expected a refusal, got ${String(e)}`);
  return { code: e.code, field: e.where?.field, fr: e.detail('fr'), en: e.detail('en') };
}

describe.each(dbTargets())('what agreements cover, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it("16.1 a promise on one invoice leaves the customer's other invoices on their calendar", async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-SCOPE-A', amount: 120_000n });
    const b = await addInvoice(db, org.id, c.id, '2026-03-16', { number: 'F-SCOPE-B', amount: 1_340_700n });
    await plan(db, org.id, '2026-03-02'); // A's due-day email
    // On 3 March the customer promises to pay A by 20 March.
    await db.tx((q) => recordPromise(q, org.id, { customerId: c.id, invoiceIds: [a.id], promisedOn: d('2026-03-20'), amountMinor: 120_000n }, d('2026-03-03'), { acknowledge: false }));
    const [pause] = await db.query<{ invoice_ids: unknown[] | null }>(`SELECT invoice_ids FROM pauses WHERE organisation_id = $1 AND reason = 'promise_to_pay'`, [org.id]);
    expect(pause!.invoice_ids!.map(String)).toEqual([String(a.id)]);
    // B falls due on 16 March: its due-day email is planned and goes out, A's calendar waits.
    const r = await plan(db, org.id, '2026-03-16');
    expect(r.actionsCreated).toBe(1);
    const dataDir = tmp();
    // (A's due-day email of 2 March, not sent yet, went with the promise.)
    // (No SMTP server: written to the local outbox, exported, awaiting sending by hand.)
    expect((await worker(db, paris('2026-03-16'), { dataDir }).runOnce()).exported).toBe(1);
    const mails = await outboxMails(dataDir, org.id);
    const due = mails.find((m) => subject(m).includes('F-SCOPE-B'))!;
    expect(subject(due)).toBe('Facture F-SCOPE-B : échéance aujourd’hui');
    expect(mailText(due)).toContain('d’un montant de 13 407,00 €, arrive à échéance aujourd’hui, 16 mars 2026');
    expect(mailText(due)).not.toContain('F-SCOPE-A');
    // Nothing for A between the promise and its date.
    const forA = await db.query(
      `SELECT step_key FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND outcome = 'planned' AND recorded_on > '2026-03-03'`,
      [org.id, a.id],
    );
    expect(forA).toEqual([]);

    // Every open invoice only when asked for, and then exactly those open today (not invoices to come).
    const c2 = await addCustomer(db, org.id);
    const x = await addInvoice(db, org.id, c2.id, '2026-03-10');
    const y = await addInvoice(db, org.id, c2.id, '2026-03-12');
    const none = await refusal(db.tx((q) => recordPromise(q, org.id, { customerId: c2.id, promisedOn: d('2026-03-20'), amountMinor: 1000n }, d('2026-03-09'))));
    expect(none).toMatchObject({ code: 'validation', field: 'invoiceIds' });
    expect(none.en).toContain('say which invoices this covers (invoiceIds) or every open invoice of the customer (allOpenInvoices)');
    expect(none.fr).toContain('indiquez les factures concernées');
    await db.tx((q) => recordPromise(q, org.id, { customerId: c2.id, allOpenInvoices: true, promisedOn: d('2026-03-20'), amountMinor: 1000n }, d('2026-03-09'), { acknowledge: false }));
    const [all] = await db.query<{ invoice_ids: unknown[] }>(`SELECT invoice_ids FROM pauses WHERE organisation_id = $1 AND customer_id = $2`, [org.id, c2.id]);
    expect(all!.invoice_ids.map(String).sort()).toEqual([String(x.id), String(y.id)].sort());

    // A pause covers the whole customer only when asked for.
    expect(await refusal(db.tx((q) => createPause(q, org.id, { customerId: c2.id, reason: 'manual_hold', startsOn: d('2026-03-09') }, d('2026-03-09'))))).toMatchObject({ code: 'validation', field: 'invoiceIds' });
    const wide = await db.tx((q) => createPause(q, org.id, { customerId: c2.id, customerWide: true, reason: 'insolvency', startsOn: d('2026-03-09') }, d('2026-03-09')));
    // An invoice of another customer is refused, naming it.
    const other = await refusal(db.tx((q) => createPause(q, org.id, { customerId: c2.id, invoiceIds: [a.id], reason: 'manual_hold', startsOn: d('2026-03-09') }, d('2026-03-09'))));
    expect(other.en).toContain('invoice F-SCOPE-A belongs to another customer');

    // The screen and the CLI say which invoices each pause covers.
    const web = await webSession(db, org.id, paris('2026-03-09'));
    const screen = await web.get<{ pauses: { id: string; invoices: string[] | null; active: boolean }[] }>(`/customers/${c2.id}`);
    expect(screen.pauses.map((p) => [p.invoices, p.active])).toEqual(
      expect.arrayContaining([
        [null, true],
        [[x.number, y.number], true],
      ]),
    );
    const invoicePage = await web.get<{ pauses: { reason: string; invoices: string[] | null }[] }>(`/invoices/${a.id}`);
    expect(invoicePage.pauses).toEqual([expect.objectContaining({ reason: 'promise_to_pay', invoices: ['F-SCOPE-A'] })]);
    const listed = await cli(db, org.id, ['pauses', 'list', '--customer', String(c2.id), '--date', '2026-03-09'], 'fr');
    expect(listed).toContain(`(promise_to_pay) du 9 mars 2026 au 22 mars 2026 : factures ${x.number}, ${y.number} — en cours`);
    expect(listed).toContain(`pause ${wide} (insolvency) du 9 mars 2026 : tout le client (factures à venir comprises) — en cours`);
    // The web app sends what the picker ticked; nothing ticked is refused with the reason.
    const nothing = await web.send('POST', `/customers/${c.id}/pause`, { note: 'x' });
    expect(nothing.status).toBe(400);
    expect(String(nothing.body.detail)).toContain('invoiceIds');
    const onB = await web.send('POST', `/customers/${c.id}/pause`, { invoiceIds: [String(b.id)], note: 'waiting for the delivery note' });
    expect(onB.status).toBe(200);
    expect(await cli(db, org.id, ['pauses', 'list', '--customer', String(c.id), '--active', '--date', '2026-03-09'])).toContain(`(manual_hold) from 9 March 2026: invoices F-SCOPE-B — active`);
  });

  it('16.2 after a pause ends only the invoices it covered shift; a step before the due date whose moment passed is skipped with its reason, never sent late', async () => {
    const scenario: ScenarioDefinition = {
      options: { workingDaysOnly: true, holidayCalendar: 'FR', window: { start: '09:00', end: '18:00' }, minGapDays: 0, grouping: 'per_invoice' },
      steps: [
        { offset: -7, channel: 'email', template: 'courtesy', tone: 'courtesy' },
        { offset: 7, channel: 'email', template: 'reminder', tone: 'reminder' },
      ],
    };
    const org = await setupOrg(db);
    await db.tx(async (q) => {
      await createScenario(q, org.id, { key: 'pre-due', name: 'Avant échéance', definition: scenario });
      await assignScenario(q, org.id, 'pre-due', { organisationDefault: true });
    });
    const c = await addCustomer(db, org.id);
    const covered = await addInvoice(db, org.id, c.id, '2026-03-10', { number: 'F-COVERED' }); // J-7: 3 March
    await addInvoice(db, org.id, c.id, '2026-03-16', { number: 'F-OTHER' }); // J-7: 9 March
    // A hold on F-COVERED from 2 to 12 March (it covers that invoice only).
    const pauseId = await db.tx((q) => createPause(q, org.id, { customerId: c.id, invoiceIds: [covered.id], reason: 'manual_hold', startsOn: d('2026-03-02') }, d('2026-03-02')));
    const dataDir = tmp();
    for (const day of ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-16', '2026-03-17', '2026-03-18', '2026-03-19', '2026-03-20', '2026-03-23', '2026-03-24']) {
      if (day === '2026-03-12') await db.tx((q) => liftPause(q, org.id, pauseId, d(day)));
      await plan(db, org.id, day);
      await worker(db, paris(day), { dataDir }).runOnce();
    }
    const sent = await db.query<{ planned_on: string; template: string; number: string }>(
      `SELECT a.planned_on, a.template, i.number FROM actions a JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE a.organisation_id = $1 AND a.status IN ('sent', 'exported') ORDER BY a.planned_on, i.number`,
      [org.id],
    );
    expect(sent.map((s) => [s.planned_on, s.template, s.number])).toEqual([
      ['2026-03-09', 'courtesy', 'F-OTHER'], // on its date: the hold on the other invoice moved nothing
      ['2026-03-19', 'reminder', 'F-COVERED'], // 17 March + the 2 days it was held after its due date
      ['2026-03-23', 'reminder', 'F-OTHER'], // 16 + 7, unshifted
    ]);
    // F-COVERED's courtesy notice ("falls due on 10 March") was never sent after the 10th: recorded as skipped, with why.
    const [skipped] = await db.query<{ outcome: string; reason: string; recorded_on: string }>(
      `SELECT outcome, reason, recorded_on FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND step_key = '-7:email'`,
      [org.id, covered.id],
    );
    expect(skipped).toEqual({ outcome: 'skipped', reason: 'due_date_passed', recorded_on: '2026-03-12' });
    expect(await cli(db, org.id, ['preview', '--invoice', 'F-COVERED', '--date', '2026-03-24'], 'fr')).toContain('skipped: échéance déjà passée : un avis avant échéance n’est plus envoyé');
    expect(await cli(db, org.id, ['preview', '--invoice', 'F-COVERED', '--date', '2026-03-24'], 'en')).toContain('skipped: due date already passed: a notice before the due date is no longer sent');
    // What the debtor got: one courtesy notice, for F-OTHER, before its due date.
    const mails = await outboxMails(dataDir, org.id);
    const courtesy = mails.filter((m) => subject(m).startsWith('Échéance du'));
    expect(courtesy.map((m) => subject(m))).toEqual(['Échéance du 16 mars 2026 – facture F-OTHER']);
    expect(mailText(courtesy[0]!)).toContain('arrivera à échéance le 16 mars 2026');
    expect(mails.filter((m) => mailText(m).includes('F-COVERED')).map((m) => subject(m))).toEqual(['Rappel : facture F-COVERED échue le 10 mars 2026']);
  });

  it('resuming the reminders of a promise or a plan withdraws it: the cycle no longer calls it broken, integrators are told', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-WD-A', amount: 120_000n });
    const b = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-WD-B', amount: 90_000n });
    await db.tx((q) => createSubscription(q, org.id, { url: 'https://erp.example/hooks', events: ['*'] }));
    const promiseId = await db.tx((q) => recordPromise(q, org.id, { customerId: c.id, invoiceIds: [a.id], promisedOn: d('2026-03-20'), amountMinor: 120_000n }, d('2026-03-05'), { acknowledge: false }));
    const planId = await db.tx((q) =>
      createPaymentPlan(q, org.id, { customerId: c.id, invoiceIds: [b.id], instalments: [{ dueDate: d('2026-03-15'), amountMinor: 45_000n }, { dueDate: d('2026-04-15'), amountMinor: 45_000n }] }, d('2026-03-05'), { acknowledge: false }),
    );
    const pauseOf = async (table: 'promises' | 'payment_plans', id: bigint) =>
      (await db.query<{ pause_id: bigint }>(`SELECT pause_id FROM ${table} WHERE organisation_id = $1 AND id = $2`, [org.id, id]))[0]!.pause_id;
    // The controller resumes the reminders of both on 8 March (the debtor went silent).
    const promisePause = await pauseOf('promises', promiseId);
    const planPause = await pauseOf('payment_plans', planId);
    await db.tx(async (q) => {
      await liftPause(q, org.id, promisePause, d('2026-03-08'));
      await liftPause(q, org.id, planPause, d('2026-03-08'));
    });
    const states = await db.query<{ kind: string; status: string; closed_on: string }>(
      `SELECT 'promise' AS kind, status, closed_on FROM promises WHERE organisation_id = $1
       UNION ALL SELECT 'plan', status, closed_on FROM payment_plans WHERE organisation_id = $1 ORDER BY 1`,
      [org.id],
    );
    expect(states.map((r) => [r.kind, r.status, String(r.closed_on)])).toEqual([
      ['plan', 'withdrawn', '2026-03-08'],
      ['promise', 'withdrawn', '2026-03-08'],
    ]);
    // Past the promise's date and the first instalment's, nothing is paid: no broken promise, no missed instalment.
    const r = await plan(db, org.id, '2026-03-25');
    expect([r.promisesBroken, r.promisesKept]).toEqual([0, 0]);
    const tasks = await db.query<{ kind: string }>(`SELECT kind FROM tasks WHERE organisation_id = $1 AND kind IN ('broken_promise', 'missed_instalment')`, [org.id]);
    expect(tasks).toEqual([]);
    // Both invoices are chased again.
    const chased = await db.query<{ number: string }>(
      `SELECT DISTINCT i.number FROM actions a JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE a.organisation_id = $1 AND a.status <> 'cancelled' AND a.planned_on >= '2026-03-08' ORDER BY i.number`,
      [org.id],
    );
    expect(chased.map((x) => x.number)).toEqual(['F-WD-A', 'F-WD-B']);
    const events = await db.query<{ type: string }>(`SELECT type FROM webhook_events WHERE organisation_id = $1 AND type LIKE '%withdrawn' ORDER BY type`, [org.id]);
    expect(events.map((e) => e.type)).toEqual(['payment_plan.withdrawn', 'promise.withdrawn']);
  });

  it("a dispute's pause is not lifted alone: the dispute is resolved, whichever way the pause is asked to end", async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-DSP', amount: 50_000n });
    const disputeId = await db.tx((q) => openDispute(q, org.id, { customerId: c.id, invoiceIds: [a.id], reason: 'livraison incomplète' }, d('2026-03-05'), { acknowledge: false }));
    const [row] = await db.query<{ pause_id: bigint }>('SELECT pause_id FROM disputes WHERE organisation_id = $1 AND id = $2', [org.id, disputeId]);
    const r = await refusal(db.tx((q) => liftPause(q, org.id, row!.pause_id, d('2026-03-08'))));
    expect(r).toMatchObject({ code: 'validation', field: 'pause' });
    expect(r.fr).toContain('résolvez le litige');
    const [pause] = await db.query<{ lifted_on: string | null }>('SELECT lifted_on FROM pauses WHERE organisation_id = $1 AND id = $2', [org.id, row!.pause_id]);
    expect(pause!.lifted_on).toBeNull();
  });
});

describe.each(dbTargets())('acknowledgements of agreements, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('16.12 recording a promise, a dispute or a payment plan queues its acknowledgement; the plan confirmation lists every instalment', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id, [{ name: 'Mme Berthe Morisot' }]);
    const f1 = await addInvoice(db, org.id, c.id, '2026-02-02', { number: 'F-ACK-1', amount: 90_000n });
    const f2 = await addInvoice(db, org.id, c.id, '2026-02-09', { number: 'F-ACK-2', amount: 45_000n });
    const f3 = await addInvoice(db, org.id, c.id, '2026-02-16', { number: 'F-ACK-3', amount: 30_000n });
    const today = d('2026-03-02');
    await db.tx((q) => recordPromise(q, org.id, { customerId: c.id, invoiceIds: [f3.id], promisedOn: d('2026-03-13'), amountMinor: 30_000n }, today));
    await db.tx((q) => openDispute(q, org.id, { customerId: c.id, invoiceIds: [f2.id], reason: 'livraison incomplète : 2 portes manquantes' }, today));
    await db.tx((q) =>
      createPaymentPlan(q, org.id, { customerId: c.id, invoiceIds: [f1.id], instalments: [{ dueDate: d('2026-03-16'), amountMinor: 30_000n }, { dueDate: d('2026-04-15'), amountMinor: 30_000n }, { dueDate: d('2026-05-15'), amountMinor: 30_000n }] }, today),
    );
    const queued = await db.query<{ template: string; channel: string; status: string }>(`SELECT template, channel, status FROM actions WHERE organisation_id = $1 ORDER BY id`, [org.id]);
    expect(queued).toEqual([
      { template: 'promise', channel: 'email', status: 'queued' },
      { template: 'dispute_ack', channel: 'email', status: 'queued' },
      { template: 'payment_plan', channel: 'email', status: 'queued' },
    ]);
    // They go out although the invoices they are about are paused (that pause is what they confirm).
    const dataDir = tmp();
    expect((await worker(db, paris('2026-03-02', '10:00'), { dataDir }).runOnce()).exported).toBe(3);
    const mails = await outboxMails(dataDir, org.id);
    const bySubject = (re: RegExp) => mails.find((m) => re.test(subject(m)))!;
    const promise = mailText(bySubject(/^Votre engagement de paiement/));
    expect(promise).toContain('prenons bonne note de votre engagement à régler 300,00 € le 13 mars 2026, au titre de la facture F-ACK-3');
    const dispute = bySubject(/^Votre réclamation sur la facture F-ACK-2/);
    expect(subject(dispute)).toMatch(/dossier LIT-2026-\d{6}$/);
    expect(mailText(dispute)).toContain('Motif indiqué : « livraison incomplète : 2 portes manquantes »');
    expect(mailText(dispute)).toContain('Nous accusons réception de votre réclamation du 2 mars 2026 concernant la facture F-ACK-2');
    const planMail = mailText(bySubject(/^Confirmation de l’échéancier convenu/));
    expect(planMail).toContain('- Échéance 1 : 300,00 € le 16 mars 2026\n- Échéance 2 : 300,00 € le 15 avril 2026\n- Échéance 3 : 300,00 € le 15 mai 2026\nTotal : 900,00 €');
    // The payment box asks for the first instalment, not the whole balance.
    expect(planMail).toContain('Montant à régler : 300,00 €');
    expect(planMail).not.toContain('900,00 € à régler');

    // The letter version of the plan confirmation (customer without e-mail) lists them too.
    const post = await addCustomer(db, org.id, [{ email: null, phone: null }]);
    const f4 = await addInvoice(db, org.id, post.id, '2026-02-02', { number: 'F-ACK-4', amount: 60_000n });
    await db.tx((q) => createPaymentPlan(q, org.id, { customerId: post.id, invoiceIds: [f4.id], instalments: [{ dueDate: d('2026-03-31'), amountMinor: 20_000n }, { dueDate: d('2026-04-30'), amountMinor: 40_000n }] }, today));
    const [letter] = await db.query<{ id: bigint; channel: string }>(`SELECT id, channel FROM actions WHERE organisation_id = $1 AND customer_id = $2`, [org.id, post.id]);
    expect(letter!.channel).toBe('letter');
    const { renderAction } = await import('../src/delivery/content.ts');
    const { getOrganisation } = await import('../src/ledger/repo.ts');
    const { loadRateTables } = await import('../src/law/rates-repo.ts');
    const { loadDeliverySettings } = await import('../src/delivery/settings.ts');
    const rendered = await renderAction(
      db,
      { orgId: org.id, id: letter!.id, customerId: post.id, channel: 'letter', template: 'payment_plan', invoiceIds: [f4.id] },
      { now: paris('2026-03-02'), org: await getOrganisation(db, org.id), settings: await loadDeliverySettings(db, org.id), rates: await loadRateTables(db), overrides: () => null },
    );
    const text = pdfText((rendered as { pdf: Buffer }).pdf).replace(/\s+/g, ' ');
    expect(text).toContain('Échéance 1 : 200,00 € le 31 mars 2026');
    expect(text).toContain('Échéance 2 : 400,00 € le 30 avril 2026');

    // The organisation's setting (on by default) turns it off; one recording may say otherwise.
    await db.tx((q) => setAcknowledgeAgreements(q, org.id, false));
    const quiet = await addCustomer(db, org.id);
    const f5 = await addInvoice(db, org.id, quiet.id, '2026-02-02', { number: 'F-ACK-5' });
    await db.tx((q) => recordPromise(q, org.id, { customerId: quiet.id, invoiceIds: [f5.id], promisedOn: d('2026-03-10'), amountMinor: 1000n }, today));
    expect(await db.query('SELECT 1 FROM actions WHERE organisation_id = $1 AND customer_id = $2', [org.id, quiet.id])).toEqual([]);
    expect(await cli(db, org.id, ['acknowledgements'])).toBe('Acknowledgements: off.');
    expect(await cli(db, org.id, ['acknowledgements', 'on'], 'fr')).toContain('Accusés de réception : activés');
    const cliPromise = await cli(db, org.id, ['promises', 'add', '--customer', String(quiet.id), '--invoice', 'F-ACK-5', '--promised-on', '2026-03-12', '--amount', '1200,00', '--date', '2026-03-02'], 'fr');
    expect(cliPromise).toContain('relances suspendues pour factures F-ACK-5');
    expect(cliPromise).toMatch(/Accusé de réception au client mis en file \(action \d+\)/);
  });
});

describe.each(dbTargets())('state changes are told once, through one path, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('16.13 a dispute recorded through a call outcome emits dispute.opened, as one recorded through the API, the CLI or the web app', async () => {
    const org = await setupOrg(db);
    await createSubscription(db, org.id, { url: 'https://hooks.example.com/hook', events: ['*'] });
    const events = async () =>
      db.query<{ type: string; payload: Record<string, unknown> }>(`SELECT type, payload FROM webhook_events WHERE organisation_id = $1 AND type NOT IN ('invoice.overdue', 'action.sent', 'action.exported') ORDER BY id`, [org.id]);
    const c = await addCustomer(db, org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-02-02', { number: 'F-CALL-1' });
    await chasedUntil(db, org.id, inv.id, 14, '2026-02-16'); // reminded up to J+14 already
    await addInvoice(db, org.id, c.id, '2026-02-20', { number: 'F-CALL-2' }); // not in the call
    // The J+21 call task (test scenario), handed to the caller by the worker.
    await plan(db, org.id, '2026-02-23');
    await worker(db, paris('2026-02-23')).runOnce();
    const [task] = await listCallTasks(db, org.id);
    expect(task!.invoices.map((i) => i.number)).toEqual(['F-CALL-1']);
    await db.tx((q) => recordCallOutcome(q, org.id, task!.id, { outcome: 'dispute', disputeReason: 'prix non conforme au devis', by: 'marie' }, d('2026-02-23')));
    const [opened] = await events();
    expect(opened).toMatchObject({ type: 'dispute.opened', payload: { customerId: String(c.id), invoiceIds: [String(inv.id)], invoices: ['F-CALL-1'], reason: 'prix non conforme au devis' } });
    // The call's invoice only is paused, and the debtor is told the dispute is recorded.
    const [pause] = await db.query<{ invoice_ids: unknown[] }>(`SELECT invoice_ids FROM pauses WHERE organisation_id = $1 AND reason = 'dispute'`, [org.id]);
    expect(pause!.invoice_ids.map(String)).toEqual([String(inv.id)]);
    expect((await actions(db, org.id)).map((a) => (a as unknown as { template: string }).template)).toContain('dispute_ack');

    // The same event, with the same payload, whatever the way in.
    const web = await webSession(db, org.id, paris('2026-02-24'));
    expect((await web.send('POST', `/customers/${c.id}/dispute`, { invoiceIds: [String(inv.id)], reason: 'par le web' })).status).toBe(200);
    await cli(db, org.id, ['disputes', 'open', '--customer', String(c.id), '--invoice', 'F-CALL-1', '--reason', 'par la ligne de commande', '--date', '2026-02-24']);
    const { createApiKey } = await import('../src/auth/index.ts');
    const { createApp } = await import('../src/http/app.ts');
    const key = await db.tx((q) => createApiKey(q, org.id, { name: 'erp', scope: 'write' }));
    const api = await createApp({ db, now: () => paris('2026-02-24') }).request('/api/v1/disputes', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: String(c.id), invoiceIds: [String(inv.id)], reason: "par l'API" }),
    });
    expect(api.status).toBe(201);
    const opens = (await events()).filter((e) => e.type === 'dispute.opened');
    expect(opens.map((e) => e.payload.reason)).toEqual(['prix non conforme au devis', 'par le web', 'par la ligne de commande', "par l'API"]);
    for (const e of opens) expect(Object.keys(e.payload).sort()).toEqual(['customerId', 'disputeId', 'invoiceIds', 'invoices', 'openedOn', 'reason']);

    // Promises and plans too, from a call as from anywhere else; their end is told by the cycle.
    const promised = await addCustomer(db, org.id);
    const pinv = await addInvoice(db, org.id, promised.id, '2026-02-02', { number: 'F-CALL-3' });
    await db.tx((q) => recordPromise(q, org.id, { customerId: promised.id, invoiceIds: [pinv.id], promisedOn: d('2026-02-26'), amountMinor: 120_000n }, d('2026-02-24')));
    await plan(db, org.id, '2026-03-02');
    const types = (await events()).map((e) => e.type);
    expect(types.filter((t) => t.startsWith('promise.'))).toEqual(['promise.created', 'promise.broken']);
  });
});
