/**
 * What changes the plan between two cycles: pauses, disputes, promises, payment plans, payments.
 * Each writes its fact and re-plans the customer at once (pending actions that are no longer due
 * are cancelled with the reason), in the caller's transaction.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { addDays, type CalendarDate, calendarDate } from '../domain/dates.ts';
import { stepKey } from '../domain/engine/scenario.ts';
import type { Minor } from '../domain/money.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { getInvoice } from '../ledger/repo.ts';
import { noticePaid } from './notices.ts';
import { ACTIVE_PAUSE, INSTALMENT_STEP, loadPlannerInput } from './planner-input.ts';
import { loadAssignments } from './scenarios.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('engine-events', {
  pause_reason: { fr: "motif de pause inconnu « {reason} »", en: "unknown pause reason \"{reason}\"" },
  pause_end: { fr: "une pause doit se terminer après son début", en: "a pause must end after it starts" },
  other_customer: { fr: "la facture appartient à un autre client", en: "the invoice belongs to another customer" },
  dispute_reason: { fr: "un litige doit avoir un motif", en: "a dispute needs a reason" },
  promise_past: { fr: "la date promise ne peut pas être dans le passé", en: "a promise date cannot be in the past" },
  promise_amount: { fr: "le montant promis doit être positif", en: "a promised amount must be positive" },
  promise_invoices: { fr: "une promesse porte sur au moins une facture", en: "a promise covers at least one invoice" },
  invoice_other_customer: { fr: "la facture {invoice} appartient à un autre client", en: "invoice {invoice} belongs to another customer" },
  promise_currency: { fr: "une promesse porte sur des factures d’une seule devise", en: "a promise covers invoices of one currency" },
  plan_instalments: { fr: "un échéancier doit comporter des échéances", en: "a payment plan needs instalments" },
  plan_total: { fr: "les échéances totalisent {total} alors que les factures doivent {open} (en centimes)", en: "instalments add up to {total} but the invoices owe {open} (minor units)" },
});

export const PAUSE_REASONS = ['dispute', 'promise_to_pay', 'payment_plan', 'manual_hold', 'insolvency', 'other'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export interface PauseInput {
  customerId: bigint;
  invoiceId?: bigint | null;
  reason: PauseReason;
  startsOn: CalendarDate;
  endsOn?: CalendarDate | null;
  note?: string | null;
}

export async function createPause(q: Queryable, orgId: string, p: PauseInput, today: CalendarDate): Promise<bigint> {
  if (!PAUSE_REASONS.includes(p.reason)) throw validation(E('pause_reason', { reason: p.reason }), { field: 'reason' });
  calendarDate(p.startsOn, { field: 'startsOn' });
  if (p.endsOn && p.endsOn <= p.startsOn) throw validation(E('pause_end'), { field: 'endsOn' });
  if (p.invoiceId != null) {
    const inv = await getInvoice(q, orgId, p.invoiceId);
    if (inv.customerId !== p.customerId) throw validation(E('other_customer'), { field: 'invoiceId' });
  }
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO pauses (organisation_id, customer_id, invoice_id, reason, starts_on, ends_on, note) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
    [orgId, p.customerId, p.invoiceId ?? null, p.reason, p.startsOn, p.endsOn ?? null, p.note ?? null],
  );
  await replanCustomer(q, orgId, p.customerId, today);
  return row!.id;
}

/** Ends a pause today; the scenario resumes where it was (its clock stopped while paused). */
export async function liftPause(q: Queryable, orgId: string, pauseId: bigint, today: CalendarDate): Promise<void> {
  const rows = await q.query<{ customer_id: bigint }>(
    `UPDATE pauses SET lifted_on = $3 WHERE organisation_id = $1 AND id = $2 AND lifted_on IS NULL RETURNING customer_id`,
    [orgId, pauseId, today],
  );
  if (!rows[0]) throw notFound('active pause', String(pauseId));
  await replanCustomer(q, orgId, rows[0].customer_id, today);
}

export async function openDispute(q: Queryable, orgId: string, d: { customerId: bigint; invoiceId?: bigint | null; reason: string }, today: CalendarDate): Promise<bigint> {
  if (!d.reason?.trim()) throw validation(E('dispute_reason'), { field: 'reason' });
  const pauseId = await createPause(q, orgId, { customerId: d.customerId, invoiceId: d.invoiceId ?? null, reason: 'dispute', startsOn: today, note: d.reason }, today);
  const [row] = await q.query<{ id: bigint }>(
    'INSERT INTO disputes (organisation_id, customer_id, invoice_id, reason, opened_on, pause_id) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id',
    [orgId, d.customerId, d.invoiceId ?? null, d.reason, today, pauseId],
  );
  return row!.id;
}

export async function resolveDispute(q: Queryable, orgId: string, disputeId: bigint, resolution: string, today: CalendarDate): Promise<void> {
  const [d] = await q.query<{ pause_id: bigint }>(
    'UPDATE disputes SET resolved_on = $3, resolution = $4 WHERE organisation_id = $1 AND id = $2 AND resolved_on IS NULL RETURNING pause_id',
    [orgId, disputeId, today, resolution],
  );
  if (!d) throw notFound('open dispute', String(disputeId));
  await liftPause(q, orgId, d.pause_id, today);
}

/** A promise pauses reminders until its date; the cycle marks it kept or broken afterwards. */
export async function recordPromise(
  q: Queryable,
  orgId: string,
  p: { customerId: bigint; invoiceIds: bigint[]; promisedOn: CalendarDate; amountMinor: Minor },
  today: CalendarDate,
): Promise<bigint> {
  calendarDate(p.promisedOn, { field: 'promisedOn' });
  if (p.promisedOn < today) throw validation(E('promise_past'), { field: 'promisedOn' });
  if (p.amountMinor <= 0n) throw validation(E('promise_amount'), { field: 'amount' });
  if (p.invoiceIds.length === 0) throw validation(E('promise_invoices'), { field: 'invoiceIds' });
  let open = 0n;
  let currency: string | null = null;
  for (const id of p.invoiceIds) {
    const inv = await getInvoice(q, orgId, id);
    if (inv.customerId !== p.customerId) throw validation(E('invoice_other_customer', { invoice: inv.number }), { field: 'invoiceIds' });
    if (currency && inv.currency !== currency) throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('promise_currency'));
    currency = inv.currency;
    open += inv.openMinor;
  }
  // Paused through the promised day and a day of grace for the transfer to arrive.
  const pauseId = await createPauseRow(q, orgId, p.customerId, null, 'promise_to_pay', today, addDays(p.promisedOn, 2));
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO promises (organisation_id, customer_id, invoice_ids, promised_on, currency, amount_minor, open_at_promise_minor, pause_id)
     VALUES ($1,$2,$3::bigint[],$4,$5,$6,$7,$8) RETURNING id`,
    [orgId, p.customerId, pgArray(p.invoiceIds), p.promisedOn, currency, p.amountMinor, open, pauseId],
  );
  await replanCustomer(q, orgId, p.customerId, today);
  return row!.id;
}

async function createPauseRow(q: Queryable, orgId: string, customerId: bigint, invoiceId: bigint | null, reason: PauseReason, startsOn: CalendarDate, endsOn: CalendarDate | null) {
  const [row] = await q.query<{ id: bigint }>(
    'INSERT INTO pauses (organisation_id, customer_id, invoice_id, reason, starts_on, ends_on) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id',
    [orgId, customerId, invoiceId, reason, startsOn, endsOn],
  );
  return row!.id;
}

/** Reschedules invoices into instalments; the invoices are paused while the plan holds. */
export async function createPaymentPlan(
  q: Queryable,
  orgId: string,
  p: { customerId: bigint; invoiceIds: bigint[]; instalments: { dueDate: CalendarDate; amountMinor: Minor }[]; graceDays?: number },
  today: CalendarDate,
): Promise<bigint> {
  if (p.instalments.length === 0) throw validation(E('plan_instalments'), { field: 'instalments' });
  let open = 0n;
  let currency: string | null = null;
  for (const id of p.invoiceIds) {
    const inv = await getInvoice(q, orgId, id);
    if (inv.customerId !== p.customerId) throw validation(E('invoice_other_customer', { invoice: inv.number }), { field: 'invoiceIds' });
    currency ??= inv.currency;
    open += inv.openMinor;
  }
  const total = p.instalments.reduce((a, i) => a + i.amountMinor, 0n);
  if (total !== open) throw validation(E('plan_total', { total, open }), { field: 'instalments' });
  const pauseId = await createPauseRow(q, orgId, p.customerId, null, 'payment_plan', today, null);
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO payment_plans (organisation_id, customer_id, invoice_ids, currency, open_at_start_minor, started_on, grace_days, pause_id)
     VALUES ($1,$2,$3::bigint[],$4,$5,$6,$7,$8) RETURNING id`,
    [orgId, p.customerId, pgArray(p.invoiceIds), currency, open, today, p.graceDays ?? 5, pauseId],
  );
  let seq = 0;
  for (const i of [...p.instalments].sort((a, b) => (a.dueDate < b.dueDate ? -1 : 1))) {
    await q.query('INSERT INTO payment_plan_instalments (organisation_id, plan_id, seq, due_date, amount_minor) VALUES ($1,$2,$3,$4,$5)', [
      orgId,
      row!.id,
      ++seq,
      calendarDate(i.dueDate, { field: `instalments[${seq - 1}].dueDate` }),
      i.amountMinor,
    ]);
  }
  await replanCustomer(q, orgId, p.customerId, today);
  return row!.id;
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
                   ELSE 'paused' END AS reason
         FROM actions a
         JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id AND sr.outcome = 'planned'
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE a.organisation_id = $1 AND ${customer('a')} AND a.status IN ('planned', 'awaiting_approval', 'queued')
          AND (i.allocated_minor + i.written_off_minor >= i.amount_incl_tax_minor
               -- an instalment reminder is what a payment plan's own pause lets through
               OR EXISTS (SELECT 1 FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = a.customer_id
                            AND (p.invoice_id IS NULL OR p.invoice_id = i.id) AND ${ACTIVE_PAUSE('p', '$3::date')}
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
async function cancelEmptyActions(q: Queryable, orgId: string, customers: bigint | bigint[] | null): Promise<number> {
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
  };
}
