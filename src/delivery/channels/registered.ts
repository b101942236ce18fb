/**
 * Registered letters (lettre recommandée avec accusé de réception, or its online equivalent). The
 * provider gets the letter's PDF and the postal address and answers with a tracking number, now or
 * later; the proofs (deposit slip, signed acknowledgement of receipt) arrive later and are stored
 * with recordRegisteredProof.
 *
 * - local (default): the letter joins the day's print batch with a provisional tracking number
 *   (LOCAL-...) and is `exported`: it is posted at the counter, and entering the real number
 *   (`relance outbox registered --action ID --tracking ...`) records it as sent.
 * - http: a generic JSON API (the shape of the common online registered-mail APIs):
 *     POST <url>   Authorization: Bearer <token>   Idempotency-Key: <org>-<action>
 *     {"reference", "recipient": {"name", "lines": [...], "country"}, "sender": {...}, "document": "<base64 PDF>"}
 *     2xx {"trackingNumber": "1A...", "proof": "<base64 PDF, optional>"}
 * - maileva: Maileva's online registered letter API (./maileva.ts).
 */
import { createHash } from 'node:crypto';
import { CHANNEL_SPECS } from '../../domain/channels.ts';
import { classifyHttpResult } from '../../domain/delivery.ts';
import { isOutcome, postJson } from './http.ts';
import { letterContent, pickPostalContact, renderLetter } from './letters.ts';
import { mailevaRegistered } from './maileva.ts';
import type { Channel, HandOver, ProviderDef, ProviderOutcome, RegisteredLetter, RenderedLetter, Transport } from './types.ts';

export type { RegisteredLetter } from './types.ts';

export type RegisteredOutcome = ProviderOutcome;
export type RegisteredProvider = Transport<RegisteredLetter>;

export class LocalRegistered implements RegisteredProvider {
  readonly name = 'local';
  async send(l: RegisteredLetter, handOver: HandOver): Promise<RegisteredOutcome> {
    await handOver();
    return { kind: 'exported', providerMessageId: l.reference, location: 'print batch', trackingNumber: `LOCAL-${l.reference}` };
  }
}

export class HttpRegistered implements RegisteredProvider {
  readonly name: string;
  constructor(
    private readonly url: string,
    private readonly token: string | null,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.name = `http:${new URL(url).host}`;
  }

  async send(l: RegisteredLetter, handOver: HandOver): Promise<RegisteredOutcome> {
    await handOver();
    const res = await postJson(this.fetchImpl, this.url, {
      headers: { 'content-type': 'application/json', 'idempotency-key': l.idempotencyKey, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({
        reference: l.reference,
        recipient: { name: l.recipient.name, lines: l.recipient.lines, country: l.recipient.country },
        sender: { name: l.sender.name, lines: l.sender.lines },
        document: l.pdf.toString('base64'),
      }),
      timeoutMs: 60_000,
    });
    if (isOutcome(res)) return res;
    const problem = classifyHttpResult({ status: res.status, requestSent: true, error: res.body });
    if (problem) return problem;
    try {
      const j = JSON.parse(res.body) as { trackingNumber?: string; id?: string; proof?: string };
      if (!j.trackingNumber) return { kind: 'uncertain', error: 'the provider accepted the letter without a tracking number' };
      return { kind: 'sent', providerMessageId: j.id ?? j.trackingNumber, trackingNumber: j.trackingNumber, proof: j.proof ? Buffer.from(j.proof, 'base64') : null };
    } catch {
      return { kind: 'uncertain', error: 'the provider answered 2xx without a readable tracking number' };
    }
  }
}

const localRegistered: ProviderDef<RegisteredLetter> = {
  key: 'local',
  label: { fr: 'Au guichet (lot d’impression, numéro de suivi saisi ensuite)', en: 'At the post office (print batch, tracking number entered afterwards)' },
  local: true,
  fields: [],
  open: () => new LocalRegistered(),
};

const httpRegistered: ProviderDef<RegisteredLetter> = {
  key: 'http',
  label: { fr: 'API HTTP (JSON générique)', en: 'HTTP API (generic JSON)' },
  local: false,
  fields: [
    { key: 'url', label: { fr: 'URL de l’API', en: 'API URL' }, kind: 'url', required: true },
    { key: 'token', label: { fr: 'Jeton (Bearer)', en: 'Token (Bearer)' }, kind: 'text', secret: true },
  ],
  open: (cfg, ctx) => new HttpRegistered(cfg.options.url!, cfg.secrets.token ?? null, ctx.fetch),
};

export const registeredChannel: Channel<RenderedLetter, RegisteredLetter> = {
  key: 'registered_letter',
  spec: CHANNEL_SPECS.registered_letter,
  pickContact: pickPostalContact,
  render: (x) => renderLetter('registered_letter', x),
  delivery: {
    providers: [localRegistered, httpRegistered, mailevaRegistered],
    message: (r, x) => {
      const o = x.org;
      const place = [o.postalCode, o.city].filter(Boolean).join(' ');
      return {
        reference: `action-${x.action.orgId}-${x.action.id}`,
        idempotencyKey: `${x.action.orgId}-${x.action.id}`,
        recipient: r.address,
        sender: {
          name: o.legalName,
          lines: [o.addressLine1, o.addressLine2, place].filter((v): v is string => Boolean(v)),
          street: o.addressLine1 ?? null,
          street2: o.addressLine2 ?? null,
          postalCode: o.postalCode ?? null,
          city: o.city ?? null,
          country: o.country || 'FR',
        },
        subject: r.subject,
        pdf: r.pdf,
      };
    },
    content: letterContent,
    async extras({ q, orgId, deliveryId, outcome, provider, now }) {
      if ((outcome.kind !== 'sent' && outcome.kind !== 'exported') || !outcome.trackingNumber) return;
      await q.query(`INSERT INTO registered_letters (organisation_id, delivery_id, provider, tracking_number) VALUES ($1,$2,$3,$4)`, [orgId, deliveryId, provider, outcome.trackingNumber]);
      if (outcome.proof) {
        await q.query(
          `INSERT INTO registered_letter_proofs (organisation_id, delivery_id, kind, at, content_type, content, sha256) VALUES ($1,$2,'deposit',$3,'application/pdf',$4,$5)`,
          [orgId, deliveryId, now.toISOString(), outcome.proof, createHash('sha256').update(outcome.proof).digest('hex')],
        );
      }
    },
  },
};
