/**
 * The engine's webhook events: invoice.overdue (once per invoice, the first run after its due
 * date), invoice.paid (once per invoice, when a payment applied by reconciliation settles it),
 * promise.broken, case.escalated and customer.suspension_recommended (when the handover step
 * after an unanswered formal notice is planned). Written in the caller's transaction through the
 * webhooks outbox, so an event exists exactly when the fact it tells does.
 */
import { type Queryable, pgArray } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { toDecimalString } from '../domain/money.ts';
import { emitEvent, type WebhookEvent } from '../webhooks/index.ts';

export async function hasSubscribers(q: Queryable, orgId: string, type: WebhookEvent): Promise<boolean> {
  const [row] = await q.query(
    `SELECT 1 FROM webhook_subscriptions WHERE organisation_id = $1 AND active AND ($2 = ANY (events) OR '*' = ANY (events)) LIMIT 1`,
    [orgId, type],
  );
  return Boolean(row);
}

async function notice(q: Queryable, orgId: string, kind: 'overdue' | 'paid', today: CalendarDate, whereSql: string, params: unknown[]): Promise<number> {
  const type: WebhookEvent = kind === 'overdue' ? 'invoice.overdue' : 'invoice.paid';
  if (!(await hasSubscribers(q, orgId, type))) return 0;
  const rows = await q.query<Record<string, unknown>>(
    `WITH n AS (
       INSERT INTO invoice_notices (organisation_id, invoice_id, kind, noticed_on)
       SELECT $1, i.id, $2, $3 FROM invoices i WHERE i.organisation_id = $1 AND ${whereSql}
       ON CONFLICT DO NOTHING RETURNING invoice_id)
     SELECT i.id, i.number, i.customer_id, i.due_date, i.currency, i.amount_incl_tax_minor,
            i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor
       FROM n JOIN invoices i ON i.organisation_id = $1 AND i.id = n.invoice_id ORDER BY i.id`,
    [orgId, kind, today, ...params],
  );
  for (const r of rows) {
    await emitEvent(q, orgId, type, {
      invoiceId: String(r.id),
      number: r.number,
      customerId: String(r.customer_id),
      dueDate: r.due_date,
      currency: r.currency,
      amount: toDecimalString(r.amount_incl_tax_minor as bigint, String(r.currency)),
      open: toDecimalString(r.open_minor as bigint, String(r.currency)),
    });
  }
  return rows.length;
}

/** invoice.overdue for every open invoice past its due date not told yet. */
export function noticeOverdue(q: Queryable, orgId: string, today: CalendarDate): Promise<number> {
  return notice(q, orgId, 'overdue', today, `i.due_date < $3 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor`, []);
}

/** invoice.paid for these customers' invoices that are settled and not told yet. */
export function noticePaid(q: Queryable, orgId: string, customerIds: bigint[], today: CalendarDate): Promise<number> {
  return notice(q, orgId, 'paid', today, `i.customer_id = ANY($4::bigint[]) AND i.allocated_minor > 0 AND i.allocated_minor + i.written_off_minor >= i.amount_incl_tax_minor`, [
    pgArray(customerIds),
  ]);
}

