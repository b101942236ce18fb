/**
 * Invoices (src/http/routes/app/invoices.ts): the search of open invoices (the bank's manual match)
 * and an invoice's page, as web/src/screens/Invoice.tsx and Bank.tsx read them.
 */
import type { CalendarDate } from '../../../../domain/dates.ts';
import type { InvoiceStatus } from '../../../../domain/ledger.ts';

/** GET /api/app/invoices/search: an open invoice, oldest due first. */
export interface InvoiceSearchRow {
  id: string;
  number: string;
  customerId: string;
  customerName: string;
  dueDate: CalendarDate;
  currency: string;
  amountMinor: string;
  openMinor: string;
}

export interface InvoiceSummary {
  id: string;
  customerId: string;
  number: string;
  externalId: string | null;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountExclTaxMinor: string;
  amountInclTaxMinor: string;
  allocatedMinor: string;
  writtenOffMinor: string;
  openMinor: string;
  status: InvoiceStatus;
  pdfDocumentId: string | null;
}

/** A step of the invoice's dunning calendar (engine/preview.ts CalendarLine). */
export interface InvoiceCalendarLine {
  invoice: string;
  stepKey: string;
  offset: number;
  channel: string;
  tone: string;
  date: CalendarDate;
  /** outside: a reminder sent before Relance (another tool, by hand), as the import recorded it. */
  state: 'done' | 'due' | 'future' | 'passed' | 'skipped' | 'cancelled' | 'outside';
  actionStatus: string | null;
  reason: string | null;
  paused: boolean;
  /** What the step needs before it may go out: reminder_sent, formal_notice_expired. */
  prerequisite: string | null;
  /** The invoice waits today on this step's prerequisite. */
  waiting: boolean;
}

/** A payment's allocation, a credit note's, or a write-off. */
export interface InvoiceSettlement {
  kind: 'allocation' | 'write_off';
  id: string;
  on: CalendarDate;
  amountMinor: string;
  paymentId: string | null;
  method: string | null;
  /** The payment's reference, or the write-off's reason. */
  reference: string | null;
  creditNote: string | null;
}

export type InvoiceDocument =
  | { kind: 'invoice_pdf'; id: string; url: string }
  | { kind: 'delivery'; id: string; channel: string; subject: string | null; template: string; at: string | null; provider: string | null; url: string };

/** Late-payment interest and the fixed indemnity owed on the invoice today (law/customer-penalties.ts). */
export interface InvoiceFees {
  daysLate: number;
  interestMinor: string;
  indemnityMinor: string;
  periods: { from: CalendarDate; to: CalendarDate; days: number; ratePercent: string; baseMinor: string; interestMinor: string }[];
}

export interface InvoiceDispute {
  id: string;
  reason: string;
  openedOn: CalendarDate;
  resolvedOn: CalendarDate | null;
  resolution: string | null;
  pauseId: string | null;
  wholeCustomer: boolean;
}

/** A pause in force over the invoice, with what it covers (null: the whole customer). */
export interface InvoicePause {
  id: string;
  reason: string;
  endsOn: CalendarDate | null;
  invoices: string[] | null;
}

/** What was done about the invoice. `at` is a day, or a time when it happened at one. */
export type InvoiceHistoryItem =
  | { at: string; kind: 'action'; id: string; channel: string; template: string; status: string; statusReason: string | null }
  | { at: string; kind: 'promise'; id: string; promisedOn: CalendarDate; amountMinor: string; currency: string; status: string }
  | { at: string; kind: 'note'; id: string; body: string; author: string; followUpOn: CalendarDate | null }
  | { at: string; kind: 'dispute'; id: string; reason: string; resolvedOn: CalendarDate | null; resolution: string | null };

/** GET /api/app/invoices/:id */
export interface InvoiceResponse {
  today: CalendarDate;
  invoice: InvoiceSummary;
  customer: { id: string; name: string };
  daysPastDue: number;
  calendar: InvoiceCalendarLine[];
  settlements: InvoiceSettlement[];
  documents: InvoiceDocument[];
  fees: InvoiceFees | null;
  pauses: InvoicePause[];
  disputes: InvoiceDispute[];
  /** Newest first, paid or not. */
  history: InvoiceHistoryItem[];
}
