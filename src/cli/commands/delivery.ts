/**
 * Delivery commands: `relance worker` (send what is due), `relance outbox` (list, approve, cancel,
 * resolve, settings, bounce, registered, files), `relance inbound` (bounces and replies that came
 * back), `relance letters` (the day's print batch),
 * `relance history` (a customer's evidence file), `relance calls` and `relance call-outcome`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Db } from '../../db/driver.ts';
import { jsonReplacer } from '../../db/driver.ts';
import { calendarDate, todayIn } from '../../domain/dates.ts';
import { CALL_OUTCOMES, type CallOutcome, NON_PAYMENT_REASONS, type NonPaymentReason } from '../../domain/delivery.ts';
import { parseAmount } from '../../domain/money.ts';
import { getCallTask, listCallTasks, recordCallOutcome } from '../../delivery/calls.ts';
import { listLocalOutbox } from '../../delivery/channels/email.ts';
import { printBatch } from '../../delivery/letters.ts';
import { ACTION_STATUSES } from '../../domain/delivery.ts';
import { CHANNEL_KEYS } from '../../domain/channels.ts';
import { approveActions, assertStatus, cancelActions, confirmSent, listOutbox, type OutboxFilter, outboxCounts, requeueFailed, resolveUncertain } from '../../delivery/outbox.ts';
import { customerHistoryPdf, recordBounce, recordRegisteredProof } from '../../delivery/proof.ts';
import { describeSettings, saveDeliverySettings, type SettingsInput } from '../../delivery/settings.ts';
import { DeliveryWorker } from '../../delivery/worker.ts';
import { validation } from '../../errors.ts';
import { CE } from '../errors.ts';
import { getOrganisation, listOrganisations } from '../../ledger/repo.ts';
import { defineMessages, type Lang, t } from '../../i18n/index.ts';
import { type InboundResult, inboundOrganisation, ingestInbound, readInbound } from '../../delivery/inbound.ts';
import type { CliContext } from '../context.ts';
import { positiveInt } from './core.ts';

const json = (v: unknown) => JSON.stringify(v, jsonReplacer);
const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
const ids = (values: string[], field = 'ids') =>
  values.map((v) => {
    if (!/^\d+$/.test(v)) throw validation(CE('action_id', { value: v }), { field });
    return BigInt(v);
  });
const who = (by?: string) => by ?? process.env.RELANCE_USER ?? process.env.USER ?? 'cli';

async function withDb<T>(ctx: CliContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await ctx.openDb();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

interface FilterOpts {
  all?: boolean;
  status?: string[];
  channel?: string[];
  customer?: string;
  date?: string;
}

function filterFrom(idArgs: string[], o: FilterOpts, defaultStatus?: string[]): OutboxFilter {
  if (idArgs.length && o.all) throw validation(CE('ids_or_all'), { field: '--all' });
  if (!idArgs.length && !o.all) throw validation(CE('ids_needed'), { field: 'ids' });
  if (idArgs.length) return { ids: ids(idArgs) };
  if (o.customer && !/^\d+$/.test(o.customer)) throw validation(CE('customer_id', { value: o.customer }), { field: '--customer' });
  return {
    status: (o.status ?? defaultStatus)?.map(assertStatus),
    channel: o.channel,
    customerId: o.customer ? BigInt(o.customer) : undefined,
    plannedOn: o.date ? calendarDate(o.date, { field: '--date' }) : undefined,
  };
}

const filterOptions = (c: Command) =>
  c
    .option('--all', 'every action matching the filters')
    .option('--status <s>', `${ACTION_STATUSES.join(', ')} (comma-separated)`, list)
    .option('--channel <c>', `${CHANNEL_KEYS.join(', ')} (comma-separated)`, list)
    .option('--customer <id>', 'customer id')
    .option('--date <YYYY-MM-DD>', 'planned on this day');

export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description('send what is due: emails, SMS, letters, registered letters, call tasks (several workers may run on PostgreSQL)')
    .option('--once', 'deliver everything due now, then exit')
    .option('--concurrency <n>', 'messages in flight at once', positiveInt('--concurrency'), 4)
    .option('--channels <list>', 'only these channels (comma-separated)', list)
    .option('--lease-ms <n>', 'how long a claimed action stays with this worker without a heartbeat', positiveInt('--lease-ms'), 120_000)
    .option('--poll-ms <n>', 'pause between two looks at the outbox', positiveInt('--poll-ms'), 5_000)
    .action(async (o: { once?: boolean; concurrency: number; channels?: string[]; leaseMs: number; pollMs: number }) => {
      const db = await ctx.openDb();
      const worker = new DeliveryWorker(db, {
        dataDir: ctx.config.dataDir,
        concurrency: Math.max(1, o.concurrency),
        channels: o.channels,
        leaseMs: Math.max(500, o.leaseMs),
        pollMs: Math.max(100, o.pollMs),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      if (o.once) {
        try {
          const s = await worker.runOnce();
          ctx.out(
            `sent ${s.sent}, exported ${s.exported} (written locally, to send by hand), retry later ${s.retried}, failed ${s.failed}, uncertain ${s.uncertain}, cancelled ${s.cancelled} (no longer due), deferred ${s.deferred} (window or rate limit), fallbacks ${s.fallbacks}`,
          );
        } finally {
          await db.close();
        }
        return;
      }
      ctx.out(`worker ${worker.owner} running (concurrency ${o.concurrency}); Ctrl-C to stop`);
      worker.start();
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await worker.stop();
      await db.close();
      ctx.out(`stopped: sent ${worker.stats.sent}, exported ${worker.stats.exported}, failed ${worker.stats.failed}, uncertain ${worker.stats.uncertain}`);
    });

  const outbox = program.command('outbox').description('what is waiting to be sent, what went out, and what needs a human');

  filterOptions(outbox.command('list').description('list actions (default: everything not yet sent, and what needs a human; --all: every status)'))
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 200)
    .option('--summary', 'counts by status only')
    .option('--json', 'one JSON object per action')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: FilterOpts & { limit: number; summary?: boolean; json?: boolean; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        if (o.summary) {
          const counts = await outboxCounts(db, orgId);
          ctx.out(o.json ? json(counts) : Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join('\n') || 'empty');
          return;
        }
        // --all lists every status; without it (and without --status), what still needs something.
        const rows = await listOutbox(db, orgId, {
          status: (o.status ?? (o.all ? undefined : ['planned', 'awaiting_approval', 'queued', 'sending', 'exported', 'uncertain', 'failed']))?.map(assertStatus),
          channel: o.channel,
          customerId: o.customer ? BigInt(o.customer) : undefined,
          plannedOn: o.date ? calendarDate(o.date, { field: '--date' }) : undefined,
          limit: o.limit,
        });
        for (const r of rows) {
          if (o.json) ctx.out(json(r));
          else
            ctx.out(
              `${String(r.id).padStart(6)}  ${r.plannedOn}  ${r.status.padEnd(17)} ${r.channel.padEnd(17)} ${r.template.padEnd(13)} ${r.customerName} — ${r.invoices.join(', ')}${r.holdReason ? `  [held: ${r.holdReason}]` : ''}${r.statusReason ? `  (${r.statusReason})` : ''}`,
            );
        }
        if (!o.json) ctx.out(`${rows.length} action(s)`);
      }),
    );

  filterOptions(outbox.command('approve [ids...]').description('approve actions awaiting approval (formal notices by default): they join the queue'))
    .option('--by <name>', 'who approves (default: RELANCE_USER or USER)')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idArgs: string[], o: FilterOpts & { by?: string; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const done = await db.tx((q) => approveActions(q, orgId, filterFrom(idArgs, o, ['awaiting_approval']), who(o.by), new Date()));
        ctx.out(`approved ${done.length} action(s)${done.length ? `: ${done.join(', ')}` : ''}`);
      }),
    );

  filterOptions(outbox.command('cancel [ids...]').description('cancel actions that have not gone out; their steps will not be planned again'))
    .requiredOption('--reason <text>', 'why (kept with the action)')
    .option('--by <name>', 'who cancels')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idArgs: string[], o: FilterOpts & { reason: string; by?: string; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const done = await db.tx((q) => cancelActions(q, orgId, filterFrom(idArgs, o), who(o.by), o.reason, new Date()));
        ctx.out(`cancelled ${done.length} action(s)${done.length ? `: ${done.join(', ')}` : ''}`);
      }),
    );

  outbox
    .command('resolve <ids...>')
    .description('decide about uncertain messages: --as sent (it went out) or --as not-sent (send it again)')
    .requiredOption('--as <outcome>', 'sent or not-sent')
    .option('--by <name>', 'who decides')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idArgs: string[], o: { as: string; by?: string; org?: string }) => {
      if (o.as !== 'sent' && o.as !== 'not-sent') throw validation(CE('as', { value: String(o.as) }), { field: '--as' });
      await withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const done = await db.tx((q) => resolveUncertain(q, orgId, ids(idArgs), o.as === 'sent' ? 'sent' : 'not_sent', who(o.by), new Date()));
        ctx.out(`resolved ${done.length} action(s) as ${o.as}`);
      });
    });

  filterOptions(outbox.command('confirm [ids...]').description('confirm that exported messages (local .eml outbox, print batch, local SMS) were sent by hand: they become sent'))
    .option('--by <name>', 'who sent them')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idArgs: string[], o: FilterOpts & { by?: string; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const done = await db.tx((q) => confirmSent(q, orgId, filterFrom(idArgs, o, ['exported']), who(o.by), new Date()));
        ctx.out(`confirmed ${done.length} action(s) as sent${done.length ? `: ${done.join(', ')}` : ''}`);
      }),
    );

  filterOptions(outbox.command('requeue [ids...]').description('queue failed actions again once what made them fail is fixed (a channel\u2019s settings); not those whose step went to its fallback channel'))
    .option('--by <name>', 'who decides')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idArgs: string[], o: FilterOpts & { by?: string; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const done = await db.tx((q) => requeueFailed(q, orgId, filterFrom(idArgs, o, ['failed']), who(o.by), new Date()));
        ctx.out(`queued ${done.length} action(s) again${done.length ? `: ${done.join(', ')}` : ''}`);
      }),
    );

  outbox
    .command('files')
    .description('the .eml files of the local outbox (used while no SMTP server is configured)')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const files = listLocalOutbox(join(ctx.config.dataDir, 'outbox'), orgId);
        for (const f of files) ctx.out(`${f.day}  ${String(f.bytes).padStart(8)}  ${f.file}`);
        ctx.out(`${files.length} file(s)`);
      }),
    );

  outbox
    .command('settings')
    .description('show or change the channel settings (SMTP, sender, reply-to, SMS and registered-mail providers, rate limits); secrets are never shown')
    .option('--smtp-host <host>')
    .option('--smtp-port <port>', 'SMTP port', positiveInt('--smtp-port'))
    .option('--smtp-security <mode>', 'none, starttls or tls')
    .option('--smtp-user <user>')
    .option('--smtp-password-env <VAR>', "name of the server's environment variable holding the SMTP password (operator only; the web app cannot)")
    .option('--smtp-password-stdin', 'read the SMTP password from standard input and store it encrypted')
    .option('--smtp-pool <n>', 'SMTP connections', positiveInt('--smtp-pool'))
    .option('--from <address>', 'sender address')
    .option('--from-name <name>', 'sender name')
    .option('--reply-to <address>', 'base reply address (replies go to local+c<customer>-a<action>@domain)')
    .option('--sms-provider <p>', 'local, http or brevo (docs/channels.md)')
    .option('--sms-url <url>', 'the provider\u2019s address (http: the gateway; others: to replace the default)')
    .option('--sms-token-env <VAR>', "name of the server's environment variable holding the SMS provider's secret (http: token; brevo: API key)")
    .option('--sms-token-stdin', "read the SMS provider's secret from standard input and store it encrypted")
    .option('--sms-sender <name>', 'sender shown (11 letters or digits at most; default: the organisation\u2019s name)')
    .option('--registered-provider <p>', 'local, http or maileva (docs/channels.md)')
    .option('--registered-url <url>')
    .option('--registered-token-env <VAR>', "name of the server's environment variable holding the registered-mail provider's first secret")
    .option('--registered-token-stdin', "read the registered-mail provider's first secret from standard input and store it encrypted")
    .option('--provider-option <channel.setting=value>', 'a provider setting, e.g. registered_letter.clientId=abc (repeatable; empty value clears it)', list)
    .option('--provider-secret-env <channel.setting=VAR>', "a provider secret read from the server's environment, e.g. registered_letter.password=MAILEVA_PASSWORD (repeatable)", list)
    .option('--call-assignee <who>', 'user or team that gets call tasks, e.g. team:recouvrement')
    .option('--max-attempts <n>', 'attempts before a temporary failure becomes permanent', positiveInt('--max-attempts'))
    .option('--rate <channel=n>', 'messages per minute for a channel, e.g. email=300 (repeatable)', list)
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: Record<string, unknown>) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org as string | undefined);
        const input: SettingsInput = {};
        const set = <K extends keyof SettingsInput>(k: K, v: unknown) => {
          if (v !== undefined) input[k] = v as SettingsInput[K];
        };
        if (o.smtpSecurity !== undefined && !['none', 'starttls', 'tls'].includes(String(o.smtpSecurity))) throw validation(CE('smtp_security'), { field: '--smtp-security' });
        const pairs = (values: unknown, option: string, into: (channel: string, key: string, value: string) => void) => {
          for (const v of (values as string[] | undefined) ?? []) {
            const m = /^([a-z_]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(v);
            if (!m) throw validation(CE('option_pair', { option, value: v }), { field: option });
            into(m[1]!, m[2]!, m[3]!);
          }
        };
        const providers: NonNullable<SettingsInput['providers']> = {};
        const entry = (channel: string) => (providers[channel] ??= {});
        pairs(o.providerOption, '--provider-option', (c, k, v) => {
          entry(c).options = { ...entry(c).options, [k]: v || null };
        });
        pairs(o.providerSecretEnv, '--provider-secret-env', (c, k, v) => {
          entry(c).secretEnv = { ...entry(c).secretEnv, [k]: v || null };
        });
        if (Object.keys(providers).length) input.providers = providers;
        set('smtpHost', o.smtpHost);
        set('smtpPort', o.smtpPort);
        set('smtpSecurity', o.smtpSecurity);
        set('smtpUser', o.smtpUser);
        set('smtpPasswordEnv', o.smtpPasswordEnv);
        if (o.smtpPasswordStdin) input.smtpPassword = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
        set('smtpPoolSize', o.smtpPool);
        set('fromAddress', o.from);
        set('fromName', o.fromName);
        set('replyTo', o.replyTo);
        set('smsProvider', o.smsProvider);
        set('smsUrl', o.smsUrl);
        set('smsTokenEnv', o.smsTokenEnv);
        if (o.smsTokenStdin) input.smsToken = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
        set('smsSender', o.smsSender);
        set('registeredProvider', o.registeredProvider);
        set('registeredUrl', o.registeredUrl);
        set('registeredTokenEnv', o.registeredTokenEnv);
        if (o.registeredTokenStdin) input.registeredToken = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
        set('callAssignee', o.callAssignee);
        set('maxAttempts', o.maxAttempts);
        if (o.rate) {
          input.rateLimits = {};
          for (const r of o.rate as string[]) {
            const m = /^([a-z_]+)=(\d+)$/.exec(r);
            if (!m) throw validation(CE('rate', { value: r }), { field: '--rate' });
            input.rateLimits[m[1]!] = Number(m[2]);
          }
        }
        // The CLI runs on the server: its user is the operator, who alone may name environment variables.
        if (Object.keys(input).length) await db.tx((q) => saveDeliverySettings(q, orgId, input, { operator: true }));
        const { catalogue: _catalogue, ...shown } = await describeSettings(db, orgId, { operator: true });
        for (const [k, v] of Object.entries(shown)) ctx.out(`${k}: ${typeof v === 'object' && v !== null ? json(v) : String(v)}`);
      }),
    );

  outbox
    .command('bounce')
    .description('record a bounce received after sending (from the DSN): a hard bounce marks the address invalid and moves the step to its fallback channel')
    .requiredOption('--message-id <id>', 'Message-ID of the message that bounced')
    .option('--soft', 'a temporary bounce (mailbox full...): recorded only')
    .option('--diagnostic <text>', 'the diagnostic code or text of the DSN')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { messageId: string; soft?: boolean; diagnostic?: string; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const r = await db.tx((q) => recordBounce(q, orgId, { messageId: o.messageId, kind: o.soft ? 'soft' : 'hard', diagnostic: o.diagnostic }, new Date()));
        ctx.out(`bounce recorded on action ${r.actionId}${r.fallbackId ? `; fallback action ${r.fallbackId} queued` : ''}`);
      }),
    );

  outbox
    .command('registered')
    .description("a registered letter's tracking number (posted by hand) and the proofs that come back (deposit slip, acknowledgement of receipt)")
    .requiredOption('--action <id>', 'action id of the registered letter')
    .option('--tracking <number>', 'tracking number given by the post office')
    .option('--proof <file>', 'scan or PDF of the proof')
    .option('--kind <kind>', 'deposit, receipt or return')
    .option('--at <YYYY-MM-DD>', 'date on the proof (default: today)')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { action: string; tracking?: string; proof?: string; kind?: string; at?: string; org?: string }) => {
      if (o.kind && !['deposit', 'receipt', 'return'].includes(o.kind)) throw validation(CE('proof_kind'), { field: '--kind' });
      if (o.proof && !o.kind) throw validation(CE('proof_kind_needed'), { field: '--kind' });
      await withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const at = o.at ? new Date(`${calendarDate(o.at, { field: '--at' })}T12:00:00Z`) : new Date();
        const content = o.proof ? readFileSync(o.proof) : null;
        await db.tx((q) =>
          recordRegisteredProof(q, orgId, ids([o.action], '--action')[0]!, {
            tracking: o.tracking,
            kind: (o.kind as 'deposit' | 'receipt' | 'return' | undefined) ?? null,
            at,
            content,
            contentType: o.proof?.toLowerCase().endsWith('.pdf') ? 'application/pdf' : o.proof ? 'application/octet-stream' : null,
          }),
        );
        ctx.out(`recorded${o.tracking ? ` tracking ${o.tracking}` : ''}${o.kind ? ` ${o.kind}` : ''} for action ${o.action}`);
      });
    });

  program
    .command('letters')
    .description("the day's letters as one print-ready PDF, with a cover list")
    .requiredOption('--date <YYYY-MM-DD>', 'letters handed over that day')
    .requiredOption('--out <file>', 'PDF to write')
    .option('--no-registered', 'leave out registered letters (sent through a provider)')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { date: string; out: string; registered: boolean; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const day = calendarDate(o.date, { field: '--date' });
        const { pdf, letters } = await db.tx((q) => printBatch(q, orgId, day, new Date(), { registered: o.registered }));
        writeFileSync(o.out, pdf);
        const pages = letters.reduce((n, l) => n + l.pages, 0);
        ctx.out(`${o.out}: ${letters.length} letter(s) (${letters.filter((l) => l.registered).length} registered), ${pages} page(s) and the cover list`);
      }),
    );

  program
    .command('inbound [files...]')
    .description('read mail that came back (bounces, automatic replies, customers\u2019 replies) from .eml files, or standard input, and act on it: a hard bounce marks the address invalid and moves the step to its fallback channel, a reply goes on the customer\u2019s timeline')
    .option('--json', 'one JSON object per message')
    .option('--lang <lang>', 'fr or en (default: the organisation\u2019s language)')
    .option('--org <id>', 'organisation (id, SIREN or name); default: the one the message names, else the first')
    .action(async (files: string[], o: { json?: boolean; lang?: string; org?: string }) => {
      if (o.lang && o.lang !== 'fr' && o.lang !== 'en') throw validation(CE('lang_not', { value: o.lang }), { field: '--lang' });
      const sources = files.length ? files : ['-'];
      await withDb(ctx, async (db) => {
        const orgs = await listOrganisations(db);
        for (const file of sources) {
          const raw = file === '-' ? readFileSync(0) : readFileSync(file);
          const read = await readInbound(raw);
          const named = inboundOrganisation(read);
          const orgId = o.org ? await ctx.resolveOrg(db, o.org) : named && orgs.some((x) => x.id === named) ? named : await ctx.resolveOrg(db);
          const r = await db.tx((q) => ingestInbound(q, orgId, raw, new Date(), read));
          if (o.json) {
            ctx.out(json({ file, organisationId: orgId, ...r }));
            continue;
          }
          const lang: Lang = (o.lang as Lang | undefined) ?? (orgs.find((x) => x.id === orgId)?.language === 'en' ? 'en' : 'fr');
          ctx.out(inboundLine(lang, file === '-' ? 'stdin' : file, r));
        }
      });
    });

  program
    .command('history')
    .description("a customer's full dunning history as an evidence PDF (messages as sent, SHA-256, events, calls, letters)")
    .requiredOption('--customer <id>', 'customer id')
    .requiredOption('--out <file>', 'PDF to write')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { customer: string; out: string; org?: string }) => {
      if (!/^\d+$/.test(o.customer)) throw validation(CE('customer_id', { value: o.customer }), { field: '--customer' });
      await withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        const r = await customerHistoryPdf(db, orgId, BigInt(o.customer), new Date());
        writeFileSync(o.out, r.pdf);
        ctx.out(`${o.out}: ${r.actions} action(s), ${r.deliveries} message(s) on record (${r.sent} sent, ${r.exported} exported: written locally, not confirmed sent)`);
      });
    });

  program
    .command('calls')
    .description('open call tasks: who to call, the numbers, the script and the open invoices')
    .option('--assignee <who>', 'only tasks of this user or team')
    .option('--task <id>', 'show one task with its script')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { assignee?: string; task?: string; json?: boolean; org?: string }) =>
      withDb(ctx, async (db) => {
        const orgId = await ctx.resolveOrg(db, o.org);
        if (o.task) {
          const t = await getCallTask(db, orgId, ids([o.task], '--task')[0]!);
          if (o.json) return ctx.out(json(t));
          ctx.out(`task ${t.id} (${t.status}) for ${t.assignedTo}: call ${t.customerName} on ${t.phoneNumbers.join(', ') || '(no number)'}`);
          for (const i of t.invoices) ctx.out(`  ${i.number} due ${i.dueDate}: ${i.open}`);
          ctx.out('');
          ctx.out(t.script ?? '');
          return;
        }
        const tasks = await listCallTasks(db, orgId, { assignedTo: o.assignee });
        for (const t of tasks) {
          if (o.json) ctx.out(json(t));
          else ctx.out(`${String(t.id).padStart(6)}  ${t.dueOn}  ${t.assignedTo.padEnd(20)} ${t.customerName} ${t.phoneNumbers.join(', ')} — ${t.invoices.map((i) => `${i.number} ${i.open}`).join(', ')}`);
        }
        if (!o.json) ctx.out(`${tasks.length} open task(s)`);
      }),
    );

  program
    .command('call-outcome')
    .description('record what came of a call; a promise pauses reminders until its date, a dispute pauses them, "already paid" asks for a reconciliation check')
    .requiredOption('--task <id>', 'call task id')
    .requiredOption('--outcome <outcome>', CALL_OUTCOMES.join(', '))
    .option('--reason <reason>', `reason for non-payment: ${NON_PAYMENT_REASONS.join(', ')}`)
    .option('--promised-on <YYYY-MM-DD>', 'promise to pay: the date')
    .option('--amount <amount>', 'promise to pay: the amount ("1 234,56")')
    .option('--dispute-reason <text>', 'dispute: what the customer contests')
    .option('--phone <number>', 'the number called (wrong number: not used again)')
    .option('--note <text>', 'free note')
    .option('--by <name>', 'who called (default: RELANCE_USER or USER)')
    .option('--date <YYYY-MM-DD>', 'day of the call (default: today)')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(
      async (o: { task: string; outcome: string; reason?: string; promisedOn?: string; amount?: string; disputeReason?: string; phone?: string; note?: string; by?: string; date?: string; org?: string }) => {
        if (!(CALL_OUTCOMES as readonly string[]).includes(o.outcome)) throw validation(CE('one_of', { option: '--outcome', allowed: CALL_OUTCOMES.join(', ') }), { field: '--outcome' });
        if (o.reason && !(NON_PAYMENT_REASONS as readonly string[]).includes(o.reason)) throw validation(CE('one_of', { option: '--reason', allowed: NON_PAYMENT_REASONS.join(', ') }), { field: '--reason' });
        await withDb(ctx, async (db) => {
          const orgId = await ctx.resolveOrg(db, o.org);
          const org = await getOrganisation(db, orgId);
          const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
          const taskId = ids([o.task], '--task')[0]!;
          const task = await getCallTask(db, orgId, taskId);
          const currency = task.invoices[0]?.currency ?? org.currency;
          const r = await db.tx((q) =>
            recordCallOutcome(
              q,
              orgId,
              taskId,
              {
                outcome: o.outcome as CallOutcome,
                reason: (o.reason as NonPaymentReason | undefined) ?? null,
                note: o.note ?? null,
                promisedOn: o.promisedOn ? calendarDate(o.promisedOn, { field: '--promised-on' }) : null,
                promisedMinor: o.amount ? parseAmount(o.amount, currency, { field: '--amount' }) : null,
                disputeReason: o.disputeReason ?? null,
                phoneNumber: o.phone ?? null,
                by: who(o.by),
              },
              today,
            ),
          );
          ctx.out(
            `call ${r.outcomeId} recorded; task ${r.taskStatus}${r.promiseId ? `; promise ${r.promiseId} pauses reminders` : ''}${r.disputeId ? `; dispute ${r.disputeId} opened` : ''}${r.followupId ? `; follow-up ${r.followupId}` : ''}`,
          );
        });
      },
    );
}

const IM = defineMessages({
  kind_bounce_hard: { fr: 'rebond définitif', en: 'hard bounce' },
  kind_bounce_soft: { fr: 'rebond temporaire', en: 'soft bounce' },
  kind_delivered: { fr: 'accusé de livraison', en: 'delivery report' },
  kind_auto_reply: { fr: 'réponse automatique', en: 'automatic reply' },
  kind_reply: { fr: 'réponse', en: 'reply' },
  duplicate: { fr: '{file} : déjà reçu (message entrant {id}), rien de plus', en: '{file}: already received (inbound message {id}), nothing more' },
  unmatched: {
    fr: '{file} : {kind} sans lien avec une relance envoyée, conservé (message entrant {id})',
    en: '{file}: {kind} not tied to any message sent, kept (inbound message {id})',
  },
  bounce_hard: { fr: '{file} : {kind} de l’action {action} (client {customer}){invalid}{fallback}', en: '{file}: {kind} of action {action} (customer {customer}){invalid}{fallback}' },
  invalid: { fr: ' ; adresse(s) désormais invalide(s) : {list}', en: '; address(es) now invalid: {list}' },
  fallback: { fr: ' ; étape reprise par son canal de repli : action {id}', en: '; step moved to its fallback channel: action {id}' },
  recorded: { fr: '{file} : {kind} de l’action {action} (client {customer}), enregistré', en: '{file}: {kind} of action {action} (customer {customer}), recorded' },
  reply: {
    fr: '{file} : réponse de {from} à l’action {action}, ajoutée à l’historique du client {customer} (note {note})',
    en: '{file}: reply from {from} to action {action}, added to the timeline of customer {customer} (note {note})',
  },
});

function inboundLine(lang: Lang, file: string, r: InboundResult): string {
  const kind = t(IM, lang, `kind_${r.kind}`);
  if (r.duplicate) return t(IM, lang, 'duplicate', { file, id: r.inboundId });
  if (!r.matched) return t(IM, lang, 'unmatched', { file, kind, id: r.inboundId });
  const who = { file, kind, action: r.actionId ?? '', customer: r.customerId ?? '' };
  if (r.kind === 'reply') return t(IM, lang, 'reply', { ...who, from: r.from ?? '?', note: r.noteId ?? '' });
  if (r.kind === 'bounce_hard') {
    return t(IM, lang, 'bounce_hard', {
      ...who,
      invalid: r.invalidated.length ? t(IM, lang, 'invalid', { list: r.invalidated.join(', ') }) : '',
      fallback: r.fallbackId ? t(IM, lang, 'fallback', { id: r.fallbackId }) : '',
    });
  }
  return t(IM, lang, 'recorded', who);
}
