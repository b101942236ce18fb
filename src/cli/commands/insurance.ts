/**
 * Credit insurance from the command line: `relance insurance policy set|show` (the insurer and the
 * policy's deadlines), `relance insurance cases` (debts the insurer must hear about, with their
 * deadlines), `relance insurance declaration` (the declaration's data, as JSON or a PDF) and
 * `relance insurance declared` (the declaration was made: its tasks are done).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { jsonReplacer } from '../../db/driver.ts';
import { calendarDate, formatLongDate } from '../../domain/dates.ts';
import { formatMoney } from '../../domain/money.ts';
import { validation } from '../../errors.ts';
import { getInsurancePolicy, insuranceDeclaration, insuranceDeclarationPdf, listInsuranceCases, markInsuranceDeclared, setInsurancePolicy } from '../../escalation/insurance.ts';
import { defineErrors, defineMessages, type Lang, t } from '../../i18n/index.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';
import { idOf, ORG, withOrg } from './escalation.ts';

const E = defineErrors('cli-insurance', {
  days: { fr: '{option} attend un nombre entier de jours, reçu « {value} »', en: '{option} takes a whole number of days, got "{value}"' },
  status: { fr: '--status attend open, declared ou settled', en: '--status takes open, declared or settled' },
});

const M = defineMessages({
  policy: {
    fr: 'Assurance-crédit : {insurer}{number}. Prorogation sans accord jusqu’à {extension} jours après l’échéance ; déclaration de menace de sinistre au plus tard {declaration} jours après l’échéance ; tâches {notice} jours avant chaque date limite.{inactive}',
    en: 'Credit insurance: {insurer}{number}. Extension without approval up to {extension} days after the due date; threatened-loss declaration at the latest {declaration} days after the due date; tasks {notice} days before each deadline.{inactive}',
  },
  number: { fr: ', police n° {n}', en: ', policy no. {n}' },
  inactive: { fr: ' (suspendue : aucune tâche)', en: ' (suspended: no tasks)' },
  no_policy: { fr: 'Aucune police d’assurance-crédit.', en: 'No credit insurance policy.' },
  no_case: { fr: 'Aucun dossier.', en: 'No case.' },
  case_line: {
    fr: '{id} {customer} : {n} facture(s), {open} dû, 1re échéance {first} — prorogation jusqu’au {extension}, déclaration avant le {declaration} — {status}',
    en: '{id} {customer}: {n} invoice(s), {open} owed, first due {first} — extension until {extension}, declaration by {declaration} — {status}',
  },
  status_open: { fr: 'à déclarer', en: 'to declare' },
  status_declared: { fr: 'déclaré le {on}', en: 'declared on {on}' },
  status_settled: { fr: 'réglé le {on}', en: 'paid on {on}' },
  written: { fr: '{file} : déclaration du dossier {id} ({debtor}), {total} dû.', en: '{file}: declaration of case {id} ({debtor}), {total} owed.' },
  declared: { fr: 'Dossier {id} déclaré à {insurer} le {on} : ses tâches sont faites.', en: 'Case {id} declared to {insurer} on {on}: its tasks are done.' },
});

const json = (v: unknown) => JSON.stringify(v, jsonReplacer);

function days(v: string | undefined, option: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,4}$/.test(v)) throw validation(E('days', { option, value: v }), { field: option });
  return Number(v);
}

function statusText(lang: Lang, c: { status: string; declaredOn: string | null; settledOn: string | null }): string {
  if (c.status === 'declared') return t(M, lang, 'status_declared', { on: formatLongDate(c.declaredOn as never, lang) });
  if (c.status === 'settled') return t(M, lang, 'status_settled', { on: formatLongDate(c.settledOn as never, lang) });
  return t(M, lang, 'status_open');
}

export function register(program: Command, ctx: CliContext): void {
  const ins = program.command('insurance').description("credit insurance: the insurer and the policy's deadlines, the debts to declare, the declaration's data");
  const policy = ins.command('policy').description("the organisation's credit insurance policy");
  policy
    .command('set')
    .description('record the insurer and the deadlines of the policy, counted from the original due date')
    .requiredOption('--insurer <name>', 'the credit insurer (e.g. Allianz Trade, Coface, Atradius)')
    .option('--policy-number <n>', 'the policy number')
    .requiredOption('--declaration-days <n>', 'days after the due date by which an unpaid debt is declared (threatened loss)')
    .requiredOption('--max-extension-days <n>', 'days after the due date up to which terms may be extended without approval')
    .option('--notice-days <n>', 'days before each deadline at which its task is raised', '10')
    .option('--inactive', 'keep the policy but raise no task')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: { insurer: string; policyNumber?: string; declarationDays: string; maxExtensionDays: string; noticeDays: string; inactive?: boolean; json?: boolean; org?: string }) => {
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const p = await db.tx((q) =>
          setInsurancePolicy(q, orgId, {
            insurer: o.insurer,
            policyNumber: o.policyNumber ?? null,
            declarationDays: days(o.declarationDays, '--declaration-days')!,
            maxExtensionDays: days(o.maxExtensionDays, '--max-extension-days')!,
            noticeDays: days(o.noticeDays, '--notice-days'),
            active: o.inactive !== true,
          }),
        );
        ctx.out(o.json ? json(p) : policyText(p, lang));
      });
    });
  policy
    .command('show')
    .description('the policy recorded')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: { json?: boolean; org?: string }) => {
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const p = await getInsurancePolicy(db, orgId);
        ctx.out(o.json ? json(p) : p ? policyText(p, lang) : t(M, lang, 'no_policy'));
      });
    });
  ins
    .command('cases')
    .description('unpaid debts the insurer must hear about, with their deadlines')
    .option('--status <status>', 'open, declared or settled')
    .option('--customer <id>', 'customer id')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: { status?: string; customer?: string; json?: boolean; org?: string }) => {
      if (o.status && !['open', 'declared', 'settled'].includes(o.status)) throw validation(E('status'), { field: '--status' });
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const list = await listInsuranceCases(db, orgId, { status: (o.status as 'open') ?? null, customerId: o.customer ? idOf(o.customer, '--customer') : null });
        if (o.json) return ctx.out(json(list));
        if (!list.length) ctx.out(t(M, lang, 'no_case'));
        const { currency } = await getOrganisation(db, orgId);
        for (const c of list) {
          ctx.out(
            t(M, lang, 'case_line', {
              id: String(c.id),
              customer: c.customerName,
              n: String(c.invoiceCount),
              open: formatMoney(c.openMinor, currency, lang),
              first: formatLongDate(c.firstDueDate, lang),
              extension: formatLongDate(c.extensionEndsOn, lang),
              declaration: formatLongDate(c.declarationDueOn, lang),
              status: statusText(lang, c),
            }),
          );
        }
      });
    });
  ins
    .command('declaration')
    .description("the declaration's data for the insurer: debtor, SIREN, amounts, due dates, steps taken (JSON, or a PDF with --out)")
    .requiredOption('--case <id>', 'case id (relance insurance cases)')
    .option('--out <file>', 'PDF to write')
    .option('--lang <fr|en>', "language of the PDF (default: the organisation's)")
    .option('--date <YYYY-MM-DD>', 'the day of the position (default: today)')
    .option(...ORG)
    .action(async (o: { case: string; out?: string; lang?: string; date?: string; org?: string }) => {
      const id = idOf(o.case, '--case');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        if (!o.out) return ctx.out(json(await insuranceDeclaration(db, orgId, id, today)));
        const r = await insuranceDeclarationPdf(db, orgId, id, today, o.lang === 'en' || o.lang === 'fr' ? o.lang : undefined);
        writeFileSync(o.out, r.pdf);
        ctx.out(t(M, lang, 'written', { file: o.out, id: String(id), debtor: r.declaration.debtor.name, total: formatMoney(r.declaration.totalOpenMinor, r.declaration.currency, lang) }));
      });
    });
  ins
    .command('declared')
    .description('the debt was declared to the insurer: the case and its tasks are done')
    .requiredOption('--case <id>', 'case id')
    .option('--reference <ref>', "the insurer's reference of the declaration")
    .option('--date <YYYY-MM-DD>', 'the day it was declared (default: today)')
    .option(...ORG)
    .action(async (o: { case: string; reference?: string; date?: string; org?: string }) => {
      const id = idOf(o.case, '--case');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const on = o.date ? calendarDate(o.date, { field: '--date' }) : today;
        await db.tx((q) => markInsuranceDeclared(q, orgId, id, on, o.reference ?? null));
        const p = await getInsurancePolicy(db, orgId);
        ctx.out(t(M, lang, 'declared', { id: String(id), insurer: p?.insurer ?? '', on: formatLongDate(on, lang) }));
      });
    });
}

function policyText(p: { insurer: string; policyNumber: string | null; declarationDays: number; maxExtensionDays: number; noticeDays: number; active: boolean }, lang: Lang): string {
  return t(M, lang, 'policy', {
    insurer: p.insurer,
    number: p.policyNumber ? t(M, lang, 'number', { n: p.policyNumber }) : '',
    extension: String(p.maxExtensionDays),
    declaration: String(p.declarationDays),
    notice: String(p.noticeDays),
    inactive: p.active ? '' : t(M, lang, 'inactive'),
  });
}
