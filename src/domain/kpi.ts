/**
 * Receivables KPIs (formulas of docs/product.md §KPIs), pure: amounts in bigint minor units, dates as
 * CalendarDate, "today" a parameter. Ratios are computed exactly in integers and returned as
 * numbers rounded half-up to one decimal (days, percent): they are indicators, not money.
 * The SQL that gathers their inputs lives at the edge (src/reports/kpis.ts).
 */
import { type CalendarDate, daysBetween } from './dates.ts';
import type { Minor } from './money.ts';

export const AGING_BUCKETS = ['not_due', '1_30', '31_60', '61_90', 'over_90'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

export interface AgingItem {
  dueDate: CalendarDate;
  openMinor: Minor;
  disputed: boolean;
  /** Items already summed by due date (SQL pre-aggregation): how many invoices. Default 1. */
  count?: number;
}

export interface Amounts {
  amountMinor: Minor;
  count: number;
}

export interface Aging {
  buckets: Record<AgingBucket, Amounts>;
  /** Disputed open items are shown apart, not in the buckets. */
  disputed: Amounts;
  /** Payments received but not applied to any invoice (a credit on the account), shown apart. */
  unallocatedMinor: Minor;
  totalMinor: Minor;
}

export function agingBucket(dueDate: CalendarDate, today: CalendarDate): AgingBucket {
  const late = daysBetween(dueDate, today);
  if (late <= 0) return 'not_due';
  if (late <= 30) return '1_30';
  if (late <= 60) return '31_60';
  if (late <= 90) return '61_90';
  return 'over_90';
}

export function aging(items: Iterable<AgingItem>, today: CalendarDate, unallocatedMinor: Minor = 0n): Aging {
  const zero = (): Amounts => ({ amountMinor: 0n, count: 0 });
  const buckets = Object.fromEntries(AGING_BUCKETS.map((b) => [b, zero()])) as Record<AgingBucket, Amounts>;
  const disputed = zero();
  let total = 0n;
  for (const i of items) {
    if (i.openMinor <= 0n) continue;
    const into = i.disputed ? disputed : buckets[agingBucket(i.dueDate, today)];
    into.amountMinor += i.openMinor;
    into.count += i.count ?? 1;
    total += i.openMinor;
  }
  return { buckets, disputed, unallocatedMinor, totalMinor: total };
}

/** num / den rounded half-up to one decimal, as a number (den > 0). */
export function ratio1(num: bigint, den: bigint): number {
  if (den <= 0n) return 0;
  const neg = num < 0n;
  const n = neg ? -num : num;
  const tenths = (n * 10n * 2n + den) / (2n * den);
  return (neg ? -1 : 1) * Number(tenths) / 10;
}

export interface MonthSales {
  /** Credit sales of the month (invoiced amounts, tax included). */
  salesMinor: Minor;
  /** Days in the month (or in the part of it that is over, for the current month). */
  days: number;
}

/**
 * DSO by the countback method ("méthode par épuisement"): walk back month by month from the
 * receivables balance, subtracting each month's sales and adding its days while the balance
 * covers them; for the last month add (remaining balance / that month's sales) x its days.
 * `months` is most recent first. A balance larger than all the months given counts them all
 * (`exhausted` says so).
 */
export function dsoCountback(receivablesMinor: Minor, months: readonly MonthSales[]): { days: number; exhausted: boolean } {
  let remaining = receivablesMinor;
  // In tenths of a day times the current denominator, kept exact.
  let wholeDays = 0;
  for (const m of months) {
    if (remaining <= 0n) return { days: wholeDays, exhausted: false };
    if (m.salesMinor <= 0n) {
      wholeDays += m.days;
      continue;
    }
    if (remaining >= m.salesMinor) {
      remaining -= m.salesMinor;
      wholeDays += m.days;
      continue;
    }
    return { days: wholeDays + ratio1(remaining * BigInt(m.days), m.salesMinor), exhausted: false };
  }
  return { days: wholeDays, exhausted: remaining > 0n };
}

/** Best possible DSO = current (not yet due) receivables / credit sales x days of the period. */
export function bestPossibleDso(currentReceivablesMinor: Minor, creditSalesMinor: Minor, days: number): number {
  return ratio1(currentReceivablesMinor * BigInt(days), creditSalesMinor);
}

/** Average days delinquent = DSO - best possible DSO. */
export function averageDaysDelinquent(dso: number, bestPossible: number): number {
  return Math.round((dso - bestPossible) * 10) / 10;
}

/**
 * Collection effectiveness index, in percent:
 * (opening AR + sales/N - closing total AR) / (opening AR + sales/N - closing current AR) x 100,
 * N the number of months of the period and sales the credit sales of the whole period (so sales/N
 * is the average month: the convention of the one-month formula applied to N months).
 */
export function collectionEffectivenessIndex(p: {
  openingReceivablesMinor: Minor;
  creditSalesMinor: Minor;
  months: number;
  closingReceivablesMinor: Minor;
  closingCurrentReceivablesMinor: Minor;
}): number | null {
  const n = BigInt(p.months);
  // Multiply through by N to stay in integers.
  const num = p.openingReceivablesMinor * n + p.creditSalesMinor - p.closingReceivablesMinor * n;
  const den = p.openingReceivablesMinor * n + p.creditSalesMinor - p.closingCurrentReceivablesMinor * n;
  if (den <= 0n) return null;
  return ratio1(num * 100n, den);
}

/** Overdue share = past-due receivables / total receivables, in percent. */
export function overdueShare(pastDueMinor: Minor, totalMinor: Minor): number {
  return ratio1(pastDueMinor * 100n, totalMinor);
}

export interface Settlement {
  amountMinor: Minor;
  issueDate: CalendarDate;
  paidDate: CalendarDate;
}

/** Average days to pay = sum(amount x (paid - issued)) / sum(amount), weighted by the amounts paid. */
export function averageDaysToPay(settlements: Iterable<Settlement>): number | null {
  let weighted = 0n;
  let total = 0n;
  for (const s of settlements) {
    weighted += s.amountMinor * BigInt(daysBetween(s.issueDate, s.paidDate));
    total += s.amountMinor;
  }
  return total > 0n ? ratio1(weighted, total) : null;
}
