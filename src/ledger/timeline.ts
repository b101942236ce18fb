/**
 * A customer's history as one list, newest first: invoices, payments, credit notes, reminders,
 * calls, promises, disputes, pauses, payment plans, notes and what the customer did on the debtor
 * portal (the customer screen's timeline).
 */
import type { Queryable } from '../db/driver.ts';

export interface TimelineItem {
  at: string;
  kind: 'invoice' | 'payment' | 'credit_note' | 'reminder' | 'call' | 'promise' | 'dispute' | 'pause' | 'plan' | 'note' | 'portal';
  id: string;
  data: Record<string, unknown>;
}

/** Everything that happened with a customer, newest first, as one list. */
export async function customerTimeline(q: Queryable, orgId: string, customerId: bigint): Promise<TimelineItem[]> {
  const P = [orgId, customerId];
  const [invoices, payments, credits, actions, calls, promises, disputes, pauses, plans, notes, portal] = await Promise.all([
    q.query<Record<string, unknown>>(
      `SELECT id, number, issue_date, due_date, currency, amount_incl_tax_minor, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor
         FROM invoices WHERE organisation_id = $1 AND customer_id = $2 ORDER BY issue_date DESC, id DESC LIMIT 500`,
      P,
    ),
    q.query<Record<string, unknown>>(
      'SELECT id, payment_date, currency, amount_minor, allocated_minor, method, reference FROM payments WHERE organisation_id = $1 AND customer_id = $2 ORDER BY payment_date DESC, id DESC LIMIT 500',
      P,
    ),
    q.query<Record<string, unknown>>('SELECT id, number, issue_date, currency, amount_minor, reason FROM credit_notes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY issue_date DESC LIMIT 200', P),
    q.query<Record<string, unknown>>(
      `SELECT a.id, a.channel, a.template, a.tone, a.status, a.status_reason, a.planned_on, a.sent_at, a.step_offset, a.hold_reason,
              (SELECT array_agg(d.id ORDER BY d.id) FROM deliveries d WHERE d.organisation_id = a.organisation_id AND d.action_id = a.id) AS delivery_ids,
              (SELECT array_agg(i.number) FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
                WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id) AS invoices
         FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = $2 ORDER BY a.planned_on DESC, a.id DESC LIMIT 300`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT id, outcome, non_payment_reason, note, promised_on, promised_minor, dispute_reason, phone_number, recorded_by, recorded_on, recorded_at
         FROM call_outcomes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY recorded_at DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT p.id, p.promised_on, p.currency, p.amount_minor, p.status, p.closed_on, p.created_at,
              (SELECT array_agg(i.number) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
         FROM promises p WHERE p.organisation_id = $1 AND p.customer_id = $2 ORDER BY p.created_at DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT d.id, d.reason, d.opened_on, d.resolved_on, d.resolution,
              (SELECT string_agg(i.number, ', ' ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS number
         FROM disputes d
        WHERE d.organisation_id = $1 AND d.customer_id = $2 ORDER BY d.opened_on DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT p.id, p.reason, p.starts_on, p.ends_on, p.lifted_on, p.note,
              (SELECT string_agg(i.number, ', ' ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
         FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 AND p.reason IN ('manual_hold', 'insolvency', 'other')
        ORDER BY p.starts_on DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT pp.id, pp.started_on, pp.status, pp.currency, pp.open_at_start_minor, pp.closed_on,
              (SELECT json_agg(json_build_object('seq', x.seq, 'dueDate', x.due_date, 'amountMinor', x.amount_minor::text) ORDER BY x.seq)
                 FROM payment_plan_instalments x WHERE x.organisation_id = pp.organisation_id AND x.plan_id = pp.id) AS instalments
         FROM payment_plans pp WHERE pp.organisation_id = $1 AND pp.customer_id = $2 ORDER BY pp.started_on DESC LIMIT 100`,
      P,
    ),
    q.query<Record<string, unknown>>('SELECT id, body, author, created_at, follow_up_on, follow_up_done_at FROM customer_notes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY created_at DESC LIMIT 300', P),
    q.query<Record<string, unknown>>(
      `SELECT e.id, e.kind, e.created_at,
              (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = e.organisation_id AND i.id = ANY(e.invoice_ids)) AS invoices
         FROM portal_events e WHERE e.organisation_id = $1 AND e.customer_id = $2 ORDER BY e.created_at DESC, e.id DESC LIMIT 200`,
      P,
    ),
  ]);
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const items: TimelineItem[] = [
    ...invoices.map((x) => ({ at: String(x.issue_date), kind: 'invoice' as const, id: String(x.id), data: { number: x.number, dueDate: x.due_date, currency: x.currency, amountMinor: s(x.amount_incl_tax_minor), openMinor: s(x.open_minor) } })),
    ...payments.map((x) => ({ at: String(x.payment_date), kind: 'payment' as const, id: String(x.id), data: { currency: x.currency, amountMinor: s(x.amount_minor), allocatedMinor: s(x.allocated_minor), method: x.method, reference: x.reference } })),
    ...credits.map((x) => ({ at: String(x.issue_date), kind: 'credit_note' as const, id: String(x.id), data: { number: x.number, currency: x.currency, amountMinor: s(x.amount_minor), reason: x.reason } })),
    ...actions.map((x) => ({
      at: x.sent_at ? String(x.sent_at) : String(x.planned_on),
      kind: 'reminder' as const,
      id: String(x.id),
      data: { channel: x.channel, template: x.template, tone: x.tone, status: x.status, statusReason: x.status_reason, plannedOn: x.planned_on, sentAt: x.sent_at, stepOffset: x.step_offset, holdReason: x.hold_reason, deliveryIds: ((x.delivery_ids as bigint[] | null) ?? []).map(String), invoices: x.invoices ?? [] },
    })),
    ...calls.map((x) => ({ at: String(x.recorded_at), kind: 'call' as const, id: String(x.id), data: { outcome: x.outcome, reason: x.non_payment_reason, note: x.note, promisedOn: x.promised_on, promisedMinor: s(x.promised_minor), disputeReason: x.dispute_reason, phone: x.phone_number, by: x.recorded_by } })),
    ...promises.map((x) => ({ at: String(x.created_at), kind: 'promise' as const, id: String(x.id), data: { promisedOn: x.promised_on, currency: x.currency, amountMinor: s(x.amount_minor), status: x.status, closedOn: x.closed_on, invoices: x.invoices ?? [] } })),
    ...disputes.map((x) => ({ at: String(x.opened_on), kind: 'dispute' as const, id: String(x.id), data: { reason: x.reason, resolvedOn: x.resolved_on, resolution: x.resolution, invoice: x.number } })),
    ...pauses.map((x) => ({ at: String(x.starts_on), kind: 'pause' as const, id: String(x.id), data: { reason: x.reason, endsOn: x.ends_on, liftedOn: x.lifted_on, note: x.note } })),
    ...plans.map((x) => ({ at: String(x.started_on), kind: 'plan' as const, id: String(x.id), data: { status: x.status, currency: x.currency, amountMinor: s(x.open_at_start_minor), closedOn: x.closed_on, instalments: typeof x.instalments === 'string' ? JSON.parse(x.instalments) : x.instalments } })),
    ...notes.map((x) => ({ at: String(x.created_at), kind: 'note' as const, id: String(x.id), data: { body: x.body, author: x.author, followUpOn: x.follow_up_on ?? null, followUpDone: x.follow_up_done_at != null } })),
    ...portal.map((x) => ({ at: String(x.created_at), kind: 'portal' as const, id: String(x.id), data: { event: x.kind, invoices: x.invoices ?? [] } })),
  ];
  // Dates ("2026-11-22") and instants ("2026-11-22 10:00:00+00") sort together on their first 10 characters, then by the rest.
  return items.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

