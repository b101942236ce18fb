/**
 * The contract test: every operation of the OpenAPI document is called — successfully with a key
 * of the right scope (and its response checked against its declared schema), without credentials
 * (401), with a key whose scope is too low (403), with an invalid input (400 naming the field),
 * with an unknown or another organisation's id (404). A route added without an example here
 * fails the test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type Scope } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { ensureBuiltinScenarios, listScenarios } from '../src/engine/scenarios.ts';
import { createApp } from '../src/http/app.ts';
import { API_ROUTES, apiDocument } from '../src/http/routes/api.ts';
import { allocate, createCreditNote, createCustomer, createInvoice, createOrganisation, recordPayment } from '../src/ledger/repo.ts';
import { createSubscription, emitEvent } from '../src/webhooks/index.ts';
import { openDispute, createPause } from '../src/engine/events.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { dbTargets } from './db.ts';
import { proposeWriteOff, recordProceeding } from '../src/escalation/insolvency.ts';
import { handOver } from '../src/escalation/handover.ts';
import { checkInsuranceDeadlines, listInsuranceCases, setInsurancePolicy } from '../src/escalation/insurance.ts';

const NOW = new Date('2026-03-15T09:00:00Z');
const TODAY = '2026-03-15' as CalendarDate;

interface Fx {
  db: Db;
  org: string;
  customerId: string;
  invoiceId: string;
  invoiceNumber: string;
  paymentId: string;
  creditNoteId: string;
  next: () => number;
}

interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  raw?: { bytes: Buffer; type: string };
}

/** A customer of its own with an overdue invoice (escalation examples). */
async function debtor(fx: Fx): Promise<string> {
  const c = await createCustomer(fx.db, fx.org, { legalName: `Débiteur ${fx.next()}` });
  await createInvoice(fx.db, fx.org, { customerId: c.id, number: `ESC-${fx.next()}`, issueDate: '2026-01-05', dueDate: '2026-02-04', currency: 'EUR', amountExclTaxMinor: 100000n, amountInclTaxMinor: 120000n });
  return String(c.id);
}
/** A debtor whose invoice had a formal notice (sent before Relance): an injonction may be asked. */
async function noticedDebtor(fx: Fx): Promise<string> {
  const id = await debtor(fx);
  await fx.db.query(
    `INSERT INTO outside_reminders (organisation_id, invoice_id, level, sent_on) SELECT organisation_id, id, 'formal_notice', '2026-02-20' FROM invoices WHERE organisation_id = $1 AND customer_id = $2`,
    [fx.org, id],
  );
  return id;
}
/** An open credit insurance case: a policy, an overdue invoice, the daily check. */
async function insuranceCase(fx: Fx): Promise<string> {
  const customerId = BigInt(await debtor(fx));
  await fx.db.tx((q) => setInsurancePolicy(q, fx.org, { insurer: 'Allianz Trade', policyNumber: null, declarationDays: 60, maxExtensionDays: 30 }));
  await fx.db.tx((q) => checkInsuranceDeadlines(q, fx.org, TODAY));
  const [c] = await listInsuranceCases(fx.db, fx.org, { status: 'open', customerId });
  return String(c!.id);
}
async function proceeding(fx: Fx): Promise<string> {
  const customerId = BigInt(await debtor(fx));
  const r = await fx.db.tx((q) => recordProceeding(q, fx.org, { customerId, kind: 'liquidation', judgmentDate: '2026-03-02', publicationDate: '2026-03-06' }, TODAY));
  return String(r.proceeding.id);
}
async function handover(fx: Fx): Promise<string> {
  const customerId = BigInt(await debtor(fx));
  return String((await fx.db.tx((q) => handOver(q, fx.org, { customerId, allOpenInvoices: true, agentKind: 'lawyer', agentName: 'Me Durand', by: 'test' }, TODAY))).handover.id);
}
async function writeOffRequest(fx: Fx): Promise<string> {
  const customerId = BigInt(await debtor(fx));
  return String((await fx.db.tx((q) => proposeWriteOff(q, fx.org, { customerId, reason: 'lost', by: 'someone else' }, TODAY))).id);
}

/** A valid call per operation; async, so destructive calls get their own target. */
const EXAMPLES: Record<string, (fx: Fx) => Promise<Call>> = {
  ingestInboundMessage: async () => ({ raw: { bytes: Buffer.from('From: someone@example.fr\r\nTo: relances@example.fr\r\nSubject: Re: facture\r\nMessage-ID: <contract-1@example.fr>\r\n\r\nBonjour\r\n'), type: 'message/rfc822' } }),
  listCustomers: async () => ({ query: { limit: '2' } }),
  createCustomer: async (fx) => ({ body: { legalName: `API client ${fx.next()}`, siren: '552100554', contacts: [{ name: 'Anne', email: 'anne@example.fr' }] } }),
  getCustomer: async (fx) => ({ params: { id: fx.customerId } }),
  listContacts: async (fx) => ({ params: { id: fx.customerId } }),
  createContact: async (fx) => ({ params: { id: fx.customerId }, body: { name: 'Paul', email: 'paul@example.fr', receivesReminders: true } }),
  listInvoices: async (fx) => ({ query: { status: 'unpaid', customerId: fx.customerId } }),
  createInvoice: async (fx) => ({ body: { customerId: fx.customerId, number: `API-${fx.next()}`, issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '120.00', amountExclTax: '100.00' } }),
  getInvoice: async (fx) => ({ params: { id: fx.invoiceId } }),
  listCreditNotes: async () => ({}),
  createCreditNote: async (fx) => ({ body: { customerId: fx.customerId, number: `AV-${fx.next()}`, issueDate: '2026-03-02', amount: '10.00' } }),
  getCreditNote: async (fx) => ({ params: { id: fx.creditNoteId } }),
  listPayments: async () => ({ query: { unallocated: 'true' } }),
  createPayment: async (fx) => {
    const inv = await createInvoice(fx.db, fx.org, { customerId: BigInt(fx.customerId), number: `PAYME-${fx.next()}`, issueDate: '2026-03-01', dueDate: '2026-03-31', currency: 'EUR', amountExclTaxMinor: 5000n, amountInclTaxMinor: 6000n });
    return { body: { customerId: fx.customerId, paymentDate: '2026-03-10', amount: '60.00', reference: inv.number, allocateTo: [String(inv.id)] } };
  },
  getPayment: async (fx) => ({ params: { id: fx.paymentId } }),
  listAllocations: async (fx) => ({ query: { invoiceId: fx.invoiceId } }),
  createAllocation: async (fx) => ({ body: { invoiceId: fx.invoiceId, creditNoteId: fx.creditNoteId, amount: '1.00' } }),
  reverseAllocation: async (fx) => {
    const p = await recordPayment(fx.db, fx.org, { customerId: BigInt(fx.customerId), paymentDate: '2026-03-05', currency: 'EUR', amountMinor: 100n });
    const a = await allocate(fx.db, fx.org, { invoiceId: BigInt(fx.invoiceId), paymentId: p.id, amountMinor: 100n, allocatedOn: TODAY });
    return { params: { id: String(a.id) } };
  },
  listScenarios: async () => ({}),
  createScenario: async (fx) => ({ body: { key: `copie-${fx.next()}`, name: 'Copie', from: 'standard-b2b' } }),
  getScenario: async (fx) => ({ params: { key: (await listScenarios(fx.db, fx.org))[0]!.key } }),
  updateScenario: async (fx) => {
    const [s] = await listScenarios(fx.db, fx.org);
    return { params: { key: s!.key }, body: { definition: s!.definition } };
  },
  listPauses: async (fx) => ({ query: { customerId: fx.customerId } }),
  createPause: async (fx) => ({ body: { customerId: fx.customerId, customerWide: true, reason: 'manual_hold', endsOn: '2026-04-15', note: 'asked by sales' } }),
  liftPause: async (fx) => {
    const id = await fx.db.tx((q) => createPause(q, fx.org, { customerId: BigInt(fx.customerId), customerWide: true, reason: 'manual_hold', startsOn: TODAY }, TODAY));
    return { params: { id: String(id) } };
  },
  listPromises: async () => ({}),
  createPromise: async (fx) => ({ body: { customerId: fx.customerId, invoiceIds: [fx.invoiceId], promisedOn: '2026-03-25', amount: '50.00' } }),
  listDisputes: async () => ({}),
  openDispute: async (fx) => ({ body: { customerId: fx.customerId, invoiceId: fx.invoiceId, reason: 'goods damaged' } }),
  resolveDispute: async (fx) => {
    const id = await fx.db.tx((q) => openDispute(q, fx.org, { customerId: BigInt(fx.customerId), customerWide: true, reason: 'price' }, TODAY));
    return { params: { id: String(id) }, body: { resolution: 'credit note issued' } };
  },
  listPaymentPlans: async () => ({}),
  createPaymentPlan: async (fx) => {
    const c = await createCustomer(fx.db, fx.org, { legalName: `Plan ${fx.next()}` });
    const inv = await createInvoice(fx.db, fx.org, { customerId: c.id, number: `PLAN-${fx.next()}`, issueDate: '2026-01-01', dueDate: '2026-01-31', currency: 'EUR', amountExclTaxMinor: 30000n, amountInclTaxMinor: 30000n });
    return { body: { customerId: String(c.id), invoiceIds: [String(inv.id)], instalments: [{ dueDate: '2026-04-01', amount: '150.00' }, { dueDate: '2026-05-01', amount: '150.00' }] } };
  },
  listActions: async () => ({ query: { status: 'awaiting_approval' } }),
  approveAction: async (fx) => ({ params: { id: await action(fx) } }),
  cancelAction: async (fx) => ({ params: { id: await action(fx) }, body: { reason: 'customer called: paying today' } }),
  previewTemplate: async (fx) => ({ body: { template: 'reminder', channel: 'email', invoiceNumber: fx.invoiceNumber, lang: 'fr' } }),
  computeLateFees: async () => ({ body: { amount: '1000.00', dueDate: '2026-01-15', until: '2026-03-15', debtor: 'business' } }),
  listRates: async () => ({ query: { table: 'fr-taux-legal-autres' } }),
  getContractRate: async () => ({}),
  setContractRate: async () => ({ body: { ratePercent: '12.00', note: 'conditions générales de vente, art. 8' } }),
  importFile: async () => ({
    params: { kind: 'invoices' },
    query: { filename: 'invoices.csv' },
    raw: { bytes: readFileSync(join(import.meta.dirname, 'fixtures/imports/invoices-en-bom.csv')), type: 'text/csv' },
  }),
  listImports: async () => ({}),
  importBankStatement: async () => ({
    query: { filename: 'statement.ofx' },
    raw: { bytes: readFileSync(bankFixture()), type: 'application/octet-stream' },
  }),
  listBankStatements: async () => ({}),
  getKpis: async () => ({}),
  listWebhooks: async () => ({}),
  createWebhook: async () => ({ body: { url: 'https://erp.example.com/hooks', events: ['invoice.paid', 'dispute.opened'] } }),
  getCaseFile: async (fx) => ({ params: { id: await debtor(fx) }, query: { lang: 'en' } }),
  getInjonctionRequest: async (fx) => ({ params: { id: await noticedDebtor(fx) }, query: { lang: 'fr' } }),
  getCreditInsurancePolicy: async () => ({}),
  setCreditInsurancePolicy: async () => ({ body: { insurer: 'Allianz Trade', policyNumber: 'AT-1', declarationDays: 60, maxExtensionDays: 30 } }),
  listCreditInsuranceCases: async () => ({ query: { status: 'open' } }),
  getCreditInsuranceDeclaration: async (fx) => ({ params: { id: await insuranceCase(fx) } }),
  getCreditInsuranceDeclarationPdf: async (fx) => ({ params: { id: await insuranceCase(fx) }, query: { lang: 'en' } }),
  markCreditInsuranceDeclared: async (fx) => ({ params: { id: await insuranceCase(fx) }, body: { reference: 'DMS-1' } }),
  listHandovers: async () => ({}),
  createHandover: async (fx) => ({ body: { customerId: await debtor(fx), allOpenInvoices: true, agentKind: 'agency', agentName: 'Recouvrement Rhône SAS' } }),
  getHandover: async (fx) => ({ params: { id: await handover(fx) } }),
  exportHandover: async (fx) => ({ params: { id: await handover(fx) } }),
  exportHandoverCsv: async (fx) => ({ params: { id: await handover(fx) } }),
  reportHandover: async (fx) => ({ params: { id: await handover(fx) }, body: { reference: `R-${fx.next()}`, payment: { amount: '200.00', paidOn: '2026-03-14' }, fees: '20.00' } }),
  listInsolvencyProceedings: async () => ({}),
  recordInsolvencyProceeding: async (fx) => ({ body: { customerId: await debtor(fx), kind: 'receivership', judgmentDate: '2026-03-10', publicationDate: '2026-03-13', representativeName: 'Me Martin' } }),
  getInsolvencyProceeding: async (fx) => ({ params: { id: await proceeding(fx) } }),
  setInsolvencyPublication: async (fx) => ({ params: { id: await proceeding(fx) }, body: { publicationDate: '2026-03-14' } }),
  markClaimDeclared: async (fx) => ({ params: { id: await proceeding(fx) } }),
  closeInsolvencyProceeding: async (fx) => ({ params: { id: await proceeding(fx) }, body: { resume: true } }),
  getClaimDeclaration: async (fx) => ({ params: { id: await proceeding(fx) }, query: { lang: 'fr' } }),
  proposeWriteOff: async (fx) => ({ body: { customerId: await debtor(fx), reason: 'liquidation closed for lack of assets' } }),
  approveWriteOff: async (fx) => ({ params: { id: await writeOffRequest(fx) } }),
  refuseWriteOff: async (fx) => ({ params: { id: await writeOffRequest(fx) } }),
  deleteWebhook: async (fx) => ({ params: { id: String((await createSubscription(fx.db, fx.org, { url: 'https://x.example.com/h', events: ['*'] })).id) } }),
  listWebhookDeliveries: async () => ({}),
  replayWebhookDelivery: async (fx) => {
    await createSubscription(fx.db, fx.org, { url: 'https://y.example.com/h', events: ['*'] });
    await fx.db.tx((q) => emitEvent(q, fx.org, 'case.escalated', { customerId: fx.customerId }));
    const [d] = await fx.db.query<{ id: bigint }>('SELECT id FROM webhook_deliveries WHERE organisation_id = $1 ORDER BY id DESC LIMIT 1', [fx.org]);
    return { params: { id: String(d!.id) } };
  },
  listApiKeys: async () => ({}),
  createApiKey: async () => ({ body: { name: 'erp', scope: 'write' } }),
  updateCustomer: async (fx) => ({ params: { id: fx.customerId }, body: { creditLimit: '5000.00', depositPercent: '30', riskClass: 'medium' } }),
  announceOrder: async (fx) => ({ body: { customerId: fx.customerId, externalId: `CMD-${fx.next()}`, amount: '900.00' } }),
  closeOrder: async (fx) => {
    const [o] = await fx.db.query<{ id: bigint }>(
      `INSERT INTO customer_orders (organisation_id, customer_id, external_id, currency, amount_minor, announced_on) VALUES ($1,$2,$3,'EUR',1000,$4) RETURNING id`,
      [fx.org, BigInt(fx.customerId), `CMD-${fx.next()}`, TODAY],
    );
    return { params: { id: String(o!.id) } };
  },
  getCreditPolicy: async () => ({}),
  getCustomerRisk: async (fx) => ({ params: { id: fx.customerId } }),
  getExpectedRecovery: async (fx) => ({ params: { id: fx.customerId } }),
  getCashInForecast: async () => ({}),
  getStepEffectiveness: async () => ({}),
  getNonPaymentReasons: async () => ({}),
  replayScenario: async () => ({ query: { scenario: 'weekly' } }),
  setCreditPolicy: async () => ({ body: { overLimit: 'weekly' } }),
  revokeApiKey: async (fx) => ({ params: { id: String((await createApiKey(fx.db, fx.org, { name: 'old', scope: 'read' })).id) } }),
};

function bankFixture(): string {
  return fileURLToPath(new URL('./fixtures/bank/ofx/checking.ofx', import.meta.url));
}

async function action(fx: Fx): Promise<string> {
  const [s] = await listScenarios(fx.db, fx.org);
  const [a] = await fx.db.query<{ id: bigint }>(
    `INSERT INTO actions (organisation_id, dedupe_key, customer_id, channel, tone, template, step_offset, scenario_id, scenario_version, planned_on, send_after, status)
     VALUES ($1, $2, $3, 'letter', 'formal', 'formal_notice', 30, $4, 1, $5, $6, 'awaiting_approval') RETURNING id`,
    [fx.org, `test:${fx.next()}`, BigInt(fx.customerId), s!.id, TODAY, NOW],
  );
  return String(a!.id);
}

const SCOPE_BELOW: Record<Scope, Scope | null> = { read: null, write: 'read', admin: 'write' };

describe.each(dbTargets())('REST API contract on $name', (target) => {
  let db: Db;
  let app: Hono;
  let fx: Fx;
  const keys: Record<string, string> = {};
  let otherOrgKey: string;
  let otherInvoiceId: string;
  let otherCustomerId: string;

  beforeAll(async () => {
    db = await target.open();
    const org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS', siren: '732829320', iban: 'FR7630006000011234567890189' })).id;
    await ensureBuiltinScenarios(db, org);
    const c = await createCustomer(db, org, { legalName: 'Boulangerie Émile', siren: '552100554', contacts: [{ name: 'Émile', email: 'emile@example.fr', receivesReminders: true }] });
    const inv = await createInvoice(db, org, { customerId: c.id, number: 'F-2026-0001', issueDate: '2026-01-10', dueDate: '2026-02-09', currency: 'EUR', amountExclTaxMinor: 100000n, amountInclTaxMinor: 120000n });
    const p = await recordPayment(db, org, { customerId: c.id, paymentDate: '2026-03-01', currency: 'EUR', amountMinor: 5000n });
    const cn = await createCreditNote(db, org, { customerId: c.id, number: 'AV-0001', issueDate: '2026-02-01', currency: 'EUR', amountMinor: 2000n });
    let n = 0;
    fx = { db, org, customerId: String(c.id), invoiceId: String(inv.id), invoiceNumber: inv.number, paymentId: String(p.id), creditNoteId: String(cn.id), next: () => ++n };
    for (const s of ['read', 'write', 'admin'] as const) keys[s] = (await createApiKey(db, org, { name: s, scope: s })).key;
    const other = (await createOrganisation(db, { legalName: 'Other Co' })).id;
    await ensureBuiltinScenarios(db, other);
    otherOrgKey = (await createApiKey(db, other, { name: 'other', scope: 'admin' })).key;
    const oc = await createCustomer(db, other, { legalName: 'Their client' });
    otherCustomerId = String(oc.id);
    otherInvoiceId = String((await createInvoice(db, other, { customerId: oc.id, number: 'THEIRS-1', issueDate: '2026-01-01', dueDate: '2026-01-31', currency: 'EUR', amountExclTaxMinor: 100n, amountInclTaxMinor: 100n })).id);
    app = createApp({ db, now: () => NOW });
  });
  afterAll(async () => db?.close());

  async function call(method: string, path: string, c: Call, key?: string) {
    let url = path.replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(c.params?.[k] ?? ''));
    if (c.query && Object.keys(c.query).length) url += `?${new URLSearchParams(c.query)}`;
    const headers: Record<string, string> = {};
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | Uint8Array | undefined;
    if (c.raw) {
      headers['content-type'] = c.raw.type;
      body = new Uint8Array(c.raw.bytes);
    } else if (c.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(c.body);
    }
    const res = await app.request(url, { method: method.toUpperCase(), headers, body: body as never });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    // A file route answers its file; everything else is JSON.
    return { status: res.status, type, json: text && /json/.test(type) ? JSON.parse(text) : text || null, headers: res.headers };
  }

  it('serves the OpenAPI 3.1 document and a self-contained reference page', async () => {
    const doc = (await call('get', '/api/openapi.json', {})).json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).length).toBeGreaterThan(30);
    const docs = await app.request('/api/docs');
    const html = await docs.text();
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    expect(html).toContain('/api/openapi.json');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });

  it('has an example for every operation', () => {
    const ops = API_ROUTES.map((r) => r.operationId);
    expect(ops.filter((o) => !EXAMPLES[o])).toEqual([]);
    expect(new Set(ops).size).toBe(ops.length);
  });

  const ops = () =>
    Object.entries(apiDocument().paths).flatMap(([path, methods]) =>
      Object.entries(methods as Record<string, { operationId: string; responses: Record<string, unknown> }>).map(([method, op]) => ({ path, method, op })),
    );

  it('every /api/v1 operation: success with its schema, 401, 403, 400 naming the field, 404', async () => {
    const checked: string[] = [];
    for (const { path, method, op } of ops()) {
      if (!path.startsWith('/api/v1')) continue;
      const route = API_ROUTES.find((r) => r.operationId === op.operationId)!;
      const example = await EXAMPLES[op.operationId]!(fx);
      const label = `${method.toUpperCase()} ${path}`;

      // Unauthenticated.
      const anon = await call(method, path, example);
      expect(anon.status, label).toBe(401);
      expect(anon.type, label).toMatch(/application\/problem\+json/);
      expect(anon.json.code, label).toBe('unauthenticated');

      // A scope too low.
      const below = SCOPE_BELOW[route.scope];
      if (below) {
        const r = await call(method, path, example, keys[below]);
        expect(r.status, label).toBe(403);
        expect(r.json.code, label).toBe('forbidden');
      }

      // Validation: a malformed id, a bad query value, or an empty body names the field.
      if (route.params && 'id' in route.params.shape) {
        const r = await call(method, path, { ...example, params: { ...example.params, id: 'abc' } }, keys.admin);
        expect(r.status, label).toBe(400);
        expect(r.json.where?.field, label).toBe('id');
        // Unknown here, and another organisation's invoice id: not found either way.
        // Another organisation's id of the same resource, where the test has one.
        const theirs = path.startsWith('/api/v1/invoices/') ? [otherInvoiceId] : path.startsWith('/api/v1/customers/') ? [otherCustomerId] : [];
        for (const id of ['999999999', ...theirs]) {
          const nf = await call(method, path, { ...example, params: { ...example.params, id } }, keys.admin);
          expect(nf.status, `${label} id ${id}`).toBe(404);
          expect(nf.json.code, label).toBe('not_found');
        }
      } else if (route.body) {
        const r = await call(method, path, { ...example, body: {} }, keys.admin);
        expect(r.status, label).toBe(400);
        expect(r.json.code, label).toBe('validation');
        expect(typeof r.json.where?.field, label).toBe('string');
      } else if (route.query && 'limit' in route.query.shape) {
        const r = await call(method, path, { ...example, query: { ...example.query, limit: '0' } }, keys.admin);
        expect(r.status, label).toBe(400);
        expect(r.json.where?.field, label).toBe('limit');
      } else if (route.params) {
        const name = Object.keys(route.params.shape)[0]!;
        const r = await call(method, path, { ...example, params: { ...example.params, [name]: 'no-such-thing' } }, keys.admin);
        expect([400, 404], label).toContain(r.status);
        if (r.status === 400) expect(r.json.where?.field, label).toBe(name);
      }

      // Success, with the declared status and a body that matches the declared schema.
      const ok = await call(method, path, example, keys[route.scope]);
      const expected = Number(Object.keys(op.responses).find((s) => s.startsWith('2')));
      expect(ok.status, `${label}: ${JSON.stringify(ok.json)}`).toBe(expected);
      if (route.file) expect(ok.type, label).toBe(route.file.contentType);
      const parsed = route.response.safeParse(ok.json);
      expect(parsed.success, `${label}: ${parsed.error?.message}`).toBe(true);
      checked.push(op.operationId);
    }
    expect(checked.length).toBe(API_ROUTES.length);
  });

  it('sign-in routes: login sets a secure session cookie, me, logout; wrong password is 401', async () => {
    const { addUser } = await import('../src/auth/index.ts');
    await db.tx((q) => addUser(q, fx.org, { email: 'Viewer@Example.fr', role: 'viewer', password: 'correct horse battery' }));
    const bad = await app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'viewer@example.fr', password: 'nope' }) });
    expect(bad.status).toBe(401);
    const missing = await app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'viewer@example.fr' }) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { where: { field: string } }).where.field).toBe('password');
    const res = await app.request('https://relance.example.com/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'viewer@example.fr', password: 'correct horse battery' }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/relance_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const session = cookie.split(';')[0]!;
    const me = await app.request('/api/auth/me', { headers: { cookie: session } });
    expect(await me.json()).toMatchObject({ organisationId: fx.org, role: 'viewer', scope: 'read', email: 'viewer@example.fr' });
    // A viewer reads but cannot write.
    expect((await app.request('/api/v1/invoices', { headers: { cookie: session } })).status).toBe(200);
    const write = await app.request('/api/v1/disputes', { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: '{}' });
    expect(write.status).toBe(403);
    const [stored] = await db.query<{ token_hash: string }>('SELECT token_hash FROM sessions');
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(session).not.toContain(stored!.token_hash);
    expect((await app.request('/api/auth/logout', { method: 'POST', headers: { cookie: session } })).status).toBe(204);
    expect((await app.request('/api/auth/me', { headers: { cookie: session } })).status).toBe(401);
  });

  it('Idempotency-Key: a retried POST creates nothing twice and returns the first response', async () => {
    const body = { customerId: fx.customerId, number: 'IDEM-1', issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '99.00' };
    const send = (b: unknown) =>
      app.request('/api/v1/invoices', { method: 'POST', headers: { authorization: `Bearer ${keys.write}`, 'content-type': 'application/json', 'idempotency-key': 'k-123' }, body: JSON.stringify(b) });
    const [a, b] = await Promise.all([send(body), send(body)]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const [ja, jb] = [await a.json(), await b.json()];
    expect(ja).toEqual(jb);
    expect([a.headers.get('idempotent-replayed'), b.headers.get('idempotent-replayed')].filter(Boolean)).toEqual(['true']);
    const [{ n }] = (await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM invoices WHERE organisation_id = $1 AND number = 'IDEM-1'`, [fx.org])) as [{ n: bigint }];
    expect(n).toBe(1n);
    const reused = await send({ ...body, amountInclTax: '98.00' });
    expect(reused.status).toBe(409);
    // Without a key, the unique invoice number still refuses a duplicate.
    const dup = await app.request('/api/v1/invoices', { method: 'POST', headers: { authorization: `Bearer ${keys.write}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(dup.status).toBe(409);
    expect(((await dup.json()) as { code: string }).code).toBe('conflict');
  });

  it('cursor pagination walks every customer once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) };
      const r = await call('get', '/api/v1/customers', { query: q }, keys.read);
      seen.push(...r.json.data.map((c: { id: string }) => c.id));
      cursor = r.json.nextCursor;
    } while (cursor);
    const [{ n }] = (await db.query<{ n: bigint }>('SELECT count(*) AS n FROM customers WHERE organisation_id = $1', [fx.org])) as [{ n: bigint }];
    expect(seen.length).toBe(Number(n));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rates: the official tables are listed to every key and set by no key (the operator’s CLI); an organisation sets its own contractual rate', async () => {
    const listed = await call('get', '/api/v1/rates', { query: { table: 'ecb-mro' } }, keys.read);
    expect(listed.status).toBe(200);
    expect(listed.json.data.map((t: { name: string }) => t.name)).toEqual(['ecb-mro']);
    expect(listed.json.data[0].entries.some((e: { origin: string }) => e.origin === 'shipped')).toBe(true);
    const all = await call('get', '/api/v1/rates', {}, keys.read);
    expect(all.json.data.length).toBeGreaterThanOrEqual(4);
    expect((await call('get', '/api/v1/rates', { query: { table: 'nope' } }, keys.read)).json.where?.field).toBe('table');
    const byAdmin = await call('post', '/api/v1/rates', { body: { table: 'ecb-mro', from: '2031-06-05', ratePercent: '3.1' } }, keys.admin);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.json.detail).toMatch(/relance rates set/);
    expect((await call('post', '/api/v1/rates', { body: {} })).status).toBe(401);
    const [{ n }] = (await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM rate_overrides WHERE effective_from >= '2031-01-01'`)) as [{ n: bigint }];
    expect(n).toBe(0n);

    const set = (body: unknown, key = keys.admin) => call('put', '/api/v1/contract-rate', { body }, key);
    expect((await set({ ratePercent: '12,5', note: 'CGV art. 8' })).json.data).toMatchObject({ ratePercent: '12.50', note: 'CGV art. 8' });
    expect((await call('get', '/api/v1/contract-rate', {}, keys.read)).json.data).toMatchObject({ ratePercent: '12.50' });
    expect((await call('get', '/api/v1/contract-rate', {}, otherOrgKey)).json.data).toBeNull();
    for (const bad of ['two', '150', '-1']) {
      const r = await set({ ratePercent: bad });
      expect(r.status, bad).toBe(400);
      expect(r.json.where?.field, bad).toBe('ratePercent');
    }
    expect((await set({ ratePercent: '1.00' }, keys.write)).status).toBe(403);
    expect((await set({ ratePercent: null })).json.data).toBeNull();
  });

  it("a key of one organisation never sees another's data", async () => {
    const theirs = await call('get', '/api/v1/invoices', { query: { limit: '500' } }, otherOrgKey);
    expect(theirs.json.data.map((i: { number: string }) => i.number)).toEqual(['THEIRS-1']);
    const mine = await call('get', '/api/v1/invoices', { query: { limit: '500' } }, keys.read);
    expect(mine.json.data.map((i: { number: string }) => i.number)).not.toContain('THEIRS-1');
    expect((await call('get', '/api/v1/invoices/{id}', { params: { id: otherInvoiceId } }, keys.read)).status).toBe(404);
    expect((await call('get', '/api/v1/customers/{id}', { params: { id: fx.customerId } }, otherOrgKey)).status).toBe(404);
    const k = await call('get', '/api/v1/kpis', {}, otherOrgKey);
    expect(k.json.receivablesMinor).toBe('100');
    // Writing with one organisation's key against the other's customer is refused.
    const w = await call('post', '/api/v1/invoices', { body: { customerId: fx.customerId, number: 'X-1', issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '1.00' } }, otherOrgKey);
    expect(w.status).toBe(404);
    // A revoked or unknown key is 401.
    expect((await call('get', '/api/v1/invoices', {}, 'rlk_unknown')).status).toBe(401);
  });
});
