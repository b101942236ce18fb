/**
 * Child process of the engine bench (its own peak memory):
 *   load  <url> <schema> <customers> <invoices>   -> a ledger of open invoices (no payments)
 *   cycle <url> <schema>                           -> baseline INSERT…SELECT, cycle, next-day cycle, re-plan p95
 */
import { openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { addDays, type CalendarDate } from '../src/domain/dates.ts';
import { workingDays } from '../src/domain/engine/holidays.ts';
import { requiresApproval, TONES } from '../src/domain/engine/scenario.ts';
import { windowStart } from '../src/domain/engine/window.ts';
import { pgArray } from '../src/db/driver.ts';
import { DEMO_ORGANISATION, generateLedger } from '../src/demo/generate.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { ensureBuiltinScenarios, loadAssignments } from '../src/engine/scenarios.ts';
import { replanCustomer } from '../src/engine/events.ts';
import { emptyCounts, loadBatches } from '../src/ledger/bulk.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { percentile } from './harness.ts';

const [mode, url, schema, customersArg, invoicesArg] = process.argv.slice(2) as [string, string, string, string?, string?];
const today = '2026-11-22' as CalendarDate;
const db = await openPostgres(url, { searchPath: schema, max: 2 });
const sec = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
let out: Record<string, unknown> = {};

if (mode === 'load') {
  await migrate(db);
  const batches = (function* () {
    // The demo generator's invoices over 18 months, all still open: the worst case for the cycle.
    for (const b of generateLedger({ customers: Number(customersArg), invoices: Number(invoicesArg), seed: 'engine', today, months: 6 })) {
      yield { ...b, payments: [], allocations: [] };
    }
  })();
  const org = await db.tx(async (q) => {
    const o = await createOrganisation(q, { ...DEMO_ORGANISATION, live: true });
    await loadBatches(q, o.id, batches, emptyCounts());
    return o.id;
  });
  await db.query('ANALYZE');
  out = { org };
} else {
  const [{ id: org }] = (await db.query<{ id: string }>('SELECT id FROM organisations LIMIT 1')) as [{ id: string }];
  // Baseline: one hand-written INSERT … SELECT that computes the same due set as the cycle and
  // materialises it the way the issue asks (the actions under their unique keys, each invoice's
  // step recorded with the steps it passed over), into the same tables, then rolled back. It
  // knows only what this ledger needs (scenarios by tag or default, no history, no pause, kind
  // conditions only): the generality is the engine's. Its counts are checked against the cycle's.
  await db.tx((q) => ensureBuiltinScenarios(q, org));
  const assignments = await db.tx((q) => loadAssignments(q, org));
  const [{ tz }] = (await db.query<{ tz: string }>('SELECT time_zone AS tz FROM organisations WHERE id = $1', [org])) as [{ tz: string }];
  const [{ lo }] = (await db.query<{ lo: CalendarDate }>('SELECT min(due_date) AS lo FROM invoices WHERE organisation_id = $1', [org])) as [{ lo: CalendarDate }];
  const scenarios = [...assignments.scenarios.values()];
  const calendars = new Set(scenarios.map((x) => `${x.definition.options.workingDaysOnly}:${x.definition.options.holidayCalendar}`));
  if (calendars.size !== 1) throw new Error('the baseline handles one working-day calendar shared by all scenarios');
  const options = scenarios[0]!.definition.options;
  const cal = workingDays(options.holidayCalendar);
  const days: CalendarDate[] = [];
  for (let x = addDays(lo, -60); x <= today; x = addDays(x, 1)) days.push(x);
  const steps = scenarios.flatMap((x) => x.definition.steps.map((st) => ({ ...st, scenario: x })));
  const full = await db.tx(async (q) => {
    // The CTEs are estimated at one row each: without this the planner joins the million step rows
    // to the inserted actions by nested loop. Someone writing this statement by hand would say so.
    await q.exec('SET LOCAL enable_nestloop = off');
    // And the memory to sort its million rows without spilling to disk (the cycle gets no such help).
    await q.exec("SET LOCAL work_mem = '512MB'");
    const t = process.hrtime.bigint();
    const [r] = await q.query<{ actions: bigint; records: bigint }>(
      `WITH cal AS (SELECT * FROM unnest($3::date[], $4::date[]) AS c(day, working_day)),
       steps AS (SELECT * FROM unnest($5::bigint[], $6::int[], $7::timestamptz[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bool[], $14::int[], $15::text[])
                   AS s(scenario_id, scenario_version, send_after, off, channel, fallback, tone, template, approval, tone_rank, kind)),
       rules AS (SELECT * FROM unnest($16::text[], $17::bigint[], $18::int[]) AS r(tag, scenario_id, priority)),
       reach AS (
         SELECT c.id AS customer_id, c.kind,
                coalesce((SELECT r.scenario_id FROM rules r WHERE r.tag = ANY(c.tags) OR r.tag = c.segment ORDER BY r.priority LIMIT 1), $19) AS scenario_id,
                coalesce(bool_or(ct.email <> '' AND NOT EXISTS (SELECT 1 FROM contact_address_status x WHERE x.organisation_id = ct.organisation_id
                     AND x.contact_id = ct.id AND x.kind = 'email' AND x.value = ct.email)), false) AS email,
                coalesce(bool_or(ct.phone <> '' AND NOT EXISTS (SELECT 1 FROM contact_address_status x WHERE x.organisation_id = ct.organisation_id
                     AND x.contact_id = ct.id AND x.kind = 'phone' AND x.value = ct.phone)), false) AS phone,
                coalesce(bool_or(ct.address_line1 IS NOT NULL AND ct.postal_code IS NOT NULL), false) AS postal
           FROM customers c
           LEFT JOIN contacts ct ON ct.organisation_id = c.organisation_id AND ct.customer_id = c.id
                AND (ct.receives_reminders OR NOT EXISTS (SELECT 1 FROM contacts y WHERE y.organisation_id = c.organisation_id AND y.customer_id = c.id AND y.receives_reminders))
          WHERE c.organisation_id = $1 GROUP BY c.organisation_id, c.id),
       due AS (
         SELECT i.id AS invoice_id, i.customer_id, r.kind AS customer_kind, r.email, r.phone, r.postal, s.*,
                s.off || ':' || s.channel AS key, max(s.off) OVER (PARTITION BY i.id) AS top
           FROM invoices i JOIN reach r ON r.customer_id = i.customer_id
           JOIN steps s ON s.scenario_id = r.scenario_id
           JOIN cal ON cal.day = i.due_date + s.off
          WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor AND cal.working_day <= $2),
       passed AS (SELECT invoice_id, array_agg(key ORDER BY off) AS keys FROM due WHERE off < top GROUP BY invoice_id),
       reachable AS (
         SELECT d.*, d.kind IS NULL OR d.kind = d.customer_kind AS condition_met,
                CASE d.channel WHEN 'email' THEN d.email WHEN 'sms' THEN d.phone WHEN 'call_task' THEN d.phone
                  WHEN 'letter' THEN d.postal WHEN 'registered_letter' THEN d.postal ELSE true END AS direct,
                CASE d.fallback WHEN 'email' THEN d.email WHEN 'sms' THEN d.phone WHEN 'call_task' THEN d.phone
                  WHEN 'letter' THEN d.postal WHEN 'registered_letter' THEN d.postal WHEN 'manual_task' THEN true ELSE false END AS via_fallback
           FROM due d WHERE d.off = d.top),
       chosen AS (
         SELECT r.*, CASE WHEN NOT r.condition_met THEN NULL WHEN r.direct THEN r.channel WHEN r.via_fallback THEN r.fallback END AS sent_channel,
                CASE WHEN r.condition_met AND NOT r.direct AND r.via_fallback THEN r.channel END AS fallback_from,
                row_number() OVER (PARTITION BY r.invoice_id ORDER BY r.channel) AS nth
           FROM reachable r),
       acts AS (
         INSERT INTO actions (organisation_id, dedupe_key, customer_id, channel, fallback_from, tone, template, step_offset,
                              scenario_id, scenario_version, planned_on, send_after, status)
         SELECT $1, $2 || ':c' || customer_id || ':' || sent_channel, customer_id, sent_channel, min(fallback_from),
                (array_agg(tone ORDER BY tone_rank DESC, off DESC))[1], (array_agg(template ORDER BY tone_rank DESC, off DESC))[1],
                (array_agg(off ORDER BY tone_rank DESC, off DESC))[1], min(scenario_id), min(scenario_version), $2, min(send_after),
                CASE WHEN bool_or(approval) THEN 'awaiting_approval' ELSE 'queued' END
           FROM chosen WHERE sent_channel IS NOT NULL GROUP BY customer_id, sent_channel
         ON CONFLICT (organisation_id, dedupe_key) DO NOTHING
         RETURNING id, customer_id, channel),
       recs AS (
         INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, reason, action_id, recorded_on, superseded)
         SELECT $1, c.invoice_id, c.key, c.off, CASE WHEN a.id IS NULL THEN 'skipped' ELSE 'planned' END,
                CASE WHEN a.id IS NOT NULL THEN NULL WHEN c.condition_met THEN 'no_contact_channel' ELSE 'condition_not_met' END, a.id, $2,
                CASE WHEN c.nth = 1 THEN coalesce(p.keys, '{}') ELSE '{}' END
           FROM chosen c LEFT JOIN acts a ON a.customer_id = c.customer_id AND a.channel = c.sent_channel
           LEFT JOIN passed p ON p.invoice_id = c.invoice_id
         ON CONFLICT (organisation_id, invoice_id, step_key) DO NOTHING
         RETURNING 1)
       SELECT (SELECT count(*) FROM acts) AS actions, (SELECT count(*) FROM recs) AS records`,
      [
        org, today, pgArray(days), pgArray(days.map((x) => (options.workingDaysOnly ? cal.nextWorkingDay(x) : x))),
        pgArray(steps.map((st) => st.scenario.id)), pgArray(steps.map((st) => st.scenario.version)),
        pgArray(steps.map((st) => windowStart(today, tz, st.scenario.definition.options.window.start))),
        pgArray(steps.map((st) => st.offset)), pgArray(steps.map((st) => st.channel)), pgArray(steps.map((st) => st.fallbackChannel ?? null)),
        pgArray(steps.map((st) => st.tone)), pgArray(steps.map((st) => st.template)), pgArray(steps.map((st) => String(requiresApproval(st)))),
        pgArray(steps.map((st) => TONES.indexOf(st.tone))), pgArray(steps.map((st) => st.conditions?.customerKind ?? null)),
        pgArray(assignments.byTag.map((x) => x.tag)), pgArray(assignments.byTag.map((x) => x.scenarioId)), pgArray(assignments.byTag.map((x) => x.priority)),
        assignments.defaultId,
      ],
    );
    const seconds = sec(t);
    throw Object.assign(new Error('rollback'), { result: { seconds, actions: Number(r!.actions), records: Number(r!.records) } });
  }).catch((e: Error & { result?: { seconds: number; actions: number; records: number } }) => {
    if (!e.result) throw e;
    return e.result;
  });
  // The rolled-back rows leave dead entries behind: cleaned so the cycle starts on the same tables.
  await db.exec('VACUUM actions');
  await db.exec('VACUUM step_records');
  // The floor: only the due step of each invoice, computed and written to a scratch table.
  const offsets = steps.map((st) => st.offset);
  await db.query('CREATE TABLE bench_due (invoice_id bigint, step_offset int)');
  let t0 = process.hrtime.bigint();
  const base = await db.query<{ n: bigint }>(
    `WITH ins AS (
       INSERT INTO bench_due
       SELECT i.id, (SELECT max(o) FROM unnest($3::int[]) o WHERE i.due_date + o <= $2::date)
         FROM invoices i
        WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
          AND i.due_date + (SELECT min(o) FROM unnest($3::int[]) o) <= $2::date
       RETURNING 1)
     SELECT count(*) AS n FROM ins`,
    [org, today, `{${offsets.join(',')}}`],
  );
  const floorSeconds = sec(t0);
  t0 = process.hrtime.bigint();
  const first = await runCycle(db, org, { today });
  const firstSeconds = sec(t0);
  const [{ n: firstRecords }] = (await db.query<{ n: bigint }>('SELECT count(*) AS n FROM step_records WHERE organisation_id = $1', [org])) as [{ n: bigint }];
  t0 = process.hrtime.bigint();
  const next = await runCycle(db, org, { today: addDays(today, 1) });
  const nextSeconds = sec(t0);
  // Re-plan one customer after a payment: p95 over customers with pending actions.
  const ids = (
    await db.query<{ customer_id: bigint }>(
      `SELECT DISTINCT customer_id FROM actions WHERE organisation_id = $1 AND status IN ('queued', 'awaiting_approval') LIMIT 400`,
      [org],
    )
  ).map((r) => r.customer_id);
  const times: number[] = [];
  for (const [k, id] of ids.entries()) {
    const t = process.hrtime.bigint();
    await db.tx((q) => replanCustomer(q, org, id, addDays(today, 1)));
    if (k >= 20) times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  out = {
    baselineSeconds: full.seconds,
    baselineActions: full.actions,
    baselineRecords: full.records,
    floorSeconds,
    floorRows: Number(base[0]!.n),
    firstRecords: Number(firstRecords),
    firstSeconds,
    firstActions: first.actionsCreated,
    firstSkipped: first.stepsSkipped,
    nextSeconds,
    nextActions: next.actionsCreated,
    replanP95: times.length ? percentile(times, 95) : null,
  };
}
await db.close();
process.stdout.write(`${JSON.stringify({ ...out, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
