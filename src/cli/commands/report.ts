/** `relance report steps|reasons`: which scenario steps get invoices paid, and why customers do not pay. */
import type { Command } from 'commander';
import { calendarDate, todayIn } from '../../domain/dates.ts';
import { validation } from '../../errors.ts';
import { defineMessages, type Lang, t } from '../../i18n/index.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import { nonPaymentReasons, stepEffectiveness } from '../../risk/effectiveness.ts';
import { replayScenario } from '../../risk/replay.ts';
import { CE } from '../errors.ts';
import { cliLang } from '../exit.ts';
import type { CliContext } from '../context.ts';
import { nonPaymentWord } from '../../delivery/words.ts';

const M = defineMessages({
  steps_title: { fr: 'Factures payées dans les 7 jours suivant chaque étape (étapes parties au moins 7 jours avant le {date}) :', en: 'Invoices paid within 7 days after each step (steps sent at least 7 days before {date}):' },
  step: { fr: '{scenario}, J{offset} {channel} ({tone}) : {paid} sur {n} factures, {share} %', en: '{scenario}, D{offset} {channel} ({tone}): {paid} of {n} invoices, {share} %' },
  none: { fr: 'Rien à mesurer pour l’instant.', en: 'Nothing to measure yet.' },
  reasons_title: { fr: 'Motifs de non-paiement (appels et litiges) :', en: 'Reasons for non-payment (calls and disputes):' },
  reason: { fr: '{reason} : {n} fois, {customers} client(s)', en: '{reason}: {n} times, {customers} customer(s)' },
  call: { fr: 'appel', en: 'call' },
  dispute: { fr: 'litige', en: 'dispute' },
  replay_title: { fr: 'Rejeu du scénario {scenario} sur les {n} factures échues du {from} au {to} :', en: 'Replay of scenario {scenario} on the {n} invoices due from {from} to {to}:' },
  replay_would: { fr: 'Il aurait fait {actions} actions ({channels}) et relancé {chased} factures.', en: 'It would have made {actions} actions ({channels}) and chased {chased} invoices.' },
  replay_actual: { fr: 'En réalité : {actions} actions envoyées ({channels}).', en: 'Actually: {actions} actions sent ({channels}).' },
});

export function register(program: Command, ctx: CliContext): void {
  const report = program.command('report').description('what works and why customers do not pay');
  const common = (c: Command) =>
    c
      .option('--date <YYYY-MM-DD>', 'as of this day (default: today)')
      .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
      .option('--json', 'JSON output')
      .option('--org <id>', 'organisation (id, SIREN or name)');
  const open = async (o: { date?: string; lang?: string; org?: string }) => {
    const l = (o.lang ?? cliLang(process.env)).toLowerCase() as Lang;
    if (l !== 'fr' && l !== 'en') throw validation(CE('lang_got', { value: String(o.lang) }), { field: '--lang' });
    const db = await ctx.openDb();
    const orgId = await ctx.resolveOrg(db, o.org);
    const org = await getOrganisation(db, orgId);
    const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
    return { l, db, orgId, today };
  };
  common(report.command('steps').description('for each scenario step, the share of the invoices it chased that were paid within 7 days after it')).action(
    async (o: { date?: string; lang?: string; json?: boolean; org?: string }) => {
      const { l, db, orgId, today } = await open(o);
      try {
        const lines = await stepEffectiveness(db, orgId, today);
        if (o.json) return ctx.out(JSON.stringify({ today, steps: lines }));
        ctx.out(t(M, l, 'steps_title', { date: today }));
        if (!lines.length) ctx.out(t(M, l, 'none'));
        for (const s of lines) {
          const share = Math.round(s.share * 1000) / 10;
          ctx.out(`- ${t(M, l, 'step', { scenario: s.scenario, offset: s.stepOffset >= 0 ? `+${s.stepOffset}` : String(s.stepOffset), channel: s.channel, tone: s.tone, paid: s.paidWithin7Days, n: s.invoices, share: l === 'fr' ? String(share).replace('.', ',') : String(share) })}`);
        }
      } finally {
        await db.close();
      }
    },
  );
  common(report.command('replay').description('what another scenario would have done on last year’s invoices (actions by channel, invoices chased), beside what was actually sent'))
    .requiredOption('--scenario <key>', 'the scenario to replay')
    .action(async (o: { scenario: string; date?: string; lang?: string; json?: boolean; org?: string }) => {
      const { l, db, orgId, today } = await open(o);
      try {
        const r = await replayScenario(db, orgId, o.scenario, today);
        if (o.json) return ctx.out(JSON.stringify(r));
        const list = (m: Record<string, number>) => Object.entries(m).map(([k, n]) => `${k} ${n}`).join(', ') || '—';
        ctx.out(t(M, l, 'replay_title', { scenario: r.scenario, n: r.invoices, from: r.from, to: r.to }));
        ctx.out(t(M, l, 'replay_would', { actions: r.wouldHave.actions, channels: list(r.wouldHave.byChannel), chased: r.wouldHave.invoicesChased }));
        ctx.out(t(M, l, 'replay_actual', { actions: r.actually.actions, channels: list(r.actually.byChannel) }));
      } finally {
        await db.close();
      }
    });
  common(report.command('reasons').description('reasons for non-payment recorded in call outcomes and disputes, most frequent first')).action(
    async (o: { date?: string; lang?: string; json?: boolean; org?: string }) => {
      const { l, db, orgId } = await open(o);
      try {
        const lines = await nonPaymentReasons(db, orgId);
        if (o.json) return ctx.out(JSON.stringify({ reasons: lines }));
        ctx.out(t(M, l, 'reasons_title'));
        if (!lines.length) ctx.out(t(M, l, 'none'));
        for (const r of lines) {
          const label = r.source === 'call' ? nonPaymentWord(r.reason, l) : r.reason;
          ctx.out(`- ${t(M, l, r.source)} · ${t(M, l, 'reason', { reason: label, n: r.count, customers: r.customers })}`);
        }
      } finally {
        await db.close();
      }
    },
  );
}
