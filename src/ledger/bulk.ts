/**
 * Bulk ledger loading, set-based: each batch is validated row by row in the domain first (so an
 * error names the row and field), then written with one INSERT ... SELECT FROM json_to_recordset
 * per table. The same path seeds the demo and loads a million invoices in the benches; the
 * database's constraints and statement-level triggers keep every invariant.
 */
import type { Queryable } from '../db/driver.ts';
import { jsonReplacer, pgArray } from '../db/driver.ts';
import { validateCustomer, validateInvoice, validatePayment } from '../domain/ledger.ts';
import { ERROR_CODES, RelanceError, isRelanceError } from '../errors.ts';
import { KeyFilter } from './key-filter.ts';
import type { ImportSession } from './import-session.ts';
import { WritePipe } from '../db/write-pipe.ts';
import { defineErrors, type Text } from '../i18n/index.ts';

const BE = defineErrors('ledger-bulk', {
  customer: { fr: 'client {key} : {reason}', en: 'customer {key}: {reason}' },
  invoice: { fr: 'facture {key} : {reason}', en: 'invoice {key}: {reason}' },
  payment: { fr: 'paiement {key} : {reason}', en: 'payment {key}: {reason}' },
  unknown_customer: { fr: 'une facture renvoie à un client qui n’existe pas', en: 'an invoice refers to a customer that does not exist' },
  unknown_allocation: { fr: '{n} lettrage(s) renvoient à un numéro de facture ou à un paiement inconnu', en: '{n} allocation(s) refer to an unknown invoice number or payment' },
});
import type { LedgerBatch, UpsertAllocation, UpsertCreditNote, UpsertCustomer, UpsertInvoice, UpsertPayment } from './bulk-types.ts';

export interface BulkCounts {
  customers: number;
  contacts: number;
  invoices: number;
  payments: number;
  allocations: number;
}

export const emptyCounts = (): BulkCounts => ({ customers: 0, contacts: 0, invoices: 0, payments: 0, allocations: 0 });

function rowError(e: unknown, what: 'customer' | 'invoice' | 'payment', key: string): never {
  if (isRelanceError(e)) throw new RelanceError(e.code, BE(what, { key, reason: e.text ?? e.message }), { where: { ...e.where, path: `${what} ${key}` } });
  throw e;
}

export function validateBatch(b: LedgerBatch): void {
  for (const c of b.customers) {
    try {
      validateCustomer(c);
    } catch (e) {
      rowError(e, 'customer', c.externalId);
    }
  }
  for (const i of b.invoices) {
    try {
      validateInvoice({ ...i, customerId: 0n });
    } catch (e) {
      rowError(e, 'invoice', i.number);
    }
  }
  for (const p of b.payments) {
    try {
      validatePayment(p);
    } catch (e) {
      rowError(e, 'payment', p.externalId);
    }
  }
}

const J = (rows: unknown[]) => JSON.stringify(rows, jsonReplacer);

/**
 * Loads batches one after the other in the caller's transaction, validating and serialising the
 * next batch while the database writes the current one (Node and PostgreSQL each keep a core busy).
 */
export async function loadBatches(q: Queryable, orgId: string, batches: Iterable<LedgerBatch>, counts: BulkCounts = emptyCounts()): Promise<BulkCounts> {
  const pipe = new WritePipe();
  try {
    for (const batch of batches) {
      validateBatch(batch);
      await pipe.push(() => writeBatch(q, orgId, batch, counts));
    }
    await pipe.drain();
  } finally {
    await pipe.settle();
  }
  return counts;
}

export async function loadBatch(q: Queryable, orgId: string, b: LedgerBatch, counts: BulkCounts = emptyCounts()): Promise<BulkCounts> {
  validateBatch(b);
  return writeBatch(q, orgId, b, counts);
}

export async function writeBatch(q: Queryable, orgId: string, b: LedgerBatch, counts: BulkCounts): Promise<BulkCounts> {
  if (b.customers.length) {
    await q.query(
      `INSERT INTO customers (organisation_id, external_id, legal_name, kind, siren, siret, vat_number, country, language,
         payment_terms_days, tags, segment, credit_limit_minor)
       SELECT $1, x."externalId", x."legalName", x.kind, x.siren, x.siret, x."vatNumber", x.country, x.language,
              x."paymentTermsDays", ARRAY(SELECT json_array_elements_text(x.tags)), x.segment, x."creditLimitMinor"::bigint
         FROM json_to_recordset($2::json) AS x("externalId" text, "legalName" text, kind text, siren text, siret text,
              "vatNumber" text, country text, language text, "paymentTermsDays" int, tags json, segment text, "creditLimitMinor" text)`,
      [orgId, J(b.customers.map(({ contacts: _c, iban: _i, ...c }) => c))],
    );
    const contacts = b.customers.flatMap((c) => c.contacts.map((ct) => ({ ...ct, customerExternalId: c.externalId })));
    if (contacts.length) {
      await q.query(
        `INSERT INTO contacts (organisation_id, customer_id, name, role, email, phone, address_line1, postal_code, city, country, receives_reminders)
         SELECT $1, c.id, x.name, x.role, x.email, x.phone, x."addressLine1", x."postalCode", x.city, x.country, x."receivesReminders"
           FROM json_to_recordset($2::json) AS x("customerExternalId" text, name text, role text, email text, phone text,
                "addressLine1" text, "postalCode" text, city text, country text, "receivesReminders" boolean)
           JOIN customers c ON c.organisation_id = $1 AND c.external_id = x."customerExternalId"`,
        [orgId, J(contacts)],
      );
    }
    counts.customers += b.customers.length;
    counts.contacts += contacts.length;
  }
  if (b.invoices.length) counts.invoices += (await insertInvoices(q, orgId, b.invoices)).inserted;
  if (b.payments.length) {
    await q.query(
      `INSERT INTO payments (organisation_id, customer_id, external_id, payment_date, currency, amount_minor, method, reference, payer_name, payer_iban)
       SELECT $1, c.id, x."externalId", x."paymentDate", x.currency, x."amountMinor"::bigint, x.method, x.reference, x."payerName", x."payerIban"
         FROM json_to_recordset($2::json) AS x("externalId" text, "customerExternalId" text, "paymentDate" date, currency text,
              "amountMinor" text, method text, reference text, "payerName" text, "payerIban" text)
         LEFT JOIN customers c ON c.organisation_id = $1 AND c.external_id = x."customerExternalId"`,
      [orgId, J(b.payments)],
    );
    counts.payments += b.payments.length;
  }
  if (b.allocations.length) {
    const rows = await q.query<{ n: bigint }>(
      `WITH ins AS (
         INSERT INTO allocations (organisation_id, invoice_id, payment_id, currency, amount_minor, allocated_on)
         SELECT $1, i.id, p.id, x.currency, x."amountMinor"::bigint, x."allocatedOn"
           FROM json_to_recordset($2::json) AS x("invoiceNumber" text, "paymentExternalId" text, currency text, "amountMinor" text, "allocatedOn" date)
           JOIN invoices i ON i.organisation_id = $1 AND i.number = x."invoiceNumber"
           JOIN payments p ON p.organisation_id = $1 AND p.external_id = x."paymentExternalId"
         RETURNING 1)
       SELECT count(*) AS n FROM ins`,
      [orgId, J(b.allocations)],
    );
    const n = Number(rows[0]!.n);
    if (n !== b.allocations.length) {
      throw new RelanceError(ERROR_CODES.VALIDATION, BE('unknown_allocation', { n: b.allocations.length - n }), {
        where: { field: 'allocations' },
      });
    }
    counts.allocations += n;
  }
  return counts;
}

/** A new invoice, its customer named by id (the API) or by external id (a loaded batch). */
export interface NewInvoice {
  customerId?: bigint;
  customerExternalId?: string;
  number: string;
  externalId: string | null;
  issueDate: string;
  dueDate: string;
  currency: string;
  amountExclTaxMinor: bigint;
  amountInclTaxMinor: bigint;
}

/**
 * The one statement that creates invoices outside file imports: the API's single create and the
 * bulk loader (demo, initial loads, benches) both come here, validated before. A number that
 * exists is the unique key's conflict; a customer that does not exist is refused. `firstId` is the
 * id of a single created invoice. File imports go through upsertInvoices below instead: they are
 * re-importable (an existing number is updated, refusals are reported by line).
 */
export async function insertInvoices(q: Queryable, orgId: string, rows: readonly NewInvoice[]): Promise<{ inserted: number; firstId: bigint | null }> {
  const [r] = await q
    .query<{ n: bigint; id: bigint | null }>(
      `WITH ins AS (
         INSERT INTO invoices (organisation_id, customer_id, number, external_id, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
         SELECT $1, coalesce(x."customerId"::bigint, c.id), x.number, x."externalId", x."issueDate", x."dueDate", x.currency,
                x."amountExclTaxMinor"::bigint, x."amountInclTaxMinor"::bigint
           FROM json_to_recordset($2::json) AS x("customerId" text, "customerExternalId" text, number text, "externalId" text, "issueDate" date,
                "dueDate" date, currency text, "amountExclTaxMinor" text, "amountInclTaxMinor" text)
           LEFT JOIN customers c ON x."customerId" IS NULL AND c.organisation_id = $1 AND c.external_id = x."customerExternalId"
         RETURNING id)
       SELECT count(*) AS n, min(id) AS id FROM ins`,
      [orgId, J(rows as unknown[])],
    )
    .catch((e) => {
      // customer_id NULL means an unknown customer reference: say which.
      if ((e as { cause?: { code?: string } }).cause?.code === '23502' || (e as { code?: string }).code === '23502') {
        throw new RelanceError(ERROR_CODES.VALIDATION, BE('unknown_customer'), { where: { field: 'customer' }, cause: e });
      }
      throw e;
    });
  return { inserted: Number(r!.n), firstId: r!.id };
}

// ------------------------------------------------------------------ upserts (file imports)
//
// Rows the lookup did not find are written by a plain INSERT (ON CONFLICT's speculative insertion
// costs a third more per row); only rows that exist go through INSERT ... ON CONFLICT DO UPDATE,
// whose arbiter is the unique key. A row someone else inserts meanwhile makes the plain INSERT
// fail on the unique key: the import stops with a conflict, nothing written, and can be re-run.
//
// Re-importable loads, one statement per table and batch. A row that exists (same external id or
// number) is updated only when something differs, so importing a file twice changes nothing.
// Each statement also reports, set-based, the rows it refused with their file lines: unknown
// customer, an update that would leave the invoice over-allocated, and a key already written
// earlier in this same transaction, i.e. a duplicate further up the file (its row version carries
// this transaction's id as xmin). Callers dedupe keys inside one batch before calling.
//
// Rows come as JSON from the caller, or from a staging table of the same transaction (the FEC
// import derives its rows in SQL): `{ table, from, to }` reads rows with from < rn <= to.

/** A row the database refused: its line, the field, and why (a message key with what fills it). */
export interface RowRefusal {
  line: number;
  field: string;
  reason: RefusalReason;
  value: string | null;
}

const REFUSALS = defineErrors('ledger-refusals', {
  customer_twice: { fr: 'ce client apparaît deux fois dans le fichier', en: 'this customer appears twice in the file' },
  no_customer: { fr: 'aucun client « {value} »', en: 'no customer "{value}"' },
  no_customer_import_first: {
    fr: 'aucun client « {value} » (importez d’abord les clients, ou nommez-le dans le fichier)',
    en: 'no customer "{value}" (import the customers first or name it in the file)',
  },
  invoice_twice: { fr: 'ce numéro de facture apparaît deux fois dans le fichier', en: 'this invoice number appears twice in the file' },
  invoice_paid_beyond: { fr: 'la facture est déjà réglée au-delà de ce montant', en: 'the invoice is already paid beyond this amount' },
  invoice_other_currency: { fr: 'la facture a des paiements dans une autre devise', en: 'the invoice has payments in another currency' },
  payment_twice: { fr: 'ce paiement apparaît deux fois dans le fichier', en: 'this payment appears twice in the file' },
  payment_allocated_beyond: { fr: 'le paiement est déjà lettré au-delà de ce montant ou dans une autre devise', en: 'the payment is already allocated beyond this amount or in another currency' },
  credit_note_twice: { fr: 'cet avoir apparaît deux fois dans le fichier', en: 'this credit note appears twice in the file' },
  credit_note_allocated_beyond: { fr: 'l’avoir est déjà imputé au-delà de ce montant ou dans une autre devise', en: 'the credit note is already allocated beyond this amount or in another currency' },
  no_invoice: { fr: 'aucune facture « {value} »', en: 'no invoice "{value}"' },
  no_source: { fr: 'aucun paiement ni avoir « {value} »', en: 'no payment or credit note "{value}"' },
  allocation_currency: { fr: 'le paiement et la facture sont dans des devises différentes', en: 'the payment and the invoice are in different currencies' },
  invoice_left: { fr: 'il ne reste que {value} à payer sur la facture', en: 'the invoice has only {value} left to pay' },
  source_left: { fr: 'il ne reste que {value} à lettrer sur le paiement', en: 'the payment has only {value} left to allocate' },
});
export type RefusalReason = Parameters<typeof REFUSALS>[0];

/** What a refusal says, in the reader's language. */
export function refusalText(r: RowRefusal): Text {
  return REFUSALS(r.reason, { value: r.value ?? '' });
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
  refused: RowRefusal[];
}

export interface StagedRows {
  table: string;
  from: number;
  to: number;
}

type Source<T> = T[] | StagedRows;

const THIS_TX = 'txid_current() % 4294967296';

interface Outcome {
  n: bigint;
  inserted: bigint;
  updated: bigint;
  refused: RowRefusal[] | null;
}

function result(o: Outcome): UpsertResult {
  const refused = o.refused ?? [];
  const inserted = Number(o.inserted);
  const updated = Number(o.updated);
  return { inserted, updated, unchanged: Number(o.n) - inserted - updated - new Set(refused.map((r) => r.line)).size, refused };
}

const EMPTY: UpsertResult = { inserted: 0, updated: 0, unchanged: 0, refused: [] };
const isEmpty = (s: Source<unknown>) => (Array.isArray(s) ? s.length === 0 : s.to <= s.from);

/** Batches at least this long travel by COPY into a staging table when the driver offers it. */
const COPY_MIN_ROWS = 200;
const COPY_ESCAPE = /[\\\t\n\r]/;
const COPY_ESCAPE_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in COPY text format: NULL as \N, backslash, tab and line breaks escaped. */
export function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : String(v);
  return COPY_ESCAPE.test(s) ? s.replace(COPY_ESCAPE_ALL, (c) => COPY_ESCAPES[c]!) : s;
}

/** `line int, "externalId" text` -> the SQL names ('line', '"externalId"') and the row keys. */
function columnList(columns: string): { sql: string[]; keys: string[] } {
  const sql = columns.split(',').map((c) => c.trim().split(/\s+/)[0]!);
  return { sql, keys: sql.map((n) => n.replace(/"/g, '')) };
}

/**
 * A batch given as an array is sent with COPY into a staging table of the transaction (created on
 * first use, emptied for each batch) when the driver can, and read back as `{ table, from, to }`:
 * PostgreSQL parses tab-separated text much faster than one JSON document, and the same SQL then
 * reads either source. Small batches and drivers without COPY keep the JSON parameter.
 */
async function staged<T>(q: Queryable, src: Source<T>, name: string, columns: string): Promise<Source<T>> {
  if (!Array.isArray(src) || !q.copyIn || src.length < COPY_MIN_ROWS) return src;
  const table = `bulk_stage_${name}`;
  const { sql, keys } = columnList(columns);
  await q.exec(`CREATE TEMP TABLE IF NOT EXISTS ${table} (rn int, ${columns}) ON COMMIT DROP; TRUNCATE ${table}`);
  const lines: string[] = new Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const row = src[i] as Record<string, unknown>;
    let line = String(i + 1);
    for (const k of keys) line += `\t${copyValue(row[k])}`;
    lines[i] = line;
  }
  lines.push('');
  await q.copyIn(table, ['rn', ...sql], lines.join('\n'));
  return { table, from: 0, to: src.length };
}

/** The rows CTE and its parameters ($2, $3, $4 after the organisation id). */
function rowsFrom<T>(src: Source<T>, columns: string, map: (rows: T[]) => unknown[] = (r) => r): { sql: string; params: unknown[] } {
  if (Array.isArray(src)) return { sql: `SELECT * FROM json_to_recordset($2::json) AS x(${columns}) WHERE $3::int IS NULL AND $4::int IS NULL`, params: [J(map(src)), null, null] };
  if (!/^[a-z_]+$/.test(src.table)) throw new Error(`bad staging table name ${src.table}`);
  return { sql: `SELECT * FROM ${src.table} WHERE $2::json IS NULL AND rn > $3::int AND rn <= $4::int`, params: [null, src.from, src.to] };
}

/** An upsert statement with index lookups (see ImportSession.indexLookups). */
async function probeQuery(s: ImportSession, sql: string, params: unknown[]): Promise<Outcome[]> {
  return s.indexLookups(() => s.q.query<Outcome>(sql, params));
}

/**
 * One row looked up by its unique key, as a LATERAL subquery: LIMIT 1 keeps the planner from
 * flattening it into a join, so each row of the batch is one index probe whatever the statistics
 * say (a table filled by this very transaction still looks empty to the planner, which would
 * otherwise pick a nested loop over a full scan and go quadratic).
 */
function probe(table: string, alias: string, columns: string, key: string): string {
  return `SELECT ${columns} FROM ${table} ${alias} WHERE ${alias}.organisation_id = $1 AND ${key} LIMIT 1`;
}

const CUSTOMER_COLUMNS = `line int, "externalId" text, "legalName" text, kind text, siren text, siret text, "vatNumber" text, country text, language text, "paymentTermsDays" int, segment text`;

/**
 * New customers are inserted; existing ones get the fields the file gives (a field the file
 * leaves empty keeps what is stored). insertOnly: customers named in passing by an invoice or
 * payment file are created when missing and never changed.
 */
export async function upsertCustomers(s: ImportSession, rows: Source<UpsertCustomer>, opts: { insertOnly?: boolean } = {}): Promise<UpsertResult> {
  if (isEmpty(rows)) return EMPTY;
  const { q, orgId } = s;
  const src = rowsFrom(await staged(q, rows, 'customers', CUSTOMER_COLUMNS), CUSTOMER_COLUMNS, (r) => r.map(({ contact: _c, ...x }) => x));
  // The probe runs while x is materialised, before anything is written (the gate on bad makes
  // the insert wait for it): it then reads the index as it was, and finds the id to update by
  // primary key instead of joining customers again.
  const [o] = await probeQuery(
    s,
    `WITH x AS (
       SELECT x.*, k.id AS customer_id, k.seen
         FROM (${src.sql}) x
         LEFT JOIN LATERAL (${probe('customers', 'c', `c.id, c.xmin::text::bigint = ${THIS_TX} AS seen`, 'c.external_id = x."externalId"')}) k ON true),
     bad AS (
       SELECT line, 'externalId' AS field, 'customer_twice' AS reason, NULL::text AS value FROM x WHERE seen AND NOT $5::boolean),
     ins AS (
       INSERT INTO customers (organisation_id, external_id, legal_name, kind, siren, siret, vat_number, country, language, payment_terms_days, segment)
       SELECT $1, x."externalId", x."legalName", coalesce(x.kind, 'business'), x.siren, x.siret, x."vatNumber", coalesce(x.country, 'FR'),
              coalesce(x.language, 'fr'), coalesce(x."paymentTermsDays", 30), x.segment
         FROM x WHERE x.customer_id IS NULL AND NOT EXISTS (SELECT 1 FROM bad)
       ON CONFLICT (organisation_id, external_id) DO NOTHING
       RETURNING 1),
     upd AS (
       UPDATE customers c SET legal_name = x."legalName", kind = coalesce(x.kind, c.kind), siren = coalesce(x.siren, c.siren),
              siret = coalesce(x.siret, c.siret), vat_number = coalesce(x."vatNumber", c.vat_number), country = coalesce(x.country, c.country),
              language = coalesce(x.language, c.language), payment_terms_days = coalesce(x."paymentTermsDays", c.payment_terms_days),
              segment = coalesce(x.segment, c.segment), updated_at = now()
         FROM x
        WHERE c.organisation_id = $1 AND c.id = x.customer_id AND NOT $5::boolean AND NOT EXISTS (SELECT 1 FROM bad)
          AND (c.legal_name, c.kind, c.siren, c.siret, c.vat_number, c.country, c.language, c.payment_terms_days, c.segment)
              IS DISTINCT FROM (x."legalName", coalesce(x.kind, c.kind), coalesce(x.siren, c.siren), coalesce(x.siret, c.siret),
              coalesce(x."vatNumber", c.vat_number), coalesce(x.country, c.country), coalesce(x.language, c.language),
              coalesce(x."paymentTermsDays", c.payment_terms_days), coalesce(x.segment, c.segment))
       RETURNING 1)
     SELECT (SELECT count(*) FROM x) AS n, (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM upd) AS updated,
            (SELECT json_agg(bad ORDER BY line) FROM bad) AS refused`,
    [orgId, ...src.params, Boolean(opts.insertOnly)],
  );
  if (Array.isArray(rows)) {
    const contacts = rows.filter((r) => r.contact).map((r) => ({ ...r.contact!, customerExternalId: r.externalId }));
    if (contacts.length) {
      await q.query(
        `INSERT INTO contacts (organisation_id, customer_id, name, email, phone, address_line1, postal_code, city, country, receives_reminders)
         SELECT $1, c.id, x.name, x.email, x.phone, x."addressLine1", x."postalCode", x.city, x.country, x.email IS NOT NULL
           FROM json_to_recordset($2::json) AS x("customerExternalId" text, name text, email text, phone text, "addressLine1" text,
                "postalCode" text, city text, country text)
           JOIN customers c ON c.organisation_id = $1 AND c.external_id = x."customerExternalId"
          WHERE NOT EXISTS (SELECT 1 FROM contacts k WHERE k.organisation_id = $1 AND k.customer_id = c.id
                              AND (lower(k.email) = lower(x.email) OR (x.email IS NULL AND k.name = x.name)))`,
        [orgId, J(contacts)],
      );
    }
  }
  await s.keepStatistics('customers', Number(o!.inserted));
  return result(o!);
}

/**
 * Customer ids by external id, for the rows a file names them in: looked up once per customer and
 * import (one index probe per key, sorted), then remembered in the session, at most
 * CUSTOMER_IDS_MAX of them so memory stays flat. Unknown keys are not remembered. A customer
 * deleted meanwhile by this transaction would still be caught by the invoices' reference check
 * (migration 0013).
 */
const CUSTOMER_IDS_MAX = 200_000;

async function customerIds(s: ImportSession, keys: Iterable<string>): Promise<Map<string, bigint>> {
  const ids = s.customerIds;
  const missing = new Set<string>();
  for (const k of keys) if (!ids.has(k)) missing.add(k);
  if (missing.size === 0) return ids;
  if (ids.size + missing.size > CUSTOMER_IDS_MAX) ids.clear();
  const found = await s.indexLookups(
    () =>
      s.q.query<{ external_id: string; id: bigint }>(
        `SELECT c.external_id, c.id FROM unnest($2::text[]) AS k(key) JOIN LATERAL (${probe('customers', 'c', 'c.external_id, c.id', 'c.external_id = k.key')}) c ON true`,
        [s.orgId, pgArray([...missing].sort())],
      ),
    { keyLookups: true },
  );
  for (const r of found) ids.set(r.external_id, r.id);
  return ids;
}

/** The session's filter of copied invoice numbers (see ImportSession.copiedNumbers), decided on first use. */
async function numbersCopied(s: ImportSession): Promise<KeyFilter | null> {
  if (s.copiedNumbers !== undefined) return s.copiedNumbers;
  const [row] = await s.q.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM invoices WHERE organisation_id = $1) AS any', [s.orgId]);
  s.copiedNumbers = row!.any ? null : new KeyFilter();
  return s.copiedNumbers;
}

const INVOICE_COPY_COLUMNS = [
  'organisation_id',
  'customer_id',
  'number',
  'external_id',
  'issue_date',
  'due_date',
  'currency',
  'amount_excl_tax_minor',
  'amount_incl_tax_minor',
] as const;

/**
 * A file's batch of invoices inside a transaction that can COPY: the numbers it names are looked
 * up together (one probe per number, in index order), then the new invoices go by COPY straight
 * into invoices, and only the ones that already exist go through the upsert statement below.
 * Same answers as that statement: a row naming an unknown customer, or a number already written
 * earlier in this transaction (a duplicate further up the file), is refused with its line, and a
 * batch with a refused row writes nothing. The database still checks everything (constraints,
 * the reference check of migration 0013); the rows were validated before.
 */
async function copyInvoices(s: ImportSession, rows: UpsertInvoice[]): Promise<UpsertResult> {
  const { q, orgId } = s;
  const ids = await customerIds(s, rows.map((r) => r.customerExternalId));
  const copied = await numbersCopied(s);
  const candidates = copied ? rows.filter((r) => copied.mightHave(r.number)) : rows;
  const probing =
    candidates.length === 0
      ? Promise.resolve([])
      : s.indexLookups(
          () =>
            q.query<{ number: string; seen: boolean }>(
              `SELECT i.number, i.seen FROM unnest($2::text[]) AS k(number)
                 JOIN LATERAL (${probe('invoices', 'i', `i.number, i.xmin::text::bigint = ${THIS_TX} AS seen`, 'i.number = k.number')}) i ON true`,
              [orgId, pgArray(candidates.map((r) => r.number).sort())],
            ),
          { keyLookups: true },
        );
  // While the database looks the numbers up, the COPY text is written: new rows are the usual case.
  const text: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    text[i] = `${orgId}\t${ids.get(r.customerExternalId)}\t${copyValue(r.number)}\t${copyValue(r.externalId)}\t${r.issueDate}\t${r.dueDate}\t${copyValue(r.currency)}\t${r.amountExclTaxMinor}\t${r.amountInclTaxMinor}\n`;
  }
  const found = new Map((await probing).map((e) => [e.number, e.seen]));
  const refused: RowRefusal[] = [];
  const fresh: string[] = [];
  const freshNumbers: string[] = [];
  const known: UpsertInvoice[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!ids.has(r.customerExternalId)) {
      refused.push({ line: r.line, field: 'customer', reason: 'no_customer_import_first', value: r.customerExternalId });
    }
    const seen = found.get(r.number);
    if (seen) refused.push({ line: r.line, field: 'number', reason: 'invoice_twice', value: null });
    else if (seen === false) known.push(r);
    else {
      fresh.push(text[i]!);
      freshNumbers.push(r.number);
    }
  }
  if (refused.length) return { inserted: 0, updated: 0, unchanged: 0, refused: refused.sort((a, b) => a.line - b.line) };
  const out: UpsertResult = known.length ? await upsertInvoicesBySql(s, known) : { ...EMPTY, refused: [] };
  if (out.refused.length || fresh.length === 0) return out;
  await q.copyIn!('invoices', INVOICE_COPY_COLUMNS, fresh.join(''));
  if (copied) for (const n of freshNumbers) copied.add(n);
  await s.keepStatistics('invoices', fresh.length);
  return { ...out, inserted: out.inserted + fresh.length };
}

const INVOICE_COLUMNS = `line int, "customerExternalId" text, number text, "externalId" text, "issueDate" date, "dueDate" date, currency text, "amountExclTaxMinor" text, "amountInclTaxMinor" text`;

export async function upsertInvoices(s: ImportSession, rows: Source<UpsertInvoice>): Promise<UpsertResult> {
  if (isEmpty(rows)) return EMPTY;
  if (Array.isArray(rows) && s.q.copyIn && rows.length >= COPY_MIN_ROWS) return copyInvoices(s, rows);
  return upsertInvoicesBySql(s, rows);
}

async function upsertInvoicesBySql(s: ImportSession, rows: Source<UpsertInvoice>): Promise<UpsertResult> {
  const { q, orgId } = s;
  s.copiedNumbers = null; // numbers written here are not in the filter
  const src = rowsFrom(await staged(q, rows, 'invoices', INVOICE_COLUMNS), INVOICE_COLUMNS);
  const [o] = await probeQuery(s,
    `WITH x AS (
       SELECT x.*, c.id AS customer_id, i.id AS invoice_id, i.seen,
              coalesce(i.allocated_minor + i.written_off_minor > x."amountInclTaxMinor"::bigint, false) AS overallocated,
              coalesce(i.allocated_minor > 0 AND i.currency <> x.currency, false) AS currency_locked
         FROM (${src.sql}) x
         LEFT JOIN LATERAL (${probe('customers', 'c', 'c.id', 'c.external_id = x."customerExternalId"')}) c ON true
         LEFT JOIN LATERAL (${probe('invoices', 'i', `i.id, i.xmin::text::bigint = ${THIS_TX} AS seen, i.allocated_minor, i.written_off_minor, i.currency`, 'i.number = x.number')}) i ON true),
     bad AS (
       SELECT line, 'customer' AS field, 'no_customer_import_first' AS reason, "customerExternalId" AS value FROM x WHERE customer_id IS NULL
       UNION ALL SELECT line, 'number', 'invoice_twice', NULL FROM x WHERE seen
       UNION ALL SELECT line, 'amountInclTax', 'invoice_paid_beyond', NULL FROM x WHERE overallocated
       UNION ALL SELECT line, 'currency', 'invoice_other_currency', NULL FROM x WHERE currency_locked),
     fresh AS (
       INSERT INTO invoices (organisation_id, customer_id, number, external_id, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
       SELECT $1, x.customer_id, x.number, x."externalId", x."issueDate", x."dueDate", x.currency, x."amountExclTaxMinor"::bigint, x."amountInclTaxMinor"::bigint
         FROM x WHERE x.invoice_id IS NULL AND NOT EXISTS (SELECT 1 FROM bad)
       RETURNING 1),
     ins AS (
       INSERT INTO invoices AS invoices (organisation_id, customer_id, number, external_id, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
       SELECT $1, x.customer_id, x.number, x."externalId", x."issueDate", x."dueDate", x.currency, x."amountExclTaxMinor"::bigint, x."amountInclTaxMinor"::bigint
         FROM x WHERE x.invoice_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bad)
       ON CONFLICT (organisation_id, number) DO UPDATE SET customer_id = EXCLUDED.customer_id,
         external_id = coalesce(EXCLUDED.external_id, invoices.external_id), issue_date = EXCLUDED.issue_date, due_date = EXCLUDED.due_date,
         currency = EXCLUDED.currency, amount_excl_tax_minor = EXCLUDED.amount_excl_tax_minor, amount_incl_tax_minor = EXCLUDED.amount_incl_tax_minor
       WHERE (invoices.customer_id, invoices.external_id, invoices.issue_date, invoices.due_date, invoices.currency, invoices.amount_excl_tax_minor,
              invoices.amount_incl_tax_minor)
         IS DISTINCT FROM (EXCLUDED.customer_id, coalesce(EXCLUDED.external_id, invoices.external_id), EXCLUDED.issue_date, EXCLUDED.due_date,
              EXCLUDED.currency, EXCLUDED.amount_excl_tax_minor, EXCLUDED.amount_incl_tax_minor)
       RETURNING (xmax = 0) AS inserted)
     SELECT (SELECT count(*) FROM x) AS n, (SELECT count(*) FROM fresh) + (SELECT count(*) FROM ins WHERE inserted) AS inserted, (SELECT count(*) FROM ins WHERE NOT inserted) AS updated,
            (SELECT json_agg(bad ORDER BY line) FROM bad) AS refused`,
    [orgId, ...src.params],
  );
  await s.keepStatistics('invoices', Number(o!.inserted));
  return result(o!);
}

const PAYMENT_COLUMNS = `line int, "externalId" text, "customerExternalId" text, "paymentDate" date, currency text, "amountMinor" text, method text, reference text, "payerName" text, "payerIban" text`;

export async function upsertPayments(s: ImportSession, rows: Source<UpsertPayment>): Promise<UpsertResult> {
  if (isEmpty(rows)) return EMPTY;
  const { q, orgId } = s;
  const src = rowsFrom(await staged(q, rows, 'payments', PAYMENT_COLUMNS), PAYMENT_COLUMNS);
  const [o] = await probeQuery(s,
    `WITH x AS (
       SELECT x.*, c.id AS customer_id, p.id AS payment_id, p.seen,
              coalesce(p.allocated_minor > x."amountMinor"::bigint OR (p.allocated_minor > 0 AND p.currency <> x.currency), false) AS locked
         FROM (${src.sql}) x
         LEFT JOIN LATERAL (${probe('customers', 'c', 'c.id', 'c.external_id = x."customerExternalId"')}) c ON true
         LEFT JOIN LATERAL (${probe('payments', 'p', `p.id, p.xmin::text::bigint = ${THIS_TX} AS seen, p.allocated_minor, p.currency`, 'p.external_id = x."externalId"')}) p ON true),
     bad AS (
       SELECT line, 'customer' AS field, 'no_customer' AS reason, "customerExternalId" AS value FROM x WHERE customer_id IS NULL AND "customerExternalId" IS NOT NULL
       UNION ALL SELECT line, 'externalId', 'payment_twice', NULL FROM x WHERE seen
       UNION ALL SELECT line, 'amount', 'payment_allocated_beyond', NULL FROM x WHERE locked),
     fresh AS (
       INSERT INTO payments (organisation_id, customer_id, external_id, payment_date, currency, amount_minor, method, reference, payer_name, payer_iban)
       SELECT $1, x.customer_id, x."externalId", x."paymentDate", x.currency, x."amountMinor"::bigint, x.method, x.reference, x."payerName", x."payerIban"
         FROM x WHERE x.payment_id IS NULL AND NOT EXISTS (SELECT 1 FROM bad)
       RETURNING 1),
     ins AS (
       INSERT INTO payments AS payments (organisation_id, customer_id, external_id, payment_date, currency, amount_minor, method, reference, payer_name, payer_iban)
       SELECT $1, x.customer_id, x."externalId", x."paymentDate", x.currency, x."amountMinor"::bigint, x.method, x.reference, x."payerName", x."payerIban"
         FROM x WHERE x.payment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bad)
       ON CONFLICT (organisation_id, external_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, payment_date = EXCLUDED.payment_date,
         currency = EXCLUDED.currency, amount_minor = EXCLUDED.amount_minor, method = EXCLUDED.method, reference = EXCLUDED.reference,
         payer_name = EXCLUDED.payer_name, payer_iban = EXCLUDED.payer_iban
       WHERE (payments.customer_id, payments.payment_date, payments.currency, payments.amount_minor, payments.method, payments.reference,
              payments.payer_name, payments.payer_iban)
         IS DISTINCT FROM (EXCLUDED.customer_id, EXCLUDED.payment_date, EXCLUDED.currency, EXCLUDED.amount_minor, EXCLUDED.method,
              EXCLUDED.reference, EXCLUDED.payer_name, EXCLUDED.payer_iban)
       RETURNING (xmax = 0) AS inserted)
     SELECT (SELECT count(*) FROM x) AS n, (SELECT count(*) FROM fresh) + (SELECT count(*) FROM ins WHERE inserted) AS inserted, (SELECT count(*) FROM ins WHERE NOT inserted) AS updated,
            (SELECT json_agg(bad ORDER BY line) FROM bad) AS refused`,
    [orgId, ...src.params],
  );
  await s.keepStatistics('payments', Number(o!.inserted));
  return result(o!);
}

const CREDIT_NOTE_COLUMNS = `line int, "customerExternalId" text, number text, "externalId" text, "issueDate" date, currency text, "amountMinor" text, reason text`;

export async function upsertCreditNotes(s: ImportSession, rows: Source<UpsertCreditNote>): Promise<UpsertResult> {
  if (isEmpty(rows)) return EMPTY;
  const { q, orgId } = s;
  const src = rowsFrom(await staged(q, rows, 'credit_notes', CREDIT_NOTE_COLUMNS), CREDIT_NOTE_COLUMNS);
  const [o] = await probeQuery(s,
    `WITH x AS (
       SELECT x.*, c.id AS customer_id, n.id AS credit_note_id, n.seen,
              coalesce(n.allocated_minor > x."amountMinor"::bigint OR (n.allocated_minor > 0 AND n.currency <> x.currency), false) AS locked
         FROM (${src.sql}) x
         LEFT JOIN LATERAL (${probe('customers', 'c', 'c.id', 'c.external_id = x."customerExternalId"')}) c ON true
         LEFT JOIN LATERAL (${probe('credit_notes', 'n', `n.id, n.xmin::text::bigint = ${THIS_TX} AS seen, n.allocated_minor, n.currency`, 'n.number = x.number')}) n ON true),
     bad AS (
       SELECT line, 'customer' AS field, 'no_customer' AS reason, "customerExternalId" AS value FROM x WHERE customer_id IS NULL
       UNION ALL SELECT line, 'number', 'credit_note_twice', NULL FROM x WHERE seen
       UNION ALL SELECT line, 'amount', 'credit_note_allocated_beyond', NULL FROM x WHERE locked),
     fresh AS (
       INSERT INTO credit_notes (organisation_id, customer_id, number, external_id, issue_date, currency, amount_minor, reason)
       SELECT $1, x.customer_id, x.number, x."externalId", x."issueDate", x.currency, x."amountMinor"::bigint, x.reason
         FROM x WHERE x.credit_note_id IS NULL AND NOT EXISTS (SELECT 1 FROM bad)
       RETURNING 1),
     ins AS (
       INSERT INTO credit_notes AS n (organisation_id, customer_id, number, external_id, issue_date, currency, amount_minor, reason)
       SELECT $1, x.customer_id, x.number, x."externalId", x."issueDate", x.currency, x."amountMinor"::bigint, x.reason
         FROM x WHERE x.credit_note_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM bad)
       ON CONFLICT (organisation_id, number) DO UPDATE SET customer_id = EXCLUDED.customer_id, issue_date = EXCLUDED.issue_date,
         currency = EXCLUDED.currency, amount_minor = EXCLUDED.amount_minor, reason = coalesce(EXCLUDED.reason, n.reason)
       WHERE (n.customer_id, n.issue_date, n.currency, n.amount_minor, n.reason)
         IS DISTINCT FROM (EXCLUDED.customer_id, EXCLUDED.issue_date, EXCLUDED.currency, EXCLUDED.amount_minor, coalesce(EXCLUDED.reason, n.reason))
       RETURNING (xmax = 0) AS inserted)
     SELECT (SELECT count(*) FROM x) AS n, (SELECT count(*) FROM fresh) + (SELECT count(*) FROM ins WHERE inserted) AS inserted, (SELECT count(*) FROM ins WHERE NOT inserted) AS updated,
            (SELECT json_agg(bad ORDER BY line) FROM bad) AS refused`,
    [orgId, ...src.params],
  );
  await s.keepStatistics('credit_notes', Number(o!.inserted));
  return result(o!);
}

/** An amount in minor units as people read it in a refusal: "12.50 EUR" (the currency's own decimals). */
function moneySql(minor: string, currency: string): string {
  const exp = `(CASE ${currency} WHEN 'JPY' THEN 0 WHEN 'KRW' THEN 0 WHEN 'ISK' THEN 0 WHEN 'CLP' THEN 0 WHEN 'BHD' THEN 3 WHEN 'KWD' THEN 3 WHEN 'TND' THEN 3 WHEN 'OMR' THEN 3 WHEN 'JOD' THEN 3 ELSE 2 END)`;
  return `(round(${minor}::numeric / power(10::numeric, ${exp}), ${exp})::text || ' ' || ${currency})`;
}

const ALLOCATION_COLUMNS = `line int, "invoiceNumber" text, "paymentExternalId" text, "creditNoteNumber" text, currency text, "amountMinor" text, "allocatedOn" date`;

/**
 * Brings each (invoice, payment or credit note) pair up to the total the file says was applied:
 * only the missing part is inserted, so a re-import adds nothing. A smaller total than already
 * applied is left alone (allocations are facts, undone only by an explicit reversal).
 */
export async function upsertAllocations(s: ImportSession, rows: Source<UpsertAllocation>): Promise<UpsertResult> {
  if (isEmpty(rows)) return EMPTY;
  const { q, orgId } = s;
  const src = rowsFrom(await staged(q, rows, 'allocations', ALLOCATION_COLUMNS), ALLOCATION_COLUMNS, (r) => r.map((a) => ({ creditNoteNumber: null, ...a })));
  const [o] = await probeQuery(s,
    `WITH x AS (
       SELECT x.*, i.id AS invoice_id, p.id AS payment_id, n.id AS credit_note_id, i.currency AS invoice_currency,
              coalesce(p.currency, n.currency) AS source_currency,
              x."amountMinor"::bigint - coalesce((SELECT sum(a.amount_minor) FROM allocations a
                 WHERE a.organisation_id = $1 AND a.invoice_id = i.id
                   AND (a.payment_id = p.id OR a.credit_note_id = n.id)), 0) AS missing,
              i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS invoice_open,
              coalesce(p.amount_minor - p.allocated_minor, n.amount_minor - n.allocated_minor) AS source_left
         FROM (${src.sql}) x
         LEFT JOIN LATERAL (${probe('invoices', 'i', 'i.id, i.currency, i.amount_incl_tax_minor, i.allocated_minor, i.written_off_minor', 'i.number = x."invoiceNumber"')}) i ON true
         LEFT JOIN LATERAL (${probe('payments', 'p', 'p.id, p.currency, p.amount_minor, p.allocated_minor', 'p.external_id = x."paymentExternalId"')}) p ON true
         LEFT JOIN LATERAL (${probe('credit_notes', 'n', 'n.id, n.currency, n.amount_minor, n.allocated_minor', 'n.number = x."creditNoteNumber"')}) n ON true),
     bad AS (
       SELECT line, 'invoice' AS field, 'no_invoice' AS reason, "invoiceNumber" AS value FROM x WHERE invoice_id IS NULL
       UNION ALL SELECT line, 'payment', 'no_source', coalesce("paymentExternalId", "creditNoteNumber") FROM x
          WHERE payment_id IS NULL AND credit_note_id IS NULL
       UNION ALL SELECT line, 'currency', 'allocation_currency', NULL FROM x WHERE invoice_currency <> source_currency
       UNION ALL SELECT line, 'amount', 'invoice_left', ${moneySql('invoice_open', 'invoice_currency')} FROM x WHERE missing > invoice_open
       UNION ALL SELECT line, 'amount', 'source_left', ${moneySql('source_left', 'source_currency')} FROM x
          WHERE missing > source_left AND missing <= invoice_open),
     ins AS (
       INSERT INTO allocations (organisation_id, invoice_id, payment_id, credit_note_id, currency, amount_minor, allocated_on)
       SELECT $1, invoice_id, payment_id, credit_note_id, currency, missing, "allocatedOn" FROM x WHERE missing > 0 AND NOT EXISTS (SELECT 1 FROM bad)
       RETURNING 1)
     SELECT (SELECT count(*) FROM x) AS n, (SELECT count(*) FROM ins) AS inserted, 0::bigint AS updated, (SELECT json_agg(bad ORDER BY line) FROM bad) AS refused`,
    [orgId, ...src.params],
  );
  await s.keepStatistics('allocations', Number(o!.inserted));
  return result(o!);
}
