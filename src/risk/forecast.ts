/**
 * The cash-in forecast over the ledger: the organisation's history read once (invoices with the
 * payments applied to them), the open promises and plan instalments, then the pure forecast and
 * back-test of src/domain/forecast.ts.
 */
import type { Queryable } from '../db/driver.ts';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { type Backtest, backtest, forecastCashIn, type HistoryInvoice, inputAsOf, naiveForecast } from '../domain/forecast.ts';
import type { Minor } from '../domain/money.ts';
import { loadCalibration } from './recovery.ts';

export async function loadHistory(q: Queryable, orgId: string): Promise<HistoryInvoice[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT i.id, i.customer_id, i.issue_date, i.due_date, i.amount_incl_tax_minor AS amount,
            coalesce(json_agg(json_build_object('on', a.allocated_on, 'amount', a.amount_minor::text) ORDER BY a.allocated_on) FILTER (WHERE a.id IS NOT NULL), '[]') AS payments
       FROM invoices i LEFT JOIN allocations a ON a.organisation_id = i.organisation_id AND a.invoice_id = i.id
      WHERE i.organisation_id = $1 GROUP BY i.organisation_id, i.id ORDER BY i.id`,
    [orgId],
  );
  return rows.map((r) => {
    const payments = (typeof r.payments === 'string' ? JSON.parse(r.payments) : r.payments) as { on: string; amount: string }[];
    return {
      id: r.id as bigint,
      customerId: r.customer_id as bigint,
      issueDate: r.issue_date as CalendarDate,
      dueDate: r.due_date as CalendarDate,
      amountMinor: r.amount as bigint,
      payments: payments.map((p) => ({ on: p.on as CalendarDate, amountMinor: BigInt(p.amount) })),
    };
  });
}

export interface Forecast {
  from: CalendarDate;
  weeks: { from: CalendarDate; expectedMinor: Minor; naiveMinor: Minor }[];
  backtest: Backtest;
}

/** The 13 weeks from `today` and, beside them, how such a forecast did on the organisation's own past. */
export async function cashInForecast(q: Queryable, orgId: string, today: CalendarDate): Promise<Forecast> {
  const history = await loadHistory(q, orgId);
  const input = inputAsOf(history, today);
  input.calibration = await loadCalibration(q, orgId, today);
  // Agreements in force: open promises, unpaid instalments of active plans; their invoices come through them.
  const promised = await q.query<Record<string, unknown>>(
    `SELECT p.customer_id, p.promised_on AS on, p.amount_minor AS amount, p.invoice_ids FROM promises p WHERE p.organisation_id = $1 AND p.status = 'open'
     UNION ALL
     SELECT pl.customer_id, x.due_date, x.amount_minor, pl.invoice_ids FROM payment_plans pl
       JOIN payment_plan_instalments x ON x.organisation_id = pl.organisation_id AND x.plan_id = pl.id
      WHERE pl.organisation_id = $1 AND pl.status = 'active' AND x.due_date >= $2`,
    [orgId, today],
  );
  const kept = await q.query<{ customer_id: bigint; kept: bigint; total: bigint }>(
    `SELECT customer_id, count(*) FILTER (WHERE status = 'kept') AS kept, count(*) AS total FROM promises
      WHERE organisation_id = $1 AND status IN ('kept', 'broken') GROUP BY customer_id`,
    [orgId],
  );
  for (const k of kept) {
    const c = input.customers.get(k.customer_id);
    if (c) c.promisesKeptShare = Number(k.kept) / Number(k.total);
  }
  const covered = new Set(promised.flatMap((p) => ((p.invoice_ids as unknown[]) ?? []).map(String)));
  for (const i of input.invoices) if (i.invoiceId !== null && covered.has(String(i.invoiceId))) i.underAgreement = true;
  input.agreements = promised.map((p) => ({ customerId: p.customer_id as bigint, on: p.on as CalendarDate, amountMinor: p.amount as bigint }));
  const expected = forecastCashIn(input);
  const naive = naiveForecast(input);
  return {
    from: today,
    weeks: expected.map((e, k) => ({ from: addDays(today, 7 * k), expectedMinor: e, naiveMinor: naive[k]! })),
    backtest: backtest(history, today),
  };
}
