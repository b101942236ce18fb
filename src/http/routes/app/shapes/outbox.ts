/** The outbox and a message as it went out (GET /api/app/outbox, /api/app/deliveries/:id), as src/http/routes/app/outbox.ts answers and web/src/screens/Outbox.tsx reads them. */
import type { ParsedEml } from './eml.ts';

export interface OutboxListRow {
  id: string;
  actionId: string;
  customerId: string;
  customerName: string;
  channel: string;
  provider: string;
  /** Written to a local folder or a print batch: exported, not sent. */
  local: boolean;
  recipients: unknown;
  subject: string | null;
  contentType: string;
  bytes: number;
  handedOverAt: string;
  sentAt: string | null;
  template: string;
  status: string;
  /** Every invoice of the message is paid since: an exported one is not to be sent. */
  settled: boolean;
  invoices: string[];
}

/** A message not gone out yet, or one that failed: when it may leave, and why it did not. */
export interface OutboxPendingRow {
  id: string;
  customerId: string;
  customerName: string;
  channel: string;
  template: string;
  status: string;
  plannedOn: string;
  /** The earliest instant it may leave (the sending window, a retry's time). */
  leavesAt: string;
  attempts: number;
  /** The provider's error, or the reason it is held. */
  reason: string | null;
  invoices: string[];
}

export interface OutboxResponse {
  /** Waiting to go out: approved, queued, or awaiting approval. */
  pending: OutboxPendingRow[];
  failed: OutboxPendingRow[];
  smtpConfigured: boolean;
  exported: number;
  rows: OutboxListRow[];
}

export interface DeliveryResponse {
  id: string;
  actionId: string;
  channel: string;
  provider: string;
  subject: string | null;
  contentType: string;
  sha256: string;
  handedOverAt: string;
  recipients: unknown;
  events: { kind: string; at: string; provider_message_id: string | null; detail: unknown }[];
  rawUrl: string;
  /** A stored e-mail, read back. */
  email?: ParsedEml;
  /** A stored text (an SMS, a call script). */
  text?: string;
}
