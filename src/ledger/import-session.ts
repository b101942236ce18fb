/**
 * What one import transaction knows while it writes, in one object passed along (it used to live
 * in WeakMaps keyed by the transaction): whether the lookup settings are on for the whole writing
 * phase, the table statistics kept true as the import grows the tables, the customer ids already
 * looked up, and the invoice numbers an organisation's first import has COPYed. A session is one
 * transaction and one organisation: `runImport` (src/imports/report.ts) opens it with the
 * transaction and it ends with it; the set-based upserts of bulk.ts take it as their first argument.
 */
import type { Queryable } from '../db/driver.ts';
import type { KeyFilter } from './key-filter.ts';

/** Tables are analysed again once an import has added this many rows and at least as many as they had. */
const STATS_MIN = 2000;

export class ImportSession {
  private phase = false;
  private readonly statistics = new Map<string, { known: number; added: number }>();
  /**
   * Customer ids by external id, for the rows a file names them in: looked up once per customer
   * (bulk.ts `customerIds`), then remembered for the rest of the import, at most CUSTOMER_IDS_MAX.
   */
  readonly customerIds = new Map<string, bigint>();
  /**
   * The invoice numbers this import has COPYed into an organisation that had no invoice when it
   * first wrote one (its first import, the big one): a number the filter has never seen cannot
   * exist and needs no lookup. null: the organisation had invoices, or some were written another
   * way in this import; every number is then looked up. undefined: not known yet.
   */
  copiedNumbers: KeyFilter | null | undefined = undefined;

  constructor(
    readonly q: Queryable,
    readonly orgId: string,
  ) {}

  /**
   * A file import's writing phase: every statement it sends is a batch looked up by keys and
   * written, so the settings `indexLookups` gives one statement (sequential and bitmap scans and
   * JIT off) are given once to the whole phase, which saves two round trips per statement. They
   * are put back when fn returns (the bank matching and the re-planning that follow in the same
   * transaction read whole tables); when it throws, the transaction is rolled back.
   */
  async writingPhase<T>(fn: () => Promise<T>): Promise<T> {
    await this.q.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off');
    this.phase = true;
    try {
      const out = await fn();
      await this.q.exec('SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT');
      return out;
    } finally {
      this.phase = false;
    }
  }

  /**
   * Runs fn's statements with sequential scans off, then puts them back: the planner plans a
   * batch's lookups from statistics taken before this transaction filled the tables (an
   * organisation's first import finds customers and invoices "empty"), and would otherwise scan a
   * whole table once per row of the batch. The disabled scans' costs would then make the statement
   * look worth JIT-compiling (most of a second per batch, for nothing): JIT stays off for the rest
   * of the transaction. SET LOCAL, so nothing outlives the transaction.
   * keyLookups: the statements look rows up by a list of keys (key = ANY($n)); bitmap scans go off
   * too, or the planner, misled the same way, reads every row of the organisation through the
   * organisation's index and filters them by the list, once per batch (quadratic over an import).
   */
  async indexLookups<T>(fn: () => Promise<T>, opts: { keyLookups?: boolean } = {}): Promise<T> {
    if (this.phase) return fn();
    await this.q.exec(`SET LOCAL enable_seqscan = off; SET LOCAL jit = off${opts.keyLookups ? '; SET LOCAL enable_bitmapscan = off' : ''}`);
    const out = await fn();
    await this.q.exec(`SET LOCAL enable_seqscan TO DEFAULT${opts.keyLookups ? '; SET LOCAL enable_bitmapscan TO DEFAULT' : ''}`);
    return out;
  }

  /**
   * Statistics kept true during a large import: the planner sizes tables from their last ANALYZE,
   * which knows nothing of the rows this transaction added, and then picks, for a lookup by key, an
   * index on the organisation alone with a filter (every row of the organisation read for each
   * looked-up row). Each time an import has added as many rows to a table as its statistics knew of
   * (and at least STATS_MIN), the table's organisation_id is analysed in the transaction (ANALYZE
   * counts the transaction's own rows): a handful of times over a million rows.
   */
  async keepStatistics(table: string, inserted: number): Promise<void> {
    const q = this.q;
    if (!q.copyIn || inserted === 0) return; // only inside a transaction (see copyIn)
    let t = this.statistics.get(table);
    if (!t) {
      const [row] = await q.query<{ n: number }>('SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::regclass', [table]);
      this.statistics.set(table, (t = { known: Number(row?.n ?? 0), added: 0 }));
    }
    t.added += inserted;
    if (t.added < Math.max(STATS_MIN, t.known)) return;
    // What misleads the planner is the organisation's share of the table and the table's size:
    // organisation_id alone, from a small sample, is enough and costs a tenth of a full ANALYZE
    // (autovacuum analyses the whole table again after the commit). ANALYZE keeps a lock on the
    // table until the transaction ends that another ANALYZE waits for: two large imports analysing
    // two tables in opposite orders would deadlock. So it waits 100 ms at most, in a savepoint, and
    // when another import holds the table this one goes on with the statistics there are.
    try {
      await q.exec(
        `SAVEPOINT relance_analyze; SET LOCAL lock_timeout = '100ms'; SET LOCAL default_statistics_target = 10; ANALYZE ${table} (organisation_id);
         SET LOCAL lock_timeout TO DEFAULT; SET LOCAL default_statistics_target TO DEFAULT; RELEASE SAVEPOINT relance_analyze`,
      );
    } catch {
      await q.exec('ROLLBACK TO SAVEPOINT relance_analyze; RELEASE SAVEPOINT relance_analyze');
    }
    const [row] = await q.query<{ n: number }>('SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::regclass', [table]);
    t.known = Number(row?.n ?? 0);
    t.added = 0;
  }
}
