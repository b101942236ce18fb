/**
 * The late-payment interest and recovery indemnity a customer owes today, invoice by invoice with
 * the periods and rates, under the regime decided for that customer (the customer screen).
 */
import type { Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { lateFeesUnder, ProvisionalRates, renderLawNote } from '../domain/law/index.ts';
import type { Minor } from '../domain/money.ts';
import type { Lang } from '../i18n/index.ts';
import { customerLedger, getCustomer } from '../ledger/repo.ts';
import { cachedRateTables } from './rates-cache.ts';
import { creditorTerms, regimeBetween } from './regime.ts';

/** Late-payment interest and indemnity of each overdue open invoice of a customer, with the periods. */
export async function customerPenalties(q: Queryable, orgId: string, customerId: bigint, today: CalendarDate, lang: Lang) {
  const customer = await getCustomer(q, orgId, customerId);
  const ledger = await customerLedger(q, orgId, customerId, today);
  const tables = await cachedRateTables(q);
  const law = regimeBetween(await creditorTerms(q, orgId), customer);
  const provisional = new ProvisionalRates();
  const invoices = [];
  let interest = 0n;
  let indemnity = 0n;
  for (const i of ledger.openItems) {
    if (i.dueDate >= today) continue;
    const pays = await q.query<{ date: CalendarDate; amount: Minor }>(
      `SELECT allocated_on AS date, amount_minor AS amount FROM allocations WHERE organisation_id = $1 AND invoice_id = $2
       UNION ALL SELECT written_off_on, amount_minor FROM write_offs WHERE organisation_id = $1 AND invoice_id = $2`,
      [orgId, i.invoiceId],
    );
    const r = lateFeesUnder(law, { currency: i.currency, amountMinor: i.amountInclTaxMinor, dueDate: i.dueDate, until: today, payments: pays.map((p) => ({ date: p.date, amountMinor: p.amount })) }, tables);
    provisional.add(r);
    interest += r.interestMinor;
    indemnity += r.indemnityMinor;
    invoices.push({
      invoiceId: String(i.invoiceId),
      number: i.number,
      dueDate: i.dueDate,
      currency: i.currency,
      openMinor: String(i.openMinor),
      daysLate: r.daysLate,
      interestMinor: String(r.interestMinor),
      indemnityMinor: String(r.indemnityMinor),
      provisional: r.provisional,
      periods: r.periods.map((x) => ({ from: x.from, to: x.to, days: x.days, ratePercent: x.ratePercent, baseMinor: String(x.baseMinor), interestMinor: String(x.interestMinor) })),
      notes: r.noteDetails.map((n) => renderLawNote(n, lang)),
    });
  }
  return {
    today,
    kind: customer.kind,
    // Which law: the regime decided for this customer, and where the law says so.
    regime: { id: law.regime.id, jurisdiction: law.jurisdiction, reason: law.reason, law: law.regime.basis.law[lang], contractRatePercent: law.contractRatePercent },
    interestMinor: String(interest),
    indemnityMinor: String(indemnity),
    invoices,
    provisionalRates: provisional.list(),
  };
}

