/**
 * Email transports. Both take the finished MIME message (the exact bytes stored as proof) and a
 * `handOver` callback that commits "this message is leaving" before its first byte does.
 *
 * - SmtpTransport: a small pool of nodemailer SMTP connections. The message is given to the
 *   connection as a stream that calls handOver on its first read, which nodemailer only does once
 *   the server has answered DATA with 354: a worker killed before that point left nothing on the
 *   server (the action is retried); killed after, the message may be queued (the action becomes
 *   uncertain). The connection's own errors are classified the same way (classifySmtpError).
 * - LocalOutbox: no SMTP server configured: `.eml` files under <data>/outbox/<org>/, listed by
 *   `relance outbox files`, so nothing leaves the machine.
 */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { classifySmtpError, type SendOutcome } from '../../domain/delivery.ts';

export interface EmailEnvelope {
  from: string;
  to: string[];
  messageId: string;
  raw: Buffer;
}

/** Commits the hand-over; throws when this worker no longer owns the action (nothing is sent then). */
export type HandOver = () => Promise<void>;

export interface EmailTransport {
  readonly name: string;
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

  async send(m: EmailEnvelope & { actionId?: bigint; day?: string }, handOver: HandOver): Promise<SendOutcome> {
    await handOver();
    const folder = join(this.dir, this.orgId, m.day ?? new Date().toISOString().slice(0, 10));
    mkdirSync(folder, { recursive: true });
    const name = `${m.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_')}.eml`;
    const tmp = join(folder, `.${name}.tmp`);
    writeFileSync(tmp, m.raw);
    renameSync(tmp, join(folder, name));
    return { kind: 'sent', providerMessageId: m.messageId, response: join(folder, name) };
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
