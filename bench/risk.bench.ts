/**
 * npm run bench risk — issue 22:
 * 1. the cash-in forecast's back-test error on the demo (WAPE over 6 origins × 13 weeks) beside
 *    the naive forecast by due dates (target: lower);
 * 2. computing and keeping every customer's behaviour and risk score (refreshRisk) over 100,000
 *    customers and 1,000,000 invoices on PostgreSQL (target: under 30 s), beside one SQL aggregate
 *    of the same history (amount-weighted days late per customer).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { DEMO_ORGANISATION, generateLedger } from '../src/demo/generate.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { loadNewOrganisation } from '../src/ledger/parallel-load.ts';
import { refreshRisk } from '../src/risk/behaviour.ts';
import { cashInForecast } from '../src/risk/forecast.ts';
import type { BenchContext } from './harness.ts';

const TODAY = '2026-11-22' as CalendarDate;

async function forecastOnDemo(ctx: BenchContext) {
  const db = await openPglite();
  try {
    await migrate(db);
    const { organisation } = await seedDemo(db, { today: TODAY });
    const f = await cashInForecast(db, organisation.id, TODAY);
    const wape = Math.round(f.backtest.wape! * 1000) / 10;
    const naive = Math.round(f.backtest.naiveWape! * 1000) / 10;
    ctx.report({
      figure: `cash-in forecast back-test error on the demo (WAPE, ${f.backtest.origins.length} origins × 13 weeks)`,
      value: wape,
      unit: '%',
      baseline: naive,
      target: '< naive forecast (due dates only)',
      met: wape < naive,
      note: 'baseline: every open amount on its due date',
    });
  } finally {
    await db.close();
  }
}

async function riskAtScale(ctx: BenchContext) {
  const size = ctx.quick ? { customers: 10_000, invoices: 100_000 } : { customers: 100_000, invoices: 1_000_000 };
  const schema = `bench_risk_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ctx.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = await openPostgres(ctx.databaseUrl, { searchPath: schema, max: 3 });
  try {
    await migrate(db);
    const { organisation } = await loadNewOrganisation(db, DEMO_ORGANISATION, generateLedger({ ...size, seed: 'bench-risk', today: TODAY, batchCustomers: 1000 }), { parallel: 2 });
    await db.query('ANALYZE');
    const orgId = organisation.id;
    const t0 = process.hrtime.bigint();
    const [base] = await db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM (
         SELECT i.customer_id, sum(i.amount_incl_tax_minor::numeric * greatest(0, p.paid_on - i.due_date)) / nullif(sum(i.amount_incl_tax_minor), 0) AS days_late
           FROM invoices i JOIN (SELECT invoice_id, max(allocated_on) AS paid_on FROM allocations WHERE organisation_id = $1 GROUP BY invoice_id) p ON p.invoice_id = i.id
          WHERE i.organisation_id = $1 GROUP BY i.customer_id) x`,
      [orgId],
    );
    const baseline = Number(process.hrtime.bigint() - t0) / 1e9;
    const t1 = process.hrtime.bigint();
    const n = await db.tx((q) => refreshRisk(q, orgId, TODAY));
    const seconds = Number(process.hrtime.bigint() - t1) / 1e9;
    const [kept] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM customer_risk WHERE organisation_id = $1', [orgId]);
    const label = (x: number) => (x >= 1_000_000 ? `${x / 1_000_000}M` : `${x / 1000}k`);
    ctx.report({
      figure: `risk of every customer computed and kept, ${label(size.customers)} customers / ${label(size.invoices)} invoices, PostgreSQL (${n} scored, ${kept!.n} kept; baseline aggregate: ${base!.n} customers)`,
      value: Math.round(seconds * 100) / 100,
      unit: 's',
      baseline: Math.round(baseline * 100) / 100,
      target: ctx.quick ? null : '< 30 s',
      met: ctx.quick ? null : seconds < 30,
      note: 'baseline: one SQL aggregate of the same history (weighted days late per customer)',
    });
  } finally {
    await db.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  await forecastOnDemo(ctx);
  await riskAtScale(ctx);
}
