/**
 * npm run bench ledger — issue "Foundation", performance section:
 * - load 100,000 customers / 1,000,000 invoices (with payments and allocations) into PostgreSQL,
 *   beside a plain COPY of the same rows (the floor);
 * - balance and open items of one customer at that size, p95;
 * - the loader's peak memory at 100k and 1M invoices (flat: it streams batches);
 * - the same on PGlite at 100,000 invoices.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { openPostgres } from '../src/db/driver.ts';
import type { BenchContext } from './harness.ts';
import { balanceP95 } from './ledger-queries.ts';

const exec = promisify(execFile);

async function child(args: string[]): Promise<any> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'bench/ledger-load.ts', ...args], { maxBuffer: 1 << 24, timeout: 15 * 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

async function withSchema<T>(url: string, fn: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  try {
    return await fn(schema);
  } finally {
    await c.query(`DROP SCHEMA ${schema} CASCADE`);
    await c.end();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const big = ctx.quick ? { customers: 10_000, invoices: 100_000 } : { customers: 100_000, invoices: 1_000_000 };
  const small = ctx.quick ? { customers: 1_000, invoices: 10_000 } : { customers: 10_000, invoices: 100_000 };
  const url = ctx.databaseUrl;
  const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

  // PostgreSQL, small then big: memory must not grow with the size.
  const smallRun = await withSchema(url, (schema) => child(['loader', 'postgres', String(small.customers), String(small.invoices), url, schema]));
  const copySmall = await withSchema(url, (schema) => child(['copy', 'postgres', String(small.customers), String(small.invoices), url, schema]));
  let p95 = 0;
  let bigRun: any;
  const copyBig = await withSchema(url, (schema) => child(['copy', 'postgres', String(big.customers), String(big.invoices), url, schema]));
  await withSchema(url, async (schema) => {
    bigRun = await child(['loader', 'postgres', String(big.customers), String(big.invoices), url, schema]);
    const db = await openPostgres(url, { searchPath: schema, max: 1 });
    await db.query('ANALYZE');
    p95 = await balanceP95(db, bigRun.org, 1000);
    await db.close();
  });

  ctx.report({
    figure: `PostgreSQL: load ${label(big.customers)} customers / ${label(big.invoices)} invoices (${bigRun.counts.payments} payments, ${bigRun.counts.allocations} allocations)`,
    value: round(bigRun.seconds),
    unit: 's',
    baseline: round(copyBig.seconds),
    target: ctx.quick ? null : '< 60 s',
    met: ctx.quick ? null : bigRun.seconds < 60,
    note: 'baseline: COPY of the same rows into bare tables',
  });
  ctx.report({
    figure: `PostgreSQL: load ${label(small.customers)} customers / ${label(small.invoices)} invoices`,
    value: round(smallRun.seconds),
    unit: 's',
    baseline: round(copySmall.seconds),
    target: null,
    met: null,
  });
  ctx.report({
    figure: `PostgreSQL: balance + open items of one customer at ${label(big.invoices)} invoices, p95`,
    value: round(p95),
    unit: 'ms',
    baseline: null,
    target: '< 5 ms',
    met: p95 < 5,
  });
  ctx.report({
    figure: `loader peak RSS at ${label(big.invoices)} invoices (vs ${label(small.invoices)} as baseline)`,
    value: Math.round(bigRun.peakRssMb),
    unit: 'MB',
    baseline: Math.round(smallRun.peakRssMb),
    target: 'flat (<= 1.5x)',
    met: bigRun.peakRssMb <= 1.5 * smallRun.peakRssMb,
  });

  // PGlite at 100k invoices.
  const lite = await child(['loader', 'pglite', String(small.customers), String(small.invoices), url, '-']);
  ctx.report({
    figure: `PGlite: load ${label(small.customers)} customers / ${label(small.invoices)} invoices`,
    value: round(lite.seconds),
    unit: 's',
    baseline: round(copySmall.seconds),
    target: null,
    met: null,
    note: 'baseline: PostgreSQL COPY of the same rows',
  });
  ctx.report({ figure: `PGlite: balance + open items of one customer at ${label(small.invoices)} invoices, p95`, value: round(lite.p95), unit: 'ms', baseline: null, target: '< 5 ms', met: lite.p95 < 5 });
  ctx.report({ figure: `PGlite: loader peak RSS at ${label(small.invoices)} invoices`, value: Math.round(lite.peakRssMb), unit: 'MB', baseline: null, target: null, met: null });
}

const round = (n: number) => Math.round(n * 1000) / 1000;
