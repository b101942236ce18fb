/**
 * The one shape every bank statement format is parsed into. Parsers are pure functions from the
 * file's bytes to this shape: no database, no clock. Amounts are signed minor units (credit > 0,
 * debit < 0) so that a statement's lines add up to its balance movement without sign bookkeeping.
 */
import type { CalendarDate } from '../../domain/dates.ts';
import type { Minor } from '../../domain/money.ts';
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import type { Text } from '../../i18n/index.ts';

export type BankFormat = 'camt053' | 'camt054' | 'cfonb120' | 'ofx' | 'csv';

export interface BankLine {
  /** The day the bank booked the entry, as the bank wrote it (no time-zone conversion). */
  bookingDate: CalendarDate;
  valueDate: CalendarDate | null;
  /** Signed: a credit (money in) is positive, a debit negative. */
  amountMinor: Minor;
  currency: string;
  /** The other party: the payer of a credit, the payee of a debit. */
  counterpartyName: string | null;
  counterpartyIban: string | null;
  /** Unstructured remittance information, as the payer typed it (camt Ustrd, CFONB LIB, OFX MEMO). */
  remittanceText: string | null;
  /** Structured creditor reference (camt Strd/CdtrRefInf/Ref, e.g. an ISO 11649 "RF…"). */
  creditorReference: string | null;
  /** The bank's own label for the entry (CFONB 04 label, camt AddtlNtryInf, OFX NAME). */
  label: string | null;
  /**
   * An id the bank guarantees unique on the account (camt AcctSvcrRef, OFX FITID). When present
   * it is the idempotency key of the line; when absent the importer hashes the line's content.
   */
  entryReference: string | null;
  endToEndId: string | null;
  /** Other references the bank gives (CFONB reference zone and REF complement, cheque number...). */
  bankReference: string | null;
  /** Bank transaction code (camt BkTxCd, CFONB interbank code, OFX TRNTYPE). */
  transactionCode: string | null;
  /** The bank cancels an earlier entry (camt RvslInd). */
  reversal: boolean;
  accountIban: string | null;
  accountNumber: string | null;
  /** Where the line sits in the file: a line number (CFONB, OFX, CSV) or an XML element path. */
  source: { line?: number; path?: string };
}

export interface BankBalance {
  amountMinor: Minor;
  date: CalendarDate;
}

export interface BankStatement {
  /** The bank's statement id when it gives one (camt Stmt/Id). */
  id: string | null;
  accountIban: string | null;
  accountNumber: string | null;
  currency: string | null;
  openingBalance: BankBalance | null;
  closingBalance: BankBalance | null;
  lines: BankLine[];
}

export interface ParsedBankFile {
  format: BankFormat;
  /** The format's own version when it states one ("camt.053.001.08", "OFX 102"). */
  version: string | null;
  statements: BankStatement[];
  /** What was read differently from what the file literally says (a date taken from elsewhere...). */
  warnings: Text[];
}

/** A malformed file is refused whole: the error names the file, line or element, and the reason. */
export function parseError(message: string | Text, where: { file?: string; line?: number; path?: string; field?: string }): RelanceError {
  const clean: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(where)) if (v !== undefined) clean[k] = v;
  return new RelanceError(ERROR_CODES.PARSE, message, { where: clean });
}

export interface ParseOptions {
  /** File name, only used to name the place of an error. */
  filename?: string;
}

/** Collapse runs of white space and trim; null for nothing left. */
export function cleanText(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length ? t : null;
}

export function joinText(parts: ReadonlyArray<string | null | undefined>, sep = ' '): string | null {
  return cleanText(parts.filter((p) => p?.trim()).join(sep));
}
