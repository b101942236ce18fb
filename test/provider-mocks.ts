/**
 * Local stand-ins for the providers' documented HTTP APIs (no network): each checks what the
 * provider's documentation requires of a request, answers as it documents, and records what it got.
 *
 * - Brevo transactional SMS: POST /v3/transactionalSMS/send with the `api-key` header and
 *   {sender, recipient, content, type}; 201 {messageId}; 401 without the right key; 400
 *   {code, message} for a bad parameter (sender over 11 characters, recipient not digits).
 * - Maileva registered_mail v2: the OAuth 2 password grant (Basic client credentials), then
 *   POST /sendings, POST /sendings/{id}/documents (multipart: document + metadata),
 *   POST /sendings/{id}/recipients (address lines of 38 characters at most, line 6 "<5 digits> <city>"
 *   for France), POST /sendings/{id}/submit; DELETE /sendings/{id} for a draft. Errors as
 *   {"errors": [{"code", "message"}]}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface MockServer {
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

const send = (res: ServerResponse, status: number, body?: unknown) => {
  res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
  res.end(body === undefined ? undefined : JSON.stringify(body));
};

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void readBody(req).then((body) => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const closing = (server: Server) => () =>
  new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

// ------------------------------------------------------------------ Brevo

export interface BrevoMock extends MockServer {
  /** The SMS Brevo accepted. */
  sent: Array<{ sender: string; recipient: string; content: string; type: string; unicodeEnabled?: boolean; tag?: string }>;
  /** Next answers to give instead of accepting: 'no_credit' (402), 'drop' (connection closed after reading). */
  next: Array<'no_credit' | 'drop'>;
}

export async function brevoMock(apiKey: string): Promise<BrevoMock> {
  const state: BrevoMock = { url: '', sent: [], next: [], close: async () => {} };
  let id = 1511882900176220;
  const { server, url } = await listen((req, res, raw) => {
    if (req.method !== 'POST' || req.url !== '/v3/transactionalSMS/send') return send(res, 404, { code: 'not_found', message: 'Not found' });
    if (req.headers['api-key'] !== apiKey) return send(res, 401, { code: 'unauthorized', message: 'Key not found' });
    if (!String(req.headers['content-type']).startsWith('application/json')) return send(res, 400, { code: 'bad_request', message: 'content-type' });
    const next = state.next.shift();
    if (next === 'drop') {
      req.socket.destroy();
      return;
    }
    if (next === 'no_credit') return send(res, 402, { code: 'not_enough_credits', message: 'Not enough credits' });
    const b = JSON.parse(raw.toString('utf8')) as BrevoMock['sent'][number];
    if (!b.sender || !/^([A-Za-z0-9 ]{1,11}|\d{1,15})$/.test(b.sender)) return send(res, 400, { code: 'invalid_parameter', message: 'sender is invalid' });
    if (!/^\d{6,15}$/.test(b.recipient ?? '')) return send(res, 400, { code: 'invalid_parameter', message: 'recipient is invalid' });
    if (!b.content) return send(res, 400, { code: 'missing_parameter', message: 'content is missing' });
    if (b.type !== undefined && b.type !== 'transactional' && b.type !== 'marketing') return send(res, 400, { code: 'invalid_parameter', message: 'type is invalid' });
    state.sent.push(b);
    send(res, 201, { messageId: id++ });
  });
  state.url = `${url}/v3`;
  state.close = closing(server);
  return state;
}

// ------------------------------------------------------------------ Maileva

export interface MailevaSending {
  id: string;
  body: Record<string, unknown>;
  documents: Array<{ name: string; priority: number; pdf: Buffer }>;
  recipients: Array<Record<string, unknown> & { id: string }>;
  status: 'DRAFT' | 'PENDING';
  deleted: boolean;
}

export interface MailevaMock extends MockServer {
  authUrl: string;
  apiUrl: string;
  sendings: MailevaSending[];
  tokensIssued: number;
  /** 'drop_submit': the connection closes when the submission arrives (after recording it). */
  next: Array<'drop_submit'>;
}

const LINE = /^address_line_[1-6]$/;

export async function mailevaMock(creds: { clientId: string; clientSecret: string; username: string; password: string }): Promise<MailevaMock> {
  const state: MailevaMock = { url: '', authUrl: '', apiUrl: '', sendings: [], tokensIssued: 0, next: [], close: async () => {} };
  const tokens = new Set<string>();
  const error = (res: ServerResponse, status: number, code: string, message: string) => send(res, status, { errors: [{ code, message }] });
  const { server, url } = await listen(async (req, res, raw) => {
    const path = req.url ?? '';
    if (path === '/auth/realms/services/protocol/openid-connect/token') {
      const basic = Buffer.from(`${creds.clientId}:${creds.clientSecret}`).toString('base64');
      const form = new URLSearchParams(raw.toString('utf8'));
      if (req.headers.authorization !== `Basic ${basic}`) return send(res, 401, { error: 'invalid_client' });
      if (form.get('grant_type') !== 'password' || form.get('username') !== creds.username || form.get('password') !== creds.password) return send(res, 400, { error: 'invalid_grant' });
      const token = `tok-${++state.tokensIssued}`;
      tokens.add(token);
      return send(res, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
    }
    const m = /^\/registered_mail\/v2\/sendings(?:\/([^/]+))?(?:\/(documents|recipients|submit))?$/.exec(path);
    if (!m) return error(res, 404, 'NOT_FOUND', path);
    if (!tokens.has(String(req.headers.authorization).replace(/^Bearer /, ''))) return error(res, 401, 'UNAUTHORIZED', 'token');
    const [, id, sub] = m;
    if (!id && req.method === 'POST') {
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (!body.name) return error(res, 400, 'EMPTY_NAME', 'Aucun nom d’envoi n’a été transmis');
      if (!body.notification_email) return error(res, 400, 'INVALID_NOTIFICATION_EMAIL', 'L’email est invalide.');
      if (typeof body.custom_id === 'string' && body.custom_id.length > 38) return error(res, 400, 'CUSTOM_ID_WRONG_FORMAT', 'custom id');
      const s: MailevaSending = { id: `sending-${state.sendings.length + 1}`, body, documents: [], recipients: [], status: 'DRAFT', deleted: false };
      state.sendings.push(s);
      return send(res, 201, { id: s.id, name: body.name, status: 'DRAFT' });
    }
    const s = state.sendings.find((x) => x.id === id && !x.deleted);
    if (!s) return error(res, 404, 'SENDING_NOT_FOUND', String(id));
    if (!sub && req.method === 'DELETE') {
      if (s.status !== 'DRAFT') return error(res, 400, 'SENDING_NOT_DRAFT', 'submitted');
      s.deleted = true;
      return send(res, 204);
    }
    if (sub === 'documents' && req.method === 'POST') {
      const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: raw }).formData();
      const doc = form.get('document');
      const meta = form.get('metadata');
      if (!(doc instanceof Blob) || doc.size === 0) return error(res, 400, 'EMPTY_DOCUMENT', 'Le document est vide');
      const pdf = Buffer.from(await doc.arrayBuffer());
      if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') return error(res, 400, 'DOCUMENT_TYPE_NOT_ACCEPTED', 'type');
      const md = JSON.parse(meta instanceof Blob ? await meta.text() : String(meta ?? '{}')) as { priority?: number; name?: string };
      if (!md.priority) return error(res, 400, 'EMPTY_PRIORITY', 'Le champ priority est vide');
      s.documents.push({ name: md.name ?? 'document.pdf', priority: md.priority, pdf });
      return send(res, 201, { id: `doc-${s.documents.length}`, priority: md.priority, name: md.name, type: 'application/pdf', size: pdf.length });
    }
    if (sub === 'recipients' && req.method === 'POST') {
      const r = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      for (const [k, v] of Object.entries(r)) {
        if (LINE.test(k) && typeof v === 'string' && v.length > 38) return error(res, 400, `${k.toUpperCase()}_TOO_LONG`, `La ligne d’adresse est limitée à 38 caractères`);
      }
      if (!r.address_line_1 && !r.address_line_2) return error(res, 400, 'EMPTY_ADDRESS_LINE_1_OR_ADDRESS_LINE_2', 'ligne 1 ou 2');
      if (!r.address_line_6) return error(res, 400, 'EMPTY_ADDRESS_LINE_6', 'ligne 6');
      if ((r.country_code ?? 'FR') === 'FR' && !/^\d{5} \S/.test(String(r.address_line_6))) {
        return error(res, 400, 'ADDRESS_LINE_6_WRONG_FORMAT', 'Le champ address_line_6 doit avoir le format [CODE_POSTAL] [VILLE]');
      }
      const rec = { ...r, id: `recipient-${s.recipients.length + 1}` };
      s.recipients.push(rec);
      return send(res, 201, { ...rec, status: 'DRAFT' });
    }
    if (sub === 'submit' && req.method === 'POST') {
      if (s.documents.length === 0 || s.recipients.length === 0) return error(res, 400, 'INVALID_SENDING', 'no document or recipient');
      s.status = 'PENDING';
      if (state.next[0] === 'drop_submit') {
        state.next.shift();
        req.socket.destroy();
        return;
      }
      return send(res, 200);
    }
    error(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} ${path}`);
  });
  state.url = url;
  state.authUrl = `${url}/auth/realms/services/protocol/openid-connect/token`;
  state.apiUrl = `${url}/registered_mail/v2`;
  state.close = closing(server);
  return state;
}

// ------------------------------------------------------------------ Stripe Checkout

export interface StripeSession {
  id: string;
  form: URLSearchParams;
  idempotencyKey: string | undefined;
}

export interface StripeMock extends MockServer {
  sessions: StripeSession[];
}

/**
 * Stripe's POST /v1/checkout/sessions as documented: Bearer secret key (401 otherwise), a form
 * body with mode=payment and one line item with price_data (currency, unit_amount as an integer
 * of the smallest unit, product_data[name]), success_url and cancel_url (400
 * invalid_request_error otherwise); the same Idempotency-Key gives the same session. Answers
 * {id, object: 'checkout.session', url}; the url is a page of this mock standing for Stripe's.
 */
export async function stripeMock(secretKey: string): Promise<StripeMock> {
  const sessions: StripeSession[] = [];
  const { server, url } = await listen((req, res, body) => {
    if (req.method === 'GET' && req.url?.startsWith('/pay/')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><title>Stripe test checkout</title><h1>Stripe test checkout</h1></html>');
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/checkout/sessions') return send(res, 404, { error: { type: 'invalid_request_error', message: 'Unrecognized request URL' } });
    if (req.headers.authorization !== `Bearer ${secretKey}`) return send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return send(res, 400, { error: { type: 'invalid_request_error', message: 'form body expected' } });
    const form = new URLSearchParams(body.toString('utf8'));
    const missing = ['mode', 'line_items[0][price_data][currency]', 'line_items[0][price_data][unit_amount]', 'line_items[0][price_data][product_data][name]', 'line_items[0][quantity]', 'success_url', 'cancel_url'].find((k) => !form.get(k));
    if (missing || form.get('mode') !== 'payment' || !/^\d+$/.test(form.get('line_items[0][price_data][unit_amount]') ?? '')) {
      return send(res, 400, { error: { type: 'invalid_request_error', message: `Missing or invalid parameter: ${missing ?? 'mode or unit_amount'}` } });
    }
    const key = req.headers['idempotency-key'] as string | undefined;
    const again = key ? sessions.find((s) => s.idempotencyKey === key) : undefined;
    const session = again ?? { id: `cs_test_${sessions.length + 1}`, form, idempotencyKey: key };
    if (!again) sessions.push(session);
    send(res, 200, { id: session.id, object: 'checkout.session', url: `${url}/pay/${session.id}`, mode: 'payment', status: 'open' });
  });
  return { url, sessions, close: closing(server) };
}
