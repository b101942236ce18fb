/**
 * Registered letters (lettre recommandée avec accusé de réception, or its electronic equivalent
 * LRE). The provider gets the letter's PDF and the postal address and answers with a tracking
 * number; the proofs (deposit slip, signed acknowledgement of receipt) arrive later and are stored
 * with recordRegisteredProof.
 *
 * HTTP adapter (generic JSON, the shape of the common LRE / postal APIs):
 *   POST <registered_url>   Authorization: Bearer <token>   Idempotency-Key: <org>-<action>
 *   {"reference", "recipient": {"name", "lines": [...], "country"}, "sender": {...}, "document": "<base64 PDF>"}
 *   2xx {"trackingNumber": "1A...", "proof": "<base64 PDF, optional>"}
 *
 * The local default gives a provisional tracking number (LOCAL-...); the letter is printed with the
 * day's batch (`relance letters`) and posted at the counter, and the real number is entered with
 * `relance outbox registered --action ID --tracking ...`.
 */
import { classifyHttpResult, type SendOutcome } from '../../domain/delivery.ts';
import type { HandOver } from './email.ts';

export interface RegisteredLetter {
  reference: string;
  idempotencyKey: string;
  recipient: { name: string; lines: string[]; country: string | null };
  sender: { name: string; lines: string[] };
  pdf: Buffer;
}

export type RegisteredOutcome = SendOutcome & { trackingNumber?: string; proof?: Buffer | null };

export interface RegisteredProvider {
  readonly name: string;
  send(l: RegisteredLetter, handOver: HandOver): Promise<RegisteredOutcome>;
}

export class LocalRegistered implements RegisteredProvider {
  readonly name = 'local';
  async send(l: RegisteredLetter, handOver: HandOver): Promise<RegisteredOutcome> {
    await handOver();
    return { kind: 'sent', providerMessageId: l.reference, trackingNumber: `LOCAL-${l.reference}` };
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
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': l.idempotencyKey,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ reference: l.reference, recipient: l.recipient, sender: l.sender, document: l.pdf.toString('base64') }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code;
      const requestSent = !(code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN');
      return classifyHttpResult({ requestSent, error: `${code ?? ''} ${(e as Error).message}`.trim() })!;
    }
    const body = await res.text().catch(() => '');
    const problem = classifyHttpResult({ status: res.status, requestSent: true, error: body });
    if (problem) return problem;
    try {
      const j = JSON.parse(body) as { trackingNumber?: string; id?: string; proof?: string };
      if (!j.trackingNumber) return { kind: 'uncertain', error: 'the provider accepted the letter without a tracking number' };
      return { kind: 'sent', providerMessageId: j.id ?? j.trackingNumber, trackingNumber: j.trackingNumber, proof: j.proof ? Buffer.from(j.proof, 'base64') : null };
    } catch {
      return { kind: 'uncertain', error: 'the provider answered 2xx without a readable tracking number' };
    }
  }
}
