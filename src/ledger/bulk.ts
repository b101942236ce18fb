/**
 * Bulk ledger loading, set-based: each batch is validated row by row in the domain first (so an
 * error names the row and field), then written with one INSERT ... SELECT FROM json_to_recordset
 * per table. The same path seeds the demo and loads a million invoices in the benches; the
 * database's constraints and statement-level triggers keep every invariant.
 */
import type { Queryable } from '../db/driver.ts';
import { jsonReplacer } from '../db/driver.ts';
import { validateCustomer, validateInvoice, validatePayment } from '../domain/ledger.ts';
import { ERROR_CODES, RelanceError, isRelanceError } from '../errors.ts';
import type { LedgerBatch } from './bulk-types.ts';

export interface BulkCounts {
  customers: number;
  contacts: number;
  invoices: number;
  payments: number;
  allocations: number;
}

export const emptyCounts = (): BulkCounts => ({ customers: 0, contacts: 0, invoices: 0, payments: 0, allocations: 0 });

function rowError(e: unknown, what: string, key: string): never {
  if (isRelanceError(e)) throw new RelanceError(e.code, `${what} ${key}: ${e.message}`, { where: { ...e.where, path: `${what} ${key}` } });
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
  const it = batches[Symbol.iterator]();
  const prepareNext = () => {
    const n = it.next();
    if (n.done) return null;
    validateBatch(n.value);
    return n.value;
  };
  let current = prepareNext();
  while (current) {
    const writing = writeBatch(q, orgId, current, counts);
    // The first statement is on the wire: prepare the next batch meanwhile.
    let next: LedgerBatch | null;
    try {
      next = prepareNext();
    } catch (e) {
      await writing.catch(() => {});
      throw e;
    }
    await writing;
    current = next;
  }
  return counts;
}

export async function loadBatch(q: Queryable, orgId: string, b: LedgerBatch, counts: BulkCounts = emptyCounts()): Promise<BulkCounts> {
  validateBatch(b);
  return writeBatch(q, orgId, b, counts);
}

async function writeBatch(q: Queryable, orgId: string, b: LedgerBatch, counts: BulkCounts): Promise<BulkCounts> {
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
  if (b.invoices.length) {
    const rows = await q.query<{ n: bigint }>(
      `WITH ins AS (
         INSERT INTO invoices (organisation_id, customer_id, number, external_id, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
         SELECT $1, c.id, x.number, x."externalId", x."issueDate", x."dueDate", x.currency, x."amountExclTaxMinor"::bigint, x."amountInclTaxMinor"::bigint
           FROM json_to_recordset($2::json) AS x("customerExternalId" text, number text, "externalId" text, "issueDate" date,
                "dueDate" date, currency text, "amountExclTaxMinor" text, "amountInclTaxMinor" text)
           LEFT JOIN customers c ON c.organisation_id = $1 AND c.external_id = x."customerExternalId"
         RETURNING 1)
       SELECT count(*) AS n FROM ins`,
      [orgId, J(b.invoices)],
    ).catch((e) => {
      // customer_id NULL means an unknown customer reference: say which.
      if ((e as { cause?: { code?: string } }).cause?.code === '23502' || (e as { code?: string }).code === '23502') {
        throw new RelanceError(ERROR_CODES.VALIDATION, 'an invoice refers to a customer that does not exist', { where: { field: 'customer' }, cause: e });
      }
      throw e;
    });
    counts.invoices += Number(rows[0]!.n);
  }
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
      throw new RelanceError(ERROR_CODES.VALIDATION, `${b.allocations.length - n} allocation(s) refer to an unknown invoice number or payment`, {
        where: { field: 'allocations' },
      });
    }
    counts.allocations += n;
  }
  return counts;
}
