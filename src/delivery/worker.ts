/**
 * The delivery worker: claims due actions in batches (outbox-claim.ts), reads what the whole batch needs
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
import type { ChannelKey } from '../domain/channels.ts';
import { type CalendarDate, todayIn } from '../domain/dates.ts';
import type { SendOutcome } from '../domain/delivery.ts';
import { loadRateTables } from '../law/rates-repo.ts';
import { getOrganisation, type Organisation } from '../ledger/repo.ts';
import { loadTemplateOverrides } from '../documents/repo.ts';
import type { SourceLookup } from '../documents/engine.ts';
import type { RateTables } from '../domain/law/index.ts';
import { isRelanceError } from '../errors.ts';
import { CHANNEL_REGISTRY, chosenProvider } from './channels/registry.ts';
import { type Channel, ChannelConfigError, type ProviderConfig, type ProviderOutcome, type Transport } from './channels/types.ts';
import { PermanentContentError, type RenderContext, type RenderedAction, renderActions } from './content.ts';
import { GroupCommit } from './group-commit.ts';
import { type ClaimedAction, claimDue, expireLease, reapExpiredLeases, renewLeases } from './outbox-claim.ts';
import { type DeliveryRecord, handOverMany, LeaseLost, recordOutcome, recordSentMany, type SentRecord } from './outbox-outcomes.ts';
import { readSecret } from './secrets.ts';
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
  /** Test and bench hooks: replace a channel's transport for an organisation (`registered` is registered_letter). */
  transports?: Partial<Record<ChannelKey | 'registered', (orgId: string, s: DeliverySettings) => Transport<never> | null>>;
  /** Accept self-signed SMTP certificates. */
  smtpAllowSelfSigned?: boolean;
  /** The HTTP client provider adapters use (tests point it at a local mock). */
  fetch?: typeof fetch;
}

export interface WorkerStats {
  claimed: number;
  sent: number;
  /** Written by a local channel (no SMTP server, no provider): awaiting sending by hand. */
  exported: number;
  retried: number;
  failed: number;
  uncertain: number;
  cancelled: number;
  deferred: number;
  fallbacks: number;
  errors: number;
}

/** A channel's transport for an organisation, opened when its first message comes (or why it could not be). */
type OpenTransport = { transport: Transport<unknown>; handOverOnly: boolean } | { error: ChannelConfigError };

interface OrgResources {
  settingsStamp: string | null;
  settings: DeliverySettings;
  org: Organisation;
  transports: Map<ChannelKey, OpenTransport>;
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
  day: CalendarDate;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export class DeliveryWorker {
  readonly owner: string;
  readonly stats: WorkerStats = { claimed: 0, sent: 0, exported: 0, retried: 0, failed: 0, uncertain: 0, cancelled: 0, deferred: 0, fallbacks: 0, errors: 0 };
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
    (items) => handOverMany(this.db, this.owner, items, this.clock(), { response: 'added to the print batch', status: 'exported' }),
    { lingerMs: 25, maxItems: 32 },
  );
  /** The actions this worker claimed and has not recorded yet: the only leases the heartbeat renews. */
  private readonly held = new Map<bigint, ClaimedAction>();
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
        // Actions whose worker stopped (or that this one could not record) are resolved here:
        // queued again when nothing was handed over, uncertain when it was.
        const reaped = await reapExpiredLeases(this.db, this.clock());
        this.stats.uncertain += reaped.uncertain;
        const before = this.stats.claimed + this.stats.cancelled;
        await this.drain();
        // What this drain did may have made more due (a fallback action, one given up): go round again.
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
      if (this.held.size === 0) return;
      renewLeases(this.db, this.owner, this.clock(), this.leaseMs, [...this.held.keys()]).catch((e) => this.log(`worker: lease renewal failed: ${(e as Error).message}`));
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  private stopHeartbeat() {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private async closeTransports() {
    for (const r of this.orgs.values()) await closeAll(r);
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
          for (const a of r.claimed) this.held.set(a.id, a);
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
          this.stats.errors++;
          this.log(`worker: action ${p.a.id}: ${(e as Error).message}`);
          await this.abandon(p.a);
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

  /** A write the lane does not wait for; the action is let go once it is written (or abandoned if it cannot be). */
  private track(a: ClaimedAction, p: Promise<void>) {
    const t = p.then(
      () => this.done(a),
      async (e) => {
        this.stats.errors++;
        this.log(`worker: recording an outcome failed: ${(e as Error).message}`);
        await this.abandon(a);
      },
    );
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
    const settings = await loadDeliverySettings(this.db, orgId);
    if (have && have.settingsStamp === settings.updatedAt) {
      have.loadedAt = Date.now();
      if (Date.now() - have.overridesLoadedAt > 60_000) {
        have.overrides = await loadTemplateOverrides(this.db, orgId);
        have.overridesLoadedAt = Date.now();
      }
      return have;
    }
    if (have) await closeAll(have);
    const r: OrgResources = {
      settingsStamp: settings.updatedAt,
      settings,
      org: await getOrganisation(this.db, orgId),
      transports: new Map(),
      overrides: await loadTemplateOverrides(this.db, orgId),
      overridesLoadedAt: Date.now(),
      loadedAt: Date.now(),
    };
    this.orgs.set(orgId, r);
    return r;
  }

  /**
   * A channel's transport for an organisation, opened on its first message: a channel whose
   * settings are missing or wrong (a secret's variable not set) fails its own messages, with the
   * reason, and no other channel's.
   */
  private transport(res: OrgResources, channel: ChannelKey): OpenTransport {
    const have = res.transports.get(channel);
    if (have) return have;
    let open: OpenTransport;
    try {
      const hook = this.o.transports?.[channel] ?? (channel === 'registered_letter' ? this.o.transports?.registered : undefined);
      const hooked = hook?.(res.org.id, res.settings);
      const chosen = chosenProvider(channel, res.settings);
      if (hooked) open = { transport: hooked as Transport<unknown>, handOverOnly: false };
      else if (!chosen) open = { error: new ChannelConfigError(channel, `unknown provider "${res.settings.providers[channel]?.provider}"`) };
      else {
        const { def, choice } = chosen;
        const cfg: ProviderConfig = { options: {}, secrets: {} };
        for (const f of def.fields) {
          if (f.secret) {
            const src = choice.secrets[f.key];
            if (src) cfg.secrets[f.key] = readSecret(src, channel, f.key, this.o.env ?? process.env);
            else if (f.required) throw new ChannelConfigError(channel, `${def.key}: ${f.key} is not set`);
          } else {
            const v = choice.options[f.key] ?? f.default;
            if (v !== undefined) cfg.options[f.key] = v;
            else if (f.required) throw new ChannelConfigError(channel, `${def.key}: ${f.key} is not set`);
          }
        }
        const transport = def.open(cfg, {
          orgId: res.org.id,
          org: res.org,
          settings: res.settings,
          outboxDir: join(this.o.dataDir, 'outbox'),
          concurrency: this.concurrency,
          allowSelfSignedSmtp: this.o.smtpAllowSelfSigned,
          env: this.o.env ?? process.env,
          fetch: this.o.fetch,
        });
        open = { transport, handOverOnly: def.handOverOnly ?? false };
      }
    } catch (e) {
      open = { error: e instanceof ChannelConfigError ? e : new ChannelConfigError(channel, (e as Error).message) };
    }
    res.transports.set(channel, open);
    return open;
  }

  private async rateTables(): Promise<RateTables> {
    if (!this.rates || Date.now() - this.rates.at > 60_000) this.rates = { tables: await loadRateTables(this.db), at: Date.now() };
    return this.rates.tables;
  }

  /** The action's outcome is recorded (or another worker owns it): its lease is no longer renewed. */
  private done(a: ClaimedAction) {
    this.held.delete(a.id);
  }

  /**
   * Its outcome could not be recorded: the lease is given up now, so that the reaper resolves the
   * action at once (queued again when nothing was handed over, uncertain when it was) rather than
   * leaving it "sending" while this worker lives.
   */
  private async abandon(a: ClaimedAction) {
    this.held.delete(a.id);
    await expireLease(this.db, a, this.owner, this.clock()).catch((e) => this.log(`worker: action ${a.id}: its lease will expire by itself: ${(e as Error).message}`));
  }

  /** One action: render, hand over, record. */
  async deliverOne(a: ClaimedAction): Promise<void> {
    this.held.set(a.id, a);
    const ready: Prepared[] = [];
    await this.prepare([a], (p) => ready.push(p));
    for (const p of ready) {
      try {
        await this.send(p);
      } catch (e) {
        await this.abandon(p.a);
        throw e;
      }
    }
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
    const failed: Array<{ action: ClaimedAction; error: unknown }> = [];
    for (const orgId of new Set(claimed.map((a) => a.orgId))) {
      try {
        res.set(orgId, await this.resources(orgId));
      } catch (e) {
        // The organisation's settings could not be read: its actions are recorded, not left sending.
        for (const action of claimed) if (action.orgId === orgId) failed.push({ action, error: e });
      }
    }
    const renderable = claimed.filter((a) => res.has(a.orgId));
    const now = this.clock();
    const days = new Map([...res].map(([orgId, r]) => [orgId, todayIn(r.org.timeZone, now)]));
    try {
      const rates = await this.rateTables();
      const ctxOf = (a: ClaimedAction): RenderContext => {
        const r = res.get(a.orgId)!;
        return { now, org: r.org, settings: r.settings, rates, overrides: r.overrides };
      };
      await renderActions(this.db, renderable, ctxOf, (r) => {
        if ('rendered' in r) ready({ a: r.action, res: res.get(r.action.orgId)!, rendered: r.rendered, day: days.get(r.action.orgId)! });
        else failed.push(r);
      });
    } catch (e) {
      // The batch's data could not be read: nothing of it was rendered.
      for (const action of renderable) failed.push({ action, error: e });
    }
    for (const { action, error: e } of failed) {
      try {
        await this.record(action, prepareFailure(e), null, 'none', res.get(action.orgId));
      } catch (err) {
        this.stats.errors++;
        this.log(`worker: action ${action.id}: ${(err as Error).message}`);
        await this.abandon(action);
      }
    }
  }

  /** One rendered action: hand over, send, record. */
  private async send({ a, res, rendered, day }: Prepared): Promise<void> {
    const channel = CHANNEL_REGISTRY[rendered.channel] as Channel<RenderedAction, unknown>;
    if (channel.task) return this.createTask(a, rendered, res);
    const delivery = channel.delivery!;
    const open = this.transport(res, channel.key);
    if ('error' in open) {
      await this.record(a, configFailure(open.error), null, 'none', res);
      return;
    }
    const { transport } = open;
    const provider = transport.name;
    const x = { action: a, org: res.org, settings: res.settings, day };
    let deliveryId: bigint | null = null;
    const record = (): DeliveryRecord => {
      const c = delivery.content(rendered, x);
      return { channel: channel.key as DeliveryRecord['channel'], provider, ...c, sha256: sha256(c.content), customerId: a.customerId, invoiceIds: a.invoiceIds };
    };

    if (open.handOverOnly) {
      // Handing it over is the whole of it (the print batch): stored and recorded in one statement,
      // in groups. The lane goes on to its next message meanwhile: a letter that is not written
      // stays queued (no hand-over, no delivery row) and is rendered again.
      this.track(
        a,
        this.letterRecords.add({ a, d: record() }).then(
          (id) => {
            if (id === null) this.log(`worker: ${new LeaseLost(a).message}`);
            else this.stats.exported++;
          },
          (e) => this.record(a, { kind: 'temporary', error: (e as Error).message }, null, 'unknown', res),
        ),
      );
      return;
    }

    let outcome: ProviderOutcome;
    try {
      outcome = await transport.send(delivery.message(rendered, x), async () => {
        const id = await this.handOvers.add({ a, d: record() });
        if (id === null) throw new LeaseLost(a);
        deliveryId = id;
      });
      if (outcome.kind === 'permanent' && outcome.badAddress && delivery.badAddress) {
        const bad = delivery.badAddress(rendered);
        await this.markInvalid(a, bad.kind, bad.values, outcome.error);
      }
    } catch (e) {
      if (e instanceof LeaseLost) {
        this.log(`worker: ${e.message}`);
        this.done(a);
        return;
      }
      // Handed over and then an unexpected error: we cannot know, a human decides.
      outcome = deliveryId !== null ? { kind: 'uncertain', error: (e as Error).message } : { kind: 'temporary', error: (e as Error).message };
    }
    const id = deliveryId as bigint | null;
    const extras = delivery.extras;
    await this.record(
      a,
      outcome,
      id,
      provider,
      res,
      id !== null && extras ? (q) => extras({ q, orgId: a.orgId, deliveryId: id, rendered, outcome, provider, now: this.clock() }) : undefined,
    );
  }

  private async record(a: ClaimedAction, outcome: SendOutcome, deliveryId: bigint | null, provider: string, res: OrgResources | undefined, extra?: (q: Queryable) => Promise<void>) {
    if ((outcome.kind === 'sent' || outcome.kind === 'exported') && !extra) {
      // A plain "sent" (or "exported") joins the next group write; the lane goes on to its next message.
      const exported = outcome.kind === 'exported';
      this.track(
        a,
        this.sentRecords
          .add({ a, provider, providerMessageId: outcome.providerMessageId, response: exported ? outcome.location : (outcome.response ?? null), deliveryId, status: exported ? 'exported' : 'sent' })
          .then((recorded) => {
            if (recorded) this.stats[exported ? 'exported' : 'sent']++;
            else this.log(`worker: action ${a.id}: ${outcome.kind}, but a newer attempt owns it: not recorded again`);
          }),
      );
      return;
    }
    const context = { now: this.clock(), maxAttempts: res?.settings.maxAttempts ?? 8, deliveryId, provider };
    const r = await this.db.tx(async (q) => {
      const out = await recordOutcome(q, a, outcome, context);
      if (extra) await extra(q);
      return out;
    });
    if (r.status === 'sent') this.stats.sent++;
    else if (r.status === 'exported') this.stats.exported++;
    else if (r.status === 'queued') this.stats.retried++;
    else if (r.status === 'failed') this.stats.failed++;
    else if (r.status === 'uncertain') this.stats.uncertain++;
    if (r.fallbackId) this.stats.fallbacks++;
    this.done(a);
    if (outcome.kind !== 'sent' && outcome.kind !== 'exported') this.log(`worker: action ${a.id} (${a.channel}) ${r.status}: ${outcome.error}`);
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
  private async createTask(a: ClaimedAction, r: RenderedAction, res: OrgResources): Promise<void> {
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
    this.done(a);
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

async function closeAll(r: OrgResources) {
  for (const t of r.transports.values()) if ('transport' in t) await t.transport.close?.().catch(() => {});
}

/** A channel that cannot work until its settings are fixed: failed with the reason, no fallback, no retry. */
function configFailure(e: ChannelConfigError | Error): SendOutcome {
  return { kind: 'permanent', error: `configuration: ${e.message}`.slice(0, 500), config: true };
}

/** What to record for an action that could not be prepared. */
function prepareFailure(e: unknown): SendOutcome {
  if (e instanceof ChannelConfigError || (isRelanceError(e) && e.code === 'config')) return configFailure(e as Error);
  if (e instanceof PermanentContentError) return { kind: 'permanent', error: e.message, badAddress: false };
  if (isRelanceError(e) && e.code === 'validation') return { kind: 'permanent', error: e.message };
  return { kind: 'temporary', error: `could not prepare the message: ${(e as Error).message}` };
}
