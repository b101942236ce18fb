/**
 * Rates assumed past what a table knows. The law engine computes with the latest known rate and
 * flags the result provisional (never an invented rate); these helpers tell the operator which
 * table needs its next rate, and say whether a claim made today under a regime would rest on a
 * provisional rate (formal notices then wait for a human until the rate is confirmed).
 */
import type { CalendarDate } from '../dates.ts';
import { semesterOfDay, semesterStartDay, toDay } from './calendar.ts';
import type { LateFeeResult } from './interest.ts';
import { type RateTableName, type RateTables, rateOnDay } from './rates.ts';
import type { Regime } from './regimes.ts';

export interface ProvisionalRate {
  table: RateTableName;
  /** Last day the table is known for. */
  knownThrough: CalendarDate;
  /** The period computed with an assumed rate ("2026-H2 (2026-07-01 – 2026-12-31)"). */
  period: string;
  /** The rate assumed: the latest known one, and since when it is in force. */
  assumedPercent: string;
  since: CalendarDate;
}

/** Collects, over many results, each table and period computed with an assumed rate, once. */
export class ProvisionalRates {
  private readonly seen = new Map<string, ProvisionalRate>();

  add(r: LateFeeResult): void {
    if (!r.provisional) return;
    for (const n of r.noteDetails) {
      if (n.key !== 'provisional_rate') continue;
      const v = n.vars;
      const key = `${v.table}|${v.period}`;
      if (!this.seen.has(key)) {
        this.seen.set(key, { table: v.table as RateTableName, knownThrough: v.knownThrough as CalendarDate, period: v.period!, assumedPercent: v.assumed!, since: v.since as CalendarDate });
      }
    }
  }

  list(): ProvisionalRate[] {
    return [...this.seen.values()].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : a.period < b.period ? -1 : 1));
  }
}

/**
 * Whether a claim dated `today` under `regime` would use a rate the tables do not know yet (the
 * reference rate of today's half-year, or, for a rate fixed per debt, of the last fixing date):
 * the table and how far it is known, or null when the rate is known.
 */
export function provisionalToday(regime: Regime, tables: RateTables, today: CalendarDate, creditorKind: 'professional' | 'individual' = 'professional'): { table: RateTableName; knownThrough: CalendarDate } | null {
  const rule = regime.interest;
  if (!rule) return null;
  const table = typeof rule.table === 'string' ? rule.table : rule.table[creditorKind];
  const day = toDay(today);
  const sem = semesterOfDay(day);
  const on = rule.fixing === 'half-year' ? semesterStartDay(sem) : semesterStartDay(sem) - 1;
  const l = rateOnDay(tables, table, on);
  return l.provisional ? { table, knownThrough: l.knownThrough } : null;
}
