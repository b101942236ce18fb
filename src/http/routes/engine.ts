/** /api/v1 dunning resources: scenarios, pauses, promises, disputes, payment plans, actions. */
import { z } from 'zod';
import type { CalendarDate } from '../../domain/dates.ts';
import { ACTION_STATUSES } from '../../domain/delivery.ts';
import type { ScenarioDefinition } from '../../domain/engine/scenario.ts';
import { parseAmount } from '../../domain/money.ts';
import { createPaymentPlan, createPause, liftPause, openDispute, PAUSE_REASONS, recordPromise, resolveDispute } from '../../engine/events.ts';
import { createScenario, getScenario, listScenarios, updateScenario } from '../../engine/scenarios.ts';
import { ERROR_CODES, notFound, RelanceError } from '../../errors.ts';
import { getInvoice } from '../../ledger/repo.ts';
import type { Principal } from '../../auth/index.ts';
import type { Queryable } from '../../db/driver.ts';
import { approveActions, cancelActions } from '../../delivery/outbox.ts';
import { Cursor, DecimalAmount, decodeCursor, Id, IdParams, IsoDate, Limit, page, paged, route, type RouteDef } from './define.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('http-engine', {
  approve_only: { fr: "l’action {id} est au statut {status} : elle ne peut être approuvée que lorsqu’elle attend une approbation", en: "action {id} is {status}: it can only be approved while awaiting approval" },
  cancel_only: { fr: "l’action {id} est au statut {status} : elle ne peut être annulée qu’avant son envoi", en: "action {id} is {status}: it can only be cancelled before it is sent" },
});

type Row = Record<string, unknown>;
const camel = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/_(\w)/g, (_m, ch: string) => ch.toUpperCase()), v]));
const D = (s: string) => s as CalendarDate;

const Scenario = z.looseObject({ id: z.string(), key: z.string(), name: z.string(), version: z.number(), isDefault: z.boolean(), definition: z.unknown() });
const Covered = {
  invoiceIds: z.array(z.string()).nullable().meta({ description: 'the invoices covered; null: the whole customer, including invoices to come' }),
  scope: z.enum(['invoices', 'customer']),
};
const Pause = z.looseObject({ id: z.string(), customerId: z.string(), ...Covered, reason: z.string(), startsOn: z.string(), endsOn: z.string().nullable(), liftedOn: z.string().nullable() });
const Dispute = z.looseObject({ id: z.string(), customerId: z.string(), ...Covered, reason: z.string(), openedOn: z.string(), resolvedOn: z.string().nullable() });
/** What a pause or dispute covers, said explicitly: invoices, or the whole customer. */
const CoverageIn = {
  invoiceIds: z.array(Id).min(1).max(200).optional().meta({ description: 'the invoices covered' }),
  invoiceId: Id.nullish().meta({ description: 'one invoice covered (same as invoiceIds with one id)' }),
  allOpenInvoices: z.boolean().optional().meta({ description: 'every open invoice of the customer today' }),
  customerWide: z.boolean().optional().meta({ description: 'the whole customer, including invoices issued later' }),
};
/** What a promise or a plan covers: invoices, or every open invoice of the customer when asked. */
const AgreementCoverageIn = {
  invoiceIds: z.array(Id).min(1).max(200).optional().meta({ description: 'the invoices covered' }),
  allOpenInvoices: z.boolean().optional().meta({ description: 'every open invoice of the customer today, when no invoice is named' }),
  acknowledge: z.boolean().optional().meta({ description: "queue the acknowledgement to the debtor (default: the organisation's setting)" }),
};
const coverage = (b: { invoiceIds?: string[]; invoiceId?: string | null; allOpenInvoices?: boolean; customerWide?: boolean }) => ({
  invoiceIds: [...(b.invoiceIds ?? []), ...(b.invoiceId ? [b.invoiceId] : [])].map(BigInt),
  allOpenInvoices: b.allOpenInvoices === true,
  customerWide: b.customerWide === true,
});
/** A pause or dispute row as the API shows it: the invoices it covers, or the whole customer. */
const covered = (r: Row) => {
  const ids = (r.invoice_ids as unknown[] | null) ?? null;
  const { invoice_ids: _drop, ...rest } = r;
  return { ...camel(rest), invoiceIds: ids ? ids.map(String) : null, scope: ids ? 'invoices' : 'customer' };
};
const Promise_ = z.looseObject({ id: z.string(), customerId: z.string(), promisedOn: z.string(), amountMinor: z.string(), status: z.string() });
const Plan = z.looseObject({ id: z.string(), customerId: z.string(), status: z.string(), instalments: z.array(z.looseObject({ seq: z.number(), dueDate: z.string(), amountMinor: z.string() })) });
const Action = z.looseObject({
  id: z.string(),
  customerId: z.string(),
  channel: z.string(),
  template: z.string(),
  tone: z.string(),
  plannedOn: z.string(),
  status: z.enum(ACTION_STATUSES),
  statusReason: z.string().nullable(),
});
const CustomerQuery = z.object({ customerId: Id.optional(), limit: Limit, cursor: Cursor });

async function listOf(q: { query<T>(s: string, p?: readonly unknown[]): Promise<T[]> }, sql: string, orgId: string, query: z.infer<typeof CustomerQuery>, shape: (r: Row) => Row = camel) {
  const rows = await q.query<Row>(`${sql} AND ($2::bigint IS NULL OR customer_id = $2) AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4`, [
    orgId,
    query.customerId ?? null,
    decodeCursor(query.cursor),
    query.limit + 1,
  ]);
  return paged(rows.map(shape) as { id: bigint }[], query.limit);
}

const PAUSE_COLUMNS = 'id, customer_id, invoice_ids, reason, starts_on, ends_on, lifted_on, note';
const DISPUTE_COLUMNS = 'id, customer_id, invoice_ids, reason, opened_on, resolved_on, resolution';

async function pauseRow(q: { query<T>(s: string, p?: readonly unknown[]): Promise<T[]> }, orgId: string, id: bigint) {
  const [r] = await q.query<Row>(`SELECT ${PAUSE_COLUMNS} FROM pauses WHERE organisation_id = $1 AND id = $2`, [orgId, id]);
  if (!r) throw notFound('pause', String(id));
  return covered(r);
}

async function disputeRow(q: { query<T>(s: string, p?: readonly unknown[]): Promise<T[]> }, orgId: string, id: bigint) {
  const [r] = await q.query<Row>(`SELECT ${DISPUTE_COLUMNS} FROM disputes WHERE organisation_id = $1 AND id = $2`, [orgId, id]);
  if (!r) throw notFound('dispute', String(id));
  return covered(r);
}

export const engineRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/scenarios', operationId: 'listScenarios', summary: 'Dunning scenarios of the organisation', tag: 'scenarios', scope: 'read',
    response: z.object({ data: z.array(Scenario) }),
    handler: async ({ q, orgId }) => ({ data: await listScenarios(q, orgId) }),
  }),
  route({
    method: 'post', path: '/api/v1/scenarios', operationId: 'createScenario', summary: 'A scenario of the organisation\'s own: its steps, or a copy of another scenario (from); unassigned until assigned', tag: 'scenarios', scope: 'admin',
    body: z.object({
      key: z.string().min(1).max(63),
      name: z.string().min(1).max(200),
      definition: z.looseObject({ steps: z.array(z.looseObject({})) }).optional(),
      from: z.string().min(1).max(100).optional().meta({ description: 'key of the scenario to copy when no definition is given' }),
    }),
    response: Scenario,
    handler: async ({ q, orgId, body }) => createScenario(q, orgId, { key: body.key, name: body.name, definition: body.definition as unknown as ScenarioDefinition | undefined, from: body.from }),
  }),
  route({
    method: 'get', path: '/api/v1/scenarios/{key}', operationId: 'getScenario', summary: 'One scenario and its steps', tag: 'scenarios', scope: 'read',
    params: z.object({ key: z.string().min(1).max(100) }), response: Scenario,
    handler: async ({ q, orgId, params }) => getScenario(q, orgId, params.key),
  }),
  route({
    method: 'put', path: '/api/v1/scenarios/{key}', operationId: 'updateScenario', summary: 'Replace the steps of a scenario (a new version)', tag: 'scenarios', scope: 'admin',
    params: z.object({ key: z.string().min(1).max(100) }), body: z.object({ definition: z.looseObject({ steps: z.array(z.looseObject({})) }) }), response: Scenario,
    handler: async ({ q, orgId, params, body }) => updateScenario(q, orgId, params.key, body.definition as unknown as ScenarioDefinition),
  }),

  route({
    method: 'get', path: '/api/v1/pauses', operationId: 'listPauses', summary: 'Pauses of reminders', tag: 'pauses', scope: 'read',
    query: CustomerQuery, response: page(Pause),
    handler: async ({ q, orgId, query }) => listOf(q, `SELECT ${PAUSE_COLUMNS} FROM pauses WHERE organisation_id = $1`, orgId, query, covered),
  }),
  route({
    method: 'post', path: '/api/v1/pauses', operationId: 'createPause', summary: 'Pause reminders for the invoices named, or for the whole customer when asked (customerWide)', tag: 'pauses', scope: 'write',
    body: z.object({
      customerId: Id,
      ...CoverageIn,
      reason: z.enum(PAUSE_REASONS),
      startsOn: IsoDate.optional(),
      endsOn: IsoDate.nullish(),
      note: z.string().max(1000).nullish(),
    }),
    response: Pause, errors: [404],
    handler: async ({ q, orgId, body, today }) => {
      const id = await createPause(
        q, orgId,
        { customerId: BigInt(body.customerId), ...coverage(body), reason: body.reason, startsOn: D(body.startsOn ?? today), endsOn: body.endsOn ? D(body.endsOn) : null, note: body.note ?? null },
        today,
      );
      return pauseRow(q, orgId, id);
    },
  }),
  route({
    method: 'post', path: '/api/v1/pauses/{id}/lift', operationId: 'liftPause', summary: 'End a pause today; the scenario resumes where it was', tag: 'pauses', scope: 'write',
    params: IdParams, response: Pause, status: 200,
    handler: async ({ q, orgId, params, today }) => {
      await liftPause(q, orgId, BigInt(params.id), today);
      return pauseRow(q, orgId, BigInt(params.id));
    },
  }),

  route({
    method: 'get', path: '/api/v1/promises', operationId: 'listPromises', summary: 'Promises to pay', tag: 'promises', scope: 'read',
    query: CustomerQuery, response: page(Promise_),
    handler: async ({ q, orgId, query }) =>
      listOf(q, 'SELECT id, customer_id, invoice_ids, promised_on, currency, amount_minor, status, closed_on FROM promises WHERE organisation_id = $1', orgId, query),
  }),
  route({
    method: 'post', path: '/api/v1/promises', operationId: 'createPromise', summary: 'Record a promise to pay: the invoices it covers pause until its date; the debtor gets its acknowledgement', tag: 'promises', scope: 'write',
    body: z.object({ customerId: Id, ...AgreementCoverageIn, promisedOn: IsoDate, amount: DecimalAmount }), response: Promise_, errors: [404, 422],
    handler: async ({ q, orgId, body, today }) => {
      const currency = await agreementCurrency(q, orgId, BigInt(body.customerId), body.invoiceIds);
      const id = await recordPromise(
        q, orgId,
        { customerId: BigInt(body.customerId), ...coverage(body), promisedOn: D(body.promisedOn), amountMinor: parseAmount(body.amount, currency, { field: 'amount' }) },
        today,
        { acknowledge: body.acknowledge },
      );
      const [r] = await q.query<Row>('SELECT id, customer_id, invoice_ids, promised_on, currency, amount_minor, status, closed_on FROM promises WHERE organisation_id = $1 AND id = $2', [orgId, id]);
      return camel(r!);
    },
  }),

  route({
    method: 'get', path: '/api/v1/disputes', operationId: 'listDisputes', summary: 'Disputes', tag: 'disputes', scope: 'read',
    query: CustomerQuery, response: page(Dispute),
    handler: async ({ q, orgId, query }) => listOf(q, `SELECT ${DISPUTE_COLUMNS} FROM disputes WHERE organisation_id = $1`, orgId, query, covered),
  }),
  route({
    method: 'post', path: '/api/v1/disputes', operationId: 'openDispute', summary: 'Open a dispute: reminders pause for the invoices named, or the whole customer when asked (customerWide)', tag: 'disputes', scope: 'write',
    body: z.object({ customerId: Id, ...CoverageIn, reason: z.string().min(1).max(2000), acknowledge: AgreementCoverageIn.acknowledge }), response: Dispute, errors: [404],
    handler: async ({ q, orgId, body, today }) => {
      const id = await openDispute(q, orgId, { customerId: BigInt(body.customerId), ...coverage(body), reason: body.reason }, today, { acknowledge: body.acknowledge });
      return disputeRow(q, orgId, id);
    },
  }),
  route({
    method: 'post', path: '/api/v1/disputes/{id}/resolve', operationId: 'resolveDispute', summary: 'Resolve a dispute: reminders resume', tag: 'disputes', scope: 'write',
    params: IdParams, body: z.object({ resolution: z.string().min(1).max(2000) }), response: Dispute, status: 200,
    handler: async ({ q, orgId, params, body, today }) => {
      await resolveDispute(q, orgId, BigInt(params.id), body.resolution, today);
      return disputeRow(q, orgId, BigInt(params.id));
    },
  }),

  route({
    method: 'get', path: '/api/v1/payment-plans', operationId: 'listPaymentPlans', summary: 'Payment plans with their instalments', tag: 'payment plans', scope: 'read',
    query: CustomerQuery, response: page(Plan),
    handler: async ({ q, orgId, query }) =>
      listOf(
        q,
        `SELECT id, customer_id, invoice_ids, currency, open_at_start_minor, started_on, grace_days, status, closed_on,
                (SELECT coalesce(json_agg(json_build_object('seq', i.seq, 'dueDate', i.due_date, 'amountMinor', i.amount_minor::text) ORDER BY i.seq), '[]')
                   FROM payment_plan_instalments i WHERE i.organisation_id = p.organisation_id AND i.plan_id = p.id) AS instalments
           FROM payment_plans p WHERE organisation_id = $1`,
        orgId,
        query,
      ),
  }),
  route({
    method: 'post', path: '/api/v1/payment-plans', operationId: 'createPaymentPlan', summary: 'Reschedule the invoices named (or every open invoice, when asked) into instalments that add up to what is owed; only those invoices pause, and the debtor gets the schedule', tag: 'payment plans', scope: 'write',
    body: z.object({
      customerId: Id,
      ...AgreementCoverageIn,
      instalments: z.array(z.object({ dueDate: IsoDate, amount: DecimalAmount })).min(1).max(120),
      graceDays: z.number().int().min(0).max(60).optional(),
    }),
    response: Plan, errors: [404],
    handler: async ({ q, orgId, body, today }) => {
      const currency = await agreementCurrency(q, orgId, BigInt(body.customerId), body.invoiceIds);
      const id = await createPaymentPlan(
        q, orgId,
        {
          customerId: BigInt(body.customerId),
          ...coverage(body),
          instalments: body.instalments.map((i, n) => ({ dueDate: D(i.dueDate), amountMinor: parseAmount(i.amount, currency, { field: `instalments.${n}.amount` }) })),
          graceDays: body.graceDays,
        },
        today,
        { acknowledge: body.acknowledge },
      );
      const [r] = await q.query<Row>(
        `SELECT id, customer_id, invoice_ids, currency, open_at_start_minor, started_on, grace_days, status, closed_on,
                (SELECT json_agg(json_build_object('seq', i.seq, 'dueDate', i.due_date, 'amountMinor', i.amount_minor::text) ORDER BY i.seq)
                   FROM payment_plan_instalments i WHERE i.organisation_id = p.organisation_id AND i.plan_id = p.id) AS instalments
           FROM payment_plans p WHERE organisation_id = $1 AND id = $2`,
        [orgId, id],
      );
      return camel(r!);
    },
  }),

  route({
    method: 'get', path: '/api/v1/actions', operationId: 'listActions', summary: 'Actions the engine planned (messages, calls), filtered by status', tag: 'actions', scope: 'read',
    query: z.object({
      status: z.enum(ACTION_STATUSES).optional(),
      customerId: Id.optional(),
      limit: Limit,
      cursor: Cursor,
    }),
    response: page(Action),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<Row>(
        `SELECT id, customer_id, channel, tone, template, step_offset, scenario_id, scenario_version, planned_on, send_after, status, status_reason, hold_reason
           FROM actions WHERE organisation_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR customer_id = $3)
            AND ($4::bigint IS NULL OR id > $4) ORDER BY id LIMIT $5`,
        [orgId, query.status ?? null, query.customerId ?? null, decodeCursor(query.cursor), query.limit + 1],
      );
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/actions/{id}/approve', operationId: 'approveAction', summary: 'Approve an action awaiting approval: it is queued for sending', tag: 'actions', scope: 'write',
    params: IdParams, response: Action, status: 200, errors: [409],
    handler: async ({ q, orgId, params, principal, now }) => transition(q, orgId, BigInt(params.id), 'queued', null, actor(principal), now),
  }),
  route({
    method: 'post', path: '/api/v1/actions/{id}/cancel', operationId: 'cancelAction', summary: 'Cancel a pending action, with the reason', tag: 'actions', scope: 'write',
    params: IdParams, body: z.object({ reason: z.string().min(1).max(500) }), response: Action, status: 200, errors: [409],
    handler: async ({ q, orgId, params, body, principal, now }) => transition(q, orgId, BigInt(params.id), 'cancelled', body.reason, actor(principal), now),
  }),
];

/** The currency amounts are read in: the first invoice named, else the customer's open invoices'. */
async function agreementCurrency(q: Queryable, orgId: string, customerId: bigint, invoiceIds: string[] | undefined): Promise<string> {
  if (invoiceIds?.length) return (await getInvoice(q, orgId, BigInt(invoiceIds[0]!))).currency;
  const [r] = await q.query<{ currency: string }>(
    `SELECT currency FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY due_date, id LIMIT 1`,
    [orgId, customerId],
  );
  return r?.currency ?? 'EUR';
}

const ACTION_COLUMNS = 'id, customer_id, channel, tone, template, step_offset, scenario_id, scenario_version, planned_on, send_after, status, status_reason, hold_reason';

const actor = (p: Principal) => (p.kind === 'session' ? `user:${p.email}` : `api-key:${p.apiKeyId}`);

/** Approval and cancellation are the delivery outbox's (its audit trail, its step records). */
async function transition(q: Queryable, orgId: string, id: bigint, to: 'queued' | 'cancelled', reason: string | null, by: string, now: Date) {
  const done = to === 'queued' ? await approveActions(q, orgId, { ids: [id] }, by, now) : await cancelActions(q, orgId, { ids: [id] }, by, reason!, now);
  const [r] = await q.query<Row>(`SELECT ${ACTION_COLUMNS} FROM actions WHERE organisation_id = $1 AND id = $2`, [orgId, id]);
  if (!r) throw notFound('action', String(id));
  if (!done.length) {
    throw new RelanceError(ERROR_CODES.CONFLICT, E(to === 'queued' ? 'approve_only' : 'cancel_only', { id: String(id), status: String(r.status) }));
  }
  return camel(r);
}
