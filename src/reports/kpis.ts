/**
 * The KPIs of docs/product.md (§KPIs) for one organisation and currency: SQL aggregates of the ledger fed to the
 * pure formulas of src/domain/kpi.ts. The API (/api/v1/kpis) and the web app's dashboard both read
 * them here, so they never disagree.
 */
import type { Queryable } from '../db/driver.ts';
import { addDays, addMonths, type CalendarDate, daysBetween } from '../domain/dates.ts';
import {
  aging,
  averageDaysDelinquent,
  averageDaysToPay,
  bestPossibleDso,
  collectionEffectivenessIndex,
  dsoCountback,
  overdueShare,
} from '../domain/kpi.ts';
import { COVERS } from '../engine/planner-input.ts';

const D = (s: string) => s as CalendarDate;

export const FORMULAS = {
  dso: 'countback: walk back month by month from the receivables balance, subtracting each month’s sales and adding its days while the balance covers them; last month: remaining / sales × days',
  bestPossibleDso: 'current (not yet due) receivables / credit sales of the last 3 months × their days',
  averageDaysDelinquent: 'DSO − best possible DSO',
  cei: '(opening AR + sales/N − closing total AR) / (opening AR + sales/N − closing current AR) × 100, N months, sales over the N months',
  overdueShare: 'past-due AR / total AR × 100',
  averageDaysToPay: 'Σ amount × (payment date − issue date) / Σ amount, payments applied over the last 12 months',
};

/** The KPIs of the organisation's currency, from SQL aggregates fed to the pure formulas. */
export async function computeKpis(q: Queryable, orgId: string, currency: string, today: CalendarDate, ceiMonths = 3) {
  const byDue = await q.query<{ due_date: CalendarDate; disputed: boolean; open: bigint; n: bigint }>(
    `SELECT i.due_date,
            EXISTS (SELECT 1 FROM disputes d WHERE d.organisation_id = i.organisation_id AND d.customer_id = i.customer_id
                       AND d.resolved_on IS NULL AND ${COVERS('d', 'i.id')}) AS disputed,
            sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor) AS open, count(*) AS n
       FROM invoices i
      WHERE i.organisation_id = $1 AND i.currency = $2 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
      GROUP BY 1, 2`,
    [orgId, currency],
  );
  const [credit] = await q.query<{ unallocated: bigint }>(
    `SELECT coalesce((SELECT sum(amount_minor - allocated_minor) FROM payments WHERE organisation_id = $1 AND currency = $2), 0)
          + coalesce((SELECT sum(amount_minor - allocated_minor) FROM credit_notes WHERE organisation_id = $1 AND currency = $2), 0) AS unallocated`,
    [orgId, currency],
  );
  const ag = aging(byDue.map((r) => ({ dueDate: r.due_date, openMinor: r.open, disputed: r.disputed, count: Number(r.n) })), today, credit!.unallocated);
  let total = 0n;
  let current = 0n;
  for (const r of byDue) {
    total += r.open;
    if (r.due_date >= today) current += r.open;
  }
  const from12 = addMonths(D(`${today.slice(0, 7)}-01`), -11);
  const sales = await q.query<{ month: string; sales: bigint }>(
    `SELECT to_char(issue_date, 'YYYY-MM') AS month, sum(amount_incl_tax_minor) AS sales FROM invoices
      WHERE organisation_id = $1 AND currency = $2 AND issue_date >= $3 AND issue_date <= $4 GROUP BY 1`,
    [orgId, currency, from12, today],
  );
  const salesBy = new Map(sales.map((s) => [s.month, s.sales]));
  const months: { month: string; salesMinor: bigint; days: number }[] = [];
  for (let m = D(`${today.slice(0, 7)}-01`), k = 0; k < 12; k++, m = addMonths(m, -1)) {
    // The current month counts the days that are over, today included.
    const days = k === 0 ? daysBetween(m, today) + 1 : daysBetween(m, addMonths(m, 1));
    months.push({ month: m.slice(0, 7), salesMinor: salesBy.get(m.slice(0, 7)) ?? 0n, days });
  }
  const dso = dsoCountback(total, months);
  const last3 = months.slice(0, 3);
  const bp = bestPossibleDso(current, last3.reduce((a, m) => a + m.salesMinor, 0n), last3.reduce((a, m) => a + m.days, 0));
  const start = addMonths(today, -ceiMonths);
  const [cei] = await q.query<{ opening: bigint; sales: bigint }>(
    `SELECT coalesce((SELECT sum(amount_incl_tax_minor) FROM invoices WHERE organisation_id = $1 AND currency = $2 AND issue_date < $3), 0)
          - coalesce((SELECT sum(a.amount_minor) FROM allocations a WHERE a.organisation_id = $1 AND a.currency = $2 AND a.allocated_on < $3), 0)
          - coalesce((SELECT sum(w.amount_minor) FROM write_offs w WHERE w.organisation_id = $1 AND w.currency = $2 AND w.written_off_on < $3), 0) AS opening,
            coalesce((SELECT sum(amount_incl_tax_minor) FROM invoices WHERE organisation_id = $1 AND currency = $2 AND issue_date >= $3 AND issue_date <= $4), 0) AS sales`,
    [orgId, currency, start, today],
  );
  // Days to pay summed per number of days: a few hundred rows whatever the ledger's size.
  const paid = await q.query<{ days: number; amount: bigint }>(
    `SELECT (a.allocated_on - i.issue_date) AS days, sum(a.amount_minor) AS amount
       FROM allocations a JOIN invoices i ON i.organisation_id = a.organisation_id AND i.id = a.invoice_id
      WHERE a.organisation_id = $1 AND a.currency = $2 AND a.allocated_on > $3 AND a.allocated_on <= $4 GROUP BY 1`,
    [orgId, currency, addMonths(today, -12), today],
  );
  const origin = D('2000-01-01');
  const dso1 = dso.days;
  return {
    currency,
    asOf: today,
    receivablesMinor: total,
    currentMinor: current,
    pastDueMinor: total - current,
    overdueSharePercent: overdueShare(total - current, total),
    aging: ag,
    dso: { ...dso, method: 'countback' as const },
    bestPossibleDso: bp,
    averageDaysDelinquent: averageDaysDelinquent(dso1, bp),
    cei: {
      percent: collectionEffectivenessIndex({
        openingReceivablesMinor: cei!.opening,
        creditSalesMinor: cei!.sales,
        months: ceiMonths,
        closingReceivablesMinor: total,
        closingCurrentReceivablesMinor: current,
      }),
      months: ceiMonths,
    },
    averageDaysToPay: averageDaysToPay(paid.map((p) => ({ amountMinor: p.amount, issueDate: origin, paidDate: addDays(origin, Number(p.days)) }))),
    monthlySales: months.map((m) => ({ month: m.month, salesMinor: m.salesMinor, days: m.days })),
    formulas: FORMULAS,
  };
}
