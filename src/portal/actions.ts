/**
 * What a customer does on the portal, each acting in the engine at once, in the caller's
 * transaction, through the same functions as the CLI, the API and call outcomes
 * (src/engine/events.ts): a promise pauses exactly its invoices until its date, a dispute pauses
 * its invoices and is told (webhook, Today), a plan within the organisation's rules is accepted
 * and its instalments planned. Promises, disputes and accepted plans are confirmed to the customer
 * by the acknowledgements of src/engine/acknowledgements.ts (always, whatever the organisation's
 * setting: the customer asked on the portal and expects it in writing); "I have paid", a plan left
 * for a person and a changed contact by a receipt (template portal_receipt).
 *
 * Every action is a row of portal_events keyed by the form's own key: a form sent twice (double
 * click, reload, a retry) records and acts once. What needs a person ("I have paid", a plan
 * outside the rules, a changed contact, a dispute's document) is a follow-up in Today.
 *
 * Refusals are PortalRefusal with a message key of the portal's (src/portal/messages.ts): the
 * customer reads why, in their language, never an internal code.
 */
import { createHash } from 'node:crypto';
import { pgArray, type Queryable } from '../db/driver.ts';
import { addDays, addMonths, type CalendarDate, formatLongDate, isCalendarDate } from '../domain/dates.ts';
import { normaliseE164 } from '../domain/delivery.ts';
import { formatMoney, type Minor, parseAmount } from '../domain/money.ts';
import { queueAcknowledgement } from '../engine/acknowledgements.ts';
import { createPause, createPaymentPlan, openDispute, recordPromise } from '../engine/events.ts';
import { isRelanceError } from '../errors.ts';
import type { Lang } from '../i18n/index.ts';
import { getCustomer, getOrganisation } from '../ledger/repo.ts';
import type { PortalAccess } from './links.ts';
import { type PortalMessageKey, pt } from './messages.ts';
import { billingContact } from './view.ts';

/** A refusal the customer reads: a message key of the portal and the field it is about. */
export class PortalRefusal extends Error {
  constructor(
    readonly key: PortalMessageKey,
    readonly field: string,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(key);
  }
}

export interface ActionContext {
  access: PortalAccess;
  today: CalendarDate;
  now: Date;
  address: string;
  /** The form's key: the same form sent twice acts once. */
  submissionKey: string | null;
}

export type EventKind = 'visit' | 'document' | 'paid' | 'promise' | 'plan' | 'plan_request' | 'dispute' | 'contact' | 'check_ok' | 'check_problem' | 'pay_online';

export interface Recorded {
  eventId: bigint;
  /** False: this form was already sent; nothing was done again. */
  fresh: boolean;
  kind: EventKind;
}

/** Records a visit or an action; returns the existing row when the form was already sent. */
export async function recordEvent(
  q: Queryable,
  ctx: ActionContext,
  kind: EventKind,
  invoiceIds: readonly bigint[] | null,
  data: Record<string, unknown>,
): Promise<Recorded> {
  const { orgId, customerId, linkId } = ctx.access;
  const key = ctx.submissionKey ? `${kind}:${ctx.submissionKey}` : null;
  const [row] = await q.query<{ id: bigint }>(
    `INSERT INTO portal_events (organisation_id, customer_id, link_id, kind, invoice_ids, data, submission_key, address, created_at)
     VALUES ($1, $2, $3, $4, $5::bigint[], $6::jsonb, $7, $8, $9)
     ON CONFLICT (organisation_id, customer_id, submission_key) WHERE submission_key IS NOT NULL DO NOTHING RETURNING id`,
    [orgId, customerId, linkId, kind, invoiceIds ? pgArray(invoiceIds) : null, JSON.stringify(data), key, ctx.address, ctx.now],
  );
  if (row) return { eventId: row.id, fresh: true, kind };
  const [prev] = await q.query<{ id: bigint; kind: EventKind }>('SELECT id, kind FROM portal_events WHERE organisation_id = $1 AND customer_id = $2 AND submission_key = $3', [orgId, customerId, key]);
  return { eventId: prev!.id, fresh: false, kind: prev!.kind };
}

async function setEventData(q: Queryable, ctx: ActionContext, eventId: bigint, data: Record<string, unknown>): Promise<void> {
  await q.query('UPDATE portal_events SET data = data || $3::jsonb WHERE organisation_id = $1 AND id = $2', [ctx.access.orgId, eventId, JSON.stringify(data)]);
}

interface OpenInvoice {
  id: bigint;
  number: string;
  currency: string;
  dueDate: CalendarDate;
  openMinor: Minor;
}

/**
 * The invoices named, each an open invoice of this customer of this organisation; anything else
 * (another customer's id, a paid invoice, garbage) is the same refusal.
 */
export async function openInvoicesOf(q: Queryable, access: PortalAccess, ids: readonly string[], field = 'invoices'): Promise<OpenInvoice[]> {
  const wanted = [...new Set(ids.filter((x) => /^\d{1,18}$/.test(x)))].map(BigInt);
  if (wanted.length === 0 || wanted.length !== new Set(ids).size) throw new PortalRefusal('err_pick_invoice', field);
  const rows = await q.query<{ id: bigint; number: string; currency: string; due_date: CalendarDate; open_minor: bigint }>(
    `SELECT id, number, currency, due_date, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor FROM invoices
      WHERE organisation_id = $1 AND customer_id = $2 AND id = ANY($3::bigint[]) AND allocated_minor + written_off_minor < amount_incl_tax_minor
      ORDER BY due_date, id`,
    [access.orgId, access.customerId, pgArray(wanted)],
  );
  if (rows.length !== wanted.length) throw new PortalRefusal('err_pick_invoice', field);
  return rows.map((r) => ({ id: r.id, number: r.number, currency: r.currency, dueDate: r.due_date, openMinor: r.open_minor }));
}

function oneCurrency(invoices: OpenInvoice[], field: string): string {
  const currencies = new Set(invoices.map((i) => i.currency));
  if (currencies.size > 1) throw new PortalRefusal('err_one_currency', field);
  return invoices[0]!.currency;
}

function dateField(value: string | undefined, field: string): CalendarDate {
  const v = (value ?? '').trim();
  if (!isCalendarDate(v)) throw new PortalRefusal('err_date', field);
  return v;
}

/** A follow-up for a person, shown in Today beside the call follow-ups. */
async function followup(q: Queryable, ctx: ActionContext, eventId: bigint, kind: 'reconciliation' | 'payment_plan_request' | 'contact_update' | 'dispute_document', note: string): Promise<void> {
  await q.query(
    `INSERT INTO call_followups (organisation_id, customer_id, portal_event_id, kind, note) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (organisation_id, portal_event_id, kind) DO NOTHING`,
    [ctx.access.orgId, ctx.access.customerId, eventId, kind, note],
  );
}

/** The operator's language, for the notes a person reads in Today. */
async function orgLang(q: Queryable, orgId: string): Promise<Lang> {
  return (await getOrganisation(q, orgId)).language;
}

/**
 * Queues the receipt of an action that is no agreement (template portal_receipt), once per event;
 * the first channel of e-mail that reaches the customer. Returns the action's id or null.
 */
async function queueReceipt(q: Queryable, ctx: ActionContext, eventId: bigint, invoiceIds: readonly bigint[]): Promise<bigint | null> {
  return queueAcknowledgement(q, ctx.access.orgId, { kind: 'portal', id: eventId, customerId: ctx.access.customerId, invoiceIds }, ctx.today);
}

// ------------------------------------------------------------------ "I have paid"

export interface PaidInput {
  invoices: string[];
  paidOn?: string;
  amount?: string;
  reference?: string;
}

/**
 * The customer says they paid: the invoices are held for the organisation's few days while a
 * person looks for the payment in the bank statements (a follow-up of kind reconciliation).
 */
export async function declarePaid(q: Queryable, ctx: ActionContext, input: PaidInput): Promise<Recorded> {
  const invoices = await openInvoicesOf(q, ctx.access, input.invoices);
  const currency = oneCurrency(invoices, 'invoices');
  const paidOn = dateField(input.paidOn, 'paidOn');
  if (paidOn > ctx.today) throw new PortalRefusal('err_paid_future', 'paidOn');
  if (paidOn < addDays(ctx.today, -365)) throw new PortalRefusal('err_paid_old', 'paidOn');
  let amountMinor: Minor;
  try {
    amountMinor = parseAmount(input.amount ?? '', currency, { field: 'amount' });
  } catch (e) {
    if (isRelanceError(e)) throw new PortalRefusal('err_amount', 'amount');
    throw e;
  }
  if (amountMinor <= 0n) throw new PortalRefusal('err_amount', 'amount');
  const reference = (input.reference ?? '').trim().slice(0, 140) || null;
  const ids = invoices.map((i) => i.id);
  const ev = await recordEvent(q, ctx, 'paid', ids, { paidOn, amountMinor: amountMinor.toString(), currency, reference });
  if (!ev.fresh) return ev;
  const holdUntil = addDays(ctx.today, ctx.access.settings.paidHoldDays);
  await createPause(
    q,
    ctx.access.orgId,
    { customerId: ctx.access.customerId, invoiceIds: ids, reason: 'other', startsOn: ctx.today, endsOn: holdUntil, note: 'portal: the customer says paid, check the bank reconciliation' },
    ctx.today,
  );
  const lang = await orgLang(q, ctx.access.orgId);
  await followup(
    q,
    ctx,
    ev.eventId,
    'reconciliation',
    pt(lang, 'note_paid', {
      amount: formatMoney(amountMinor, currency, lang),
      date: formatLongDate(paidOn, lang),
      reference: reference ?? '—',
      invoices: invoices.map((i) => i.number).join(', '),
      until: formatLongDate(holdUntil, lang),
    }),
  );
  await setEventData(q, ctx, ev.eventId, { holdUntil, receiptActionId: (await queueReceipt(q, ctx, ev.eventId, ids))?.toString() ?? null });
  return ev;
}

// ------------------------------------------------------------------ promise

export interface PromiseFormInput {
  invoices: string[];
  date?: string;
}

/** A promise to pay the invoices chosen, in full, by a date within the organisation's limit. */
export async function promiseToPay(q: Queryable, ctx: ActionContext, input: PromiseFormInput): Promise<Recorded & { promiseId?: bigint }> {
  const invoices = await openInvoicesOf(q, ctx.access, input.invoices);
  const currency = oneCurrency(invoices, 'invoices');
  const date = dateField(input.date, 'date');
  const latest = addDays(ctx.today, ctx.access.settings.promiseMaxDays);
  if (date < ctx.today) throw new PortalRefusal('err_date_past', 'date');
  if (date > latest) throw new PortalRefusal('err_promise_late', 'date', { date: latest });
  const ids = invoices.map((i) => i.id);
  const amountMinor = invoices.reduce((s, i) => s + i.openMinor, 0n);
  const ev = await recordEvent(q, ctx, 'promise', ids, { promisedOn: date, amountMinor: amountMinor.toString(), currency });
  if (!ev.fresh) return ev;
  const promiseId = await recordPromise(q, ctx.access.orgId, { customerId: ctx.access.customerId, invoiceIds: ids, promisedOn: date, amountMinor }, ctx.today, { acknowledge: true });
  await setEventData(q, ctx, ev.eventId, { promiseId: promiseId.toString() });
  return { ...ev, promiseId };
}

// ------------------------------------------------------------------ payment plan

export interface PlanFormInput {
  invoices: string[];
  count?: string;
  firstDate?: string;
}

/** Equal monthly instalments; the cents left over go on the first one. */
export function instalmentsOf(total: Minor, count: number, first: CalendarDate): Array<{ dueDate: CalendarDate; amountMinor: Minor }> {
  const base = total / BigInt(count);
  const rest = total - base * BigInt(count);
  return Array.from({ length: count }, (_, k) => ({ dueDate: addMonths(first, k), amountMinor: base + (k === 0 ? rest : 0n) }));
}

/**
 * A plan the customer proposes: within the hard limits (number of instalments, smallest
 * instalment, first date) or refused; within the rules of automatic acceptance it is created at
 * once (its invoices paused, its instalments planned, the confirmation sent), otherwise it waits
 * for a person (a follow-up in Today) and the invoices are held a few days meanwhile.
 */
export async function proposePlan(q: Queryable, ctx: ActionContext, input: PlanFormInput): Promise<Recorded & { planId?: bigint; accepted: boolean }> {
  const s = ctx.access.settings;
  const invoices = await openInvoicesOf(q, ctx.access, input.invoices);
  const currency = oneCurrency(invoices, 'invoices');
  const count = Number(input.count);
  if (!Number.isInteger(count) || count < 2 || count > s.planMaxInstalments) throw new PortalRefusal('err_plan_count', 'count', { max: s.planMaxInstalments });
  const first = dateField(input.firstDate, 'firstDate');
  if (first < ctx.today) throw new PortalRefusal('err_date_past', 'firstDate');
  const latestFirst = addDays(ctx.today, s.planMaxFirstDays);
  if (first > latestFirst) throw new PortalRefusal('err_plan_first', 'firstDate', { date: latestFirst });
  const total = invoices.reduce((a, i) => a + i.openMinor, 0n);
  const instalments = instalmentsOf(total, count, first);
  const smallest = instalments.reduce((m, i) => (i.amountMinor < m ? i.amountMinor : m), instalments[0]!.amountMinor);
  if (smallest < s.planMinInstalmentMinor) throw new PortalRefusal('err_plan_min', 'count', { min: s.planMinInstalmentMinor.toString(), currency });
  const ids = invoices.map((i) => i.id);
  const last = instalments.at(-1)!.dueDate;
  const automatic = s.planAutoAccept && last <= addDays(ctx.today, s.planAutoMaxDays) && (s.planAutoMaxMinor === null || total <= s.planAutoMaxMinor);
  const data = { currency, totalMinor: total.toString(), instalments: instalments.map((i) => ({ dueDate: i.dueDate, amountMinor: i.amountMinor.toString() })) };
  const ev = await recordEvent(q, ctx, automatic ? 'plan' : 'plan_request', ids, data);
  if (!ev.fresh) return { ...ev, accepted: ev.kind === 'plan' };
  if (automatic) {
    const planId = await createPaymentPlan(q, ctx.access.orgId, { customerId: ctx.access.customerId, invoiceIds: ids, instalments }, ctx.today, { acknowledge: true });
    await setEventData(q, ctx, ev.eventId, { planId: planId.toString() });
    return { ...ev, planId, accepted: true };
  }
  const holdUntil = addDays(ctx.today, s.paidHoldDays);
  await createPause(
    q,
    ctx.access.orgId,
    { customerId: ctx.access.customerId, invoiceIds: ids, reason: 'other', startsOn: ctx.today, endsOn: holdUntil, note: 'portal: payment plan proposed, waiting for an answer' },
    ctx.today,
  );
  const lang = await orgLang(q, ctx.access.orgId);
  await followup(
    q,
    ctx,
    ev.eventId,
    'payment_plan_request',
    pt(lang, 'note_plan', {
      count,
      total: formatMoney(total, currency, lang),
      schedule: instalments.map((i) => `${formatLongDate(i.dueDate, lang)} ${formatMoney(i.amountMinor, currency, lang)}`).join(' ; '),
      invoices: invoices.map((i) => i.number).join(', '),
      until: formatLongDate(holdUntil, lang),
    }),
  );
  await setEventData(q, ctx, ev.eventId, { holdUntil, receiptActionId: (await queueReceipt(q, ctx, ev.eventId, ids))?.toString() ?? null });
  return { ...ev, accepted: false };
}

// ------------------------------------------------------------------ dispute

export const DISPUTE_REASONS = ['not_received', 'not_conform', 'wrong_amount', 'already_paid', 'other'] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

export interface Attachment {
  filename: string;
  bytes: Uint8Array;
}

/** The file types a dispute may carry, told by their first bytes (never by the name the browser gives). */
export function attachmentType(bytes: Uint8Array): 'application/pdf' | 'image/png' | 'image/jpeg' | null {
  const b = Buffer.from(bytes.subarray(0, 8));
  if (b.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (b.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  return null;
}

export interface DisputeFormInput {
  invoices: string[];
  reason?: string;
  comment?: string;
  attachment?: Attachment | null;
}

async function storeAttachment(q: Queryable, ctx: ActionContext, a: Attachment): Promise<bigint> {
  const type = attachmentType(a.bytes);
  if (!type) throw new PortalRefusal('err_file_type', 'attachment');
  if (a.bytes.length > ctx.access.settings.attachmentMaxBytes) throw new PortalRefusal('err_file_size', 'attachment', { max: Math.floor(ctx.access.settings.attachmentMaxBytes / 1024 / 1024) || 1 });
  const ext = type === 'application/pdf' ? 'pdf' : type === 'image/png' ? 'png' : 'jpg';
  const base = a.filename.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'document';
  const [doc] = await q.query<{ id: bigint }>(
    'INSERT INTO documents (organisation_id, filename, content_type, sha256, content) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [ctx.access.orgId, `${base}.${ext}`, type, createHash('sha256').update(a.bytes).digest('hex'), Buffer.from(a.bytes)],
  );
  return doc!.id;
}

/**
 * A dispute on the invoices chosen, with its reason, the customer's comment and a document:
 * the invoices are paused until it is resolved, the organisation is told (webhook, Today) and the
 * customer gets the acknowledgement.
 */
export async function raiseDispute(q: Queryable, ctx: ActionContext, input: DisputeFormInput, kind: 'dispute' | 'check_problem' = 'dispute'): Promise<Recorded & { disputeId?: bigint }> {
  const invoices = await openInvoicesOf(q, ctx.access, input.invoices);
  const reason = (input.reason ?? '') as DisputeReason;
  if (!DISPUTE_REASONS.includes(reason)) throw new PortalRefusal('err_reason', 'reason');
  const comment = (input.comment ?? '').trim().slice(0, 2000);
  if (reason === 'other' && !comment) throw new PortalRefusal('err_comment', 'comment');
  const hasFile = input.attachment && input.attachment.bytes.length > 0;
  // Checked before anything is written: a refused file refuses the whole form.
  if (hasFile) {
    if (!attachmentType(input.attachment!.bytes)) throw new PortalRefusal('err_file_type', 'attachment');
    if (input.attachment!.bytes.length > ctx.access.settings.attachmentMaxBytes) {
      throw new PortalRefusal('err_file_size', 'attachment', { max: Math.floor(ctx.access.settings.attachmentMaxBytes / 1024 / 1024) || 1 });
    }
  }
  const ids = invoices.map((i) => i.id);
  const ev = await recordEvent(q, ctx, kind, ids, { reason, comment: comment || null });
  if (!ev.fresh) return ev;
  const documentId = hasFile ? await storeAttachment(q, ctx, input.attachment!) : null;
  // The reason as the customer gave it, in their words and language: the acknowledgement quotes it back.
  const customer = await getCustomer(q, ctx.access.orgId, ctx.access.customerId);
  const label = pt(customer.language, `reason_${reason}` as PortalMessageKey);
  const disputeId = await openDispute(q, ctx.access.orgId, { customerId: ctx.access.customerId, invoiceIds: ids, reason: comment ? `${label} : ${comment}` : label }, ctx.today, { acknowledge: true });
  if (documentId !== null) {
    const lang = await orgLang(q, ctx.access.orgId);
    await followup(q, ctx, ev.eventId, 'dispute_document', pt(lang, 'note_document', { invoices: invoices.map((i) => i.number).join(', '), document: documentId.toString() }));
  }
  await setEventData(q, ctx, ev.eventId, { disputeId: disputeId.toString(), documentId: documentId?.toString() ?? null });
  return { ...ev, disputeId };
}

// ------------------------------------------------------------------ pre-due check

/**
 * The answer to "is everything in order with this invoice?" of the pre-due message: yes is
 * recorded (the customer's history shows the delivery accepted), no opens a dispute at once, so
 * no reminder goes on the due date.
 */
export async function answerCheck(q: Queryable, ctx: ActionContext, input: { invoice: string; answer?: string; reason?: string; comment?: string }): Promise<Recorded & { disputeId?: bigint }> {
  if (input.answer === 'no') return raiseDispute(q, ctx, { invoices: [input.invoice], reason: input.reason || 'other', comment: input.comment || pt((await getCustomer(q, ctx.access.orgId, ctx.access.customerId)).language, 'check_no_default') }, 'check_problem');
  if (input.answer !== 'yes') throw new PortalRefusal('err_answer', 'answer');
  const [invoice] = await openInvoicesOf(q, ctx.access, [input.invoice], 'invoice');
  return recordEvent(q, ctx, 'check_ok', [invoice!.id], {});
}

// ------------------------------------------------------------------ billing contact

export interface ContactFormInput {
  name?: string;
  email?: string;
  phone?: string;
}

const EMAIL_RE = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/**
 * The billing contact changed by the customer: the contact who receives the reminders is updated
 * (the next messages go to the new address), the change is kept (old and new) and a person is told.
 */
export async function updateBillingContact(q: Queryable, ctx: ActionContext, input: ContactFormInput): Promise<Recorded> {
  const name = (input.name ?? '').trim().slice(0, 200);
  const email = (input.email ?? '').trim().toLowerCase();
  const phoneRaw = (input.phone ?? '').trim();
  if (!name) throw new PortalRefusal('err_name', 'name');
  if (!EMAIL_RE.test(email) || email.length > 254) throw new PortalRefusal('err_email', 'email');
  let phone: string | null = null;
  if (phoneRaw) {
    try {
      // A French national number (0X XX XX XX XX) is read as one when the organisation is French.
      const compact = phoneRaw.replace(/[\s.\-()]/g, '');
      const french = (await getOrganisation(q, ctx.access.orgId)).country === 'FR';
      phone = normaliseE164(french ? compact.replace(/^0(\d{9})$/, '+33$1') : compact, { field: 'phone' });
    } catch (e) {
      if (isRelanceError(e)) throw new PortalRefusal('err_phone', 'phone');
      throw e;
    }
  }
  const customer = await getCustomer(q, ctx.access.orgId, ctx.access.customerId);
  const before = billingContact(customer.contacts);
  const ev = await recordEvent(q, ctx, 'contact', null, {
    before: before ? { name: before.name, email: before.email, phone: before.phone } : null,
    after: { name, email, phone },
  });
  if (!ev.fresh) return ev;
  if (before) {
    await q.query('UPDATE contacts SET name = $3, email = $4, phone = $5, receives_reminders = true WHERE organisation_id = $1 AND id = $2', [ctx.access.orgId, before.id, name, email, phone]);
  } else {
    await q.query(
      'INSERT INTO contacts (organisation_id, customer_id, name, email, phone, receives_reminders) VALUES ($1, $2, $3, $4, $5, true)',
      [ctx.access.orgId, ctx.access.customerId, name, email, phone],
    );
  }
  const lang = await orgLang(q, ctx.access.orgId);
  await followup(q, ctx, ev.eventId, 'contact_update', pt(lang, 'note_contact', { before: before ? [before.name, before.email, before.phone].filter(Boolean).join(', ') : '—', after: [name, email, phone].filter(Boolean).join(', ') }));
  const open = await q.query<{ id: bigint }>(
    'SELECT id FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY due_date, id',
    [ctx.access.orgId, ctx.access.customerId],
  );
  if (open.length) await setEventData(q, ctx, ev.eventId, { receiptActionId: (await queueReceipt(q, ctx, ev.eventId, open.map((r) => r.id)))?.toString() ?? null });
  return ev;
}
