/**
 * Delivery rules, pure: the outbox state machine, retry backoff, how a send result is classified
 * (sent, temporary, permanent, uncertain), when the sending window next opens, SMS encoding and
 * segments, E.164 numbers, stable Message-IDs and plus-addressed reply addresses, call outcomes.
 * The clock is always a parameter.
 */
import { Temporal } from 'temporal-polyfill';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { addDays, type CalendarDate, todayIn } from './dates.ts';
import { CHANNEL_KEYS, CHANNEL_SPECS, channelSpec } from './channels.ts';
import { windowStart } from './engine/window.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('delivery-rules', {
  transition: { fr: 'une action au statut {status} ne peut pas être {event} (seulement depuis : {from})', en: 'an action that is {status} cannot be {event} (only {from})' },
  reply_to: { fr: "l’adresse de réponse « {address} » n’est pas une adresse e-mail", en: "reply-to address \"{address}\" is not an email address" },
  e164: { fr: "« {raw} » n’est pas un numéro de téléphone international au format E.164 (+ indicatif pays, puis 15 chiffres au plus)", en: "\"{raw}\" is not an international phone number in E.164 form (+ country code, then up to 15 digits)" },
  e164_fr: { fr: "« {raw} » n’est pas un numéro de téléphone international au format E.164 (+ indicatif pays, puis 15 chiffres au plus) (un numéro français s’écrit {fixed})", en: "\"{raw}\" is not an international phone number in E.164 form (+ country code, then up to 15 digits) (a French number is written {fixed})" },
  outcome: { fr: "résultat d’appel inconnu « {outcome} » ; valeurs connues : {known}", en: "unknown call outcome \"{outcome}\"; known: {known}" },
  reason: { fr: "motif de non-paiement inconnu « {reason} » ; valeurs connues : {known}", en: "unknown reason for non-payment \"{reason}\"; known: {known}" },
  promise_date: { fr: "une promesse de paiement doit avoir une date promise", en: "a promise to pay needs the promised date" },
  promise_past: { fr: "une date promise ne peut pas être dans le passé", en: "a promised date cannot be in the past" },
  promise_amount: { fr: "une promesse de paiement doit avoir un montant positif", en: "a promise to pay needs a positive amount" },
  dispute: { fr: "un litige doit indiquer le motif donné par le client", en: "a dispute needs the reason the customer gave" },
});

// ------------------------------------------------------------------ state machine

/**
 * `exported`: a local channel (no SMTP server, no SMS or registered-mail provider, the print batch)
 * wrote what it would send and nothing left the machine: it awaits sending by hand, and becomes
 * `sent` only when a human confirms it went (or `cancelled` when it will not).
 */
export const ACTION_STATUSES = ['planned', 'awaiting_approval', 'queued', 'sending', 'sent', 'exported', 'failed', 'uncertain', 'cancelled'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export type OutboxEvent =
  | 'approve' // a human approves a step that asks for it
  | 'queue' // planned -> queued (no approval needed)
  | 'claim' // a worker takes it, after re-checking it is still due
  | 'defer' // outside the window, rate-limited: stays queued
  | 'sent' // the provider accepted it
  | 'export' // a local channel wrote it: nothing left, a human sends it
  | 'confirm_sent' // a human confirms an exported message went out (posted, sent by hand)
  | 'requeue' // a human queues a failed action again (its channel's configuration was fixed)
  | 'retry' // temporary failure, or a worker died before handing it over
  | 'fail' // permanent failure (the fallback channel, if any, gets a new action)
  | 'uncertain' // it may or may not have gone out: a human decides
  | 'cancel' // by a human, or by the re-check (paid, paused, disputed)
  | 'resolve_sent' // a human confirms an uncertain message went out
  | 'resolve_retry'; // a human confirms it did not: send it again

const TRANSITIONS: Record<OutboxEvent, { from: readonly ActionStatus[]; to: ActionStatus }> = {
  approve: { from: ['awaiting_approval'], to: 'queued' },
  queue: { from: ['planned'], to: 'queued' },
  claim: { from: ['queued'], to: 'sending' },
  defer: { from: ['queued'], to: 'queued' },
  sent: { from: ['sending', 'uncertain'], to: 'sent' },
  export: { from: ['sending'], to: 'exported' },
  confirm_sent: { from: ['exported'], to: 'sent' },
  requeue: { from: ['failed'], to: 'queued' },
  retry: { from: ['sending'], to: 'queued' },
  fail: { from: ['sending', 'sent'], to: 'failed' },
  uncertain: { from: ['sending'], to: 'uncertain' },
  cancel: { from: ['planned', 'awaiting_approval', 'queued', 'exported'], to: 'cancelled' },
  resolve_sent: { from: ['uncertain'], to: 'sent' },
  resolve_retry: { from: ['uncertain'], to: 'queued' },
};

/** The statuses an event may start from (SQL `status = ANY(...)` mirrors this table). */
export function fromStatuses(event: OutboxEvent): readonly ActionStatus[] {
  return TRANSITIONS[event].from;
}

/** The next status, or a conflict error naming both when the move is not allowed. */
export function transition(status: ActionStatus, event: OutboxEvent): ActionStatus {
  const t = TRANSITIONS[event];
  if (!t.from.includes(status)) {
    throw new RelanceError(ERROR_CODES.CONFLICT, E('transition', { status, event: PAST(event), from: t.from.join(', ') }), {
      details: { status, event },
    });
  }
  // A sent message stays sent; a later bounce adds an event and a fallback action instead.
  if (event === 'fail' && status === 'sent') return 'sent';
  return t.to;
}

const PAST = defineErrors('delivery-events', {
  approve: { fr: 'approuvée', en: 'approved' },
  queue: { fr: 'mise en file', en: 'queued' },
  claim: { fr: 'prise en charge', en: 'claimed' },
  defer: { fr: 'reportée', en: 'deferred' },
  sent: { fr: 'marquée envoyée', en: 'marked sent' },
  export: { fr: 'exportée', en: 'exported' },
  confirm_sent: { fr: 'confirmée comme envoyée', en: 'confirmed as sent' },
  requeue: { fr: 'remise en file', en: 'queued again' },
  retry: { fr: 'retentée', en: 'retried' },
  fail: { fr: 'marquée en échec', en: 'failed' },
  uncertain: { fr: 'marquée incertaine', en: 'marked uncertain' },
  cancel: { fr: 'annulée', en: 'cancelled' },
  resolve_sent: { fr: 'résolue comme envoyée', en: 'resolved as sent' },
  resolve_retry: { fr: 'résolue pour une nouvelle tentative', en: 'resolved for a new attempt' },
} satisfies Record<OutboxEvent, { fr: string; en: string }>);

// ------------------------------------------------------------------ retries

/**
 * Seconds to wait before attempt n+1 after n failed attempts: 1, 2, 4, 8... minutes, capped at six
 * hours, spread by ±20 % from the action id so a burst of failures does not come back as a burst.
 */
export function retryDelaySeconds(failedAttempts: number, actionId: bigint, opts: { baseSeconds?: number; capSeconds?: number } = {}): number {
  const base = opts.baseSeconds ?? 60;
  const cap = opts.capSeconds ?? 6 * 3600;
  const raw = Math.min(cap, base * 2 ** Math.max(0, failedAttempts - 1));
  const spread = Number(actionId % 41n) - 20; // -20..20
  return Math.max(1, Math.round(raw * (1 + spread / 100)));
}

// ------------------------------------------------------------------ send results

export type SendOutcome =
  | { kind: 'sent'; providerMessageId: string | null; response?: string | null }
  /** A local channel wrote the message where a human finds it (`location`): nothing left. */
  | { kind: 'exported'; providerMessageId: string | null; location: string }
  | { kind: 'temporary'; error: string }
  | {
      kind: 'permanent';
      error: string;
      /** the address itself was refused: mark it invalid */
      badAddress?: boolean;
      /** the channel's own settings are missing or wrong: no fallback, a human fixes them and queues it again */
      config?: boolean;
    }
  | { kind: 'uncertain'; error: string };

export interface SmtpErrorFacts {
  message: string;
  /** nodemailer's error code: ECONNECTION, ETIMEDOUT, EENVELOPE, EMESSAGE, EAUTH, ESOCKET... */
  code?: string;
  /** The SMTP reply code when the server answered. */
  responseCode?: number;
  /** The command the reply answered (RCPT TO, DATA, AUTH...). */
  command?: string;
  /** Whether the message content had started to go to the server. */
  dataStarted: boolean;
}

/**
 * An SMTP failure, classified. A server reply is definitive: 4xx temporary, 5xx permanent (a 5xx
 * to RCPT TO means the address does not exist: a hard bounce). Without a reply, what matters is
 * whether the content had started to go out: before, nothing was delivered (temporary); after,
 * the server may have queued it before the connection dropped (uncertain, never retried blindly).
 */
export function classifySmtpError(e: SmtpErrorFacts): SendOutcome {
  const text = `${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}${e.command ? ` (${e.command})` : ''}: ${e.message}`.slice(0, 500);
  if (e.responseCode && e.responseCode >= 400) {
    if (e.responseCode < 500) return { kind: 'temporary', error: text };
    const badAddress = /RCPT/i.test(e.command ?? '') || [550, 551, 553].includes(e.responseCode) && /RCPT|recipient|mailbox|user/i.test(e.message);
    return { kind: 'permanent', error: text, badAddress };
  }
  if (e.code === 'EAUTH') return { kind: 'temporary', error: text };
  return e.dataStarted ? { kind: 'uncertain', error: text } : { kind: 'temporary', error: text };
}

/**
 * An HTTP provider's answer (SMS, registered mail). No answer after the request went out is
 * uncertain; 429 and 503 say "not processed, come back"; other 5xx may have been processed.
 */
export function classifyHttpResult(r: { status?: number; requestSent: boolean; error?: string }): SendOutcome | null {
  if (r.status === undefined) {
    return r.requestSent ? { kind: 'uncertain', error: r.error ?? 'no answer from the provider' } : { kind: 'temporary', error: r.error ?? 'provider unreachable' };
  }
  if (r.status >= 200 && r.status < 300) return null;
  const error = `HTTP ${r.status}${r.error ? `: ${r.error.slice(0, 300)}` : ''}`;
  if (r.status === 429 || r.status === 503 || r.status === 502 || r.status === 408) return { kind: 'temporary', error };
  if (r.status >= 500) return { kind: 'uncertain', error };
  return { kind: 'permanent', error, badAddress: r.status === 422 };
}

// ------------------------------------------------------------------ sending window

export interface SendingRules {
  timeZone: string;
  window: { start: string; end: string };
  workingDaysOnly: boolean;
  isWorkingDay: (d: CalendarDate) => boolean;
}

/**
 * The first instant at or after `nowIso` when a message may go out: now when inside the window on
 * an allowed day, else the start of the next window (today's if it has not opened yet).
 */
export function nextSendingInstant(nowIso: string, rules: SendingRules): string {
  const today = todayIn(rules.timeZone, Date.parse(nowIso));
  const local = Temporal.Instant.from(nowIso).toZonedDateTimeISO(rules.timeZone);
  const hhmm = `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
  const dayAllowed = (d: CalendarDate) => !rules.workingDaysOnly || rules.isWorkingDay(d);
  if (dayAllowed(today) && hhmm >= rules.window.start && hhmm < rules.window.end) return nowIso;
  let day = dayAllowed(today) && hhmm < rules.window.start ? today : addDays(today, 1);
  for (let i = 0; i < 40 && !dayAllowed(day); i++) day = addDays(day, 1);
  return windowStart(day, rules.timeZone, rules.window.start);
}

/** Start of the one-minute rate window containing an instant. */
export function rateWindowStart(nowIso: string): string {
  const ms = Date.parse(nowIso);
  return new Date(ms - (ms % 60_000)).toISOString();
}

export const DEFAULT_RATE_LIMITS: Record<string, number> = Object.fromEntries(CHANNEL_KEYS.map((k) => [k, CHANNEL_SPECS[k].defaultRatePerMinute]));

// ------------------------------------------------------------------ addresses

/** RFC 5322 Message-ID derived from the action alone: a resend of the same action carries the same id. */
export function messageIdFor(orgId: string, actionId: bigint, fromAddress: string | null): string {
  const domain = fromAddress && /@([A-Za-z0-9.-]+)$/.exec(fromAddress)?.[1];
  return `<action-${orgId}-${actionId}@${domain || 'relance.invalid'}>`;
}

/** The (org, action) a Message-ID was made for, or null. */
export function parseMessageId(messageId: string): { orgId: string; actionId: bigint } | null {
  const m = /^<?action-([0-9a-f-]{36})-(\d+)@[^>]+>?$/i.exec(messageId.trim());
  return m ? { orgId: m[1]!.toLowerCase(), actionId: BigInt(m[2]!) } : null;
}

/** relances@acme.fr + (customer 42, action 7) -> relances+c42-a7@acme.fr */
export function caseReplyAddress(base: string, customerId: bigint, actionId: bigint): string {
  const at = base.lastIndexOf('@');
  if (at <= 0) throw validation(E('reply_to', { address: base }), { field: 'reply_to' });
  const local = base.slice(0, at).split('+')[0];
  return `${local}+c${customerId}-a${actionId}${base.slice(at)}`;
}

/** The customer case a reply was addressed to (relances+c42-a7@acme.fr), or null. */
export function parseCaseReplyAddress(address: string): { customerId: bigint; actionId: bigint } | null {
  const m = /\+c(\d+)-a(\d+)@/i.exec(address);
  return m ? { customerId: BigInt(m[1]!), actionId: BigInt(m[2]!) } : null;
}

const EMAIL = /^[^\s@<>()",;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
export function isPlausibleEmail(s: string): boolean {
  return EMAIL.test(s);
}

// ------------------------------------------------------------------ SMS

/** E.164: "+" then 2 to 15 digits, the first not 0. Spaces, dots, dashes and brackets are dropped. */
export function normaliseE164(raw: string, where = { field: 'phone' }): string {
  const compact = raw.replace(/[\s.\-()]/g, '');
  if (/^\+[1-9]\d{1,14}$/.test(compact)) return compact;
  const french = /^0\d{9}$/.test(compact);
  throw validation(french ? E('e164_fr', { raw, fixed: `+33${compact.slice(1)}` }) : E('e164', { raw }), where);
}

/**
 * The sender an SMS shows: an alphanumeric sender ID (at most 11 letters, digits or spaces, at
 * least one letter, as operators accept them) from the name given, accents dropped; never empty.
 */
export function smsSenderId(name: string | null | undefined, fallback = 'Relance'): string {
  const clean = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^A-Za-z0-9 ]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 11)
      .trim();
  const id = clean(name ?? '');
  return /[A-Za-z]/.test(id) ? id : clean(fallback) || 'Relance';
}

// GSM 03.38 basic character set and its extension table (each extension character takes 2 septets).
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '^{}\\[~]|€\f';
const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

/**
 * How an SMS is split: GSM-7 when every character is in the GSM alphabet (160 septets, or 153 per
 * part when concatenated; an extension character never straddles two parts), else UCS-2 (70 code
 * units, 67 per part; a surrogate pair never straddles two parts).
 */
export function smsSegments(text: string): SmsSegments {
  const chars = [...text];
  if (chars.every((c) => BASIC.has(c) || EXTENSION.has(c))) {
    const units = chars.reduce((n, c) => n + (EXTENSION.has(c) ? 2 : 1), 0);
    if (units <= 160) return { encoding: 'GSM-7', units, segments: 1 };
    let segments = 1;
    let used = 0;
    for (const c of chars) {
      const w = EXTENSION.has(c) ? 2 : 1;
      if (used + w > 153) {
        segments++;
        used = 0;
      }
      used += w;
    }
    return { encoding: 'GSM-7', units, segments };
  }
  const units = text.length;
  if (units <= 70) return { encoding: 'UCS-2', units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const c of chars) {
    const w = c.length;
    if (used + w > 67) {
      segments++;
      used = 0;
    }
    used += w;
  }
  return { encoding: 'UCS-2', units, segments };
}

// ------------------------------------------------------------------ calls

export const CALL_OUTCOMES = ['reached', 'no_answer', 'wrong_number', 'promise_to_pay', 'dispute', 'already_paid', 'payment_plan_requested'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];
export const NON_PAYMENT_REASONS = ['forgot', 'invoice_not_received', 'missing_purchase_order', 'dispute', 'cash_difficulty', 'bad_faith', 'other'] as const;
export type NonPaymentReason = (typeof NON_PAYMENT_REASONS)[number];

export interface CallOutcomeInput {
  outcome: CallOutcome;
  reason?: NonPaymentReason | null;
  note?: string | null;
  promisedOn?: CalendarDate | null;
  promisedMinor?: bigint | null;
  disputeReason?: string | null;
}

/** What an outcome must carry, and what it sets in motion. */
export function checkCallOutcome(o: CallOutcomeInput, today: CalendarDate): { closesTask: boolean; effect: 'promise' | 'dispute' | 'reconciliation' | 'payment_plan_request' | 'wrong_number' | 'callback' | null } {
  if (!CALL_OUTCOMES.includes(o.outcome)) throw validation(E('outcome', { outcome: String(o.outcome), known: CALL_OUTCOMES.join(', ') }), { field: 'outcome' });
  if (o.reason != null && !NON_PAYMENT_REASONS.includes(o.reason)) {
    throw validation(E('reason', { reason: String(o.reason), known: NON_PAYMENT_REASONS.join(', ') }), { field: 'reason' });
  }
  switch (o.outcome) {
    case 'promise_to_pay':
      if (!o.promisedOn) throw validation(E('promise_date'), { field: 'promisedOn' });
      if (o.promisedOn < today) throw validation(E('promise_past'), { field: 'promisedOn' });
      if (!o.promisedMinor || o.promisedMinor <= 0n) throw validation(E('promise_amount'), { field: 'amount' });
      return { closesTask: true, effect: 'promise' };
    case 'dispute':
      if (!o.disputeReason?.trim()) throw validation(E('dispute'), { field: 'disputeReason' });
      return { closesTask: true, effect: 'dispute' };
    case 'already_paid':
      return { closesTask: true, effect: 'reconciliation' };
    case 'payment_plan_requested':
      return { closesTask: true, effect: 'payment_plan_request' };
    case 'wrong_number':
      return { closesTask: false, effect: 'wrong_number' };
    case 'no_answer':
      return { closesTask: false, effect: 'callback' };
    default:
      return { closesTask: true, effect: null };
  }
}

// ------------------------------------------------------------------ channels

/** Which document channel renders an outbox channel. */
export function documentChannel(channel: string): 'email' | 'sms' | 'letter' | 'call' | null {
  return channelSpec(channel)?.document ?? null;
}
