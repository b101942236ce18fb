/**
 * `relance risk`: a customer's payment behaviour and risk score with its reasons in words (French
 * or English), or every customer's recomputed and kept (--all).
 */
import type { Command } from 'commander';
import { jsonReplacer } from '../../db/driver.ts';
import { calendarDate, formatLongDate, todayIn } from '../../domain/dates.ts';
import { riskLevelText, riskReasonText } from '../../domain/risk.ts';
import { formatMoney } from '../../domain/money.ts';
import { validation } from '../../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../../i18n/index.ts';
import { getCustomer, getOrganisation } from '../../ledger/repo.ts';
import { computeRisk, refreshRisk } from '../../risk/behaviour.ts';
import { customerExpectedRecovery } from '../../risk/recovery.ts';
import { cashInForecast } from '../../risk/forecast.ts';
import { CE } from '../errors.ts';
import { cliLang } from '../exit.ts';
import type { CliContext } from '../context.ts';

const RE = defineErrors('cli-risk', {
  customer_or_all: { fr: 'indiquez --customer ID ou --all', en: 'give --customer ID or --all' },
});

const M = defineMessages({
  title: { fr: '{name} (client {id}) : score de risque {score}/100, {level}', en: '{name} (customer {id}): risk score {score}/100, {level}' },
  reasons: { fr: 'Pourquoi :', en: 'Why:' },
  late: { fr: 'Retard moyen pondéré : {all} (tout l’historique), {last12} (12 mois), {last6} (6 mois)', en: 'Weighted average days late: {all} (all history), {last12} (12 months), {last6} (6 months)' },
  days: { fr: '{n} j', en: '{n} days' },
  none: { fr: '—', en: '—' },
  steps: { fr: 'Factures réglées : {n} ; sans relance {r0} %, après 1 relance {r1} %, après 2 {r2} %, après 3 ou plus {r3} %', en: 'Invoices settled: {n}; with no reminder {r0} %, after 1 reminder {r1} %, after 2 {r2} %, after 3 or more {r3} %' },
  promises: { fr: 'Promesses : {kept} tenue(s), {broken} non tenue(s) ; litiges : {disputes} ({open} en cours)', en: 'Promises: {kept} kept, {broken} broken; disputes: {disputes} ({open} open)' },
  open: { fr: 'Doit aujourd’hui : {open}, dont échu {overdue} (plus de 90 j : {overdue90})', en: 'Owes today: {open}, of which overdue {overdue} (over 90 days: {overdue90})' },
  expected_title: { fr: 'Recouvrement attendu des factures ouvertes :', en: 'Expected recovery of the open invoices:' },
  expected_line: { fr: '{number} échue depuis {days} j : {open} × {p} % = {expected}', en: '{number} {days} days overdue: {open} × {p} % = {expected}' },
  expected_total: { fr: 'Total attendu : {expected} sur {open}', en: 'Expected in all: {expected} of {open}' },
  all: { fr: 'Risque recalculé pour {n} clients au {date}.', en: 'Risk recomputed for {n} customers as of {date}.' },
});

export function register(program: Command, ctx: CliContext): void {
  registerForecast(program, ctx);
  program
    .command('risk')
    .description("a customer's payment behaviour and risk score with its reasons (--customer), or every customer's recomputed and kept (--all)")
    .option('--customer <id>', 'customer id')
    .option('--all', 'recompute and keep the risk of every customer')
    .option('--date <YYYY-MM-DD>', 'as of this day (default: today)')
    .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { customer?: string; all?: boolean; date?: string; lang?: string; json?: boolean; org?: string }) => {
      const l = (o.lang ?? cliLang(process.env)).toLowerCase() as Lang;
      if (l !== 'fr' && l !== 'en') throw validation(CE('lang_got', { value: String(o.lang) }), { field: '--lang' });
      if (!o.customer === !o.all) throw validation(RE('customer_or_all'), { field: '--customer' });
      if (o.customer && !/^\d{1,18}$/.test(o.customer)) throw validation(CE('customer_id', { value: o.customer }), { field: '--customer' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        if (o.all) {
          const n = await db.tx((q) => refreshRisk(q, orgId, today));
          ctx.out(o.json ? JSON.stringify({ customers: n, computedOn: today }) : t(M, l, 'all', { n, date: today }));
          return;
        }
        const id = BigInt(o.customer!);
        const customer = await getCustomer(db, orgId, id);
        await db.tx((q) => refreshRisk(q, orgId, today, [id]));
        const [r] = await computeRisk(db, orgId, today, [id]);
        const risk = r!;
        if (o.json) {
          ctx.out(
            JSON.stringify(
              { customerId: id, legalName: customer.legalName, computedOn: today, score: risk.score, level: risk.level, reasons: risk.reasons.map((x) => ({ ...x, text: riskReasonText(x, l) })), behaviour: risk.behaviour },
              jsonReplacer,
            ),
          );
          return;
        }
        const b = risk.behaviour;
        const days = (v: number | null) => (v === null ? t(M, l, 'none') : t(M, l, 'days', { n: l === 'fr' ? String(v).replace('.', ',') : String(v) }));
        const share = (k: number) => (b.settledCount === 0 ? 0 : Math.round((b.paidAfterReminders[k]! * 100) / b.settledCount));
        const money = (m: bigint) => formatMoney(m, org.currency, l);
        ctx.out(t(M, l, 'title', { name: customer.legalName, id: String(id), score: risk.score, level: riskLevelText(risk.level, l) }));
        ctx.out(t(M, l, 'reasons'));
        for (const x of risk.reasons) ctx.out(`- ${riskReasonText(x, l)}`);
        ctx.out(t(M, l, 'late', { all: days(b.daysLate.all), last12: days(b.daysLate.last12), last6: days(b.daysLate.last6) }));
        ctx.out(t(M, l, 'steps', { n: b.settledCount, r0: share(0), r1: share(1), r2: share(2), r3: share(3) }));
        ctx.out(t(M, l, 'promises', { kept: b.promisesKept, broken: b.promisesBroken, disputes: b.disputes, open: b.disputesOpen }));
        ctx.out(t(M, l, 'open', { open: money(b.openMinor), overdue: money(b.overdueMinor), overdue90: money(b.overdue90Minor) }));
        const { invoices } = await customerExpectedRecovery(db, orgId, id, today);
        if (invoices.length) {
          ctx.out(t(M, l, 'expected_title'));
          for (const x of invoices) {
            const p = Math.round(x.probability * 1000) / 10;
            ctx.out(`- ${t(M, l, 'expected_line', { number: x.number, days: Math.max(0, x.daysOverdue), open: money(x.openMinor), p: l === 'fr' ? String(p).replace('.', ',') : String(p), expected: money(x.expectedMinor) })}`);
          }
          ctx.out(t(M, l, 'expected_total', { expected: money(invoices.reduce((s, x) => s + x.expectedMinor, 0n)), open: money(invoices.reduce((s, x) => s + x.openMinor, 0n)) }));
        }
      } finally {
        await db.close();
      }
    });
}

const F = defineMessages({
  title: { fr: 'Encaissements attendus par semaine (13 semaines à partir du {from}) :', en: 'Expected cash-in by week (13 weeks from {from}):' },
  week: { fr: 'semaine du {from} : {expected} (échéances seules : {naive})', en: 'week of {from}: {expected} (due dates only: {naive})' },
  total: { fr: 'Total : {expected} (échéances seules : {naive})', en: 'Total: {expected} (due dates only: {naive})' },
  backtest: {
    fr: 'Erreur du rétro-test sur votre historique ({n} départs, 13 semaines chacun, WAPE) : {wape} % ; prévision naïve par échéances : {naive} %',
    en: 'Back-test error on your history ({n} origins of 13 weeks, WAPE): {wape} %; naive forecast by due dates: {naive} %',
  },
  no_backtest: { fr: 'Pas assez d’historique pour un rétro-test.', en: 'Not enough history for a back-test.' },
});

export function registerForecast(program: Command, ctx: CliContext): void {
  program
    .command('forecast')
    .description('expected cash-in by week for 13 weeks (due dates, customers’ habits, chance of payment, promises, plans), with its back-test error on your history beside a naive forecast')
    .option('--date <YYYY-MM-DD>', 'from this day (default: today)')
    .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { date?: string; lang?: string; json?: boolean; org?: string }) => {
      const l = (o.lang ?? cliLang(process.env)).toLowerCase() as Lang;
      if (l !== 'fr' && l !== 'en') throw validation(CE('lang_got', { value: String(o.lang) }), { field: '--lang' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        const f = await cashInForecast(db, orgId, today);
        if (o.json) {
          ctx.out(JSON.stringify({ from: f.from, weeks: f.weeks, backtest: { wape: f.backtest.wape, naiveWape: f.backtest.naiveWape, origins: f.backtest.origins } }, jsonReplacer));
          return;
        }
        const money = (m: bigint) => formatMoney(m, org.currency, l);
        const pct = (x: number) => (l === 'fr' ? (Math.round(x * 1000) / 10).toString().replace('.', ',') : String(Math.round(x * 1000) / 10));
        ctx.out(t(F, l, 'title', { from: formatLongDate(today, l) }));
        for (const w of f.weeks) ctx.out(`- ${t(F, l, 'week', { from: formatLongDate(w.from, l), expected: money(w.expectedMinor), naive: money(w.naiveMinor) })}`);
        ctx.out(t(F, l, 'total', { expected: money(f.weeks.reduce((s, w) => s + w.expectedMinor, 0n)), naive: money(f.weeks.reduce((s, w) => s + w.naiveMinor, 0n)) }));
        if (f.backtest.wape === null || f.backtest.naiveWape === null) ctx.out(t(F, l, 'no_backtest'));
        else ctx.out(t(F, l, 'backtest', { n: f.backtest.origins.length, wape: pct(f.backtest.wape), naive: pct(f.backtest.naiveWape) }));
      } finally {
        await db.close();
      }
    });
}
