/**
 * Applies the matching (src/domain/matching.ts) to the stored bank lines, in one transaction:
 * proposals at or above the threshold become a payment of the customer allocated to the invoices
 * (and bank charges written off); the others wait in the review queue with their candidates.
 * Debits are marked ignored; a reversal undoes the match of the credit it cancels.
 *
 * The automatic run writes set-based (one INSERT per table for the whole batch) because thousands
 * of lines one repository call at a time would take minutes; the amounts were checked by the
 * matching against the open amounts read in the same transaction, and the ledger's CHECK
 * constraints refuse any over-allocation a concurrent writer would cause (the batch then rolls
 * back whole with a conflict error). A
 * person's match or undo (manualMatch, undoMatch) goes through the ledger repository instead.
 */
import type { Db, Queryable } from '../db/driver.ts';
import { isValidIban, normaliseIban } from '../domain/identifiers.ts';
import {
  DEFAULT_MATCH_SETTINGS,
  describeProposal,
  type KnownCustomer,
  type MatchLine,
  type MatchSettings,
  matchLines,
  type OpenInvoice,
  type Proposal,
} from '../domain/matching.ts';
import { type CalendarDate, minDate } from '../domain/dates.ts';
import type { Minor } from '../domain/money.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { allocate, recordPayment, reverseAllocation, writeOff } from '../ledger/repo.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('bank-reconcile', {
  settled_meanwhile: { fr: "une facture a été réglée par quelqu’un d’autre pendant le rapprochement : relancez-le ({reason})", en: "an invoice was settled by someone else during the reconciliation: run it again ({reason})" },
  not_matched: { fr: "la ligne bancaire {id} n’est pas rapprochée (statut {status})", en: "bank line {id} is not matched (status {status})" },
  cannot_ignore: { fr: "la ligne bancaire {id} ne peut pas être écartée (statut {status})", en: "bank line {id} cannot be set aside (status {status})" },
  not_ignored: { fr: "la ligne bancaire {id} n’est pas écartée (statut {status})", en: "bank line {id} is not set aside (status {status})" },
  cannot_match: { fr: "la ligne bancaire {id} ne peut pas être rapprochée (statut {status})", en: "bank line {id} cannot be matched (status {status})" },
  debit: { fr: "la ligne bancaire {id} est un débit, pas un paiement client", en: "bank line {id} is a debit, not a customer payment" },
  over_received: { fr: "les affectations ({total}) dépassent le montant reçu ({received})", en: "allocations ({total}) exceed the amount received ({received})" },
});

/** Called inside the transaction that changed these customers' balances (the dunning engine re-plans). */
export type CustomersChangedHook = (q: Queryable, orgId: string, customerIds: bigint[]) => Promise<void>;

export interface ReconcileOptions extends Partial<MatchSettings> {
  /** Only these lines (default: every line not yet matched). */
  lineIds?: bigint[];
  onCustomersChanged?: CustomersChangedHook;
}

export interface ReconcileResult {
  considered: number;
  matched: number;
  review: number;
  unmatched: number;
  ignored: number;
  reversed: number;
  customerIds: bigint[];
  /** Where the time went (ms): reading the ledger, matching, writing. For logs and the bench. */
  timings: { loadMs: number; matchMs: number; applyMs: number };
}

export const BANK_CHARGES_REASON = 'bank charges deducted by the payer';

interface LineRow {
  id: bigint;
  account_key: string;
  booking_date: CalendarDate;
  amount_minor: bigint;
  currency: string;
  counterparty_name: string | null;
  counterparty_iban: string | null;
  remittance_text: string | null;
  creditor_reference: string | null;
  label: string | null;
  end_to_end_id: string | null;
  reversal: boolean;
  auto_blocked: boolean;
}

const toMatchLine = (r: LineRow): MatchLine => ({
  id: String(r.id),
  bookingDate: r.booking_date,
  amountMinor: r.amount_minor,
  currency: r.currency,
  counterpartyName: r.counterparty_name,
  counterpartyIban: r.counterparty_iban,
  remittanceText: r.remittance_text,
  creditorReference: r.creditor_reference,
  label: r.label,
  reversal: r.reversal,
});

/** What the matching needs from the ledger: open invoices, recently settled ones (to spot double payments), customers and their IBANs. */
export async function loadMatchingInputs(q: Queryable, orgId: string, since: CalendarDate | null): Promise<{ invoices: OpenInvoice[]; customers: KnownCustomer[] }> {
  const inv = await q.query<{ id: bigint; customer_id: bigint; number: string; currency: string; open_minor: bigint; issue_date: CalendarDate; due_date: CalendarDate }>(
    `SELECT id, customer_id, number, currency, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor, issue_date, due_date
       FROM invoices
      WHERE organisation_id = $1
        AND (allocated_minor + written_off_minor < amount_incl_tax_minor OR ($2::date IS NOT NULL AND due_date >= $2::date - 400))`,
    [orgId, since],
  );
  const cust = await q.query<{ id: bigint; legal_name: string; ibans: string[] | null }>(
    `SELECT c.id, c.legal_name,
            (SELECT array_agg(DISTINCT x.iban) FROM (
               SELECT iban FROM customer_ibans ci WHERE ci.organisation_id = c.organisation_id AND ci.customer_id = c.id
               UNION SELECT payer_iban FROM payments p WHERE p.organisation_id = c.organisation_id AND p.customer_id = c.id AND p.payer_iban IS NOT NULL
             ) x) AS ibans
       FROM customers c WHERE c.organisation_id = $1`,
    [orgId],
  );
  return {
    invoices: inv.map((r) => ({
      id: r.id,
      customerId: r.customer_id,
      number: r.number,
      currency: r.currency,
      openMinor: r.open_minor,
      issueDate: r.issue_date,
      dueDate: r.due_date,
    })),
    customers: cust.map((r) => ({ id: r.id, name: r.legal_name, ibans: r.ibans ?? [] })),
  };
}

const jsonAmounts = (xs: Proposal['allocations']) => xs.map((a) => ({ invoiceId: String(a.invoiceId), number: a.number, amountMinor: String(a.amountMinor) }));

function reasonJson(p: Proposal, currency: string) {
  return { pass: p.pass, key: p.reason.key, vars: p.reason.vars, notes: p.notes, fr: describeProposal(p, 'fr', currency), en: describeProposal(p, 'en', currency) };
}

export async function reconcile(db: Db, orgId: string, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const settings: MatchSettings = { ...DEFAULT_MATCH_SETTINGS };
  for (const k of Object.keys(DEFAULT_MATCH_SETTINGS) as (keyof MatchSettings)[]) {
    if (opts[k] !== undefined) (settings as unknown as Record<string, unknown>)[k] = opts[k];
  }
  return db.tx(async (q) => {
    const rows = await q.query<LineRow>(
      `SELECT id, account_key, booking_date, amount_minor, currency, counterparty_name, counterparty_iban, remittance_text,
              creditor_reference, label, end_to_end_id, reversal, auto_blocked
         FROM bank_lines
        WHERE organisation_id = $1 AND status IN ('new', 'review', 'unmatched') AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[]))
        ORDER BY booking_date, id
        FOR UPDATE`,
      [orgId, opts.lineIds ? opts.lineIds.map(String) : null],
    );
    const timings = { loadMs: 0, matchMs: 0, applyMs: 0 };
    const result: ReconcileResult = { considered: rows.length, matched: 0, review: 0, unmatched: 0, ignored: 0, reversed: 0, customerIds: [], timings };
    if (rows.length === 0) return result;
    let t = performance.now();
    const since = rows.reduce((m, r) => minDate(m, r.booking_date), rows[0]!.booking_date);
    const { invoices, customers } = await loadMatchingInputs(q, orgId, since);
    const byId = new Map(rows.map((r) => [String(r.id), r]));
    timings.loadMs = performance.now() - t;
    t = performance.now();
    const outcomes = matchLines(rows.map(toMatchLine), invoices, customers, settings);
    timings.matchMs = performance.now() - t;
    t = performance.now();

    const autos: { row: LineRow; p: Proposal }[] = [];
    const reviews: { row: LineRow; candidates: Proposal[] }[] = [];
    const statusOnly: { id: string; status: 'unmatched' | 'ignored' }[] = [];
    const reversals: LineRow[] = [];
    for (const o of outcomes) {
      const row = byId.get(o.lineId)!;
      if (o.kind === 'auto' && !row.auto_blocked) autos.push({ row, p: o.proposal });
      else if (o.kind === 'auto') reviews.push({ row, candidates: [o.proposal, ...o.alternatives] });
      else if (o.kind === 'review') reviews.push({ row, candidates: o.candidates });
      else if (o.kind === 'reversal') reversals.push(row);
      else statusOnly.push({ id: o.lineId, status: o.kind === 'ignored' ? 'ignored' : 'unmatched' });
    }
    const changed = new Set<bigint>();
    await applyAutomatic(q, orgId, autos);
    for (const a of autos) changed.add(a.p.customerId);
    result.matched = autos.length;

    await q.query(`DELETE FROM bank_match_proposals WHERE organisation_id = $1 AND line_id = ANY($2::bigint[])`, [orgId, rows.map((r) => String(r.id))]);
    if (reviews.length) {
      const props = reviews.flatMap(({ row, candidates }) =>
        candidates.map((p, i) => ({
          line_id: String(row.id),
          rank: i + 1,
          customer_id: String(p.customerId),
          pass: p.pass,
          confidence: p.confidence,
          allocations: jsonAmounts(p.allocations),
          write_offs: jsonAmounts(p.writeOffs),
          unallocated_minor: String(p.unallocatedMinor),
          reason: reasonJson(p, row.currency),
        })),
      );
      await q.query(
        `INSERT INTO bank_match_proposals (organisation_id, line_id, rank, customer_id, pass, confidence, allocations, write_offs, unallocated_minor, reason)
         SELECT $1, x.line_id, x.rank, x.customer_id, x.pass, x.confidence, x.allocations, x.write_offs, x.unallocated_minor, x.reason
           FROM jsonb_to_recordset($2::jsonb) AS x(line_id bigint, rank smallint, customer_id bigint, pass text, confidence double precision,
             allocations jsonb, write_offs jsonb, unallocated_minor bigint, reason jsonb)`,
        [orgId, JSON.stringify(props)],
      );
      await q.query(`UPDATE bank_lines SET status = 'review' WHERE organisation_id = $1 AND id = ANY($2::bigint[])`, [orgId, reviews.map((r) => String(r.row.id))]);
    }
    result.review = reviews.length;
    for (const status of ['unmatched', 'ignored'] as const) {
      const ids = statusOnly.filter((s) => s.status === status).map((s) => s.id);
      if (ids.length) await q.query(`UPDATE bank_lines SET status = $3 WHERE organisation_id = $1 AND id = ANY($2::bigint[])`, [orgId, ids, status]);
      result[status] = ids.length;
    }
    for (const r of reversals) {
      const original = await findReversedLine(q, orgId, r);
      if (!original) {
        // The cancelled credit is not (yet) matched here: keep the reversal for the next run.
        await q.query(`UPDATE bank_lines SET status = 'unmatched' WHERE organisation_id = $1 AND id = $2`, [orgId, r.id]);
        result.unmatched++;
        continue;
      }
      const customerId = await undo(q, orgId, original, 'reversed');
      if (customerId !== null) changed.add(customerId);
      await q.query(`UPDATE bank_lines SET status = 'reversal', reverses_line_id = $3 WHERE organisation_id = $1 AND id = $2`, [orgId, r.id, original]);
      result.reversed++;
    }
    result.customerIds = [...changed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts.onCustomersChanged && result.customerIds.length) await opts.onCustomersChanged(q, orgId, result.customerIds);
    timings.applyMs = performance.now() - t;
    return result;
  });
}

/** The matched credit a reversal cancels: same account and amount, before it, same payer. */
async function findReversedLine(q: Queryable, orgId: string, r: LineRow): Promise<bigint | null> {
  const [row] = await q.query<{ id: bigint }>(
    `SELECT id FROM bank_lines
      WHERE organisation_id = $1 AND account_key = $2 AND status = 'matched' AND amount_minor = $3 AND currency = $4 AND booking_date <= $5
        AND ((counterparty_iban IS NOT NULL AND counterparty_iban = $6) OR (end_to_end_id IS NOT NULL AND end_to_end_id = $7)
             OR (counterparty_name IS NOT NULL AND upper(counterparty_name) = upper($8)))
      ORDER BY booking_date DESC, id DESC LIMIT 1`,
    [orgId, r.account_key, -r.amount_minor, r.currency, r.booking_date, r.counterparty_iban, r.end_to_end_id, r.counterparty_name],
  );
  return row?.id ?? null;
}

async function applyAutomatic(q: Queryable, orgId: string, autos: { row: LineRow; p: Proposal }[]): Promise<void> {
  if (autos.length === 0) return;
  // No explicit lock: the allocation trigger's UPDATE locks each invoice it settles and the
  // ledger's CHECK constraints refuse an over-allocation if another writer got there first (the
  // whole batch then rolls back and the error says to run it again).
  const payments = await q.query<{ id: bigint; external_id: string }>(
    `INSERT INTO payments (organisation_id, customer_id, external_id, payment_date, currency, amount_minor, method, reference, payer_name, payer_iban)
     SELECT $1, x.customer_id, x.external_id, x.payment_date, x.currency, x.amount_minor, 'transfer', x.reference, x.payer_name, x.payer_iban
       FROM jsonb_to_recordset($2::jsonb) AS x(customer_id bigint, external_id text, payment_date date, currency text, amount_minor bigint,
         reference text, payer_name text, payer_iban text)
     RETURNING id, external_id`,
    [
      orgId,
      JSON.stringify(
        autos.map(({ row, p }) => ({
          customer_id: String(p.customerId),
          external_id: `bank-line:${row.id}`,
          payment_date: row.booking_date,
          currency: row.currency,
          amount_minor: String(row.amount_minor),
          reference: (row.creditor_reference ?? row.remittance_text ?? row.label)?.slice(0, 140) ?? null,
          payer_name: row.counterparty_name,
          payer_iban: row.counterparty_iban && isValidIban(row.counterparty_iban) ? normaliseIban(row.counterparty_iban) : null,
        })),
      ),
    ],
  );
  const paymentOf = new Map(payments.map((r) => [r.external_id, r.id]));
  const allocations = autos.flatMap(({ row, p }) =>
    p.allocations.map((a) => ({
      invoice_id: String(a.invoiceId),
      payment_id: String(paymentOf.get(`bank-line:${row.id}`)),
      currency: row.currency,
      amount_minor: String(a.amountMinor),
      allocated_on: row.booking_date,
    })),
  );
  if (allocations.length) {
    await insertAllocations(
      q,
      `INSERT INTO allocations (organisation_id, invoice_id, payment_id, currency, amount_minor, allocated_on)
       SELECT $1, x.invoice_id, x.payment_id, x.currency, x.amount_minor, x.allocated_on
         FROM jsonb_to_recordset($2::jsonb) AS x(invoice_id bigint, payment_id bigint, currency text, amount_minor bigint, allocated_on date)`,
      [orgId, JSON.stringify(allocations)],
    );
  }
  const writeOffs = autos.flatMap(({ row, p }) =>
    p.writeOffs.map((w) => ({ invoice_id: String(w.invoiceId), currency: row.currency, amount_minor: String(w.amountMinor), on: row.booking_date, reason: `${BANK_CHARGES_REASON} (bank line ${row.id})` })),
  );
  const writeOffIds = new Map<string, string[]>();
  if (writeOffs.length) {
    const ins = await q.query<{ id: bigint; reason: string }>(
      `INSERT INTO write_offs (organisation_id, invoice_id, currency, amount_minor, written_off_on, reason)
       SELECT $1, x.invoice_id, x.currency, x.amount_minor, x.on, x.reason
         FROM jsonb_to_recordset($2::jsonb) AS x(invoice_id bigint, currency text, amount_minor bigint, "on" date, reason text)
       RETURNING id, reason`,
      [orgId, JSON.stringify(writeOffs)],
    );
    for (const w of ins) {
      const line = /\(bank line (\d+)\)$/.exec(w.reason)![1]!;
      writeOffIds.set(line, [...(writeOffIds.get(line) ?? []), String(w.id)]);
    }
  }
  await q.query(
    `UPDATE bank_lines b SET status = 'matched', payment_id = x.payment_id, matched_by = 'auto', match_confidence = x.confidence,
            match_reason = x.reason, write_off_ids = x.write_off_ids
       FROM jsonb_to_recordset($2::jsonb) AS x(id bigint, payment_id bigint, confidence double precision, reason jsonb, write_off_ids bigint[])
      WHERE b.organisation_id = $1 AND b.id = x.id`,
    [
      orgId,
      JSON.stringify(
        autos.map(({ row, p }) => ({
          id: String(row.id),
          payment_id: String(paymentOf.get(`bank-line:${row.id}`)),
          confidence: p.confidence,
          reason: reasonJson(p, row.currency),
          write_off_ids: writeOffIds.get(String(row.id)) ?? [],
        })),
      ),
    ],
  );
  await learnIbans(q, orgId, autos.map(({ row, p }) => ({ customerId: p.customerId, iban: row.counterparty_iban })));
}

async function insertAllocations(q: Queryable, sql: string, params: unknown[]): Promise<void> {
  try {
    await q.query(sql, params);
  } catch (e) {
    if (e instanceof RelanceError && e.code === ERROR_CODES.LEDGER_INVARIANT) {
      throw new RelanceError(ERROR_CODES.CONFLICT, E('settled_meanwhile', { reason: e.text ?? e.message }), { cause: e });
    }
    throw e;
  }
}

/** A matched payer's IBAN is remembered for the customer: the next payment without reference is found by pass 2. */
async function learnIbans(q: Queryable, orgId: string, pairs: { customerId: bigint; iban: string | null }[]): Promise<void> {
  const valid = pairs.filter((x) => x.iban && isValidIban(x.iban)).map((x) => ({ customer_id: String(x.customerId), iban: normaliseIban(x.iban!) }));
  if (valid.length === 0) return;
  await q.query(
    `INSERT INTO customer_ibans (organisation_id, customer_id, iban, source)
     SELECT DISTINCT $1::uuid, x.customer_id, x.iban, 'payment' FROM jsonb_to_recordset($2::jsonb) AS x(customer_id bigint, iban text)
     ON CONFLICT DO NOTHING`,
    [orgId, JSON.stringify(valid)],
  );
}

/** Removes a line's payment, its allocations and charges write-offs; returns the customer. */
async function undo(q: Queryable, orgId: string, lineId: bigint, status: 'review' | 'reversed'): Promise<bigint | null> {
  const [line] = await q.query<{ payment_id: bigint | null; write_off_ids: bigint[]; status: string }>(
    'SELECT payment_id, write_off_ids, status FROM bank_lines WHERE organisation_id = $1 AND id = $2 FOR UPDATE',
    [orgId, lineId],
  );
  if (!line) throw notFound('bank line', String(lineId));
  if (line.status !== 'matched' || line.payment_id === null) throw validation(E('not_matched', { id: String(lineId), status: line.status }), { field: 'lineId' });
  const [pay] = await q.query<{ customer_id: bigint | null }>('SELECT customer_id FROM payments WHERE organisation_id = $1 AND id = $2', [orgId, line.payment_id]);
  // Every allocation of the payment goes, including ones made by hand later from its credit:
  // the money they allocated is no longer there.
  const allocs = await q.query<{ id: bigint }>('SELECT id FROM allocations WHERE organisation_id = $1 AND payment_id = $2', [orgId, line.payment_id]);
  for (const a of allocs) await reverseAllocation(q, orgId, a.id);
  if (line.write_off_ids.length) {
    await q.query('DELETE FROM write_offs WHERE organisation_id = $1 AND id = ANY($2::bigint[])', [orgId, line.write_off_ids.map(String)]);
  }
  await q.query(
    `UPDATE bank_lines SET status = $3, payment_id = NULL, write_off_ids = '{}', matched_by = NULL, match_confidence = NULL, match_reason = NULL,
            auto_blocked = auto_blocked OR $3 = 'review'
      WHERE organisation_id = $1 AND id = $2`,
    [orgId, lineId, status],
  );
  await q.query('DELETE FROM payments WHERE organisation_id = $1 AND id = $2', [orgId, line.payment_id]);
  return pay?.customer_id ?? null;
}

/** A person undoes a match (a wrong one): the line goes back to the review queue, never re-applied automatically. */
export async function undoMatch(db: Db, orgId: string, lineId: bigint, opts: { onCustomersChanged?: CustomersChangedHook } = {}): Promise<void> {
  await db.tx(async (q) => {
    const customerId = await undo(q, orgId, lineId, 'review');
    if (opts.onCustomersChanged && customerId !== null) await opts.onCustomersChanged(q, orgId, [customerId]);
  });
}

/**
 * A person sets aside a credit that is not a customer's payment (a refund from a supplier, a
 * transfer between the organisation's own accounts, a grant): it leaves the review queue and is
 * never matched automatically; restoreLine puts it back.
 */
export async function ignoreLine(db: Db, orgId: string, lineId: bigint): Promise<void> {
  await db.tx(async (q) => {
    const [line] = await q.query<{ status: string }>('SELECT status FROM bank_lines WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, lineId]);
    if (!line) throw notFound('bank line', String(lineId));
    if (!['new', 'review', 'unmatched'].includes(line.status)) throw validation(E('cannot_ignore', { id: String(lineId), status: line.status }), { field: 'lineId' });
    await q.query(`UPDATE bank_lines SET status = 'ignored', auto_blocked = true WHERE organisation_id = $1 AND id = $2`, [orgId, lineId]);
    await q.query('DELETE FROM bank_match_proposals WHERE organisation_id = $1 AND line_id = $2', [orgId, lineId]);
  });
}

/** A line set aside by mistake goes back to the review queue (a person matches it from there). */
export async function restoreLine(db: Db, orgId: string, lineId: bigint): Promise<void> {
  await db.tx(async (q) => {
    const [line] = await q.query<{ status: string; amount_minor: bigint }>('SELECT status, amount_minor FROM bank_lines WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, lineId]);
    if (!line) throw notFound('bank line', String(lineId));
    if (line.status !== 'ignored' || line.amount_minor <= 0n) throw validation(E('not_ignored', { id: String(lineId), status: line.status }), { field: 'lineId' });
    await q.query(`UPDATE bank_lines SET status = 'review' WHERE organisation_id = $1 AND id = $2`, [orgId, lineId]);
  });
}

export interface ManualChoice {
  customerId: bigint;
  allocations: { invoiceId: bigint; amountMinor: Minor }[];
  /** Bank charges to write off on invoices (reason bank charges). */
  writeOffs?: { invoiceId: bigint; amountMinor: Minor }[];
}

/**
 * A person matches a line (from the review queue, or any unmatched credit): a payment of the line's
 * amount for the customer, allocated as chosen; what is not allocated stays as customer credit.
 */
export async function manualMatch(db: Db, orgId: string, lineId: bigint, choice: ManualChoice, opts: { onCustomersChanged?: CustomersChangedHook } = {}): Promise<bigint> {
  return db.tx(async (q) => {
    const [line] = await q.query<LineRow & { status: string; creditor_reference: string | null }>(
      'SELECT * FROM bank_lines WHERE organisation_id = $1 AND id = $2 FOR UPDATE',
      [orgId, lineId],
    );
    if (!line) throw notFound('bank line', String(lineId));
    if (!['new', 'review', 'unmatched'].includes(line.status)) throw validation(E('cannot_match', { id: String(lineId), status: line.status }), { field: 'lineId' });
    if (line.amount_minor <= 0n) throw validation(E('debit', { id: String(lineId) }), { field: 'lineId' });
    const total = choice.allocations.reduce((s, a) => s + a.amountMinor, 0n);
    if (total > line.amount_minor) throw validation(E('over_received', { total, received: line.amount_minor }), { field: 'allocations' });
    const payment = await recordPayment(q, orgId, {
      customerId: choice.customerId,
      externalId: `bank-line:${line.id}`,
      paymentDate: line.booking_date,
      currency: line.currency,
      amountMinor: line.amount_minor,
      method: 'transfer',
      reference: (line.creditor_reference ?? line.remittance_text ?? line.label)?.slice(0, 140) ?? null,
      payerName: line.counterparty_name,
      payerIban: line.counterparty_iban && isValidIban(line.counterparty_iban) ? line.counterparty_iban : null,
    });
    for (const a of choice.allocations) await allocate(q, orgId, { invoiceId: a.invoiceId, paymentId: payment.id, amountMinor: a.amountMinor, allocatedOn: line.booking_date });
    const woIds: string[] = [];
    for (const w of choice.writeOffs ?? []) {
      await writeOff(q, orgId, { invoiceId: w.invoiceId, amountMinor: w.amountMinor, writtenOffOn: line.booking_date, reason: `${BANK_CHARGES_REASON} (bank line ${line.id})` });
      const [row] = await q.query<{ id: bigint }>('SELECT max(id) AS id FROM write_offs WHERE organisation_id = $1 AND invoice_id = $2', [orgId, w.invoiceId]);
      woIds.push(String(row!.id));
    }
    await q.query(
      `UPDATE bank_lines SET status = 'matched', payment_id = $3, matched_by = 'manual', write_off_ids = $4::bigint[] WHERE organisation_id = $1 AND id = $2`,
      [orgId, lineId, payment.id, woIds],
    );
    await q.query('DELETE FROM bank_match_proposals WHERE organisation_id = $1 AND line_id = $2', [orgId, lineId]);
    await learnIbans(q, orgId, [{ customerId: choice.customerId, iban: line.counterparty_iban }]);
    if (opts.onCustomersChanged) await opts.onCustomersChanged(q, orgId, [choice.customerId]);
    return payment.id;
  });
}

/** Accepts a candidate of the review queue as proposed. */
export async function acceptProposal(db: Db, orgId: string, proposalId: bigint, opts: { onCustomersChanged?: CustomersChangedHook } = {}): Promise<bigint> {
  const [p] = await db.query<{ line_id: bigint; customer_id: bigint; allocations: { invoiceId: string; amountMinor: string }[]; write_offs: { invoiceId: string; amountMinor: string }[] }>(
    'SELECT line_id, customer_id, allocations, write_offs FROM bank_match_proposals WHERE organisation_id = $1 AND id = $2',
    [orgId, proposalId],
  );
  if (!p) throw notFound('match proposal', String(proposalId));
  const amounts = (xs: { invoiceId: string; amountMinor: string }[]) => xs.map((x) => ({ invoiceId: BigInt(x.invoiceId), amountMinor: BigInt(x.amountMinor) }));
  return manualMatch(db, orgId, p.line_id, { customerId: p.customer_id, allocations: amounts(p.allocations), writeOffs: amounts(p.write_offs) }, opts);
}

export interface ReviewItem {
  lineId: bigint;
  bookingDate: CalendarDate;
  amountMinor: Minor;
  currency: string;
  counterpartyName: string | null;
  text: string | null;
  status: 'review' | 'unmatched';
  candidates: {
    proposalId: bigint;
    customerId: bigint;
    confidence: number;
    reason: { fr: string; en: string };
    allocations: StoredAmount[];
    writeOffs: StoredAmount[];
    unallocatedMinor: Minor;
  }[];
}

/** A proposal's amount on one invoice, as stored (jsonAmounts). */
type StoredAmount = { invoiceId: string; number: string; amountMinor: string };

/** The review queue: credits waiting for a person, with their candidates best first. */
export async function reviewQueue(q: Queryable, orgId: string, opts: { limit?: number } = {}): Promise<ReviewItem[]> {
  const lines = await q.query<LineRow & { status: 'review' | 'unmatched' }>(
    `SELECT * FROM bank_lines WHERE organisation_id = $1 AND status IN ('review', 'unmatched') AND amount_minor > 0
      ORDER BY booking_date, id LIMIT $2`,
    [orgId, opts.limit ?? 100],
  );
  if (lines.length === 0) return [];
  const props = await q.query<{
    id: bigint;
    line_id: bigint;
    customer_id: bigint;
    confidence: number;
    reason: { fr: string; en: string };
    allocations: StoredAmount[];
    write_offs: StoredAmount[];
    unallocated_minor: bigint;
  }>(
    `SELECT id, line_id, customer_id, confidence, reason, allocations, write_offs, unallocated_minor
       FROM bank_match_proposals WHERE organisation_id = $1 AND line_id = ANY($2::bigint[]) ORDER BY line_id, rank`,
    [orgId, lines.map((l) => String(l.id))],
  );
  return lines.map((l) => ({
    lineId: l.id,
    bookingDate: l.booking_date,
    amountMinor: l.amount_minor,
    currency: l.currency,
    counterpartyName: l.counterparty_name,
    text: [l.label, l.remittance_text, l.creditor_reference].filter(Boolean).join(' / ') || null,
    status: l.status,
    candidates: props
      .filter((p) => p.line_id === l.id)
      .map((p) => ({
        proposalId: p.id,
        customerId: p.customer_id,
        confidence: Number(p.confidence),
        reason: { fr: p.reason.fr, en: p.reason.en },
        allocations: p.allocations,
        writeOffs: p.write_offs,
        unallocatedMinor: p.unallocated_minor,
      })),
  }));
}
