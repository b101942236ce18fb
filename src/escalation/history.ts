/**
 * What was done to recover a customer's debts, summed up for whoever takes the case over (an
 * agency, a lawyer, a court): reminders that went out and when, formal notices with their proof of
 * dispatch and receipt, calls, disputes, promises. Only what happened: a message counts once it was
 * sent (or sent by hand and confirmed), never when it was merely planned or exported.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';

export interface FormalNoticeRecord {
  actionId: bigint;
  sentOn: CalendarDate;
  channel: string;
  tracking: string | null;
  /** deposited, delivered (acknowledgement of receipt), returned... or null for an e-mail. */
  trackingStatus: string | null;
  receiptOn: CalendarDate | null;
}

export interface RecoveryHistory {
  remindersSent: number;
  firstReminderOn: CalendarDate | null;
  lastReminderOn: CalendarDate | null;
  formalNotices: FormalNoticeRecord[];
  calls: number;
  disputes: { id: bigint; openedOn: CalendarDate; reason: string; resolvedOn: CalendarDate | null; resolution: string | null; invoiceIds: bigint[] | null }[];
  promises: { id: bigint; promisedOn: CalendarDate; amountMinor: bigint; currency: string; status: string }[];
}

/** The history of a customer (or of the invoices named: actions touching one of them). */
export async function recoveryHistory(q: Queryable, orgId: string, customerId: bigint, invoiceIds: bigint[] | null = null): Promise<RecoveryHistory> {
  const only = invoiceIds ? pgArray(invoiceIds) : null;
  const sent = await q.query<{ id: bigint; tone: string; channel: string; sent_on: CalendarDate; tracking_number: string | null; tracking_status: string | null; receipt_on: CalendarDate | null }>(
    `SELECT a.id, a.tone, a.channel, (a.sent_at AT TIME ZONE o.time_zone)::date AS sent_on, r.tracking_number, r.status AS tracking_status,
            (SELECT min((p.at AT TIME ZONE o.time_zone)::date) FROM registered_letter_proofs p WHERE p.organisation_id = r.organisation_id AND p.delivery_id = r.delivery_id AND p.kind = 'receipt') AS receipt_on
       FROM actions a JOIN organisations o ON o.id = a.organisation_id
       LEFT JOIN LATERAL (SELECT d.id FROM deliveries d WHERE d.organisation_id = a.organisation_id AND d.action_id = a.id ORDER BY d.id DESC LIMIT 1) d ON true
       LEFT JOIN registered_letters r ON r.organisation_id = a.organisation_id AND r.delivery_id = d.id
      WHERE a.organisation_id = $1 AND a.customer_id = $2 AND a.status = 'sent' AND a.sent_at IS NOT NULL
        AND a.dedupe_key NOT LIKE 'ack:%'
        AND ($3::bigint[] IS NULL OR EXISTS (SELECT 1 FROM step_records sr WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id AND sr.invoice_id = ANY($3::bigint[])))
      ORDER BY a.sent_at, a.id`,
    [orgId, customerId, only],
  );
  const messages = sent.filter((a) => a.channel !== 'call_task' && a.channel !== 'manual_task');
  const reminders = messages.filter((a) => a.tone !== 'formal_notice');
  const calls = await q.query<{ n: bigint }>('SELECT count(*) AS n FROM call_outcomes WHERE organisation_id = $1 AND customer_id = $2', [orgId, customerId]);
  const disputes = await q.query<Record<string, unknown>>(
    `SELECT id, opened_on, reason, resolved_on, resolution, invoice_ids FROM disputes WHERE organisation_id = $1 AND customer_id = $2
        AND ($3::bigint[] IS NULL OR invoice_ids IS NULL OR invoice_ids && $3::bigint[]) ORDER BY opened_on, id`,
    [orgId, customerId, only],
  );
  const promises = await q.query<Record<string, unknown>>(
    `SELECT id, promised_on, amount_minor, currency, status FROM promises WHERE organisation_id = $1 AND customer_id = $2
        AND ($3::bigint[] IS NULL OR invoice_ids && $3::bigint[]) ORDER BY promised_on, id`,
    [orgId, customerId, only],
  );
  return {
    remindersSent: reminders.length,
    firstReminderOn: reminders[0]?.sent_on ?? null,
    lastReminderOn: reminders.at(-1)?.sent_on ?? null,
    formalNotices: messages
      .filter((a) => a.tone === 'formal_notice')
      .map((a) => ({ actionId: a.id, sentOn: a.sent_on, channel: a.channel, tracking: a.tracking_number, trackingStatus: a.tracking_status, receiptOn: a.receipt_on })),
    calls: Number(calls[0]?.n ?? 0n),
    disputes: disputes.map((d) => ({
      id: d.id as bigint,
      openedOn: d.opened_on as CalendarDate,
      reason: String(d.reason),
      resolvedOn: (d.resolved_on as CalendarDate | null) ?? null,
      resolution: (d.resolution as string | null) ?? null,
      invoiceIds: (d.invoice_ids as bigint[] | null) ?? null,
    })),
    promises: promises.map((p) => ({ id: p.id as bigint, promisedOn: p.promised_on as CalendarDate, amountMinor: p.amount_minor as bigint, currency: String(p.currency), status: String(p.status) })),
  };
}
