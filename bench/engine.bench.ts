/**
 * npm run bench engine — the daily cycle over open invoices on PostgreSQL, beside one hand-written
 * INSERT … SELECT computing the same due set; memory at two sizes; re-plan of one customer, p95.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import type { BenchContext } from './harness.ts';

const exec = promisify(execFile);
const child = async (args: string[]) => {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'bench/engine-child.ts', ...args], { maxBuffer: 1 << 24, timeout: 20 * 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
};

async function measure(url: string, customers: number, invoices: number) {
  const schema = `bench_engine_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  try {
    await child(['load', url, schema, String(customers), String(invoices)]);
    return await child(['cycle', url, schema]);
  } finally {
    await c.query(`DROP SCHEMA ${schema} CASCADE`);
    await c.end();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const big = ctx.quick ? { customers: 10_000, invoices: 100_000 } : { customers: 100_000, invoices: 1_000_000 };
  const small = { customers: big.customers / 10, invoices: big.invoices / 10 };
  const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
  const s = await measure(ctx.databaseUrl, small.customers, small.invoices);
  const b = await measure(ctx.databaseUrl, big.customers, big.invoices);
  // The baseline computes the same due set only if it finds the same actions and step records.
  const same = b.baselineActions === b.firstActions && b.baselineRecords === b.firstRecords;
  ctx.report({
    figure: `daily cycle, first run over ${label(big.invoices)} open invoices / ${label(big.customers)} customers (${b.firstActions} actions, ${b.firstRecords} step records, ${b.firstSkipped} steps skipped)`,
    value: round(b.firstSeconds),
    unit: 's',
    baseline: round(b.baselineSeconds),
    target: ctx.quick ? '<= 3x baseline' : '< 60 s and <= 3x baseline',
    met: same && (ctx.quick || b.firstSeconds < 60) && b.firstSeconds <= 3 * b.baselineSeconds,
    note: `baseline: one INSERT…SELECT writing the same due set into actions and step_records (${b.baselineActions} actions, ${b.baselineRecords} records${same ? ', the same as the cycle' : ', NOT the same as the cycle'}), rolled back`,
  });
  ctx.report({
    figure: 'daily cycle, first run, beside the due step of each invoice alone',
    value: round(b.firstSeconds),
    unit: 's',
    baseline: round(b.floorSeconds),
    target: null,
    met: null,
    note: `floor: one INSERT…SELECT of each open invoice's most advanced step into a scratch table (${b.floorRows} rows), no calendar, no grouping, no actions`,
  });
  ctx.report({ figure: `daily cycle, next day (${b.nextActions} new actions)`, value: round(b.nextSeconds), unit: 's', baseline: round(b.baselineSeconds), target: null, met: null });
  ctx.report({ figure: `cycle peak RSS at ${label(big.invoices)} invoices (vs ${label(small.invoices)} as baseline)`, value: Math.round(b.peakRssMb), unit: 'MB', baseline: Math.round(s.peakRssMb), target: 'flat (<= 1.5x)', met: b.peakRssMb <= 1.5 * s.peakRssMb });
  ctx.report({ figure: 're-plan of one customer after a payment, p95', value: round(b.replanP95), unit: 'ms', baseline: null, target: '< 10 ms', met: b.replanP95 < 10 });
}

const round = (n: number) => Math.round(n * 1000) / 1000;
