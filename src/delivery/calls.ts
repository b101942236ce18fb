/**
 * Call tasks and what came of them. A call step becomes a task for a user or a team with the
 * script, the customer's numbers and the open invoices (worker.ts); the outcome recorded here acts:
 * a promise to pay pauses the call's invoices until its date (recordPromise), a dispute pauses them
 * (openDispute), "already paid" pauses them a week and asks for a reconciliation check, a payment
 * plan request and an unanswered call raise a follow-up, a wrong number is not used again. The
 * promise and the dispute are recorded through src/engine/events.ts like any other, so they are
 * told (webhooks) and acknowledged the same way.
 */
import { type Queryable, pgArray } from '../db/driver.ts';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { type CallOutcomeInput, checkCallOutcome } from '../domain/delivery.ts';
import { createPause, openDispute, recordPromise } from '../engine/events.ts';
import { notFound, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('delivery-calls', {
  who_called: { fr: 'indiquez qui a passé l’appel', en: 'say who made the call' },
  task_not_open: { fr: 'l’appel à passer {id} a le statut « {status} » : enregistrez l’appel sur une tâche encore ouverte', en: 'call task {id} is {status}: record a new call on an open task' },
  all_settled: { fr: 'les factures de cet appel sont toutes réglées : il n’y a aucune promesse de paiement à enregistrer', en: 'the invoices of this call are all settled: there is nothing to promise' },
});

export interface CallTask {
  id: bigint;
  actionId: bigint;
  customerId: bigint;
  customerName: string;
  kind: 'call' | 'manual';
  assignedTo: string;
  script: string | null;
  phoneNumbers: string[];
  invoices: Array<{ id: string; number: string; dueDate: string; currency: string; open: string; openMinor: string }>;
  dueOn: CalendarDate;
  status: 'open' | 'done' | 'cancelled';
  attempts: number;
}

const toTask = (r: Record<string, unknown>): CallTask => ({
  id: r.id as bigint,
  actionId: r.action_id as bigint,
  customerId: r.customer_id as bigint,
  customerName: String(r.legal_name ?? ''),
  kind: r.kind as CallTask['kind'],
  assignedTo: String(r.assigned_to),
  script: (r.script as string | null) ?? null,
  phoneNumbers: (r.phone_numbers as string[]) ?? [],
  invoices: (typeof r.invoices === 'string' ? JSON.parse(r.invoices) : r.invoices) as CallTask['invoices'],
  dueOn: r.due_on as CalendarDate,
  status: r.status as CallTask['status'],
  attempts: Number(r.attempts),
});

export async function listCallTasks(q: Queryable, orgId: string, f: { assignedTo?: string; status?: CallTask['status'] } = {}): Promise<CallTask[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT t.*, c.legal_name FROM call_tasks t JOIN customers c ON c.organisation_id = t.organisation_id AND c.id = t.customer_id
      WHERE t.organisation_id = $1 AND t.status = $2 AND ($3::text IS NULL OR t.assigned_to = $3) ORDER BY t.due_on, t.id`,
    [orgId, f.status ?? 'open', f.assignedTo ?? null],
  );
  return rows.map(toTask);
}

export async function getCallTask(q: Queryable, orgId: string, id: bigint): Promise<CallTask> {
  const [r] = await q.query<Record<string, unknown>>(
    `SELECT t.*, c.legal_name FROM call_tasks t JOIN customers c ON c.organisation_id = t.organisation_id AND c.id = t.customer_id
      WHERE t.organisation_id = $1 AND t.id = $2`,
    [orgId, id],
  );
  if (!r) throw notFound('call task', String(id));
  return toTask(r);
}

export interface RecordedCall {
  outcomeId: bigint;
  promiseId: bigint | null;
  disputeId: bigint | null;
  followupId: bigint | null;
  taskStatus: CallTask['status'];
}

export async function recordCallOutcome(
  q: Queryable,
  orgId: string,
  taskId: bigint,
  o: CallOutcomeInput & { phoneNumber?: string | null; by: string },
  today: CalendarDate,
): Promise<RecordedCall> {
  const { closesTask, effect } = checkCallOutcome(o, today);
  if (!o.by?.trim()) throw validation(E('who_called'), { field: 'by' });
  const [lock] = await q.query<{ status: string }>('SELECT status FROM call_tasks WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, taskId]);
  if (!lock) throw notFound('call task', String(taskId));
  const task = await getCallTask(q, orgId, taskId);
  if (task.status !== 'open') throw validation(E('task_not_open', { id: String(taskId), status: task.status }), { field: 'task' });

  const recorded = await applyOutcome(q, orgId, { taskId, customerId: task.customerId, invoiceIds: task.invoices.map((i) => i.id), phoneNumbers: task.phoneNumbers }, o, effect, today);
  const status = closesTask ? 'done' : 'open';
  await q.query(
    `UPDATE call_tasks SET attempts = attempts + 1, status = $3, closed_at = CASE WHEN $3 = 'done' THEN now() END WHERE organisation_id = $1 AND id = $2`,
    [orgId, taskId, status],
  );
  return { ...recorded, taskStatus: status };
}

/**
 * A call nobody planned (the customer rang, or the controller called from the customer page): the
 * outcome acts as on a planned call, on the invoices named (every open invoice when none is).
 */
export async function recordUnplannedCall(
  q: Queryable,
  orgId: string,
  customerId: bigint,
  invoiceIds: readonly bigint[],
  o: CallOutcomeInput & { phoneNumber?: string | null; by: string },
  today: CalendarDate,
): Promise<Omit<RecordedCall, 'taskStatus'>> {
  const { effect } = checkCallOutcome(o, today);
  if (!o.by?.trim()) throw validation(E('who_called'), { field: 'by' });
  const named = invoiceIds.length
    ? invoiceIds
    : (await q.query<{ id: bigint }>('SELECT id FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor', [orgId, customerId])).map((r) => r.id);
  const phones = (await q.query<{ phone: string }>('SELECT phone FROM contacts WHERE organisation_id = $1 AND customer_id = $2 AND phone IS NOT NULL', [orgId, customerId])).map((r) => r.phone);
  return applyOutcome(q, orgId, { taskId: null, customerId, invoiceIds: named, phoneNumbers: o.phoneNumber ? [o.phoneNumber] : phones }, o, effect, today);
}

/** What an outcome sets in motion (promise, dispute, pause, follow-up), and the outcome's row. */
async function applyOutcome(
  q: Queryable,
  orgId: string,
  task: { taskId: bigint | null; customerId: bigint; invoiceIds: readonly (bigint | string)[]; phoneNumbers: string[] },
  o: CallOutcomeInput & { phoneNumber?: string | null; by: string },
  effect: ReturnType<typeof checkCallOutcome>['effect'],
  today: CalendarDate,
): Promise<Omit<RecordedCall, 'taskStatus'>> {
  // The invoices the call was about and that are still open now.
  const open = await q.query<{ id: bigint }>(
    `SELECT id FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND id = ANY($3::bigint[]) AND allocated_minor + written_off_minor < amount_incl_tax_minor`,
    [orgId, task.customerId, pgArray(task.invoiceIds.map(String))],
  );
  const openIds = open.map((r) => r.id);

  let promiseId: bigint | null = null;
  let disputeId: bigint | null = null;
  if (effect === 'promise') {
    if (openIds.length === 0) throw validation(E('all_settled'), { field: 'outcome' });
    promiseId = await recordPromise(q, orgId, { customerId: task.customerId, invoiceIds: openIds, promisedOn: o.promisedOn!, amountMinor: o.promisedMinor! }, today);
  }
  if (effect === 'dispute') {
    // The invoices the call was about; the whole customer only when none of them is open any more.
    disputeId = await openDispute(q, orgId, { customerId: task.customerId, ...(openIds.length ? { invoiceIds: openIds } : { customerWide: true }), reason: o.disputeReason! }, today);
  }
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO call_outcomes (organisation_id, call_task_id, customer_id, outcome, non_payment_reason, note, promised_on, promised_minor, dispute_reason,
                                phone_number, promise_id, dispute_id, recorded_by, recorded_on)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id`,
    [
      orgId, task.taskId, task.customerId, o.outcome, o.reason ?? (effect === 'dispute' ? 'dispute' : null), o.note ?? null, o.promisedOn ?? null, o.promisedMinor ?? null,
      o.disputeReason ?? null, o.phoneNumber ?? null, promiseId, disputeId, o.by, today,
    ],
  );
  const outcomeId = row!.id;

  let followupId: bigint | null = null;
  const followup = async (kind: 'reconciliation' | 'payment_plan_request' | 'callback', note: string) => {
    const [f] = await q.query<{ id: bigint }>(
      `INSERT INTO call_followups (organisation_id, customer_id, call_outcome_id, kind, note) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
      [orgId, task.customerId, outcomeId, kind, note],
    );
    followupId = f!.id;
  };
  switch (effect) {
    case 'reconciliation':
      // Stop chasing while someone looks for the payment in the bank statements.
      await createPause(
        q,
        orgId,
        { customerId: task.customerId, ...(openIds.length ? { invoiceIds: openIds } : { customerWide: true }), reason: 'other', startsOn: today, endsOn: addDays(today, 7), note: 'says already paid: check the bank reconciliation' },
        today,
      );
      await followup('reconciliation', o.note ?? 'the customer says the invoices are paid: find the payment');
      break;
    case 'payment_plan_request':
      await followup('payment_plan_request', o.note ?? 'the customer asks for a payment plan');
      break;
    case 'callback':
      await followup('callback', o.note ?? 'no answer: call again');
      break;
    case 'wrong_number': {
      const numbers = o.phoneNumber ? [o.phoneNumber] : task.phoneNumbers;
      if (numbers.length === 0) break;
      await q.query(
        `INSERT INTO contact_address_status (organisation_id, contact_id, kind, value, reason)
         SELECT organisation_id, id, 'phone', phone, 'wrong number (call outcome)' FROM contacts
          WHERE organisation_id = $1 AND customer_id = $2 AND phone = ANY($3::text[]) ON CONFLICT DO NOTHING`,
        [orgId, task.customerId, pgArray(numbers)],
      );
      break;
    }
    default:
      break;
  }
  return { outcomeId, promiseId, disputeId, followupId };
}
