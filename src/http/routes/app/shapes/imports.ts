/**
 * Imports as the web app sees them: the first rows of a file with the column found for each field
 * (the preview and the column-mapping screen), the mapping the screen sends back, and what an import
 * planned right after it.
 */
import { z } from 'zod';

/** The column chosen for each field, 1-based, as the mapping screen sends it (a JSON form field). */
export const ImportMapping = z.object({ columns: z.record(z.string().regex(/^[a-zA-Z]{1,40}$/), z.number().int().min(1).max(1000)) });
export type ImportMapping = z.infer<typeof ImportMapping>;

export interface ImportField {
  name: string;
  required: boolean;
}

export interface ImportInspection {
  kind: 'customers' | 'invoices' | 'payments';
  header: string[];
  /** The first rows, cell by cell, as read. */
  rows: string[][];
  /** Field -> 0-based column found from the header's names. */
  columns: Record<string, number>;
  /** Required fields no column was found for; "customerKey or customerName" for invoices. */
  missing: string[];
  fields: ImportField[];
  separator: string;
  encoding: string;
}

/** What the daily cycle planned right after an import (the reminders of the new invoices). */
export interface ImportPlanned {
  actionsCreated: number;
  awaitingApproval: number;
}

/** One import of the history (GET /api/app/imports), newest first: what was read and what came of it. */
export interface ImportRunRow {
  id: string;
  kind: string;
  filename: string | null;
  outcome: 'imported' | 'rejected' | 'dry_run';
  rows_read: number;
  counts: unknown;
  problems: unknown;
  created_at: string;
}
