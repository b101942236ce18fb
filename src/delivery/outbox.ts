/**
 * The outbox in the database: workers claim due actions with FOR UPDATE SKIP LOCKED under a lease,
 * re-checking in that same transaction that each is still due (invoice open, not paused, not
 * disputed, sending not held, inside the window, within the rate limit); the hand-over is committed
 * before a message leaves; outcomes, retries with backoff, fallbacks, and what humans do (approve,
 * cancel, resolve an uncertain message) are recorded here.
 */
import { type Db, type Queryable, pgArray } from '../db/driver.ts';
import { emitEvent, eventCtes } from '../webhooks/index.ts';
import { jsonReplacer } from '../db/driver.ts';
import { type CalendarDate, todayIn } from '../domain/dates.ts';
import {
  ACTION_STATUSES,
  type ActionStatus,
  DEFAULT_RATE_LIMITS,
  documentChannel,
  fromStatuses,
  nextSendingInstant,
  type OutboxEvent,
  rateWindowStart,
  retryDelaySeconds,
  type SendOutcome,
  transition,
} from '../domain/delivery.ts';
import { fallbackDedupeKey } from '../domain/channels.ts';
import { workingDays } from '../domain/engine/holidays.ts';
import { DEFAULT_OPTIONS, requiresApproval, type ScenarioDefinition } from '../domain/engine/scenario.ts';
import { ACK_STEP, ACTIVE_PAUSE, COVERS, INSTALMENT_STEP, STOPPING_PAUSE } from '../engine/planner-input.ts';
import { defaultRateTables } from '../domain/law/index.ts';
import { loadRateTables } from '../law/rates-repo.ts';
import { heldForProvisionalRate } from '../law/regime.ts';
import { claimsPenalties, isTemplateKey, TEMPLATES } from '../documents/registry.ts';
import { ERROR_CODES, isRelanceError, notFound, RelanceError, validation } from '../errors.ts';
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

export interface ClaimedAction {
  orgId: string;
  id: bigint;
  dedupeKey: string;
  customerId: bigint;
  channel: string;
  fallbackFrom: string | null;
  tone: string;
  template: string;
  stepOffset: number;
  scenarioId: bigint;
  scenarioVersion: number;
  plannedOn: CalendarDate;
  /** Attempt number of this claim: the fencing token for everything the worker writes. */
  attempt: number;
  /** The invoices still due, by due date, and their numbers in the same order. */
  invoiceIds: bigint[];
  invoiceNumbers: string[];
  timeZone: string;
}

// ------------------------------------------------------------------ scenarios (immutable versions, cached)

const scenarioCache = new Map<string, ScenarioDefinition>();

export async function scenarioDefinition(q: Queryable, orgId: string, scenarioId: bigint, version: number): Promise<ScenarioDefinition> {
  const key = `${orgId}/${scenarioId}/${version}`;
  const hit = scenarioCache.get(key);
  if (hit) return hit;
  const [r] = await q.query<{ definition: unknown }>(
    `SELECT definition FROM scenario_versions WHERE organisation_id = $1 AND scenario_id = $2 AND version = $3
     UNION ALL SELECT definition FROM scenarios WHERE organisation_id = $1 AND id = $2 LIMIT 1`,
    [orgId, scenarioId, version],
  );
  const def = r ? ((typeof r.definition === 'string' ? JSON.parse(r.definition) : r.definition) as ScenarioDefinition) : { options: DEFAULT_OPTIONS, steps: [] };
  if (scenarioCache.size > 5000) scenarioCache.clear();
  scenarioCache.set(key, def);
  return def;
}

// ------------------------------------------------------------------ claiming

export interface ClaimOptions {
  owner: string;
  now: Date;
  leaseMs: number;
  limit: number;
  /** Only these channels (a worker dedicated to calls, say); all when absent. */
  channels?: string[];
}

export interface ClaimResult {
  /** Due actions this claim looked at (0: nothing is due). */
  seen: number;
  claimed: ClaimedAction[];
  cancelled: number;
  deferred: number;
}

interface DueRow {
  organisation_id: string;
  id: bigint;
  dedupe_key: string;
  customer_id: bigint;
  channel: string;
  fallback_from: string | null;
  tone: string;
  template: string;
  step_offset: number;
  scenario_id: bigint;
  scenario_version: number;
  planned_on: CalendarDate;
  attempts: number;
  time_zone: string;
}

export async function claimDue(db: Db, o: ClaimOptions): Promise<ClaimResult> {
  const nowIso = o.now.toISOString();
  return db.tx(async (q) => {
    const due = await q.query<DueRow>(
      `SELECT a.organisation_id, a.id, a.dedupe_key, a.customer_id, a.channel, a.fallback_from, a.tone, a.template, a.step_offset,
              a.scenario_id, a.scenario_version, a.planned_on, a.attempts, o.time_zone
         FROM actions a JOIN organisations o ON o.id = a.organisation_id
        WHERE a.status = 'queued' AND a.hold_reason IS NULL AND coalesce(a.next_attempt_at, a.send_after) <= $1
          ${o.channels ? 'AND a.channel = ANY($3::text[])' : ''}
        ORDER BY coalesce(a.next_attempt_at, a.send_after), a.id
        LIMIT $2
        FOR UPDATE OF a SKIP LOCKED`,
      o.channels ? [nowIso, o.limit, pgArray(o.channels)] : [nowIso, o.limit],
    );
    if (due.length === 0) return { seen: 0, claimed: [], cancelled: 0, deferred: 0 };

    // Re-check every invoice of every claimed action, now, in this transaction.
    const todayByOrg = new Map<string, CalendarDate>();
    for (const r of due) if (!todayByOrg.has(r.organisation_id)) todayByOrg.set(r.organisation_id, todayIn(r.time_zone, o.now));
    const keys = due.map((r) => ({ org: r.organisation_id, id: r.id, today: todayByOrg.get(r.organisation_id) }));
    const items = await q.query<{ organisation_id: string; action_id: bigint; invoice_id: bigint; number: string; due_date: CalendarDate; step_key: string; open_minor: bigint; paused: boolean; stopped_by: string | null; disputed: boolean }>(
      `SELECT sr.organisation_id, sr.action_id, sr.invoice_id, i.number, i.due_date, sr.step_key,
              i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor,
              -- an acknowledgement of an agreement goes whatever the pauses; an instalment reminder
              -- is what a payment plan's own pause lets through
              -- (collective proceedings or a handover stop everything, acknowledgements included)
              EXISTS (SELECT 1 FROM pauses p WHERE p.organisation_id = sr.organisation_id AND p.customer_id = i.customer_id
                        AND ${COVERS('p', 'i.id')} AND ${ACTIVE_PAUSE('p', 'x.today')}
                        AND (NOT ${ACK_STEP('sr')} OR ${STOPPING_PAUSE('p')})
                        AND NOT (p.reason = 'payment_plan' AND ${INSTALMENT_STEP('sr')})) AS paused,
              (SELECT min(p.reason) FROM pauses p WHERE p.organisation_id = sr.organisation_id AND p.customer_id = i.customer_id
                        AND ${COVERS('p', 'i.id')} AND ${ACTIVE_PAUSE('p', 'x.today')} AND ${STOPPING_PAUSE('p')}) AS stopped_by,
              NOT ${ACK_STEP('sr')} AND EXISTS (SELECT 1 FROM disputes d WHERE d.organisation_id = sr.organisation_id AND d.customer_id = i.customer_id
                        AND ${COVERS('d', 'i.id')} AND d.resolved_on IS NULL) AS disputed
         FROM json_to_recordset($1::json) AS x(org uuid, id text, today date)
         JOIN step_records sr ON sr.organisation_id = x.org AND sr.action_id = x.id::bigint AND sr.outcome = 'planned'
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        ORDER BY i.due_date, i.id`,
      [J(keys)],
    );
    const byAction = new Map<string, typeof items>();
    for (const it of items) {
      const k = `${it.organisation_id}/${it.action_id}`;
      const list = byAction.get(k) ?? [];
      list.push(it);
      byAction.set(k, list);
    }

    const cancelActions: { org: string; id: bigint; reason: string }[] = [];
    const dropSteps: { org: string; invoiceId: bigint; stepKey: string; outcome: 'cancelled' | 'skipped'; reason: string }[] = [];
    const defer: { org: string; id: bigint; at: string; error?: string }[] = [];
    const candidates: (DueRow & { invoiceIds: bigint[]; invoiceNumbers: string[] })[] = [];
    const opensAt = new Map<string, string | { retryAt: string; error: string }>();
    for (const r of due) {
      const list = byAction.get(`${r.organisation_id}/${r.id}`) ?? [];
      const keep: bigint[] = [];
      const keepNumbers: string[] = [];
      const reasons = new Set<string>();
      // A message whose wording holds only up to the due date ("due today") leaves that day or never.
      const untilDue = isTemplateKey(r.template) && TEMPLATES[r.template].untilDueDate === true;
      const today = todayByOrg.get(r.organisation_id)!;
      for (const it of list) {
        const reason = it.open_minor <= 0n ? 'paid' : it.stopped_by ? it.stopped_by : it.disputed ? 'disputed' : it.paused ? 'paused' : untilDue && today > it.due_date ? 'moment_passed' : null;
        if (reason) {
          reasons.add(reason);
          dropSteps.push({
            org: r.organisation_id,
            invoiceId: it.invoice_id,
            stepKey: it.step_key,
            outcome: reason === 'moment_passed' ? 'skipped' : 'cancelled',
            reason: reason === 'moment_passed' ? `moment_passed: due on ${it.due_date}, not sent by then` : reason,
          });
        } else if (!keep.includes(it.invoice_id)) {
          // Two of the action's steps may concern one invoice (a fallback joined the step's letter).
          keep.push(it.invoice_id);
          keepNumbers.push(it.number);
        }
      }
      if (keep.length === 0) {
        cancelActions.push({ org: r.organisation_id, id: r.id, reason: reasons.size ? [...reasons].sort().join(',') : 'no_invoice' });
        continue;
      }
      // The same scenario in the same time zone opens at the same instant: worked out once per claim.
      const windowKey = `${r.organisation_id}/${r.scenario_id}/${r.scenario_version}/${r.time_zone}`;
      let next = opensAt.get(windowKey);
      if (next === undefined) {
        const def = await scenarioDefinition(q, r.organisation_id, r.scenario_id, r.scenario_version);
        const opts = { ...DEFAULT_OPTIONS, ...def.options };
        try {
          const cal = workingDays(opts.holidayCalendar);
          next = nextSendingInstant(nowIso, { timeZone: r.time_zone, window: opts.window, workingDaysOnly: opts.workingDaysOnly, isWorkingDay: (d) => cal.isWorkingDay(d) });
        } catch (e) {
          // Never another calendar instead: the action waits, saying why, until the scenario is corrected.
          if (!isRelanceError(e)) throw e;
          next = { retryAt: new Date(Date.parse(nowIso) + 3_600_000).toISOString(), error: e.message };
        }
        opensAt.set(windowKey, next);
      }
      if (typeof next !== 'string') {
        defer.push({ org: r.organisation_id, id: r.id, at: next.retryAt, error: next.error });
        continue;
      }
      if (next !== nowIso) {
        defer.push({ org: r.organisation_id, id: r.id, at: next });
        continue;
      }
      candidates.push({ ...r, invoiceIds: keep, invoiceNumbers: keepNumbers });
    }

    if (dropSteps.length) {
      await q.query(
        `UPDATE step_records sr SET outcome = x.outcome, reason = x.reason
           FROM json_to_recordset($1::json) AS x(org uuid, "invoiceId" text, "stepKey" text, outcome text, reason text)
          WHERE sr.organisation_id = x.org AND sr.invoice_id = x."invoiceId"::bigint AND sr.step_key = x."stepKey"`,
        [J(dropSteps)],
      );
    }
    if (cancelActions.length) {
      await q.query(
        `WITH c AS (
           UPDATE actions a SET status = 'cancelled', status_reason = x.reason, lease_owner = NULL, lease_until = NULL, updated_at = now()
             FROM json_to_recordset($1::json) AS x(org uuid, id text, reason text)
            WHERE a.organisation_id = x.org AND a.id = x.id::bigint
           RETURNING a.organisation_id, a.id, x.reason)
         INSERT INTO delivery_events (organisation_id, action_id, kind, at, detail)
         SELECT organisation_id, id, 'cancelled', $2, jsonb_build_object('reason', reason, 'by', 'worker re-check') FROM c`,
        [J(cancelActions), nowIso],
      );
    }
    if (defer.length) {
      await q.query(
        `UPDATE actions a SET next_attempt_at = x.at::timestamptz, last_error = COALESCE(x.error, a.last_error), updated_at = now()
           FROM json_to_recordset($1::json) AS x(org uuid, id text, at text, error text)
          WHERE a.organisation_id = x.org AND a.id = x.id::bigint`,
        [J(defer)],
      );
    }

    // A formal notice approved (or never needing approval) that would now claim interest at a rate
    // not known yet goes back to a human until the rate is confirmed.
    const onProvisional = await heldForProvisionalRate(
      q,
      candidates.map((c) => ({ orgId: c.organisation_id, id: c.id, customerId: c.customer_id, template: c.template })),
      (org) => todayByOrg.get(org)!,
      await ratesIfNeeded(q, candidates),
      claimsPenalties,
    );
    if (onProvisional.size) {
      const back = candidates.filter((c) => onProvisional.has(`${c.organisation_id}/${c.id}`));
      await q.query(
        `UPDATE actions a SET status = 'awaiting_approval', status_reason = 'provisional_rate', approved_by = NULL, approved_at = NULL, updated_at = now()
           FROM json_to_recordset($1::json) AS x(org uuid, id text)
          WHERE a.organisation_id = x.org AND a.id = x.id::bigint AND a.status = 'queued'`,
        [J(back.map((c) => ({ org: c.organisation_id, id: c.id })))],
      );
      for (let i = candidates.length - 1; i >= 0; i--) if (onProvisional.has(`${candidates[i]!.organisation_id}/${candidates[i]!.id}`)) candidates.splice(i, 1);
    }

    // Rate limits: one budget per organisation, channel and minute, shared by every worker.
    const allowed = await takeRateBudget(q, candidates, nowIso);
    const limited = candidates.filter((c) => !allowed.has(`${c.organisation_id}/${c.id}`));
    if (limited.length) {
      const nextMinute = new Date(Date.parse(rateWindowStart(nowIso)) + 60_000).toISOString();
      await q.query(
        `UPDATE actions a SET next_attempt_at = $2::timestamptz, updated_at = now()
           FROM json_to_recordset($1::json) AS x(org uuid, id text) WHERE a.organisation_id = x.org AND a.id = x.id::bigint`,
        [J(limited.map((c) => ({ org: c.organisation_id, id: c.id }))), nextMinute],
      );
    }
    const go = candidates.filter((c) => allowed.has(`${c.organisation_id}/${c.id}`));
    if (go.length === 0) return { seen: due.length, claimed: [], cancelled: cancelActions.length, deferred: defer.length + limited.length };
    const leaseUntil = new Date(o.now.getTime() + o.leaseMs).toISOString();
    const marked = await q.query<{ organisation_id: string; id: bigint; attempts: number }>(
      `UPDATE actions a SET status = 'sending', lease_owner = $2, lease_until = $3::timestamptz, attempts = a.attempts + 1,
              handed_over_at = NULL, next_attempt_at = NULL, updated_at = now()
         FROM json_to_recordset($1::json) AS x(org uuid, id text)
        WHERE a.organisation_id = x.org AND a.id = x.id::bigint AND a.status = 'queued'
        RETURNING a.organisation_id, a.id, a.attempts`,
      [J(go.map((c) => ({ org: c.organisation_id, id: c.id }))), o.owner, leaseUntil],
    );
    const attempts = new Map(marked.map((m) => [`${m.organisation_id}/${m.id}`, Number(m.attempts)]));
    const claimed = go
      .filter((c) => attempts.has(`${c.organisation_id}/${c.id}`))
      .map((c) => ({
        orgId: c.organisation_id,
        id: c.id,
        dedupeKey: c.dedupe_key,
        customerId: c.customer_id,
        channel: c.channel,
        fallbackFrom: c.fallback_from,
        tone: c.tone,
        template: c.template,
        stepOffset: Number(c.step_offset),
        scenarioId: c.scenario_id,
        scenarioVersion: Number(c.scenario_version),
        plannedOn: c.planned_on,
        attempt: attempts.get(`${c.organisation_id}/${c.id}`)!,
        invoiceIds: c.invoiceIds,
        invoiceNumbers: c.invoiceNumbers,
        timeZone: c.time_zone,
      }));
    return { seen: due.length, claimed, cancelled: cancelActions.length, deferred: defer.length + limited.length };
  });
}

async function takeRateBudget(q: Queryable, candidates: { organisation_id: string; id: bigint; channel: string }[], nowIso: string): Promise<Set<string>> {
  const allowed = new Set<string>();
  if (candidates.length === 0) return allowed;
  const groups = new Map<string, typeof candidates>();
  for (const c of candidates) {
    const k = `${c.organisation_id}|${c.channel}`;
    const g = groups.get(k) ?? [];
    g.push(c);
    groups.set(k, g);
  }
  const orgs = [...new Set(candidates.map((c) => c.organisation_id))];
  const limitRows = await q.query<{ organisation_id: string; rate_limits: unknown }>(
    'SELECT organisation_id, rate_limits FROM delivery_settings WHERE organisation_id = ANY($1::uuid[])',
    [pgArray(orgs)],
  );
  const limits = new Map(limitRows.map((r) => [r.organisation_id, (typeof r.rate_limits === 'string' ? JSON.parse(r.rate_limits) : r.rate_limits) as Record<string, number>]));
  const window = rateWindowStart(nowIso);
  for (const [k, g] of groups) {
    const [org, channel] = k.split('|') as [string, string];
    const limit = limits.get(org)?.[channel] ?? DEFAULT_RATE_LIMITS[channel] ?? 600;
    // The upsert locks this window's row: concurrent workers wait here and see each other's use.
    const [row] = await q.query<{ used: number }>(
      `INSERT INTO delivery_rate_usage (organisation_id, channel, window_start, used) VALUES ($1, $2, $3, 0)
       ON CONFLICT (organisation_id, channel, window_start) DO UPDATE SET used = delivery_rate_usage.used RETURNING used`,
      [org, channel, window],
    );
    const take = Math.max(0, Math.min(g.length, limit - Number(row!.used)));
    if (take === 0) continue;
    await q.query('UPDATE delivery_rate_usage SET used = used + $4 WHERE organisation_id = $1 AND channel = $2 AND window_start = $3', [org, channel, window, take]);
    for (const c of g.slice(0, take)) allowed.add(`${c.organisation_id}/${c.id}`);
  }
  return allowed;
}

// ------------------------------------------------------------------ leases

/**
 * Actions whose worker stopped (lease expired): back to the queue when nothing was handed over,
 * else uncertain — the message may have gone out, a human decides.
 */
export async function reapExpiredLeases(db: Db, now: Date): Promise<{ requeued: number; uncertain: number }> {
  const nowIso = now.toISOString();
  return db.tx(async (q) => {
    const rows = await q.query<{ organisation_id: string; id: bigint; status: string }>(
      `WITH x AS (SELECT organisation_id, id FROM actions WHERE status = 'sending' AND lease_until < $1 FOR UPDATE SKIP LOCKED)
       UPDATE actions a SET
              status = CASE WHEN a.handed_over_at IS NULL THEN 'queued' ELSE 'uncertain' END,
              status_reason = CASE WHEN a.handed_over_at IS NULL THEN a.status_reason
                                   ELSE 'the worker stopped after handing the message over: it may have gone out' END,
              next_attempt_at = CASE WHEN a.handed_over_at IS NULL THEN $1::timestamptz END,
              lease_owner = NULL, lease_until = NULL, updated_at = now()
         FROM x WHERE a.organisation_id = x.organisation_id AND a.id = x.id
       RETURNING a.organisation_id, a.id, a.status`,
      [nowIso],
    );
    const uncertain = rows.filter((r) => r.status === 'uncertain');
    if (uncertain.length) {
      await q.query(
        `INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, detail)
         SELECT x.org, x.id::bigint,
                (SELECT max(d.id) FROM deliveries d WHERE d.organisation_id = x.org AND d.action_id = x.id::bigint),
                'uncertain', $2, '{"reason": "worker lost after hand-over"}'::jsonb
           FROM json_to_recordset($1::json) AS x(org uuid, id text)`,
        [J(uncertain.map((r) => ({ org: r.organisation_id, id: r.id }))), nowIso],
      );
    }
    // Old rate windows are of no use to anyone.
    await q.query(`DELETE FROM delivery_rate_usage WHERE window_start < $1::timestamptz - interval '1 hour'`, [nowIso]);
    return { requeued: rows.length - uncertain.length, uncertain: uncertain.length };
  });
}

/**
 * Renews the leases of the actions a worker is still working on (`ids`; all of its actions when
 * absent). An action it gave up, or whose outcome it could not record, is not among them: its
 * lease runs out and the reaper resolves it.
 */
export async function renewLeases(db: Db, owner: string, now: Date, leaseMs: number, ids?: readonly bigint[]): Promise<number> {
  const rows = await db.query(
    `UPDATE actions SET lease_until = $2 WHERE status = 'sending' AND lease_owner = $1${ids ? ' AND id = ANY($3::bigint[])' : ''} RETURNING 1`,
    ids ? [owner, new Date(now.getTime() + leaseMs).toISOString(), pgArray(ids)] : [owner, new Date(now.getTime() + leaseMs).toISOString()],
  );
  return rows.length;
}

/** A worker gives up an action it could not finish: its lease ends now, for the reaper. */
export async function expireLease(db: Db, a: { orgId: string; id: bigint; attempt: number }, owner: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE actions SET lease_until = $5 WHERE organisation_id = $1 AND id = $2 AND attempts = $3 AND lease_owner = $4 AND status = 'sending'`,
    [a.orgId, a.id, a.attempt, owner, new Date(now.getTime() - 1).toISOString()],
  );
}

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

/** The rate tables, read only when a batch holds an action that claims interest. */
async function ratesIfNeeded(q: Queryable, actions: ReadonlyArray<{ template: string }>) {
  return actions.some((a) => claimsPenalties(a.template)) ? loadRateTables(q) : defaultRateTables();
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
