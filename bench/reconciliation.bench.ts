/**
 * `npm run bench reconciliation`: a camt.053 file of 10,000 statement lines against 100,000 open
 * invoices of 20,000 customers, on PostgreSQL (ctx.databaseUrl, a throw-away schema). Measures
 * parse + import + match + apply end to end, and beside it the time to only parse the same file,
 * the floor nothing can beat. Memory: the process's peak RSS and heap during the run.
 * --quick: 1,000 lines against 10,000 invoices of 2,000 customers.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { importBankFile } from '../src/bank/import.ts';
import { reconcile } from '../src/bank/reconcile.ts';
import { openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { creditorReference, ibanFromBban, ribKey } from '../src/domain/identifiers.ts';
import { parseBankFile } from '../src/formats/bank/detect.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { type BenchContext, ms } from './harness.ts';

const ibanOf = (n: number) => {
  const bank = String(10000 + (n % 80000));
  const branch = '00001';
  const account = String(n).padStart(11, '0');
  return ibanFromBban('FR', `${bank}${branch}${account}${ribKey(bank, branch, account)}`);
};
const amountOf = (i: number) => 1000 + ((i * 7919) % 1_000_000);
const number = (i: number) => `F-${String(i).padStart(7, '0')}`;
const money = (m: number) => `${Math.floor(m / 100)}.${String(m % 100).padStart(2, '0')}`;

/** A statement whose lines pay distinct invoices in the ways payers do, plus some that match nothing. */
export function statement(lines: number, invoices: number, perCustomer: number): string {
  const parts: string[] = [];
  for (let k = 0; k < lines; k++) {
    // Spread over the ledger: line k pays invoice i (1-based ids, customer = ceil(i / perCustomer)).
    const i = 1 + ((k * 9973) % invoices);
    const customer = Math.ceil(i / perCustomer);
    const amount = amountOf(i);
    const kind = k % 10;
    let rmt = '';
    let iban = ibanOf(900_000 + k);
    if (kind < 5) rmt = `<Ustrd>REGLEMENT FACT ${number(i)}</Ustrd>`;
    else if (kind < 7) rmt = `<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>${creditorReference(number(i))}</Ref></CdtrRefInf></Strd>`;
    else if (kind < 9) {
      rmt = '<Ustrd>PAIEMENT</Ustrd>';
      iban = ibanOf(customer);
    } else rmt = `<Ustrd>REMBOURSEMENT DOSSIER ${k}</Ustrd>`;
    const amt = kind === 9 ? 777 + k : amount;
    parts.push(
      `<Ntry><Amt Ccy="EUR">${money(amt)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-03-${String(1 + (k % 28)).padStart(2, '0')}</Dt></BookgDt>` +
        `<AcctSvcrRef>B${k}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>CLIENT ${customer}</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>${iban}</IBAN></Id></DbtrAcct></RltdPties>` +
        `<RmtInf>${rmt}</RmtInf></TxDtls></NtryDtls></Ntry>`,
    );
  }
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-03-31T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>
${parts.join('\n')}
</Stmt></BkToCstmrStmt></Document>`;
}

export async function run(ctx: BenchContext): Promise<void> {
  const LINES = ctx.quick ? 1_000 : 10_000;
  const INVOICES = ctx.quick ? 10_000 : 100_000;
  const CUSTOMERS = ctx.quick ? 2_000 : 20_000;
  const PER = INVOICES / CUSTOMERS;
  const schema = `bench_recon_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ctx.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const db = await openPostgres(ctx.databaseUrl, { searchPath: schema, max: 4 });
  try {
    await migrate(db);
    const org = (await createOrganisation(db, { legalName: 'Bench SAS', iban: 'FR7630006000011234567890189' })).id;
    // Ledger, set-based: customers 1..N, invoices 1..M (ids follow the identity order of a fresh schema).
    await db.query(
      `INSERT INTO customers (organisation_id, legal_name) SELECT $1, 'CLIENT ' || g FROM generate_series(1, $2::int) g`,
      [org, CUSTOMERS],
    );
    await db.query(
      `INSERT INTO invoices (organisation_id, customer_id, number, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor)
       SELECT $1, (g - 1) / $3::int + 1, 'F-' || lpad(g::text, 7, '0'), date '2026-01-01' + (g % 60), date '2026-02-01' + (g % 60), 'EUR',
              1000 + ((g::bigint * 7919) % 1000000), 1000 + ((g::bigint * 7919) % 1000000)
         FROM generate_series(1, $2::int) g`,
      [org, INVOICES, PER],
    );
    // 60 % of the customers have a known IBAN.
    const ibans = Array.from({ length: CUSTOMERS }, (_, c) => c + 1)
      .filter((c) => c % 5 < 3)
      .map((c) => ({ c: String(c), iban: ibanOf(c) }));
    await db.query(
      `INSERT INTO customer_ibans (organisation_id, customer_id, iban) SELECT $1, x.c, x.iban FROM jsonb_to_recordset($2::jsonb) AS x(c bigint, iban text)`,
      [org, JSON.stringify(ibans)],
    );
    await db.exec('ANALYZE');
    const file = Buffer.from(statement(LINES, INVOICES, PER));

    let peakRss = 0;
    let peakHeap = 0;
    const sample = () => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    const timer = setInterval(sample, 20);

    const t0 = process.hrtime.bigint();
    const parsed = parseBankFile(file);
    const parseMs = ms(t0);
    if (parsed.statements[0]!.lines.length !== LINES) throw new Error('parse lost lines');

    sample();
    const t1 = process.hrtime.bigint();
    const imported = await importBankFile(db, org, file, { filename: 'bench.xml' });
    const importMs = ms(t1);
    const t2 = process.hrtime.bigint();
    const result = await reconcile(db, org);
    const reconcileMs = ms(t2);
    const totalMs = ms(t1);
    clearInterval(timer);
    sample();
    if (imported.summary.new !== LINES) throw new Error(`imported ${imported.summary.new} of ${LINES}`);

    const target = LINES === 10_000 ? '< 5000 ms' : null;
    ctx.report({ figure: `parse only: ${LINES} camt.053 lines (the floor)`, value: Math.round(parseMs), unit: 'ms', baseline: null, target: null, met: null });
    ctx.report({
      figure: `parse + import + match + apply, ${LINES} lines vs ${INVOICES} invoices`,
      value: Math.round(totalMs),
      unit: 'ms',
      baseline: Math.round(parseMs),
      target,
      met: target ? totalMs < 5000 : null,
      note: `PostgreSQL; import ${Math.round(importMs)} ms, read ledger ${Math.round(result.timings.loadMs)} ms, match ${Math.round(result.timings.matchMs)} ms, apply ${Math.round(result.timings.applyMs)} ms (total ${Math.round(reconcileMs)} ms); ${result.matched} applied, ${result.review} review, ${result.unmatched} unmatched`,
    });
    ctx.report({ figure: 'peak RSS during the run', value: Math.round(peakRss / 1048576), unit: 'MiB', baseline: null, target: null, met: null });
    ctx.report({ figure: 'peak JS heap during the run', value: Math.round(peakHeap / 1048576), unit: 'MiB', baseline: null, target: null, met: null });
  } finally {
    await db.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}
