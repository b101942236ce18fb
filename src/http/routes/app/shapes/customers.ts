/** The customer list (GET /api/app/customers), as src/http/routes/app/customers.ts answers and web/src/screens/Customers.tsx reads it. */
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
