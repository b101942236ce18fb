/**
 * Child process of the engine bench (its own peak memory):
 *   load  <url> <schema> <customers> <invoices>   -> a ledger of open invoices (no payments)
 *   cycle <url> <schema>                           -> baseline INSERT…SELECT, cycle, next-day cycle, re-plan p95
 */
import { openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { addDays, type CalendarDate } from '../src/domain/dates.ts';
import { BUILTIN_SCENARIOS } from '../src/domain/engine/scenario.ts';
import { DEMO_ORGANISATION, generateLedger } from '../src/demo/generate.ts';
import { runCycle } from '../src/engine/cycle.ts';
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
    const o = await createOrganisation(q, DEMO_ORGANISATION);
    await loadBatches(q, o.id, batches, emptyCounts());
    return o.id;
  });
  await db.query('ANALYZE');
  out = { org };
} else {
  const [{ id: org }] = (await db.query<{ id: string }>('SELECT id FROM organisations LIMIT 1')) as [{ id: string }];
  // Baseline: one hand-written INSERT … SELECT computing the same due set: for every open invoice,
  // the most advanced step of the default scenario whose date has come (no calendar, no grouping).
  const offsets = BUILTIN_SCENARIOS['standard-b2b']!.definition.steps.map((s) => s.offset);
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
  const baselineSeconds = sec(t0);
  t0 = process.hrtime.bigint();
  const first = await runCycle(db, org, { today });
  const firstSeconds = sec(t0);
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
    baselineSeconds,
    baselineRows: Number(base[0]!.n),
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
