/**
 * Issue 22, credit policy: a customer's limit, terms, deposit, early-payment discount and risk
 * class, set and checked through the API, the CLI and the web app; exposure over the limit raises
 * one alert per crossing (Today, webhook customer.credit_limit_exceeded) whatever the way in; the
 * organisation's stricter scenario for customers over their limit or in a risk class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { allocate, recordPayment } from '../src/ledger/repo.ts';
import { createSubscription } from '../src/webhooks/index.ts';
import { runCycle as cycle } from '../src/engine/cycle.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { dbTargets } from './db.ts';
import { cli, webSession } from './debtor-harness.ts';
import { addCustomer, addInvoice, setupOrg } from './delivery-fixture.ts';

const NOW = new Date('2026-03-16T09:00:00Z');
const TODAY = '2026-03-16' as CalendarDate;

describe.each(dbTargets())('credit policy on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  async function apiClient(orgId: string) {
    const key = await db.tx((q) => createApiKey(q, orgId, { name: 'erp', scope: 'admin' }));
    const app = createApp({ db, now: () => NOW });
    return async (method: string, path: string, body?: unknown) => {
      const r = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', 'accept-language': 'fr' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };
  }
  const alertsTold = async (orgId: string) =>
    db.query<{ payload: Record<string, string> }>(`SELECT payload FROM webhook_events WHERE organisation_id = $1 AND type = 'customer.credit_limit_exceeded' ORDER BY id`, [orgId]);

  it('the API keeps every policy field (creditLimit was dropped before), refuses a bad one naming the field, and PATCH changes only what it is given', async () => {
    const org = await setupOrg(db);
    const api = await apiClient(org.id);
    const created = await api('POST', '/api/v1/customers', {
      legalName: 'Scierie Bonnet SARL',
      paymentTermsDays: 45,
      creditLimit: '5000.00',
      depositPercent: '30',
      earlyPaymentDiscount: { percent: '1,5', withinDays: 10 },
      riskClass: 'medium',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      creditLimitMinor: '500000',
      depositPercent: '30',
      earlyPaymentDiscount: { percent: '1.5', withinDays: 10 },
      riskClass: 'medium',
      exposure: { exposureMinor: '0', limitMinor: '500000', headroomMinor: '500000', overLimit: false },
    });
    const id = created.body.id as string;
    const read = await api('GET', `/api/v1/customers/${id}`);
    expect(read.body).toMatchObject({ creditLimitMinor: '500000', depositPercent: '30', riskClass: 'medium' });
    const listed = await api('GET', '/api/v1/customers?limit=50');
    expect(listed.body.data.find((c: { id: string }) => c.id === id)).toMatchObject({ creditLimitMinor: '500000', earlyPaymentDiscount: { percent: '1.5', withinDays: 10 } });

    const patched = await api('PATCH', `/api/v1/customers/${id}`, { creditLimit: '8000', riskClass: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ creditLimitMinor: '800000', riskClass: null, depositPercent: '30', paymentTermsDays: 45, legalName: 'Scierie Bonnet SARL' });

    const badDeposit = await api('PATCH', `/api/v1/customers/${id}`, { depositPercent: '150' });
    expect(badDeposit.status).toBe(400);
    expect(badDeposit.body.where.field).toBe('depositPercent');
    expect(badDeposit.body.detail).toMatch(/entre 0 % et 100 %/);
    // A discount earned after the due date is no discount.
    const late = await api('PATCH', `/api/v1/customers/${id}`, { earlyPaymentDiscount: { percent: '2', withinDays: 60 } });
    expect(late.status).toBe(400);
    expect(late.body.where.field).toBe('earlyPaymentDiscount.withinDays');
    const negative = await api('POST', '/api/v1/customers', { legalName: 'X', creditLimit: '-5' });
    expect(negative.status).toBe(400);
    expect((await api('GET', `/api/v1/customers/${id}`)).body.creditLimitMinor).toBe('800000');
  });

  it('exposure over the limit (invoices + orders) raises one alert per crossing, told by webhook, shown in Today; back under clears it', async () => {
    const org = await setupOrg(db);
    await createSubscription(db, org.id, { url: 'https://hooks.example.com/hook', events: ['customer.credit_limit_exceeded'] });
    const api = await apiClient(org.id);
    const c = await addCustomer(db, org.id);
    expect((await api('PATCH', `/api/v1/customers/${c.id}`, { creditLimit: '2000.00' })).status).toBe(200);
    // 1,200 € open: under the limit.
    const first = await api('POST', '/api/v1/invoices', { customerId: String(c.id), number: 'CL-1', issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '1200.00' });
    expect(first.status).toBe(201);
    expect(await alertsTold(org.id)).toEqual([]);
    // An order of 900 € announced: exposure 2,100 € > 2,000 €.
    const order = await api('POST', '/api/v1/orders', { customerId: String(c.id), externalId: 'CMD-77', amount: '900.00' });
    expect(order.status).toBe(201);
    expect(order.body.creditLimitExceeded).toMatchObject({ customerId: String(c.id), exposureMinor: '210000', creditLimitMinor: '200000' });
    // Another invoice while over: no second alert.
    await api('POST', '/api/v1/invoices', { customerId: String(c.id), number: 'CL-2', issueDate: '2026-03-02', dueDate: '2026-04-01', amountInclTax: '100.00' });
    const told = await alertsTold(org.id);
    expect(told).toHaveLength(1);
    expect(told[0]!.payload).toMatchObject({ customerId: String(c.id), exposureMinor: '210000', creditLimitMinor: '200000' });
    expect((await db.query(`SELECT 1 FROM webhook_deliveries d JOIN webhook_events e ON e.organisation_id = d.organisation_id AND e.id = d.event_id WHERE e.type = 'customer.credit_limit_exceeded' AND e.organisation_id = $1`, [org.id])).length).toBe(1);

    const web = await webSession(db, org.id, NOW);
    const today = await web.get<{ creditAlerts: { customerId: string; exposureMinor: string; limitMinor: string }[] }>('/today');
    expect(today.creditAlerts).toEqual([expect.objectContaining({ customerId: String(c.id), exposureMinor: '220000', limitMinor: '200000' })]);
    const page = await web.get<{ credit: { exposure: { overLimit: boolean; exposureMinor: string; ordersMinor: string } } }>(`/customers/${c.id}`);
    expect(page.credit.exposure).toMatchObject({ overLimit: true, exposureMinor: '220000', ordersMinor: '90000' });

    // The order invoiced (closed) and a payment: back under the limit, the alert is cleared...
    expect((await api('POST', `/api/v1/orders/${order.body.order.id}/close`)).status).toBe(201);
    const p = await recordPayment(db, org.id, { customerId: c.id, paymentDate: TODAY, currency: 'EUR', amountMinor: 120_000n });
    await allocate(db, org.id, { invoiceId: BigInt(first.body.id), paymentId: p.id, amountMinor: 120_000n, allocatedOn: TODAY });
    const run = await cycle(db, org.id, { today: TODAY });
    expect(run.creditAlertsRaised).toBe(0);
    expect((await web.get<{ creditAlerts: unknown[] }>('/today')).creditAlerts).toEqual([]);
    // ...and crossing again is told again (here through an import-like path: the daily cycle).
    await addInvoice(db, org.id, c.id, '2026-04-10', { amount: 250_000n });
    expect((await cycle(db, org.id, { today: TODAY })).creditAlertsRaised).toBe(1);
    expect(await alertsTold(org.id)).toHaveLength(2);
  });

  it('the web app sets the policy on the customer page, validated by field; lowering the limit under the exposure raises the alert', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-30', { amount: 300_000n });
    const web = await webSession(db, org.id, NOW);
    const bad = await web.send('POST', `/customers/${c.id}/credit-policy`, { creditLimit: '1000', depositPercent: 'trente' });
    expect(bad.status).toBe(400);
    expect((bad.body.where as { field: string }).field).toBe('depositPercent');
    const ok = await web.send('POST', `/customers/${c.id}/credit-policy`, {
      creditLimit: '2500.00',
      paymentTermsDays: '60',
      depositPercent: '20',
      earlyPaymentDiscount: { percent: '2', withinDays: '10' },
      riskClass: 'high',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.result).toEqual({ creditLimitExceeded: true });
    const page = await web.get<{ credit: Record<string, unknown> }>(`/customers/${c.id}`);
    expect(page.credit).toMatchObject({
      creditLimitMinor: '250000',
      paymentTermsDays: 60,
      depositPercent: '20',
      earlyPaymentDiscount: { percent: '2', withinDays: 10 },
      riskClass: 'high',
      exposure: { overLimit: true, headroomMinor: '-50000' },
    });
    expect((await web.get<{ creditAlerts: { customerId: string }[] }>('/today')).creditAlerts.map((a) => a.customerId)).toEqual([String(c.id)]);
  });

  it('the CLI updates and shows the policy in French and English, refuses a bad option by name, and raises the alert', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-30', { amount: 600_000n });
    const out = await cli(db, org.id, ['customers', 'update', String(c.id), '--credit-limit', '5000', '--deposit', '30', '--early-discount', '2:10', '--risk-class', 'high'], 'fr');
    expect(out).toContain('Encours autorisé : 5');
    expect(out).toMatch(/AU-DELÀ DE L’ENCOURS AUTORISÉ de 1[\s\u202f]000,00/);
    expect(out).toContain('Acompte demandé : 30 %');
    expect(out).toContain('2 % d’escompte pour paiement sous 10 jours');
    expect(out).toContain('Classe de risque : élevé');
    expect(out).toMatch(/Alerte levée/);
    const en = await cli(db, org.id, ['customers', 'show', String(c.id)], 'en');
    expect(en).toMatch(/Exposure: €6,000\.00/);
    expect(en).toMatch(/OVER THE CREDIT LIMIT by €1,000\.00/);
    const json = JSON.parse(await cli(db, org.id, ['customers', 'show', String(c.id), '--json']));
    expect(json.exposure).toMatchObject({ overLimit: true, exposureMinor: '600000', limitMinor: '500000' });
    const refused = await cli(db, org.id, ['customers', 'update', String(c.id), '--deposit', '120']).catch((e) => e);
    expect(refused.where?.field).toBe('--deposit');
    const cleared = await cli(db, org.id, ['customers', 'update', String(c.id), '--credit-limit', 'none', '--json']);
    expect(JSON.parse(cleared).customer.creditLimitMinor).toBeNull();
    expect((await db.query('SELECT 1 FROM credit_alerts WHERE organisation_id = $1 AND cleared_on IS NULL', [org.id])).length).toBe(0);
  });

  it('customers over their limit or in a risk class follow the stricter scenario the organisation chose; others keep theirs', async () => {
    const org = await setupOrg(db);
    const out = await cli(db, org.id, ['credit-policy', '--scenario', 'over_limit=weekly', '--scenario', 'high=weekly']);
    expect(out).toMatch(/over the credit limit → .*\(weekly\)/);
    const api = await apiClient(org.id);
    expect((await api('GET', '/api/v1/credit-policy')).body.scenarios.map((s: { trigger: string }) => s.trigger)).toEqual(['over_limit', 'high']);
    const calm = await addCustomer(db, org.id);
    const over = await addCustomer(db, org.id);
    const risky = await addCustomer(db, org.id);
    await addInvoice(db, org.id, over.id, '2026-03-01', { amount: 300_000n });
    await api('PATCH', `/api/v1/customers/${over.id}`, { creditLimit: '1000' });
    await api('PATCH', `/api/v1/customers/${risky.id}`, { riskClass: 'high' });
    const web = await webSession(db, org.id, NOW);
    const scenarioOf = async (id: bigint) => (await web.get<{ scenario: { key: string } }>(`/customers/${id}`)).scenario.key;
    expect(await scenarioOf(calm.id)).toBe('test');
    expect(await scenarioOf(over.id)).toBe('weekly');
    expect(await scenarioOf(risky.id)).toBe('weekly');
    // The planner follows it: the daily cycle plans the over-limit customer's invoice by the weekly scenario.
    await cycle(db, org.id, { today: TODAY });
    const [a] = await db.query<{ key: string }>(
      `SELECT s.key FROM actions a JOIN scenarios s ON s.organisation_id = a.organisation_id AND s.id = a.scenario_id WHERE a.organisation_id = $1 AND a.customer_id = $2 LIMIT 1`,
      [org.id, over.id],
    );
    expect(a?.key).toBe('weekly');
    // Removing it brings them back.
    await api('PUT', '/api/v1/credit-policy', { overLimit: null, high: null });
    expect(await scenarioOf(over.id)).toBe('test');
  });
});
