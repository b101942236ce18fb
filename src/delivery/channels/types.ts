/**
 * The contract every delivery channel and every provider adapter fulfils (docs/channels.md tells
 * how to add one). A channel (src/delivery/channels/registry.ts) knows whom to address among the
 * customer's contacts, turns the composed document into what it sends, names what the proof store
 * keeps, and which providers can carry it; a provider adapter opens a transport for an
 * organisation from its settings and sends one message at a time:
 *
 * - `send(message, handOver)` calls `handOver()` before the first byte that could reach the
 *   debtor leaves (it commits "this message is leaving" with its exact content, and throws when the
 *   worker no longer owns the action: then nothing may be sent). Steps that cannot reach the debtor
 *   (a draft at the provider, a login) may come before it.
 * - It answers with a SendOutcome, never throws for a provider's refusal: `sent` (the provider
 *   accepted it; its id), `exported` (a local adapter wrote it where a human finds it: nothing
 *   left), `temporary` (certainly not sent: retried with backoff), `permanent` (refused: the step
 *   moves to its fallback channel; `badAddress` when the address itself was refused), `uncertain`
 *   (it may have gone: a human decides, never retried blindly). classifyHttpResult and
 *   classifySmtpError in src/domain/delivery.ts do the classification for HTTP and SMTP.
 * - Credentials come from the provider's settings, secrets through src/delivery/secrets.ts; a
 *   setting that is missing or wrong throws ChannelConfigError when the transport opens, which
 *   fails that channel's messages alone (with the reason), never the other channels.
 */
import type { CalendarDate } from '../../domain/dates.ts';
import type { ChannelKey, ChannelSpec } from '../../domain/channels.ts';
import type { SendOutcome, SmsSegments } from '../../domain/delivery.ts';
import type { RateTables } from '../../domain/law/index.ts';
import type { Queryable } from '../../db/driver.ts';
import type { ComposedDocument } from '../../documents/compose.ts';
import type { SourceLookup } from '../../documents/engine.ts';
import type { TemplateKey } from '../../documents/registry.ts';
import type { DocumentInput } from '../../documents/variables.ts';
import type { Lang } from '../../i18n/index.ts';
import type { Contact, Organisation } from '../../ledger/repo.ts';
import type { SecretSource } from '../secrets.ts';

/** A channel's provider as the settings choose it; secrets still unread. */
export interface ProviderChoice {
  provider: string;
  options: Record<string, string>;
  secrets: Record<string, SecretSource>;
}

/** An organisation's delivery settings (src/delivery/settings.ts reads and writes them). */
export interface DeliverySettings {
  smtp: {
    host: string;
    port: number;
    security: 'none' | 'starttls' | 'tls';
    user: string | null;
    password: SecretSource | null;
    poolSize: number;
  } | null;
  fromAddress: string | null;
  fromName: string | null;
  replyTo: string | null;
  /** The provider chosen per channel (absent: the channel's local default). */
  providers: Partial<Record<ChannelKey, ProviderChoice>>;
  callAssignee: string;
  maxAttempts: number;
  rateLimits: Record<string, number>;
  updatedAt: string | null;
}

/** A failure that will not go away by retrying: no address, no template for the channel... */
export class PermanentContentError extends Error {
  constructor(
    message: string,
    readonly badAddress = false,
  ) {
    super(message);
  }
}

/** A channel's settings are missing or wrong: its messages fail with this reason, the other channels go on. */
export class ChannelConfigError extends Error {
  constructor(
    readonly channel: string,
    message: string,
  ) {
    super(`${channel} is not configured: ${message}`);
  }
}

/** Commits the hand-over; throws when this worker no longer owns the action (nothing is sent then). */
export type HandOver = () => Promise<void>;

export interface SmsMessage {
  to: string;
  text: string;
  /** The sender shown on the phone (never empty). */
  sender: string;
  reference: string;
  idempotencyKey: string;
}

export type ProviderOutcome = SendOutcome & { trackingNumber?: string; proof?: Buffer | null };

export interface Transport<M> {
  /** Recorded with each message (deliveries.provider, actions.provider). */
  readonly name: string;
  send(m: M, handOver: HandOver): Promise<ProviderOutcome>;
  close?(): Promise<void>;
}

export interface ContactRow extends Contact {
  invalidEmail: boolean;
  invalidPhone: boolean;
}

export interface InvoiceSummary {
  id: string;
  number: string;
  dueDate: string;
  currency: string;
  open: string;
  openMinor: string;
}

export type Attachment = { filename: string; contentType: string; content: Buffer };

export type RenderedEmail = { channel: 'email'; subject: string; from: string; to: string[]; replyTo: string | null; messageId: string; raw: Buffer; attachments: string[]; recipients: object; invoices: InvoiceSummary[] };
export type RenderedSms = { channel: 'sms'; subject: null; to: string; text: string; segments: SmsSegments; recipients: object; invoices: InvoiceSummary[] };
/** A postal address, as its parts (providers lay it out their way) and as printed. */
export interface PostalAddress {
  /** The addressee: the customer's name. */
  name: string;
  /** The contact it is for, when not the customer itself. */
  attention: string | null;
  street: string;
  street2: string | null;
  postalCode: string;
  city: string;
  /** ISO 3166 code; null: the organisation's country. */
  country: string | null;
  /** The lines as the letter prints them. */
  lines: string[];
}
/** What a registered-mail provider gets. */
export interface RegisteredLetter {
  reference: string;
  idempotencyKey: string;
  recipient: PostalAddress;
  sender: { name: string; lines: string[]; street: string | null; street2: string | null; postalCode: string | null; city: string | null; country: string };
  subject: string;
  pdf: Buffer;
}
export type RenderedLetter = { channel: 'letter' | 'registered_letter'; subject: string; pdf: Buffer; address: PostalAddress; recipients: object; invoices: InvoiceSummary[] };
export type RenderedTask = { channel: 'call_task' | 'manual_task'; subject: string | null; script: string; phones: string[]; recipients: object; invoices: InvoiceSummary[] };
export type RenderedAction = RenderedEmail | RenderedSms | RenderedLetter | RenderedTask;

/** What a channel renders from: the action, the composed document and who it goes to. */
export interface ChannelRenderInput {
  action: { orgId: string; id: bigint; customerId: bigint; channel: string };
  key: TemplateKey;
  now: Date;
  org: Organisation;
  settings: DeliverySettings;
  overrides: SourceLookup;
  /** The customer's contacts that receive reminders (all of them when none is flagged). */
  contacts: ContactRow[];
  contact: ContactRow;
  input: DocumentInput;
  composed: ComposedDocument;
  /** The invoices' own PDFs (when stored). */
  attachments: Attachment[];
  invoices: InvoiceSummary[];
  lang: Lang;
}

/** What the proof store keeps of a message (deliveries row), besides who and when. */
export interface DeliveryContent {
  recipients: object;
  subject: string | null;
  messageId: string | null;
  contentType: string;
  content: Buffer;
}

/** The message a transport gets, built from the rendered action. */
export interface MessageContext {
  action: { orgId: string; id: bigint };
  org: Organisation;
  settings: DeliverySettings;
  /** The organisation's calendar day (the local outbox's folder). */
  day: CalendarDate;
}

/** Rows a channel keeps beside the proof, in the transaction that records the outcome. */
export interface ExtrasContext<R> {
  q: Queryable;
  orgId: string;
  deliveryId: bigint;
  rendered: R;
  outcome: ProviderOutcome;
  provider: string;
  now: Date;
}

// ------------------------------------------------------------------ providers and their settings

export interface ProviderField {
  key: string;
  label: { fr: string; en: string };
  kind: 'text' | 'url' | 'email';
  /** Kept as a secret (stored sealed, never shown back, never logged). */
  secret?: boolean;
  required?: boolean;
  /** Used when the setting is empty. */
  default?: string;
}

/** A provider's settings with its secrets read (only inside the worker, never shown or logged). */
export interface ProviderConfig {
  options: Record<string, string>;
  secrets: Record<string, string>;
}

export interface OpenContext {
  orgId: string;
  org: Organisation;
  settings: DeliverySettings;
  /** <data>/outbox: where local adapters write what they would send. */
  outboxDir: string;
  /** Messages in flight at once in this worker (an SMTP pool needs no more connections). */
  concurrency: number;
  allowSelfSignedSmtp?: boolean;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export interface ProviderDef<M> {
  key: string;
  label: { fr: string; en: string };
  /** Writes what it would send instead of sending it (the action ends `exported`). */
  local: boolean;
  /**
   * Handing the message over is all there is to it (the print batch): hand-overs are recorded in
   * groups with the outcome, without calling send.
   */
  handOverOnly?: boolean;
  fields: readonly ProviderField[];
  open(cfg: ProviderConfig, ctx: OpenContext): Transport<M>;
}

// ------------------------------------------------------------------ channels

export interface Channel<R extends RenderedAction = RenderedAction, M = unknown> {
  key: ChannelKey;
  spec: ChannelSpec;
  /** Whom to address among the contacts (the template greets them); throws PermanentContentError when nobody can be. */
  pickContact(contacts: ContactRow[]): ContactRow | undefined;
  render(x: ChannelRenderInput): Promise<R>;
  /** A task for the team (call, manual step) rather than a message: it lands on the task list. */
  task?: boolean;
  /** The message carries the invoices' own PDFs (when stored): its text may say they are attached. */
  attachesInvoices?: boolean;
  delivery?: {
    /** The first is the local default, used when the settings choose none. */
    providers: readonly ProviderDef<M>[];
    /** The provider the settings choose, when not `settings.providers[key]` (the email channel reads its SMTP settings). */
    choose?(settings: DeliverySettings): ProviderChoice | null;
    message(r: R, x: MessageContext): M;
    content(r: R, x: MessageContext): DeliveryContent;
    /** The addresses a refusal with badAddress names. */
    badAddress?(r: R): { kind: 'email' | 'phone'; values: string[] };
    extras?(x: ExtrasContext<R>): Promise<void>;
  };
}

/** Render context shared by every action of a batch. */
export interface RenderContext {
  now: Date;
  org: Organisation;
  settings: DeliverySettings;
  rates: RateTables;
  overrides: SourceLookup;
}
