/**
 * What an import answers (the report), as types only: src/imports/report.ts builds it, the CLI and
 * the API print it as JSON, and the web app (web/src/components/imports.tsx) reads it. No code
 * here, so the web app can import it.
 */
export type ImportKind = 'customers' | 'invoices' | 'payments' | 'fec' | 'einvoice';

export interface ImportProblem {
  line: number | null;
  column: string | null;
  reason: string;
}

/**
 * A document the import understood, as a person checks a dry run: an invoice or credit note with
 * its dates and amounts (decimal strings, the API's money form). For a FEC, `amountDue` is the
 * invoice's open amount once the file's payments and lettering are applied.
 */
export interface ReportDocument {
  /** The file it came from (e-invoices: one document per file). */
  file?: string;
  kind: 'invoice' | 'credit_note';
  number: string;
  issueDate: string | null;
  dueDate: string | null;
  currency: string;
  total: string;
  amountDue: string;
  /** The buyer's name as the file gives it. */
  buyer: string;
  /** The customer's code in the file (FEC: CompAuxNum), when it has one. */
  customerCode?: string;
}

export interface TableCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface ImportReport {
  kind: ImportKind;
  filename: string | null;
  sha256: string | null;
  dryRun: boolean;
  /** imported: written; rejected: problems, nothing written; dry_run: checked, nothing written. */
  outcome: 'imported' | 'rejected' | 'dry_run';
  rowsRead: number;
  /** How the file was read: encoding, separator, the column each field came from. */
  detected: ImportDetected;
  counts: Record<string, TableCounts>;
  problems: ImportProblem[];
  problemCount: number;
  warnings: string[];
  /** What was read, document by document (the first `maxDocuments`; all are counted and totalled). */
  documents: ReportDocument[];
  documentCount: number;
  /** Sum of `amountDue` over all the documents read, per currency (credit notes count negative). */
  openTotal: Record<string, string>;
  importRunId: bigint | null;
}

/** How a file was read, as far as the report says it (each reader adds its own facts). */
export type ImportDetected = { encoding?: string; bom?: boolean; separator?: string; columns?: Record<string, string> } & Record<string, unknown>;

/** The report as JSON carries it (the API, the web app): the import run's id as a string. */
export type ImportReportJson = Omit<ImportReport, 'importRunId'> & { importRunId: string | null };
