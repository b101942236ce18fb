/**
 * The daily cycle: settle promises and payment plans, then walk the customers with open invoices
 * in chunks (memory stays flat as the ledger grows), plan each chunk with the pure planner and
 * materialise its actions idempotently. Everything runs in one transaction; a dry run is the same
 * transaction rolled back, so it prints exactly the decisions the real run would make.
 */
import { WritePipe } from '../db/write-pipe.ts';
import { defineMessages, renderText, type Text, type Vars } from '../i18n/index.ts';
import type { Db, Queryable } from '../db/driver.ts';
import { pgArray } from '../db/driver.ts';
import { addDays, type CalendarDate, daysBetween, formatLongDate } from '../domain/dates.ts';
import { workingDays } from '../domain/engine/holidays.ts';
import { instalmentStepKey } from '../domain/engine/scenario.ts';
import { type DayPlan, missedInstalment, type PlannedAction, planDay, promiseState, type SkippedStep } from '../domain/engine/planner.ts';
import { windowStart } from '../domain/engine/window.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { defaultScenario, ensureBuiltinScenarios, loadAssignments } from './scenarios.ts';
import { closePaymentPlan, closePromise } from './events.ts';
import { emitEvent } from '../webhooks/index.ts';
import { checkCreditLimits } from '../risk/credit.ts';
import { checkInsuranceDeadlines } from '../escalation/insurance.ts';
import { hasSubscribers, noticeOverdue } from './notices.ts';
import { ACTIVE_PAUSE, gatherCycleCandidates, loadPlannerInput } from './planner-input.ts';
import { claimsPenalties } from '../documents/registry.ts';
import { loadRateTables } from '../law/rates-repo.ts';
import { heldForProvisionalRate, type RateWarning, rateWarnings } from '../law/regime.ts';


export interface CycleOptions {
  today: CalendarDate;
  dryRun?: boolean;
  /** Customers per chunk. */
  chunkSize?: number;
  /** Called with each chunk's decisions (the CLI streams --json from here). */
  onChunk?: (actions: PlannedAction[], skipped: SkippedStep[]) => void;
}

export interface HoldStatus {
  held: boolean;
  reason: 'stale_bank_data' | null;
  /** Said even when not holding: e.g. no bank statement was ever imported. In English (API v1's field); `text` says it in both languages. */
  message: string | null;
  text: Text | null;
  lastImportOn: CalendarDate | null;
}

export interface CycleSummary {
  today: CalendarDate;
  dryRun: boolean;
  actionsCreated: number;
  /** Of which reminders of a payment plan's instalment. */
  instalmentReminders: number;
  actionsAlreadyThere: number;
  stepsSkipped: number;
  invoicesHeldByGap: number;
  awaitingApproval: number;
  promisesBroken: number;
  promisesKept: number;
  plansBroken: number;
  plansCompleted: number;
  hold: HoldStatus;
  /** The organisation is in review mode: every action created waits for approval. */
  review: boolean;
  /** Formal notices and handovers waiting for a human because a rate they would claim is not known yet. */
  heldForProvisionalRate: number;
  /** Rate tables the organisation's overdue debts need and that are not known that far. */
  rateWarnings: RateWarning[];
  /** Customers newly over their credit limit (alerts raised, webhook customer.credit_limit_exceeded). */
  creditAlertsRaised: number;
  /** Tasks raised before a credit insurance policy's deadlines (src/escalation/insurance.ts). */
  insuranceTasksRaised: number;
}

class DryRunRollback extends Error {}

/** status_reason of an action that waits for approval only because its organisation is in review mode. */
export const REVIEW_REASON = 'review';

export async function runCycle(db: Db, orgId: string, opts: CycleOptions): Promise<CycleSummary> {
  let summary: CycleSummary | undefined;
  try {
    await db.tx(async (q) => {
      summary = await cycleInTransaction(q, orgId, opts);
      if (opts.dryRun) throw new DryRunRollback();
    });
  } catch (e) {
    if (!(e instanceof DryRunRollback)) throw e;
  }
  return summary!;
}

const HOLD = defineMessages({
  never: { fr: 'aucun relevé bancaire importé : les paiements ne sont connus que par la comptabilité', en: 'no bank statement imported yet: payments are known only from the ledger' },
  stale: {
    fr: 'le dernier relevé bancaire a été importé le {date}, il y a {age} jours (limite {max}) : les relances sont planifiées mais leur envoi attend un relevé à jour',
    en: 'the newest bank statement was imported on {date}, {age} days ago (limit {max}): reminders are planned but sending is held until a fresh statement is imported',
  },
});

const holdText = (key: keyof typeof HOLD, vars: Vars = {}): Text => ({ key: `cycle.hold.${key}`, ...HOLD[key], vars });

export async function staleBankGuard(q: Queryable, orgId: string, today: CalendarDate, timeZone: string): Promise<HoldStatus> {
  const [settings] = await q.query<{ stale_bank_days: number }>('SELECT stale_bank_days FROM engine_settings WHERE organisation_id = $1', [orgId]);
  const maxAge = settings?.stale_bank_days ?? 3;
  const never = (): HoldStatus => {
    const text = holdText('never');
    return { held: false, reason: null, message: renderText(text, 'en'), text, lastImportOn: null };
  };
  const [exists] = await q.query<{ t: string | null }>(`SELECT to_regclass('bank_statements')::text AS t`);
  if (!exists?.t) return never();
  const [row] = await q.query<{ d: CalendarDate | null }>(
    `SELECT (max(imported_at) AT TIME ZONE $2)::date AS d FROM bank_statements WHERE organisation_id = $1`,
    [orgId, timeZone],
  );
  const last = row?.d ?? null;
  if (!last) return never();
  const age = daysBetween(last, today);
  if (age > maxAge) {
    const text = holdText('stale', { date: { key: 'date', fr: formatLongDate(last, 'fr'), en: formatLongDate(last, 'en'), vars: {} }, age, max: maxAge });
    return { held: true, reason: 'stale_bank_data', message: renderText(text, 'en'), text, lastImportOn: last };
  }
  return { held: false, reason: null, message: null, text: null, lastImportOn: last };
}

async function cycleInTransaction(q: Queryable, orgId: string, opts: CycleOptions): Promise<CycleSummary> {
  const { today } = opts;
  const org = await getOrganisation(q, orgId);
  await ensureBuiltinScenarios(q, orgId, org.language === 'en' ? 'en' : 'fr');
  const summary: CycleSummary = {
    today,
    dryRun: Boolean(opts.dryRun),
    actionsCreated: 0,
    instalmentReminders: 0,
    actionsAlreadyThere: 0,
    stepsSkipped: 0,
    invoicesHeldByGap: 0,
    awaitingApproval: 0,
    promisesBroken: 0,
    promisesKept: 0,
    plansBroken: 0,
    plansCompleted: 0,
    hold: await staleBankGuard(q, orgId, today, org.timeZone),
    review: !org.live,
    heldForProvisionalRate: 0,
    rateWarnings: [],
    creditAlertsRaised: 0,
    insuranceTasksRaised: 0,
  };
  await settlePromises(q, orgId, today, summary);
  await settlePaymentPlans(q, orgId, today, summary);
  await planInstalmentReminders(q, orgId, today, org.timeZone, summary, opts.onChunk);
  await noticeOverdue(q, orgId, today);
  // Imports and payments since the last run may have moved customers over or under their limit:
  // the alerts (and the stricter scenario they bring) are current before anything is planned.
  summary.creditAlertsRaised = (await checkCreditLimits(q, orgId, today)).length;
  // A credit insurer's deadlines run from the original due dates: the tasks come before them.
  summary.insuranceTasksRaised = (await checkInsuranceDeadlines(q, orgId, today)).tasksRaised;

  const assignments = await loadAssignments(q, orgId);
  const tables = await loadRateTables(q);
  summary.rateWarnings = await rateWarnings(q, orgId, today, tables);
  // The customers with at least one invoice whose day has come, gathered once, then taken in chunks.
  await gatherCycleCandidates(q, orgId, today);
  const tell = { escalated: await hasSubscribers(q, orgId, 'case.escalated'), suspension: await hasSubscribers(q, orgId, 'customer.suspension_recommended') };
  const chunk = opts.chunkSize ?? 2000;
  // Chunks of customers, bounded once: each chunk's reads can then all be sent at once.
  const bounds = (
    await q.query<{ customer_id: bigint }>(
      `SELECT customer_id FROM (SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS n, count(*) OVER () AS total FROM cycle_candidates) x
        WHERE n % $1 = 0 OR n = total ORDER BY customer_id`,
      [chunk],
    )
  ).map((r) => r.customer_id);
  const read = (k: number) =>
    loadPlannerInput(q, orgId, today, { fromExclusive: k === 0 ? -1n : bounds[k - 1]!, toInclusive: bounds[k]! }, assignments, { fromCycleCandidates: true });
  const write = async (plan: DayPlan, invoiceIds: bigint[]) => {
    // Sent together: the schedule is saved as planned, then put right for the rare action that
    // collided with one already there (a rerun, a racing process): its invoices are looked at
    // again by the next run rather than scheduled past the step.
    // A formal notice (or a handover) that would claim interest at a rate not yet known waits for a human.
    const held = await heldForProvisionalRate(
      q,
      plan.actions.map((a, k) => ({ orgId, id: BigInt(k), customerId: a.customerId, template: a.template })),
      () => today,
      tables,
      claimsPenalties,
    );
    const reasons = new Map<string, string>();
    plan.actions.forEach((a, k) => {
      if (!held.has(`${orgId}/${k}`)) return;
      a.requiresApproval = true;
      reasons.set(a.dedupeKey, 'provisional_rate');
    });
    summary.heldForProvisionalRate += reasons.size;
    const writing = writePlan(q, orgId, org.timeZone, assignments, plan.actions, plan.skipped, summary.hold, today, summary.review, reasons);
    const scheduling = saveNextSteps(q, orgId, invoiceIds, plan.nextStepOn);
    const [written] = await Promise.all([writing, scheduling]);
    const collided = plan.actions.filter((a) => !written.createdKeys.has(a.dedupeKey)).flatMap((a) => a.invoices.map((i) => i.invoiceId));
    if (collided.length) await q.query('DELETE FROM invoice_schedule WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[])', [orgId, pgArray(collided)]);
    // The handover step comes after an unanswered formal notice: the case is escalated, and an
    // integrator may suspend the customer's service.
    for (const a of plan.actions) {
      if (a.tone !== 'handover' || !written.createdKeys.has(a.dedupeKey)) continue;
      const payload = { customerId: String(a.customerId), customer: a.customerName, invoices: a.invoices.map((i) => i.number), plannedOn: today };
      if (tell.escalated) await emitEvent(q, orgId, 'case.escalated', payload);
      if (tell.suspension) await emitEvent(q, orgId, 'customer.suspension_recommended', payload);
    }
    summary.invoicesHeldByGap += plan.held.length;
    summary.actionsCreated += written.created;
    summary.actionsAlreadyThere += plan.actions.length - written.created;
    summary.stepsSkipped += written.skipped;
    summary.awaitingApproval += plan.actions.filter((a) => (a.requiresApproval || summary.review) && written.createdKeys.has(a.dedupeKey)).length;
    opts.onChunk?.(
      plan.actions.filter((a) => written.createdKeys.has(a.dedupeKey)),
      plan.skipped,
    );
  };
  // A pipeline over one connection: while Node plans chunk k, the database writes chunk k-1 and
  // reads chunk k+1 (other customers: nothing written changes what is read). At most one chunk
  // is in each stage, so memory stays flat.
  let reading = bounds.length ? read(0) : null;
  const writing = new WritePipe();
  try {
    for (let k = 0; k < bounds.length; k++) {
      const input = await reading!;
      reading = k + 1 < bounds.length ? read(k + 1) : null;
      // Observed in the next turn; until then a failure must not count as unhandled.
      reading?.catch(() => {});
      const plan = planDay(today, input.customers, input.invoices, input.overdue);
      await writing.push(() =>
        write(
          plan,
          input.invoices.map((i) => i.invoiceId),
        ),
      );
    }
    await writing.drain();
  } finally {
    // Leaving on an error: what is in flight settles before the transaction gives its connection back.
    await Promise.allSettled([reading, writing.settle()]);
  }
  // A run that wrote a lot (catching up a whole ledger) leaves the planner's statistics far
  // behind; refreshed here, the next re-plans and screens use the customer indexes at once.
  if (summary.actionsCreated + summary.stepsSkipped > 10_000) await q.exec('ANALYZE invoices; ANALYZE actions; ANALYZE step_records; ANALYZE invoice_schedule');
  await q.query(
    'INSERT INTO cycle_runs (organisation_id, run_on, actions_created, steps_skipped, hold_reason) VALUES ($1,$2,$3,$4,$5)',
    [orgId, today, summary.actionsCreated, summary.stepsSkipped, summary.hold.reason],
  );
  return summary;
}


/** Records when each looked-at invoice next needs the planner (no row: at the next run). */
async function saveNextSteps(q: Queryable, orgId: string, invoiceIds: bigint[], next: Map<bigint, string>): Promise<void> {
  if (invoiceIds.length === 0) return;
  const ids: bigint[] = [];
  const days: string[] = [];
  const undated: bigint[] = [];
  for (const id of invoiceIds) {
    const d = next.get(id);
    if (d === undefined) undated.push(id);
    else {
      ids.push(id);
      days.push(d);
    }
  }
  if (ids.length) {
    await q.query(
      `INSERT INTO invoice_schedule (organisation_id, invoice_id, next_step_on)
       SELECT $1, x.id, x.d FROM unnest($2::bigint[], $3::date[]) AS x(id, d)
       ON CONFLICT (organisation_id, invoice_id) DO UPDATE SET next_step_on = EXCLUDED.next_step_on
        WHERE invoice_schedule.next_step_on <> EXCLUDED.next_step_on`,
      [orgId, pgArray(ids), pgArray(days)],
    );
  }
  if (undated.length) await q.query('DELETE FROM invoice_schedule WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[])', [orgId, pgArray(undated)]);
}

async function writePlan(
  q: Queryable,
  orgId: string,
  timeZone: string,
  assignments: Awaited<ReturnType<typeof loadAssignments>>,
  actions: PlannedAction[],
  skipped: SkippedStep[],
  hold: HoldStatus,
  today: CalendarDate,
  review: boolean,
  reasons: ReadonlyMap<string, string> = new Map(),
): Promise<{ created: number; createdKeys: Set<string>; skipped: number }> {
  const createdKeys = new Set<string>();
  // The steps an invoice passed over ride on its first record of the day: the planned one, or
  // else the one skipped for its own reason.
  const superseded = new Map<bigint, string[]>();
  for (const sk of skipped) {
    if (sk.reason !== 'superseded') continue;
    const list = superseded.get(sk.invoiceId);
    if (list) list.push(sk.stepKey);
    else superseded.set(sk.invoiceId, [sk.stepKey]);
  }
  const takeSuperseded = (invoiceId: bigint): string[] => {
    const list = superseded.get(invoiceId);
    if (!list) return [];
    superseded.delete(invoiceId);
    return list;
  };
  let skippedCount = 0;
  let insertedRead: Promise<{ dedupe_key: string }[]> = Promise.resolve([]);
  const supersededOf = new Map<string, number>();
  if (actions.length) {
    const sendAfter = new Map<bigint, string>();
    const windowOf = (scenarioId: bigint) => {
      let v = sendAfter.get(scenarioId);
      if (v === undefined) sendAfter.set(scenarioId, (v = windowStart(today, timeZone, assignments.scenarios.get(scenarioId)!.definition.options.window.start)));
      return v;
    };
    const col = { key: [] as string[], customer: [] as bigint[], channel: [] as string[], fallback: [] as (string | null)[], tone: [] as string[], template: [] as string[], offset: [] as number[], scenario: [] as bigint[], version: [] as number[], sendAfter: [] as string[], status: [] as string[], reason: [] as (string | null)[] };
    const item = { key: [] as string[], invoice: [] as bigint[], step: [] as string[], offset: [] as number[], sup: [] as string[] };
    for (const a of actions) {
      col.key.push(a.dedupeKey);
      col.customer.push(a.customerId);
      col.channel.push(a.channel);
      col.fallback.push(a.fallbackFrom);
      col.tone.push(a.tone);
      col.template.push(a.template);
      col.offset.push(a.stepOffset);
      col.scenario.push(a.scenarioId);
      col.version.push(a.scenarioVersion);
      col.sendAfter.push(windowOf(a.scenarioId));
      // In review mode every action waits for a human; "review" says that is the only reason.
      col.status.push(a.requiresApproval || review ? 'awaiting_approval' : 'queued');
      col.reason.push(reasons.get(a.dedupeKey) ?? (!a.requiresApproval && review ? REVIEW_REASON : null));
      let n = 0;
      for (const i of a.invoices) {
        const sup = takeSuperseded(i.invoiceId);
        n += sup.length;
        item.key.push(a.dedupeKey);
        item.invoice.push(i.invoiceId);
        item.step.push(i.stepKey);
        item.offset.push(i.stepOffset);
        item.sup.push(pgArray(sup));
      }
      supersededOf.set(a.dedupeKey, n);
    }
    // Actions that collide with an existing dedupe key (a rerun, a racing process) add nothing,
    // and neither do their step records: those are joined to the actions actually inserted.
    insertedRead = q.query<{ dedupe_key: string }>(
      `WITH a AS (
         INSERT INTO actions (organisation_id, dedupe_key, customer_id, channel, fallback_from, tone, template, step_offset,
                              scenario_id, scenario_version, planned_on, send_after, status, hold_reason, status_reason)
         SELECT $1, x.k, x.customer, x.channel, x.fallback, x.tone, x.template, x.off, x.scenario, x.version, $2, x.send_after, x.status, $3, x.reason
           FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::bigint[], $12::int[],
                       $13::timestamptz[], $14::text[], $20::text[])
                AS x(k, customer, channel, fallback, tone, template, off, scenario, version, send_after, status, reason)
         ON CONFLICT (organisation_id, dedupe_key) DO NOTHING
         RETURNING id, dedupe_key),
       s AS (
         INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, action_id, recorded_on, superseded)
         SELECT $1, y.invoice, y.step, y.off, 'planned', a.id, $2, y.sup::text[]
           FROM unnest($15::text[], $16::bigint[], $17::text[], $18::int[], $19::text[]) AS y(k, invoice, step, off, sup)
           JOIN a ON a.dedupe_key = y.k
         ON CONFLICT (organisation_id, invoice_id, step_key) DO UPDATE
           SET outcome = 'planned', action_id = EXCLUDED.action_id, recorded_on = EXCLUDED.recorded_on, reason = NULL,
               superseded = step_records.superseded || EXCLUDED.superseded
           WHERE step_records.outcome = 'cancelled')
       SELECT dedupe_key FROM a`,
      [
        orgId, today, hold.held ? hold.reason : null,
        pgArray(col.key), pgArray(col.customer), pgArray(col.channel), pgArray(col.fallback), pgArray(col.tone), pgArray(col.template),
        pgArray(col.offset), pgArray(col.scenario), pgArray(col.version), pgArray(col.sendAfter), pgArray(col.status),
        pgArray(item.key), pgArray(item.invoice), pgArray(item.step), pgArray(item.offset), pgArray(item.sup), pgArray(col.reason),
      ],
    );
  }
  // Steps skipped for their own reason (condition, no way to reach the customer) get a row each.
  const own = { invoice: [] as bigint[], step: [] as string[], offset: [] as number[], reason: [] as string[], sup: [] as string[] };
  let ownSuperseded = 0;
  for (const sk of skipped) {
    if (sk.reason === 'superseded') continue;
    const sup = takeSuperseded(sk.invoiceId);
    ownSuperseded += sup.length;
    own.invoice.push(sk.invoiceId);
    own.step.push(sk.stepKey);
    own.offset.push(sk.stepOffset);
    own.reason.push(sk.reason);
    own.sup.push(pgArray(sup));
  }
  // Both statements are sent before either answer is awaited.
  const ownRead = own.invoice.length
    ? q.query<{ n: bigint }>(
      `WITH s AS (
         INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, reason, recorded_on, superseded)
         SELECT $1, x.invoice, x.step, x.off, 'skipped', x.reason, $2, x.sup::text[]
           FROM unnest($3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[]) AS x(invoice, step, off, reason, sup)
         ON CONFLICT (organisation_id, invoice_id, step_key) DO UPDATE SET outcome = 'skipped', reason = EXCLUDED.reason, recorded_on = EXCLUDED.recorded_on,
           superseded = step_records.superseded || EXCLUDED.superseded
           WHERE step_records.outcome = 'cancelled'
         RETURNING 1)
       SELECT count(*) AS n FROM s`,
      [orgId, today, pgArray(own.invoice), pgArray(own.step), pgArray(own.offset), pgArray(own.reason), pgArray(own.sup)],
      )
    : null;
  const [inserted, ownRows] = await Promise.all([insertedRead, ownRead]);
  for (const r of inserted) {
    createdKeys.add(r.dedupe_key);
    skippedCount += supersededOf.get(r.dedupe_key) ?? 0;
  }
  if (ownRows) skippedCount += Number(ownRows[0]!.n) + ownSuperseded;
  return { created: createdKeys.size, createdKeys, skipped: skippedCount };
}

/** Promises whose date has passed: kept if paid, else broken (a task, and reminders resume). */
async function settlePromises(q: Queryable, orgId: string, today: CalendarDate, summary: CycleSummary): Promise<void> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT p.id, p.customer_id, p.promised_on, p.amount_minor, p.currency, p.open_at_promise_minor, p.pause_id,
            (SELECT coalesce(sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor), 0) FROM invoices i
              WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS open_now
       FROM promises p WHERE p.organisation_id = $1 AND p.status = 'open'`,
    [orgId],
  );
  for (const r of rows) {
    const state = promiseState(
      { promisedOn: r.promised_on as CalendarDate, amountMinor: r.amount_minor as bigint, openAtPromiseMinor: r.open_at_promise_minor as bigint },
      r.open_now as bigint,
      today,
    );
    if (state === 'open') continue;
    await closePromise(
      q,
      orgId,
      {
        id: r.id as bigint,
        customerId: r.customer_id as bigint,
        pauseId: r.pause_id as bigint,
        promisedOn: r.promised_on as CalendarDate,
        amountMinor: r.amount_minor as bigint,
        currency: String(r.currency),
        openNowMinor: r.open_now as bigint,
      },
      state,
      today,
    );
    if (state === 'broken') summary.promisesBroken++;
    else summary.promisesKept++;
  }
}

/** Payment plans: a missed instalment breaks the plan (task, reminders resume); paid off completes it. */
async function settlePaymentPlans(q: Queryable, orgId: string, today: CalendarDate, summary: CycleSummary): Promise<void> {
  const plans = await q.query<Record<string, unknown>>(
    `SELECT p.id, p.customer_id, p.currency, p.open_at_start_minor, p.grace_days, p.pause_id,
            (SELECT coalesce(sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor), 0) FROM invoices i
              WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS open_now
       FROM payment_plans p WHERE p.organisation_id = $1 AND p.status = 'active'`,
    [orgId],
  );
  for (const p of plans) {
    const instalments = (
      await q.query<Record<string, unknown>>('SELECT seq, due_date, amount_minor FROM payment_plan_instalments WHERE organisation_id = $1 AND plan_id = $2', [orgId, p.id])
    ).map((i) => ({ seq: Number(i.seq), dueDate: i.due_date as CalendarDate, amountMinor: i.amount_minor as bigint }));
    const openNow = p.open_now as bigint;
    const plan = { id: p.id as bigint, customerId: p.customer_id as bigint, pauseId: p.pause_id as bigint, currency: String(p.currency), openNowMinor: openNow };
    if (openNow <= 0n) {
      summary.plansCompleted++;
      await closePaymentPlan(q, orgId, plan, { state: 'completed' }, today);
      continue;
    }
    const missed = missedInstalment(instalments, (p.open_at_start_minor as bigint) - openNow, today, Number(p.grace_days));
    if (!missed) continue;
    summary.plansBroken++;
    await closePaymentPlan(q, orgId, plan, { state: 'broken', missed }, today);
  }
}

/**
 * Each instalment of an active payment plan is followed up on its own date: a courtesy reminder
 * three days before and a reminder the day after if it is still unpaid. Same rules as the
 * scenario steps: recorded per invoice and step (step_key "plan<id>#<seq>:<offset>:<channel>"),
 * never twice, only the latest due step after downtime. The plan's own pause does not stop
 * them; any other pause (a dispute) does.
 */
const INSTALMENT_STEPS = [
  { offset: -3, tone: 'courtesy' as const },
  { offset: 1, tone: 'reminder' as const },
];

async function planInstalmentReminders(
  q: Queryable,
  orgId: string,
  today: CalendarDate,
  timeZone: string,
  summary: CycleSummary,
  onChunk?: CycleOptions['onChunk'],
): Promise<void> {
  const plans = await q.query<Record<string, unknown>>(
    `SELECT p.id, p.customer_id, p.invoice_ids, p.currency, p.open_at_start_minor, c.legal_name,
            (SELECT coalesce(sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor), 0) FROM invoices i
              WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS open_now,
            EXISTS (SELECT 1 FROM contacts ct WHERE ct.organisation_id = p.organisation_id AND ct.customer_id = p.customer_id AND coalesce(ct.email, '') <> '') AS has_email,
            EXISTS (SELECT 1 FROM contacts ct WHERE ct.organisation_id = p.organisation_id AND ct.customer_id = p.customer_id AND coalesce(ct.phone, '') <> '') AS has_phone,
            -- another pause (a dispute) over one of the plan's invoices stops its reminders
            EXISTS (SELECT 1 FROM pauses ps WHERE ps.organisation_id = p.organisation_id AND ps.customer_id = p.customer_id
                      AND ps.reason <> 'payment_plan' AND ${ACTIVE_PAUSE('ps', '$2::date')}
                      AND (ps.invoice_ids IS NULL OR ps.invoice_ids && p.invoice_ids)) AS otherwise_paused
       FROM payment_plans p JOIN customers c ON c.organisation_id = p.organisation_id AND c.id = p.customer_id
      WHERE p.organisation_id = $1 AND p.status = 'active'`,
    [orgId, today],
  );
  if (plans.length === 0) return;
  const scenario = await defaultScenario(q, orgId);
  const def = scenario!.definition;
  const calendar = workingDays(def.options.holidayCalendar);
  for (const p of plans) {
    if (p.otherwise_paused || (!p.has_email && !p.has_phone)) continue;
    const planId = p.id as bigint;
    const instalments = await q.query<{ seq: number; due_date: CalendarDate; amount_minor: bigint }>(
      'SELECT seq, due_date, amount_minor FROM payment_plan_instalments WHERE organisation_id = $1 AND plan_id = $2 ORDER BY seq',
      [orgId, planId],
    );
    const paid = (p.open_at_start_minor as bigint) - (p.open_now as bigint);
    let cumulative = 0n;
    const next = instalments.find((i) => (cumulative += i.amount_minor) > paid);
    if (!next) continue;
    const channel = p.has_email ? 'email' : 'sms';
    const keyOf = (offset: number) => instalmentStepKey(planId, next.seq, offset, channel);
    const invoiceIds = (p.invoice_ids as (bigint | string)[]).map((x) => BigInt(x));
    const recorded = new Set(
      (
        await q.query<{ step_key: string }>(
          `SELECT DISTINCT step_key FROM step_records WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[]) AND step_key = ANY($3::text[])`,
          [orgId, pgArray(invoiceIds), pgArray(INSTALMENT_STEPS.map((st) => keyOf(st.offset)))],
        )
      ).map((r) => r.step_key),
    );
    const due = INSTALMENT_STEPS.filter((st) => calendar.nextWorkingDay(addDays(next.due_date, st.offset)) <= today);
    const top = due.at(-1);
    if (!top || INSTALMENT_STEPS.some((st) => st.offset >= top.offset && recorded.has(keyOf(st.offset)))) continue;
    const superseded = due.filter((st) => st.offset < top.offset && !recorded.has(keyOf(st.offset))).map((st) => keyOf(st.offset));
    const dedupeKey = `${today}:p${planId}#${next.seq}:${channel}`;
    const open = await q.query<{ id: bigint; number: string; open_minor: bigint }>(
      `SELECT id, number, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor FROM invoices
        WHERE organisation_id = $1 AND id = ANY($2::bigint[]) AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY id`,
      [orgId, pgArray(invoiceIds)],
    );
    if (open.length === 0) continue;
    const [action] = await q.query<{ id: bigint }>(
      `INSERT INTO actions (organisation_id, dedupe_key, customer_id, channel, tone, template, step_offset, scenario_id, scenario_version,
                            planned_on, send_after, status, hold_reason, payment_plan_id, instalment_seq, status_reason)
       VALUES ($1,$2,$3,$4,$5,'instalment',$6,$7,$8,$9,$10,$14,$11,$12,$13,$15)
       ON CONFLICT (organisation_id, dedupe_key) DO NOTHING RETURNING id`,
      [
        orgId, dedupeKey, p.customer_id, channel, top.tone, top.offset, scenario!.id, scenario!.version, today,
        windowStart(today, timeZone, def.options.window.start), summary.hold.held ? summary.hold.reason : null, planId, next.seq,
        summary.review ? 'awaiting_approval' : 'queued', summary.review ? REVIEW_REASON : null,
      ],
    );
    if (!action) continue;
    for (const [k, inv] of open.entries()) {
      await q.query(
        `INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, action_id, recorded_on, superseded)
         VALUES ($1,$2,$3,$4,'planned',$5,$6,$7::text[]) ON CONFLICT DO NOTHING`,
        [orgId, inv.id, keyOf(top.offset), top.offset, action.id, today, k === 0 ? pgArray(superseded) : '{}'],
      );
    }
    summary.actionsCreated++;
    summary.instalmentReminders++;
    summary.stepsSkipped += superseded.length;
    onChunk?.(
      [
        {
          dedupeKey,
          customerId: p.customer_id as bigint,
          customerName: String(p.legal_name),
          channel,
          fallbackFrom: null,
          tone: top.tone,
          template: 'instalment',
          stepOffset: top.offset,
          requiresApproval: false,
          scenarioId: scenario!.id,
          scenarioVersion: scenario!.version,
          plannedOn: today,
          invoices: open.map((i) => ({ invoiceId: i.id, number: i.number, stepOffset: top.offset, stepKey: keyOf(top.offset), tone: top.tone, firstContact: false, openMinor: i.open_minor, currency: String(p.currency) })),
        },
      ],
      [],
    );
  }
}
