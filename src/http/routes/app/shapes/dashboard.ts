/**
 * The dashboard's answer (GET /api/app/dashboard), as the server builds it (src/reports/dashboard.ts)
 * and the web app reads it (web/src/screens/Dashboard.tsx).
 */
import type { CalendarDate } from '../../../../domain/dates.ts';
import type { ProvisionalRate, RateWarning } from '../../../../domain/law/index.ts';

/** The snapshot of the dashboard (stored as JSON in dashboard_snapshots). */
export interface DashboardPayload {
  asOf: CalendarDate;
  currency: string;
  computedAt: string;
  totals: { receivablesMinor: string; overdueMinor: string; notDueMinor: string; disputedMinor: string; unallocatedMinor: string; overdueShare: number | null };
  dso: number | null;
  /** The balance is older than the months counted: DSO is at least this. */
  dsoExhausted: boolean;
  bestPossibleDso: number | null;
  add: number | null;
  cei: number | null;
  averageDaysToPay: number | null;
  penalties: { interestMinor: string; indemnityMinor: string; invoices: number; provisionalRates: ProvisionalRate[] };
  aging: { bucket: string; amountMinor: string; count: number }[];
  trends: { month: string; salesMinor: string; collectedMinor: string; receivablesMinor: string; overdueMinor: string }[];
  cashCollectedThisMonthMinor: string;
  expected: { weekStart: CalendarDate; dueMinor: string; promisedMinor: string }[];
  steps: { stepKey: string; channel: string; template: string; actions: number; exported: number; paidWithin7: number; share: number | null }[];
  bank: { held: boolean; message: string | null; lastImportOn: CalendarDate | null };
  conventions: { ceiMonths: number; adpMonths: number };
  /** Not shown: the kinds of customer with overdue invoices, from which the rate warnings are read with the tables of the moment (law/regime.ts OverdueParty). */
  overdueParties?: { country: string | null; kind: 'business' | 'consumer' }[];
}

/** The dashboard with the rate warnings read at the time of the request (never from the snapshot). */
export interface DashboardResponse extends Omit<DashboardPayload, 'overdueParties'> {
  rateWarnings: RateWarning[];
}
