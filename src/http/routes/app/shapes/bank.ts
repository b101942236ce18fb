/**
 * The bank screen's answers (src/http/routes/app/bank.ts), as web/src/screens/Bank.tsx reads them:
 * the statements, the review queue with its proposals, matched and set-aside lines, an import.
 */
import type { CalendarDate } from '../../../../domain/dates.ts';
import type { BankHold } from './common.ts';

/** An amount of a proposal on one invoice. */
export interface ProposedInvoice {
  invoiceId: string;
  number: string;
  amountMinor: string;
}

/** A proposed match of a credit, to accept in one click (its reason in both languages). */
export interface BankCandidate {
  proposalId: string;
  customerId: string;
  customerName: string | null;
  confidence: number;
  reason: { fr: string; en: string };
  /** The invoices it settles and how much of each, oldest due first. */
  allocations: ProposedInvoice[];
  /** Bank charges it writes off. */
  writeOffs: ProposedInvoice[];
  /** What stays as the customer's credit. */
  unallocatedMinor: string;
}

/** A credit waiting for a person: proposals found (review) or none (unmatched). */
export interface BankQueueItem {
  lineId: string;
  bookingDate: CalendarDate;
  amountMinor: string;
  currency: string;
  counterpartyName: string | null;
  text: string | null;
  status: 'review' | 'unmatched';
  candidates: BankCandidate[];
}

export interface BankStatementRow {
  id: string;
  format: string;
  accountIban: string | null;
  filename: string | null;
  importedAt: string;
  lines: number;
  matched: number;
  closingDate: CalendarDate | null;
  closingMinor: string | null;
  currency: string | null;
}

export interface BankMatchedRow {
  id: string;
  bookingDate: CalendarDate;
  amountMinor: string;
  currency: string;
  counterpartyName: string | null;
  text: string;
  matchedBy: 'auto' | 'manual';
  customerId: string | null;
  customerName: string | null;
}

export interface BankIgnoredRow {
  id: string;
  bookingDate: CalendarDate;
  amountMinor: string;
  currency: string;
  counterpartyName: string | null;
  text: string;
}

/** GET /api/app/bank */
export interface BankResponse {
  today: CalendarDate;
  currency: string;
  hold: BankHold;
  statements: BankStatementRow[];
  queue: BankQueueItem[];
  matched: BankMatchedRow[];
  ignored: BankIgnoredRow[];
}

/** POST /api/app/bank/import: what the file held, and what the reconciliation of its new lines did. */
export interface BankImportResponse {
  format: string;
  filename: string | null;
  statements: number;
  summary: { read: number; new: number; duplicates: number };
  reconcile: { considered: number; matched: number; review: number; unmatched: number; ignored: number; reversed: number } | null;
}

/** A match accepted or made by hand: the customer's payment it recorded. */
export interface BankMatchResponse {
  paymentId: string;
}
