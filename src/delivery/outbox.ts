/**
 * The outbox as people see it: listing actions and what humans decide (approve, cancel, resolve an
 * uncertain message, confirm one sent by hand, requeue a failure), each recorded as a delivery
 * event. The workers' claiming is in outbox-claim.ts, the outcomes of sending in outbox-outcomes.ts.
 */
import { type Queryable, pgArray, jsonReplacer } from '../db/driver.ts';
import { eventCtes } from '../webhooks/index.ts';
import { type CalendarDate, todayIn } from '../domain/dates.ts';
import { ACTION_STATUSES, type ActionStatus, fromStatuses, type OutboxEvent, transition } from '../domain/delivery.ts';
import { loadRateTables } from '../law/rates-repo.ts';
import { heldForProvisionalRate } from '../law/regime.ts';
import { claimsPenalties } from '../documents/registry.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('delivery-outbox', {
  which_actions: { fr: 'indiquez quelles actions : des identifiants, ou un filtre (--all avec --status/--channel/--customer/--date)', en: 'say which actions: ids, or a filter (--all with --status/--channel/--customer/--date)' },
  cancel_reason: { fr: 'indiquez pourquoi les actions sont annulées', en: 'say why the actions are cancelled' },
  provisional_rate: {
    fr: 'action(s) {ids} : la mise en demeure réclamerait des intérêts à un taux {table} encore inconnu (table connue jusqu’au {knownThrough}) ; elle attend que l’exploitant ajoute le taux officiel (relance rates set --table {table})',
    en: 'action(s) {ids}: the formal notice would claim interest at a {table} rate not known yet (table known through {knownThrough}); it waits until the operator adds the official rate (relance rates set --table {table})',
  },
  unknown_status: { fr: 'statut « {status} » inconnu ; statuts possibles : {known}', en: 'unknown status "{status}"; known: {known}' },
  fell_back: { fr: 'l’étape des actions {ids} est déjà passée à son canal de repli : les remettre en file l’enverrait deux fois', en: 'the step of actions {ids} already went to its fallback channel: queuing them again would send it twice' },
});

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);

// ------------------------------------------------------------------ humans

export interface OutboxFilter {
  ids?: bigint[];
  status?: ActionStatus[];
  channel?: string[];
  customerId?: bigint;
  plannedOn?: CalendarDate;
  limit?: number;
}

export interface OutboxRow {
  id: bigint;
  customerId: bigint;
  customerName: string;
  channel: string;
  template: string;
  tone: string;
  status: ActionStatus;
  statusReason: string | null;
  plannedOn: CalendarDate;
  sendAfter: string;
  nextAttemptAt: string | null;
  attempts: number;
  holdReason: string | null;
  lastError: string | null;
  sentAt: string | null;
  providerMessageId: string | null;
  invoices: string[];
}

function where(orgId: string, f: OutboxFilter, first = 2): { sql: string; params: unknown[] } {
  const parts = ['a.organisation_id = $1'];
  const params: unknown[] = [orgId];
  let n = first;
  if (f.ids?.length) {
    parts.push(`a.id = ANY($${n++}::bigint[])`);
    params.push(pgArray(f.ids));
  }
  if (f.status?.length) {
    parts.push(`a.status = ANY($${n++}::text[])`);
    params.push(pgArray(f.status));
  }
  if (f.channel?.length) {
    parts.push(`a.channel = ANY($${n++}::text[])`);
    params.push(pgArray(f.channel));
  }
  if (f.customerId !== undefined) {
    parts.push(`a.customer_id = $${n++}`);
    params.push(f.customerId);
  }
  if (f.plannedOn) {
    parts.push(`a.planned_on = $${n++}`);
    params.push(f.plannedOn);
  }
  return { sql: parts.join(' AND '), params };
}

export async function listOutbox(q: Queryable, orgId: string, f: OutboxFilter = {}): Promise<OutboxRow[]> {
  const w = where(orgId, f);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT a.*, c.legal_name,
            (SELECT array_agg(i.number ORDER BY i.due_date) FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
              WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id) AS invoice_numbers
       FROM actions a JOIN customers c ON c.organisation_id = a.organisation_id AND c.id = a.customer_id
      WHERE ${w.sql} ORDER BY a.planned_on DESC, a.id DESC LIMIT ${Math.min(f.limit ?? 200, 10_000)}`,
    w.params,
  );
  return rows.map((r) => ({
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    customerName: String(r.legal_name),
    channel: String(r.channel),
    template: String(r.template),
    tone: String(r.tone),
    status: r.status as ActionStatus,
    statusReason: (r.status_reason as string | null) ?? null,
    plannedOn: r.planned_on as CalendarDate,
    sendAfter: String(r.send_after),
    nextAttemptAt: (r.next_attempt_at as string | null) ?? null,
    attempts: Number(r.attempts),
    holdReason: (r.hold_reason as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    sentAt: (r.sent_at as string | null) ?? null,
    providerMessageId: (r.provider_message_id as string | null) ?? null,
    invoices: (r.invoice_numbers as string[] | null) ?? [],
  }));
}

async function applyHumanEvent(
  q: Queryable,
  orgId: string,
  f: OutboxFilter,
  event: OutboxEvent,
  by: string,
  now: Date,
  set: string,
  extra: unknown[],
  /** A further condition on the rows changed (explicit ids that fail it are refused, naming them). */
  only?: { sql: string; refusal: (ids: string) => RelanceError },
): Promise<bigint[]> {
  if (!f.ids?.length && !f.status && !f.channel && f.customerId === undefined && !f.plannedOn) {
    throw validation(E('which_actions'), { field: 'ids' });
  }
  const allowed = fromStatuses(event);
  // Explicit ids in a state the event cannot leave are an error that names them; filters just skip them.
  if (f.ids?.length) {
    const check = where(orgId, f, 2);
    const rows = await q.query<{ id: bigint; status: ActionStatus }>(`SELECT a.id, a.status FROM actions a WHERE ${check.sql}`, check.params);
    const found = new Set(rows.map((r) => String(r.id)));
    const missing = f.ids.filter((id) => !found.has(String(id)));
    if (missing.length) throw notFound('action', missing.join(', '));
    for (const r of rows) transition(r.status, event);
    if (only) {
      const w = where(orgId, f, 2);
      const ok = await q.query<{ id: bigint }>(`SELECT a.id FROM actions a WHERE ${w.sql} AND ${only.sql}`, w.params);
      const pass = new Set(ok.map((r) => String(r.id)));
      const refused = f.ids.filter((id) => !pass.has(String(id)));
      if (refused.length) throw only.refusal(refused.join(', '));
    }
  }
  const w = where(orgId, f, 3 + extra.length);
  const rows = await q.query<{ id: bigint }>(
    `UPDATE actions a SET ${set}, updated_at = now() WHERE ${w.sql} AND a.status = ANY($2::text[])${only ? ` AND ${only.sql}` : ''} RETURNING a.id`,
    [w.params[0], pgArray(allowed), ...extra, ...w.params.slice(1)],
  );
  if (rows.length) {
    await q.query(
      `INSERT INTO delivery_events (organisation_id, action_id, kind, at, detail)
       SELECT $1, x::bigint, $3, $4, $5::jsonb FROM unnest($2::text[]) AS x`,
      [orgId, pgArray(rows.map((r) => r.id)), HUMAN_EVENT_KIND[event], now.toISOString(), J({ by })],
    );
  }
  return rows.map((r) => r.id);
}

/** The delivery_events kind a human's decision is recorded as. */
const HUMAN_EVENT_KIND: Partial<Record<OutboxEvent, string>> = {
  approve: 'approved',
  cancel: 'cancelled',
  resolve_sent: 'resolved_sent',
  resolve_retry: 'resolved_not_sent',
  confirm_sent: 'confirmed_sent',
  requeue: 'requeued',
};

/**
 * Approve actions that wait for a human (formal notices by default); they join the queue. A formal
 * notice or a handover whose interest would rest on a rate not known yet stays: named ones are
 * refused with the table to complete, a filter leaves them out.
 */
export async function approveActions(q: Queryable, orgId: string, f: OutboxFilter, by: string, now: Date): Promise<bigint[]> {
  const w = where(orgId, f, 2);
  const targets = await q.query<{ id: bigint; customer_id: bigint; template: string; time_zone: string }>(
    `SELECT a.id, a.customer_id, a.template, o.time_zone FROM actions a JOIN organisations o ON o.id = a.organisation_id
      WHERE ${w.sql} AND a.status = 'awaiting_approval'`,
    w.params,
  );
  const claiming = targets.filter((t) => claimsPenalties(t.template));
  if (claiming.length) {
    const today = todayIn(claiming[0]!.time_zone, now);
    const held = await heldForProvisionalRate(q, claiming.map((t) => ({ orgId, id: t.id, customerId: t.customer_id, template: t.template })), () => today, await loadRateTables(q), claimsPenalties);
    if (held.size) {
      const first = [...held.values()][0]!;
      if (f.ids?.some((id) => held.has(`${orgId}/${id}`))) {
        throw new RelanceError(ERROR_CODES.CONFLICT, E('provisional_rate', { ids: [...held.keys()].map((k) => k.split('/')[1]).join(', '), table: first.table, knownThrough: first.knownThrough }), {
          details: { ids: [...held.keys()].map((k) => k.split('/')[1]), table: first.table, knownThrough: first.knownThrough },
        });
      }
      const ok = targets.filter((t) => !held.has(`${orgId}/${t.id}`)).map((t) => t.id);
      if (ok.length === 0) return [];
      f = { ids: ok };
    }
  }
  return applyHumanEvent(q, orgId, f, 'approve', by, now, `status = 'queued', approved_by = $3, approved_at = $4::timestamptz, status_reason = NULL`, [by, now.toISOString()]);
}
/**
 * Cancel actions that have not gone out. Their steps are recorded as skipped by a human, so the
 * next cycle does not plan them again.
 */
export async function cancelActions(q: Queryable, orgId: string, f: OutboxFilter, by: string, reason: string, now: Date): Promise<bigint[]> {
  if (!reason.trim()) throw validation(E('cancel_reason'), { field: 'reason' });
  const ids = await applyHumanEvent(q, orgId, f, 'cancel', by, now, `status = 'cancelled', cancelled_by = $3, status_reason = $4`, [by, reason]);
  if (ids.length) {
    await q.query(
      `UPDATE step_records SET outcome = 'skipped', reason = $3 WHERE organisation_id = $1 AND action_id = ANY($2::bigint[]) AND outcome = 'planned'`,
      [orgId, pgArray(ids), `cancelled_by_user: ${reason}`.slice(0, 300)],
    );
  }
  return ids;
}

/**
 * A human resolves an uncertain message: it went out (found in the sent folder, the customer
 * answered) -> sent; it did not -> queued for a new attempt.
 */
export async function resolveUncertain(q: Queryable, orgId: string, ids: bigint[], as: 'sent' | 'not_sent', by: string, now: Date): Promise<bigint[]> {
  if (as === 'sent') {
    return applyHumanEvent(q, orgId, { ids }, 'resolve_sent', by, now, `status = 'sent', resolved_by = $3, sent_at = coalesce(handed_over_at, $4::timestamptz), status_reason = 'confirmed sent by a human'`, [
      by,
      now.toISOString(),
    ]);
  }
  return applyHumanEvent(q, orgId, { ids }, 'resolve_retry', by, now, `status = 'queued', resolved_by = $3, next_attempt_at = $4::timestamptz, handed_over_at = NULL, status_reason = 'confirmed not sent by a human'`, [
    by,
    now.toISOString(),
  ]);
}

/**
 * A human confirms that exported messages (written by a local channel: the .eml outbox, the print
 * batch, a local SMS) went out by hand: they become sent, as of now, with action.sent.
 */
export async function confirmSent(q: Queryable, orgId: string, f: OutboxFilter, by: string, now: Date): Promise<bigint[]> {
  const ids = await applyHumanEvent(q, orgId, f, 'confirm_sent', by, now, `status = 'sent', resolved_by = $3, sent_at = $4::timestamptz, status_reason = 'sent by hand, confirmed'`, [by, now.toISOString()]);
  if (ids.length) {
    await q.query(
      `WITH told AS (
         SELECT row_number() OVER (ORDER BY a.id)::int AS n, a.organisation_id AS org, 'action.sent'::text AS type,
                jsonb_build_object('actionId', a.id::text, 'channel', a.channel, 'provider', a.provider, 'providerMessageId', a.provider_message_id, 'sentAt', $3::text, 'confirmedBy', $4::text) AS payload
           FROM actions a WHERE a.organisation_id = $1 AND a.id = ANY($2::bigint[])),
       ${eventCtes('told')}
       SELECT 1`,
      [orgId, pgArray(ids), now.toISOString(), by],
    );
  }
  return ids;
}

/**
 * A human queues failed actions again, once what made them fail is fixed (a channel's settings).
 * Not an action whose step already went to its fallback channel: that would send it twice.
 */
export async function requeueFailed(q: Queryable, orgId: string, f: OutboxFilter, by: string, now: Date): Promise<bigint[]> {
  return applyHumanEvent(
    q,
    orgId,
    f,
    'requeue',
    by,
    now,
    `status = 'queued', next_attempt_at = $4::timestamptz, handed_over_at = NULL, last_error = NULL, status_reason = 'queued again by ' || $3`,
    [by, now.toISOString()],
    { sql: 'a.fallback_action_id IS NULL', refusal: (ids) => new RelanceError(ERROR_CODES.CONFLICT, E('fell_back', { ids }), { where: { field: 'ids' } }) },
  );
}

/** Status counts, for `relance outbox list --summary` and the worker's log. */
export async function outboxCounts(q: Queryable, orgId?: string): Promise<Record<string, number>> {
  const rows = await q.query<{ status: string; n: bigint }>(
    `SELECT status, count(*) AS n FROM actions ${orgId ? 'WHERE organisation_id = $1' : ''} GROUP BY status ORDER BY status`,
    orgId ? [orgId] : [],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export function assertStatus(s: string): ActionStatus {
  if (!(ACTION_STATUSES as readonly string[]).includes(s)) {
    throw new RelanceError(ERROR_CODES.VALIDATION, E('unknown_status', { status: s, known: ACTION_STATUSES.join(', ') }), { where: { field: '--status' } });
  }
  return s as ActionStatus;
}
