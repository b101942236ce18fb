/**
 * Registered letters through Maileva (Docaposte, La Poste group): its "Lettre Recommandée En
 * Ligne" API, registered_mail v2, as its public OpenAPI description documents it. Maileva prints,
 * envelopes and posts the letter; the postman delivers it against signature.
 *
 * 1. A token (OAuth 2 password grant, kept until shortly before it expires):
 *      POST <auth>/auth/realms/services/protocol/openid-connect/token
 *      Authorization: Basic base64(client_id:client_secret)
 *      grant_type=password&username=...&password=...          → {"access_token", "expires_in"}
 * 2. A draft sending with its options and the sender's address (Authorization: Bearer <token>):
 *      POST <api>/sendings {"name", "custom_id", "acknowledgement_of_receipt": true,
 *        "color_printing", "duplex_printing", "optional_address_sheet", "notification_email",
 *        "sender_address_line_1".."_6", "sender_country_code", "archiving_duration"}  → 201 {"id", "status": "DRAFT"}
 * 3. The letter:     POST <api>/sendings/{id}/documents   multipart: document (the PDF), metadata {"priority": 1, "name"}
 * 4. The recipient:  POST <api>/sendings/{id}/recipients {"custom_id", "address_line_1".."_6", "country_code"}
 *      (lines of 38 characters at most; line 6 "<5-digit postal code> <city>" in France)
 * 5. Submission:     POST <api>/sendings/{id}/submit → 200; "a submitted sending cannot be cancelled".
 *
 * Errors come as {"code", "message"} or {"errors": [{"code", "message"}]} (e.g.
 * ADDRESS_LINE_6_WRONG_FORMAT). Steps 1 to 4 prepare a draft that nobody receives: a failure there
 * leaves nothing sent (the draft is deleted, the attempt classified as usual). The hand-over is
 * committed just before step 5, the only one that reaches the debtor: no answer to it is uncertain.
 * The registered number (numéro de recommandé) is given once Maileva has processed the letter; the
 * action keeps "<sending id>/<recipient id>" as the provider's id to look it up.
 */
import { classifyHttpResult, type SendOutcome } from '../../domain/delivery.ts';
import { type HttpAnswer, isOutcome, request } from './http.ts';
import type { HandOver, ProviderDef, ProviderOutcome, RegisteredLetter, Transport } from './types.ts';

export const MAILEVA_API = 'https://api.maileva.com/registered_mail/v2';
export const MAILEVA_AUTH = 'https://connexion.maileva.com/auth/realms/services/protocol/openid-connect/token';

export interface MailevaOptions {
  apiUrl: string;
  authUrl: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  notificationEmail: string;
  colorPrinting: boolean;
}

/** The first problem of a Maileva error body, as "CODE: message". */
function mailevaError(body: string): string {
  try {
    const j = JSON.parse(body) as { code?: string; message?: string; errors?: Array<{ code?: string; message?: string }> };
    const e = j.errors?.[0] ?? j;
    if (e.code || e.message) return `${e.code ?? 'error'}: ${e.message ?? ''}`.trim();
  } catch {
    // not JSON
  }
  return body.slice(0, 300);
}

const line = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

export class MailevaRegistered implements Transport<RegisteredLetter> {
  readonly name = 'maileva';
  private token: { value: string; until: number } | null = null;

  constructor(
    private readonly o: MailevaOptions,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly clock: () => number = Date.now,
  ) {}

  private async accessToken(): Promise<string | SendOutcome> {
    if (this.token && this.clock() < this.token.until) return this.token.value;
    const res = await request(this.fetchImpl, this.o.authUrl, {
      headers: { authorization: `Basic ${Buffer.from(`${this.o.clientId}:${this.o.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: this.o.username, password: this.o.password }).toString(),
      timeoutMs: 30_000,
    });
    // Nothing reaches the debtor by asking for a token: whatever happens, nothing was sent.
    if (isOutcome(res)) return { kind: 'temporary', error: `Maileva authentication: ${res.kind === 'uncertain' ? res.error : res.kind === 'temporary' || res.kind === 'permanent' ? res.error : ''}` };
    if (res.status === 400 || res.status === 401) return { kind: 'permanent', error: `Maileva refused the credentials (HTTP ${res.status}): check the client id and secret, user and password` };
    const problem = classifyHttpResult({ status: res.status, requestSent: true, error: res.body });
    if (problem) return { kind: 'temporary', error: `Maileva authentication: ${'error' in problem ? problem.error : ''}` };
    try {
      const j = JSON.parse(res.body) as { access_token?: string; expires_in?: number };
      if (!j.access_token) return { kind: 'temporary', error: 'Maileva authentication answered without a token' };
      this.token = { value: j.access_token, until: this.clock() + Math.max(0, (j.expires_in ?? 300) - 60) * 1000 };
      return j.access_token;
    } catch {
      return { kind: 'temporary', error: 'Maileva authentication answered without a readable token' };
    }
  }

  /** A call that prepares the draft: any failure means nothing was sent (temporary or permanent, never uncertain). */
  private async prepare(token: string, path: string, body: string | FormData, json = true): Promise<HttpAnswer | SendOutcome> {
    const res = await request(this.fetchImpl, `${this.o.apiUrl.replace(/\/+$/, '')}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(json ? { 'content-type': 'application/json' } : {}) },
      body,
      timeoutMs: 60_000,
    });
    if (isOutcome(res)) return { kind: 'temporary', error: `Maileva ${path}: ${'error' in res ? res.error : ''}` };
    if (res.status === 401) this.token = null;
    if (res.status >= 200 && res.status < 300) return res;
    const error = `Maileva ${path}: HTTP ${res.status} ${mailevaError(res.body)}`;
    return res.status >= 500 || res.status === 429 || res.status === 401 ? { kind: 'temporary', error } : { kind: 'permanent', error };
  }

  private async discard(token: string, sendingId: string) {
    await request(this.fetchImpl, `${this.o.apiUrl.replace(/\/+$/, '')}/sendings/${encodeURIComponent(sendingId)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: 15_000,
    });
  }

  async send(l: RegisteredLetter, handOver: HandOver): Promise<ProviderOutcome> {
    const token = await this.accessToken();
    if (typeof token !== 'string') return token;
    const ref = l.idempotencyKey.replace(/^(.{8}).*-(\d+)$/, '$1-$2').slice(0, 32);
    const s = l.sender;
    const created = await this.prepare(
      token,
      '/sendings',
      JSON.stringify({
        name: (l.subject || l.reference).slice(0, 256),
        custom_id: ref,
        acknowledgement_of_receipt: true,
        color_printing: this.o.colorPrinting,
        duplex_printing: false,
        optional_address_sheet: false,
        notification_email: this.o.notificationEmail,
        sender_address_line_1: line(s.name).slice(0, 38),
        sender_address_line_4: line(s.street),
        sender_address_line_5: line(s.street2),
        sender_address_line_6: line([s.postalCode, s.city].filter(Boolean).join(' ')),
        sender_country_code: s.country,
        archiving_duration: 6,
      }),
    );
    if (isOutcome(created)) return created;
    let sendingId: string;
    try {
      sendingId = String((JSON.parse(created.body) as { id?: string }).id ?? '');
    } catch {
      sendingId = '';
    }
    if (!sendingId) return { kind: 'temporary', error: 'Maileva created the sending without giving its id' };

    const form = new FormData();
    form.append('document', new Blob([l.pdf], { type: 'application/pdf' }), `${ref}.pdf`);
    form.append('metadata', new Blob([JSON.stringify({ priority: 1, name: `${ref}.pdf` })], { type: 'application/json' }));
    const doc = await this.prepare(token, `/sendings/${encodeURIComponent(sendingId)}/documents`, form, false);
    if (isOutcome(doc)) {
      await this.discard(token, sendingId);
      return doc;
    }
    const r = l.recipient;
    const recipient = await this.prepare(
      token,
      `/sendings/${encodeURIComponent(sendingId)}/recipients`,
      JSON.stringify({
        custom_id: ref,
        address_line_1: line(r.name),
        address_line_2: line(r.attention),
        address_line_4: line(r.street),
        address_line_5: line(r.street2),
        address_line_6: line(`${r.postalCode} ${r.city}`),
        country_code: r.country || 'FR',
      }),
    );
    if (isOutcome(recipient)) {
      await this.discard(token, sendingId);
      // The address itself was refused: the step goes to its fallback, the address is for a human to fix.
      return recipient;
    }
    let recipientId = '';
    try {
      recipientId = String((JSON.parse(recipient.body) as { id?: string }).id ?? '');
    } catch {
      // the id only serves to look the letter up later
    }

    // From here the letter reaches the debtor: commit the hand-over first.
    await handOver();
    const submitted = await request(this.fetchImpl, `${this.o.apiUrl.replace(/\/+$/, '')}/sendings/${encodeURIComponent(sendingId)}/submit`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      timeoutMs: 60_000,
    });
    if (isOutcome(submitted)) return submitted;
    const problem = classifyHttpResult({ status: submitted.status, requestSent: true, error: mailevaError(submitted.body) });
    if (problem) return problem;
    return { kind: 'sent', providerMessageId: `${sendingId}/${recipientId}`, response: `Maileva sending ${sendingId} submitted` };
  }
}

export const mailevaRegistered: ProviderDef<RegisteredLetter> = {
  key: 'maileva',
  label: { fr: 'Maileva (lettre recommandée en ligne, La Poste)', en: 'Maileva (online registered letter, La Poste)' },
  local: false,
  fields: [
    { key: 'clientId', label: { fr: 'Identifiant client (client_id)', en: 'Client id' }, kind: 'text', required: true },
    { key: 'clientSecret', label: { fr: 'Secret client (client_secret)', en: 'Client secret' }, kind: 'text', secret: true, required: true },
    { key: 'username', label: { fr: 'Identifiant du compte Maileva', en: 'Maileva account login' }, kind: 'text', required: true },
    { key: 'password', label: { fr: 'Mot de passe du compte Maileva', en: 'Maileva account password' }, kind: 'text', secret: true, required: true },
    { key: 'notificationEmail', label: { fr: 'E-mail des notifications et preuves de dépôt', en: 'E-mail for notifications and deposit proofs' }, kind: 'email', required: true },
    { key: 'colorPrinting', label: { fr: 'Impression couleur (oui / non)', en: 'Colour printing (yes / no)' }, kind: 'text', default: 'non' },
    { key: 'url', label: { fr: 'Adresse de l’API (par défaut la production)', en: 'API address (production by default)' }, kind: 'url', default: MAILEVA_API },
    { key: 'authUrl', label: { fr: 'Adresse d’authentification', en: 'Authentication address' }, kind: 'url', default: MAILEVA_AUTH },
  ],
  open: (cfg, ctx) =>
    new MailevaRegistered(
      {
        apiUrl: cfg.options.url ?? MAILEVA_API,
        authUrl: cfg.options.authUrl ?? MAILEVA_AUTH,
        clientId: cfg.options.clientId!,
        clientSecret: cfg.secrets.clientSecret!,
        username: cfg.options.username!,
        password: cfg.secrets.password!,
        notificationEmail: cfg.options.notificationEmail!,
        colorPrinting: /^(oui|yes|true|1)$/i.test(cfg.options.colorPrinting ?? ''),
      },
      ctx.fetch,
    ),
};
