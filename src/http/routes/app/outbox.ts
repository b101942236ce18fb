/** The outbox: every message as it went out (the proof), and each one's content and events. */
import { z } from 'zod';
import type { Queryable } from '../../../db/driver.ts';
import { parseEml } from '../../../delivery/eml.ts';
import { loadDeliverySettings } from '../../../delivery/settings.ts';
import { notFound } from '../../../errors.ts';
import { IdParams } from '../schemas.ts';
import { appRoute, download } from './common.ts';
import { intQuery } from './shapes/common.ts';
import { listOutbox, type OutboxRow } from '../../../delivery/outbox.ts';
import type { DeliveryResponse, OutboxPendingRow, OutboxResponse } from './shapes/outbox.ts';

export const outboxRoutes = [
  appRoute({
    method: 'get',
    path: '/outbox',
    scope: 'read',
    response: z.custom<OutboxResponse>(),
    query: z.object({ limit: intQuery(200, 1, 500), channel: z.string().optional(), status: z.string().optional() }),
    handler: async ({ q, orgId, query }) => {
      const { limit, channel, status } = query;
      const rows = await q.query<{
        id: bigint;
        action_id: bigint;
        customer_id: bigint;
        legal_name: string;
        channel: string;
        provider: string;
        recipients: unknown;
        subject: string | null;
        content_type: string;
        bytes: number | bigint;
        handed_over_at: string;
        template: string;
        status: string;
        sent_at: string | null;
        invoices: string[] | null;
        settled: boolean;
      }>(
        `SELECT d.id, d.action_id, d.customer_id, c.legal_name, d.channel, d.provider, d.recipients, d.subject, d.content_type,
                length(d.content) AS bytes, d.handed_over_at, a.template, a.status, a.sent_at,
                (SELECT array_agg(i.number) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS invoices,
                -- Paid since it was written: an exported message is not to be sent any more.
                NOT EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)
                              AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor) AS settled
           FROM deliveries d
           JOIN customers c ON c.organisation_id = d.organisation_id AND c.id = d.customer_id
           JOIN actions a ON a.organisation_id = d.organisation_id AND a.id = d.action_id
          WHERE d.organisation_id = $1 AND ($2::text IS NULL OR d.channel = $2) AND ($4::text IS NULL OR a.status = $4)
          ORDER BY d.handed_over_at DESC, d.id DESC LIMIT $3`,
        [orgId, channel || null, limit, status || null],
      );
      const [counts] = await q.query<{ exported: bigint }>(`SELECT count(*) AS exported FROM actions WHERE organisation_id = $1 AND status = 'exported'`, [orgId]);
      const settings = await loadDeliverySettings(q, orgId);
      // What has not gone out yet (approved or needing no approval, each with the time it may leave), and what failed and why.
      const [waiting, failed] = await Promise.all([
        listOutbox(q, orgId, { status: ['queued', 'sending', 'awaiting_approval'], limit: 200 }),
        listOutbox(q, orgId, { status: ['failed', 'uncertain'], limit: 200 }),
      ]);
      const pendingRow = (a: OutboxRow): OutboxPendingRow => ({
        id: String(a.id),
        customerId: String(a.customerId),
        customerName: a.customerName,
        channel: a.channel,
        template: a.template,
        status: a.status,
        plannedOn: a.plannedOn,
        leavesAt: a.nextAttemptAt ?? a.sendAfter,
        attempts: a.attempts,
        reason: a.lastError ?? a.statusReason ?? a.holdReason,
        invoices: a.invoices,
      });
      return {
        pending: waiting.sort((a, b) => ((a.nextAttemptAt ?? a.sendAfter) < (b.nextAttemptAt ?? b.sendAfter) ? -1 : 1)).map(pendingRow),
        failed: failed.map(pendingRow),
        smtpConfigured: settings.smtp !== null,
        exported: Number(counts?.exported ?? 0),
        rows: rows.map((d) => ({
          id: String(d.id),
          actionId: String(d.action_id),
          customerId: String(d.customer_id),
          customerName: d.legal_name,
          channel: d.channel,
          provider: d.provider,
          local: String(d.provider).startsWith('local') || d.provider === 'print-batch',
          recipients: d.recipients,
          subject: d.subject,
          contentType: d.content_type,
          bytes: Number(d.bytes),
          handedOverAt: d.handed_over_at,
          sentAt: d.sent_at ?? null,
          template: d.template,
          status: d.status,
          settled: Boolean(d.settled),
          invoices: d.invoices ?? [],
        })),
      };
    },
  }),
  appRoute({
    method: 'get',
    path: '/deliveries/:id',
    scope: 'read',
    response: z.custom<DeliveryResponse>(),
    params: IdParams,
    handler: async ({ q, orgId, params }) => {
      const d = await deliveryRow(q, orgId, BigInt(params.id));
      const events = await q.query<DeliveryResponse['events'][number]>(
        'SELECT kind, at, provider_message_id, detail FROM delivery_events WHERE organisation_id = $1 AND action_id = $2 ORDER BY at, id',
        [orgId, d.action_id],
      );
      const base = { id: String(d.id), actionId: String(d.action_id), channel: d.channel, provider: d.provider, subject: d.subject, contentType: d.content_type, sha256: d.sha256, handedOverAt: d.handed_over_at, recipients: d.recipients, events, rawUrl: `/api/app/deliveries/${d.id}/raw` };
      const content = Buffer.from(d.content as Uint8Array);
      if (String(d.content_type).startsWith('message/rfc822')) return { ...base, email: await parseEml(content) };
      if (String(d.content_type).startsWith('text/')) return { ...base, text: content.toString('utf8') };
      return base;
    },
  }),
  appRoute({
    method: 'get',
    path: '/deliveries/:id/raw',
    scope: 'read',
    params: IdParams,
    handler: async ({ q, orgId, params }) => {
      const d = await deliveryRow(q, orgId, BigInt(params.id));
      const type = String(d.content_type);
      const ext = type.includes('pdf') ? 'pdf' : type.includes('rfc822') ? 'eml' : 'txt';
      return download(d.content as Uint8Array, type, `delivery-${d.id}.${ext}`, ext === 'pdf');
    },
  }),
];

interface DeliveryRow {
  id: bigint;
  action_id: bigint;
  channel: string;
  provider: string;
  subject: string | null;
  content_type: string;
  content: Uint8Array;
  sha256: string;
  handed_over_at: string;
  recipients: unknown;
}

async function deliveryRow(q: Queryable, orgId: string, id: bigint): Promise<DeliveryRow> {
  const [d] = await q.query<DeliveryRow>('SELECT * FROM deliveries WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!d) throw notFound('delivery', String(id));
  return d;
}

