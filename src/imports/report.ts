/**
 * What every import answers, whatever the format: what it read, what it wrote (or would write, in
 * a dry run), and every rejected row with its line, column and reason. An import with one problem
 * writes nothing: the transaction is rolled back and the report says why.
 */
import { createHash } from 'node:crypto';
import type { Db, } from '../db/driver.ts';
import { todayIn } from '../domain/dates.ts';
import { toDecimalString } from '../domain/money.ts';
import { matchPayments } from '../bank/match-payments.ts';
import { replanOrganisation } from '../engine/events.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { isRelanceError } from '../errors.ts';
import { type Lang, renderText } from '../i18n/index.ts';
import { refusalText, type UpsertResult } from '../ledger/bulk.ts';
import { ImportSession } from '../ledger/import-session.ts';

export type { ImportKind, ImportProblem, ImportReport, ReportDocument, TableCounts } from './report-shape.ts';
import type { ImportKind, ImportProblem, ImportReport, ReportDocument, TableCounts } from './report-shape.ts';
export const IMPORT_KINDS: readonly ImportKind[] = ['customers', 'invoices', 'payments', 'fec', 'einvoice'];

export interface ImportProgress {
  rows: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface ImportOptions {
  dryRun?: boolean;
  onProgress?: (p: ImportProgress) => void;
  /** Problems kept in the report (all are counted); default 10,000. */
  maxProblems?: number;
  /** Documents listed in the report (all are counted and totalled); default 10,000. */
  maxDocuments?: number;
  /** The language of the problems' reasons: the person reading the report (default English). */
  lang?: Lang;
}

/** The documents an import read: listed up to a cap, counted and totalled beyond it. */
export class Documents {
  readonly list: ReportDocument[] = [];
  count = 0;
  readonly openMinor = new Map<string, bigint>();
  constructor(readonly max = 10_000) {}
  /** `dueMinor` is the open amount, counted into the total (negative for a credit note). */
  add(d: ReportDocument, dueMinor: bigint) {
    this.count++;
    this.addTotal(d.currency, d.kind === 'credit_note' ? -dueMinor : dueMinor);
    if (this.list.length < this.max) this.list.push(d);
  }
  /** For imports that total in SQL what they list only in part. */
  addTotal(currency: string, minor: bigint) {
    this.openMinor.set(currency, (this.openMinor.get(currency) ?? 0n) + minor);
  }
  totals(): Record<string, string> {
    return Object.fromEntries([...this.openMinor].map(([c, m]) => [c, toDecimalString(m, c)]));
  }
}

/** Collects problems in constant memory beyond the cap (they are still counted). */
export class Problems {
  readonly list: ImportProblem[] = [];
  count = 0;
  constructor(
    private readonly max = 10_000,
    readonly lang: Lang = 'en',
  ) {}
  add(line: number | null, column: string | null, reason: string) {
    this.count++;
    if (this.list.length < this.max) this.list.push({ line, column, reason });
  }
  /** A RelanceError thrown while reading a row becomes a problem at that row. */
  addError(line: number | null, e: unknown, column: string | null = null) {
    if (isRelanceError(e)) this.add(e.where?.line ?? line, e.where?.field ?? column, e.detail(this.lang));
    else throw e;
  }
  get any() {
    return this.count > 0;
  }
}

export class Counts {
  readonly tables: Record<string, TableCounts> = {};
  add(table: string, r: Pick<UpsertResult, 'inserted' | 'updated' | 'unchanged'>) {
    const t = (this.tables[table] ??= { inserted: 0, updated: 0, unchanged: 0 });
    t.inserted += r.inserted;
    t.updated += r.updated;
    t.unchanged += Math.max(0, r.unchanged);
  }
}

class Rollback extends Error {}

export interface ImportBody {
  problems: Problems;
  documents: Documents;
  counts: Counts;
  detected: Record<string, unknown>;
  warnings: string[];
  rowsRead: number;
}

/**
 * Runs an import body in one transaction. The body reads and writes as it goes (streaming), and
 * records problems instead of throwing; if any problem was recorded, or in a dry run, everything
 * is rolled back. The run is logged in import_runs afterwards, whatever the outcome.
 */
export async function runImport(
  db: Db,
  orgId: string,
  kind: ImportKind,
  meta: { filename: string | null; sha256: string | null },
  opts: ImportOptions,
  body: (s: ImportSession, b: ImportBody) => Promise<void>,
): Promise<ImportReport> {
  const b: ImportBody = { problems: new Problems(opts.maxProblems, opts.lang), documents: new Documents(opts.maxDocuments), counts: new Counts(), detected: {}, warnings: [], rowsRead: 0 };
  try {
    await db.tx(async (q) => {
      // An import's statements are large by nature: compiling them (JIT) costs more than it saves,
      // and their sorts and hashes (a FEC's lettering, a million staged lines) fit in 64 MB, not
      // in the default 4 MB that sends them to temporary files.
      await q.exec(`SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
      try {
        const session = new ImportSession(q, orgId);
        await session.writingPhase(() => body(session, b));
      } catch (e) {
        // A failure that is about the input (a whole-file problem) is reported, not thrown.
        if (!isRelanceError(e)) throw e;
        b.problems.addError(null, e);
      }
      if (b.problems.any || opts.dryRun) throw new Rollback();
      // Payments the file did not tie to an invoice go through the bank matching (reference, known
      // IBAN and amount, payer name and amount); what it is not sure of stays as customer credit.
      if (kind === 'payments') await matchPayments(q, orgId, { createdInThisTransaction: true });
      // What the file paid (or paused) stops the pending reminders at once, in the same transaction.
      const org = await getOrganisation(q, orgId);
      await replanOrganisation(q, orgId, todayIn(org.timeZone, Date.now()));
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  const outcome = b.problems.any ? 'rejected' : opts.dryRun ? 'dry_run' : 'imported';
  const [run] = await db.query<{ id: bigint }>(
    `INSERT INTO import_runs (organisation_id, kind, filename, sha256, outcome, rows_read, counts, problems)
     VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8::jsonb) RETURNING id`,
    [orgId, kind, meta.filename, meta.sha256, outcome, b.rowsRead, JSON.stringify(b.counts.tables), JSON.stringify(b.problems.list.slice(0, 100))],
  );
  return {
    kind,
    filename: meta.filename,
    sha256: meta.sha256,
    dryRun: Boolean(opts.dryRun),
    outcome,
    rowsRead: b.rowsRead,
    detected: b.detected,
    counts: b.counts.tables,
    problems: b.problems.list,
    problemCount: b.problems.count,
    warnings: b.warnings,
    documents: b.documents.list,
    documentCount: b.documents.count,
    openTotal: b.documents.totals(),
    importRunId: run!.id,
  };
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function recordRefusals(problems: Problems, r: UpsertResult) {
  for (const x of r.refused) problems.add(x.line, x.field, renderText(refusalText(x), problems.lang));
}
