/**
 * Shared set-up for the delivery tests: an organisation with a test scenario (one step per
 * channel), customers with contacts, invoices (optionally with their PDF), the daily cycle run on
 * a given day, a worker on a fixed clock, and a real SMTP server (smtp-server on 127.0.0.1) that
 * records every message it accepted, with switches to refuse or drop.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Db } from '../src/db/driver.ts';
import { addDays, type CalendarDate } from '../src/domain/dates.ts';
import { windowStart } from '../src/domain/engine/window.ts';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { saveDeliverySettings, type SettingsInput } from '../src/delivery/settings.ts';
import { DeliveryWorker, type WorkerOptions } from '../src/delivery/worker.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { assignScenario, createScenario, ensureBuiltinScenarios } from '../src/engine/scenarios.ts';
import { createCustomer, createInvoice, createOrganisation } from '../src/ledger/repo.ts';
import { luhnCheckDigit } from '../src/domain/identifiers.ts';

export const d = (s: string) => s as CalendarDate;
/** An instant: a local time in Paris on a day. */
export const paris = (day: string, hhmm = '10:00') => new Date(windowStart(d(day), 'Europe/Paris', hhmm));

export const TEST_SCENARIO: ScenarioDefinition = {
  options: { workingDaysOnly: true, holidayCalendar: 'FR', window: { start: '09:00', end: '18:00' }, minGapDays: 0, grouping: 'per_customer' },
  steps: [
    { offset: 0, channel: 'email', template: 'due', tone: 'reminder' },
    { offset: 7, channel: 'email', template: 'reminder', tone: 'reminder', fallbackChannel: 'letter' },
    { offset: 10, channel: 'sms', template: 'reminder', tone: 'reminder' },
    { offset: 14, channel: 'letter', template: 'firm', tone: 'firm' },
    { offset: 21, channel: 'call_task', template: 'call_j8', tone: 'reminder' },
    { offset: 30, channel: 'registered_letter', template: 'formal_notice', tone: 'formal_notice', requiresApproval: true },
  ],
};

export interface Contact {
  name?: string;
  email?: string | null;
  phone?: string | null;
  address?: boolean;
}

let n = 0;

/** A valid SIREN of its own for each test organisation: one organisation per company. */
export const sirenFor = (k: number) => {
  const body = String(73282932 + k).padStart(8, '0');
  return body + luhnCheckDigit(body);
};

export async function setupOrg(db: Db, settings: SettingsInput = {}, scenario: ScenarioDefinition = TEST_SCENARIO) {
  n++;
  const org = await createOrganisation(db, {
    legalName: `Menuiserie Test ${n} SAS`,
    siren: sirenFor(n),
    addressLine1: '12 rue des Tanneurs',
    postalCode: '69002',
    city: 'Lyon',
    iban: 'FR7630006000011234567890189',
    bic: 'AGRIFRPP',
    timeZone: 'Europe/Paris',
    live: true,
  });
  await db.tx(async (q) => {
    await ensureBuiltinScenarios(q, org.id);
    await createScenario(q, org.id, { key: 'test', name: 'Test', definition: scenario });
    await assignScenario(q, org.id, 'test', { organisationDefault: true });
    await saveDeliverySettings(q, org.id, { fromAddress: 'relances@menuiserie.test', fromName: 'Menuiserie Test', replyTo: 'compta@menuiserie.test', ...settings });
  });
  return org;
}

export async function addCustomer(db: Db, orgId: string, contacts: Contact[] = [{}], kind: 'business' | 'consumer' = 'business') {
  n++;
  return createCustomer(db, orgId, {
    legalName: `Client ${n} SARL`,
    kind,
    contacts: contacts.map((c, k) => ({
      name: c.name ?? `Contact ${n}-${k}`,
      email: c.email === undefined ? `compta${n}-${k}@client.test` : c.email,
      phone: c.phone === undefined ? '+33612345678' : c.phone,
      ...(c.address === false ? {} : { addressLine1: '3 place du Marché', postalCode: '69003', city: 'Lyon' }),
      receivesReminders: true,
    })),
  });
}

export async function addInvoice(db: Db, orgId: string, customerId: bigint, due: string, opts: { amount?: bigint; pdf?: Buffer; number?: string } = {}) {
  n++;
  let pdfDocumentId: bigint | null = null;
  if (opts.pdf) {
    const [doc] = await db.query<{ id: bigint }>(
      'INSERT INTO documents (organisation_id, filename, content_type, sha256, content) VALUES ($1,$2,$3,$4,$5) RETURNING id',
      [orgId, `F-${n}.pdf`, 'application/pdf', createHash('sha256').update(opts.pdf).digest('hex'), opts.pdf],
    );
    pdfDocumentId = doc!.id;
  }
  const inv = await createInvoice(db, orgId, {
    customerId,
    number: opts.number ?? `F-${n}`,
    issueDate: addDays(d(due), -30),
    dueDate: due,
    currency: 'EUR',
    amountExclTaxMinor: 0n,
    amountInclTaxMinor: opts.amount ?? 120_000n,
  });
  if (pdfDocumentId) await db.query('UPDATE invoices SET pdf_document_id = $3 WHERE organisation_id = $1 AND id = $2', [orgId, inv.id, pdfDocumentId]);
  return inv;
}

export const plan = (db: Db, orgId: string, day: string) => runCycle(db, orgId, { today: d(day) });

/**
 * An invoice the engine already chased up to the step at `offset` (planned on `on`), so that a
 * later step goes out next rather than the first post-due step of an invoice never chased.
 */
export async function chasedUntil(db: Db, orgId: string, invoiceId: bigint, offset: number, on: string) {
  await db.query(
    `INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, recorded_on) VALUES ($1, $2, $3, $4, 'planned', $5)`,
    [orgId, invoiceId, `${offset}:earlier`, offset, on],
  );
}

/** Reminders sent before Relance, as an import of the invoice's history records them. */
export async function sentOutside(db: Db, orgId: string, invoiceId: bigint, level: 'reminder' | 'firm' | 'final' | 'formal_notice', on: string) {
  await db.query('INSERT INTO outside_reminders (organisation_id, invoice_id, level, sent_on) VALUES ($1, $2, $3, $4)', [orgId, invoiceId, level, on]);
}

export function worker(db: Db, clock: Date | (() => Date), o: Partial<WorkerOptions> = {}) {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'relance-delivery-'));
  return new DeliveryWorker(db, { dataDir, concurrency: 4, leaseMs: 60_000, clock: typeof clock === 'function' ? clock : () => clock, ...o });
}

export async function actions(db: Db, orgId: string) {
  return db.query<{ id: bigint; channel: string; status: string; status_reason: string | null; attempts: number; next_attempt_at: string | null; fallback_from: string | null; fallback_action_id: bigint | null; last_error: string | null }>(
    'SELECT * FROM actions WHERE organisation_id = $1 ORDER BY id',
    [orgId],
  );
}

// ------------------------------------------------------------------ a real SMTP peer

export interface ReceivedMail {
  raw: Buffer;
  envelope: { from: string; to: string[] };
  messageId: string | null;
}

export interface TestSmtp {
  port: number;
  received: ReceivedMail[];
  /** Reply to RCPT TO with 550 for these addresses. */
  rejectRecipients: Set<string>;
  /** Answer the end of DATA with this code (e.g. 451) instead of 250, for the next n messages. */
  failData: { code: number; times: number } | null;
  /** Accept the message, then drop the connection instead of replying, for the next n messages. */
  dropAfterData: number;
  parse(m: ReceivedMail): Promise<ParsedMail>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const state: TestSmtp = {
    port: 0,
    received: [],
    rejectRecipients: new Set(),
    failData: null,
    dropAfterData: 0,
    parse: (m) => simpleParser(m.raw),
    close: async () => {},
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 20 * 1024 * 1024,
    onRcptTo(address, _session, cb) {
      if (state.rejectRecipients.has(address.address)) {
        const e = new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`) as Error & { responseCode: number };
        e.responseCode = 550;
        return cb(e);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => {});
      // Only a message received in full (the final dot) counts as accepted.
      stream.on('end', () => {
        if (stream.sizeExceeded) return cb(new Error('too big'));
        const raw = Buffer.concat(chunks);
        const head = raw.subarray(0, Math.min(raw.length, 8192)).toString('latin1');
        const m = /^Message-ID:\s*(<[^>]+>)/im.exec(head);
        if (state.failData && state.failData.times > 0) {
          state.failData.times--;
          const e = new Error('4.3.0 try again later') as Error & { responseCode: number };
          e.responseCode = state.failData.code;
          return cb(e);
        }
        state.received.push({
          raw,
          envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
          messageId: m?.[1] ?? null,
        });
        if (state.dropAfterData > 0) {
          state.dropAfterData--;
          // Queued, but the client never hears it: the ambiguous case.
          setImmediate(() => socketOf(server, session.id)?.destroy());
          return;
        }
        cb(null, `2.0.0 Ok: queued as Q${state.received.length}`);
      });
    },
  });
  // A client killed mid-session resets its connection: expected here, not a test failure.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.server.address() as { port: number }).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Idle pooled client connections would hold close() for its 30 s grace period.
      for (const c of (server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections) c._socket.destroy();
    });
  return state;
}

/** smtp-server keeps its connections in a set; find the socket of a session to drop it. */
function socketOf(server: SMTPServer, sessionId: string): { destroy(): void } | undefined {
  const conns = (server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections;
  for (const c of conns) if (c.id === sessionId) return c._socket;
  return undefined;
}

export const smtpSettings = (port: number): SettingsInput => ({ smtpHost: '127.0.0.1', smtpPort: port, smtpSecurity: 'none', smtpPoolSize: 4 });
