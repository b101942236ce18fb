/**
 * `relance import bank FILE` and `relance bank reconcile|review|accept|undo`.
 * The `import` command is shared with other importers (customers, invoices, payments, FEC,
 * e-invoices): `importCommand(program)` finds it or creates it, so each area adds its subcommand.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { importBankFile } from '../../bank/import.ts';
import { acceptProposal, reconcile, reviewQueue, undoMatch } from '../../bank/reconcile.ts';
import type { Db } from '../../db/driver.ts';
import { todayIn } from '../../domain/dates.ts';
import { replanOnPayment } from '../../engine/events.ts';
import { formatMoney, parseAmount, toDecimalString } from '../../domain/money.ts';
import { ERROR_CODES, RelanceError, validation } from '../../errors.ts';
import type { CsvMapping } from '../../formats/bank/csv.ts';
import { defineErrors, defineMessages, type Lang, renderText, t } from '../../i18n/index.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';

const E = defineErrors('cli-bank', {
  threshold: { fr: "--threshold doit être compris entre 0 et 1", en: "--threshold must be between 0 and 1" },
  cannot_read: { fr: "impossible de lire {file} : {reason}", en: "cannot read {file}: {reason}" },
  mapping_file: { fr: "fichier de correspondance : {reason}", en: "mapping file: {reason}" },
});

/** Reconciled payments re-plan their customers at once: pending reminders are cancelled. */
async function replanHook(db: Db, orgId: string) {
  const org = await getOrganisation(db, orgId);
  return replanOnPayment(todayIn(org.timeZone, Date.now()));
}

const M = defineMessages({
  warning: { fr: 'attention : {text}', en: 'warning: {text}' },
  read: { fr: '{file} : {format}, {statements} relevé(s), {read} ligne(s) lue(s)', en: '{file}: {format}, {statements} statement(s), {read} line(s) read' },
  imported: { fr: '{new} nouvelle(s) ligne(s) importée(s), {duplicates} déjà présente(s)', en: '{new} new line(s) imported, {duplicates} already there' },
  dryRun: { fr: 'essai à blanc : {new} ligne(s) seraient importées, {duplicates} déjà présente(s) ; rien n’a été écrit', en: 'dry run: {new} line(s) would be imported, {duplicates} already there; nothing was written' },
  totals: { fr: '{currency} : {credits} crédit(s) pour {creditSum}, {debits} débit(s) pour {debitSum}', en: '{currency}: {credits} credit(s) totalling {creditSum}, {debits} debit(s) totalling {debitSum}' },
  reconciled: {
    fr: 'rapprochement : {matched} payé(s) automatiquement, {review} à revoir, {unmatched} sans correspondance, {ignored} ignoré(s), {reversed} annulation(s)',
    en: 'reconciliation: {matched} applied automatically, {review} to review, {unmatched} unmatched, {ignored} ignored, {reversed} reversal(s)',
  },
  queueEmpty: { fr: 'rien à revoir', en: 'nothing to review' },
});

/** The shared `import` command: found if another area created it, created otherwise. */
export function importCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'import') ?? program.command('import').description('import data from files (bank statements, ...)');
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

function matchOptions(o: { threshold?: string; chargesTolerance?: string; chargesOpen?: boolean }) {
  const out: { autoThreshold?: number; bankChargesToleranceMinor?: bigint; bankCharges?: 'write_off' | 'leave_open' } = {};
  if (o.threshold !== undefined) {
    const n = Number(o.threshold);
    if (!(n >= 0 && n <= 1)) throw validation(E('threshold'), { field: '--threshold' });
    out.autoThreshold = n;
  }
  if (o.chargesTolerance !== undefined) out.bankChargesToleranceMinor = parseAmount(o.chargesTolerance, 'EUR', { field: '--charges-tolerance' });
  if (o.chargesOpen) out.bankCharges = 'leave_open';
  return out;
}

export function register(program: Command, ctx: CliContext): void {
  importCommand(program)
    .command('bank <file>')
    .description('import a bank statement (camt.053, CFONB 120, OFX, CSV) and match its credits to open invoices')
    .option('--account <iban>', "the organisation's bank account the statement belongs to")
    .option('--dry-run', 'read and check the file, show what would be imported, write nothing')
    .option('--json', 'print the lines and the summary as JSON')
    .option('--mapping <file>', 'CSV column mapping (JSON: {"columns": {"bookingDate": "Date", "amount": "Montant", ...}})')
    .option('--no-reconcile', 'import only; do not match the new lines')
    .option('--threshold <0..1>', 'confidence from which a match is applied without review (default 0.9)')
    .option('--charges-tolerance <amount>', 'bank charges a payer may deduct, e.g. 15,00 (default 0: off)')
    .option('--charges-open', 'leave deducted bank charges open on the invoice instead of writing them off')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (file: string, o: { account?: string; dryRun?: boolean; json?: boolean; mapping?: string; reconcile: boolean; org?: string; threshold?: string; chargesTolerance?: string; chargesOpen?: boolean }) => {
      let content: Buffer;
      try {
        content = readFileSync(file);
      } catch (e) {
        throw new RelanceError(ERROR_CODES.NOT_FOUND, E('cannot_read', { file, reason: (e as Error).message }), { where: { file } });
      }
      let mapping: CsvMapping | undefined;
      if (o.mapping) {
        try {
          mapping = JSON.parse(readFileSync(o.mapping, 'utf8')) as CsvMapping;
        } catch (e) {
          throw new RelanceError(ERROR_CODES.PARSE, E('mapping_file', { reason: (e as Error).message }), { where: { file: o.mapping } });
        }
      }
      const settings = matchOptions(o);
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const lang = org.language as Lang;
        const r = await importBankFile(db, orgId, content, { filename: file, account: o.account, dryRun: o.dryRun, mapping });
        const rec = !o.dryRun && o.reconcile ? await reconcile(db, orgId, { ...settings, onCustomersChanged: await replanHook(db, orgId), lineIds: r.lines.filter((l) => l.status === 'new' && l.id !== null).map((l) => l.id!) }) : null;
        if (o.json) {
          ctx.out(
            json({
              format: r.format,
              version: r.version,
              file,
              dryRun: r.dryRun,
              lines: r.lines.map((l) => ({ ...l, amount: toDecimalString(l.amountMinor, l.currency) })),
              summary: {
                ...r.summary,
                byCurrency: Object.fromEntries(
                  Object.entries(r.summary.byCurrency).map(([c, v]) => [
                    c,
                    { credits: { ...v.credits, total: toDecimalString(v.credits.totalMinor, c) }, debits: { ...v.debits, total: toDecimalString(v.debits.totalMinor, c) } },
                  ]),
                ),
              },
              warnings: r.warnings,
              reconciliation: rec,
            }),
          );
          return;
        }
        ctx.out(t(M, lang, 'read', { file, format: r.version ?? r.format, statements: r.statements, read: r.summary.read }));
        for (const w of r.warningTexts) ctx.out(t(M, lang, 'warning', { text: renderText(w, lang) }));
        ctx.out(t(M, lang, r.dryRun ? 'dryRun' : 'imported', { new: r.summary.new, duplicates: r.summary.duplicates }));
        for (const [currency, v] of Object.entries(r.summary.byCurrency)) {
          ctx.out(
            t(M, lang, 'totals', {
              currency,
              credits: v.credits.count,
              creditSum: formatMoney(v.credits.totalMinor, currency, lang),
              debits: v.debits.count,
              debitSum: formatMoney(v.debits.totalMinor, currency, lang),
            }),
          );
        }
        if (rec) ctx.out(t(M, lang, 'reconciled', { ...rec, customerIds: '', timings: '' }));
      } finally {
        await db.close();
      }
    });

  const bank = program.command('bank').description('bank reconciliation: match imported statement lines to invoices');
  bank
    .command('reconcile')
    .description('match every bank line not yet matched; apply the sure ones, queue the others for review')
    .option('--threshold <0..1>', 'confidence from which a match is applied without review (default 0.9)')
    .option('--charges-tolerance <amount>', 'bank charges a payer may deduct (default 0: off)')
    .option('--charges-open', 'leave deducted bank charges open instead of writing them off')
    .option('--json', 'print the result as JSON')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { threshold?: string; chargesTolerance?: string; chargesOpen?: boolean; json?: boolean; org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const lang = (await getOrganisation(db, orgId)).language as Lang;
        const r = await reconcile(db, orgId, { ...matchOptions(o), onCustomersChanged: await replanHook(db, orgId) });
        ctx.out(o.json ? json(r) : t(M, lang, 'reconciled', { ...r, customerIds: '', timings: '' }));
      } finally {
        await db.close();
      }
    });
  bank
    .command('review')
    .description('list the credits waiting for a person, with their candidate matches')
    .option('--json', 'print as JSON')
    .option('--lang <fr|en>', 'language of the reasons')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { json?: boolean; lang?: Lang; org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const lang = o.lang ?? ((await getOrganisation(db, orgId)).language as Lang);
        const items = await reviewQueue(db, orgId);
        if (o.json) return ctx.out(json(items));
        if (items.length === 0) return ctx.out(t(M, lang, 'queueEmpty'));
        for (const i of items) {
          ctx.out(`#${i.lineId} ${i.bookingDate} ${formatMoney(i.amountMinor, i.currency, lang)} ${i.counterpartyName ?? ''} ${i.text ?? ''}`.trim());
          for (const c of i.candidates) ctx.out(`   [${c.proposalId}] ${Math.round(c.confidence * 100)} % ${c.reason[lang]}`);
        }
      } finally {
        await db.close();
      }
    });
  bank
    .command('accept <proposal>')
    .description('apply a candidate match from the review queue')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (proposal: string, o: { org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const payment = await acceptProposal(db, orgId, BigInt(proposal), { onCustomersChanged: await replanHook(db, orgId) });
        ctx.out(`payment ${payment}`);
      } finally {
        await db.close();
      }
    });
  bank
    .command('undo <line>')
    .description('undo the match of a bank line (it goes back to the review queue)')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (line: string, o: { org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        await undoMatch(db, orgId, BigInt(line), { onCustomersChanged: await replanHook(db, orgId) });
        ctx.out(`line ${line}: match undone`);
      } finally {
        await db.close();
      }
    });
}
