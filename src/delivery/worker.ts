/**
 * The delivery worker: claims due actions in batches (outbox.ts), reads what the whole batch needs
 * from the ledger at once and renders each action with the documents code (content.ts), hands
 * each to its channel and records the outcome. Several lanes send in parallel (the SMTP pool has
 * as many connections); the next batch is claimed and rendered while the current one is sent.
 * Hand-overs and "sent" records of messages in flight together are written together (group
 * commit): each message still leaves only after its own hand-over committed. Leases are renewed
 * while the worker lives and expire when it dies.
 *
 * `relance worker` runs one; `relance serve` runs one in-process on the embedded database
 * (startInProcessWorker); on PostgreSQL any number of worker processes share the outbox.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { type Db, type Queryable, pgArray } from '../db/driver.ts';
import { todayIn } from '../domain/dates.ts';
import type { SendOutcome } from '../domain/delivery.ts';
import { loadRateTables } from '../law/rates-repo.ts';
import { getOrganisation, type Organisation } from '../ledger/repo.ts';
import { loadTemplateOverrides } from '../documents/repo.ts';
import type { SourceLookup } from '../documents/engine.ts';
import type { RateTables } from '../domain/law/index.ts';
import { isRelanceError } from '../errors.ts';
import { type EmailTransport, LocalOutbox, SmtpTransport } from './channels/email.ts';
import { HttpRegistered, LocalRegistered, type RegisteredProvider } from './channels/registered.ts';
import { HttpSms, LocalSms, type SmsProvider } from './channels/sms.ts';
import { PermanentContentError, type RenderContext, type RenderedAction, type RenderResult, renderActions } from './content.ts';
import { GroupCommit } from './group-commit.ts';
import { type ClaimedAction, claimDue, type DeliveryRecord, handOverMany, LeaseLost, reapExpiredLeases, recordOutcome, recordSentMany, renewLeases, type SentRecord } from './outbox.ts';
import { type DeliverySettings, loadDeliverySettings } from './settings.ts';

export interface WorkerOptions {
  /** Data folder: the local outbox lives in <dataDir>/outbox. */
  dataDir: string;
  /** Messages in flight at once (and SMTP connections per organisation at most). */
  concurrency?: number;
  /** Actions claimed per transaction. */
  batchSize?: number;
  leaseMs?: number;
  pollMs?: number;
  clock?: () => Date;
  owner?: string;
  channels?: string[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Test and bench hooks: replace a channel's transport for an organisation. */
  transports?: {
    email?: (orgId: string, s: DeliverySettings) => EmailTransport | null;
    sms?: (orgId: string, s: DeliverySettings) => SmsProvider | null;
    registered?: (orgId: string, s: DeliverySettings) => RegisteredProvider | null;
  };
  /** Accept self-signed SMTP certificates. */
  smtpAllowSelfSigned?: boolean;
}

export interface WorkerStats {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  uncertain: number;
  cancelled: number;
  deferred: number;
  fallbacks: number;
  errors: number;
}

interface OrgResources {
  settingsStamp: string | null;
  settings: DeliverySettings;
  org: Organisation;
  email: EmailTransport;
  sms: SmsProvider;
  registered: RegisteredProvider;
  overrides: SourceLookup;
  overridesLoadedAt: number;
  loadedAt: number;
}

/** A claimed action, rendered, waiting for a lane. */
interface Prepared {
  a: ClaimedAction;
  res: OrgResources;
  rendered: RenderedAction;
  /** The organisation's calendar day when the batch was rendered (the local outbox's folder). */
  day: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export class DeliveryWorker {
  readonly owner: string;
  readonly stats: WorkerStats = { claimed: 0, sent: 0, retried: 0, failed: 0, uncertain: 0, cancelled: 0, deferred: 0, fallbacks: 0, errors: 0 };
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly clock: () => Date;
  private readonly log: (line: string) => void;
  private readonly orgs = new Map<string, OrgResources>();
  private readonly loading = new Map<string, Promise<OrgResources>>();
  private rates: { tables: RateTables; at: number } | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** Hand-overs of messages about to leave, committed together (see GroupCommit). */
  private readonly handOvers: GroupCommit<{ a: ClaimedAction; d: DeliveryRecord }, bigint | null>;
  /** "Sent" records with their events and action.sent, written together in one statement. */
  private readonly sentRecords: GroupCommit<SentRecord, boolean>;
  /**
   * Letters: handed over to the print batch and recorded as sent in one statement per group, so
   * a letter is never in the batch without being recorded, nor recorded without its PDF. Nothing
   * leaves the machine and nobody waits: letters are written in larger groups.
   */
  private readonly letterRecords = new GroupCommit<{ a: ClaimedAction; d: DeliveryRecord }, bigint | null>(
    (items) => handOverMany(this.db, this.owner, items, this.clock(), { response: 'added to the print batch' }),
    { lingerMs: 25, maxItems: 32 },
  );
  /** Records still being written by lanes that went on to the next message. */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly o: WorkerOptions,
  ) {
    this.owner = o.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.batchSize = Math.max(1, o.batchSize ?? this.concurrency * 8);
    this.leaseMs = o.leaseMs ?? 120_000;
    this.pollMs = o.pollMs ?? 5_000;
    this.clock = o.clock ?? (() => new Date());
    this.log = o.log ?? (() => {});
    // On PostgreSQL a write is in flight while the next messages reach DATA: they group by
    // themselves. The embedded database answers synchronously, in this thread: a hand-over or a
    // "sent" record waits a few milliseconds for the others (a worker killed after the server
    // took a message and before its record leaves it uncertain, for a human to check: kept short).
    const embedded = db.kind === 'pglite';
    this.handOvers = new GroupCommit((items) => handOverMany(this.db, this.owner, items, this.clock()), { lingerMs: embedded ? 3 : 0, maxItems: 64 });
    this.sentRecords = new GroupCommit((items) => recordSentMany(this.db, items, this.clock()), { lingerMs: embedded ? 2 : 0, maxItems: 64 });
  }

  /** Delivers everything due now, waits for dead workers' leases to expire, then returns. */
  async runOnce(opts: { waitForLeasesMs?: number } = {}): Promise<WorkerStats> {
    this.startHeartbeat();
    try {
      const deadline = Date.now() + (opts.waitForLeasesMs ?? this.leaseMs + 5_000);
      for (;;) {
        await reapExpiredLeases(this.db, this.clock());
        const before = this.stats.claimed + this.stats.cancelled;
        await this.drain();
        // What this drain did may have made more due (a fallback action): go round again.
        if (this.stats.claimed + this.stats.cancelled > before) continue;
        const [foreign] = await this.db.query<{ until: string | null }>(
          `SELECT min(lease_until) AS until FROM actions WHERE status = 'sending' AND lease_owner <> $1`,
          [this.owner],
        );
        if (!foreign?.until || Date.now() > deadline) break;
        const wait = Math.min(Math.max(50, Date.parse(foreign.until) - this.clock().getTime() + 50), 2_000);
        await new Promise((r) => setTimeout(r, wait));
      }
      return this.stats;
    } finally {
      this.stopHeartbeat();
      await this.closeTransports();
    }
  }

  /** Runs until stop(): drains the outbox, sleeps pollMs, again. */
  start(): void {
    if (this.loop) return;
    this.startHeartbeat();
    this.loop = (async () => {
      while (!this.stopping) {
        try {
          await reapExpiredLeases(this.db, this.clock());
          await this.drain();
        } catch (e) {
          this.stats.errors++;
          this.log(`worker: ${(e as Error).message}`);
        }
        if (this.stopping) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.pollMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
      }
    })();
  }

  /** Finishes the messages in flight (their leases are kept until they are recorded), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.stopHeartbeat();
    await this.closeTransports();
  }

  private startHeartbeat() {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      renewLeases(this.db, this.owner, this.clock(), this.leaseMs).catch((e) => this.log(`worker: lease renewal failed: ${(e as Error).message}`));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  private stopHeartbeat() {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private async closeTransports() {
    for (const r of this.orgs.values()) await r.email.close().catch(() => {});
    this.orgs.clear();
  }

  /**
   * Claims, renders and delivers until nothing is due. While the lanes send a batch, the next one
   * is claimed and rendered, so the SMTP connections never wait for the database.
   */
  private async drain(): Promise<void> {
    const queue: Prepared[] = [];
    let exhausted = false;
    let refilling: Promise<void> | null = null;
    // Lanes without work wait for the next rendered message (or the end of the refill).
    let waiters: Array<() => void> = [];
    const notify = () => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    const refill = (): Promise<void> => {
      refilling ??= (async () => {
        try {
          const r = await claimDue(this.db, { owner: this.owner, now: this.clock(), leaseMs: this.leaseMs, limit: this.batchSize, channels: this.o.channels });
          this.stats.claimed += r.claimed.length;
          this.stats.cancelled += r.cancelled;
          this.stats.deferred += r.deferred;
          if (r.seen === 0) exhausted = true;
          await this.prepare(r.claimed, (p) => {
            queue.push(p);
            notify();
          });
        } catch (e) {
          this.stats.errors++;
          this.log(`worker: claim failed: ${(e as Error).message}`);
          exhausted = true;
        } finally {
          refilling = null;
          notify();
        }
      })();
      return refilling;
    };
    const lane = async () => {
      for (;;) {
        if (this.stopping && queue.length === 0) return;
        if (!this.stopping && !exhausted && queue.length <= this.batchSize / 2 && !refilling) void refill();
        const p = queue.shift();
        if (!p) {
          if (refilling) {
            await new Promise<void>((r) => waiters.push(r));
            continue;
          }
          if (exhausted || this.stopping) return;
          await refill();
          continue;
        }
        try {
          await this.send(p);
        } catch (e) {
          // The lease expires and the action is reaped (retried, or uncertain if handed over).
          this.stats.errors++;
          this.log(`worker: action ${p.a.id}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, lane));
    await this.settle();
  }

  /** Waits for the records lanes left being written. */
  private async settle(): Promise<void> {
    while (this.writes.size) await Promise.all([...this.writes]);
  }

  private track(p: Promise<void>) {
    const t = p.catch((e) => {
      this.stats.errors++;
      this.log(`worker: recording an outcome failed: ${(e as Error).message}`);
    });
    this.writes.add(t);
    void t.finally(() => this.writes.delete(t));
  }

  private async resources(orgId: string): Promise<OrgResources> {
    const have = this.orgs.get(orgId);
    // Settings are looked at again every few seconds, not for every message; lanes asking at
    // the same time share one load (and one SMTP pool).
    if (have && Date.now() - have.loadedAt < 5_000) return have;
    let p = this.loading.get(orgId);
    if (!p) {
      p = this.loadResources(orgId, have).finally(() => this.loading.delete(orgId));
      this.loading.set(orgId, p);
    }
    return p;
  }

  private async loadResources(orgId: string, have: OrgResources | undefined): Promise<OrgResources> {
    const settings = await loadDeliverySettings(this.db, orgId, this.o.env ?? process.env);
    if (have && have.settingsStamp === settings.updatedAt) {
      have.loadedAt = Date.now();
      if (Date.now() - have.overridesLoadedAt > 60_000) {
        have.overrides = await loadTemplateOverrides(this.db, orgId);
        have.overridesLoadedAt = Date.now();
      }
      return have;
    }
    if (have) await have.email.close().catch(() => {});
    const outbox = join(this.o.dataDir, 'outbox');
    const email =
      this.o.transports?.email?.(orgId, settings) ??
      (settings.smtp
        ? new SmtpTransport({ ...settings.smtp, poolSize: Math.min(settings.smtp.poolSize, Math.max(this.concurrency, 1)), allowSelfSigned: this.o.smtpAllowSelfSigned })
        : new LocalOutbox(outbox, orgId));
    const sms =
      this.o.transports?.sms?.(orgId, settings) ??
      (settings.sms.provider === 'http' ? new HttpSms(settings.sms.url, settings.sms.token) : new LocalSms(outbox, orgId));
    const registered =
      this.o.transports?.registered?.(orgId, settings) ??
      (settings.registered.provider === 'http' ? new HttpRegistered(settings.registered.url, settings.registered.token) : new LocalRegistered());
    const r: OrgResources = {
      settingsStamp: settings.updatedAt,
      settings,
      org: await getOrganisation(this.db, orgId),
      email,
      sms,
      registered,
      overrides: await loadTemplateOverrides(this.db, orgId),
      overridesLoadedAt: Date.now(),
      loadedAt: Date.now(),
    };
    this.orgs.set(orgId, r);
    return r;
  }

  private async rateTables(): Promise<RateTables> {
    if (!this.rates || Date.now() - this.rates.at > 60_000) this.rates = { tables: await loadRateTables(this.db), at: Date.now() };
    return this.rates.tables;
  }

  /** One action: render, hand over, record. */
  async deliverOne(a: ClaimedAction): Promise<void> {
    const ready: Prepared[] = [];
    await this.prepare([a], (p) => ready.push(p));
    for (const p of ready) await this.send(p);
    await this.settle();
  }

  /**
   * Renders a claimed batch: the ledger data of all its actions read at once, then each action,
   * given to `ready` as soon as it is rendered (the lanes start on the first ones while the rest
   * are rendered). What cannot be rendered is recorded (permanent when retrying cannot help).
   */
  private async prepare(claimed: ClaimedAction[], ready: (p: Prepared) => void): Promise<void> {
    if (claimed.length === 0) return;
    const res = new Map<string, OrgResources>();
    for (const orgId of new Set(claimed.map((a) => a.orgId))) res.set(orgId, await this.resources(orgId));
    const now = this.clock();
    const rates = await this.rateTables();
    const days = new Map([...res].map(([orgId, r]) => [orgId, todayIn(r.org.timeZone, now)]));
    const ctxOf = (a: ClaimedAction): RenderContext => {
      const r = res.get(a.orgId)!;
      return { now, org: r.org, settings: r.settings, rates, overrides: r.overrides };
    };
    const failed: RenderResult<ClaimedAction>[] = [];
    try {
      await renderActions(this.db, claimed, ctxOf, (r) => {
        if ('rendered' in r) ready({ a: r.action, res: res.get(r.action.orgId)!, rendered: r.rendered, day: days.get(r.action.orgId)! });
        else failed.push(r);
      });
    } catch (e) {
      // The batch's data could not be read: nothing of it was rendered.
      for (const action of claimed) failed.push({ action, error: e });
    }
    for (const { action, error: e } of failed as Array<{ action: ClaimedAction; error: unknown }>) {
      const outcome: SendOutcome =
        e instanceof PermanentContentError
          ? { kind: 'permanent', error: e.message, badAddress: false }
          : isRelanceError(e) && e.code === 'validation'
            ? { kind: 'permanent', error: e.message }
            : { kind: 'temporary', error: `could not prepare the message: ${(e as Error).message}` };
      try {
        await this.record(action, outcome, null, 'none', res.get(action.orgId)!);
      } catch (err) {
        this.stats.errors++;
        this.log(`worker: action ${action.id}: ${(err as Error).message}`);
      }
    }
  }

  /** One rendered action: hand over, send, record. */
  private async send({ a, res, rendered, day }: Prepared): Promise<void> {
    let deliveryId: bigint | null = null;
    const deliveryRecord = (d: Omit<DeliveryRecord, 'sha256' | 'customerId' | 'invoiceIds'>): DeliveryRecord => ({ ...d, sha256: sha256(d.content), customerId: a.customerId, invoiceIds: a.invoiceIds });
    const takeOver = (d: Omit<DeliveryRecord, 'sha256' | 'customerId' | 'invoiceIds'>) => async () => {
      const id = await this.handOvers.add({ a, d: deliveryRecord(d) });
      if (id === null) throw new LeaseLost(a);
      deliveryId = id;
    };

    let outcome: SendOutcome & { trackingNumber?: string; proof?: Buffer | null };
    let provider: string;
    try {
      switch (rendered.channel) {
        case 'email': {
          provider = res.email.name;
          outcome = await (res.email as EmailTransport & { send: LocalOutbox['send'] }).send(
            { from: rendered.from, to: rendered.to, messageId: rendered.messageId, raw: rendered.raw, actionId: a.id, day },
            takeOver({ channel: 'email', provider, recipients: rendered.recipients, subject: rendered.subject, messageId: rendered.messageId, contentType: 'message/rfc822', content: rendered.raw }),
          );
          if (outcome.kind === 'permanent' && outcome.badAddress) await this.markInvalid(a, 'email', rendered.to, outcome.error);
          break;
        }
        case 'sms': {
          provider = res.sms.name;
          const reference = `action-${a.orgId}-${a.id}`;
          outcome = await res.sms.send(
            { to: rendered.to, text: rendered.text, sender: res.settings.sms.provider === 'http' ? res.settings.sms.sender : null, reference, idempotencyKey: `${a.orgId}-${a.id}` },
            takeOver({ channel: 'sms', provider, recipients: rendered.recipients, subject: null, messageId: reference, contentType: 'text/plain; charset=utf-8', content: Buffer.from(rendered.text, 'utf8') }),
          );
          if (outcome.kind === 'permanent' && outcome.badAddress) await this.markInvalid(a, 'phone', [rendered.to], outcome.error);
          break;
        }
        case 'letter': {
          // A letter is handed over to the day's print batch: stored and sent in one transaction.
          provider = 'print-batch';
          // The lane goes on to its next message meanwhile: a letter that is not written stays
          // queued (no hand-over, no delivery row) and is rendered again.
          const letter = deliveryRecord({ channel: 'letter', provider, recipients: rendered.recipients, subject: rendered.subject, messageId: null, contentType: 'application/pdf', content: rendered.pdf });
          this.track(
            this.letterRecords.add({ a, d: letter }).then(
              (id) => {
                if (id === null) this.log(`worker: ${new LeaseLost(a).message}`);
                else this.stats.sent++;
              },
              (e) => this.record(a, { kind: 'temporary', error: (e as Error).message }, null, 'unknown', res),
            ),
          );
          return;
        }
        case 'registered_letter': {
          provider = `registered:${res.registered.name}`;
          const org = res.org;
          outcome = await res.registered.send(
            {
              reference: `action-${a.orgId}-${a.id}`,
              idempotencyKey: `${a.orgId}-${a.id}`,
              recipient: rendered.address,
              sender: { name: org.legalName, lines: [org.addressLine1, org.addressLine2, [org.postalCode, org.city].filter(Boolean).join(' ')].filter((x): x is string => Boolean(x)) },
              pdf: rendered.pdf,
            },
            takeOver({ channel: 'registered_letter', provider, recipients: rendered.recipients, subject: rendered.subject, messageId: null, contentType: 'application/pdf', content: rendered.pdf }),
          );
          break;
        }
        default: {
          await this.createTask(a, rendered, res);
          return;
        }
      }
    } catch (e) {
      if (e instanceof LeaseLost) {
        this.log(`worker: ${e.message}`);
        return;
      }
      // Handed over and then an unexpected error: we cannot know, a human decides.
      outcome = deliveryId !== null ? { kind: 'uncertain', error: (e as Error).message } : { kind: 'temporary', error: (e as Error).message };
      provider = 'unknown';
    }
    const needsExtra = deliveryId !== null && (rendered.channel === 'sms' || rendered.channel === 'registered_letter');
    await this.record(a, outcome, deliveryId, provider, res, needsExtra ? async (q) => {
      if (deliveryId === null) return;
      if (rendered.channel === 'sms' && (outcome.kind === 'sent' || outcome.kind === 'uncertain')) {
        await q.query(
          `INSERT INTO sms_messages (organisation_id, delivery_id, to_number, encoding, segments, provider, provider_message_id) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
          [a.orgId, deliveryId, rendered.to, rendered.segments.encoding, rendered.segments.segments, provider, outcome.kind === 'sent' ? outcome.providerMessageId : null],
        );
      }
      if (rendered.channel === 'registered_letter' && outcome.kind === 'sent' && outcome.trackingNumber) {
        await q.query(`INSERT INTO registered_letters (organisation_id, delivery_id, provider, tracking_number) VALUES ($1,$2,$3,$4)`, [
          a.orgId,
          deliveryId,
          res.registered.name,
          outcome.trackingNumber,
        ]);
        if (outcome.proof) {
          await q.query(
            `INSERT INTO registered_letter_proofs (organisation_id, delivery_id, kind, at, content_type, content, sha256) VALUES ($1,$2,'deposit',$3,'application/pdf',$4,$5)`,
            [a.orgId, deliveryId, this.clock().toISOString(), outcome.proof, sha256(outcome.proof)],
          );
        }
      }
    } : undefined);
  }

  private async record(a: ClaimedAction, outcome: SendOutcome, deliveryId: bigint | null, provider: string, res: OrgResources, extra?: (q: Queryable) => Promise<void>) {
    if (outcome.kind === 'sent' && !extra) {
      // A plain "sent" joins the next group write; the lane goes on to its next message.
      this.track(
        this.sentRecords.add({ a, provider, providerMessageId: outcome.providerMessageId, response: outcome.response ?? null, deliveryId }).then((recorded) => {
          if (recorded) this.stats.sent++;
          else this.log(`worker: action ${a.id}: sent, but a newer attempt owns it: not recorded again`);
        }),
      );
      return;
    }
    const context = { now: this.clock(), maxAttempts: res.settings.maxAttempts, deliveryId, provider };
    const r = await this.db.tx(async (q) => {
      const out = await recordOutcome(q, a, outcome, context);
      if (extra) await extra(q);
      return out;
    });
    if (r.status === 'sent') this.stats.sent++;
    else if (r.status === 'queued') this.stats.retried++;
    else if (r.status === 'failed') this.stats.failed++;
    else if (r.status === 'uncertain') this.stats.uncertain++;
    if (r.fallbackId) this.stats.fallbacks++;
    if (outcome.kind !== 'sent') this.log(`worker: action ${a.id} (${a.channel}) ${r.status}: ${outcome.error}`);
  }

  private async markInvalid(a: ClaimedAction, kind: 'email' | 'phone', values: string[], reason: string) {
    const col = kind === 'email' ? 'email' : 'phone';
    await this.db.query(
      `INSERT INTO contact_address_status (organisation_id, contact_id, kind, value, reason)
       SELECT organisation_id, id, $3, ${col}, $5 FROM contacts
        WHERE organisation_id = $1 AND customer_id = $2 AND ${col} = ANY($4::text[])
       ON CONFLICT DO NOTHING`,
      [a.orgId, a.customerId, kind, pgArray(values), reason.slice(0, 500)],
    );
  }

  /** A call or a manual step becomes a task on someone's list: created once per action. */
  private async createTask(a: ClaimedAction, r: RenderedAction, res: OrgResources) {
    const today = todayIn(res.org.timeZone, this.clock());
    await this.db.tx(async (q) => {
      const own = await q.query(`SELECT 1 FROM actions WHERE organisation_id = $1 AND id = $2 AND status = 'sending' AND lease_owner = $3 AND attempts = $4 FOR UPDATE`, [
        a.orgId,
        a.id,
        this.owner,
        a.attempt,
      ]);
      if (own.length === 0) throw new LeaseLost(a);
      await q.query(
        `INSERT INTO call_tasks (organisation_id, action_id, customer_id, kind, assigned_to, script, phone_numbers, invoices, due_on)
         VALUES ($1,$2,$3,$4,$5,$6,$7::text[],$8::jsonb,$9) ON CONFLICT (organisation_id, action_id) DO NOTHING`,
        [
          a.orgId, a.id, a.customerId, r.channel === 'call_task' ? 'call' : 'manual', res.settings.callAssignee, 'script' in r ? r.script : null,
          pgArray('phones' in r ? r.phones : []), JSON.stringify(r.invoices), today,
        ],
      );
      await recordOutcome(q, a, { kind: 'sent', providerMessageId: null, response: `task for ${res.settings.callAssignee}` }, { now: this.clock(), maxAttempts: res.settings.maxAttempts, deliveryId: null, provider: 'task-list' });
      await q.query(`INSERT INTO delivery_events (organisation_id, action_id, kind, at, detail) VALUES ($1,$2,'task_created',$3,$4::jsonb)`, [
        a.orgId,
        a.id,
        this.clock().toISOString(),
        JSON.stringify({ assignedTo: res.settings.callAssignee }),
      ]);
    });
    this.stats.sent++;
  }
}

/**
 * One worker inside the `relance serve` process (the embedded database allows one process): polls
 * every few seconds until the returned stop() is called.
 */
export function startInProcessWorker(db: Db, config: Pick<Config, 'dataDir'>, opts: Partial<WorkerOptions> = {}): { worker: DeliveryWorker; stop(): Promise<void> } {
  const worker = new DeliveryWorker(db, { dataDir: config.dataDir, concurrency: 2, pollMs: 5_000, ...opts });
  worker.start();
  return { worker, stop: () => worker.stop() };
}
