/**
 * The customer list (GET /api/app/customers) and a customer's page (GET /api/app/customers/:id and
 * its penalties), as src/http/routes/app/customers.ts answers and web/src/screens/Customers.tsx
 * and Customer.tsx read them.
 */
import type { CalendarDate } from '../../../../domain/dates.ts';

/** A customer's state in the list, most pressing first (the list sorts on this order). */
export type CustomerStatus = 'disputed' | 'paused' | 'promised' | 'overdue' | 'open' | 'settled';

export interface CustomerListRow {
  id: string;
  name: string;
  externalId: string | null;
  kind: 'business' | 'consumer';
  siren: string | null;
  tags: string[];
  segment: string | null;
  /** Live balances of the rows shown (the snapshot only orders them). */
  openMinor: string;
  overdueMinor: string;
  openInvoices: number;
  daysPastDue: number;
  currency: string | null;
  /** Who looks after the account (a member's e-mail). */
  owner: string | null;
  status: CustomerStatus;
  /** The last message that went out, and the next step planned. */
  /** `at` is when it was sent; an exported letter has no sending time, only the day it was planned for (`on`). */
  lastAction: { channel: string; template: string; at: string | null; on: CalendarDate } | null;
  nextAction: { channel: string; template: string; on: CalendarDate; status: string } | null;
}

export interface CustomerListResponse {
  total: number;
  page: number;
  size: number;
  rows: CustomerListRow[];
}

// ------------------------------------------------------------------ a customer's page

export interface CustomerOpenItem {
  invoiceId: string;
  number: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  amountInclTaxMinor: string;
  openMinor: string;
  daysPastDue: number;
}

export interface CustomerCalendarLine {
  invoice: string;
  stepKey: string;
  offset: number;
  channel: string;
  tone: string;
  date: string;
  state: string;
  actionStatus: string | null;
  reason: string | null;
  paused: boolean;
}

export interface CustomerTimelineItem {
  at: string;
  kind: string;
  id: string;
  data: Record<string, unknown> & { deliveryIds?: string[] };
}

export interface CustomerContact {
  id: string;
  name: string;
  role: string | null;
  email: string | null;
  phone: string | null;
  city: string | null;
  receivesReminders: boolean;
}

export interface CustomerDispute {
  id: string;
  reason: string;
  openedOn: string;
  resolvedOn: string | null;
  resolution: string | null;
  pauseId: string | null;
  invoiceIds: string[] | null;
  invoices: string[] | null;
}

export interface CustomerPageResponse {
  today: string;
  currency: string;
  customer: {
    id: string;
    legalName: string;
    kind: string;
    siren: string | null;
    vatNumber: string | null;
    externalId: string | null;
    language: string;
    paymentTermsDays: number;
    tags: string[];
    contacts: CustomerContact[];
  };
  owner: string | null;
  owners: string[];
  disputes: CustomerDispute[];
  balances: { currency: string; openInvoicesMinor: string; overdueMinor: string; unallocatedCreditMinor: string; balanceMinor: string }[];
  openItems: CustomerOpenItem[];
  calendar: CustomerCalendarLine[];
  scenario: { key: string; name: string; assigned: boolean };
  scenarios: { key: string; name: string }[];
  /** invoices: the numbers a pause covers; null: the whole customer. */
  pauses: { id: string; reason: string; startsOn: string; endsOn: string | null; liftedOn: string | null; note: string | null; active: boolean; invoiceIds: string[] | null; invoices: string[] | null }[];
  paused: boolean;
  timeline: CustomerTimelineItem[];
  risk: {
    score: number;
    level: 'low' | 'medium' | 'high';
    reasons: { key: string; points: number; fr: string; en: string }[];
    daysLate: { all: number | null; last6: number | null; last12: number | null };
    paidAfterReminders: number[];
    settledCount: number;
  };
  credit: {
    creditLimitMinor: string | null;
    paymentTermsDays: number;
    depositPercent: string | null;
    earlyPaymentDiscount: { percent: string; withinDays: number } | null;
    riskClass: 'low' | 'medium' | 'high' | null;
    exposure: { openMinor: string; ordersMinor: string; exposureMinor: string; headroomMinor: string | null; overLimit: boolean };
  };
}

export interface CustomerPenaltiesResponse {
  interestMinor: string;
  indemnityMinor: string;
  invoices: { invoiceId: string; number: string; dueDate: string; currency: string; openMinor: string; daysLate: number; interestMinor: string; indemnityMinor: string; provisional: boolean; periods: { from: string; to: string; days: number; ratePercent: string; interestMinor: string }[]; notes: string[] }[];
}
