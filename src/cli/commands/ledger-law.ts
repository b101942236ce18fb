/**
 * The law over the ledger: `relance law check` (payment-term warnings and limitation flags of the
 * open invoices) and `relance penalties` (a customer's or an invoice's penalty statement, booked
 * as a new receivable with --book).
 */
import type { Command } from 'commander';
import { jsonReplacer } from '../../db/driver.ts';
import { type CalendarDate, calendarDate, formatLongDate, todayIn } from '../../domain/dates.ts';
import { FORTY_FIVE_EOM_METHODS, type FortyFiveEndOfMonthMethod, renderLawNote } from '../../domain/law/index.ts';
import { formatMoney } from '../../domain/money.ts';
import { validation } from '../../errors.ts';
import { CE } from '../errors.ts';
import { defineMessages, type Lang, t } from '../../i18n/index.ts';
import { bookPenaltyStatement, ledgerLawFindings, ledgerPenaltyStatement } from '../../law/ledger-law.ts';
import { loadRateTables } from '../../law/rates-repo.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';

const M = defineMessages({
  none: { fr: 'Aucune facture ouverte ne dépasse les délais légaux ni n’approche de la prescription.', en: 'No open invoice exceeds the legal terms or nears its limitation date.' },
  terms: { fr: '{invoice} ({customer}) : délai de paiement au-delà de la limite légale — {message}', en: '{invoice} ({customer}): payment terms beyond the legal limit — {message}' },
  approaching: { fr: '{invoice} ({customer}) : prescription le {deadline} ({days} jours, {basis}), reste dû {open}', en: '{invoice} ({customer}): time-barred on {deadline} ({days} days, {basis}), {open} still due' },
  prescribed: { fr: '{invoice} ({customer}) : PRESCRITE depuis le {deadline} ({basis}), reste dû {open}', en: '{invoice} ({customer}): TIME-BARRED since {deadline} ({basis}), {open} still due' },
  statement_line: { fr: '{invoice} échue le {due}, {days} j de retard : intérêts {interest} + indemnité {indemnity} = {total}', en: '{invoice} due {due}, {days} days late: interest {interest} + compensation {indemnity} = {total}' },
  statement_total: { fr: 'Total des pénalités au {asOf} : {total}{provisional}', en: 'Total penalties at {asOf}: {total}{provisional}' },
  statement_empty: { fr: 'Aucun retard : aucune pénalité n’est due.', en: 'Nothing late: no penalty is owed.' },
  provisional: { fr: ' (PROVISOIRE : un taux n’est pas encore connu)', en: ' (PROVISIONAL: a rate is not known yet)' },
  regime: { fr: 'Loi applicable : {law} ({jurisdiction}, {why})', en: 'Governing law: {law} ({jurisdiction}, {why})' },
  why_debtor_country: { fr: 'pays du client', en: 'the customer’s country' },
  why_eu_directive: { fr: 'client dans l’Union européenne', en: 'customer in the European Union' },
  why_creditor_country: { fr: 'pays de l’organisation', en: 'the organisation’s country' },
  why_chosen: { fr: 'choisie au contrat', en: 'chosen by the contract' },
  booked: { fr: 'Facture de pénalités {number} créée : {amount}, échéance le {due}.', en: 'Penalty invoice {number} booked: {amount}, due on {due}.' },
});

const lang = (v: string | undefined): Lang => {
  const l = (v ?? 'fr').toLowerCase();
  if (l !== 'fr' && l !== 'en') throw validation(CE('lang_got', { value: String(v) }), { field: '--lang' });
  return l;
};

export function register(program: Command, ctx: CliContext): void {
  const law = program.command('law').description('the late-payment law over the ledger');
  law
    .command('check')
    .description('open invoices whose payment terms exceed the legal limits (L441-10) or that near their limitation date')
    .option('--date <YYYY-MM-DD>', 'as of this day (default: today)')
    .option('--regime <regime>', 'payment-terms regime: sixty-days, forty-five-days-end-of-month or periodic', 'sixty-days')
    .option('--eom-method <method>', `"45 jours fin de mois" reading: ${FORTY_FIVE_EOM_METHODS.join(', ')}`, 'earlier-of-both')
    .option('--warn-days <n>', 'flag the limitation date this many days ahead', '90')
    .option('--lang <fr|en>', 'language of the output', 'fr')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { date?: string; regime: string; eomMethod: string; warnDays: string; lang: string; json?: boolean; org?: string }) => {
      const l = lang(o.lang);
      if (!/^\d+$/.test(o.warnDays)) throw validation(CE('whole_number', { name: '--warn-days', value: o.warnDays }), { field: '--warn-days' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        const findings = await ledgerLawFindings(db, orgId, today, {
          terms: { regime: o.regime as never, fortyFiveEndOfMonth: o.eomMethod as FortyFiveEndOfMonthMethod },
          warnWithinDays: Number(o.warnDays),
        });
        if (o.json) {
          ctx.out(JSON.stringify({ today, findings }, jsonReplacer));
          return;
        }
        if (findings.length === 0) ctx.out(t(M, l, 'none'));
        for (const f of findings) {
          for (const w of f.terms) ctx.out(t(M, l, 'terms', { invoice: f.invoice, customer: f.customer, message: w.message[l] }));
          if (f.prescription) {
            ctx.out(
              t(M, l, f.prescription.status, {
                invoice: f.invoice,
                customer: f.customer,
                deadline: formatLongDate(f.prescription.deadline, l),
                days: f.prescription.daysLeft,
                basis: f.prescription.legalBasis,
                open: formatMoney(f.openMinor, f.currency, l),
              }),
            );
          }
        }
      } finally {
        await db.close();
      }
    });

  program
    .command('penalties')
    .description("a customer's (or one invoice's) penalty statement: late-payment interest and recovery indemnities, booked as a new receivable with --book")
    .option('--customer <id>', 'customer id')
    .option('--invoice <number>', 'one invoice')
    .option('--date <YYYY-MM-DD>', 'statement date (default: today)')
    .option('--book', 'book the total as a new receivable of the customer (no VAT), once')
    .option('--lang <fr|en>', 'language of the output', 'fr')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { customer?: string; invoice?: string; date?: string; book?: boolean; lang: string; json?: boolean; org?: string }) => {
      const l = lang(o.lang);
      if (!o.customer === !o.invoice) throw validation(CE('customer_or_invoice'), { field: '--customer' });
      if (o.customer && !/^\d+$/.test(o.customer)) throw validation(CE('customer_id', { value: o.customer }), { field: '--customer' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const asOf = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        const result = await db.tx(async (q) => {
          const target = o.invoice ? { invoiceNumber: o.invoice } : { customerId: BigInt(o.customer!) };
          const { statement, customerId, regime } = await ledgerPenaltyStatement(q, orgId, target, asOf, await loadRateTables(q));
          const booked = o.book ? await bookPenaltyStatement(q, orgId, customerId, statement, { issueDate: asOf }) : null;
          return { statement, booked, regime };
        });
        const { statement, booked, regime } = result;
        if (o.json) {
          ctx.out(JSON.stringify({ regime: { id: regime.regime.id, jurisdiction: regime.jurisdiction, reason: regime.reason, contractRatePercent: regime.contractRatePercent }, statement, booked }, jsonReplacer));
          return;
        }
        ctx.out(t(M, l, 'regime', { law: regime.regime.basis.law[l], jurisdiction: regime.jurisdiction, why: t(M, l, `why_${regime.reason}`) }));
        const money = (m: bigint) => formatMoney(m, statement.currency, l);
        if (statement.lines.length === 0) ctx.out(t(M, l, 'statement_empty'));
        for (const line of statement.lines) {
          ctx.out(
            t(M, l, 'statement_line', {
              invoice: line.invoiceNumber,
              due: formatLongDate(line.dueDate, l),
              days: line.daysLate,
              interest: money(line.interestMinor),
              indemnity: money(line.indemnityMinor),
              total: money(line.totalMinor),
            }),
          );
        }
        ctx.out(t(M, l, 'statement_total', { asOf: formatLongDate(asOf, l), total: money(statement.totalMinor), provisional: statement.provisional ? t(M, l, 'provisional') : '' }));
        // The operator's side: what was assumed and how to complete the table.
        for (const n of statement.noteDetails) ctx.out(`- ${renderLawNote(n, l)}`);
        if (booked) ctx.out(t(M, l, 'booked', { number: booked.number, amount: money(booked.amountInclTaxMinor), due: formatLongDate(booked.dueDate as CalendarDate, l) }));
      } finally {
        await db.close();
      }
    });
}
