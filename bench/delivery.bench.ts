/**
 * Delivery bench.
 * - Emails per second through the outbox (claim with re-checks, render with the documents code,
 *   hand-over committed before DATA, pooled SMTP, outcome recorded) to a local SMTP server
 *   (smtp-server in this process), on the embedded database (the worker in this process, as
 *   `relance serve` runs it) and on PostgreSQL (BENCH_DATABASE_URL, two `relance worker` processes,
 *   as a user runs them) — beside raw nodemailer with a pooled transport sending the very same
 *   messages (the .eml bytes the outbox stored), without any outbox. Target: >= 200 emails/s.
 * - Letter PDFs per second including the merge into one print batch with its cover list, beside
 *   rendering the same letters without the batch. Target: >= 50 letters/s.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { type Db, openPglite, openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { printBatch } from '../src/delivery/letters.ts';
import { saveDeliverySettings } from '../src/delivery/settings.ts';
import { DeliveryWorker } from '../src/delivery/worker.ts';
import { composeDocument } from '../src/documents/compose.ts';
import { todayIn } from '../src/domain/dates.ts';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { assignScenario, createScenario, ensureBuiltinScenarios } from '../src/engine/scenarios.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import type { BenchContext } from './harness.ts';

const scenario = (channel: 'email' | 'letter'): ScenarioDefinition => ({
  options: { workingDaysOnly: false, holidayCalendar: 'NONE', window: { start: '00:00', end: '23:59' }, minGapDays: 0, grouping: 'per_customer' },
  steps: [{ offset: 0, channel, template: channel === 'email' ? 'due' : 'firm', tone: 'reminder' }],
});

export async function startSmtp(): Promise<{ port: number; count: () => number; close(): Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _s, cb) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        cb(null, 'Ok: queued');
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.server.address() as { port: number }).port,
    count: () => received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const c of (server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections) c._socket.destroy();
      }),
  };
}

/** A time zone where it is around noon now: the bench never straddles the end of the window. */
function middayZone(): string {
  const offset = ((12 - new Date().getUTCHours() + 36) % 24) - 12;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

export async function seed(db: Db, n: number, channel: 'email' | 'letter', smtpPort: number): Promise<string> {
  const zone = middayZone();
  const org = await createOrganisation(db, {
    legalName: 'Bench Menuiserie SAS',
    timeZone: zone,
    addressLine1: '12 rue des Tanneurs',
    postalCode: '69002',
    city: 'Lyon',
    iban: 'FR7630006000011234567890189',
    bic: 'AGRIFRPP',
    live: true,
  });
  await db.tx(async (q) => {
    await ensureBuiltinScenarios(q, org.id);
    await createScenario(q, org.id, { key: 'bench', name: 'Bench', definition: scenario(channel) });
    await assignScenario(q, org.id, 'bench', { organisationDefault: true });
    await saveDeliverySettings(q, org.id, {
      smtpHost: '127.0.0.1',
      smtpPort,
      smtpSecurity: 'none',
      smtpPoolSize: 8,
      fromAddress: 'relances@bench.test',
      replyTo: 'compta@bench.test',
      rateLimits: { email: 100_000, letter: 100_000 },
    });
  });
  const today = todayIn(zone, Date.now());
  await db.tx(async (q) => {
    await q.query(`INSERT INTO customers (organisation_id, external_id, legal_name) SELECT $1, 'C' || g, 'Client ' || g || ' SARL' FROM generate_series(1, $2) g`, [org.id, n]);
    await q.query(
      `INSERT INTO contacts (organisation_id, customer_id, name, email, address_line1, postal_code, city, receives_reminders)
       SELECT organisation_id, id, 'Compta', 'compta-' || external_id || '@client.test', '3 place du Marché', '69003', 'Lyon', true FROM customers WHERE organisation_id = $1`,
      [org.id],
    );
    await q.query(
      `INSERT INTO invoices (organisation_id, customer_id, number, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
       SELECT organisation_id, id, 'F-' || external_id, $2::date - 30, $2::date, 'EUR', 100000, 120000 FROM customers WHERE organisation_id = $1`,
      [org.id, today],
    );
  });
  await runCycle(db, org.id, { today });
  return org.id;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `relance worker` in a process of its own; ready once it says it is running. */
function startWorkerProcess(env: NodeJS.ProcessEnv, args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/relance.mjs'), 'worker', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const err: string[] = [];
  child.stderr!.on('data', (c: Buffer) => err.push(c.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/running/.test(out)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`relance worker exited with ${code}: ${err.join('')}`)));
  });
  return {
    ready,
    exitCode: () => child.exitCode,
    stderr: () => err.join(''),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

/** The same messages through nodemailer's own pooled SMTP transport, no outbox. */
async function rawNodemailer(port: number, messages: Array<{ from: string; to: string[]; raw: Buffer }>): Promise<number> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 8, maxMessages: 100 });
  const t0 = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < messages.length) {
        const m = messages[next++]!;
        await transport.sendMail({ envelope: { from: m.from, to: m.to }, raw: m.raw });
      }
    }),
  );
  const s = seconds(t0);
  transport.close();
  return messages.length / s;
}

async function storedMessages(db: Db, orgId: string) {
  const rows = await db.query<{ content: Uint8Array; recipients: { to: string[]; from: string } | string }>(
    `SELECT content, recipients FROM deliveries WHERE organisation_id = $1 AND channel = 'email' ORDER BY id`,
    [orgId],
  );
  return rows.map((r) => {
    const rec = typeof r.recipients === 'string' ? JSON.parse(r.recipients) : r.recipients;
    return { from: rec.from as string, to: rec.to as string[], raw: Buffer.from(r.content) };
  });
}

export async function run(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 200 : 1000;
  const smtp = await startSmtp();
  try {
    // ---------------------------------------------------------------- emails, embedded database
    {
      const db = await openPglite();
      await migrate(db);
      const orgId = await seed(db, n, 'email', smtp.port);
      const before = smtp.count();
      const worker = new DeliveryWorker(db, { dataDir: mkdtempSync(join(tmpdir(), 'relance-bench-')), concurrency: 8 });
      const t0 = process.hrtime.bigint();
      const stats = await worker.runOnce();
      const rate = stats.sent / seconds(t0);
      if (smtp.count() - before !== n) throw new Error(`expected ${n} messages at the server, got ${smtp.count() - before}`);
      const baseline = await rawNodemailer(smtp.port, await storedMessages(db, orgId));
      ctx.report({
        figure: `emails/s through the outbox, embedded PGlite, ${n} messages`,
        value: Math.round(rate),
        unit: 'msg/s',
        baseline: Math.round(baseline),
        target: '>= 200 msg/s',
        met: rate >= 200,
        note: 'baseline: raw nodemailer pool, same .eml bytes',
      });
      await db.close();
    }

    // ---------------------------------------------------------------- emails, PostgreSQL, two workers
    let admin: pg.Client | null = new pg.Client({ connectionString: ctx.databaseUrl });
    try {
      await admin.connect();
    } catch {
      admin = null;
    }
    if (admin) {
      const schema = `bench_${randomBytes(5).toString('hex')}`;
      await admin.query(`CREATE SCHEMA ${schema}`);
      try {
        const db = await openPostgres(ctx.databaseUrl, { searchPath: schema, max: 20 });
        await migrate(db);
        const orgId = await seed(db, n, 'email', smtp.port);
        // Two `relance worker` processes, as a user runs them: started first and idle (the due
        // actions are held), then everything is released at once; the clock runs from the
        // release until every action is recorded as sent.
        await db.query(`UPDATE actions SET hold_reason = 'bench' WHERE organisation_id = $1 AND status = 'queued'`, [orgId]);
        const u = new URL(ctx.databaseUrl);
        u.searchParams.set('options', `-c search_path=${schema}`);
        const env = { ...process.env, DATABASE_URL: u.toString(), RELANCE_DATA_DIR: mkdtempSync(join(tmpdir(), 'relance-bench-')) };
        const workers = [0, 1].map(() => startWorkerProcess(env, ['--concurrency', '8', '--poll-ms', '100']));
        let rate: number;
        try {
          await Promise.all(workers.map((w) => w.ready));
          const before = smtp.count();
          const t0 = process.hrtime.bigint();
          await db.query(`UPDATE actions SET hold_reason = NULL WHERE organisation_id = $1 AND hold_reason = 'bench'`, [orgId]);
          for (;;) {
            const [r] = await db.query<{ sent: bigint; left: bigint }>(
              `SELECT count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status IN ('queued', 'sending')) AS left FROM actions WHERE organisation_id = $1`,
              [orgId],
            );
            if (Number(r!.left) === 0) {
              if (Number(r!.sent) !== n) throw new Error(`expected ${n} sent, got ${r!.sent}`);
              break;
            }
            if (workers.some((w) => w.exitCode() !== null)) throw new Error(`a worker stopped: ${workers.map((w) => w.stderr()).join('\n')}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          rate = n / seconds(t0);
          if (smtp.count() - before !== n) throw new Error(`expected ${n} messages at the server, got ${smtp.count() - before}`);
        } finally {
          await Promise.all(workers.map((w) => w.stop()));
        }
        const baseline = await rawNodemailer(smtp.port, await storedMessages(db, orgId));
        ctx.report({
          figure: `emails/s through the outbox, PostgreSQL, 2 worker processes, ${n} messages`,
          value: Math.round(rate),
          unit: 'msg/s',
          baseline: Math.round(baseline),
          target: '>= 200 msg/s',
          met: rate >= 200,
          note: 'baseline: raw nodemailer pool, same .eml bytes',
        });
        await db.close();
      } finally {
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      }
    }

    // ---------------------------------------------------------------- letters and the print batch
    {
      const letters = ctx.quick ? 50 : 200;
      const db = await openPglite();
      await migrate(db);
      const orgId = await seed(db, letters, 'letter', smtp.port);
      const worker = new DeliveryWorker(db, { dataDir: mkdtempSync(join(tmpdir(), 'relance-bench-')), concurrency: 4 });
      const t0 = process.hrtime.bigint();
      const stats = await worker.runOnce();
      const [org] = await db.query<{ time_zone: string }>('SELECT time_zone FROM organisations WHERE id = $1', [orgId]);
      const day = todayIn(org!.time_zone, Date.now());
      const batch = await db.tx((q) => printBatch(q, orgId, day, new Date()));
      const total = seconds(t0);
      // Letters in the print batch are exported (posted by hand), not sent.
      if (stats.exported !== letters || batch.letters.length !== letters) throw new Error(`expected ${letters} letters, got ${stats.exported} exported and ${batch.letters.length} in the batch`);
      // Baseline: the same letters rendered by the documents code alone (no outbox, no batch).
      const { documentFromLedger } = await import('../src/documents/from-ledger.ts');
      const { loadRateTables } = await import('../src/law/rates-repo.ts');
      const rates = await loadRateTables(db);
      const inputs = [];
      for (let k = 1; k <= Math.min(letters, 50); k++) inputs.push((await documentFromLedger(db, orgId, { invoiceNumber: `F-C${k}`, key: 'firm', at: day, rates })).input);
      const b0 = process.hrtime.bigint();
      for (const input of inputs) await composeDocument({ key: 'firm', channel: 'letter', input });
      const baseline = inputs.length / seconds(b0);
      const rate = letters / total;
      ctx.report({
        figure: `letter PDFs/s incl. the merge into a print batch (${letters} letters, ${Math.round(batch.pdf.length / 1024)} KiB)`,
        value: Math.round(rate),
        unit: 'letters/s',
        baseline: Math.round(baseline),
        target: '>= 50 letters/s',
        met: rate >= 50,
        note: 'baseline: rendering the letter PDFs only',
      });
      await db.close();
    }
  } finally {
    await smtp.close();
  }
}
