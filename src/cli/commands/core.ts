import type { Command } from 'commander';
import { todayIn } from '../../domain/dates.ts';
import { calendarDate } from '../../domain/dates.ts';
import { seedDemo } from '../../demo/seed.ts';
import { CE } from '../errors.ts';
import { listOrganisations } from '../../ledger/repo.ts';
import { startServer } from '../../http/server.ts';
import { httpOptions } from '../../http/context.ts';
import { backupThroughServer, backupToFile, createOperatorToken, discardPartial, publishServerUrl, removeOperatorToken, restoreFromFile, runningServer } from '../../db/backup.ts';
import { ERROR_CODES, isRelanceError, RelanceError, validation } from '../../errors.ts';
import { startDailyCycle } from '../../engine/scheduler.ts';
import { SetupGate } from '../../http/setup.ts';
import { startInProcessWorker } from '../../delivery/worker.ts';
import { startWebhookDispatcher } from '../../webhooks/index.ts';
import { redactUrl } from '../../db/driver.ts';
import type { CliContext } from '../context.ts';

export function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw validation(CE('whole_number', { name, value: String(v) }), { field: name });
    return n;
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply the database migrations (embedded database, or DATABASE_URL)')
    .action(async () => {
      const db = await ctx.openDb();
      await db.close();
      ctx.out('database is up to date');
    });

  program
    .command('seed')
    .description('load data into the database')
    .option('--demo', 'create the demo company (French joinery firm) with customers, invoices and payments')
    .option('--customers <n>', 'number of customers', positiveInt('--customers'), 200)
    .option('--invoices <n>', 'number of invoices over the last 18 months', positiveInt('--invoices'), 2000)
    .option('--seed <s>', 'random seed: the same seed gives the same data', '42')
    .option('--date <YYYY-MM-DD>', 'the day the demo considers as today (default: today in Europe/Paris)')
    .action(async (o: { demo?: boolean; customers: number; invoices: number; seed: string; date?: string }) => {
      if (!o.demo) throw validation(CE('nothing_to_seed'), { field: '--demo' });
      const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn('Europe/Paris', Date.now());
      const db = await ctx.openDb();
      try {
        const { organisation, counts, admin } = await seedDemo(db, { customers: o.customers, invoices: o.invoices, seed: o.seed, today });
        ctx.out(`seeded ${organisation.legalName} (${organisation.id}) as of ${today}: ${counts.customers} customers, ${counts.contacts} contacts, ${counts.invoices} invoices, ${counts.payments} payments, ${counts.allocations} allocations`);
        if (admin.password) ctx.out(`admin of ${organisation.legalName}: ${admin.email} / ${admin.password} (shown once: change it after signing in)`);
      } finally {
        await db.close();
      }
    });

  program
    .command('serve')
    .description('start the web app and API (embedded database unless DATABASE_URL is set)')
    .option('--port <port>', 'port to listen on (default: PORT or 3000)', positiveInt('--port'))
    .option('--seed-demo', 'on first start (no organisation yet), seed the demo company')
    .option('--no-cycle', 'do not run the daily dunning cycle in this process')
    .option('--no-worker', 'do not deliver messages or webhooks from this process (run `relance worker` elsewhere)')
    .action(async (o: { port?: number; seedDemo?: boolean; cycle?: boolean; worker?: boolean }) => {
      const db = await ctx.openDb();
      ctx.out(`database: ${db.kind === 'postgres' ? redactUrl(ctx.config.databaseUrl!) : `${ctx.config.dataDir} (embedded PGlite)`}`);
      if (o.seedDemo && (await listOrganisations(db)).length === 0) {
        const today = todayIn('Europe/Paris', Date.now());
        const { organisation, counts, admin } = await seedDemo(db, { today });
        ctx.out(`first start: seeded the demo company ${organisation.legalName} (${counts.customers} customers, ${counts.invoices} invoices)`);
        // The demo's own admin, printed once here; no other organisation ever gets this account.
        if (admin.password) ctx.out(`admin of ${organisation.legalName}: ${admin.email} / ${admin.password} (shown once: change it after signing in)`);
      }
      // No organisation yet: the web app opens the setup wizard, claimed with a code printed here only.
      const setup = (await listOrganisations(db)).length === 0 ? SetupGate.create() : null;
      const http = httpOptions(ctx.config);
      const embedded = db.kind === 'pglite';
      if (embedded) http.operatorToken = createOperatorToken(ctx.config.dataDir);
      const server = await startServer(db, { port: o.port ?? ctx.config.port, host: ctx.config.host, options: http, setup: setup?.gate });
      // `relance backup` finds the server through the data folder's lock file.
      if (embedded) publishServerUrl(ctx.config.dataDir, server.localUrl);
      ctx.out(`Relance is running at ${server.url}`);
      if (setup) ctx.out(`no organisation yet: open ${server.url}/setup and enter the setup code ${setup.code} (shown once), or run \`relance org create\``);
      const cycle = o.cycle === false ? null : startDailyCycle(db, { log: ctx.out });
      // On the embedded database this process is the only one: it delivers too.
      const worker = o.worker === false ? null : startInProcessWorker(db, ctx.config);
      const stopWebhooks = o.worker === false ? null : startWebhookDispatcher(db, { policy: http.webhookPolicy, onError: (e) => ctx.out(`webhook delivery failed: ${(e as Error).message}`) });
      const stop = async () => {
        await stopWebhooks?.();
        cycle?.stop();
        await cycle?.idle();
        await worker?.stop();
        await server.close();
        if (embedded) removeOperatorToken(ctx.config.dataDir);
        await db.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('backup')
    .description('write a consistent backup of the embedded database to a file (while `relance serve` runs, through it)')
    .requiredOption('--out <file>', 'the backup file to write (.tar.gz)')
    .action(async (o: { out: string }) => {
      if (ctx.config.databaseUrl) throw new RelanceError(ERROR_CODES.CONFIG, CE('backup_postgres'), { where: { field: 'DATABASE_URL' } });
      try {
        let r: { bytes: number };
        try {
          const db = await ctx.openDb();
          try {
            r = await backupToFile(db, o.out);
          } finally {
            await db.close();
          }
        } catch (e) {
          // The server holds the data folder: it makes the backup itself.
          const server = isRelanceError(e) && e.code === ERROR_CODES.IN_USE ? runningServer(ctx.config.dataDir) : null;
          if (!server) throw e;
          r = await backupThroughServer(server, o.out);
        }
        ctx.out(`backup written to ${o.out} (${r.bytes} bytes); keep the instance key (${ctx.config.secretKey ? 'RELANCE_SECRET_KEY' : `${ctx.config.dataDir}/secret.key`}) apart from it`);
      } catch (e) {
        discardPartial(o.out);
        throw e;
      }
    });

  program
    .command('restore <file>')
    .description('restore a backup made by `relance backup` into the embedded database (stop `relance serve` first)')
    .option('--replace', 'replace the database the data folder holds (it is kept aside, renamed)')
    .action(async (file: string, o: { replace?: boolean }) => {
      if (ctx.config.databaseUrl) throw new RelanceError(ERROR_CODES.CONFIG, CE('backup_postgres'), { where: { field: 'DATABASE_URL' } });
      const r = await restoreFromFile(ctx.config.dataDir, file, { replace: o.replace });
      ctx.out(`restored ${file} into ${ctx.config.dataDir}${r.keptAside ? `; the database it replaced is kept in ${r.keptAside}` : ''}${r.migrated.length ? `; migrations applied: ${r.migrated.join(', ')}` : ''}`);
    });
}
