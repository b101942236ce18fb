/**
 * What happens to a claimed action once it is sent: the hand-over committed before a message
 * leaves, outcomes fenced by the claim's attempt number, retries with backoff, and the fallback
 * action a failed channel hands its step to.
 */
import { type Queryable, pgArray, jsonReplacer } from '../db/driver.ts';
import { emitEvent, eventCtes } from '../webhooks/index.ts';
import { type ActionStatus, documentChannel, retryDelaySeconds, type SendOutcome } from '../domain/delivery.ts';
import { fallbackDedupeKey } from '../domain/channels.ts';
import { requiresApproval } from '../domain/engine/scenario.ts';
import { isTemplateKey, TEMPLATES } from '../documents/registry.ts';
import { type ClaimedAction, scenarioDefinition } from './outbox-claim.ts';

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);

// ------------------------------------------------------------------ hand-over and outcomes

export class LeaseLost extends Error {
  constructor(a: { orgId: string; id: bigint }) {
    super(`action ${a.id} is no longer owned by this worker: not handed over`);
  }
}

export interface DeliveryRecord {
  channel: 'email' | 'sms' | 'letter' | 'registered_letter';
  provider: string;
  recipients: object;
  subject: string | null;
  messageId: string | null;
  invoiceIds: bigint[];
  contentType: string;
  content: Buffer;
  sha256: string;
  customerId: bigint;
}

/**
 * Commits, before the message leaves, that this attempt hands it over, with its exact content.
 * Refused (LeaseLost) when another worker took the action over: then nothing may be sent.
 */
export async function handOver(q: Queryable, a: ClaimedAction, owner: string, d: DeliveryRecord, now: Date): Promise<bigint> {
  const [id] = await handOverMany(q, owner, [{ a, d }], now);
  if (id === null || id === undefined) throw new LeaseLost(a);
  return id;
}

/**
 * handOver for several messages in one statement (atomic on its own: the fenced updates, the
 * proof rows and their events). Returns each message's delivery id, or null for an action this
 * worker no longer owns (that message must not be sent). Workers group the hand-overs of the
 * messages that reach the SMTP DATA phase together: one commit, each message still waits for its
 * own hand-over before its first byte leaves.
 */
export async function handOverMany(
  q: Queryable,
  owner: string,
  items: ReadonlyArray<{ a: ClaimedAction; d: DeliveryRecord }>,
  now: Date,
  /**
   * The hand-over is all there is (a letter added to the print batch): the actions are recorded
   * with their outcome (`exported`: awaiting posting by hand) in the same statement, with their
   * events and webhook events.
   */
  sent?: { response: string; status?: 'sent' | 'exported' },
): Promise<Array<bigint | null>> {
  if (items.length === 0) return [];
  const params: unknown[] = [owner, now.toISOString()];
  // The content travels as base64 text, decoded by the server: the embedded database converts a
  // bytea parameter byte by byte, several times slower than this.
  const final = sent?.status ?? 'sent';
  const rows = items.map(({ a, d }) => {
    const at = params.length + 1;
    params.push(
      a.orgId, a.id, a.attempt, d.customerId, d.channel, d.provider, J(d.recipients), d.subject, d.messageId,
      pgArray(d.invoiceIds), d.contentType, d.content.toString('base64'), d.sha256, J({ provider: d.provider, attempt: a.attempt }),
    );
    const p = (k: number) => `$${at + k}`;
    return `(${p(0)}::uuid, ${p(1)}::bigint, ${p(2)}::int, ${p(3)}::bigint, ${p(4)}::text, ${p(5)}::text, ${p(6)}::jsonb, ${p(7)}::text, ${p(8)}::text, ${p(9)}::bigint[], ${p(10)}::text, ${p(11)}::text, ${p(12)}::text, ${p(13)}::jsonb)`;
  });
  const done = await q.query<{ organisation_id: string; action_id: bigint; id: bigint }>(
    `WITH x (org, id, attempt, customer_id, channel, provider, recipients, subject, message_id, invoice_ids, content_type, content, sha256, detail) AS (
       VALUES ${rows.join(',\n')}),
     u AS (
       UPDATE actions a SET handed_over_at = $2::timestamptz, updated_at = now()${
         sent
           ? `, status = '${final}', sent_at = ${final === 'sent' ? '$2::timestamptz' : 'NULL'}, provider = x.provider, provider_message_id = NULL, last_error = NULL, status_reason = NULL,
              lease_owner = NULL, lease_until = NULL`
           : ''
       }
         FROM x
        WHERE a.organisation_id = x.org AND a.id = x.id AND a.status = 'sending' AND a.lease_owner = $1::text AND a.attempts = x.attempt AND a.handed_over_at IS NULL
        RETURNING a.organisation_id, a.id, a.channel),
     d AS (
       INSERT INTO deliveries (organisation_id, action_id, attempt, customer_id, channel, provider, recipients, subject, message_id, invoice_ids,
                               content_type, content, sha256, handed_over_at)
       SELECT x.org, x.id, x.attempt, x.customer_id, x.channel, x.provider, x.recipients, x.subject, x.message_id, x.invoice_ids,
              x.content_type, decode(x.content, 'base64'), x.sha256, $2::timestamptz
         FROM x JOIN u ON u.organisation_id = x.org AND u.id = x.id
       RETURNING id, organisation_id, action_id),
     e AS (
       INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, detail)
       SELECT d.organisation_id, d.action_id, d.id, 'handed_over', $2::timestamptz, x.detail FROM d JOIN x ON x.org = d.organisation_id AND x.id = d.action_id${
         sent
           ? `
       UNION ALL
       SELECT d.organisation_id, d.action_id, d.id, '${final === 'sent' ? 'accepted' : 'exported'}', $2::timestamptz, jsonb_build_object('response', $${params.length + 1}::text, 'provider', x.provider)
         FROM d JOIN x ON x.org = d.organisation_id AND x.id = d.action_id),
     told AS (
       SELECT row_number() OVER (ORDER BY d.id)::int AS n, d.organisation_id AS org, 'action.${final}'::text AS type,
              jsonb_build_object('actionId', d.action_id::text, 'channel', u.channel, 'provider', x.provider, 'providerMessageId', NULL, '${final === 'sent' ? 'sentAt' : 'exportedAt'}', $${params.length + 2}::text) AS payload
         FROM d JOIN x ON x.org = d.organisation_id AND x.id = d.action_id JOIN u ON u.organisation_id = d.organisation_id AND u.id = d.action_id),
     ${eventCtes('told')}`
           : ')'
       }
     SELECT organisation_id, action_id, id FROM d`,
    sent ? [...params, sent.response, now.toISOString()] : params,
  );
  const ids = new Map(done.map((r) => [`${r.organisation_id}/${r.action_id}`, r.id]));
  return items.map(({ a }) => ids.get(`${a.orgId}/${a.id}`) ?? null);
}

export interface SentRecord {
  a: ClaimedAction;
  provider: string;
  providerMessageId: string | null;
  /** The provider's answer; for an exported message, where it was written. */
  response: string | null;
  deliveryId: bigint | null;
  /** `exported`: a local channel wrote it, nothing left (default `sent`). */
  status?: 'sent' | 'exported';
}

/**
 * Records that messages went out (fenced by attempt number: a stale attempt writes nothing), their
 * 'accepted' events and the action.sent webhook events, for any number of actions, in one
 * statement (atomic on its own). Returns, per record, whether it was this attempt's to record.
 */
export async function recordSentMany(q: Queryable, items: readonly SentRecord[], now: Date): Promise<boolean[]> {
  if (items.length === 0) return [];
  const rows = await q.query<{ n: number }>(
    `WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(n int, org uuid, id text, attempt int, provider text, pmid text, delivery text, status text, detail jsonb)),
     u AS (
       UPDATE actions a SET status = x.status, sent_at = CASE WHEN x.status = 'sent' THEN $2::timestamptz END, provider = x.provider, provider_message_id = x.pmid,
              last_error = NULL, status_reason = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
         FROM x
        WHERE a.organisation_id = x.org AND a.id = x.id::bigint AND a.attempts = x.attempt AND a.status IN ('sending', 'uncertain')
        RETURNING a.organisation_id, a.id, a.channel),
     sent AS (SELECT x.n, x.org, x.id, x.provider, x.pmid, x.delivery, x.status, x.detail, u.channel FROM u JOIN x ON x.org = u.organisation_id AND x.id::bigint = u.id),
     e AS (
       INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, provider_message_id, detail)
       SELECT org, id::bigint, delivery::bigint, CASE status WHEN 'sent' THEN 'accepted' ELSE 'exported' END, $2::timestamptz, pmid, detail FROM sent),
     told AS (
       SELECT n, org, 'action.' || status AS type,
              jsonb_build_object('actionId', id, 'channel', channel, 'provider', provider, 'providerMessageId', pmid, CASE status WHEN 'sent' THEN 'sentAt' ELSE 'exportedAt' END, $3::text) AS payload
         FROM sent),
     ${eventCtes('told')}
     SELECT n FROM sent`,
    [
      J(
        items.map((r, n) => ({
          n, org: r.a.orgId, id: r.a.id, attempt: r.a.attempt, provider: r.provider, pmid: r.providerMessageId, delivery: r.deliveryId, status: r.status ?? 'sent',
          detail: r.status === 'exported' ? { location: r.response ?? null, provider: r.provider } : { response: r.response ?? null, provider: r.provider },
        })),
      ),
      now.toISOString(),
      now.toISOString(),
    ],
  );
  const recorded = new Set(rows.map((r) => Number(r.n)));
  return items.map((_, n) => recorded.has(n));
}

export interface OutcomeContext {
  now: Date;
  maxAttempts: number;
  deliveryId: bigint | null;
  provider: string;
}

/**
 * Records what happened to an attempt (fenced by its attempt number: a worker that lost its lease
 * cannot overwrite a newer attempt). Returns the fallback action id when one was created.
 */
export async function recordOutcome(q: Queryable, a: ClaimedAction, outcome: SendOutcome, c: OutcomeContext): Promise<{ status: ActionStatus; fallbackId: bigint | null }> {
  const nowIso = c.now.toISOString();
  const fence = 'organisation_id = $1 AND id = $2 AND attempts = $3 AND status IN (\'sending\', \'uncertain\')';
  const event = async (kind: string, detail: object, providerId: string | null = null) =>
    q.query(`INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, provider_message_id, detail) VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb)`, [
      a.orgId, a.id, c.deliveryId, kind, nowIso, providerId, J(detail),
    ]);
  switch (outcome.kind) {
    case 'sent': {
      await recordSentMany(q, [{ a, provider: c.provider, providerMessageId: outcome.providerMessageId, response: outcome.response ?? null, deliveryId: c.deliveryId }], c.now);
      return { status: 'sent', fallbackId: null };
    }
    case 'exported': {
      await recordSentMany(q, [{ a, provider: c.provider, providerMessageId: outcome.providerMessageId, response: outcome.location, deliveryId: c.deliveryId, status: 'exported' }], c.now);
      return { status: 'exported', fallbackId: null };
    }
    case 'uncertain': {
      const rows = await q.query(
        `UPDATE actions SET status = 'uncertain', status_reason = $4, last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE ${fence} RETURNING id`,
        [a.orgId, a.id, a.attempt, outcome.error],
      );
      if (rows.length) await event('uncertain', { error: outcome.error });
      return { status: 'uncertain', fallbackId: null };
    }
    case 'temporary': {
      if (a.attempt < c.maxAttempts) {
        const next = new Date(c.now.getTime() + retryDelaySeconds(a.attempt, a.id) * 1000).toISOString();
        const rows = await q.query(
          `UPDATE actions SET status = 'queued', next_attempt_at = $4, last_error = $5, handed_over_at = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
            WHERE ${fence} RETURNING id`,
          [a.orgId, a.id, a.attempt, next, outcome.error],
        );
        if (rows.length) await event('refused_temporary', { error: outcome.error, retryAt: next, attempt: a.attempt });
        return { status: 'queued', fallbackId: null };
      }
      return recordOutcome(q, a, { kind: 'permanent', error: `gave up after ${a.attempt} attempts: ${outcome.error}` }, c);
    }
    case 'permanent': {
      const rows = await q.query(
        `UPDATE actions SET status = 'failed', status_reason = $4, last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = now() WHERE ${fence} RETURNING id`,
        [a.orgId, a.id, a.attempt, outcome.error],
      );
      if (rows.length === 0) return { status: 'failed', fallbackId: null };
      await event('refused_permanent', { error: outcome.error, badAddress: outcome.badAddress ?? false, ...(outcome.config ? { config: true } : {}) });
      // A channel that is not configured moves nothing to another channel: its settings get fixed
      // and the action is queued again (`relance outbox requeue`).
      const fallbackId = outcome.config ? null : await createFallback(q, a.orgId, a.id, outcome.error, c.now);
      await emitEvent(q, a.orgId, 'action.failed', { actionId: String(a.id), channel: a.channel, error: outcome.error, fallbackActionId: fallbackId === null ? null : String(fallbackId) });
      return { status: 'failed', fallbackId };
    }
  }
}

/**
 * A permanent failure (or a hard bounce) moves the step to its fallback channel when it has one.
 * The fallback takes the dedupe key the planner gives that channel's action for the same customer
 * (or invoice) and day (fallbackDedupeKey), so the database's unique key keeps one document per
 * customer, day and channel, fallbacks included: when the step already has its own action on that
 * channel (the same step's letter), no second one is made; the failed action's invoices join it
 * while it has not gone out. A fallback has no fallback of its own.
 */
export async function createFallback(q: Queryable, orgId: string, actionId: bigint, reason: string, now: Date): Promise<bigint | null> {
  const [a] = await q.query<Record<string, unknown>>('SELECT * FROM actions WHERE organisation_id = $1 AND id = $2', [orgId, actionId]);
  if (!a || a.fallback_from || a.fallback_action_id) return null;
  const def = await scenarioDefinition(q, orgId, a.scenario_id as bigint, Number(a.scenario_version));
  const step = def.steps.find((s) => s.offset === Number(a.step_offset) && s.channel === a.channel);
  const fb = step?.fallbackChannel;
  if (!step || !fb) return null;
  const docChannel = documentChannel(fb);
  const template = String(a.template);
  if (docChannel && !(isTemplateKey(template) && TEMPLATES[template].channels.includes(docChannel))) return null;
  const key = fallbackDedupeKey(String(a.dedupe_key), String(a.channel), fb);
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO actions (organisation_id, dedupe_key, customer_id, channel, fallback_from, tone, template, step_offset, scenario_id, scenario_version,
                          planned_on, send_after, status, status_reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (organisation_id, dedupe_key) DO NOTHING RETURNING id`,
    [
      orgId, key, a.customer_id, fb, a.channel, a.tone, template, a.step_offset, a.scenario_id, a.scenario_version,
      a.planned_on, now.toISOString(), requiresApproval(step) ? 'awaiting_approval' : 'queued', `fallback after ${a.channel}: ${reason}`.slice(0, 500),
    ],
  );
  if (!row) {
    // The customer already has that document for the day: the step's own letter. Not a second one.
    const [existing] = await q.query<{ id: bigint; status: string }>('SELECT id, status FROM actions WHERE organisation_id = $1 AND dedupe_key = $2', [orgId, key]);
    if (!existing) return null;
    const pending = ['planned', 'awaiting_approval', 'queued'].includes(existing.status);
    if (pending) {
      await q.query(`UPDATE step_records SET action_id = $3 WHERE organisation_id = $1 AND action_id = $2 AND outcome = 'planned'`, [orgId, actionId, existing.id]);
    }
    await q.query(`INSERT INTO delivery_events (organisation_id, action_id, kind, at, detail) VALUES ($1,$2,'fallback',$3,$4::jsonb)`, [
      orgId,
      actionId,
      now.toISOString(),
      J({ to: fb, coveredBy: existing.id, joined: pending, reason }),
    ]);
    return null;
  }
  await q.query(`UPDATE step_records SET action_id = $3 WHERE organisation_id = $1 AND action_id = $2 AND outcome = 'planned'`, [orgId, actionId, row.id]);
  await q.query('UPDATE actions SET fallback_action_id = $3, updated_at = now() WHERE organisation_id = $1 AND id = $2', [orgId, actionId, row.id]);
  await q.query(`INSERT INTO delivery_events (organisation_id, action_id, kind, at, detail) VALUES ($1,$2,'fallback',$3,$4::jsonb)`, [
    orgId,
    actionId,
    now.toISOString(),
    J({ to: fb, fallbackActionId: row.id, reason }),
  ]);
  return row.id;
}
