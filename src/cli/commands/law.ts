/**
 * Late-payment law on the command line: `relance rates list|set|remove` keeps the legal rate tables
 * current (no network: the operator types the published rate), `relance late-fees` computes the
 * interest and fixed compensation of one debt with its breakdown.
 */
import type { Command } from 'commander';
import { type CalendarDate, formatLongDate, formatShortDate, parseCalendarDate, todayIn } from '../../domain/dates.ts';
import {
  computeLateFees,
  type CreditorKind,
  type DebtorKind,
  JURISDICTIONS,
  type Jurisdiction,
  type LateFeeInput,
  type LateFeeResult,
  LAW_MESSAGES,
  RATE_TABLE_NAMES,
  type RateTables,
  renderLawNote,
  validateRateOverride,
} from '../../domain/law/index.ts';
import { assertCurrency, formatMoney, parseAmount, toDecimalString } from '../../domain/money.ts';
import { validation } from '../../errors.ts';
import { CE } from '../errors.ts';
import { defineMessages, type Lang, t } from '../../i18n/index.ts';
import { loadRateTables, removeRateOverride, setRateOverride } from '../../law/rates-repo.ts';
import type { CliContext } from '../context.ts';

const M = defineMessages({
  title_business: { fr: 'Pénalités de retard — {jurisdiction}, débiteur professionnel', en: 'Late-payment interest — {jurisdiction}, business debtor' },
  title_consumer: { fr: 'Intérêts de retard — {jurisdiction}, débiteur consommateur', en: 'Late-payment interest — {jurisdiction}, consumer debtor' },
  debt: {
    fr: 'Montant dû : {amount} — échéance le {due} — {untilLabel} le {until} ({days} jours de retard)',
    en: 'Amount due: {amount} — due on {due} — {untilLabel} on {until} ({days} days late)',
  },
  paid: { fr: 'payé', en: 'paid' },
  computed: { fr: 'calculé', en: 'computed' },
  not_late: { fr: 'Aucun retard : rien n’est dû.', en: 'Not late: nothing is owed.' },
  period: {
    fr: 'du {from} au {to} : {days} j × {rate} % sur {base} = {interest}{flag}',
    en: '{from} to {to}: {days} d × {rate}% on {base} = {interest}{flag}',
  },
  provisional_flag: { fr: ' (provisoire)', en: ' (provisional)' },
  source: { fr: '    taux : {source}', en: '    rate: {source}' },
  interest: { fr: 'Intérêts de retard : {amount}', en: 'Interest: {amount}' },
  indemnity: { fr: 'Indemnité forfaitaire pour frais de recouvrement : {amount}', en: 'Fixed recovery compensation: {amount}' },
  total: { fr: 'Total : {amount}', en: 'Total: {amount}' },
  provisional_total: {
    fr: 'PROVISOIRE : au moins une période utilise un taux non encore publié (voir ci-dessous).',
    en: 'PROVISIONAL: at least one period uses a rate not yet known (see below).',
  },
  rounding: { fr: 'Arrondi : {rule}', en: 'Rounding: {rule}' },
  rates_table: { fr: '{name} — {description} (connu jusqu’au {knownThrough})', en: '{name} — {description} (known through {knownThrough})' },
  rate_set: { fr: 'taux {table} à compter du {from} : {rate} %', en: '{table} rate from {from}: {rate}%' },
  rate_removed: { fr: 'taux {table} du {from} supprimé', en: '{table} rate of {from} removed' },
});

const LANG_HELP = 'language of the output: fr or en';

function lang(v: string | undefined): Lang {
  const l = (v ?? 'fr').toLowerCase();
  if (l !== 'fr' && l !== 'en') throw validation(CE('lang_not', { value: String(v) }), { field: '--lang' });
  return l;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw validation(CE('one_of_not', { option, allowed: allowed.join(', '), value }), { field: option });
  return value as T;
}

async function withRates<T>(ctx: CliContext, fn: (rates: RateTables) => T | Promise<T>): Promise<T> {
  const db = await ctx.openDb();
  try {
    return await fn(await loadRateTables(db));
  } finally {
    await db.close();
  }
}

/** The JSON form: amounts as decimal strings, as in the API. */
export function lateFeesJson(r: LateFeeResult) {
  const c = r.currency;
  return {
    interest: toDecimalString(r.interestMinor, c),
    indemnity: toDecimalString(r.indemnityMinor, c),
    total: toDecimalString(r.totalMinor, c),
    currency: c,
    periods: r.periods.map((p) => ({
      from: p.from,
      to: p.to,
      days: p.days,
      ratePercent: p.ratePercent,
      base: toDecimalString(p.baseMinor, c),
      interest: toDecimalString(p.interestMinor, c),
      rateSource: p.rateSource,
      provisional: p.provisional,
    })),
    provisional: r.provisional,
    notes: r.notes,
    roundingRule: r.roundingRule,
  };
}

function printLateFees(ctx: CliContext, input: LateFeeInput, r: LateFeeResult, l: Lang, paid: boolean): void {
  const money = (m: bigint) => formatMoney(m, r.currency, l);
  const date = (d: CalendarDate) => formatShortDate(d, l);
  ctx.out(t(M, l, input.debtor === 'business' ? 'title_business' : 'title_consumer', { jurisdiction: input.jurisdiction }));
  ctx.out(
    t(M, l, 'debt', {
      amount: money(input.amountMinor),
      due: formatLongDate(input.dueDate, l),
      untilLabel: t(M, l, paid ? 'paid' : 'computed'),
      until: formatLongDate(input.until, l),
      days: r.daysLate,
    }),
  );
  if (r.daysLate === 0) ctx.out(t(M, l, 'not_late'));
  ctx.out('');
  for (const p of r.periods) {
    const rate = l === 'fr' ? p.ratePercent.replace('.', ',') : p.ratePercent;
    ctx.out(
      `  ${t(M, l, 'period', { from: date(p.from), to: date(p.to), days: p.days, rate, base: money(p.baseMinor), interest: money(p.interestMinor), flag: p.provisional ? t(M, l, 'provisional_flag') : '' })}`,
    );
    ctx.out(t(M, l, 'source', { source: renderLawNote(p.rateSourceDetail, l) }));
  }
  if (r.periods.length) ctx.out('');
  ctx.out(t(M, l, 'interest', { amount: money(r.interestMinor) }));
  ctx.out(t(M, l, 'indemnity', { amount: money(r.indemnityMinor) }));
  ctx.out(t(M, l, 'total', { amount: money(r.totalMinor) }));
  if (r.provisional) ctx.out(t(M, l, 'provisional_total'));
  for (const n of r.noteDetails) ctx.out(`- ${renderLawNote(n, l)}`);
  ctx.out(t(M, l, 'rounding', { rule: t(LAW_MESSAGES, l, 'rounding_rule', { basis: input.rules?.dayCount === 'actual' ? (l === 'fr' ? '365 ou 366 (année bissextile)' : '365 or 366 (leap year)') : '365' }) }));
}

const collect = (v: string, prev: string[]) => prev.concat(v);

export function register(program: Command, ctx: CliContext): void {
  const rates = program.command('rates').description('legal rate tables (ECB, French taux légal, Basiszinssatz, Bank of England): list and add rates');

  rates
    .command('list')
    .description('list every rate table, shipped and operator-added rates, and how far each is known')
    .option('--table <name>', `only this table (${RATE_TABLE_NAMES.join(', ')})`)
    .option('--json', 'print JSON')
    .option('--lang <lang>', LANG_HELP, 'fr')
    .action(async (opts: { table?: string; json?: boolean; lang?: string }) => {
      const l = lang(opts.lang);
      const names = opts.table ? [oneOf(opts.table, RATE_TABLE_NAMES, '--table')] : RATE_TABLE_NAMES;
      await withRates(ctx, (tables) => {
        const list = names.map((n) => tables[n]);
        if (opts.json) {
          ctx.out(JSON.stringify({ tables: list }, null, 2));
          return;
        }
        for (const tb of list) {
          ctx.out(t(M, l, 'rates_table', { name: tb.name, description: tb.description, knownThrough: tb.knownThrough }));
          for (const e of tb.entries) ctx.out(`  ${e.from}  ${e.ratePercent.padStart(6)} %  ${e.origin.padEnd(8)}  ${e.source}`);
          ctx.out('');
        }
      });
    });

  rates
    .command('set')
    .description('add a rate (or correct the one set for that table and date); applies to every organisation of this instance')
    .requiredOption('--table <name>', `rate table: ${RATE_TABLE_NAMES.join(', ')}`)
    .requiredOption('--from <date>', 'first day the rate is in force (YYYY-MM-DD; 1 January or 1 July for half-year tables)')
    .requiredOption('--rate <percent>', 'rate in percent, e.g. 2.15')
    .option('--note <text>', 'where the rate comes from (publication, date)')
    .option('--json', 'print JSON')
    .option('--lang <lang>', LANG_HELP, 'fr')
    .action(async (opts: { table: string; from: string; rate: string; note?: string; json?: boolean; lang?: string }) => {
      const l = lang(opts.lang);
      const from = parseCalendarDate(opts.from, { field: '--from' });
      // Refuse a bad table or rate before opening the database.
      validateRateOverride({ table: opts.table, from, ratePercent: opts.rate });
      const db = await ctx.openDb();
      try {
        const o = await setRateOverride(db, { table: opts.table, from, ratePercent: opts.rate, note: opts.note ?? null });
        if (opts.json) ctx.out(JSON.stringify(o));
        else ctx.out(t(M, l, 'rate_set', { table: o.table, from: o.from, rate: l === 'fr' ? o.ratePercent.replace('.', ',') : o.ratePercent }));
      } finally {
        await db.close();
      }
    });

  rates
    .command('remove')
    .description('remove a rate an operator added (shipped rates cannot be removed, only corrected with set)')
    .requiredOption('--table <name>', `rate table: ${RATE_TABLE_NAMES.join(', ')}`)
    .requiredOption('--from <date>', 'date of the rate to remove')
    .option('--lang <lang>', LANG_HELP, 'fr')
    .action(async (opts: { table: string; from: string; lang?: string }) => {
      const l = lang(opts.lang);
      const from = parseCalendarDate(opts.from, { field: '--from' });
      const db = await ctx.openDb();
      try {
        await removeRateOverride(db, opts.table, from);
        ctx.out(t(M, l, 'rate_removed', { table: opts.table, from }));
      } finally {
        await db.close();
      }
    });

  program
    .command('late-fees')
    .description('compute late-payment interest and the fixed recovery compensation of one debt, with its breakdown')
    .requiredOption('--jurisdiction <code>', `law to apply: ${JURISDICTIONS.join(', ')}`)
    .requiredOption('--debtor <kind>', 'business or consumer')
    .requiredOption('--amount <amount>', 'amount due, tax included (12000.00 or "12 000,00")')
    .option('--currency <code>', 'ISO 4217 currency', 'EUR')
    .requiredOption('--due <date>', 'due date (YYYY-MM-DD or DD/MM/YYYY)')
    .option('--paid <date>', 'payment date; interest runs to it inclusive')
    .option('--at <date>', 'date of computation when not paid (default: today, Europe/Paris)')
    .option('--payment <date:amount>', 'partial payment or credit note, reduces the base from the next day (repeatable)', collect, [])
    .option('--contract-rate <percent>', 'contractual rate in percent (business debtors; France: at least 3 × taux légal)')
    .option('--notice-date <date>', 'date of the formal notice (mise en demeure): consumers owe interest from it (France)')
    .option('--creditor <kind>', 'professional or individual: chooses the French taux légal for consumer debts', 'professional')
    .option('--day-count <basis>', '365 (default, French practice) or actual (366 in leap years)', '365')
    .option('--no-semester-split', 'apply the rate of the half-year the delay starts in to the whole delay')
    .option('--json', 'print JSON with amounts as decimal strings')
    .option('--lang <lang>', LANG_HELP, 'fr')
    .action(
      async (opts: {
        jurisdiction: string;
        debtor: string;
        amount: string;
        currency: string;
        due: string;
        paid?: string;
        at?: string;
        payment: string[];
        contractRate?: string;
        noticeDate?: string;
        creditor: string;
        dayCount: string;
        semesterSplit: boolean;
        json?: boolean;
        lang?: string;
      }) => {
        const l = lang(opts.lang);
        const currency = assertCurrency(opts.currency.toUpperCase(), { field: '--currency' });
        const amountMinor = parseAmount(opts.amount, currency, { field: '--amount' });
        if (amountMinor <= 0n) throw validation(CE('amount_positive'), { field: '--amount' });
        if (opts.paid && opts.at) throw validation(CE('paid_or_at'), { field: '--at' });
        const until = opts.paid
          ? parseCalendarDate(opts.paid, { field: '--paid' })
          : opts.at
            ? parseCalendarDate(opts.at, { field: '--at' })
            : todayIn('Europe/Paris', Date.now());
        const payments = opts.payment.map((p, i) => {
          const m = /^([^:]+):(.+)$/.exec(p);
          if (!m) throw validation(CE('payment_format', { value: p }), { field: `--payment[${i}]` });
          return {
            date: parseCalendarDate(m[1]!, { field: `--payment[${i}]` }),
            amountMinor: parseAmount(m[2]!, currency, { field: `--payment[${i}]` }),
          };
        });
        const input: LateFeeInput = {
          jurisdiction: oneOf(opts.jurisdiction.toUpperCase(), JURISDICTIONS, '--jurisdiction') as Jurisdiction,
          debtor: oneOf(opts.debtor, ['business', 'consumer'] as const, '--debtor') as DebtorKind,
          currency,
          amountMinor,
          dueDate: parseCalendarDate(opts.due, { field: '--due' }),
          until,
          ...(payments.length ? { payments } : {}),
          ...(opts.contractRate !== undefined ? { contractRatePercent: opts.contractRate } : {}),
          ...(opts.noticeDate !== undefined ? { noticeDate: parseCalendarDate(opts.noticeDate, { field: '--notice-date' }) } : {}),
          creditorKind: oneOf(opts.creditor, ['professional', 'individual'] as const, '--creditor') as CreditorKind,
          rules: { dayCount: oneOf(opts.dayCount, ['365', 'actual'] as const, '--day-count'), semesterSplit: opts.semesterSplit },
        };
        const result = await withRates(ctx, (tables) => computeLateFees(input, tables));
        if (opts.json) ctx.out(JSON.stringify(lateFeesJson(result), null, 2));
        else printLateFees(ctx, input, result, l, Boolean(opts.paid));
      },
    );
}
