/**
 * FEC import: the receivables of a French general ledger export become the Relance ledger.
 *  - customers: the auxiliary accounts (CompAuxNum, CompAuxLib) of the 411 lines;
 *  - invoices: debits on 411, one per piece (PieceRef); the VAT collected in the same entry gives
 *    the amount excluding tax; due date = piece date + the customer's payment terms;
 *  - credit notes: credits on 411 in an entry that also moves revenue (class 7);
 *  - payments: other credits on 411, one per entry and customer;
 *  - allocations: inside each lettered group (same customer, same EcritureLet), credits settle
 *    debits oldest first; an unbalanced group is a partial payment; unlettered debits stay open.
 * The file is streamed once into a staging table of the transaction (constant memory in Node);
 * the ledger rows are then derived in SQL and written with the same upserts as the CSV imports.
 */
import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/driver.ts';
import { jsonReplacer } from '../db/driver.ts';
import { fecColumns, type FecLine, isReceivable, isRevenue, isVatCollected, readFecLine } from '../formats/fec.ts';
import { copyValue, upsertAllocations, upsertCreditNotes, upsertCustomers, upsertInvoices, upsertPayments } from '../ledger/bulk.ts';
import type { ImportSession } from '../ledger/import-session.ts';
import { matchPayments } from '../bank/match-payments.ts';
import { toDecimalString } from '../domain/money.ts';
import { defineErrors, renderText } from '../i18n/index.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { type ImportBody, type ImportOptions, type ImportReport, recordRefusals, runImport } from './report.ts';
import { WritePipe } from '../db/write-pipe.ts';
import { type ImportInput, inputName, inputSize, openDelimited } from './source.ts';

const FE = defineErrors('imports-fec', {
  split_piece: { fr: 'la pièce {number} est débitée à deux comptes clients', en: 'piece {number} is debited to two customer accounts' },
});

const W = defineErrors('imports-fec-warnings', {
  placeholder_piece: {
    fr: "{count} ligne(s) client sans vraie référence de pièce (PieceRef « {ref} ») : la facture est identifiée par son journal et son numéro d’écriture (ex. {example})",
    en: "{count} customer line(s) without a real piece reference (PieceRef \"{ref}\"): the invoice is keyed by its journal and entry number (e.g. {example})",
  },
  other_siren: {
    fr: "le nom du fichier annonce le FEC du SIREN {fileSiren}, mais l’organisation a le SIREN {orgSiren} : vérifiez qu’il s’agit de la bonne société",
    en: "the file name says this is the FEC of SIREN {fileSiren}, but the organisation's SIREN is {orgSiren}: check it is the right company",
  },
  matched: {
    fr: "{count} paiement(s) non lettré(s) imputé(s) sur la facture qu’ils citent (comme un virement bancaire) ; {left} resté(s) au crédit du client",
    en: "{count} unlettered payment(s) applied to the invoice they name (as a bank transfer would be); {left} left as the customer's credit",
  },
});

/**
 * A piece reference that names no piece: accounting packages write "-", "0", "N/A"... for entries
 * without one, and keying invoices on it would merge them all into one.
 */
export function isPlaceholderRef(ref: string): boolean {
  return !/[A-Za-z0-9]/.test(ref) || /^(0+|n\/?a|na|nc|sans|none|null|x+|ras|neant|néant|aucun|aucune|divers|div)$/i.test(ref.trim());
}

/** The SIREN a FEC's legal file name starts with (SIRENFECAAAAMMJJ). */
export function sirenOfFecName(name: string | null): string | null {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  return /^(\d{9})FEC\d{8}/i.exec(base)?.[1] ?? null;
}

/** Receivable lines staged per statement. */
const BATCH = 20_000;
/** Ledger rows written per upsert statement. */
const PAGE = 50_000;
const STAGE_COLUMNS = ['line', 'journal', 'entry', 'entry_date', 'cust', 'cust_name', 'piece_ref', 'piece_date', 'label', 'debit', 'credit', 'letter', 'letter_date', 'entry_vat', 'entry_revenue', 'number'];

/** Staged lines in COPY text format, in STAGE_COLUMNS order. */
function copyText(rows: Staged[]): string {
  let out = '';
  for (const r of rows) {
    out += `${r.line}\t${copyValue(r.journal)}\t${copyValue(r.entry)}\t${r.entryDate}\t${copyValue(r.cust)}\t${copyValue(r.custName)}\t${copyValue(r.pieceRef)}\t${copyValue(r.pieceDate)}\t${copyValue(r.label)}\t${r.debit}\t${r.credit}\t${copyValue(r.letter)}\t${copyValue(r.letterDate)}\t${r.entryVat}\t${r.entryRevenue}\t${copyValue(r.number)}\n`;
  }
  return out;
}

interface Staged {
  line: number;
  journal: string;
  entry: string;
  entryDate: string;
  cust: string;
  custName: string;
  pieceRef: string;
  pieceDate: string | null;
  label: string;
  debit: bigint;
  credit: bigint;
  letter: string;
  letterDate: string | null;
  entryVat: bigint;
  entryRevenue: boolean;
  /** The document: the piece reference, else journal-entry. */
  number: string;
}

export async function importFec(db: Db, orgId: string, input: ImportInput, opts: ImportOptions & { encoding?: string } = {}): Promise<ImportReport> {
  const filename = inputName(input) ?? null;
  const meta = { filename, sha256: null as string | null };
  return runImport(db, orgId, 'fec', meta, opts, async (session, b) => {
    const { q } = session;
    const hash = createHash('sha256');
    const total = inputSize(input);
    let bytes = 0;
    const file = await openDelimited(input, {
      encoding: opts.encoding,
      candidates: ['\t', '|', ';'],
      quoted: false,
      eightBit: 'iso-8859-15',
      onChunk: (c, n) => {
        hash.update(c);
        bytes = n;
      },
    });
    const cols = fecColumns(file.header, filename ?? undefined);
    b.detected = { encoding: file.encoding, bom: file.bomLength > 0, separator: file.separator === '\t' ? 'tab' : file.separator, amounts: cols.amountStyle };
    await q.exec(`CREATE TEMP TABLE fec_stage (line int, journal text, entry text, entry_date date, cust text, cust_name text, piece_ref text,
      piece_date date, label text, debit bigint, credit bigint, letter text, letter_date date, entry_vat bigint, entry_revenue boolean, number text) ON COMMIT DROP`);
    const pipe = new WritePipe();
    let batch: Staged[] = [];
    const stage = async () => {
      const rows = batch;
      batch = [];
      if (!rows.length || b.problems.any) return;
      await pipe.push(async () => {
        if (q.copyIn) {
          await q.copyIn('fec_stage', STAGE_COLUMNS, copyText(rows));
          return;
        }
        await q.query(
          `INSERT INTO fec_stage SELECT * FROM json_to_recordset($1::json) AS x(line int, journal text, entry text, "entryDate" date, cust text,
             "custName" text, "pieceRef" text, "pieceDate" date, label text, debit bigint, credit bigint, letter text, "letterDate" date,
             "entryVat" bigint, "entryRevenue" boolean, number text)`,
          [JSON.stringify(rows, jsonReplacer)],
        );
      });
    };
    // Lines of one entry are consecutive in a FEC: gather them to know the entry's VAT and
    // whether it moves revenue (an invoice or credit note) or cash (a payment).
    // Only the entry's receivable lines are kept; its other lines count for its VAT and revenue.
    let placeholders = 0;
    let placeholderRef = '';
    let placeholderExample = '';
    let entryJournal: string | null = null;
    let entryNumber = '';
    let receivables: FecLine[] = [];
    let vat = 0n;
    let revenue = false;
    const closeEntry = () => {
      if (receivables.length) {
        receivables.forEach((l, i) => {
          if (l.debit === 0n && l.credit === 0n) return;
          const placeholder = l.pieceRef !== '' && isPlaceholderRef(l.pieceRef);
          const number = l.pieceRef !== '' && !placeholder ? l.pieceRef : `${l.journalCode}-${l.entryNumber}`;
          if (placeholder && placeholders++ === 0) {
            placeholderRef = l.pieceRef;
            placeholderExample = number;
          }
          batch.push({
            line: l.line,
            journal: l.journalCode,
            entry: l.entryNumber,
            entryDate: l.entryDate,
            cust: l.auxAccount || l.account,
            custName: l.auxLabel || l.accountLabel,
            pieceRef: l.pieceRef,
            pieceDate: l.pieceDate,
            label: l.label,
            debit: l.debit,
            credit: l.credit,
            letter: l.letter.toUpperCase(),
            letterDate: l.letterDate,
            // The entry's VAT counts once, on its first receivable line.
            entryVat: i === 0 ? vat : 0n,
            entryRevenue: revenue,
            number,
          });
        });
      }
      receivables = [];
      vat = 0n;
      revenue = false;
    };
    for await (const records of file.batches) {
      for (const rec of records) {
        b.rowsRead++;
        let l: FecLine;
        try {
          l = readFecLine(cols, rec.fields, rec.line, filename ?? undefined);
        } catch (e) {
          b.problems.addError(rec.line, e);
          continue;
        }
        if (l.journalCode !== entryJournal || l.entryNumber !== entryNumber) {
          closeEntry();
          entryJournal = l.journalCode;
          entryNumber = l.entryNumber;
        }
        if (isReceivable(l.account)) receivables.push(l);
        if (isVatCollected(l.account)) vat += l.credit - l.debit;
        if (isRevenue(l.account)) revenue = true;
        if (batch.length >= BATCH) await stage();
      }
      opts.onProgress?.({ rows: b.rowsRead, bytesRead: bytes, bytesTotal: total });
    }
    closeEntry();
    await stage();
    await pipe.drain();
    meta.sha256 = hash.digest('hex');
    if (placeholders) b.warnings.push(renderText(W('placeholder_piece', { count: placeholders, ref: placeholderRef, example: placeholderExample }), b.problems.lang));
    const fileSiren = sirenOfFecName(filename);
    const org = await getOrganisation(q, orgId);
    if (fileSiren && org.siren && fileSiren !== org.siren) b.warnings.push(renderText(W('other_siren', { fileSiren, orgSiren: org.siren }), b.problems.lang));
    if (b.problems.any) return;
    await deriveLedger(session, b);
    if (b.problems.any) return;
    await matchUnlettered(q, orgId, b);
    await reportInvoices(session, b);
    opts.onProgress?.({ rows: b.rowsRead, bytesRead: total, bytesTotal: total });
  });
}

async function deriveLedger(session: ImportSession, b: ImportBody) {
  const { q, orgId } = session;
  await q.exec(`
    CREATE TEMP TABLE fec_customers ON COMMIT DROP AS
      SELECT row_number() OVER (ORDER BY min(line)) AS rn, min(line) AS line, cust AS "externalId",
             coalesce((array_agg(nullif(cust_name, '') ORDER BY line DESC) FILTER (WHERE cust_name <> ''))[1], cust) AS "legalName",
             NULL::text AS kind, NULL::text AS siren, NULL::text AS siret, NULL::text AS "vatNumber", NULL::text AS country,
             NULL::text AS language, NULL::int AS "paymentTermsDays", NULL::text AS segment
        FROM fec_stage GROUP BY cust;
  `);
  await writePaged(q, 'fec_customers', b, 'customers', (src) => upsertCustomers(session, src));

  // One invoice per piece; a piece on two customer accounts cannot be one invoice.
  const split = await q.query<{ line: number; number: string }>(
    `SELECT min(line) AS line, number FROM fec_stage WHERE debit > 0 GROUP BY number HAVING count(DISTINCT cust) > 1 ORDER BY 1 LIMIT 1000`,
  );
  for (const s of split) b.problems.add(s.line, 'PieceRef', renderText(FE('split_piece', { number: s.number }), b.problems.lang));
  if (b.problems.any) return;
  // The customer's payment terms, one index lookup per piece (the customers were just written in
  // this transaction: the planner's statistics do not know them yet).
  await session.indexLookups(() =>
    q.query(
      `CREATE TEMP TABLE fec_invoices ON COMMIT DROP AS
         SELECT row_number() OVER (ORDER BY g.line) AS rn, g.line, g.cust AS "customerExternalId", g.number,
                NULL::text AS "externalId", g.issue AS "issueDate", g.issue + coalesce(c.payment_terms_days, 30) AS "dueDate", 'EUR'::text AS currency,
                greatest(g.debit - greatest(g.vat, 0), 0) AS "amountExclTaxMinor", g.debit AS "amountInclTaxMinor"
           FROM (SELECT min(line) AS line, min(cust) AS cust, number, min(coalesce(piece_date, entry_date)) AS issue, sum(debit) AS debit,
                        sum(entry_vat) AS vat
                   FROM fec_stage WHERE debit > 0 GROUP BY number) g
           LEFT JOIN LATERAL (SELECT k.payment_terms_days FROM customers k WHERE k.organisation_id = $1 AND k.external_id = g.cust LIMIT 1) c ON true`,
      [orgId],
    ),
  );
  await writePaged(q, 'fec_invoices', b, 'invoices', (src) => upsertInvoices(session, src));

  await q.exec(`
    CREATE TEMP TABLE fec_credit_notes ON COMMIT DROP AS
      SELECT row_number() OVER (ORDER BY min(line)) AS rn, min(line) AS line, min(cust) AS "customerExternalId", number,
             NULL::text AS "externalId", min(coalesce(piece_date, entry_date)) AS "issueDate", 'EUR'::text AS currency,
             sum(credit) AS "amountMinor", min(nullif(label, '')) AS reason
        FROM fec_stage WHERE credit > 0 AND entry_revenue GROUP BY number;
    CREATE TEMP TABLE fec_payments ON COMMIT DROP AS
      SELECT row_number() OVER (ORDER BY min(line)) AS rn, min(line) AS line, 'fec:' || journal || ':' || entry || ':' || cust AS "externalId",
             cust AS "customerExternalId", min(entry_date) AS "paymentDate", 'EUR'::text AS currency, sum(credit) AS "amountMinor",
             'transfer'::text AS method, coalesce(min(nullif(label, '')), min(nullif(piece_ref, ''))) AS reference,
             NULL::text AS "payerName", NULL::text AS "payerIban", bool_or(letter <> '') AS lettered
        FROM fec_stage WHERE credit > 0 AND NOT entry_revenue GROUP BY journal, entry, cust;
  `);
  await writePaged(q, 'fec_credit_notes', b, 'credit_notes', (src) => upsertCreditNotes(session, src));
  await writePaged(q, 'fec_payments', b, 'payments', (src) => upsertPayments(session, src));

  // Inside a lettered group, credits settle debits oldest first: each side laid end to end on one
  // axis, an allocation is the overlap of a debit's interval with a credit's.
  await q.exec(`
    CREATE TEMP TABLE fec_allocations ON COMMIT DROP AS
    WITH d AS (
      SELECT cust, letter, number, sum(debit) AS amt, min(coalesce(piece_date, entry_date)) AS dt, max(letter_date) AS let_dt
        FROM fec_stage WHERE debit > 0 AND letter <> '' GROUP BY cust, letter, number),
    c AS (
      SELECT cust, letter, min(line) AS line, pay, cn, sum(credit) AS amt, min(entry_date) AS dt, max(letter_date) AS let_dt
        FROM (SELECT *, CASE WHEN entry_revenue THEN NULL ELSE 'fec:' || journal || ':' || entry || ':' || cust END AS pay,
                     CASE WHEN entry_revenue THEN number END AS cn
                FROM fec_stage WHERE credit > 0 AND letter <> '') s
       GROUP BY cust, letter, pay, cn),
    dr AS (SELECT *, sum(amt) OVER w - amt AS lo, sum(amt) OVER w AS hi FROM d WINDOW w AS (PARTITION BY cust, letter ORDER BY dt, number)),
    cr AS (SELECT *, sum(amt) OVER w - amt AS lo, sum(amt) OVER w AS hi FROM c WINDOW w AS (PARTITION BY cust, letter ORDER BY dt, line))
    SELECT row_number() OVER (ORDER BY cr.line, dr.dt, dr.number) AS rn, cr.line, dr.number AS "invoiceNumber", cr.pay AS "paymentExternalId",
           cr.cn AS "creditNoteNumber", 'EUR'::text AS currency, least(dr.hi, cr.hi) - greatest(dr.lo, cr.lo) AS "amountMinor",
           coalesce(greatest(dr.let_dt, cr.let_dt), greatest(dr.dt, cr.dt)) AS "allocatedOn"
      FROM dr JOIN cr ON cr.cust = dr.cust AND cr.letter = dr.letter
     WHERE least(dr.hi, cr.hi) > greatest(dr.lo, cr.lo);
  `);
  await writePaged(q, 'fec_allocations', b, 'allocations', (src) => upsertAllocations(session, src));
  const [partial] = await q.query<{ n: bigint }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM fec_stage WHERE letter <> '' GROUP BY cust, letter HAVING sum(debit) <> sum(credit)) g`,
  );
  b.detected.partialLetteringGroups = Number(partial!.n);
}

/**
 * A payment on a customer account that the accountant did not letter but that names its invoice
 * ("VIR ACOMPTE F-0042") goes through the bank matching (reference, then amount), as a partial
 * payment where it is one; what cannot be placed stays as the customer's unallocated credit, on
 * their reminders and statement.
 */
async function matchUnlettered(q: Queryable, orgId: string, b: ImportBody) {
  const rows = await q.query<{ id: bigint }>(
    `SELECT p.id FROM fec_payments f JOIN payments p ON p.organisation_id = $1 AND p.external_id = f."externalId"
      WHERE NOT f.lettered AND p.allocated_minor = 0`,
    [orgId],
  );
  if (rows.length === 0) return;
  const r = await matchPayments(q, orgId, { paymentIds: rows.map((x) => x.id) });
  b.detected.unletteredPayments = rows.length;
  if (r.applied.length) {
    b.counts.add('allocations', { inserted: r.applied.reduce((n, a) => n + a.invoices.length, 0), updated: 0, unchanged: 0 });
    b.warnings.push(renderText(W('matched', { count: r.applied.length, left: r.leftOpen.length }), b.problems.lang));
  }
}

/**
 * The invoices the file left open, listed for the report (the first ones, by line) and totalled:
 * what a dry run shows a person to check by eye and a script to check by sum.
 */
async function reportInvoices(session: ImportSession, b: ImportBody) {
  const { q, orgId } = session;
  const max = b.documents.max;
  const rows = await session.indexLookups(() =>
    q.query<{ number: string; cust: string; name: string; issue: string; due: string; currency: string; total: bigint; open: bigint }>(
      // The buyer's name from the customer the invoice was written for (by primary key): the staged
      // customers have no index, and with sequential scans off a join to them read them once per row.
      `SELECT f.number, f."customerExternalId" AS cust, c.legal_name AS name, f."issueDate"::text AS issue, f."dueDate"::text AS due, f.currency,
              i.amount_incl_tax_minor AS total, i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open
         FROM (SELECT * FROM fec_invoices ORDER BY rn LIMIT $2) f
         JOIN invoices i ON i.organisation_id = $1 AND i.number = f.number
         JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
        ORDER BY f.rn`,
      [orgId, max],
    ),
  );
  for (const r of rows) {
    b.documents.add(
      { kind: 'invoice', number: r.number, issueDate: r.issue, dueDate: r.due, currency: r.currency, total: toDecimalString(r.total, r.currency), amountDue: toDecimalString(r.open, r.currency), buyer: r.name ?? r.cust, customerCode: r.cust },
      r.open,
    );
  }
  const [n] = await q.query<{ n: bigint }>('SELECT count(*) AS n FROM fec_invoices');
  if (Number(n!.n) > rows.length) {
    // Beyond the listed ones, the open total of the rest in one pass.
    const rest = await session.indexLookups(() =>
      q.query<{ currency: string; open: bigint; n: bigint }>(
        `SELECT i.currency, sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor) AS open, count(*) AS n
           FROM (SELECT number FROM fec_invoices WHERE rn > $2) f JOIN invoices i ON i.organisation_id = $1 AND i.number = f.number
          GROUP BY 1`,
        [orgId, max],
      ),
    );
    for (const r of rest) {
      b.documents.addTotal(r.currency, r.open);
      b.documents.count += Number(r.n);
    }
  }
}

async function writePaged(
  q: Queryable,
  table: string,
  b: ImportBody,
  counter: string,
  write: (src: { table: string; from: number; to: number }) => Promise<import('../ledger/bulk.ts').UpsertResult>,
) {
  if (b.problems.any) return;
  await q.exec(`CREATE INDEX ON ${table} (rn)`);
  const [{ n }] = (await q.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${table}`)) as [{ n: bigint }];
  for (let from = 0; from < Number(n); from += PAGE) {
    const r = await write({ table, from, to: from + PAGE });
    recordRefusals(b.problems, r);
    b.counts.add(counter, r);
    if (b.problems.any) return;
  }
  if (Number(n) === 0) b.counts.add(counter, { inserted: 0, updated: 0, unchanged: 0 });
}
