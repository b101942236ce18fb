/**
 * `relance import customers|invoices|payments|fec|einvoice FILE [--mapping FILE] [--dry-run] [--json]`
 * (added to the shared `import` command), `relance users add`, `relance api-keys create|list|revoke`,
 * `relance webhooks deliver`. The import report is printed line by line, or as JSON; a rejected
 * import exits with the validation code and writes nothing.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { addUser, createApiKey, listApiKeys, revokeApiKey, ROLES, type Role, SCOPES, type Scope, setPassword } from '../../auth/index.ts';
import { ERROR_CODES, RelanceError, validation } from '../../errors.ts';
import { CE } from '../errors.ts';
import { type CsvKind, type ColumnMapping, importCsv } from '../../imports/csv.ts';
import { importEInvoices } from '../../imports/einvoice.ts';
import { importFec } from '../../imports/fec.ts';
import type { ImportProgress, ImportReport } from '../../imports/report.ts';
import { defineMessages, type Lang, t } from '../../i18n/index.ts';
import { formatMoney, parseAmount } from '../../domain/money.ts';
import { deliverDue } from '../../webhooks/index.ts';
import { networkPolicy } from '../../net/guard.ts';
import type { CliContext } from '../context.ts';
import { importCommand } from './bank.ts';

const M = defineMessages({
  read: { fr: '{file} : {rows} ligne(s) lue(s)', en: '{file}: {rows} row(s) read' },
  detected: { fr: 'lu comme : {what}', en: 'read as: {what}' },
  table: { fr: '{table} : {inserted} ajouté(s), {updated} mis à jour, {unchanged} inchangé(s)', en: '{table}: {inserted} added, {updated} updated, {unchanged} unchanged' },
  imported: { fr: 'import terminé', en: 'import done' },
  dryRun: { fr: 'essai à blanc : rien n’a été écrit', en: 'dry run: nothing was written' },
  rejected: { fr: '{count} ligne(s) refusée(s) : rien n’a été importé', en: '{count} row(s) rejected: nothing was imported' },
  problem: { fr: 'ligne {line}, colonne {column} : {reason}', en: 'line {line}, column {column}: {reason}' },
  more: { fr: '… et {count} autre(s)', en: '… and {count} more' },
  warning: { fr: 'attention : {text}', en: 'warning: {text}' },
  documents: { fr: '{count} document(s) lu(s) ; reste dû : {total}', en: '{count} document(s) read; open: {total}' },
  document: { fr: '  {kind} {number} du {issue}, échéance {due}, {buyer} : total {total}, reste dû {due_amount}', en: '  {kind} {number} of {issue}, due {due}, {buyer}: total {total}, open {due_amount}' },
  invoice: { fr: 'facture', en: 'invoice' },
  credit_note: { fr: 'avoir', en: 'credit note' },
  userCreated: { fr: 'utilisateur {email} ({role}) ; mot de passe (affiché une seule fois) : {password}', en: 'user {email} ({role}); password (shown once): {password}' },
  userCreatedWithPassword: { fr: 'utilisateur {email} ({role}) créé avec le mot de passe donné', en: 'user {email} ({role}) created with the password given' },
  userExists: { fr: 'utilisateur {email} : rôle {role} dans cette organisation (mot de passe inchangé)', en: 'user {email}: role {role} in this organisation (password unchanged)' },
  passwordSet: { fr: 'mot de passe de {email} changé ; {sessions} session(s) fermée(s)', en: 'password of {email} changed; {sessions} session(s) signed out' },
  passwordPrompt: { fr: 'Nouveau mot de passe pour {email} : ', en: 'New password for {email}: ' },
  passwordAgain: { fr: 'Encore une fois : ', en: 'Once more: ' },
  keyCreated: { fr: 'clé d’API {prefix}… ({scope}) ; à copier maintenant, elle ne sera plus affichée :', en: 'API key {prefix}… ({scope}); copy it now, it will not be shown again:' },
  delivered: { fr: '{attempted} livraison(s) tentée(s) : {delivered} réussie(s), {failed} en échec', en: '{attempted} delivery attempt(s): {delivered} delivered, {failed} failed' },
});

/** Reads a password on the terminal without echoing it, twice; they must match. */
async function promptTwice(first: string, again: string): Promise<string> {
  const a = await promptHidden(first);
  const b = await promptHidden(again);
  if (a !== b) throw validation(CE('passwords_differ'), { field: '--password' });
  return a;
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw validation(CE('no_tty_password'), { field: '--password-stdin' });
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(validation(CE('cancelled'), { field: '--password' }));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

const lang = (): Lang => (process.env.RELANCE_LANG === 'en' || /^en/.test(process.env.LANG ?? '') ? 'en' : 'fr');
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);

/** A progress bar on stderr when it is a terminal; nothing otherwise (pipes, CI logs). */
function progressBar(): { update(p: ImportProgress): void; done(): void } {
  if (!process.stderr.isTTY) return { update() {}, done() {} };
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const frac = p.bytesTotal ? Math.min(1, p.bytesRead / p.bytesTotal) : 0;
      const width = 30;
      const filled = Math.round(frac * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${p.rows.toLocaleString('fr-FR')} rows`);
    },
    done() {
      process.stderr.write('\r\x1b[K');
    },
  };
}

export function printReport(ctx: CliContext, r: ImportReport, l: Lang) {
  ctx.out(t(M, l, 'read', { file: r.filename ?? '-', rows: r.rowsRead }));
  const d = r.detected;
  const what = Object.entries(d)
    .filter(([k]) => k !== 'columns' && k !== 'files')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  if (what) ctx.out(t(M, l, 'detected', { what }));
  if (d.columns) for (const [f, h] of Object.entries(d.columns as Record<string, string>)) ctx.out(`  ${f} <- "${h}"`);
  for (const w of r.warnings) ctx.out(t(M, l, 'warning', { text: w }));
  if (r.outcome === 'rejected') {
    ctx.out(t(M, l, 'rejected', { count: r.problemCount }));
    for (const p of r.problems.slice(0, 200)) ctx.out(`  ${t(M, l, 'problem', { line: p.line ?? '-', column: p.column ?? '-', reason: p.reason })}`);
    if (r.problemCount > 200) ctx.out(`  ${t(M, l, 'more', { count: r.problemCount - 200 })}`);
    return;
  }
  for (const [table, c] of Object.entries(r.counts)) ctx.out(t(M, l, 'table', { table, ...c }));
  if (r.documentCount) {
    const total = Object.entries(r.openTotal).map(([cur, v]) => formatMoney(parseAmount(v, cur), cur, l)).join(', ');
    ctx.out(t(M, l, 'documents', { count: r.documentCount, total }));
    for (const d of r.documents.slice(0, 50)) {
      ctx.out(
        t(M, l, 'document', {
          kind: t(M, l, d.kind),
          number: d.number,
          issue: d.issueDate ?? '-',
          due: d.dueDate ?? '-',
          buyer: d.buyer,
          total: formatMoney(parseAmount(d.total, d.currency), d.currency, l),
          due_amount: formatMoney(parseAmount(d.amountDue, d.currency), d.currency, l),
        }),
      );
    }
    if (r.documentCount > 50) ctx.out(`  ${t(M, l, 'more', { count: r.documentCount - 50 })}`);
  }
  ctx.out(t(M, l, r.outcome === 'dry_run' ? 'dryRun' : 'imported'));
}

function readMapping(path: string | undefined): ColumnMapping | undefined {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ColumnMapping;
  } catch (e) {
    throw validation(CE('mapping_file', { reason: (e as Error).message }), { file: path, field: '--mapping' });
  }
}

interface ImportOpts {
  mapping?: string;
  dryRun?: boolean;
  json?: boolean;
  org?: string;
  encoding?: string;
}

export function register(program: Command, ctx: CliContext): void {
  const imp = importCommand(program);
  const run = async (kind: CsvKind | 'fec' | 'einvoice', files: string[], o: ImportOpts) => {
    const db = await ctx.openDb();
    try {
      const orgId = await ctx.resolveOrg(db, o.org);
      const bar = o.json ? { update() {}, done() {} } : progressBar();
      const opts = { dryRun: o.dryRun, onProgress: (p: ImportProgress) => bar.update(p), lang: lang() };
      for (const f of files) {
        try {
          readFileSync(f, { flag: 'r' }).subarray(0, 0);
        } catch (e) {
          throw new RelanceError(ERROR_CODES.NOT_FOUND, CE('cannot_read', { file: f, reason: (e as Error).message }), { where: { file: f } });
        }
      }
      let report: ImportReport;
      if (kind === 'fec') report = await importFec(db, orgId, { path: files[0]! }, { ...opts, encoding: o.encoding });
      else if (kind === 'einvoice') report = await importEInvoices(db, orgId, files.map((path) => ({ path })), opts);
      else {
        const mapping = readMapping(o.mapping);
        report = await importCsv(db, orgId, kind, { path: files[0]! }, { ...opts, mapping: o.encoding ? { ...mapping, encoding: o.encoding } : mapping });
      }
      bar.done();
      if (o.json) ctx.out(json(report));
      else printReport(ctx, report, lang());
      if (report.outcome === 'rejected') process.exitCode = 2;
    } finally {
      await db.close();
    }
  };
  for (const kind of ['customers', 'invoices', 'payments'] as const) {
    imp
      .command(`${kind} <file>`)
      .description(`import ${kind} from a CSV file (, ; or TAB; UTF-8 or Windows-1252; French or English headers)`)
      .option('--mapping <file>', 'JSON mapping: {"columns": {"number": "Num pièce", ...}, "dateFormat": "dd/mm/yyyy", "separator": ";"}')
      .option('--encoding <name>', 'utf-8, windows-1252 or iso-8859-15 (detected otherwise)')
      .option('--dry-run', 'check everything and count what would change, write nothing')
      .option('--json', 'print the report as JSON')
      .option('--org <org>', 'organisation (id, SIREN or name)')
      .action((file: string, o: ImportOpts) => run(kind, [file], o));
  }
  imp
    .command('fec <file>')
    .description('import the receivables of a FEC (Fichier des écritures comptables): 411 customers, open items, lettering')
    .option('--encoding <name>', 'utf-8, iso-8859-15 or windows-1252 (detected otherwise)')
    .option('--dry-run', 'check everything and count what would change, write nothing')
    .option('--json', 'print the report as JSON')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action((file: string, o: ImportOpts) => run('fec', [file], o));
  imp
    .command('einvoice <files...>')
    .description('import e-invoices: Factur-X / ZUGFeRD PDF, CII XML or UBL XML')
    .option('--dry-run', 'check everything, write nothing')
    .option('--json', 'print the report as JSON')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action((files: string[], o: ImportOpts) => run('einvoice', files, o));

  const users = program.command('users').description('people who sign in to the web app');
  users
    .command('add')
    .description('add a user to the organisation (the password is generated and shown once unless --password is given)')
    .requiredOption('--email <email>', 'sign-in address')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--password <password>', 'at least 12 characters (prefer the generated one)')
    .option('--name <name>', 'display name')
    .option('--lang <fr|en>', 'interface language', 'fr')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { email: string; role: string; password?: string; name?: string; lang: string; org?: string }) => {
      if (!(ROLES as readonly string[]).includes(o.role)) throw validation(CE('one_of', { option: '--role', allowed: ROLES.join(', ') }), { field: '--role' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const r = await db.tx((q) => addUser(q, orgId, { email: o.email, role: o.role as Role, password: o.password, name: o.name, language: o.lang === 'en' ? 'en' : 'fr' }));
        const vars = { email: r.email, role: r.role };
        ctx.out(
          r.password ? t(M, lang(), 'userCreated', { ...vars, password: r.password }) : r.created ? t(M, lang(), 'userCreatedWithPassword', vars) : t(M, lang(), 'userExists', vars),
        );
      } finally {
        await db.close();
      }
    });
  users
    .command('password')
    .description("set a person's password (asked twice on a terminal, or read from standard input with --password-stdin); every session of theirs is signed out")
    .requiredOption('--email <email>', 'sign-in address')
    .option('--password-stdin', 'read the new password from standard input (first line)')
    .action(async (o: { email: string; passwordStdin?: boolean }) => {
      const password = o.passwordStdin ? readFileSync(0, 'utf8').split(/\r?\n/)[0]! : await promptTwice(t(M, lang(), 'passwordPrompt', { email: o.email }), t(M, lang(), 'passwordAgain'));
      const db = await ctx.openDb();
      try {
        const r = await db.tx((q) => setPassword(q, o.email, password));
        ctx.out(t(M, lang(), 'passwordSet', { email: o.email.trim().toLowerCase(), sessions: r.sessionsRevoked }));
      } finally {
        await db.close();
      }
    });

  const keys = program.command('api-keys').description('keys for the REST API (/api/v1)');
  keys
    .command('create')
    .description('create an API key; it is printed once and stored hashed')
    .requiredOption('--scope <scope>', `one of ${SCOPES.join(', ')}`)
    .option('--name <name>', 'what the key is for', 'cli')
    .option('--json', 'print as JSON')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { scope: string; name: string; json?: boolean; org?: string }) => {
      if (!(SCOPES as readonly string[]).includes(o.scope)) throw validation(CE('one_of', { option: '--scope', allowed: SCOPES.join(', ') }), { field: '--scope' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const k = await createApiKey(db, orgId, { name: o.name, scope: o.scope as Scope });
        if (o.json) ctx.out(json({ id: k.id, key: k.key, scope: k.scope, organisationId: orgId }));
        else {
          ctx.out(t(M, lang(), 'keyCreated', { prefix: k.prefix, scope: k.scope }));
          ctx.out(k.key);
        }
      } finally {
        await db.close();
      }
    });
  keys
    .command('list')
    .description('list the API keys of the organisation (prefix, scope, name, last use; never the key)')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        for (const k of await listApiKeys(db, orgId)) ctx.out(`${k.id}\t${k.prefix}…\t${k.scope}\t${k.name}\t${k.revoked_at ? `revoked ${k.revoked_at}` : `last used ${k.last_used_at ?? '-'}`}`);
      } finally {
        await db.close();
      }
    });
  keys
    .command('revoke <id>')
    .description('revoke an API key: requests made with it are refused from now on')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (id: string, o: { org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        await revokeApiKey(db, orgId, BigInt(id), new Date());
      } finally {
        await db.close();
      }
    });

  program
    .command('webhooks')
    .description('webhook deliveries')
    .command('deliver')
    .description('post the webhook deliveries that are due (the server does this continuously)')
    .action(async () => {
      const db = await ctx.openDb();
      try {
        const r = await deliverDue(db, { policy: networkPolicy(ctx.config.webhookAllowNetworks) });
        ctx.out(t(M, lang(), 'delivered', r));
      } finally {
        await db.close();
      }
    });
}
