/** Bank: statements, the review queue of proposed matches, manual matching and its undo, statement imports. */
import { z } from 'zod';
import { type Queryable, pgArray } from '../../../db/driver.ts';
import type { CalendarDate } from '../../../domain/dates.ts';
import { importBankFile } from '../../../bank/import.ts';
import { acceptProposal, ignoreLine, manualMatch, reconcile, restoreLine, reviewQueue, undoMatch } from '../../../bank/reconcile.ts';
import { replanOnPayment } from '../../../engine/events.ts';
import { staleBankGuard } from '../../../engine/cycle.ts';
import { markDashboardStale } from '../../../reports/dashboard.ts';
import { IdParams } from '../schemas.ts';
import { appRoute, minorIn, uploaded } from './common.ts';
import { AnyId, AnyMinor } from './shapes/common.ts';
import type { BankImportResponse, BankMatchResponse, BankResponse } from './shapes/bank.ts';

/** The columns of a bank line the screen shows. */
interface LineRow {
  id: bigint;
  booking_date: CalendarDate;
  amount_minor: bigint;
  currency: string;
  counterparty_name: string | null;
  label: string | null;
  remittance_text: string | null;
}

export const bankRoutes = [
  appRoute({
    method: 'get',
    path: '/bank',
    scope: 'read',
    response: z.custom<BankResponse>(),
    handler: async ({ q, orgId, org, today }) => {
      const statements = await q.query<{
        id: bigint;
        format: string;
        account_iban: string | null;
        currency: string | null;
        closing_minor: bigint | null;
        closing_date: CalendarDate | null;
        filename: string | null;
        imported_at: string;
        lines: bigint;
        matched: bigint;
      }>(
        `SELECT s.id, s.format, s.account_iban, s.currency, s.closing_minor, s.closing_date, s.filename, s.imported_at,
                (SELECT count(*) FROM bank_lines l WHERE l.organisation_id = s.organisation_id AND l.statement_id = s.id) AS lines,
                (SELECT count(*) FROM bank_lines l WHERE l.organisation_id = s.organisation_id AND l.statement_id = s.id AND l.status = 'matched') AS matched
           FROM bank_statements s WHERE s.organisation_id = $1 ORDER BY s.imported_at DESC, s.id DESC LIMIT 50`,
        [orgId],
      );
      const queue = await reviewQueue(q, orgId, { limit: 200 });
      const names = await customerNames(q, orgId, queue.flatMap((x) => x.candidates.map((k) => k.customerId)));
      const matched = await q.query<LineRow & { matched_by: 'auto' | 'manual'; legal_name: string | null; customer_id: bigint | null }>(
        `SELECT l.id, l.booking_date, l.amount_minor, l.currency, l.counterparty_name, l.label, l.remittance_text, l.matched_by,
                c.legal_name, c.id AS customer_id
           FROM bank_lines l LEFT JOIN payments pm ON pm.organisation_id = l.organisation_id AND pm.id = l.payment_id
           LEFT JOIN customers c ON c.organisation_id = l.organisation_id AND c.id = pm.customer_id
          WHERE l.organisation_id = $1 AND l.status = 'matched' ORDER BY l.id DESC LIMIT 100`,
        [orgId],
      );
      // Credits set aside as not a customer's payment, to put back if that was a mistake.
      const ignored = await q.query<LineRow>(
        `SELECT id, booking_date, amount_minor, currency, counterparty_name, label, remittance_text FROM bank_lines
          WHERE organisation_id = $1 AND status = 'ignored' AND amount_minor > 0 ORDER BY booking_date DESC, id DESC LIMIT 50`,
        [orgId],
      );
      const line = (x: LineRow) => ({
        id: x.id,
        bookingDate: x.booking_date,
        amountMinor: x.amount_minor,
        currency: x.currency,
        counterpartyName: x.counterparty_name,
        text: [x.label, x.remittance_text].filter(Boolean).join(' / '),
      });
      return {
        today,
        currency: org.currency,
        ignored: ignored.map(line),
        hold: await staleBankGuard(q, orgId, today, org.timeZone),
        statements: statements.map((x) => ({
          id: x.id,
          format: x.format,
          accountIban: x.account_iban,
          filename: x.filename,
          importedAt: x.imported_at,
          lines: Number(x.lines),
          matched: Number(x.matched),
          closingDate: x.closing_date,
          closingMinor: x.closing_minor,
          currency: x.currency,
        })),
        queue: queue.map((x) => ({
          ...x,
          candidates: x.candidates.map((k) => ({ ...k, customerName: names.get(String(k.customerId)) ?? null })),
        })),
        matched: matched.map((x) => ({ ...line(x), matchedBy: x.matched_by, customerId: x.customer_id, customerName: x.legal_name })),
      };
    },
  }),
  /** A statement file: imported, then its new lines reconciled, each in its own transactions (bank/import.ts). */
  appRoute({
    method: 'post',
    path: '/bank/import',
    scope: 'write',
    ownTransaction: true,
    response: z.custom<BankImportResponse>(),
    handler: async ({ db, orgId, today, c }) => {
      const up = await uploaded(c);
      const imported = await importBankFile(db, orgId, up.bytes, { filename: up.filename, account: up.fields.account || undefined });
      const lineIds = imported.lines.filter((l) => l.status === 'new' && l.id !== null).map((l) => l.id!);
      const rec = lineIds.length ? await reconcile(db, orgId, { lineIds, onCustomersChanged: replanOnPayment(today) }) : null;
      await markDashboardStale(db, orgId);
      return { format: imported.format, filename: imported.filename, statements: imported.statements, summary: imported.summary, reconcile: rec };
    },
  }),
  appRoute({
    method: 'post',
    path: '/bank/lines/:id/match',
    scope: 'write',
    params: IdParams,
    body: z.object({ customerId: AnyId, allocations: z.array(z.object({ invoiceId: AnyId, amountMinor: AnyMinor })) }),
    response: z.custom<BankMatchResponse>(),
    handler: async ({ q, db, orgId, today, params, body: b }) => {
      const paymentId = await manualMatch(
        db,
        orgId,
        BigInt(params.id),
        { customerId: b.customerId, allocations: b.allocations.map((a, i) => ({ invoiceId: a.invoiceId, amountMinor: minorIn(a.amountMinor, `allocations.${i}.amountMinor`) })) },
        { onCustomersChanged: replanOnPayment(today) },
      );
      await markDashboardStale(q, orgId);
      return { paymentId: String(paymentId) };
    },
  }),
  appRoute({
    method: 'post',
    path: '/bank/proposals/:id/accept',
    scope: 'write',
    params: IdParams,
    response: z.custom<BankMatchResponse>(),
    handler: async ({ q, db, orgId, today, params }) => {
      const paymentId = await acceptProposal(db, orgId, BigInt(params.id), { onCustomersChanged: replanOnPayment(today) });
      await markDashboardStale(q, orgId);
      return { paymentId: String(paymentId) };
    },
  }),
  appRoute({
    method: 'post',
    path: '/bank/lines/:id/undo',
    scope: 'write',
    params: IdParams,
    handler: async ({ q, db, orgId, today, params }) => {
      await undoMatch(db, orgId, BigInt(params.id), { onCustomersChanged: replanOnPayment(today) });
      await markDashboardStale(q, orgId);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/bank/lines/:id/ignore',
    scope: 'write',
    params: IdParams,
    handler: async ({ db, orgId, params }) => {
      await ignoreLine(db, orgId, BigInt(params.id));
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/bank/lines/:id/restore',
    scope: 'write',
    params: IdParams,
    handler: async ({ db, orgId, params }) => {
      await restoreLine(db, orgId, BigInt(params.id));
      return { ok: true };
    },
  }),
];

async function customerNames(q: Queryable, orgId: string, ids: bigint[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{ id: bigint; legal_name: string }>('SELECT id, legal_name FROM customers WHERE organisation_id = $1 AND id = ANY($2::bigint[])', [
    orgId,
    pgArray([...new Set(ids.map(String))]),
  ]);
  return new Map(rows.map((r) => [String(r.id), r.legal_name]));
}

