/**
 * The email channel: the .eml of a reminder (HTML and text, the invoices' PDFs, the letter of a
 * formal notice or statement), and its two transports. Both take the finished MIME message (the
 * exact bytes stored as proof) and a `handOver` callback that commits "this message is leaving"
 * before its first byte does.
 *
 * - SmtpTransport: a small pool of nodemailer SMTP connections. The message is given to the
 *   connection as a stream that calls handOver on its first read, which nodemailer only does once
 *   the server has answered DATA with 354: a worker killed before that point left nothing on the
 *   server (the action is retried); killed after, the message may be queued (the action becomes
 *   uncertain). The connection's own errors are classified the same way (classifySmtpError).
 * - LocalOutbox: no SMTP server configured: `.eml` files under <data>/outbox/<org>/<day>/, listed
 *   by `relance outbox files`; nothing leaves the machine, the action is `exported` (to send by
 *   hand, then confirmed), never `sent`.
 */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { CHANNEL_SPECS } from '../../domain/channels.ts';
import { caseReplyAddress, classifySmtpError, isPlausibleEmail, messageIdFor, type SendOutcome } from '../../domain/delivery.ts';
import { composeDocument } from '../../documents/compose.ts';
import { buildEml } from '../../documents/email.ts';
import { TEMPLATES } from '../../documents/registry.ts';
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';
import { readSecret } from '../secrets.ts';
import { type Attachment, type Channel, ChannelConfigError, type ContactRow, type HandOver, PermanentContentError, type ProviderDef, type RenderedEmail, type Transport } from './types.ts';

export type { HandOver } from './types.ts';

export interface EmailEnvelope {
  from: string;
  to: string[];
  messageId: string;
  raw: Buffer;
  /** The organisation's calendar day: the local outbox's folder. */
  day?: string;
}

export interface EmailTransport extends Transport<EmailEnvelope> {
  send(m: EmailEnvelope, handOver: HandOver): Promise<SendOutcome>;
  close(): Promise<void>;
}

export class HandOverRefused extends Error {}

export interface SmtpOptions {
  host: string;
  port: number;
  security: 'none' | 'starttls' | 'tls';
  user: string | null;
  password: string | null;
  poolSize: number;
  /** Messages per connection before it is renewed. */
  maxMessages?: number;
  /** Accept self-signed certificates (tests, internal relays). */
  allowSelfSigned?: boolean;
  socketTimeoutMs?: number;
  /** Connecting and the server's greeting, each (default 30 s). */
  connectTimeoutMs?: number;
}

interface PooledConnection {
  conn: SMTPConnection;
  sent: number;
  broken: boolean;
}

type ConnectionWithEvents = SMTPConnection & { on(event: 'error' | 'end', fn: (e?: Error) => void): void };

/** The stream nodemailer pipes into DATA: it asks for the hand-over before giving any byte. */
class HandOverStream extends Readable {
  started = false;
  handedOver = false;
  refusal: Error | null = null;
  constructor(
    private readonly raw: Buffer,
    private readonly handOver: HandOver,
  ) {
    super();
  }
  override _read() {
    if (this.started) return;
    this.started = true;
    this.handOver().then(
      () => {
        this.handedOver = true;
        this.push(this.raw);
        this.push(null);
      },
      (e) => {
        this.refusal = e instanceof Error ? e : new Error(String(e));
        this.destroy(this.refusal);
      },
    );
  }
}

export class SmtpTransport implements EmailTransport {
  readonly name: string;
  private idle: PooledConnection[] = [];
  private open = 0;
  private waiting: Array<(c: PooledConnection | null) => void> = [];
  private closed = false;

  constructor(private readonly o: SmtpOptions) {
    this.name = `smtp:${o.host}:${o.port}`;
  }

  private connect(): Promise<PooledConnection> {
    const conn = new SMTPConnection({
      host: this.o.host,
      port: this.o.port,
      secure: this.o.security === 'tls',
      requireTLS: this.o.security === 'starttls',
      ignoreTLS: this.o.security === 'none',
      connectionTimeout: this.o.connectTimeoutMs ?? 30_000,
      greetingTimeout: this.o.connectTimeoutMs ?? 30_000,
      socketTimeout: this.o.socketTimeoutMs ?? 60_000,
      tls: this.o.allowSelfSigned ? { rejectUnauthorized: false } : undefined,
      logger: false,
    }) as ConnectionWithEvents;
    const pooled: PooledConnection = { conn, sent: 0, broken: false };
    // Errors outside a send (idle timeout, server closing) only retire the connection.
    conn.on('error', () => {
      pooled.broken = true;
    });
    conn.on('end', () => {
      pooled.broken = true;
    });
    return new Promise((resolve, reject) => {
      // connect()'s callback runs only once connected: a refused or silent server is told by an
      // 'error' (or 'end') event, which must end the wait too, or the caller waits forever.
      let settled = false;
      const fail = (e?: Error) => {
        if (settled) return;
        settled = true;
        conn.close();
        reject(e ?? Object.assign(new Error('connection closed before the greeting'), { code: 'ECONNECTION' }));
      };
      conn.on('error', fail);
      conn.on('end', () => fail());
      conn.connect(() => {
        if (settled) return;
        if (!this.o.user) {
          settled = true;
          return resolve(pooled);
        }
        conn.login({ user: this.o.user, pass: this.o.password ?? '' }, (e?: Error | null) => {
          if (settled) return;
          settled = true;
          if (e) {
            conn.close();
            reject(e);
          } else resolve(pooled);
        });
      });
    });
  }

  private async acquire(): Promise<PooledConnection> {
    for (;;) {
      const c = this.idle.pop();
      if (!c) break;
      if (!c.broken) return c;
      this.retire(c);
    }
    if (this.open < this.o.poolSize) {
      this.open++;
      try {
        return await this.connect();
      } catch (e) {
        this.open--;
        this.wakeOne();
        throw e;
      }
    }
    const c = await new Promise<PooledConnection | null>((resolve) => this.waiting.push(resolve));
    return c ?? this.acquire();
  }

  private wakeOne() {
    const w = this.waiting.shift();
    if (w) w(null);
  }

  private release(c: PooledConnection) {
    if (c.broken || this.closed || c.sent >= (this.o.maxMessages ?? 100)) {
      this.retire(c);
      this.wakeOne();
      return;
    }
    const w = this.waiting.shift();
    if (w) w(c);
    else this.idle.push(c);
  }

  private retire(c: PooledConnection) {
    this.open--;
    c.broken = true;
    try {
      c.conn.quit();
    } catch {
      c.conn.close();
    }
  }

  async send(m: EmailEnvelope, handOver: HandOver): Promise<SendOutcome> {
    let pooled: PooledConnection;
    try {
      pooled = await this.acquire();
    } catch (e) {
      const err = e as { message?: string; code?: string; responseCode?: number; command?: string };
      return classifySmtpError({ message: err.message ?? String(e), code: err.code, responseCode: err.responseCode, command: err.command, dataStarted: false });
    }
    const stream = new HandOverStream(m.raw, handOver);
    return new Promise<SendOutcome>((resolve, reject) => {
      pooled.conn.send({ from: m.from, to: m.to }, stream, (err, info) => {
        if (err) {
          const e = err as Error & { code?: string; responseCode?: number; command?: string };
          // A refused hand-over (lease lost) left the server waiting in DATA: drop the connection
          // so the half-sent message is discarded; the refusal goes back to the worker.
          if (stream.started && !stream.handedOver) {
            pooled.broken = true;
            pooled.conn.close();
            this.release(pooled);
            if (stream.refusal) return reject(stream.refusal);
            return resolve({ kind: 'temporary', error: `not handed over: ${e.message}` });
          }
          // A reply after DATA leaves the session usable (RSET); a lost connection does not.
          if (!e.responseCode) pooled.broken = true;
          else if (!pooled.broken) pooled.conn.reset(() => {});
          this.release(pooled);
          return resolve(classifySmtpError({ message: e.message, code: e.code, responseCode: e.responseCode, command: e.command, dataStarted: stream.handedOver }));
        }
        pooled.sent++;
        this.release(pooled);
        const i = info as { response?: string; serverMessageId?: string };
        resolve({ kind: 'sent', providerMessageId: i.serverMessageId ?? m.messageId, response: i.response ?? null });
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.idle.splice(0)) this.retire(c);
    for (const w of this.waiting.splice(0)) w(null);
  }
}

/** The default when no SMTP server is configured: the messages as .eml files. */
export class LocalOutbox implements EmailTransport {
  readonly name = 'local-outbox';
  constructor(
    private readonly dir: string,
    private readonly orgId: string,
  ) {}

  async send(m: EmailEnvelope, handOver: HandOver): Promise<SendOutcome> {
    await handOver();
    const folder = join(this.dir, this.orgId, m.day ?? new Date().toISOString().slice(0, 10));
    mkdirSync(folder, { recursive: true });
    const name = `${m.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_')}.eml`;
    const tmp = join(folder, `.${name}.tmp`);
    writeFileSync(tmp, m.raw);
    renameSync(tmp, join(folder, name));
    return { kind: 'exported', providerMessageId: m.messageId, location: join(folder, name) };
  }

  async close(): Promise<void> {}
}

export interface LocalOutboxFile {
  orgId: string;
  day: string;
  file: string;
  bytes: number;
}

/** The .eml files of the local outbox, newest day first. */
export function listLocalOutbox(dir: string, orgId?: string): LocalOutboxFile[] {
  const out: LocalOutboxFile[] = [];
  let orgs: string[];
  try {
    orgs = readdirSync(dir);
  } catch {
    return out;
  }
  for (const org of orgs.filter((o) => !orgId || o === orgId)) {
    let days: string[];
    try {
      days = readdirSync(join(dir, org));
    } catch {
      continue;
    }
    for (const day of days.sort().reverse()) {
      let files: string[];
      try {
        files = readdirSync(join(dir, org, day));
      } catch {
        continue;
      }
      for (const f of files.filter((x) => x.endsWith('.eml')).sort()) {
        const file = join(dir, org, day, f);
        out.push({ orgId: org, day, file, bytes: statSync(file).size });
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ the channel

const E = defineErrors('delivery-email', {
  no_sender: { fr: 'aucune adresse d’expéditeur : renseignez l’adresse d’envoi (relance outbox settings --from ...) ou l’e-mail de la charte graphique', en: 'no sender address: set the from address (relance outbox settings --from ...) or the branding email' },
});

const quoteName = (s: string) => `"${s.replace(/["\\\r\n]/g, '')}"`;
const usable = (c: ContactRow) => Boolean(c.email && !c.invalidEmail && isPlausibleEmail(c.email));

const localOutbox: ProviderDef<EmailEnvelope> = {
  key: 'local',
  label: { fr: 'Boîte d’envoi locale (fichiers .eml, rien ne part)', en: 'Local outbox (.eml files, nothing leaves)' },
  local: true,
  fields: [],
  open: (_cfg, ctx) => new LocalOutbox(ctx.outboxDir, ctx.orgId),
};

const smtp: ProviderDef<EmailEnvelope> = {
  key: 'smtp',
  label: { fr: 'Serveur SMTP', en: 'SMTP server' },
  local: false,
  // Set by the SMTP fields of the settings (smtpHost, smtpPort...), not as provider options.
  fields: [],
  open: (_cfg, ctx) => {
    const s = ctx.settings.smtp;
    if (!s) throw new ChannelConfigError('email', 'no SMTP server is set');
    const password = s.password ? readSecret(s.password, 'email', 'smtp_password', ctx.env) : null;
    return new SmtpTransport({ ...s, password, poolSize: Math.min(s.poolSize, Math.max(ctx.concurrency, 1)), allowSelfSigned: ctx.allowSelfSignedSmtp });
  },
};

export const emailChannel: Channel<RenderedEmail, EmailEnvelope> = {
  key: 'email',
  spec: CHANNEL_SPECS.email,
  attachesInvoices: true,
  pickContact: (contacts) => {
    const c = contacts.find(usable);
    if (!c) throw new PermanentContentError('the customer has no valid email address (none, or every one bounced)', true);
    return c;
  },
  async render(x) {
    const { action: a, composed, input } = x;
    const emails = x.contacts.filter(usable);
    const to = [...new Set(emails.map((c) => c.email!))];
    const fromAddress = x.settings.fromAddress ?? input.branding?.email ?? null;
    if (!fromAddress) throw new RelanceError(ERROR_CODES.CONFIG, E('no_sender'), { where: { field: 'from_address' } });
    const from = `${quoteName(x.settings.fromName ?? x.org.legalName)} <${fromAddress}>`;
    const replyTo = caseReplyAddress(x.settings.replyTo ?? fromAddress, a.customerId, a.id);
    const messageId = messageIdFor(a.orgId, a.id, fromAddress);
    const attachments: Attachment[] = [...x.attachments];
    const spec = TEMPLATES[x.key];
    if (spec.channels.includes('letter') && (spec.claimPenalties || spec.allOpenInvoices)) {
      // The formal notice, the handover notice and the statement travel as their letter too.
      const letter = await composeDocument({ key: x.key, channel: 'letter', input, override: x.overrides, creationDate: x.now });
      attachments.push({ filename: `${x.key}-${x.invoices[0]!.number}.pdf`, contentType: 'application/pdf', content: letter.pdf! });
    }
    // SMTP carries CRLF line ends (nodemailer converts bare LF on the wire): store what the
    // server receives, byte for byte.
    const eml = await buildEml({
      from,
      to: emails.filter((c) => to.includes(c.email!)).map((c) => `${quoteName(c.name)} <${c.email}>`).join(', '),
      replyTo,
      subject: composed.subject ?? '',
      html: composed.html ?? '',
      text: composed.text ?? '',
      attachments,
      date: x.now,
      messageId,
      headers: { 'X-Relance-Action': `${a.orgId}/${a.id}`, 'X-Auto-Response-Suppress': 'OOF' },
    });
    const raw = Buffer.from(eml.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    return {
      channel: 'email',
      subject: composed.subject ?? '',
      from: fromAddress,
      to,
      replyTo,
      messageId,
      raw,
      attachments: attachments.map((f) => f.filename),
      recipients: { to, replyTo, from: fromAddress },
      invoices: x.invoices,
    };
  },
  delivery: {
    providers: [localOutbox, smtp],
    choose: (s) => (s.smtp ? { provider: 'smtp', options: {}, secrets: {} } : null),
    message: (r, x) => ({ from: r.from, to: r.to, messageId: r.messageId, raw: r.raw, day: x.day }),
    content: (r) => ({ recipients: r.recipients, subject: r.subject, messageId: r.messageId, contentType: 'message/rfc822', content: r.raw }),
    badAddress: (r) => ({ kind: 'email', values: r.to }),
  },
};
