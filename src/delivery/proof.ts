/**
 * After sending: bounces reported later (a DSN), registered-letter tracking and proofs, and the
 * evidence file — a customer's full dunning history as one PDF: every action with its status,
 * every message as it went out (recipients, subject, Message-ID, SHA-256, provider id, events),
 * the .eml files attached to the page that lists them, the SMS texts, the call outcomes, and the
 * letters themselves appended byte for byte.
 */
import { createHash } from 'node:crypto';
import { type Queryable, pgArray } from '../db/driver.ts';
import { type ActionStatus, parseMessageId } from '../domain/delivery.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';
import { getCustomer, getOrganisation } from '../ledger/repo.ts';
import { newPdf } from './letters.ts';
import { confirmSent } from './outbox.ts';
import { createFallback } from './outbox-outcomes.ts';
import { mergePdfs } from './pdf-merge.ts';
import { callOutcomeWord, channelWord, eventWord, nonPaymentWord, trackingWord } from './words.ts';
import { type CalendarDate, formatLongDate } from '../domain/dates.ts';
import { reasonText } from '../domain/engine/reasons.ts';
import { TEMPLATE_LABELS, isTemplateKey } from '../documents/registry.ts';

const E = defineErrors('delivery-proof', {
  not_tracking: { fr: '« {value} » ne ressemble pas à un numéro de suivi', en: '"{value}" does not look like a tracking number' },
  tracking_first: { fr: 'saisissez d’abord le numéro de suivi', en: 'enter the tracking number first' },
});

const J = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

export interface SentEmail {
  id: bigint;
  actionId: bigint;
  customerId: bigint;
  /** The addresses it was sent to. */
  to: string[];
}

/** The delivery of a sent email by its Message-ID, or null. */
export async function deliveryByMessageId(q: Queryable, orgId: string, messageId: string): Promise<SentEmail | null> {
  const id = messageId.trim().startsWith('<') ? messageId.trim() : `<${messageId.trim()}>`;
  const [d] = await q.query<{ id: bigint; action_id: bigint; customer_id: bigint; recipients: { to?: string[] } | string }>(
    `SELECT id, action_id, customer_id, recipients FROM deliveries WHERE organisation_id = $1 AND message_id = $2 ORDER BY id DESC LIMIT 1`,
    [orgId, id],
  );
  return d ? toSentEmail(d) : null;
}

export function toSentEmail(d: { id: bigint; action_id: bigint; customer_id: bigint; recipients: { to?: string[] } | string }): SentEmail {
  const rec = typeof d.recipients === 'string' ? (JSON.parse(d.recipients) as { to?: string[] }) : d.recipients;
  return { id: d.id, actionId: d.action_id, customerId: d.customer_id, to: rec.to ?? [] };
}

export interface BounceFacts {
  kind: 'hard' | 'soft';
  /** The addresses that bounced (all the message's recipients when not known). */
  recipients?: string[] | null;
  status?: string | null;
  diagnostic?: string | null;
  /** Anything else worth keeping with the event (the inbound message it came in, the reporting server). */
  detail?: Record<string, unknown>;
}

/**
 * A bounce of a sent email: recorded as a 'bounced' event on its delivery. A hard bounce marks the
 * addresses that bounced invalid for the customer's contacts (they are not used again), and when
 * none of the message's recipients is left valid, moves the step to its fallback channel.
 */
export async function applyBounce(q: Queryable, orgId: string, d: SentEmail, b: BounceFacts, now: Date): Promise<{ invalidated: string[]; fallbackId: bigint | null }> {
  const bounced = [...new Set((b.recipients?.length ? b.recipients : d.to).map((a) => a.trim().toLowerCase()).filter(Boolean))];
  await q.query(`INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, detail) VALUES ($1,$2,$3,'bounced',$4,$5::jsonb)`, [
    orgId,
    d.actionId,
    d.id,
    now.toISOString(),
    J({ kind: b.kind, recipients: bounced, status: b.status ?? null, diagnostic: b.diagnostic ?? null, ...b.detail }),
  ]);
  if (b.kind === 'soft') return { invalidated: [], fallbackId: null };
  const reason = `hard bounce${b.status ? ` ${b.status}` : ''}${b.diagnostic ? `: ${b.diagnostic}` : ''}`.slice(0, 500);
  const marked = await q.query<{ value: string }>(
    `INSERT INTO contact_address_status (organisation_id, contact_id, kind, value, reason)
     SELECT organisation_id, id, 'email', email, $4 FROM contacts WHERE organisation_id = $1 AND customer_id = $2 AND lower(trim(email)) = ANY($3::text[])
     ON CONFLICT DO NOTHING RETURNING value`,
    [orgId, d.customerId, pgArray(bounced), reason],
  );
  // Every address the message went to is now known bad: the step goes by its fallback channel.
  const invalid = await q.query<{ value: string }>(
    `SELECT lower(trim(s.value)) AS value FROM contact_address_status s JOIN contacts c ON c.organisation_id = s.organisation_id AND c.id = s.contact_id
      WHERE s.organisation_id = $1 AND c.customer_id = $2 AND s.kind = 'email'`,
    [orgId, d.customerId],
  );
  const bad = new Set([...bounced, ...invalid.map((r) => r.value)]);
  const left = d.to.filter((a) => !bad.has(a.trim().toLowerCase()));
  const fallbackId = left.length === 0 ? await createFallback(q, orgId, d.actionId, reason, now) : null;
  return { invalidated: [...new Set(marked.map((m) => m.value))], fallbackId };
}

/**
 * A bounce received after the message was accepted, named by the Message-ID of the message that
 * bounced (`relance outbox bounce`; `relance inbound` reads it from the notification itself).
 */
export async function recordBounce(
  q: Queryable,
  orgId: string,
  b: { messageId: string } & BounceFacts,
  now: Date,
): Promise<{ actionId: bigint; fallbackId: bigint | null; invalidated: string[] }> {
  const d = await deliveryByMessageId(q, orgId, b.messageId);
  if (!d) {
    const id = b.messageId.trim();
    const hint = parseMessageId(id) ? '' : ' (not a Message-ID Relance made)';
    throw notFound('sent message', `${id}${hint}`);
  }
  const r = await applyBounce(q, orgId, d, b, now);
  return { actionId: d.actionId, ...r };
}

/** A registered letter's real tracking number (posted by hand) and the proofs that come back. */
export async function recordRegisteredProof(
  q: Queryable,
  orgId: string,
  actionId: bigint,
  p: { tracking?: string | null; kind?: 'deposit' | 'receipt' | 'return' | null; at: Date; content?: Buffer | null; contentType?: string | null; detail?: object },
): Promise<void> {
  const [d] = await q.query<{ id: bigint; provider: string | null }>(
    `SELECT d.id, r.provider FROM deliveries d LEFT JOIN registered_letters r ON r.organisation_id = d.organisation_id AND r.delivery_id = d.id
      WHERE d.organisation_id = $1 AND d.action_id = $2 AND d.channel = 'registered_letter' ORDER BY d.id DESC LIMIT 1`,
    [orgId, actionId],
  );
  if (!d) throw notFound('registered letter of action', String(actionId));
  if (p.tracking) {
    if (!/^[A-Z0-9-]{6,40}$/i.test(p.tracking)) throw validation(E('not_tracking', { value: p.tracking }), { field: 'tracking' });
    if (d.provider === null) {
      await q.query(`INSERT INTO registered_letters (organisation_id, delivery_id, provider, tracking_number) VALUES ($1,$2,'local',$3)`, [orgId, d.id, p.tracking]);
    } else {
      await q.query('UPDATE registered_letters SET tracking_number = $3, updated_at = now() WHERE organisation_id = $1 AND delivery_id = $2', [orgId, d.id, p.tracking]);
    }
    // A letter posted by hand has its post office number: it was sent.
    const [a] = await q.query<{ status: string }>('SELECT status FROM actions WHERE organisation_id = $1 AND id = $2', [orgId, actionId]);
    if (a?.status === 'exported') await confirmSent(q, orgId, { ids: [actionId] }, `tracking ${p.tracking}`, p.at);
  }
  if (p.kind) {
    const [exists] = await q.query('SELECT 1 FROM registered_letters WHERE organisation_id = $1 AND delivery_id = $2', [orgId, d.id]);
    if (!exists) throw new RelanceError(ERROR_CODES.VALIDATION, E('tracking_first'), { where: { field: 'tracking' } });
    const sha = p.content ? createHash('sha256').update(p.content).digest('hex') : null;
    await q.query(
      `INSERT INTO registered_letter_proofs (organisation_id, delivery_id, kind, at, content_type, content, sha256, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb)`,
      [orgId, d.id, p.kind, p.at.toISOString(), p.content ? (p.contentType ?? 'application/pdf') : null, p.content ?? null, sha, J(p.detail ?? {})],
    );
    const status = p.kind === 'deposit' ? 'deposited' : p.kind === 'receipt' ? 'delivered' : 'returned';
    await q.query('UPDATE registered_letters SET status = $3, updated_at = now() WHERE organisation_id = $1 AND delivery_id = $2', [orgId, d.id, status]);
    await q.query(`INSERT INTO delivery_events (organisation_id, action_id, delivery_id, kind, at, detail) VALUES ($1,$2,$3,$4,$5,$6::jsonb)`, [
      orgId,
      actionId,
      d.id,
      p.kind === 'deposit' ? 'deposited' : p.kind === 'receipt' ? 'receipt' : 'returned',
      p.at.toISOString(),
      J({ sha256: sha, ...(p.detail ?? {}) }),
    ]);
  }
}

// ------------------------------------------------------------------ evidence file

const M = defineMessages({
  title: { fr: 'Historique des relances', en: 'Dunning history' },
  customer: { fr: 'Client : {name} (n° {number})', en: 'Customer: {name} (no. {number})' },
  generated: { fr: 'Établi le {at} par Relance à partir de son registre des envois, qui ne peut être ni modifié ni effacé.', en: 'Produced on {at} by Relance from its record of messages sent, which cannot be modified or deleted.' },
  hash_note: {
    fr: 'Chaque message est conservé tel qu’il est parti ; son empreinte SHA-256 est indiquée. Les e-mails (.eml) sont joints en pièces attachées à la page qui les décrit ; les courriers sont reproduits en annexe.',
    en: 'Each message is kept exactly as it went out; its SHA-256 fingerprint is given. Emails (.eml) are attached to the page that describes them; letters are reproduced in the appendix.',
  },
  action: { fr: '{date} — {channel}, {template} : {status}', en: '{date} — {channel}, {template}: {status}' },
  written: { fr: 'Écrit le {at} par {provider} : rien n’est parti de Relance, à envoyer à la main', en: 'Written on {at} by {provider}: nothing left Relance, to be sent by hand' },
  invoices: { fr: 'Factures : {list}', en: 'Invoices: {list}' },
  delivery: { fr: 'Remis le {at} à {provider}', en: 'Handed over on {at} to {provider}' },
  recipients: { fr: 'Destinataires : {list}', en: 'Recipients: {list}' },
  subject: { fr: 'Objet : {s}', en: 'Subject: {s}' },
  message_id: { fr: 'Message-ID : {s}', en: 'Message-ID: {s}' },
  sha: { fr: 'SHA-256 : {s} ({n} octets)', en: 'SHA-256: {s} ({n} bytes)' },
  event: { fr: '{at} : {kind}{detail}', en: '{at}: {kind}{detail}' },
  appendix: { fr: 'Annexe {n} (courrier reproduit à la suite)', en: 'Appendix {n} (letter reproduced below)' },
  sms_text: { fr: 'Texte : « {s} »', en: 'Text: "{s}"' },
  calls: { fr: 'Appels', en: 'Calls' },
  call: { fr: '{at} — {outcome}{reason} ({by}){note}', en: '{at} — {outcome}{reason} ({by}){note}' },
  promised_on: { fr: 'paiement promis le {date}', en: 'payment promised on {date}' },
  none: { fr: 'Aucune relance enregistrée.', en: 'No reminder on record.' },
  tracking: { fr: 'Suivi : {s} ({status})', en: 'Tracking: {s} ({status})' },
});

/** Action statuses as the evidence file words them. */
const STATUS = defineMessages({
  planned: { fr: 'planifiée', en: 'planned' },
  awaiting_approval: { fr: 'à valider', en: 'awaiting approval' },
  queued: { fr: 'en file', en: 'queued' },
  sending: { fr: 'en cours d’envoi', en: 'sending' },
  sent: { fr: 'envoyée', en: 'sent' },
  exported: { fr: 'exportée, pas envoyée par Relance (envoi à la main non confirmé)', en: 'exported, not sent by Relance (sending by hand not confirmed)' },
  failed: { fr: 'en échec', en: 'failed' },
  uncertain: { fr: 'incertaine', en: 'uncertain' },
  cancelled: { fr: 'annulée', en: 'cancelled' },
} satisfies Record<ActionStatus, { fr: string; en: string }>);

export async function customerHistoryPdf(
  q: Queryable,
  orgId: string,
  customerId: bigint,
  now: Date,
): Promise<{ pdf: Buffer; actions: number; deliveries: number; sent: number; exported: number }> {
  const org = await getOrganisation(q, orgId);
  const customer = await getCustomer(q, orgId, customerId);
  const lang: Lang = customer.language === 'en' ? 'en' : org.language === 'en' ? 'en' : 'fr';
  const stamp = (iso: string) => new Date(iso).toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: org.timeZone, dateStyle: 'long', timeStyle: 'medium' });

  const actions = await q.query<Record<string, unknown>>(
    `SELECT a.id, a.planned_on, a.channel, a.template, a.status, a.status_reason,
            (SELECT string_agg(i.number, ', ' ORDER BY i.due_date) FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
              WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id) AS invoices
       FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = $2 ORDER BY a.planned_on, a.id`,
    [orgId, customerId],
  );
  const deliveries = await q.query<Record<string, unknown>>(
    `SELECT d.*, r.tracking_number, r.status AS tracking_status FROM deliveries d
       LEFT JOIN registered_letters r ON r.organisation_id = d.organisation_id AND r.delivery_id = d.id
      WHERE d.organisation_id = $1 AND d.customer_id = $2 ORDER BY d.id`,
    [orgId, customerId],
  );
  const events = await q.query<Record<string, unknown>>(
    `SELECT e.* FROM delivery_events e JOIN actions a ON a.organisation_id = e.organisation_id AND a.id = e.action_id
      WHERE e.organisation_id = $1 AND a.customer_id = $2 ORDER BY e.id`,
    [orgId, customerId],
  );
  const calls = await q.query<Record<string, unknown>>(
    'SELECT * FROM call_outcomes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY id',
    [orgId, customerId],
  );

  const { doc, bytes } = newPdf(`${t(M, lang, 'title')} — ${customer.legalName}`, lang, now);
  doc.font('bold').fontSize(16).text(t(M, lang, 'title'));
  doc.font('regular').fontSize(11).text(org.legalName);
  doc.text(t(M, lang, 'customer', { name: customer.legalName, number: customer.externalId ?? String(customer.id) }));
  doc.moveDown(0.3).fontSize(8.5).fillColor('#444444').text(t(M, lang, 'generated', { at: stamp(now.toISOString()) }));
  doc.text(t(M, lang, 'hash_note')).fillColor('black');
  doc.moveDown();
  if (actions.length === 0) doc.fontSize(10).text(t(M, lang, 'none'));

  const letters: Array<{ name: string; pdf: Buffer }> = [];
  for (const a of actions) {
    if (doc.y > 700) doc.addPage();
    doc.font('bold').fontSize(10).text(
      t(M, lang, 'action', {
        date: formatLongDate(a.planned_on as CalendarDate, lang),
        channel: channelWord(String(a.channel), lang),
        template: isTemplateKey(String(a.template)) ? t(TEMPLATE_LABELS, lang, a.template as keyof typeof TEMPLATE_LABELS) : String(a.template),
        status: `${t(STATUS, lang, a.status as ActionStatus)}${a.status_reason ? ` (${reasonText(String(a.status_reason), lang)})` : ''}`,
      }),
    );
    doc.font('regular').fontSize(8.5);
    if (a.invoices) doc.text(t(M, lang, 'invoices', { list: String(a.invoices) }));
    for (const d of deliveries.filter((x) => x.action_id === a.id)) {
      const content = Buffer.from(d.content as Uint8Array);
      const rec = (typeof d.recipients === 'string' ? JSON.parse(d.recipients) : d.recipients) as Record<string, unknown>;
      const list = [rec.to, rec.address, rec.phones].flat().filter(Boolean).join(', ') || String(rec.to ?? '');
      const written = events.some((e) => e.action_id === a.id && e.delivery_id === d.id && e.kind === 'exported');
      doc.text(t(M, lang, written ? 'written' : 'delivery', { at: stamp(String(d.handed_over_at)), provider: String(d.provider) }), { indent: 10 });
      doc.text(t(M, lang, 'recipients', { list }), { indent: 10 });
      if (d.subject) doc.text(t(M, lang, 'subject', { s: String(d.subject) }), { indent: 10 });
      if (d.message_id) doc.text(t(M, lang, 'message_id', { s: String(d.message_id) }), { indent: 10 });
      doc.text(t(M, lang, 'sha', { s: String(d.sha256), n: content.length }), { indent: 10 });
      if (d.tracking_number) doc.text(t(M, lang, 'tracking', { s: String(d.tracking_number), status: trackingWord(String(d.tracking_status), lang) }), { indent: 10 });
      if (d.channel === 'sms') doc.text(t(M, lang, 'sms_text', { s: content.toString('utf8') }), { indent: 10 });
      if (d.channel === 'email') {
        // The .eml itself rides in the PDF, on this page, as a file attachment.
        (doc as unknown as { fileAnnotation(x: number, y: number, w: number, h: number, f: object): void }).fileAnnotation(520, doc.y - 10, 12, 12, {
          src: content,
          name: `delivery-${d.id}.eml`,
          type: 'message/rfc822',
          description: String(d.message_id ?? ''),
        });
      }
      if (d.content_type === 'application/pdf') {
        letters.push({ name: `delivery ${d.id}`, pdf: content });
        doc.text(t(M, lang, 'appendix', { n: letters.length }), { indent: 10 });
      }
    }
    for (const e of events.filter((x) => x.action_id === a.id)) {
      const detail = (typeof e.detail === 'string' ? JSON.parse(e.detail) : e.detail) as Record<string, unknown>;
      const text = [detail.error, detail.reason, detail.response, detail.diagnostic].filter(Boolean).join(' ');
      doc.fillColor('#444444').text(t(M, lang, 'event', { at: stamp(String(e.at)), kind: eventWord(String(e.kind), lang), detail: text ? ` — ${text}` : '' }), { indent: 20 });
      doc.fillColor('black');
    }
    doc.moveDown(0.6);
  }
  if (calls.length) {
    doc.moveDown().font('bold').fontSize(11).text(t(M, lang, 'calls')).font('regular').fontSize(8.5);
    for (const c of calls) {
      doc.text(
        t(M, lang, 'call', {
          at: stamp(String(c.recorded_at)),
          outcome: callOutcomeWord(String(c.outcome), lang),
          reason: c.non_payment_reason ? `, ${nonPaymentWord(String(c.non_payment_reason), lang)}` : '',
          by: String(c.recorded_by),
          note: c.note
            ? ` — ${c.note}`
            : c.dispute_reason
              ? ` — ${c.dispute_reason}`
              : c.promised_on
                ? ` — ${t(M, lang, 'promised_on', { date: formatLongDate(c.promised_on as CalendarDate, lang) })}`
                : '',
        }),
      );
    }
  }
  doc.end();
  const main = await bytes;
  const pdf = letters.length ? mergePdfs([{ name: 'history', pdf: main }, ...letters], { title: `${t(M, lang, 'title')} — ${customer.legalName}` }) : main;
  const status = new Map(actions.map((a) => [String(a.id), String(a.status)]));
  const sent = deliveries.filter((d) => status.get(String(d.action_id)) === 'sent').length;
  const exported = deliveries.filter((d) => status.get(String(d.action_id)) === 'exported').length;
  return { pdf, actions: actions.length, deliveries: deliveries.length, sent, exported };
}
