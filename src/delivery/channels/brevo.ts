/**
 * SMS through Brevo (formerly Sendinblue), a French provider of transactional e-mail and SMS.
 * Its documented API (developers.brevo.com, "Send SMS message to a mobile number"):
 *
 *   POST https://api.brevo.com/v3/transactionalSMS/send
 *   api-key: <the account's API key>      accept: application/json      content-type: application/json
 *   {"sender": "ACME", "recipient": "33612345678", "content": "...", "type": "transactional",
 *    "tag": "relance", "unicodeEnabled": false}
 *
 *   201 {"messageId": 1511882900176220}
 *   400 {"code": "invalid_parameter", "message": "..."}   401 unauthorized   402 not enough credits
 *
 * The sender is at most 11 letters and digits; the recipient is the number with its country code,
 * without "+". A reminder is a transactional SMS (sent at any hour, no STOP code). Brevo takes no
 * idempotency key: an answer lost after the request went out is uncertain, for a human to check in
 * Brevo's logs, never sent again blindly. No credit left (402) is retried later: topping up the
 * account is enough.
 */
import { classifyHttpResult, type SendOutcome, smsSegments } from '../../domain/delivery.ts';
import { isOutcome, postJson } from './http.ts';
import type { HandOver, ProviderDef, SmsMessage, Transport } from './types.ts';

export const BREVO_API = 'https://api.brevo.com/v3';

export class BrevoSms implements Transport<SmsMessage> {
  readonly name = 'brevo';
  constructor(
    private readonly apiKey: string,
    private readonly baseUrl: string = BREVO_API,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async send(m: SmsMessage, handOver: HandOver): Promise<SendOutcome> {
    await handOver();
    const res = await postJson(this.fetchImpl, `${this.baseUrl.replace(/\/+$/, '')}/transactionalSMS/send`, {
      headers: { 'api-key': this.apiKey, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({
        sender: m.sender,
        recipient: m.to.replace(/^\+/, ''),
        content: m.text,
        type: 'transactional',
        tag: 'relance',
        unicodeEnabled: smsSegments(m.text).encoding === 'UCS-2',
      }),
      timeoutMs: 30_000,
    });
    if (isOutcome(res)) return res;
    let j: { messageId?: unknown; code?: unknown; message?: unknown } = {};
    try {
      j = JSON.parse(res.body) as typeof j;
    } catch {
      // an answer without JSON: its status says enough
    }
    if (res.status === 402) return { kind: 'temporary', error: `HTTP 402: no SMS credit left on the Brevo account${j.message ? ` (${String(j.message).slice(0, 200)})` : ''}` };
    const problem = classifyHttpResult({ status: res.status, requestSent: true, error: j.code ? `${String(j.code)}: ${String(j.message ?? '')}` : res.body });
    if (problem) return problem;
    const id = j.messageId === undefined || j.messageId === null ? null : String(j.messageId);
    return { kind: 'sent', providerMessageId: id, response: res.body.slice(0, 500) };
  }
}

export const brevoSms: ProviderDef<SmsMessage> = {
  key: 'brevo',
  label: { fr: 'Brevo (SMS transactionnels)', en: 'Brevo (transactional SMS)' },
  local: false,
  fields: [
    { key: 'apiKey', label: { fr: 'Clé d’API Brevo', en: 'Brevo API key' }, kind: 'text', secret: true, required: true },
    { key: 'sender', label: { fr: 'Expéditeur affiché (11 caractères au plus)', en: 'Sender shown (11 characters at most)' }, kind: 'text' },
    { key: 'url', label: { fr: 'Adresse de l’API (par défaut celle de Brevo)', en: 'API address (Brevo’s by default)' }, kind: 'url', default: BREVO_API },
  ],
  open: (cfg, ctx) => new BrevoSms(cfg.secrets.apiKey!, cfg.options.url ?? BREVO_API, ctx.fetch),
};
