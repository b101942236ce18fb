/**
 * What changes the plan between two cycles: pauses, disputes, promises, payment plans, payments.
 * Each writes its fact, tells it (the webhook event, written here and only here whatever the
 * entry point: API, CLI, web app, call outcome, the daily cycle), queues its acknowledgement to
 * the debtor when the organisation wants one (acknowledgements.ts), and re-plans the customer at
 * once (pending actions that are no longer due are cancelled with the reason), in the caller's
 * transaction.
 *
 * A pause covers the invoices it names; the whole customer only when asked for (`customerWide`):
 * a promise on one invoice leaves the customer's other invoices on their calendar.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { addDays, type CalendarDate, calendarDate } from '../domain/dates.ts';
import { stepKey } from '../domain/engine/scenario.ts';
import { type Minor, toDecimalString } from '../domain/money.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { emitEvent } from '../webhooks/index.ts';
import { checkCreditLimits } from '../risk/credit.ts';
import { refreshRisk } from '../risk/behaviour.ts';
import { type Agreement, acknowledgesAgreements, queueAcknowledgement } from './acknowledgements.ts';
import { noticePaid } from './notices.ts';
import { ACK_STEP, ACTIVE_PAUSE, COVERS, INSTALMENT_STEP, loadPlannerInput, STOPPING_PAUSE } from './planner-input.ts';
import { loadAssignments } from './scenarios.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('engine-events', {
  pause_reason: { fr: "motif de pause inconnu « {reason} »", en: "unknown pause reason \"{reason}\"" },
  pause_end: { fr: "une pause doit se terminer après son début", en: "a pause must end after it starts" },
  dispute_reason: { fr: "un litige doit avoir un motif", en: "a dispute needs a reason" },
  dispute_resolution: { fr: "indiquez comment le litige a été résolu", en: "say how the dispute was resolved" },
  coverage_missing: { fr: "indiquez les factures concernées (invoiceIds), toutes les factures ouvertes (allOpenInvoices) ou tout le client, y compris ses factures à venir (customerWide)", en: "say which invoices this covers (invoiceIds), every open invoice (allOpenInvoices) or the whole customer including invoices to come (customerWide)" },
  coverage_missing_invoices: { fr: "indiquez les factures concernées (invoiceIds) ou toutes les factures ouvertes du client (allOpenInvoices)", en: "say which invoices this covers (invoiceIds) or every open invoice of the customer (allOpenInvoices)" },
  coverage_ambiguous: { fr: "une seule façon de dire ce qui est couvert : des factures (invoiceIds), toutes les factures ouvertes (allOpenInvoices) ou tout le client (customerWide)", en: "one way of saying what is covered: invoices (invoiceIds), every open invoice (allOpenInvoices) or the whole customer (customerWide)" },
  coverage_no_open: { fr: "le client n’a aucune facture ouverte", en: "the customer has no open invoice" },
  plan_amount: { fr: "le montant d’une échéance doit être positif", en: "an instalment amount must be positive" },
  promise_past: { fr: "la date promise ne peut pas être dans le passé", en: "a promise date cannot be in the past" },
  promise_amount: { fr: "le montant promis doit être positif", en: "a promised amount must be positive" },
  invoice_other_customer: { fr: "la facture {invoice} appartient à un autre client", en: "invoice {invoice} belongs to another customer" },
  promise_currency: { fr: "une promesse porte sur des factures d’une seule devise", en: "a promise covers invoices of one currency" },
  plan_instalments: { fr: "un échéancier doit comporter des échéances", en: "a payment plan needs instalments" },
  dispute_pause: { fr: "cette pause vient d’un litige : résolvez le litige pour la lever", en: "this pause comes from a dispute: resolve the dispute to lift it" },
  plan_total: { fr: "les échéances totalisent {total} {currency} alors que les factures doivent {open} {currency}", en: "instalments add up to {total} {currency} but the invoices owe {open} {currency}" },
});

export const PAUSE_REASONS = ['dispute', 'promise_to_pay', 'payment_plan', 'manual_hold', 'insolvency', 'handover', 'other'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

/**
 * What an agreement or a pause covers: the invoices named, every open invoice of the customer
 * (resolved now to their ids: invoices issued later are not covered), or the whole customer,
 * including invoices to come. Exactly one of them, said explicitly.
 */
export interface Coverage {
  invoiceIds?: readonly bigint[] | null;
  allOpenInvoices?: boolean;
  customerWide?: boolean;
}

export interface PauseInput extends Coverage {
  customerId: bigint;
  reason: PauseReason;
  startsOn: CalendarDate;
  endsOn?: CalendarDate | null;
  note?: string | null;
}

/** Per-call choice over the organisation's setting (engine_settings.acknowledge_agreements). */
export interface RecordOptions {
  acknowledge?: boolean;
}

interface CoveredInvoice {
  id: bigint;
  number: string;
  currency: string;
  openMinor: Minor;
}

/**
 * The invoices a coverage names, checked to be the customer's (null: the whole customer). The
 * error names the field and the invoice.
 */
async function resolveCoverage(
  q: Queryable,
  orgId: string,
  customerId: bigint,
  c: Coverage,
  opts: { allowCustomerWide: boolean; field?: string },
): Promise<{ ids: bigint[] | null; invoices: CoveredInvoice[] }> {
  const field = opts.field ?? 'invoiceIds';
  const named = [...new Set((c.invoiceIds ?? []).map((x) => BigInt(x)))];
  const ways = (named.length ? 1 : 0) + (c.allOpenInvoices ? 1 : 0) + (c.customerWide ? 1 : 0);
  if (ways === 0) throw validation(E(opts.allowCustomerWide ? 'coverage_missing' : 'coverage_missing_invoices'), { field });
  if (ways > 1) throw validation(E('coverage_ambiguous'), { field });
  if (c.customerWide) {
    if (!opts.allowCustomerWide) throw validation(E('coverage_missing_invoices'), { field });
    return { ids: null, invoices: [] };
  }
  let rows: Record<string, unknown>[];
  if (c.allOpenInvoices) {
    rows = await q.query<Record<string, unknown>>(
      `SELECT id, number, customer_id, currency, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor FROM invoices
        WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY due_date, id`,
      [orgId, customerId],
    );
    if (rows.length === 0) throw validation(E('coverage_no_open'), { field: 'allOpenInvoices' });
  } else {
    rows = await q.query<Record<string, unknown>>(
      `SELECT id, number, customer_id, currency, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor FROM invoices
        WHERE organisation_id = $1 AND id = ANY($2::bigint[]) ORDER BY due_date, id`,
      [orgId, pgArray(named)],
    );
    for (const id of named) if (!rows.some((r) => r.id === id)) throw notFound('invoice', String(id));
    const other = rows.find((r) => r.customer_id !== customerId);
    if (other) throw validation(E('invoice_other_customer', { invoice: String(other.number) }), { field });
  }
  const invoices = rows.map((r) => ({ id: r.id as bigint, number: String(r.number), currency: String(r.currency), openMinor: r.open_minor as bigint }));
  return { ids: invoices.map((i) => i.id), invoices };
}

async function insertPause(q: Queryable, orgId: string, customerId: bigint, invoiceIds: bigint[] | null, reason: PauseReason, startsOn: CalendarDate, endsOn: CalendarDate | null, note: string | null): Promise<bigint> {
  const [row] = await q.query<{ id: bigint }>(
    'INSERT INTO pauses (organisation_id, customer_id, invoice_ids, reason, starts_on, ends_on, note) VALUES ($1,$2,$3::bigint[],$4,$5,$6,$7) RETURNING id',
    [orgId, customerId, invoiceIds ? pgArray(invoiceIds) : null, reason, startsOn, endsOn, note],
  );
  return row!.id;
}

const ids = (list: readonly bigint[] | null) => (list ? list.map(String) : null);

/** A pause of the reminders (a hold, an insolvency...): the invoices named, or the whole customer when asked. */
export async function createPause(q: Queryable, orgId: string, p: PauseInput, today: CalendarDate): Promise<bigint> {
  if (!PAUSE_REASONS.includes(p.reason)) throw validation(E('pause_reason', { reason: p.reason }), { field: 'reason' });
  calendarDate(p.startsOn, { field: 'startsOn' });
  if (p.endsOn && p.endsOn <= p.startsOn) throw validation(E('pause_end'), { field: 'endsOn' });
  const cover = await resolveCoverage(q, orgId, p.customerId, p, { allowCustomerWide: true });
  const id = await insertPause(q, orgId, p.customerId, cover.ids, p.reason, p.startsOn, p.endsOn ?? null, p.note ?? null);
  await emitEvent(q, orgId, 'pause.created', {
    pauseId: String(id), customerId: String(p.customerId), invoiceIds: ids(cover.ids), reason: p.reason, startsOn: p.startsOn, endsOn: p.endsOn ?? null,
  });
  await replanCustomer(q, orgId, p.customerId, today);
  return id;
}

/**
 * Ends a pause today; the scenario resumes where it was (its clock stopped while paused). The
 * pause of a promise or a payment plan is the agreement's: resuming the reminders withdraws the
 * agreement, so the cycle no longer judges it kept or broken. A dispute's pause ends only with the
 * dispute's resolution (resolveDispute): lifting it alone would leave the dispute open.
 */
export async function liftPause(q: Queryable, orgId: string, pauseId: bigint, today: CalendarDate): Promise<void> {
  const [held] = await q.query<{ reason: string }>('SELECT reason FROM pauses WHERE organisation_id = $1 AND id = $2', [orgId, pauseId]);
  if (held?.reason === 'dispute') throw validation(E('dispute_pause'), { field: 'pause' });
  const rows = await q.query<{ customer_id: bigint; reason: string; invoice_ids: bigint[] | null }>(
    `UPDATE pauses SET lifted_on = $3 WHERE organisation_id = $1 AND id = $2 AND lifted_on IS NULL RETURNING customer_id, reason, invoice_ids`,
    [orgId, pauseId, today],
  );
  if (!rows[0]) throw notFound('active pause', String(pauseId));
  const customerId = String(rows[0].customer_id);
  const promises = await q.query<{ id: bigint }>(
    `UPDATE promises SET status = 'withdrawn', closed_on = $3 WHERE organisation_id = $1 AND pause_id = $2 AND status = 'open' RETURNING id`,
    [orgId, pauseId, today],
  );
  for (const p of promises) await emitEvent(q, orgId, 'promise.withdrawn', { promiseId: String(p.id), customerId, withdrawnOn: today });
  const plans = await q.query<{ id: bigint }>(
    `UPDATE payment_plans SET status = 'withdrawn', closed_on = $3 WHERE organisation_id = $1 AND pause_id = $2 AND status = 'active' RETURNING id`,
    [orgId, pauseId, today],
  );
  for (const p of plans) await emitEvent(q, orgId, 'payment_plan.withdrawn', { planId: String(p.id), customerId, withdrawnOn: today });
  await emitEvent(q, orgId, 'pause.lifted', { pauseId: String(pauseId), customerId, reason: rows[0].reason, liftedOn: today });
  await replanCustomer(q, orgId, rows[0].customer_id, today);
}

export interface DisputeInput extends Coverage {
  customerId: bigint;
  reason: string;
}

/** A dispute pauses the invoices it is about (or the whole customer, when asked) until it is resolved. */
export async function openDispute(q: Queryable, orgId: string, d: DisputeInput, today: CalendarDate, opts: RecordOptions = {}): Promise<bigint> {
  if (!d.reason?.trim()) throw validation(E('dispute_reason'), { field: 'reason' });
  const cover = await resolveCoverage(q, orgId, d.customerId, d, { allowCustomerWide: true });
  const pauseId = await insertPause(q, orgId, d.customerId, cover.ids, 'dispute', today, null, d.reason);
  const [row] = await q.query<{ id: bigint }>(
    'INSERT INTO disputes (organisation_id, customer_id, invoice_ids, reason, opened_on, pause_id) VALUES ($1,$2,$3::bigint[],$4,$5,$6) RETURNING id',
    [orgId, d.customerId, cover.ids ? pgArray(cover.ids) : null, d.reason, today, pauseId],
  );
  const id = row!.id;
  await emitEvent(q, orgId, 'dispute.opened', {
    disputeId: String(id), customerId: String(d.customerId), invoiceIds: ids(cover.ids), invoices: cover.invoices.map((i) => i.number), reason: d.reason, openedOn: today,
  });
  await replanCustomer(q, orgId, d.customerId, today);
  await refreshRisk(q, orgId, today, [d.customerId]);
  await acknowledge(q, orgId, { kind: 'dispute', id, customerId: d.customerId, invoiceIds: cover.ids }, today, opts);
  return id;
}

export async function resolveDispute(q: Queryable, orgId: string, disputeId: bigint, resolution: string, today: CalendarDate): Promise<void> {
  if (!resolution?.trim()) throw validation(E('dispute_resolution'), { field: 'resolution' });
  const [d] = await q.query<{ pause_id: bigint; customer_id: bigint }>(
    'UPDATE disputes SET resolved_on = $3, resolution = $4 WHERE organisation_id = $1 AND id = $2 AND resolved_on IS NULL RETURNING pause_id, customer_id',
    [orgId, disputeId, today, resolution],
  );
  if (!d) throw notFound('open dispute', String(disputeId));
  await q.query('UPDATE pauses SET lifted_on = $3 WHERE organisation_id = $1 AND id = $2 AND lifted_on IS NULL', [orgId, d.pause_id, today]);
  await emitEvent(q, orgId, 'dispute.resolved', { disputeId: String(disputeId), customerId: String(d.customer_id), resolution, resolvedOn: today });
  await replanCustomer(q, orgId, d.customer_id, today);
  await refreshRisk(q, orgId, today, [d.customer_id]);
}

export interface PromiseInput extends Omit<Coverage, 'customerWide'> {
  customerId: bigint;
  promisedOn: CalendarDate;
  amountMinor: Minor;
}

/**
 * A promise pauses the reminders of the invoices it covers until its date (and a day of grace for
 * the transfer to arrive); the cycle marks it kept or broken afterwards (closePromise).
 */
export async function recordPromise(q: Queryable, orgId: string, p: PromiseInput, today: CalendarDate, opts: RecordOptions = {}): Promise<bigint> {
  calendarDate(p.promisedOn, { field: 'promisedOn' });
  if (p.promisedOn < today) throw validation(E('promise_past'), { field: 'promisedOn' });
  if (p.amountMinor <= 0n) throw validation(E('promise_amount'), { field: 'amount' });
  const cover = await resolveCoverage(q, orgId, p.customerId, p, { allowCustomerWide: false });
  const currencies = new Set(cover.invoices.map((i) => i.currency));
  if (currencies.size > 1) throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('promise_currency'), { where: { field: 'invoiceIds' } });
  const currency = cover.invoices[0]!.currency;
  const open = cover.invoices.reduce((a, i) => a + i.openMinor, 0n);
  const invoiceIds = cover.ids!;
  const pauseId = await insertPause(q, orgId, p.customerId, invoiceIds, 'promise_to_pay', today, addDays(p.promisedOn, 2), null);
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO promises (organisation_id, customer_id, invoice_ids, promised_on, currency, amount_minor, open_at_promise_minor, pause_id)
     VALUES ($1,$2,$3::bigint[],$4,$5,$6,$7,$8) RETURNING id`,
    [orgId, p.customerId, pgArray(invoiceIds), p.promisedOn, currency, p.amountMinor, open, pauseId],
  );
  const id = row!.id;
  await emitEvent(q, orgId, 'promise.created', {
    promiseId: String(id), customerId: String(p.customerId), invoiceIds: ids(invoiceIds), invoices: cover.invoices.map((i) => i.number),
    promisedOn: p.promisedOn, amount: toDecimalString(p.amountMinor, currency), currency,
  });
  await replanCustomer(q, orgId, p.customerId, today);
  await acknowledge(q, orgId, { kind: 'promise', id, customerId: p.customerId, invoiceIds }, today, opts);
  return id;
}

/**
 * A promise whose date has passed is kept (paid) or broken: its pause ends, the event is told,
 * a broken one becomes a task. Called by the daily cycle.
 */
export async function closePromise(
  q: Queryable,
  orgId: string,
  p: { id: bigint; customerId: bigint; pauseId: bigint; promisedOn: CalendarDate; amountMinor: Minor; currency: string; openNowMinor: Minor },
  state: 'kept' | 'broken',
  today: CalendarDate,
): Promise<void> {
  await q.query('UPDATE promises SET status = $3, closed_on = $4 WHERE organisation_id = $1 AND id = $2', [orgId, p.id, state, today]);
  await resumeAfter(q, orgId, p.pauseId, p.customerId, today);
  await emitEvent(q, orgId, state === 'broken' ? 'promise.broken' : 'promise.kept', {
    promiseId: String(p.id),
    customerId: String(p.customerId),
    promisedOn: p.promisedOn,
    amount: toDecimalString(p.amountMinor, p.currency),
    stillOpen: toDecimalString(p.openNowMinor, p.currency),
  });
  if (state === 'broken') {
    await q.query(
      `INSERT INTO tasks (organisation_id, customer_id, kind, source_id, due_on, note) VALUES ($1,$2,'broken_promise',$3,$4,$5)
       ON CONFLICT (organisation_id, kind, source_id) DO NOTHING`,
      [orgId, p.customerId, p.id, today, `promise to pay by ${p.promisedOn} not kept`],
    );
  }
  await refreshRisk(q, orgId, today, [p.customerId]);
}

export interface PaymentPlanInput extends Omit<Coverage, 'customerWide'> {
  customerId: bigint;
  instalments: { dueDate: CalendarDate; amountMinor: Minor }[];
  graceDays?: number;
}

/** Reschedules invoices into instalments; those invoices (only) are paused while the plan holds. */
export async function createPaymentPlan(q: Queryable, orgId: string, p: PaymentPlanInput, today: CalendarDate, opts: RecordOptions = {}): Promise<bigint> {
  if (p.instalments.length === 0) throw validation(E('plan_instalments'), { field: 'instalments' });
  const cover = await resolveCoverage(q, orgId, p.customerId, p, { allowCustomerWide: false });
  const currencies = new Set(cover.invoices.map((i) => i.currency));
  if (currencies.size > 1) throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('promise_currency'), { where: { field: 'invoiceIds' } });
  const currency = cover.invoices[0]!.currency;
  const open = cover.invoices.reduce((a, i) => a + i.openMinor, 0n);
  const invoiceIds = cover.ids!;
  const instalments = p.instalments.map((i, k) => ({ dueDate: calendarDate(i.dueDate, { field: `instalments[${k}].dueDate` }), amountMinor: i.amountMinor }));
  instalments.forEach((i, k) => {
    if (i.amountMinor <= 0n) throw validation(E('plan_amount'), { field: `instalments[${k}].amount` });
  });
  const total = instalments.reduce((a, i) => a + i.amountMinor, 0n);
  if (total !== open) throw validation(E('plan_total', { total: toDecimalString(total, currency), open: toDecimalString(open, currency), currency }), { field: 'instalments' });
  const pauseId = await insertPause(q, orgId, p.customerId, invoiceIds, 'payment_plan', today, null, null);
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO payment_plans (organisation_id, customer_id, invoice_ids, currency, open_at_start_minor, started_on, grace_days, pause_id)
     VALUES ($1,$2,$3::bigint[],$4,$5,$6,$7,$8) RETURNING id`,
    [orgId, p.customerId, pgArray(invoiceIds), currency, open, today, p.graceDays ?? 5, pauseId],
  );
  const id = row!.id;
  const sorted = [...instalments].sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0));
  for (const [k, i] of sorted.entries()) {
    await q.query('INSERT INTO payment_plan_instalments (organisation_id, plan_id, seq, due_date, amount_minor) VALUES ($1,$2,$3,$4,$5)', [orgId, id, k + 1, i.dueDate, i.amountMinor]);
  }
  await emitEvent(q, orgId, 'payment_plan.created', {
    planId: String(id), customerId: String(p.customerId), invoiceIds: ids(invoiceIds), invoices: cover.invoices.map((i) => i.number), currency,
    instalments: sorted.map((i, k) => ({ seq: k + 1, dueDate: i.dueDate, amount: toDecimalString(i.amountMinor, currency) })),
  });
  await replanCustomer(q, orgId, p.customerId, today);
  await acknowledge(q, orgId, { kind: 'payment_plan', id, customerId: p.customerId, invoiceIds }, today, opts);
  return id;
}

/** A payment plan paid off (completed) or with a missed instalment (broken): its pause ends, the event is told. */
export async function closePaymentPlan(
  q: Queryable,
  orgId: string,
  p: { id: bigint; customerId: bigint; pauseId: bigint; currency: string; openNowMinor: Minor },
  outcome: { state: 'completed' } | { state: 'broken'; missed: { seq: number; dueDate: CalendarDate } },
  today: CalendarDate,
): Promise<void> {
  await q.query('UPDATE payment_plans SET status = $3, closed_on = $4 WHERE organisation_id = $1 AND id = $2', [orgId, p.id, outcome.state, today]);
  await resumeAfter(q, orgId, p.pauseId, p.customerId, today);
  await emitEvent(q, orgId, outcome.state === 'broken' ? 'payment_plan.broken' : 'payment_plan.completed', {
    planId: String(p.id),
    customerId: String(p.customerId),
    stillOpen: toDecimalString(p.openNowMinor, p.currency),
    ...(outcome.state === 'broken' ? { missedInstalment: outcome.missed.seq, missedDueDate: outcome.missed.dueDate } : {}),
  });
  if (outcome.state === 'broken') {
    await q.query(
      `INSERT INTO tasks (organisation_id, customer_id, kind, source_id, due_on, note) VALUES ($1,$2,'missed_instalment',$3,$4,$5)
       ON CONFLICT (organisation_id, kind, source_id) DO NOTHING`,
      [orgId, p.customerId, p.id, today, `instalment ${outcome.missed.seq} due ${outcome.missed.dueDate} not paid`],
    );
  }
}

/**
 * A promise or a plan is over: its pause ends today (if nobody lifted it already) and the customer
 * is re-planned either way, so reminders tied to it (an instalment's) go too.
 */
async function resumeAfter(q: Queryable, orgId: string, pauseId: bigint, customerId: bigint, today: CalendarDate): Promise<void> {
  await q.query('UPDATE pauses SET lifted_on = $3 WHERE organisation_id = $1 AND id = $2 AND lifted_on IS NULL', [orgId, pauseId, today]);
  await replanCustomer(q, orgId, customerId, today);
}

async function acknowledge(q: Queryable, orgId: string, a: Agreement, today: CalendarDate, opts: RecordOptions): Promise<void> {
  if (opts.acknowledge ?? (await acknowledgesAgreements(q, orgId))) await queueAcknowledgement(q, orgId, a, today);
}

/**
 * After anything that changes what a customer owes or whether it may be reminded: cancels its
 * pending actions that are no longer due (invoice paid or paused, including by a dispute, a
 * promise or a payment plan) and asks the next run to look at its invoices again. Set-based SQL
 * on this customer only. Scenario changes go through replanAfterScenarioChange.
 */
export async function replanCustomer(q: Queryable, orgId: string, customerId: bigint, today: CalendarDate): Promise<{ cancelledActions: number }> {
  return replan(q, orgId, customerId, today);
}

/** The same for every customer of the organisation at once, set-based (after a bulk import). */
export async function replanOrganisation(q: Queryable, orgId: string, today: CalendarDate): Promise<{ cancelledActions: number }> {
  return replan(q, orgId, null, today);
}

async function replan(q: Queryable, orgId: string, customerId: bigint | null, today: CalendarDate): Promise<{ cancelledActions: number }> {
  // Two statement texts, not "$2 IS NULL OR ...": a generic plan would then ignore the customer index.
  const customer = (alias: string) => (customerId === null ? '$2::bigint IS NULL' : `${alias}.customer_id = $2::bigint`);
  // A customer's pause or plan may have changed: its invoices are looked at again at the next run.
  // (Organisation-wide, after an import, new invoices are new to the schedule anyway.)
  if (customerId !== null) {
    await q.query(
      `DELETE FROM invoice_schedule s USING invoices i
        WHERE i.organisation_id = $1 AND i.customer_id = $2 AND s.organisation_id = i.organisation_id AND s.invoice_id = i.id`,
      [orgId, customerId],
    );
  }
  const rows = await q.query<{ n: bigint }>(
    `WITH stale AS (
       SELECT sr.invoice_id, sr.step_key,
              CASE WHEN i.allocated_minor + i.written_off_minor >= i.amount_incl_tax_minor THEN 'paid'
                   WHEN a.payment_plan_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payment_plans pp
                          WHERE pp.organisation_id = $1 AND pp.id = a.payment_plan_id AND pp.status = 'active') THEN 'plan_ended'
                   ELSE coalesce((SELECT min(p.reason) FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = a.customer_id
                                    AND ${COVERS('p', 'i.id')} AND ${ACTIVE_PAUSE('p', '$3::date')} AND ${STOPPING_PAUSE('p')}), 'paused') END AS reason
         FROM actions a
         JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id AND sr.outcome = 'planned'
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE a.organisation_id = $1 AND ${customer('a')} AND a.status IN ('planned', 'awaiting_approval', 'queued')
          AND (i.allocated_minor + i.written_off_minor >= i.amount_incl_tax_minor
               OR EXISTS (SELECT 1 FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = a.customer_id
                            AND ${COVERS('p', 'i.id')} AND ${ACTIVE_PAUSE('p', '$3::date')}
                            -- an acknowledgement goes whatever the pause; an instalment reminder
                            -- is what a payment plan's own pause lets through
                            AND (NOT ${ACK_STEP('sr')} OR ${STOPPING_PAUSE('p')})
                            AND NOT (p.reason = 'payment_plan' AND ${INSTALMENT_STEP('sr')}))
               OR (a.payment_plan_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payment_plans pp
                            WHERE pp.organisation_id = $1 AND pp.id = a.payment_plan_id AND pp.status = 'active')))),
     upd AS (
       UPDATE step_records sr SET outcome = 'cancelled', reason = stale.reason
         FROM stale WHERE sr.organisation_id = $1 AND sr.invoice_id = stale.invoice_id AND sr.step_key = stale.step_key
       RETURNING sr.action_id)
     SELECT count(*) AS n FROM upd`,
    [orgId, customerId, today],
  );
  if (rows[0]!.n === 0n) return { cancelledActions: 0 };
  return { cancelledActions: await cancelEmptyActions(q, orgId, customerId) };
}

/** Actions whose invoices were all cancelled are cancelled too, with the reasons. */
export async function cancelEmptyActions(q: Queryable, orgId: string, customers: bigint | bigint[] | null): Promise<number> {
  const which = customers === null ? '$2::text IS NULL' : typeof customers === 'bigint' ? 'a.customer_id = $2::bigint' : 'a.customer_id = ANY($2::bigint[])';
  const cancelled = await q.query(
    `UPDATE actions a SET status = 'cancelled', updated_at = now(),
            status_reason = (SELECT string_agg(DISTINCT sr.reason, ',') FROM step_records sr WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id)
      WHERE a.organisation_id = $1 AND ${which} AND a.status IN ('planned', 'awaiting_approval', 'queued')
        AND NOT EXISTS (SELECT 1 FROM step_records sr WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id AND sr.outcome = 'planned')
      RETURNING a.id`,
    [orgId, Array.isArray(customers) ? pgArray(customers) : customers],
  );
  return cancelled.length;
}

/**
 * A scenario was edited or reassigned: pending actions for a step the invoice's scenario no
 * longer has are cancelled; every open invoice of the organisation is looked at again.
 */
export async function replanAfterScenarioChange(q: Queryable, orgId: string, today: CalendarDate): Promise<{ cancelledActions: number }> {
  const pending = (
    await q.query<{ customer_id: bigint }>(
      `SELECT DISTINCT a.customer_id FROM actions a WHERE a.organisation_id = $1 AND a.status IN ('planned', 'awaiting_approval', 'queued') ORDER BY 1`,
      [orgId],
    )
  ).map((r) => r.customer_id);
  const assignments = await loadAssignments(q, orgId);
  const touched: bigint[] = [];
  // By ranges of customers, like the daily cycle: a large ledger is a few hundred reads, not one per customer.
  for (let k = 0; k < pending.length; k += 1000) {
    const ids = pending.slice(k, k + 1000);
    const range = { fromExclusive: k === 0 ? -1n : pending[k - 1]!, toInclusive: ids.at(-1)! };
    const input = await loadPlannerInput(q, orgId, today, range, assignments);
    const byId = new Map(input.invoices.map((i) => [i.invoiceId, i]));
    const records = await q.query<{ invoice_id: bigint; step_key: string }>(
      `SELECT sr.invoice_id, sr.step_key FROM actions a JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id AND sr.outcome = 'planned'
        WHERE a.organisation_id = $1 AND a.customer_id = ANY($2::bigint[]) AND a.status IN ('planned', 'awaiting_approval', 'queued')`,
      [orgId, pgArray(ids)],
    );
    const gone = records.filter((r) => {
      const inv = byId.get(r.invoice_id);
      return inv && !inv.scenario.steps.some((s) => stepKey(s) === r.step_key);
    });
    if (gone.length === 0) continue;
    for (const g of gone) touched.push(byId.get(g.invoice_id)!.customerId);
    await q.query(
      `UPDATE step_records sr SET outcome = 'cancelled', reason = 'scenario_changed'
         FROM unnest($2::bigint[], $3::text[]) AS x(invoice_id, step_key)
        WHERE sr.organisation_id = $1 AND sr.invoice_id = x.invoice_id AND sr.step_key = x.step_key`,
      [orgId, pgArray(gone.map((g) => g.invoice_id)), pgArray(gone.map((g) => g.step_key))],
    );
  }
  return { cancelledActions: touched.length ? await cancelEmptyActions(q, orgId, [...new Set(touched)]) : 0 };
}

/**
 * The hook other parts (bank reconciliation, imports, the API) pass to their write paths so a
 * payment re-plans its customers at once, inside the same transaction.
 */
export function replanOnPayment(today: CalendarDate) {
  return async (q: Queryable, orgId: string, customerIds: bigint[]): Promise<void> => {
    const ids = [...new Set(customerIds)];
    for (const id of ids) await replanCustomer(q, orgId, id, today);
    await noticePaid(q, orgId, ids, today);
    // A payment changes the customers' story: exposure under the limit again, behaviour and risk.
    await checkCreditLimits(q, orgId, today, ids);
    await refreshRisk(q, orgId, today, ids);
  };
}
