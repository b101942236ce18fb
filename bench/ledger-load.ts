/**
 * Child process of the ledger bench: loads a generated ledger (or COPYs the same rows, the
 * baseline) into a fresh schema and prints one JSON line with the time and its own peak memory.
 * Run apart so each size's peak RSS is its own.
 *   node --import tsx bench/ledger-load.ts <loader|copy> <pglite|postgres> <customers> <invoices> <url> <schema>
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type Db, openPglite, openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { DEMO_ORGANISATION, generateLedger } from '../src/demo/generate.ts';
import { loadNewOrganisation } from '../src/ledger/parallel-load.ts';

const [mode, target, customersArg, invoicesArg, url, schema] = process.argv.slice(2) as [string, string, string, string, string, string];
const customers = Number(customersArg);
const invoices = Number(invoicesArg);
const today = '2026-11-22' as CalendarDate;
const gen = () => generateLedger({ customers, invoices, seed: 'bench', today, batchCustomers: 1000 });

async function loader(): Promise<Record<string, unknown>> {
  const db: Db = target === 'pglite' ? await openPglite() : await openPostgres(url, { searchPath: schema, max: 3 });
  await migrate(db);
  const t0 = process.hrtime.bigint();
  const loaded = await loadNewOrganisation(db, DEMO_ORGANISATION, gen(), { parallel: 2 });
  const counts = { ...loaded.counts, org: loaded.organisation.id };
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // Leave the PostgreSQL data in place for the query figures; PGlite measures them here.
  let p95: number | undefined;
  if (target === 'pglite') p95 = await (await import('./ledger-queries.ts')).balanceP95(db, counts.org, 500);
  await db.close();
  return { seconds, counts, org: counts.org, p95 };
}

/** Baseline: the same rows as CSV, COPYed into bare tables with the same columns. */
async function copy(): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  await client.query(`
    CREATE TABLE b_customers (external_id text, legal_name text, kind text, siren text, siret text, vat_number text, country text, language text, payment_terms_days int, segment text, credit_limit_minor bigint);
    CREATE TABLE b_invoices (customer_external_id text, number text, external_id text, issue_date date, due_date date, currency text, amount_excl_tax_minor bigint, amount_incl_tax_minor bigint);
    CREATE TABLE b_payments (external_id text, customer_external_id text, payment_date date, currency text, amount_minor bigint, method text, reference text, payer_name text, payer_iban text);
    CREATE TABLE b_allocations (invoice_number text, payment_external_id text, currency text, amount_minor bigint, allocated_on date);`);
  const csv = (v: unknown) => (v === null || v === undefined ? '' : `"${String(v).replace(/"/g, '""')}"`);
  const t0 = process.hrtime.bigint();
  await client.query('BEGIN');
  for (const b of gen()) {
    const tables: [string, string[]][] = [
      ['b_customers', b.customers.map((c) => [c.externalId, c.legalName, c.kind, c.siren, c.siret, c.vatNumber, c.country, c.language, c.paymentTermsDays, c.segment, c.creditLimitMinor].map(csv).join(','))],
      ['b_invoices', b.invoices.map((i) => [i.customerExternalId, i.number, i.externalId, i.issueDate, i.dueDate, i.currency, i.amountExclTaxMinor, i.amountInclTaxMinor].map(csv).join(','))],
      ['b_payments', b.payments.map((p) => [p.externalId, p.customerExternalId, p.paymentDate, p.currency, p.amountMinor, p.method, p.reference, p.payerName, p.payerIban].map(csv).join(','))],
      ['b_allocations', b.allocations.map((a) => [a.invoiceNumber, a.paymentExternalId, a.currency, a.amountMinor, a.allocatedOn].map(csv).join(','))],
    ];
    for (const [table, lines] of tables) {
      if (!lines.length) continue;
      const stream = client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT csv)`));
      await pipeline(
        (async function* () {
          yield `${lines.join('\n')}\n`;
        })(),
        stream as unknown as Writable,
      );
    }
  }
  await client.query('COMMIT');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await client.end();
  return { seconds };
}

const result = mode === 'copy' ? await copy() : await loader();
const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ ...result, peakRssMb }, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
