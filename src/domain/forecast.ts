/**
 * Cash-in forecast by week for 13 weeks (pure), and its back-test on the organisation's own
 * history. Each open invoice is expected on its due date moved by how late its customer usually
 * pays, weighted by its chance of being paid (src/domain/recovery.ts, with the customer's risk);
 * an open promise or an instalment of a payment plan brings its amount on its date instead,
 * weighted by how often this customer's promises were kept. The naive forecast (the baseline)
 * puts every open amount on its due date, what is overdue in the first week.
 *
 * Back-test: from each of several past days T, the ledger as it stood on T (invoices issued by T,
 * open on T, the customers' history before T) is forecast, and compared week by week with what was
 * actually paid on those invoices in the 13 weeks after T. The error is WAPE: Σ|forecast − actual| /
 * Σ actual over every week of every origin. New invoices issued after T are outside both forecasts
 * and the actuals: this forecasts the receivables book, not new sales.
 */
import { addDays, type CalendarDate, daysBetween } from './dates.ts';
import type { Minor } from './money.ts';
import { type Calibration, calibrate, expectedMinor, recoveryProbability } from './recovery.ts';
import { assessRisk, behaviourOf, type InvoiceFact } from './risk.ts';

export const FORECAST_WEEKS = 13;

export interface ForecastInvoice {
  invoiceId: bigint | null;
  customerId: bigint;
  openMinor: Minor;
  dueDate: CalendarDate;
  /** Covered by an open promise or payment plan: its money comes through the agreement. */
  underAgreement: boolean;
}

export interface CustomerProfile {
  /** Usual days late (amount-weighted), null when unknown. */
  daysLate: number | null;
  riskScore: number | null;
  /** Share of this customer's promises kept (null: none closed yet). */
  promisesKeptShare: number | null;
}

export interface ScheduledCash {
  customerId: bigint;
  on: CalendarDate;
  amountMinor: Minor;
}

export interface ForecastInput {
  from: CalendarDate;
  invoices: ForecastInvoice[];
  customers: Map<bigint, CustomerProfile>;
  /** Open promises and unpaid instalments of active plans. */
  agreements: ScheduledCash[];
  calibration: Calibration;
  /** Used for customers with no history. */
  defaultDaysLate: number;
}

/** Week index of a day (0 = the 7 days from `from`), or -1 beyond the horizon. */
function weekOf(from: CalendarDate, on: CalendarDate): number {
  const d = Math.max(0, daysBetween(from, on));
  const w = Math.floor(d / 7);
  return w < FORECAST_WEEKS ? w : -1;
}

export function forecastCashIn(input: ForecastInput): Minor[] {
  const weeks: Minor[] = Array.from({ length: FORECAST_WEEKS }, () => 0n);
  for (const i of input.invoices) {
    if (i.underAgreement || i.openMinor <= 0n) continue;
    const c = input.customers.get(i.customerId);
    const late = Math.round(c?.daysLate ?? input.defaultDaysLate);
    let on = addDays(i.dueDate, late);
    // Already later than this customer's habit: the chase brings it in the next weeks, if at all.
    if (on < input.from) on = addDays(input.from, 7 + Math.min(28, Math.round(daysBetween(on, input.from) / 4)));
    const w = weekOf(input.from, on);
    if (w < 0) continue;
    const p = recoveryProbability(input.calibration, daysBetween(i.dueDate, input.from), c?.riskScore ?? null);
    weeks[w]! += expectedMinor(i.openMinor, p);
  }
  for (const a of input.agreements) {
    const w = weekOf(input.from, a.on);
    if (w < 0) continue;
    const kept = input.customers.get(a.customerId)?.promisesKeptShare ?? 0.7;
    weeks[w]! += expectedMinor(a.amountMinor, kept);
  }
  return weeks;
}

/** The baseline: every open amount on its due date (overdue: the first week), all of it. */
export function naiveForecast(input: Pick<ForecastInput, 'from' | 'invoices'>): Minor[] {
  const weeks: Minor[] = Array.from({ length: FORECAST_WEEKS }, () => 0n);
  for (const i of input.invoices) {
    if (i.openMinor <= 0n) continue;
    const w = weekOf(input.from, i.dueDate < input.from ? input.from : i.dueDate);
    if (w >= 0) weeks[w]! += i.openMinor;
  }
  return weeks;
}

// ------------------------------------------------------------------ back-test

/** One invoice of the history with every payment applied to it (allocations: day and amount). */
export interface HistoryInvoice {
  id: bigint | null;
  customerId: bigint;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  amountMinor: Minor;
  payments: { on: CalendarDate; amountMinor: Minor }[];
}

export interface BacktestOrigin {
  from: CalendarDate;
  forecast: Minor[];
  naive: Minor[];
  actual: Minor[];
}

export interface Backtest {
  origins: BacktestOrigin[];
  /** Σ|forecast − actual| / Σ actual, 0..∞ (null when nothing was paid). */
  wape: number | null;
  naiveWape: number | null;
}

/** The ledger as it stood on `from`: each customer's profile from what was settled before, the open invoices. */
export function inputAsOf(history: readonly HistoryInvoice[], from: CalendarDate): ForecastInput {
  const byCustomer = new Map<bigint, InvoiceFact[]>();
  const invoices: ForecastInvoice[] = [];
  const observed = calibrationObservations(history, from);
  for (const h of history) {
    if (h.issueDate > from) continue;
    const paidBy = h.payments.filter((p) => p.on <= from);
    const paid = paidBy.reduce((s, p) => s + p.amountMinor, 0n);
    const open = h.amountMinor - paid;
    const settledOn = open <= 0n && paidBy.length ? paidBy.reduce((m, p) => (p.on > m ? p.on : m), paidBy[0]!.on) : null;
    const facts = byCustomer.get(h.customerId) ?? [];
    facts.push({ amountMinor: h.amountMinor, dueDate: h.dueDate, paidOn: settledOn, openMinor: open > 0n ? open : 0n, reminders: 0 });
    byCustomer.set(h.customerId, facts);
    if (open > 0n) invoices.push({ invoiceId: h.id, customerId: h.customerId, openMinor: open, dueDate: h.dueDate, underAgreement: false });
  }
  const customers = new Map<bigint, CustomerProfile>();
  let w = 0n;
  let s = 0n;
  for (const [id, facts] of byCustomer) {
    const b = behaviourOf(facts, { promisesKept: 0, promisesBroken: 0, disputes: 0, disputesOpen: 0 }, from);
    // The habit is read from what was settled: what is still owed is weighed by the risk instead.
    const settled = behaviourOf(facts.filter((f) => f.openMinor === 0n), { promisesKept: 0, promisesBroken: 0, disputes: 0, disputesOpen: 0 }, from);
    customers.set(id, { daysLate: settled.daysLate.last12 ?? settled.daysLate.all, riskScore: b.settledCount ? assessRisk(b).score : null, promisesKeptShare: null });
    for (const f of facts) {
      if (f.paidOn === null) continue;
      w += f.amountMinor;
      s += f.amountMinor * BigInt(Math.max(0, daysBetween(f.dueDate, f.paidOn)));
    }
  }
  return { from, invoices, customers, agreements: [], calibration: calibrate(observed), defaultDaysLate: w > 0n ? Number(s / w) : 0 };
}

/** What the history had shown by `from`: per age bucket, invoices that reached it unpaid 90 days before, and those paid since. */
function calibrationObservations(history: readonly HistoryInvoice[], from: CalendarDate) {
  const lowers = [-100_000, 1, 31, 61, 91, 181, 366];
  const horizon = addDays(from, -90);
  return lowers.map((lower) => {
    let reached = 0;
    let recovered = 0;
    for (const h of history) {
      if (addDays(h.dueDate, Math.max(lower, 0)) > horizon) continue;
      const paidBy = h.payments.filter((p) => p.on <= from);
      const paid = paidBy.reduce((a, p) => a + p.amountMinor, 0n);
      const settledOn = paid >= h.amountMinor && paidBy.length ? paidBy.reduce((m, p) => (p.on > m ? p.on : m), paidBy[0]!.on) : null;
      if (settledOn !== null && settledOn < addDays(h.dueDate, lower)) continue;
      reached++;
      if (settledOn !== null) recovered++;
    }
    return { reached, recovered };
  });
}

function actualAfter(history: readonly HistoryInvoice[], from: CalendarDate): Minor[] {
  const weeks: Minor[] = Array.from({ length: FORECAST_WEEKS }, () => 0n);
  for (const h of history) {
    if (h.issueDate > from) continue;
    for (const p of h.payments) {
      if (p.on <= from) continue;
      const w = weekOf(addDays(from, 1), p.on);
      if (w >= 0) weeks[w]! += p.amountMinor;
    }
  }
  return weeks;
}

const wapeOf = (pairs: [Minor[], Minor[]][]): number | null => {
  let err = 0n;
  let total = 0n;
  for (const [f, a] of pairs) {
    f.forEach((x, k) => {
      const d = x - a[k]!;
      err += d < 0n ? -d : d;
      total += a[k]!;
    });
  }
  return total === 0n ? null : Number((err * 10_000n) / total) / 10_000;
};

/**
 * Forecasts from `origins` past days (each a whole horizon before `today`, four weeks apart) and
 * compares with what was paid.
 */
export function backtest(history: readonly HistoryInvoice[], today: CalendarDate, origins = 6): Backtest {
  const out: BacktestOrigin[] = [];
  for (let j = 0; j < origins; j++) {
    const from = addDays(today, -(FORECAST_WEEKS * 7) - 28 * j - 1);
    const input = inputAsOf(history, from);
    // The forecast starts the day after the ledger was read.
    const shifted = { ...input, from: addDays(from, 1) };
    out.push({ from, forecast: forecastCashIn(shifted), naive: naiveForecast(shifted), actual: actualAfter(history, from) });
  }
  return { origins: out, wape: wapeOf(out.map((o) => [o.forecast, o.actual])), naiveWape: wapeOf(out.map((o) => [o.naive, o.actual])) };
}
