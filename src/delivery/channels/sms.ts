/**
 * SMS providers. The HTTP adapter speaks a generic JSON API, the shape most gateways accept
 * (OVHcloud, Vonage, smsmode, or a small proxy in front of Twilio):
 *
 *   POST <sms_url>
 *   Authorization: Bearer <token>
 *   Idempotency-Key: <org>-<action>        (a gateway that honours it makes retries harmless)
 *   Content-Type: application/json
 *   {"from": "ACME", "to": "+33612345678", "text": "...", "reference": "action-<org>-<id>"}
 *
 *   2xx {"id": "<provider message id>"}    anything else: see classifyHttpResult
 *
 * The local default records the message (it is in the proof store like any other) and writes a
 * copy under <data>/outbox/<org>/sms/ so nothing leaves the machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyHttpResult, type SendOutcome } from '../../domain/delivery.ts';
import type { HandOver } from './email.ts';

export interface SmsMessage {
  to: string;
  text: string;
  sender: string | null;
  reference: string;
  idempotencyKey: string;
}

export interface SmsProvider {
  readonly name: string;
  send(m: SmsMessage, handOver: HandOver): Promise<SendOutcome>;
}

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
    writeFileSync(join(folder, `${m.reference}.txt`), `To: ${m.to}\nFrom: ${m.sender ?? ''}\n\n${m.text}\n`);
    return { kind: 'sent', providerMessageId: m.reference };
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
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': m.idempotencyKey,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ from: m.sender, to: m.to, text: m.text, reference: m.reference }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      // Refused before anything was sent: safe to retry. Anything else: the gateway may have it.
      const code = (e as { cause?: { code?: string } }).cause?.code;
      const requestSent = !(code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN');
      return classifyHttpResult({ requestSent, error: `${code ?? ''} ${(e as Error).message}`.trim() })!;
    }
    const body = await res.text().catch(() => '');
    const problem = classifyHttpResult({ status: res.status, requestSent: true, error: body });
    if (problem) return problem;
    let id: string | null = null;
    try {
      const j = JSON.parse(body) as { id?: unknown; messageId?: unknown; sid?: unknown };
      id = String(j.id ?? j.messageId ?? j.sid ?? '') || null;
    } catch {
      // a 2xx without JSON still means accepted
    }
    return { kind: 'sent', providerMessageId: id, response: body.slice(0, 500) };
  }
}
