/**
 * Issue 21, credit insurance: the organisation records its insurer and the policy's deadlines; the
 * daily cycle opens a case when a debtor's first invoice falls overdue, raises a task before the
 * end of the extension of terms and before the declaration deadline (once each), settles the case
 * when everything is paid; the declaration's data (debtor, SIREN, amounts, due dates, steps taken)
 * as JSON and as a PDF read back with pdftotext; the same through the CLI and the API.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { insuranceDeadlines, insuranceTasksDue } from '../src/domain/escalation/insurance.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { checkInsuranceDeadlines, insuranceDeclaration, insuranceDeclarationPdf, listInsuranceCases, markInsuranceDeclared, setInsurancePolicy } from '../src/escalation/insurance.ts';
import { isRelanceError } from '../src/errors.ts';
import { createApp } from '../src/http/app.ts';
import { allocate, createCustomer, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, pdfText, plain, webSession } from './debtor-harness.ts';
import { addInvoice, d, paris, setupOrg, sirenFor } from './delivery-fixture.ts';

const POLICY = { insurer: 'Allianz Trade', policyNumber: 'AT-778120', declarationDays: 60, maxExtensionDays: 30, noticeDays: 10 };

describe('credit insurance deadlines (pure)', () => {
  it('counts both deadlines from the original due date, and raises each task notice days before it', () => {
    const k = insuranceDeadlines(POLICY, d('2026-03-31'));
    expect(k).toEqual({ extensionEndsOn: '2026-04-30', declarationDueOn: '2026-05-30' });
    const c = { ...k, openedOn: d('2026-04-01') };
    expect(insuranceTasksDue(POLICY, c, d('2026-04-19'))).toEqual([]);
    expect(insuranceTasksDue(POLICY, c, d('2026-04-20'))).toEqual([{ kind: 'insurance_extension', dueOn: '2026-04-30' }]);
    expect(insuranceTasksDue(POLICY, c, d('2026-05-20'))).toEqual([
      { kind: 'insurance_extension', dueOn: '2026-04-30' },
      { kind: 'insurance_declaration', dueOn: '2026-05-30' },
    ]);
    // A backlog seen for the first time long after its deadlines: both tasks at once, late.
    expect(insuranceTasksDue(POLICY, { ...insuranceDeadlines(POLICY, d('2025-01-31')), openedOn: d('2026-04-01') }, d('2026-04-01')).map((t) => t.kind)).toEqual([
      'insurance_extension',
      'insurance_declaration',
    ]);
  });
});

describe.each(dbTargets())('credit insurance, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  let k = 1200;
  const debtor = (orgId: string) => {
    k++;
    return createCustomer(db, orgId, {
      legalName: `Scierie Vallet ${k} SAS`,
      siren: sirenFor(k),
      country: 'FR',
      contacts: [{ name: 'Compta', email: `compta${k}@scierie.test`, addressLine1: '12 route de Lure', postalCode: '70200', city: 'Lure', receivesReminders: true }],
    });
  };
  const tasks = (orgId: string) =>
    db.query<{ kind: string; due_on: string; status: string; source_id: bigint }>(
      `SELECT kind, due_on, status, source_id FROM tasks WHERE organisation_id = $1 AND kind LIKE 'insurance%' ORDER BY due_on, kind`,
      [orgId],
    );

  it('refuses a policy figure out of range, naming it', async () => {
    const org = await setupOrg(db);
    const e = await db.tx((q) => setInsurancePolicy(q, org.id, { ...POLICY, declarationDays: 0 })).catch((x: unknown) => x);
    expect(isRelanceError(e) && e.where?.field).toBe('declarationDays');
    expect(isRelanceError(e) && e.detail('fr')).toContain('declarationDays doit être un nombre entier de jours de 1 à 365');
    const blank = await db.tx((q) => setInsurancePolicy(q, org.id, { ...POLICY, insurer: '  ' })).catch((x: unknown) => x);
    expect(isRelanceError(blank) && blank.where?.field).toBe('insurer');
  });

  it('opens a case at the first overdue invoice, raises each task once before its deadline, and the declaration carries the debt', async () => {
    const org = await setupOrg(db);
    const c = await debtor(org.id);
    // No policy: nothing happens.
    await addInvoice(db, org.id, c.id, '2026-03-31', { number: 'F-AC-1', amount: 480_000n });
    expect(await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-02')))).toEqual({ opened: 0, joined: 0, settled: 0, tasksRaised: 0 });

    await db.tx((q) => setInsurancePolicy(q, org.id, POLICY));
    // The day after the due date: a case, no task yet.
    expect(await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-01')))).toEqual({ opened: 1, joined: 1, settled: 0, tasksRaised: 0 });
    const [kase] = await listInsuranceCases(db, org.id);
    expect(kase).toMatchObject({ customerId: c.id, firstDueDate: '2026-03-31', extensionEndsOn: '2026-04-30', declarationDueOn: '2026-05-30', status: 'open', invoiceCount: 1, openMinor: 480_000n });

    // A second invoice falls overdue: it joins the case, the deadlines stay those of the first.
    await addInvoice(db, org.id, c.id, '2026-04-15', { number: 'F-AC-2', amount: 120_000n });
    expect((await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-16')))).joined).toBe(1);
    expect((await listInsuranceCases(db, org.id))).toHaveLength(1);

    // Ten days before the end of the extension: its task, due that day; again the next day: nothing new.
    expect((await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-20')))).tasksRaised).toBe(1);
    expect((await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-21')))).tasksRaised).toBe(0);
    // Through the daily cycle: ten days before the declaration deadline.
    const cycle = await runCycle(db, org.id, { today: d('2026-05-20') });
    expect(cycle.insuranceTasksRaised).toBe(1);
    expect(await tasks(org.id)).toEqual([
      { kind: 'insurance_extension', due_on: '2026-04-30', status: 'open', source_id: kase!.id },
      { kind: 'insurance_declaration', due_on: '2026-05-30', status: 'open', source_id: kase!.id },
    ]);
    // Today lists them with the other escalation deadlines.
    const web = await webSession(db, org.id, paris('2026-05-20'));
    const today = await web.get<{ otherTasks: { kind: string; dueOn: string }[] }>('/today');
    expect(today.otherTasks.filter((t) => t.kind.startsWith('insurance')).map((t) => [t.kind, t.dueOn])).toEqual([
      ['insurance_declaration', '2026-05-30'],
      ['insurance_extension', '2026-04-30'],
    ]);

    // The declaration's data.
    const decl = await insuranceDeclaration(db, org.id, kase!.id, d('2026-05-21'));
    expect(decl).toMatchObject({
      insurer: 'Allianz Trade',
      policyNumber: 'AT-778120',
      debtor: { name: c.legalName, siren: c.siren, address: '12 route de Lure, 70200 Lure' },
      totalOpenMinor: 600_000n,
      currency: 'EUR',
    });
    expect(decl.invoices.map((i) => [i.number, i.dueDate, i.openMinor, i.daysOverdue])).toEqual([
      ['F-AC-1', '2026-03-31', 480_000n, 51],
      ['F-AC-2', '2026-04-15', 120_000n, 36],
    ]);
    const text = plain(pdfText((await insuranceDeclarationPdf(db, org.id, kase!.id, d('2026-05-21'), 'fr')).pdf));
    expect(text).toContain('Déclaration de menace de sinistre');
    expect(text).toContain('Police n°');
    expect(text).toContain('AT-778120');
    expect(text).toContain(`SIREN : ${c.siren}`);
    expect(text).toContain('30 mai 2026');
    expect(text).toMatch(/F-AC-1 +01\/03\/2026 +31\/03\/2026 +4 800,00 € +0,00 € +4 800,00 € +51/);
    expect(text).toMatch(/Total +6 000,00 €/);
    expect(text).toContain('Aucune mise en demeure envoyée.');
    expect(text).not.toMatch(/insurance_|undefined|null/);

    // Declared: the tasks are done; a later overdue invoice opens a new case.
    await db.tx((q) => markInsuranceDeclared(q, org.id, kase!.id, d('2026-05-22'), 'DMS-2026-0042'));
    expect((await tasks(org.id)).map((t) => t.status)).toEqual(['done', 'done']);
    await addInvoice(db, org.id, c.id, '2026-05-25', { number: 'F-AC-3', amount: 60_000n });
    expect((await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-05-26')))).opened).toBe(1);
    expect((await listInsuranceCases(db, org.id, { status: 'open' }))[0]).toMatchObject({ firstDueDate: '2026-05-25', invoiceCount: 1 });
  });

  it('settles the case and cancels its tasks when everything in it is paid before the declaration', async () => {
    const org = await setupOrg(db);
    await db.tx((q) => setInsurancePolicy(q, org.id, { ...POLICY, maxExtensionDays: 5 }));
    const c = await debtor(org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-03-31', { amount: 90_000n });
    await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-01')));
    expect((await tasks(org.id)).map((t) => [t.kind, t.status])).toEqual([['insurance_extension', 'open']]);
    await db.tx(async (q) => {
      const p = await recordPayment(q, org.id, { customerId: c.id, paymentDate: '2026-04-03', currency: 'EUR', amountMinor: 90_000n });
      await allocate(q, org.id, { invoiceId: inv.id, paymentId: p.id, amountMinor: 90_000n, allocatedOn: d('2026-04-03') });
    });
    expect((await db.tx((q) => checkInsuranceDeadlines(q, org.id, d('2026-04-04')))).settled).toBe(1);
    expect((await tasks(org.id)).map((t) => [t.kind, t.status])).toEqual([['insurance_extension', 'cancelled']]);
    expect((await listInsuranceCases(db, org.id))[0]).toMatchObject({ status: 'settled', settledOn: '2026-04-04' });
  });

  it('is run from the command line in French and through the API', async () => {
    const org = await setupOrg(db);
    const said = await cli(db, org.id, ['insurance', 'policy', 'set', '--insurer', 'Coface', '--policy-number', 'CF-1', '--declaration-days', '90', '--max-extension-days', '60'], 'fr');
    expect(said).toContain('Assurance-crédit : Coface, police n° CF-1. Prorogation sans accord jusqu’à 60 jours après l’échéance ; déclaration de menace de sinistre au plus tard 90 jours');
    const bad = await cli(db, org.id, ['insurance', 'policy', 'set', '--insurer', 'Coface', '--declaration-days', 'soixante', '--max-extension-days', '60'], 'fr').catch((e: unknown) => e);
    expect(isRelanceError(bad) && bad.detail('fr')).toContain('--declaration-days attend un nombre entier de jours, reçu « soixante »');
    const c = await debtor(org.id);
    await addInvoice(db, org.id, c.id, '2026-02-27', { number: 'F-AC-CLI', amount: 250_000n });
    await runCycle(db, org.id, { today: d('2026-03-02') });
    const cases = await cli(db, org.id, ['insurance', 'cases'], 'fr');
    expect(plain(cases)).toMatch(/Scierie Vallet \d+ SAS : 1 facture\(s\), 2 500,00 € dû, 1re échéance 27 février 2026 — prorogation jusqu’au 28 avril 2026, déclaration avant le 28 mai 2026 — à déclarer/);
    const [kase] = await listInsuranceCases(db, org.id);
    const out = join(mkdtempSync(join(tmpdir(), 'relance-ins-')), 'declaration.pdf');
    expect(await cli(db, org.id, ['insurance', 'declaration', '--case', String(kase!.id), '--out', out, '--date', '2026-03-02', '--lang', 'en'], 'en')).toContain('declaration of case');
    expect(plain(pdfText(readFileSync(out)))).toContain('Threatened-loss declaration — credit insurance');

    // The API: an invalid policy is a 400 naming the field; the declaration; declared.
    const { key } = await createApiKey(db, org.id, { name: 'erp', scope: 'admin' });
    const app = createApp({ db, now: () => new Date('2026-03-03T09:00:00Z') });
    const call = (method: string, path: string, body?: unknown) =>
      app.request(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const invalid = await call('PUT', '/api/v1/credit-insurance/policy', { insurer: 'Coface', declarationDays: 400, maxExtensionDays: 60 });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(await invalid.json())).toContain('declarationDays');
    const data = (await (await call('GET', `/api/v1/credit-insurance/cases/${kase!.id}/declaration`)).json()) as { debtor: { siren: string }; totalOpenMinor: string; invoices: { number: string }[] };
    expect(data).toMatchObject({ debtor: { siren: c.siren }, totalOpenMinor: '250000', invoices: [{ number: 'F-AC-CLI' }] });
    const declared = await call('POST', `/api/v1/credit-insurance/cases/${kase!.id}/declared`, { reference: 'CF-DMS-9' });
    expect(declared.status).toBe(200);
    expect(await declared.json()).toMatchObject({ status: 'declared', declaredOn: '2026-03-03', insurerReference: 'CF-DMS-9' });
    const again = await call('POST', `/api/v1/credit-insurance/cases/${kase!.id}/declared`, {});
    expect(again.status).toBe(409);
  });
});
