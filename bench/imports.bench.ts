/**
 * npm run bench imports — issue "Getting invoices in and events out", performance section:
 * - a CSV of 1,000,000 invoices and a FEC of 1,000,000 lines imported into PostgreSQL: time and
 *   peak memory, beside parsing the same file with csv-parse alone (the floor); target 3x;
 * - the API: invoice creation throughput and p95 latency under a local load generator (bounded
 *   concurrency, keep-alive, 127.0.0.1), beside a bare hello-world route on the same server stack.
 * Each measurement runs in its own process so peak memory (maxRSS) is its own.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { BenchContext } from './harness.ts';
import { percentile } from './harness.ts';

const exec = promisify(execFile);
const SELF = new URL(import.meta.url).pathname;

async function child(args: string[]): Promise<any> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', SELF, 'child', ...args], { maxBuffer: 1 << 24, timeout: 30 * 60_000 });
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

/** CHECKPOINT (the bench connects as a role allowed to), then a moment for the disk to catch up. */
async function settle(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } catch {
    // Not allowed for this role: measure as it is.
  } finally {
    await c.end();
  }
  await new Promise((r) => setTimeout(r, 2000));
}

// ------------------------------------------------------------------ files

export async function write(path: string, lines: Iterable<string>, encoding: BufferEncoding = 'utf8') {
  const out = createWriteStream(path, { encoding });
  let buf = '';
  for (const l of lines) {
    buf += `${l}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** Day i of an 18-month cycle, plus `later` days (a due date, a payment date). */
const day = (i: number, later = 0) => {
  const d = new Date(Date.UTC(2025, 0, 1) + ((i % 540) + later) * 86_400_000);
  return { iso: d.toISOString().slice(0, 10), fr: `${pad(d.getUTCDate(), 2)}/${pad(d.getUTCMonth() + 1, 2)}/${d.getUTCFullYear()}`, fec: d.toISOString().slice(0, 10).replace(/-/g, '') };
};
const euros = (cents: number) => `${Math.floor(cents / 100)},${pad(cents % 100, 2)}`;

export function* csvInvoices(n: number) {
  yield "N° facture;Code client;Client;SIREN;Date;Date d'échéance;Montant HT;Montant TTC";
  const customers = Math.max(1, Math.floor(n / 10));
  for (let i = 0; i < n; i++) {
    const c = i % customers;
    const d = day(i);
    const due = day(i, 30);
    const ht = 10_000 + ((i * 7919) % 500_000);
    yield `FA-${pad(i, 7)};C${pad(c, 6)};Client ${c} SARL;;${d.fr};${due.fr};${euros(ht)};${euros(ht + Math.floor(ht / 5))}`;
  }
}

/** A FEC of about n lines: sales entries (3 lines) and, for 2 invoices in 3, a lettered bank entry (2 lines). */
export function* fecLines(n: number) {
  yield ['JournalCode', 'JournalLib', 'EcritureNum', 'EcritureDate', 'CompteNum', 'CompteLib', 'CompAuxNum', 'CompAuxLib', 'PieceRef', 'PieceDate', 'EcritureLib', 'Debit', 'Credit', 'EcritureLet', 'DateLet', 'ValidDate', 'Montantdevise', 'Idevise'].join('\t');
  const customers = Math.max(1, Math.floor(n / 40));
  let lines = 0;
  let letter = 0;
  const letters = (k: number) => {
    let s = '';
    do {
      s = String.fromCharCode(65 + (k % 26)) + s;
      k = Math.floor(k / 26);
    } while (k > 0);
    return s.padStart(3, 'A');
  };
  for (let i = 0; lines < n; i++) {
    const c = i % customers;
    const aux = `411C${pad(c, 6)}`;
    const d = day(i);
    const ht = 10_000 + ((i * 7919) % 500_000);
    const tva = Math.floor(ht / 5);
    const paid = i % 3 !== 0;
    const let_ = paid ? letters(letter++) : '';
    const pd = day(i, 35);
    const row = (j: string, num: string, date: string, acc: string, accLib: string, auxN: string, auxL: string, piece: string, lib: string, deb: number, cred: number, l = '', dl = '') =>
      [j, j === 'VT' ? 'Ventes' : 'Banque', num, date, acc, accLib, auxN, auxL, piece, date, lib, euros(deb), euros(cred), l, dl, date, '', ''].join('\t');
    yield row('VT', `VT${i}`, d.fec, '411000', 'Clients', aux, `Client ${c}`, `FA${pad(i, 7)}`, `Facture FA${i}`, ht + tva, 0, let_, paid ? pd.fec : '');
    yield row('VT', `VT${i}`, d.fec, '706000', 'Prestations', '', '', `FA${pad(i, 7)}`, `Facture FA${i}`, 0, ht);
    yield row('VT', `VT${i}`, d.fec, '445710', 'TVA collectée', '', '', `FA${pad(i, 7)}`, `Facture FA${i}`, 0, tva);
    lines += 3;
    if (paid && lines < n) {
      yield row('BQ', `BQ${i}`, pd.fec, '512000', 'Banque', '', '', `VIR${i}`, `VIR Client ${c}`, ht + tva, 0);
      yield row('BQ', `BQ${i}`, pd.fec, '411000', 'Clients', aux, `Client ${c}`, `VIR${i}`, `VIR Client ${c}`, 0, ht + tva, let_, pd.fec);
      lines += 2;
    }
  }
}

// ------------------------------------------------------------------ child measurements

async function childMain(args: string[]) {
  const [what, ...rest] = args;
  const t0 = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const maxRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
  if (what === 'parse') {
    const [path, sep, quoted] = rest as [string, string, string];
    const { parse } = await import('csv-parse');
    const parser = createReadStream(path).pipe(
      parse({ delimiter: sep === 'tab' ? '\t' : sep, quote: quoted === 'true' ? '"' : false, relax_column_count: true, info: true }),
    );
    let rows = 0;
    for await (const _r of parser) rows++;
    console.log(JSON.stringify({ rows, seconds: seconds(), maxRssMb: maxRssMb() }));
    return;
  }
  if (what === 'import') {
    const [kind, path, url, schema] = rest as [string, string, string, string];
    const { openPostgres } = await import('../src/db/driver.ts');
    const { migrate } = await import('../src/db/migrate.ts');
    const { createOrganisation } = await import('../src/ledger/repo.ts');
    const db = await openPostgres(url, { searchPath: schema, max: 2 });
    await migrate(db);
    const org = (await createOrganisation(db, { legalName: 'Bench SAS', siren: '732829320' })).id;
    const before = Math.round(process.memoryUsage().rss / 1048576);
    const t1 = process.hrtime.bigint();
    const report =
      kind === 'fec'
        ? await (await import('../src/imports/fec.ts')).importFec(db, org, { path })
        : await (await import('../src/imports/csv.ts')).importCsv(db, org, 'invoices', { path });
    const s = Number(process.hrtime.bigint() - t1) / 1e9;
    await db.close();
    console.log(JSON.stringify({ seconds: s, maxRssMb: maxRssMb(), rssBeforeMb: before, outcome: report.outcome, rows: report.rowsRead, counts: report.counts, problems: report.problems.slice(0, 3) }));
    return;
  }
  if (what === 'serve') {
    const [url, schema] = rest as [string, string];
    const { serve } = await import('@hono/node-server');
    const { Hono } = await import('hono');
    const { openPostgres } = await import('../src/db/driver.ts');
    const { migrate } = await import('../src/db/migrate.ts');
    const { createOrganisation, createCustomer } = await import('../src/ledger/repo.ts');
    const { createApiKey } = await import('../src/auth/index.ts');
    const { createApp } = await import('../src/http/app.ts');
    const db = await openPostgres(url, { searchPath: schema, max: 10 });
    await migrate(db);
    const org = (await createOrganisation(db, { legalName: 'Bench SAS' })).id;
    const customer = await createCustomer(db, org, { legalName: 'Client' });
    const key = (await createApiKey(db, org, { name: 'bench', scope: 'write' })).key;
    const app = createApp({ db, now: () => new Date() });
    const bare = new Hono();
    bare.get('/hello', (c) => c.json({ hello: 'world' }));
    const s1 = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    const s2 = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => setTimeout(r, 200));
    const port = (s: unknown) => ((s as http.Server).address() as { port: number }).port;
    console.log(JSON.stringify({ apiPort: port(s1), barePort: port(s2), key, customerId: String(customer.id) }));
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
    return;
  }
  throw new Error(`unknown child ${what}`);
}

// ------------------------------------------------------------------ load generator

/** `total` requests with at most `concurrency` in flight over keep-alive sockets; latencies in ms. */
async function load(port: number, total: number, concurrency: number, make: (i: number) => { method: string; path: string; headers?: Record<string, string>; body?: string }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const r = make(i);
      const t = process.hrtime.bigint();
      const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, agent, headers: r.headers }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
          if ((res.statusCode ?? 500) >= 300) errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(r.body);
    });
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await one(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return { perSecond: total / seconds, p95: percentile(latencies, 95), errors };
}

// ------------------------------------------------------------------ run

const round = (x: number) => Math.round(x * 100) / 100;

export async function run(ctx: BenchContext): Promise<void> {
  // BENCH_IMPORT_ROWS overrides the size (the issue's figure is 1,000,000; --quick runs 100,000).
  const n = Number(process.env.BENCH_IMPORT_ROWS) || (ctx.quick ? 100_000 : 1_000_000);
  const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  const dir = mkdtempSync(join(tmpdir(), 'relance-bench-imports-'));
  const url = ctx.databaseUrl;
  try {
    const csv = join(dir, 'invoices.csv');
    const fec = join(dir, '732829320FEC20251231.txt');
    await write(csv, csvInvoices(n));
    await write(fec, fecLines(n), 'latin1');

    for (const [name, path, sep, quoted, kind] of [
      [`CSV of ${label} invoices (${Math.round(statSync(csv).size / 1048576)} MB)`, csv, ';', 'true', 'invoices'],
      [`FEC of ${label} lines (${Math.round(statSync(fec).size / 1048576)} MB)`, fec, 'tab', 'false', 'fec'],
    ] as const) {
      // Each measurement starts with the server's dirty buffers written out: otherwise the one after
      // an import shares the two cores with the checkpoint of that import's half gigabyte.
      await settle(url);
      const floor = await child(['parse', path, sep, quoted]);
      const imp = await withSchema(url, async (schema) => {
        await settle(url);
        return child(['import', kind, path, url, schema]);
      });
      if (imp.outcome !== 'imported') throw new Error(`${name}: ${imp.outcome} ${JSON.stringify(imp.problems)}`);
      const ratio = imp.seconds / floor.seconds;
      ctx.report({
        figure: `PostgreSQL: import ${name}`,
        value: round(imp.seconds),
        unit: 's',
        baseline: round(floor.seconds),
        target: '<= 3x baseline',
        met: ratio <= 3,
        note: `baseline: csv-parse alone over the same file; wrote ${Object.entries(imp.counts as Record<string, { inserted: number }>).map(([t, c]) => `${c.inserted} ${t}`).join(', ')}`,
      });
      ctx.report({
        figure: `peak memory (maxRSS) importing ${name}`,
        value: imp.maxRssMb,
        unit: 'MB',
        baseline: floor.maxRssMb,
        target: null,
        met: null,
        note: 'baseline: maxRSS of the csv-parse pass',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // API: invoice creation under load, beside a bare hello-world route of the same server stack.
  await withSchema(url, async (schema) => {
    const server = spawn(process.execPath, ['--import', 'tsx', SELF, 'child', 'serve', url, schema], { stdio: ['pipe', 'pipe', 'inherit'] });
    const info = await new Promise<{ apiPort: number; barePort: number; key: string; customerId: string }>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    try {
      const total = ctx.quick ? 2000 : 20_000;
      const concurrency = 16;
      const hello = await load(info.barePort, total, concurrency, () => ({ method: 'GET', path: '/hello' }));
      const api = await load(info.apiPort, total, concurrency, (i) => ({
        method: 'POST',
        path: '/api/v1/invoices',
        headers: { authorization: `Bearer ${info.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: info.customerId, number: `B-${i}`, issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '120.00', amountExclTax: '100.00' }),
      }));
      if (api.errors) throw new Error(`${api.errors} API requests failed`);
      ctx.report({
        figure: `API: POST /api/v1/invoices throughput (${concurrency} in flight, keep-alive)`,
        value: Math.round(api.perSecond),
        unit: 'req/s',
        baseline: Math.round(hello.perSecond),
        target: null,
        met: null,
        note: 'baseline: bare Hono hello-world route, same process',
      });
      ctx.report({
        figure: 'API: POST /api/v1/invoices latency p95',
        value: round(api.p95),
        unit: 'ms',
        baseline: round(hello.p95),
        target: null,
        met: null,
        note: 'baseline: bare hello-world p95',
      });
    } finally {
      server.stdin.end();
      server.kill();
    }
  });
}

if (process.argv[1] === SELF && process.argv[2] === 'child') {
  await childMain(process.argv.slice(3));
}
