/**
 * Crash test: N due emails, the worker process (`relance worker --once`, a child process) killed
 * with SIGKILL at random moments several times and restarted; at the end every action is sent
 * exactly once or marked uncertain, and the SMTP server saw no Message-ID twice. On PostgreSQL
 * (TEST_DATABASE_URL) two workers run side by side and are killed at random too.
 *
 * npm test runs 300 emails and 3 kills (each restart of a worker process costs ~3 s of start-up);
 * the full run of the issue, 2,000 emails and 6 kills:
 *   DELIVERY_CRASH_COUNT=2000 DELIVERY_CRASH_KILLS=6 npx vitest run test/delivery-crash.test.ts
 * DELIVERY_CRASH_SEED replays the kill moments of a given run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openPostgres } from '../src/db/driver.ts';
import { openDatabase } from '../src/db/open.ts';
import { migrate } from '../src/db/migrate.ts';
import { todayIn } from '../src/domain/dates.ts';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { setupOrg, smtpSettings, startSmtp, type TestSmtp } from './delivery-fixture.ts';

const COUNT = Number(process.env.DELIVERY_CRASH_COUNT ?? 300);
const KILLS = Number(process.env.DELIVERY_CRASH_KILLS ?? 3);
const ROOT = join(import.meta.dirname, '..');

/** Open all day, every day: the test must not depend on the hour it runs at. */
const ALWAYS: ScenarioDefinition = {
  options: { workingDaysOnly: false, holidayCalendar: 'NONE', window: { start: '00:00', end: '23:59' }, minGapDays: 0, grouping: 'per_customer' },
  steps: [{ offset: 0, channel: 'email', template: 'due', tone: 'reminder' }],
};

/** A small deterministic generator, so a failing run can be replayed with its seed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A time zone where it is around noon now, so the run never straddles the end of the sending
 * window or midnight, whatever the hour the test runs at (Etc/GMT signs are inverted).
 */
function middayZone(): string {
  const offset = ((12 - new Date().getUTCHours() + 36) % 24) - 12; // -12..11 hours from UTC
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

async function seed(db: Db, smtpPort: number): Promise<string> {
  const org = await setupOrg(db, { ...smtpSettings(smtpPort), smtpPoolSize: 8, rateLimits: { email: 100_000 } }, ALWAYS);
  const zone = middayZone();
  await db.query('UPDATE organisations SET time_zone = $2 WHERE id = $1', [org.id, zone]);
  const today = todayIn(zone, Date.now());
  await db.tx(async (q) => {
    await q.query(
      `INSERT INTO customers (organisation_id, external_id, legal_name) SELECT $1, 'C' || g, 'Client ' || g || ' SARL' FROM generate_series(1, $2) g`,
      [org.id, COUNT],
    );
    await q.query(
      `INSERT INTO contacts (organisation_id, customer_id, name, email, receives_reminders)
       SELECT organisation_id, id, 'Compta', 'compta-' || external_id || '@client.test', true FROM customers WHERE organisation_id = $1`,
      [org.id],
    );
    await q.query(
      `INSERT INTO invoices (organisation_id, customer_id, number, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
       SELECT organisation_id, id, 'F-' || external_id, $2::date - 30, $2::date, 'EUR', 100000, 120000 FROM customers WHERE organisation_id = $1`,
      [org.id, today],
    );
  });
  const r = await runCycle(db, org.id, { today });
  expect(r.actionsCreated).toBe(COUNT);
  return org.id;
}

interface Run {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: string[];
}

function startWorker(env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, ['bin/relance.mjs', 'worker', '--once', '--concurrency', '8', '--lease-ms', '1500'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  child.stdout!.on('data', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr };
}

/** Waits until the server has taken `more` messages (or the worker ended), then kills it. */
async function killAfter(run: Run, smtp: TestSmtp, more: number): Promise<boolean> {
  const target = smtp.received.length + more;
  let ended = false;
  void run.exited.then(() => (ended = true));
  while (!ended && smtp.received.length < target) await new Promise((r) => setTimeout(r, 5));
  if (ended) return false;
  run.child.kill('SIGKILL');
  await run.exited;
  return true;
}

async function verify(db: Db, orgId: string, smtp: TestSmtp) {
  const rows = await db.query<{ id: bigint; status: string; message_id: string | null; sha256: string | null; deliveries: bigint }>(
    `SELECT a.id, a.status, d.message_id, d.sha256,
            (SELECT count(*) FROM deliveries x WHERE x.organisation_id = a.organisation_id AND x.action_id = a.id) AS deliveries
       FROM actions a
       LEFT JOIN LATERAL (SELECT message_id, sha256 FROM deliveries d WHERE d.organisation_id = a.organisation_id AND d.action_id = a.id ORDER BY d.id DESC LIMIT 1) d ON true
      WHERE a.organisation_id = $1`,
    [orgId],
  );
  expect(rows).toHaveLength(COUNT);
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  // Nothing left behind: every action ended sent or uncertain.
  const left = await db.query('SELECT id, status, last_error, next_attempt_at FROM actions WHERE organisation_id = $1 AND status NOT IN ($2, $3) LIMIT 5', [orgId, 'sent', 'uncertain']);
  expect(left).toEqual([]);

  const seen = new Map<string, typeof smtp.received>();
  for (const m of smtp.received) {
    if (!m.messageId?.includes(orgId)) continue;
    seen.set(m.messageId, [...(seen.get(m.messageId) ?? []), m]);
  }
  const duplicates = [...seen.entries()].filter(([, v]) => v.length > 1).map(([k]) => k);
  expect(duplicates).toEqual([]);
  for (const r of rows) {
    const got = r.message_id ? (seen.get(r.message_id) ?? []) : [];
    if (r.status === 'sent') {
      // Exactly once, and the proof is what the server received.
      expect(got.length, `action ${r.id}`).toBe(1);
      expect(createHash('sha256').update(got[0]!.raw).digest('hex')).toBe(r.sha256);
      expect(Number(r.deliveries)).toBe(1);
    } else expect(got.length).toBeLessThanOrEqual(1);
  }
  const known = new Set(rows.map((r) => r.message_id));
  expect([...seen.keys()].filter((k) => !known.has(k))).toEqual([]);
  return byStatus;
}

describe('crash test: SIGKILLed workers never send twice', () => {
  let smtp: TestSmtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => smtp?.close());

  it(`${COUNT} due emails, one worker on the embedded database killed ${KILLS} times at random`, async () => {
    const seedValue = Number(process.env.DELIVERY_CRASH_SEED ?? randomBytes(4).readUInt32LE());
    const random = rng(seedValue);
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-crash-'));
    try {
      const t0 = Date.now();
      const phases: string[] = [];
      let db = await openDatabase({ dataDir, databaseUrl: undefined });
      const orgId = await seed(db, smtp.port);
      await db.close();
      phases.push(`seeded ${Date.now() - t0} ms`);
      const env = { RELANCE_DATA_DIR: dataDir, DATABASE_URL: '' };
      let kills = 0;
      for (let k = 0; k < KILLS; k++) {
        const run = startWorker(env);
        if (await killAfter(run, smtp, 1 + Math.floor(random() * (COUNT / (KILLS + 2))))) kills++;
        phases.push(`run ${k + 1} killed at ${Date.now() - t0} ms, ${smtp.received.length} received`);
      }
      const last = startWorker(env);
      const code = await last.exited;
      expect(code, last.stderr.join('')).toBe(0);
      db = await openDatabase({ dataDir, databaseUrl: undefined });
      const byStatus = await verify(db, orgId, smtp);
      await db.close();
      console.info(`crash test (seed ${seedValue}): ${kills} kills, ${JSON.stringify(byStatus)}; ${phases.join('; ')}; done at ${Date.now() - t0} ms`);
      expect(kills).toBeGreaterThan(0);
      expect(byStatus.sent).toBeGreaterThan(COUNT / 2);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  const url = process.env.TEST_DATABASE_URL;
  it.skipIf(!url)(`${COUNT} due emails, two workers on PostgreSQL, killed at random`, async () => {
    const seedValue = Number(process.env.DELIVERY_CRASH_SEED ?? randomBytes(4).readUInt32LE());
    const random = rng(seedValue);
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    try {
      const db = await openPostgres(url!, { searchPath: schema, max: 4 });
      await migrate(db);
      const orgId = await seed(db, smtp.port);
      const u = new URL(url!);
      u.searchParams.set('options', `-c search_path=${schema}`);
      const env = { DATABASE_URL: u.toString(), RELANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'relance-crash-pg-')) };
      const runs = [startWorker(env), startWorker(env)];
      let kills = 0;
      for (let k = 0; k < KILLS; k++) {
        const victim = Math.floor(random() * 2);
        if (await killAfter(runs[victim]!, smtp, 1 + Math.floor(random() * (COUNT / (KILLS + 2))))) kills++;
        runs[victim] = startWorker(env);
      }
      const codes = await Promise.all(runs.map((r) => r.exited));
      // A worker still running when the other's --once ended may exit 0 as well: both must be clean.
      expect(codes, runs.map((r) => r.stderr.join('')).join('\n')).toEqual([0, 0]);
      // Anything a killed worker left in flight is reaped by one more pass.
      const final = startWorker(env);
      expect(await final.exited, final.stderr.join('')).toBe(0);
      const byStatus = await verify(db, orgId, smtp);
      console.info(`crash test on PostgreSQL (seed ${seedValue}): ${kills} kills, ${JSON.stringify(byStatus)}`);
      await db.close();
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }, 240_000);
});
