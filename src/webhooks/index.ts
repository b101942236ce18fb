/**
 * Webhooks: an organisation subscribes URLs to event types; emitEvent() writes the event and one
 * delivery per matching subscription in the caller's transaction (an outbox: the event exists
 * if and only if the change that caused it committed). A dispatcher claims due deliveries with
 * FOR UPDATE SKIP LOCKED and a lease, POSTs them signed with HMAC-SHA256 over
 * "<timestamp>.<body>", logs every attempt and retries with exponential backoff; a delivery can be
 * replayed from the web app.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Db, type Queryable, pgArray } from '../db/driver.ts';
import { jsonReplacer } from '../db/driver.ts';
import { isRelanceError, notFound, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { checkUrlTarget, guardedPost, type NetworkPolicy, OutboundRefused, STRICT_POLICY } from '../net/guard.ts';
import { decryptSecret, encryptSecret } from '../secrets.ts';

const E = defineErrors('webhooks', {
  no_event: { fr: "abonnez-vous à au moins un événement", en: "subscribe to at least one event" },
  unknown_event: { fr: "événement inconnu « {event} » (connus : {known}, ou *)", en: "unknown event \"{event}\" (known: {known}, or *)" },
  not_url: { fr: "« {url} » n’est pas une URL", en: "\"{url}\" is not a URL" },
  http: { fr: "l’URL d’un webhook est en http(s)", en: "a webhook URL is http(s)" },
});

export const WEBHOOK_EVENTS = [
  'invoice.paid',
  'invoice.overdue',
  'action.sent',
  'action.exported',
  'action.failed',
  'promise.created',
  'promise.kept',
  'promise.broken',
  'promise.withdrawn',
  'payment_plan.created',
  'payment_plan.completed',
  'payment_plan.broken',
  'payment_plan.withdrawn',
  'dispute.opened',
  'dispute.resolved',
  'pause.created',
  'pause.lifted',
  'customer.suspension_recommended',
  'case.escalated',
  'customer.credit_limit_exceeded',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Seconds after the n-th failed attempt: 30 s, 2 min, 10 min, 1 h, 6 h, 24 h; then the delivery is dead. */
export const BACKOFF_SECONDS = [30, 120, 600, 3600, 21_600, 86_400] as const;
export const MAX_ATTEMPTS = BACKOFF_SECONDS.length + 1;

export const SIGNATURE_HEADER = 'relance-signature';
export const TIMESTAMP_HEADER = 'relance-timestamp';

/** "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>", the Stripe convention receivers know. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers (and tests): checks the signature and that the timestamp is recent (default 5 min). */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(sign(secret, t, body).split('v1=')[1]!, 'hex');
  const got = Buffer.from(parts.v1, 'hex');
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export interface Subscription {
  id: bigint;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  createdAt: string;
}

function checkEvents(events: string[]) {
  if (!events.length) throw validation(E('no_event'), { field: 'events' });
  for (const e of events) {
    if (e !== '*' && !(WEBHOOK_EVENTS as readonly string[]).includes(e)) throw validation(E('unknown_event', { event: e, known: WEBHOOK_EVENTS.join(', ') }), { field: 'events' });
  }
}

/**
 * Subscribes a URL. A target in a loopback, private, link-local or reserved network (literally or
 * by what its name resolves to now) is refused unless the operator's `policy` allows it; the
 * address is checked again at every send.
 */
export async function createSubscription(
  q: Queryable,
  orgId: string,
  s: { url: string; events: string[]; description?: string | null },
  opts: { policy?: NetworkPolicy } = {},
): Promise<Subscription & { secret: string }> {
  let url: URL;
  try {
    url = new URL(s.url);
  } catch {
    throw validation(E('not_url', { url: s.url }), { field: 'url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw validation(E('http'), { field: 'url' });
  checkEvents(s.events);
  await checkUrlTarget(url, opts.policy ?? STRICT_POLICY);
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  const [r] = await q.query<Record<string, unknown>>(
    'INSERT INTO webhook_subscriptions (organisation_id, url, secret, events, description) VALUES ($1, $2, $3, $4::text[], $5) RETURNING *',
    [orgId, url.toString(), encryptSecret(secret, `${orgId}:webhook_secret`, 'the webhook signing secret'), pgArray(s.events), s.description ?? null],
  );
  return { ...toSubscription(r!), secret };
}

function toSubscription(r: Record<string, unknown>): Subscription {
  return { id: r.id as bigint, url: String(r.url), events: r.events as string[], description: (r.description as string) ?? null, active: Boolean(r.active), createdAt: String(r.created_at) };
}

export async function listSubscriptions(q: Queryable, orgId: string): Promise<Subscription[]> {
  return (await q.query<Record<string, unknown>>('SELECT * FROM webhook_subscriptions WHERE organisation_id = $1 ORDER BY id', [orgId])).map(toSubscription);
}

export async function deleteSubscription(q: Queryable, orgId: string, id: bigint): Promise<void> {
  const r = await q.query('DELETE FROM webhook_subscriptions WHERE organisation_id = $1 AND id = $2 RETURNING 1', [orgId, id]);
  if (!r.length) throw notFound('webhook subscription', String(id));
}

/**
 * Records an event and queues its deliveries, in the caller's transaction. Call it from the code
 * that makes the change (payment applied, dispute opened...), with the same Queryable.
 */
export async function emitEvent(q: Queryable, orgId: string, type: WebhookEvent | 'webhook.test', payload: Record<string, unknown>): Promise<{ eventId: bigint; deliveries: number }> {
  const [row] = await q.query<{ id: bigint; deliveries: bigint }>(
    `WITH e AS (INSERT INTO webhook_events (organisation_id, type, payload) VALUES ($1, $2, $3::jsonb) RETURNING id),
          d AS (INSERT INTO webhook_deliveries (organisation_id, event_id, subscription_id)
                SELECT $1, e.id, s.id FROM e, webhook_subscriptions s
                 WHERE s.organisation_id = $1 AND s.active AND ($2 = ANY (s.events) OR '*' = ANY (s.events) OR $2 = 'webhook.test')
                RETURNING 1)
     SELECT (SELECT id FROM e) AS id, (SELECT count(*) FROM d) AS deliveries`,
    [orgId, type, JSON.stringify(payload, jsonReplacer)],
  );
  return { eventId: row!.id, deliveries: Number(row!.deliveries) };
}

/**
 * The two common table expressions that write events and their deliveries from rows of an
 * earlier one, for callers that record a change and tell it in one statement (one round trip,
 * atomic on its own): `source` names a CTE with columns (n, org, type, payload), events are
 * numbered in n order. Adds the CTEs `webhook_e` and `webhook_d`.
 */
export function eventCtes(source: string): string {
  return `webhook_e AS (INSERT INTO webhook_events (organisation_id, type, payload) SELECT org, type, payload FROM ${source} ORDER BY n RETURNING organisation_id, id, type),
     webhook_d AS (INSERT INTO webhook_deliveries (organisation_id, event_id, subscription_id)
                   SELECT webhook_e.organisation_id, webhook_e.id, s.id FROM webhook_e JOIN webhook_subscriptions s
                       ON s.organisation_id = webhook_e.organisation_id AND s.active AND (webhook_e.type = ANY (s.events) OR '*' = ANY (s.events))
                   RETURNING 1)`;
}

export interface DispatchOptions {
  now?: () => Date;
  /** Deliveries claimed per call. */
  limit?: number;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
  /** Networks the operator allows besides public ones (default: none). */
  policy?: NetworkPolicy;
}

/**
 * Posts the deliveries that are due, once each, and records the outcome. Returns how many were
 * attempted. Safe to run from several processes: claims are row locks with a lease.
 */
export async function deliverDue(db: Db, opts: DispatchOptions = {}): Promise<{ attempted: number; delivered: number; failed: number }> {
  const now = opts.now ?? (() => new Date());
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const claimed = await db.tx((q) =>
    q.query<{ organisation_id: string; id: bigint; attempts: number; url: string; secret: string; type: string; payload: unknown; event_id: bigint; created_at: string }>(
      `WITH c AS (
         SELECT d.organisation_id, d.id FROM webhook_deliveries d
          WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.leased_until IS NULL OR d.leased_until < $1)
          ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d SET leased_until = $1::timestamptz + make_interval(secs => $3::int)
         FROM c, webhook_events e, webhook_subscriptions s
        WHERE d.organisation_id = c.organisation_id AND d.id = c.id
          AND e.organisation_id = d.organisation_id AND e.id = d.event_id
          AND s.organisation_id = d.organisation_id AND s.id = d.subscription_id
       RETURNING d.organisation_id, d.id, d.attempts, s.url, s.secret, e.type, e.payload, e.id AS event_id, e.created_at`,
      [now(), opts.limit ?? 50, Math.ceil(timeoutMs / 1000) + 30],
    ),
  );
  let delivered = 0;
  let failed = 0;
  await Promise.all(
    claimed.map(async (d) => {
      const body = JSON.stringify({ id: `evt_${d.event_id}`, type: d.type, created: d.created_at, organisation: d.organisation_id, data: d.payload });
      const started = now();
      const ts = Math.floor(started.getTime() / 1000);
      let status: number | null = null;
      let error: string | null = null;
      const t0 = performance.now();
      try {
        status = await guardedPost(d.url, {
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Relance-Webhooks/1',
            [SIGNATURE_HEADER]: sign(decryptSecret(d.secret, `${d.organisation_id}:webhook_secret`, 'the webhook signing secret'), ts, body),
            [TIMESTAMP_HEADER]: String(ts),
            'relance-event': d.type,
            'relance-delivery': String(d.id),
          },
          body,
          timeoutMs,
          policy: opts.policy ?? STRICT_POLICY,
        });
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        // A class, never the socket's words (they would tell open ports from closed ones).
        error = e instanceof OutboundRefused || isRelanceError(e) ? (e as Error).message : 'could not deliver';
      }
      const duration = Math.round(performance.now() - t0);
      const attempts = d.attempts + 1;
      const ok = error === null;
      if (ok) delivered++;
      else failed++;
      const backoff = BACKOFF_SECONDS[Math.min(attempts - 1, BACKOFF_SECONDS.length - 1)]!;
      await db.tx(async (q) => {
        await q.query(
          'INSERT INTO webhook_attempts (organisation_id, delivery_id, attempted_at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)',
          [d.organisation_id, d.id, started, status, error, duration],
        );
        await q.query(
          `UPDATE webhook_deliveries SET attempts = $3::int, leased_until = NULL, last_status_code = $4::int, last_error = $5::text,
             status = CASE WHEN $6::boolean THEN 'delivered' WHEN $3::int >= $8::int THEN 'dead' ELSE 'pending' END,
             delivered_at = CASE WHEN $6::boolean THEN $7::timestamptz END,
             next_attempt_at = CASE WHEN $6::boolean THEN next_attempt_at ELSE $7::timestamptz + make_interval(secs => $9::int) END
           WHERE organisation_id = $1 AND id = $2`,
          [d.organisation_id, d.id, attempts, status, error, ok, started, MAX_ATTEMPTS, backoff],
        );
      });
    }),
  );
  return { attempted: claimed.length, delivered, failed };
}

/** Queues the same event again for the same subscription (a new delivery, linked to the old one). */
export async function replayDelivery(q: Queryable, orgId: string, deliveryId: bigint, now: Date): Promise<bigint> {
  const [r] = await q.query<{ id: bigint }>(
    `INSERT INTO webhook_deliveries (organisation_id, event_id, subscription_id, next_attempt_at, replay_of)
     SELECT organisation_id, event_id, subscription_id, $3, id FROM webhook_deliveries WHERE organisation_id = $1 AND id = $2
     RETURNING id`,
    [orgId, deliveryId, now],
  );
  if (!r) throw notFound('webhook delivery', String(deliveryId));
  return r.id;
}

export async function listDeliveries(q: Queryable, orgId: string, opts: { subscriptionId?: bigint; afterId?: bigint; limit?: number } = {}) {
  return q.query<Record<string, unknown>>(
    `SELECT d.id, d.event_id, e.type, d.subscription_id, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error,
            d.delivered_at, d.replay_of, d.created_at
       FROM webhook_deliveries d JOIN webhook_events e ON e.organisation_id = d.organisation_id AND e.id = d.event_id
      WHERE d.organisation_id = $1 AND ($2::bigint IS NULL OR d.subscription_id = $2) AND ($3::bigint IS NULL OR d.id < $3)
      ORDER BY d.id DESC LIMIT $4`,
    [orgId, opts.subscriptionId ?? null, opts.afterId ?? null, opts.limit ?? 50],
  );
}

export async function deliveryAttempts(q: Queryable, orgId: string, deliveryId: bigint) {
  return q.query<Record<string, unknown>>(
    'SELECT attempted_at, status_code, error, duration_ms FROM webhook_attempts WHERE organisation_id = $1 AND delivery_id = $2 ORDER BY id',
    [orgId, deliveryId],
  );
}

/**
 * Runs deliverDue every `intervalMs` in this process (the server calls it at start); returns a
 * stop function. Several processes may run it: deliveries are claimed with row locks and leases.
 */
export function startWebhookDispatcher(db: Db, opts: DispatchOptions & { intervalMs?: number; onError?: (e: unknown) => void } = {}): () => Promise<void> {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = deliverDue(db, opts)
      .catch((e) => opts.onError?.(e))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, opts.intervalMs ?? 5000);
      });
  };
  let timer = setTimeout(tick, 0);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
