/**
 * Mail that comes back to Relance (`relance inbound FILE.eml`, or POST /api/v1/inbound): delivery
 * status notifications, automatic replies and customers' replies. Each message is kept exactly as
 * received (inbound_messages, append-only, once per content) and tied to the action it answers:
 * by the Message-ID of the message it returns or answers (In-Reply-To, References, the returned
 * copy of a bounce), by the X-Relance-Action header of the returned copy, or by the plus-addressed
 * reply-to of the customer case (relances+c42-a7@...). Then:
 *  - a hard bounce (5.x.x): the addresses that bounced are marked invalid for the customer's
 *    contacts, and when none of the message's recipients is left, the step moves to its fallback
 *    channel; a soft bounce (4.x.x, delayed) and a delivery report are recorded as events;
 *  - an automatic reply (out of office) is recorded on the action, nothing more;
 *  - a customer's reply is recorded on the action and as a note on the customer's timeline, for a
 *    human to read and act on.
 */
import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import type { Queryable } from '../db/driver.ts';
import { jsonReplacer } from '../db/driver.ts';
import { parseCaseReplyAddress, parseMessageId } from '../domain/delivery.ts';
import { type DeliveryReport, type DsnRecipient, isAutoReply, parseHeaderBlock, readDeliveryReport, recipientOutcome } from '../domain/inbound.ts';
import { validation } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { applyBounce, deliveryByMessageId, type SentEmail, toSentEmail } from './proof.ts';

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);

const E = defineErrors('delivery-inbound', {
  empty: { fr: 'le message est vide', en: 'the message is empty' },
  not_a_message: {
    fr: 'ce n’est pas un e-mail (aucun en-tête From, Message-ID ni Content-Type)',
    en: 'this is not an email message (no From, Message-ID or Content-Type header)',
  },
});

export type InboundKind = 'bounce_hard' | 'bounce_soft' | 'delivered' | 'auto_reply' | 'reply';

export interface InboundResult {
  inboundId: bigint;
  /** The same message was already ingested: nothing was done again. */
  duplicate: boolean;
  /** What the message is. */
  kind: InboundKind;
  /** Whether it could be tied to an action (else it is kept as 'unmatched'). */
  matched: boolean;
  matchedBy: 'message_id' | 'action_header' | 'reply_address' | null;
  customerId: bigint | null;
  actionId: bigint | null;
  deliveryId: bigint | null;
  /** A bounce's recipients and what happened to each. */
  recipients: DsnRecipient[];
  /** Addresses marked invalid (hard bounce). */
  invalidated: string[];
  /** The action created on the step's fallback channel (hard bounce). */
  fallbackId: bigint | null;
  /** The note added to the customer's timeline (reply). */
  noteId: bigint | null;
  from: string | null;
  subject: string | null;
}

export interface ReadInbound {
  kind: InboundKind;
  from: string | null;
  subject: string;
  messageId: string | null;
  text: string;
  report: DeliveryReport | null;
  /** Relance Message-IDs the message returns or answers, most specific first. */
  relanceMessageIds: Array<{ messageId: string; orgId: string; actionId: bigint }>;
  /** X-Relance-Action of a bounce's returned copy. */
  actionHeader: { orgId: string; actionId: bigint } | null;
  /** Customer-case reply addresses it was sent to. */
  caseAddresses: Array<{ address: string; customerId: bigint; actionId: bigint }>;
}

const ADDRESS = /[^\s<>(),;:"'[\]]+@[^\s<>(),;:"'[\]]+/g;

/** Reads a message: what it is, and every clue to the action it is about. */
export async function readInbound(raw: Buffer): Promise<ReadInbound> {
  if (raw.length === 0) throw validation(E('empty'), { field: 'message' });
  const mail = await simpleParser(raw, { skipImageLinks: true, skipHtmlToText: false, skipTextLinks: true });
  const headEnd = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n');
  const headers = parseHeaderBlock(raw.subarray(0, headEnd < 0 ? raw.length : headEnd).toString('latin1'));
  if (!headers.has('from') && !headers.has('message-id') && !headers.has('content-type')) {
    throw validation(E('not_a_message'), { field: 'message' });
  }
  const report = readDeliveryReport(raw);
  const subject = mail.subject ?? '';

  const ids: string[] = [];
  if (report?.originalMessageId) ids.push(report.originalMessageId);
  if (mail.inReplyTo) ids.push(...(mail.inReplyTo.match(/<[^>]+>/g) ?? [mail.inReplyTo]));
  const refs = Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [];
  ids.push(...[...refs].reverse());
  const relanceMessageIds = ids.flatMap((messageId) => {
    const p = parseMessageId(messageId);
    return p ? [{ messageId: messageId.startsWith('<') ? messageId : `<${messageId}>`, ...p }] : [];
  });
  const header = report?.originalAction ? /^([0-9a-f-]{36})\/(\d+)$/i.exec(report.originalAction.trim()) : null;

  const addressed = ['to', 'cc', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'].flatMap((h) => (headers.get(h) ?? []).flatMap((v) => v.match(ADDRESS) ?? []));
  const caseAddresses = [...new Set(addressed)].flatMap((address) => {
    const c = parseCaseReplyAddress(address);
    return c ? [{ address, ...c }] : [];
  });

  const kind: InboundKind = report
    ? report.outcome === 'hard'
      ? 'bounce_hard'
      : report.outcome === 'soft'
        ? 'bounce_soft'
        : 'delivered'
    : isAutoReply(headers, subject)
      ? 'auto_reply'
      : 'reply';
  return {
    kind,
    from: mail.from?.value[0]?.address?.toLowerCase() ?? null,
    subject,
    messageId: mail.messageId ?? null,
    text: mail.text ?? '',
    report,
    relanceMessageIds,
    actionHeader: header ? { orgId: header[1]!.toLowerCase(), actionId: BigInt(header[2]!) } : null,
    caseAddresses,
  };
}

/** The organisation a message names through a Relance Message-ID or action header, if any. */
export function inboundOrganisation(m: ReadInbound): string | null {
  return m.relanceMessageIds[0]?.orgId ?? m.actionHeader?.orgId ?? null;
}

const M = defineMessages({
  reply_note: {
    fr: 'Réponse reçue par e-mail de {from} : « {subject} »\n\n{text}',
    en: 'Email reply from {from}: "{subject}"\n\n{text}',
  },
  no_text: { fr: '(message sans texte)', en: '(no text in the message)' },
  unknown_sender: { fr: 'expéditeur inconnu', en: 'unknown sender' },
});

/** The reply itself, without the quoted message it answers (the whole message is kept anyway). */
function replyText(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const cut = lines.findIndex(
    (l) => /^>/.test(l) || /^(Le .{3,200} a écrit ?:|On .{3,200} wrote:)\s*$/.test(l.trim()) || /^-{2,}\s*(Original Message|Message d'origine|Message original)\s*-{2,}/i.test(l.trim()) || /^(De|From) ?: .+@/.test(l.trim()),
  );
  return (cut >= 0 ? lines.slice(0, cut) : lines).join('\n').trim().slice(0, 8000);
}

interface Match {
  by: NonNullable<InboundResult['matchedBy']>;
  actionId: bigint;
  customerId: bigint;
  delivery: SentEmail | null;
}

async function findAction(q: Queryable, orgId: string, m: ReadInbound): Promise<Match | null> {
  for (const r of m.relanceMessageIds) {
    if (r.orgId !== orgId) continue;
    const d = await deliveryByMessageId(q, orgId, r.messageId);
    if (d) return { by: 'message_id', actionId: d.actionId, customerId: d.customerId, delivery: d };
  }
  const candidates: Array<{ by: Match['by']; actionId: bigint; customerId?: bigint }> = [];
  if (m.actionHeader && m.actionHeader.orgId === orgId) candidates.push({ by: 'action_header', actionId: m.actionHeader.actionId });
  for (const c of m.caseAddresses) candidates.push({ by: 'reply_address', actionId: c.actionId, customerId: c.customerId });
  for (const c of candidates) {
    const [a] = await q.query<{ customer_id: bigint }>('SELECT customer_id FROM actions WHERE organisation_id = $1 AND id = $2', [orgId, c.actionId]);
    // A reply address names both the customer and the action: both must agree.
    if (!a || (c.customerId !== undefined && a.customer_id !== c.customerId)) continue;
    const [d] = await q.query<{ id: bigint; action_id: bigint; customer_id: bigint; recipients: { to?: string[] } | string }>(
      `SELECT id, action_id, customer_id, recipients FROM deliveries WHERE organisation_id = $1 AND action_id = $2 AND channel = 'email' ORDER BY id DESC LIMIT 1`,
      [orgId, c.actionId],
    );
    return { by: c.by, actionId: c.actionId, customerId: a.customer_id, delivery: d ? toSentEmail(d) : null };
  }
  return null;
}

/**
 * Records an inbound message for an organisation, in the caller's transaction, and acts on it.
 * The same message (same bytes) ingested again changes nothing and says so.
 */
export async function ingestInbound(q: Queryable, orgId: string, raw: Buffer, now: Date, read?: ReadInbound): Promise<InboundResult> {
  const m = read ?? (await readInbound(raw));
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const match = await findAction(q, orgId, m);
  const detail = {
    recipients: m.report?.recipients ?? [],
    reportingMta: m.report?.reportingMta ?? null,
    format: m.report?.format ?? null,
    read: m.kind,
  };
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO inbound_messages (organisation_id, kind, received_at, customer_id, action_id, delivery_id, matched_by, message_id, from_address, subject, content, sha256, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, decode($11, 'base64'), $12, $13::jsonb)
     ON CONFLICT (organisation_id, sha256) DO NOTHING RETURNING id`,
    [
      orgId, match ? m.kind : 'unmatched', now.toISOString(), match?.customerId ?? null, match?.actionId ?? null, match?.delivery?.id ?? null, match?.by ?? null,
      m.messageId, m.from, m.subject.slice(0, 1000), raw.toString('base64'), sha256, J(detail),
    ],
  );
  const base: InboundResult = {
    inboundId: 0n,
    duplicate: false,
    kind: m.kind,
    matched: match !== null,
    matchedBy: match?.by ?? null,
    customerId: match?.customerId ?? null,
    actionId: match?.actionId ?? null,
    deliveryId: match?.delivery?.id ?? null,
    recipients: m.report?.recipients ?? [],
    invalidated: [],
    fallbackId: null,
    noteId: null,
    from: m.from,
    subject: m.subject || null,
  };
  if (!row) {
    const [prev] = await q.query<{ id: bigint }>('SELECT id FROM inbound_messages WHERE organisation_id = $1 AND sha256 = $2', [orgId, sha256]);
    return { ...base, inboundId: prev!.id, duplicate: true };
  }
  const out: InboundResult = { ...base, inboundId: row.id };
  if (!match) return out;

  const event = (kind: string, extra: Record<string, unknown>) =>
    q.query(`INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, detail) VALUES ($1,$2,$3,$4,$5,$6::jsonb)`, [
      orgId,
      match.actionId,
      match.delivery?.id ?? null,
      kind,
      now.toISOString(),
      J({ inboundId: row.id, from: m.from, subject: m.subject, ...extra }),
    ]);
  switch (m.kind) {
    case 'bounce_hard':
    case 'bounce_soft': {
      const hard = m.kind === 'bounce_hard';
      // The recipients this bounce is about: those refused for good (hard), else those delayed.
      const failed = (m.report?.recipients ?? []).filter((r) => recipientOutcome(r) === (hard ? 'hard' : 'soft'));
      const worst = failed[0];
      if (!match.delivery) {
        await event('bounced', { kind: hard ? 'hard' : 'soft', recipients: failed.map((r) => r.address), status: worst?.status ?? null });
        break;
      }
      const r = await applyBounce(
        q,
        orgId,
        match.delivery,
        {
          kind: hard ? 'hard' : 'soft',
          recipients: failed.map((x) => x.address),
          status: worst?.status ?? null,
          diagnostic: worst?.diagnostic ?? null,
          detail: { inboundId: row.id, reportingMta: m.report?.reportingMta ?? null },
        },
        now,
      );
      out.invalidated = r.invalidated;
      out.fallbackId = r.fallbackId;
      break;
    }
    case 'delivered':
      await event('delivered', { recipients: (m.report?.recipients ?? []).map((r) => r.address) });
      break;
    case 'auto_reply':
      await event('auto_replied', {});
      break;
    case 'reply': {
      await event('replied', {});
      const org = await getOrganisation(q, orgId);
      const [c] = await q.query<{ language: string }>('SELECT language FROM customers WHERE organisation_id = $1 AND id = $2', [orgId, match.customerId]);
      const lang: Lang = (c?.language ?? org.language) === 'en' ? 'en' : 'fr';
      const text = replyText(m.text);
      const body = t(M, lang, 'reply_note', { from: m.from ?? t(M, lang, 'unknown_sender'), subject: m.subject, text: text || t(M, lang, 'no_text') }).slice(0, 10_000);
      const [note] = await q.query<{ id: bigint }>(
        'INSERT INTO customer_notes (organisation_id, customer_id, invoice_id, body, author) VALUES ($1, $2, NULL, $3, $4) RETURNING id',
        [orgId, match.customerId, body, (m.from ?? 'email').slice(0, 200)],
      );
      out.noteId = note!.id;
      break;
    }
  }
  return out;
}
