/**
 * The SMS channel: the text of a reminder to the customer's mobile number (E.164), counted in
 * segments, and its providers. The sender shown is the provider's `sender` setting, else the
 * organisation's name as an alphanumeric sender ID: never empty.
 *
 * - local (default): writes what it would send under <data>/outbox/<org>/sms/<reference>.txt (To,
 *   From, text); nothing leaves, the action is `exported` (to send by hand, then confirmed).
 * - http: a generic JSON API, the shape most gateways accept (or a small proxy in front of one):
 *
 *     POST <url>
 *     Authorization: Bearer <token>
 *     Idempotency-Key: <org>-<action>        (a gateway that honours it makes retries harmless)
 *     Content-Type: application/json
 *     {"from": "ACME", "to": "+33612345678", "text": "...", "reference": "action-<org>-<id>"}
 *
 *     2xx {"id": "<provider message id>"}    anything else: see classifyHttpResult
 *
 * - brevo: Brevo's transactional SMS API (./brevo.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNEL_SPECS } from '../../domain/channels.ts';
import { classifyHttpResult, normaliseE164, type SendOutcome, smsSegments, smsSenderId } from '../../domain/delivery.ts';
import { brevoSms } from './brevo.ts';
import { isOutcome, postJson } from './http.ts';
import { type Channel, type HandOver, PermanentContentError, type ProviderDef, type RenderedSms, type SmsMessage, type Transport } from './types.ts';

export type { SmsMessage } from './types.ts';
export type SmsProvider = Transport<SmsMessage>;

export class LocalSms implements SmsProvider {
  readonly name = 'local-sms';
  constructor(
    private readonly dir: string,
    private readonly orgId: string,
  ) {}
  async send(m: SmsMessage, handOver: HandOver): Promise<SendOutcome> {
    await handOver();
    const folder = join(this.dir, this.orgId, 'sms');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `${m.reference}.txt`);
    writeFileSync(file, `To: ${m.to}\nFrom: ${m.sender}\n\n${m.text}\n`);
    return { kind: 'exported', providerMessageId: m.reference, location: file };
  }
}

export class HttpSms implements SmsProvider {
  readonly name: string;
  constructor(
    private readonly url: string,
    private readonly token: string | null,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.name = `http-sms:${new URL(url).host}`;
  }

  async send(m: SmsMessage, handOver: HandOver): Promise<SendOutcome> {
    await handOver();
    const res = await postJson(this.fetchImpl, this.url, {
      headers: { 'content-type': 'application/json', 'idempotency-key': m.idempotencyKey, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ from: m.sender, to: m.to, text: m.text, reference: m.reference }),
      timeoutMs: 30_000,
    });
    if (isOutcome(res)) return res;
    const problem = classifyHttpResult({ status: res.status, requestSent: true, error: res.body });
    if (problem) return problem;
    let id: string | null = null;
    try {
      const j = JSON.parse(res.body) as { id?: unknown; messageId?: unknown; sid?: unknown };
      id = String(j.id ?? j.messageId ?? j.sid ?? '') || null;
    } catch {
      // a 2xx without JSON still means accepted
    }
    return { kind: 'sent', providerMessageId: id, response: res.body.slice(0, 500) };
  }
}

const SENDER = { key: 'sender', label: { fr: 'Expéditeur affiché (11 caractères au plus)', en: 'Sender shown (11 characters at most)' }, kind: 'text' } as const;

const localSms: ProviderDef<SmsMessage> = {
  key: 'local',
  label: { fr: 'Local (fichiers texte, rien ne part)', en: 'Local (text files, nothing leaves)' },
  local: true,
  fields: [SENDER],
  open: (_cfg, ctx) => new LocalSms(ctx.outboxDir, ctx.orgId),
};

const httpSms: ProviderDef<SmsMessage> = {
  key: 'http',
  label: { fr: 'Passerelle HTTP (JSON générique)', en: 'HTTP gateway (generic JSON)' },
  local: false,
  fields: [
    { key: 'url', label: { fr: 'URL de la passerelle', en: 'Gateway URL' }, kind: 'url', required: true },
    { key: 'token', label: { fr: 'Jeton (Bearer)', en: 'Token (Bearer)' }, kind: 'text', secret: true },
    SENDER,
  ],
  open: (cfg, ctx) => new HttpSms(cfg.options.url!, cfg.secrets.token ?? null, ctx.fetch),
};

export const smsChannel: Channel<RenderedSms, SmsMessage> = {
  key: 'sms',
  spec: CHANNEL_SPECS.sms,
  pickContact: (contacts) => {
    const c = contacts.find((x) => x.phone && !x.invalidPhone);
    if (!c) throw new PermanentContentError('the customer has no phone number for SMS', true);
    return c;
  },
  async render(x) {
    const to = normaliseE164(x.contact.phone!, { field: `contacts[${x.contact.id}].phone` });
    const text = x.composed.text ?? '';
    return { channel: 'sms', subject: null, to, text, segments: smsSegments(text), recipients: { to, contact: x.contact.name }, invoices: x.invoices };
  },
  delivery: {
    providers: [localSms, httpSms, brevoSms],
    message: (r, x) => ({
      to: r.to,
      text: r.text,
      sender: smsSenderId(x.settings.providers.sms?.options.sender, x.org.legalName),
      reference: `action-${x.action.orgId}-${x.action.id}`,
      idempotencyKey: `${x.action.orgId}-${x.action.id}`,
    }),
    content: (r, x) => ({ recipients: r.recipients, subject: null, messageId: `action-${x.action.orgId}-${x.action.id}`, contentType: 'text/plain; charset=utf-8', content: Buffer.from(r.text, 'utf8') }),
    badAddress: (r) => ({ kind: 'phone', values: [r.to] }),
    async extras({ q, orgId, deliveryId, rendered, outcome, provider }) {
      if (outcome.kind !== 'sent' && outcome.kind !== 'uncertain' && outcome.kind !== 'exported') return;
      await q.query(
        `INSERT INTO sms_messages (organisation_id, delivery_id, to_number, encoding, segments, provider, provider_message_id) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
        [orgId, deliveryId, rendered.to, rendered.segments.encoding, rendered.segments.segments, provider, outcome.kind === 'uncertain' ? null : outcome.providerMessageId],
      );
    },
  },
};
