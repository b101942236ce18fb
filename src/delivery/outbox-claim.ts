/**
 * The workers' side of the outbox: due actions claimed with FOR UPDATE SKIP LOCKED under a lease,
 * each re-checked in that same transaction (invoice open, not paused, not disputed, sending not
 * held, a message still worded for its day, inside the window, within the rate limit), and the
 * leases that let another worker take over a crashed one.
 */
import { type Db, type Queryable, pgArray, jsonReplacer } from '../db/driver.ts';
import { type CalendarDate, todayIn } from '../domain/dates.ts';
import { DEFAULT_RATE_LIMITS, nextSendingInstant, rateWindowStart } from '../domain/delivery.ts';
import { workingDays } from '../domain/engine/holidays.ts';
import { DEFAULT_OPTIONS, type StoredScenarioDefinition } from '../domain/engine/scenario.ts';
import { DEFAULT_SENDING, effectiveOptions } from '../domain/engine/sending.ts';
import { ACK_STEP, ACTIVE_PAUSE, COVERS, INSTALMENT_STEP, STOPPING_PAUSE } from '../engine/planner-input.ts';
import { defaultRateTables } from '../domain/law/index.ts';
import { loadRateTables } from '../law/rates-repo.ts';
import { heldForProvisionalRate } from '../law/regime.ts';
import { claimsPenalties, isTemplateKey, TEMPLATES } from '../documents/registry.ts';
import { isRelanceError } from '../errors.ts';

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

const scenarioCache = new Map<string, StoredScenarioDefinition>();

/** A version of a scenario as stored: the sending options it follows are the organisation's (not cached: they change). */
export async function scenarioDefinition(q: Queryable, orgId: string, scenarioId: bigint, version: number): Promise<StoredScenarioDefinition> {
  const key = `${orgId}/${scenarioId}/${version}`;
  const hit = scenarioCache.get(key);
  if (hit) return hit;
  const [r] = await q.query<{ definition: unknown }>(
    `SELECT definition FROM scenario_versions WHERE organisation_id = $1 AND scenario_id = $2 AND version = $3
     UNION ALL SELECT definition FROM scenarios WHERE organisation_id = $1 AND id = $2 LIMIT 1`,
    [orgId, scenarioId, version],
  );
  const def = r ? ((typeof r.definition === 'string' ? JSON.parse(r.definition) : r.definition) as StoredScenarioDefinition) : { options: DEFAULT_OPTIONS, steps: [] };
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
  /** The organisation's sending options (engine_settings), null when it never chose. */
  window_start: string | null;
  window_end: string | null;
  holiday_calendar: string | null;
  working_days_only: boolean | null;
}

export async function claimDue(db: Db, o: ClaimOptions): Promise<ClaimResult> {
  const nowIso = o.now.toISOString();
  return db.tx(async (q) => {
    const due = await q.query<DueRow>(
      `SELECT a.organisation_id, a.id, a.dedupe_key, a.customer_id, a.channel, a.fallback_from, a.tone, a.template, a.step_offset,
              a.scenario_id, a.scenario_version, a.planned_on, a.attempts, o.time_zone,
              es.window_start, es.window_end, es.holiday_calendar, es.working_days_only
         FROM actions a JOIN organisations o ON o.id = a.organisation_id
         LEFT JOIN engine_settings es ON es.organisation_id = a.organisation_id
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
        const org = r.window_start === null ? DEFAULT_SENDING : { window: { start: r.window_start, end: r.window_end! }, holidayCalendar: r.holiday_calendar!, workingDaysOnly: r.working_days_only! };
        const opts = effectiveOptions(def.options, org);
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

/** The rate tables, read only when a batch holds an action that claims interest. */
export async function ratesIfNeeded(q: Queryable, actions: ReadonlyArray<{ template: string }>) {
  return actions.some((a) => claimsPenalties(a.template)) ? loadRateTables(q) : defaultRateTables();
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
