/**
 * One small database interface over two drivers: PGlite (embedded, the default) and PostgreSQL
 * through `pg` (when DATABASE_URL is set). Both get the same type parsers so a row reads the same
 * on either: `date` stays the text "YYYY-MM-DD" (never a Date, which would shift the day),
 * `int8` and `numeric` become bigint (money is bigint minor units), timestamps stay ISO text.
 */
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors, type Text } from '../i18n/index.ts';

const E = defineErrors('db', {
  invoices_not_overallocated: { fr: "les affectations et passages en perte dépasseraient le montant de la facture (son reste dû)", en: "allocations and write-offs would exceed the invoice amount (its open amount)" },
  payments_not_overallocated: { fr: "les affectations dépasseraient le montant du paiement", en: "allocations would exceed the payment amount" },
  credit_notes_not_overallocated: { fr: "les affectations dépasseraient le montant de l’avoir", en: "allocations would exceed the credit note amount" },
  invoices_number_unique: { fr: "une facture portant ce numéro existe déjà dans l’organisation", en: "an invoice with this number already exists in the organisation" },
  customers_external_id_unique: { fr: "un client avec cet identifiant externe existe déjà dans l’organisation", en: "a customer with this external id already exists in the organisation" },
  organisations_siren_unique: { fr: "une organisation avec ce SIREN existe déjà", en: "an organisation with this SIREN already exists" },
  alloc_invoice: { fr: "une affectation porte sur une facture qui n’existe pas dans cette organisation ou qui est dans une autre devise (les devises ne correspondent pas)", en: "an allocation refers to an invoice that does not exist in this organisation or is in another currency (currencies do not match)" },
  alloc_payment: { fr: "une affectation porte sur un paiement qui n’existe pas dans cette organisation ou qui est dans une autre devise (les devises ne correspondent pas)", en: "an allocation refers to a payment that does not exist in this organisation or is in another currency (currencies do not match)" },
  alloc_credit_note: { fr: "une affectation porte sur un avoir qui n’existe pas dans cette organisation ou qui est dans une autre devise (les devises ne correspondent pas)", en: "an allocation refers to a credit note that does not exist in this organisation or is in another currency (currencies do not match)" },
  write_off_invoice: { fr: "un passage en perte porte sur une facture qui n’existe pas dans cette organisation ou qui est dans une autre devise", en: "a write-off refers to an invoice that does not exist in this organisation or is in another currency" },
  rows_immutable: { fr: "les lignes de {table} ne peuvent pas être modifiées ; supprimez-les et enregistrez-en une nouvelle", en: "{table} rows cannot be modified; delete and record a new one" },
  has_allocations: { fr: "{table} {id} a des affectations : annulez-les d’abord", en: "{table} {id} has allocations: reverse them first" },
  invoice_has_allocations: { fr: "la facture {id} a des affectations : annulez-les d’abord", en: "invoices {id} has allocations: reverse them first" },
  payment_has_allocations: { fr: "le paiement {id} a des affectations : annulez-les d’abord", en: "payments {id} has allocations: reverse them first" },
  credit_note_has_allocations: { fr: "l’avoir {id} a des affectations : annulez-les d’abord", en: "credit_notes {id} has allocations: reverse them first" },
  has_write_offs: { fr: "la facture {id} a des passages en perte : annulez-les d’abord", en: "invoice {id} has write-offs: reverse them first" },
  ledger_rule: { fr: "la base de données a refusé la modification : {reason}", en: "{reason}" },
  ledger_invariant: { fr: "règle comptable non respectée", en: "ledger invariant" },
  check: { fr: "la contrainte {constraint} a refusé la modification", en: "constraint {constraint} refused the change" },
  duplicate: { fr: "valeur en double ({constraint})", en: "duplicate value ({constraint})" },
  currency_mismatch: { fr: "les devises ne correspondent pas", en: "currencies do not match" },
  missing_reference: { fr: "un enregistrement référencé n’existe pas dans cette organisation ou est dans une autre devise ({constraint})", en: "a referenced record does not exist in this organisation or has another currency ({constraint})" },
  invalid_value: { fr: "valeur invalide : {reason}", en: "{reason}" },
  invalid: { fr: "valeur invalide", en: "invalid value" },
  cannot_connect: { fr: "impossible de se connecter à PostgreSQL sur {url} : {reason}", en: "cannot connect to PostgreSQL at {url}: {reason}" },
});

export type DbKind = 'pglite' | 'postgres';

/** Text searched with LIKE/ILIKE as itself: %, _ and the escape character \ lose their meaning. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (m) => `\\${m}`);
export type Row = Record<string, unknown>;

export interface Queryable {
  query<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Bulk load: `data` in COPY text format (tab-separated, `\N` for NULL, one line per row) into
   * `table (columns)`. Offered only inside a transaction (a pool could send the COPY and the next
   * statement on two connections). PostgreSQL streams it (COPY FROM STDIN); PGlite reads it as a
   * blob (COPY FROM '/dev/blob'). Callers fall back to parameters when it is absent.
   */
  copyIn?(table: string, columns: readonly string[], data: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs fn in one transaction: everything it wrote commits together or not at all. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * PGlite only: the whole data folder as a gzipped tarball, taken while no transaction is open
   * (after a checkpoint), so it is consistent even while the server keeps working. `relance backup`.
   */
  dumpDataDir?(): Promise<Blob>;
}

const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082, TIMESTAMP: 1114, TIMESTAMPTZ: 1184 } as const;

const parseBig = (v: string) => BigInt(v);
/** numeric arrives for SUM(bigint); a fractional numeric here would be a bug, so it is refused. */
const parseNumeric = (v: string) => {
  if (/^-?\d+$/.test(v)) return BigInt(v);
  if (/^-?\d+\.0+$/.test(v)) return BigInt(v.slice(0, v.indexOf('.')));
  return v;
};
const asText = (v: string) => v;

const PARSERS: Record<number, (v: string) => unknown> = {
  [OID.INT8]: parseBig,
  [OID.NUMERIC]: parseNumeric,
  [OID.DATE]: asText,
  [OID.TIMESTAMP]: asText,
  [OID.TIMESTAMPTZ]: asText,
};

/** Parameters: bigint and Date are sent as text the server casts; objects as JSON. */
function serialiseParams(params: readonly unknown[] | undefined): unknown[] {
  if (!params) return [];
  return params.map((p) => {
    if (typeof p === 'bigint') return p.toString();
    if (p instanceof Date) return p.toISOString();
    if (p !== null && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Uint8Array)) return JSON.stringify(p, jsonReplacer);
    return p;
  });
}

/**
 * A PostgreSQL array literal ("{...}") for a parameter cast to an array type. Bulk writes pass
 * columns as arrays and unnest them server-side: cheaper to build and to parse than JSON.
 */
export function pgArray(values: ReadonlyArray<string | number | bigint | null | undefined>): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'string') out += `"${v.replace(/[\\"]/g, '\\$&')}"`;
    else out += String(v);
  }
  return `${out}}`;
}

export function jsonReplacer(_k: string, v: unknown) {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Custom SQLSTATE raised by our triggers (see migrations) for ledger invariants. */
const LEDGER_SQLSTATE = 'RL001';

/** Constraints whose refusal has its own words (a key of the table above). */
const CONSTRAINT_KEYS = {
  invoices_not_overallocated: true,
  payments_not_overallocated: true,
  credit_notes_not_overallocated: true,
  invoices_number_unique: true,
  customers_external_id_unique: true,
  organisations_siren_unique: true,
} as const;
type ConstraintKey = keyof typeof CONSTRAINT_KEYS;

/** The ledger triggers' own messages (migrations, SQLSTATE RL001), read back into message keys. */
const TRIGGER_MESSAGES: ReadonlyArray<[RegExp, (m: RegExpExecArray) => Text]> = [
  [/^an allocation refers to an invoice that does not exist in this organisation or is in another currency \(currencies do not match\)$/, () => E('alloc_invoice')],
  [/^an allocation refers to a payment that does not exist in this organisation or is in another currency \(currencies do not match\)$/, () => E('alloc_payment')],
  [/^an allocation refers to a credit note that does not exist in this organisation or is in another currency \(currencies do not match\)$/, () => E('alloc_credit_note')],
  [/^a write-off refers to an invoice that does not exist in this organisation or is in another currency$/, () => E('write_off_invoice')],
  [/^(\w+) rows cannot be modified; delete and record a new one$/, (m) => E('rows_immutable', { table: m[1]! })],
  [/^invoices (\d+) has allocations: reverse them first$/, (m) => E('invoice_has_allocations', { id: m[1]! })],
  [/^payments (\d+) has allocations: reverse them first$/, (m) => E('payment_has_allocations', { id: m[1]! })],
  [/^credit_notes (\d+) has allocations: reverse them first$/, (m) => E('credit_note_has_allocations', { id: m[1]! })],
  [/^(\w+) (\d+) has allocations: reverse them first$/, (m) => E('has_allocations', { table: m[1]!, id: m[2]! })],
  [/^invoice (\d+) has write-offs: reverse them first$/, (m) => E('has_write_offs', { id: m[1]! })],
];

function triggerText(message: string): Text {
  for (const [re, text] of TRIGGER_MESSAGES) {
    const m = re.exec(message);
    if (m) return text(m);
  }
  return E('ledger_rule', { reason: message });
}

/** Turn a driver error into a RelanceError that says what broke, in words. */
export function mapDbError(e: unknown): unknown {
  if (e instanceof RelanceError) return e;
  const err = e as { code?: string; constraint?: string; message?: string; detail?: string };
  if (!err || typeof err.code !== 'string') return e;
  const constraint = err.constraint;
  const known = constraint && constraint in CONSTRAINT_KEYS ? E(constraint as ConstraintKey) : undefined;
  switch (err.code) {
    case LEDGER_SQLSTATE:
      return new RelanceError(ERROR_CODES.LEDGER_INVARIANT, err.message ? triggerText(err.message) : E('ledger_invariant'), { cause: e });
    case '23514': // check_violation
      return new RelanceError(ERROR_CODES.LEDGER_INVARIANT, known ?? E('check', { constraint: String(constraint) }), {
        cause: e,
        details: { constraint },
      });
    case '23505': // unique_violation
      return new RelanceError(ERROR_CODES.CONFLICT, known ?? E('duplicate', { constraint: String(constraint) }), { cause: e, details: { constraint, detail: err.detail } });
    case '23503': // foreign_key_violation
      return new RelanceError(
        ERROR_CODES.LEDGER_INVARIANT,
        constraint?.includes('currency')
          ? E('currency_mismatch')
          : E('missing_reference', { constraint: String(constraint) }),
        { cause: e, details: { constraint } },
      );
    case '22P02':
    case '22007':
    case '22008':
    case '22003':
      return new RelanceError(ERROR_CODES.VALIDATION, err.message ? E('invalid_value', { reason: err.message }) : E('invalid'), { cause: e });
    default:
      return e;
  }
}

async function wrap<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw mapDbError(e);
  }
}

// ---------------------------------------------------------------- PGlite

export async function openPglite(dataDir?: string): Promise<Db> {
  const pgl = await PGlite.create({ ...(dataDir ? { dataDir } : {}), parsers: PARSERS, extensions: { pg_trgm } });
  const q = (t: { query: PGlite['query']; exec: PGlite['exec'] }): Queryable => ({
    async query<T>(sql: string, params?: readonly unknown[]) {
      const r = await wrap(t.query<T>(sql, serialiseParams(params)));
      return r.rows;
    },
    async exec(sql: string) {
      await wrap(t.exec(sql));
    },
  });
  const base = q(pgl);
  const inTx = (t: PGlite): Queryable => ({
    ...q(t),
    async copyIn(table, columns, data) {
      await wrap(t.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([data]) }));
    },
  });
  return {
    kind: 'pglite',
    ...base,
    async tx<T>(fn: (q: Queryable) => Promise<T>) {
      try {
        return await pgl.transaction((t) => fn(inTx(t as unknown as PGlite)));
      } catch (e) {
        throw mapDbError(e);
      }
    },
    async close() {
      await pgl.close();
    },
    async dumpDataDir() {
      await pgl.exec('CHECKPOINT');
      // Holding the transaction lock: no transaction is half done in the image (queries wait).
      return pgl._runExclusiveTransaction(() => pgl.dumpDataDir('gzip'));
    },
  };
}

/** Loads a tarball made by `dumpDataDir` into an empty folder (`relance restore`). */
export async function loadPgliteDir(dataDir: string, tarball: Blob): Promise<void> {
  const pgl = await PGlite.create({ dataDir, loadDataDir: tarball, parsers: PARSERS, extensions: { pg_trgm } });
  await pgl.close();
}

// ---------------------------------------------------------------- PostgreSQL

const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    const p = PARSERS[oid];
    if (p && format !== 'binary') return p;
    return (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

export async function openPostgres(connectionString: string, opts: { max?: number; searchPath?: string } = {}): Promise<Db> {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    types: pgTypes,
    ...(opts.searchPath ? { options: `-c search_path=${opts.searchPath}` } : {}),
  });
  const client = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: readonly unknown[]) {
      const r = await wrap(c.query(sql, serialiseParams(params)));
      return r.rows as T[];
    },
    async exec(sql: string) {
      await wrap(c.query(sql));
    },
  });
  // A transaction's connection runs one statement at a time. Callers may send several without
  // waiting (the cycle reads its next chunk while it writes this one): they are queued here, in
  // the order sent, rather than inside pg (which deprecates being called while busy).
  const serial = (c: pg.PoolClient): Queryable => {
    const direct = client(c);
    let tail: Promise<unknown> = Promise.resolve();
    const next = <T>(run: () => Promise<T>): Promise<T> => {
      const p = tail.then(run, run);
      tail = p.catch(() => {});
      return p;
    };
    return {
      query: (sql, params) => next(() => direct.query(sql, params)),
      exec: (sql) => next(() => direct.exec(sql)),
      // In the same queue: a statement sent meanwhile waits for the COPY to finish ('finish' comes
      // after PostgreSQL's ReadyForQuery).
      copyIn: (table, columns, data) =>
        next(() =>
          wrap(
            new Promise<void>((resolve, reject) => {
              const stream = c.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
              stream.on('error', reject);
              stream.on('finish', () => resolve());
              stream.end(data);
            }),
          ),
        ),
    };
  };
  // Fail fast with a clear message rather than at the first query.
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new RelanceError(ERROR_CODES.CONFIG, E('cannot_connect', { url: redactUrl(connectionString), reason: (e as Error).message }), {
      cause: e,
    });
  }
  return {
    kind: 'postgres',
    ...client(pool),
    async tx<T>(fn: (q: Queryable) => Promise<T>) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(serial(c));
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw mapDbError(e);
      } finally {
        c.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** Never print a password: "postgres://user:***@host/db". */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
