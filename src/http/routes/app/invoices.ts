/** Invoices: the search of open invoices, an invoice's page, and the stored documents. */
import { z } from 'zod';
import { escapeLike } from '../../../db/driver.ts';
import { type CalendarDate, daysBetween } from '../../../domain/dates.ts';
import { ACTIVE_PAUSE, COVERS } from '../../../engine/planner-input.ts';
import { customerCalendar } from '../../../engine/preview.ts';
import { ensureBuiltinScenarios } from '../../../engine/scenarios.ts';
import { notFound } from '../../../errors.ts';
import { customerPenalties } from '../../../law/customer-penalties.ts';
import { getCustomer, getInvoice } from '../../../ledger/repo.ts';
import { IdParams } from '../schemas.ts';
import { appRoute, download } from './common.ts';
import type { InvoiceResponse, InvoiceSearchRow } from './shapes/invoices.ts';

export const invoiceRoutes = [
  appRoute({
    method: 'get',
    path: '/invoices/search',
    scope: 'read',
    query: z.object({ q: z.string().optional(), customerId: z.string().optional() }),
    response: z.custom<InvoiceSearchRow[]>(),
    handler: async ({ q, orgId, query }) => {
      const text = (query.q ?? '').trim().slice(0, 100);
      const customerId = query.customerId;
      const rows = await q.query<{ id: bigint; number: string; customer_id: bigint; legal_name: string; due_date: CalendarDate; currency: string; amount_incl_tax_minor: bigint; open_minor: bigint }>(
        `SELECT i.id, i.number, i.customer_id, c.legal_name, i.due_date, i.currency, i.amount_incl_tax_minor,
                i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor
           FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
          WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
            AND ($2::bigint IS NULL OR i.customer_id = $2)
            AND ($3 = '' OR i.number ILIKE '%' || $3 || '%' OR lower(c.legal_name) LIKE '%' || lower($3) || '%')
          ORDER BY i.due_date, i.id LIMIT 30`,
        [orgId, customerId && /^\d+$/.test(customerId) ? BigInt(customerId) : null, escapeLike(text)],
      );
      return rows.map((x) => ({ id: x.id, number: x.number, customerId: x.customer_id, customerName: x.legal_name, dueDate: x.due_date, currency: x.currency, amountMinor: x.amount_incl_tax_minor, openMinor: x.open_minor }));
    },
  }),
  appRoute({
    method: 'get',
    path: '/invoices/:id',
    scope: 'read',
    params: IdParams,
    response: z.custom<InvoiceResponse>(),
    handler: async ({ q, db, orgId, org, today, params }) => {
      const id = BigInt(params.id);
      const invoice = await getInvoice(q, orgId, id);
      const customer = await getCustomer(q, orgId, invoice.customerId);
      await db.tx((t) => ensureBuiltinScenarios(t, orgId, org.language));
      const calendar = (await customerCalendar(q, orgId, invoice.customerId, today)).filter((l) => l.invoice === invoice.number);
      const settlements = await q.query<{
        kind: 'allocation' | 'write_off';
        id: bigint;
        on_day: CalendarDate;
        amount_minor: bigint;
        payment_id: bigint | null;
        method: string | null;
        reference: string | null;
        credit_note: string | null;
      }>(
        `SELECT 'allocation' AS kind, a.id, a.allocated_on AS on_day, a.amount_minor, a.payment_id, a.credit_note_id, p.method, p.reference, cn.number AS credit_note
           FROM allocations a LEFT JOIN payments p ON p.organisation_id = a.organisation_id AND p.id = a.payment_id
           LEFT JOIN credit_notes cn ON cn.organisation_id = a.organisation_id AND cn.id = a.credit_note_id
          WHERE a.organisation_id = $1 AND a.invoice_id = $2
         UNION ALL
         SELECT 'write_off', w.id, w.written_off_on, w.amount_minor, NULL, NULL, NULL, w.reason, NULL FROM write_offs w WHERE w.organisation_id = $1 AND w.invoice_id = $2
         ORDER BY 3, 2`,
        [orgId, id],
      );
      const deliveries = await q.query<{ id: bigint; channel: string; subject: string | null; handed_over_at: string | null; provider: string | null; template: string }>(
        `SELECT d.id, d.channel, d.subject, d.content_type, d.handed_over_at, d.provider, a.template
           FROM deliveries d JOIN actions a ON a.organisation_id = d.organisation_id AND a.id = d.action_id
          WHERE d.organisation_id = $1 AND $2 = ANY(d.invoice_ids) ORDER BY d.handed_over_at`,
        [orgId, id],
      );
      const pauses = await q.query<{ id: bigint; reason: string; ends_on: CalendarDate | null; invoice_ids: bigint[] | null; invoices: string[] | null }>(
        `SELECT p.id, p.reason, p.ends_on, p.invoice_ids,
                (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
           FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 AND ${COVERS('p', '$3::bigint')} AND ${ACTIVE_PAUSE('p', '$4::date')}
          ORDER BY p.starts_on, p.id`,
        [orgId, invoice.customerId, id, today],
      );
      // Its disputes (those naming it, and those over the whole customer), and everything done about it, paid or not.
      const disputes = await q.query<{ id: bigint; reason: string; opened_on: CalendarDate; resolved_on: CalendarDate | null; resolution: string | null; pause_id: bigint | null; whole: boolean }>(
        `SELECT d.id, d.reason, d.opened_on, d.resolved_on, d.resolution, d.pause_id, d.invoice_ids IS NULL AS whole FROM disputes d
          WHERE d.organisation_id = $1 AND d.customer_id = $2 AND (d.invoice_ids IS NULL OR $3::bigint = ANY(d.invoice_ids))
          ORDER BY d.resolved_on IS NULL DESC, d.opened_on DESC, d.id DESC`,
        [orgId, invoice.customerId, id],
      );
      const [actions, promises, notes] = await Promise.all([
        q.query<{ id: bigint; planned_on: CalendarDate; channel: string; template: string; status: string; sent_at: string | null; status_reason: string | null }>(
          `SELECT a.id, a.planned_on, a.channel, a.template, a.status, a.sent_at, a.status_reason FROM step_records sr
             JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
            WHERE sr.organisation_id = $1 AND sr.invoice_id = $2 ORDER BY a.planned_on DESC, a.id DESC LIMIT 200`,
          [orgId, id],
        ),
        q.query<{ id: bigint; promised_on: CalendarDate; amount_minor: bigint; currency: string; status: string; created_at: string }>(
          `SELECT p.id, p.promised_on, p.amount_minor, p.currency, p.status, p.created_at FROM promises p
            WHERE p.organisation_id = $1 AND p.customer_id = $2 AND $3::bigint = ANY(p.invoice_ids) ORDER BY p.created_at DESC LIMIT 100`,
          [orgId, invoice.customerId, id],
        ),
        q.query<{ id: bigint; body: string; author: string; created_at: string; follow_up_on: CalendarDate | null }>(
          'SELECT id, body, author, created_at, follow_up_on FROM customer_notes WHERE organisation_id = $1 AND invoice_id = $2 ORDER BY created_at DESC LIMIT 100',
          [orgId, id],
        ),
      ]);
      const history = [
        ...actions.map((a) => ({ at: a.sent_at ? String(a.sent_at) : String(a.planned_on), kind: 'action' as const, id: String(a.id), channel: a.channel, template: a.template, status: a.status, statusReason: a.status_reason })),
        ...promises.map((p) => ({ at: String(p.created_at), kind: 'promise' as const, id: String(p.id), promisedOn: p.promised_on, amountMinor: String(p.amount_minor), currency: p.currency, status: p.status })),
        ...notes.map((n) => ({ at: String(n.created_at), kind: 'note' as const, id: String(n.id), body: n.body, author: n.author, followUpOn: n.follow_up_on })),
        ...disputes.map((d) => ({ at: String(d.opened_on), kind: 'dispute' as const, id: String(d.id), reason: d.reason, resolvedOn: d.resolved_on, resolution: d.resolution })),
      ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
      const fees = invoice.openMinor > 0n && invoice.dueDate < today ? (await customerPenalties(q, orgId, invoice.customerId, today, 'fr')).invoices.find((x) => x.invoiceId === String(id)) ?? null : null;
      return {
        today,
        invoice,
        customer: { id: String(customer.id), name: customer.legalName },
        daysPastDue: invoice.dueDate < today ? daysBetween(invoice.dueDate, today) : 0,
        calendar,
        settlements: settlements.map((x) => ({ kind: x.kind, id: x.id, on: x.on_day, amountMinor: x.amount_minor, paymentId: x.payment_id, method: x.method, reference: x.reference, creditNote: x.credit_note })),
        documents: [
          ...(invoice.pdfDocumentId !== null ? [{ kind: 'invoice_pdf' as const, id: invoice.pdfDocumentId, url: `/api/app/documents/${invoice.pdfDocumentId}` }] : []),
          ...deliveries.map((d) => ({ kind: 'delivery' as const, id: d.id, channel: d.channel, subject: d.subject, template: d.template, at: d.handed_over_at, provider: d.provider, url: `/api/app/deliveries/${d.id}/raw` })),
        ],
        fees,
        disputes: disputes.map((d) => ({ id: String(d.id), reason: d.reason, openedOn: d.opened_on, resolvedOn: d.resolved_on, resolution: d.resolution, pauseId: d.pause_id === null ? null : String(d.pause_id), wholeCustomer: d.whole })),
        history,
        pauses: pauses.map((x) => ({ id: x.id, reason: x.reason, endsOn: x.ends_on, invoices: x.invoice_ids === null ? null : (x.invoices ?? []) })),
      };
    },
  }),
  appRoute({
    method: 'get',
    path: '/documents/:id',
    scope: 'read',
    params: IdParams,
    handler: async ({ q, orgId, params }) => {
      const [d] = await q.query<{ filename: string; content_type: string; content: Uint8Array }>(
        'SELECT filename, content_type, content FROM documents WHERE organisation_id = $1 AND id = $2',
        [orgId, BigInt(params.id)],
      );
      if (!d) throw notFound('document', params.id);
      return download(d.content, d.content_type, d.filename, d.content_type === 'application/pdf');
    },
  }),
];
