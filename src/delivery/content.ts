/**
 * What an action sends, built with the documents code (composeDocument, buildEml,
 * documentFromLedger): the .eml of an email with its attachments, the text of an SMS, the PDF of
 * a letter, the script of a call. A thin adapter: documentFromLedger reads one invoice, an action
 * may cover several (one message per customer), so their invoices and late fees are merged here;
 * the recipient is chosen here too, skipping addresses that bounced.
 */
import type { Queryable } from '../db/driver.ts';
import { type CalendarDate, todayIn } from '../domain/dates.ts';
import { caseReplyAddress, documentChannel, isPlausibleEmail, messageIdFor, normaliseE164, smsSegments, type SmsSegments } from '../domain/delivery.ts';
import type { RateTables } from '../domain/law/index.ts';
import { formatMoney } from '../domain/money.ts';
import { composeDocument } from '../documents/compose.ts';
import { buildEml } from '../documents/email.ts';
import type { SourceLookup } from '../documents/engine.ts';
import { documentFromLedger, type LedgerDocument } from '../documents/from-ledger.ts';
import { isTemplateKey, TEMPLATES, type TemplateKey } from '../documents/registry.ts';
import type { DocumentInput, InvoiceData, InvoiceFees, ReminderData } from '../documents/variables.ts';
import { RelanceError } from '../errors.ts';
import { type Contact, type Organisation, toContact } from '../ledger/repo.ts';
import type { DeliverySettings } from './settings.ts';

/** A failure that will not go away by retrying: no address, no template for the channel... */
export class PermanentContentError extends Error {
  constructor(
    message: string,
    readonly badAddress = false,
  ) {
    super(message);
  }
}

export interface ActionToRender {
  orgId: string;
  id: bigint;
  customerId: bigint;
  channel: string;
  template: string;
  invoiceIds: bigint[];
  /** The invoices' numbers, in the same order (saves a query when the caller has them). */
  invoiceNumbers?: string[];
}

export interface RenderContext {
  now: Date;
  org: Organisation;
  settings: DeliverySettings;
  rates: RateTables;
  overrides: SourceLookup;
}

export interface InvoiceSummary {
  id: string;
  number: string;
  dueDate: string;
  currency: string;
  open: string;
  openMinor: string;
}

export type RenderedAction =
  | { channel: 'email'; subject: string; from: string; to: string[]; replyTo: string | null; messageId: string; raw: Buffer; attachments: string[]; recipients: object; invoices: InvoiceSummary[] }
  | { channel: 'sms'; subject: null; to: string; text: string; segments: SmsSegments; recipients: object; invoices: InvoiceSummary[] }
  | { channel: 'letter' | 'registered_letter'; subject: string; pdf: Buffer; address: { name: string; lines: string[]; country: string | null }; recipients: object; invoices: InvoiceSummary[] }
  | { channel: 'call_task'; subject: string | null; script: string; phones: string[]; recipients: object; invoices: InvoiceSummary[] }
  | { channel: 'manual_task'; subject: null; script: string; phones: string[]; recipients: object; invoices: InvoiceSummary[] };

interface ContactRow extends Contact {
  invalidEmail: boolean;
  invalidPhone: boolean;
}

async function loadContacts(q: Queryable, orgId: string, customerId: bigint): Promise<ContactRow[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT c.*,
            EXISTS (SELECT 1 FROM contact_address_status s WHERE s.organisation_id = c.organisation_id AND s.contact_id = c.id AND s.kind = 'email' AND s.value = c.email) AS invalid_email,
            EXISTS (SELECT 1 FROM contact_address_status s WHERE s.organisation_id = c.organisation_id AND s.contact_id = c.id AND s.kind = 'phone' AND s.value = c.phone) AS invalid_phone
       FROM contacts c WHERE c.organisation_id = $1 AND c.customer_id = $2 ORDER BY c.receives_reminders DESC, c.id`,
    [orgId, customerId],
  );
  return rows.map((r) => ({ ...toContact(r), invalidEmail: Boolean(r.invalid_email), invalidPhone: Boolean(r.invalid_phone) }));
}

/** Contacts flagged to receive reminders, or all of them when none is flagged. */
function reminderContacts(contacts: ContactRow[]): ContactRow[] {
  const flagged = contacts.filter((c) => c.receivesReminders);
  return flagged.length ? flagged : contacts;
}

const REMINDER_CHANNEL: Record<string, ReminderData['channel'] | undefined> = {
  email: 'email',
  sms: 'sms',
  letter: 'letter',
  registered_letter: 'letter',
  call_task: 'call',
};

async function previousReminders(q: Queryable, a: ActionToRender, timeZone: string): Promise<ReminderData[]> {
  const rows = await q.query<{ sent_at: string; channel: string; template: string }>(
    `SELECT sent_at, channel, template FROM actions WHERE organisation_id = $1 AND customer_id = $2 AND status = 'sent' AND id <> $3 AND sent_at IS NOT NULL
      ORDER BY sent_at LIMIT 50`,
    [a.orgId, a.customerId, a.id],
  );
  return rows.flatMap((r) => {
    const channel = REMINDER_CHANNEL[r.channel];
    return channel ? [{ date: todayIn(timeZone, Date.parse(r.sent_at)), channel, key: r.template }] : [];
  });
}

/** The document input for all the action's invoices (documentFromLedger is per invoice). */
/**
 * The payment plan an instalment reminder (or a plan confirmation) is about: its instalments, and
 * for a reminder the instalment concerned with what is still due on it.
 */
async function planFor(q: Queryable, a: ActionToRender, at: CalendarDate): Promise<DocumentInput['plan']> {
  const [ref] = await q.query<{ payment_plan_id: bigint | null; instalment_seq: number | null }>(
    'SELECT payment_plan_id, instalment_seq FROM actions WHERE organisation_id = $1 AND id = $2',
    [a.orgId, a.id],
  );
  const planId =
    ref?.payment_plan_id ??
    (
      await q.query<{ id: bigint }>(
        `SELECT id FROM payment_plans WHERE organisation_id = $1 AND customer_id = $2 AND status = 'active' ORDER BY id DESC LIMIT 1`,
        [a.orgId, a.customerId],
      )
    )[0]?.id;
  if (planId == null) return null;
  const [plan] = await q.query<{ open_at_start_minor: bigint; open_now: bigint }>(
    `SELECT p.open_at_start_minor,
            (SELECT coalesce(sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor), 0) FROM invoices i
              WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS open_now
       FROM payment_plans p WHERE p.organisation_id = $1 AND p.id = $2`,
    [a.orgId, planId],
  );
  const rows = await q.query<{ seq: number; due_date: CalendarDate; amount_minor: bigint }>(
    'SELECT seq, due_date, amount_minor FROM payment_plan_instalments WHERE organisation_id = $1 AND plan_id = $2 ORDER BY seq',
    [a.orgId, planId],
  );
  let current: NonNullable<DocumentInput['plan']>['current'] = null;
  if (ref?.instalment_seq != null && plan) {
    const paid = plan.open_at_start_minor - plan.open_now;
    let cumulative = 0n;
    for (const r of rows) {
      cumulative += r.amount_minor;
      if (r.seq !== ref.instalment_seq) continue;
      const left = cumulative - paid;
      const due = left < r.amount_minor ? left : r.amount_minor;
      if (due > 0n) current = { seq: r.seq, date: r.due_date, amountMinor: due, overdue: at > r.due_date };
    }
    if (!current) throw new PermanentContentError(`instalment ${ref.instalment_seq} is already paid`);
  }
  return { installments: rows.map((r) => ({ date: r.due_date, amountMinor: r.amount_minor })), current };
}

async function documentFor(q: Queryable, a: ActionToRender, key: TemplateKey, ctx: RenderContext, at: CalendarDate): Promise<{ input: DocumentInput; attachments: LedgerDocument['attachment'][]; invoices: InvoiceSummary[] }> {
  const numbers = a.invoiceNumbers
    ? a.invoiceIds.map((id, k) => ({ id, number: a.invoiceNumbers![k]! }))
    : await q.query<{ id: bigint; number: string }>('SELECT id, number FROM invoices WHERE organisation_id = $1 AND id = ANY($2::bigint[]) ORDER BY due_date, id', [
        a.orgId,
        `{${a.invoiceIds.join(',')}}`,
      ]);
  if (numbers.length === 0) throw new PermanentContentError('the action has no invoice left to remind');
  const docs: LedgerDocument[] = [];
  const perInvoice = TEMPLATES[key].allOpenInvoices ? numbers.slice(0, 1) : numbers;
  for (const n of perInvoice) docs.push(await documentFromLedger(q, a.orgId, { invoiceNumber: n.number, key, at, rates: ctx.rates }));
  const first = docs[0]!;
  const invoices: InvoiceData[] = docs.flatMap((d) => d.input.invoices);
  const fees = new Map<string, InvoiceFees>();
  for (const d of docs) for (const [k, v] of d.input.fees ?? []) fees.set(k, v);
  const currencies = new Set(invoices.map((i) => i.currency));
  if (currencies.size > 1) throw new PermanentContentError(`one message cannot ask for several currencies (${[...currencies].join(', ')})`);
  const input: DocumentInput = { ...first.input, invoices, fees };
  if (key === 'instalment' || key === 'payment_plan') input.plan = await planFor(q, a, at);
  return {
    input,
    attachments: docs.map((d) => d.attachment),
    invoices: invoices.map((i, k) => ({
      id: String((docs[k]?.invoice.id ?? numbers[k]?.id) ?? ''),
      number: i.number,
      dueDate: i.dueDate,
      currency: i.currency,
      open: formatMoney(i.openMinor, i.currency, input.lang),
      openMinor: i.openMinor.toString(),
    })),
  };
}

const quoteName = (s: string) => `"${s.replace(/["\\\r\n]/g, '')}"`;

export async function renderAction(q: Queryable, a: ActionToRender, ctx: RenderContext): Promise<RenderedAction> {
  const at = todayIn(ctx.org.timeZone, ctx.now);
  const contacts = reminderContacts(await loadContacts(q, a.orgId, a.customerId));

  if (a.channel === 'manual_task') {
    const numbers = await q.query<{ number: string }>('SELECT number FROM invoices WHERE organisation_id = $1 AND id = ANY($2::bigint[])', [a.orgId, `{${a.invoiceIds.join(',')}}`]);
    return {
      channel: 'manual_task',
      subject: null,
      script: `${a.template}: ${numbers.map((n) => n.number).join(', ')}`,
      phones: contacts.flatMap((c) => (c.phone ? [c.phone] : [])),
      recipients: {},
      invoices: [],
    };
  }

  const docChannel = documentChannel(a.channel);
  if (!docChannel) throw new PermanentContentError(`channel ${a.channel} has no document`);
  if (!isTemplateKey(a.template)) throw new PermanentContentError(`unknown template "${a.template}"`);
  const key = a.template;
  if (!TEMPLATES[key].channels.includes(docChannel)) throw new PermanentContentError(`template "${key}" has no ${docChannel} version`);

  // Pick the recipient before rendering: the template greets the contact by name.
  let contact: ContactRow | undefined;
  switch (a.channel) {
    case 'email':
      contact = contacts.find((c) => c.email && !c.invalidEmail && isPlausibleEmail(c.email));
      if (!contact) throw new PermanentContentError('the customer has no valid email address (none, or every one bounced)', true);
      break;
    case 'sms':
      contact = contacts.find((c) => c.phone && !c.invalidPhone);
      if (!contact) throw new PermanentContentError('the customer has no phone number for SMS', true);
      break;
    case 'letter':
    case 'registered_letter':
      contact = contacts.find((c) => c.addressLine1 && c.postalCode && c.city);
      if (!contact) throw new PermanentContentError('the customer has no complete postal address', true);
      break;
    default:
      contact = contacts[0];
  }

  const doc = await documentFor(q, a, key, ctx, at);
  doc.input.contact = contact ?? null;
  doc.input.reminders = await previousReminders(q, a, ctx.org.timeZone);
  const composed = await composeDocument({ key, channel: docChannel, input: doc.input, override: ctx.overrides, creationDate: ctx.now });

  switch (a.channel) {
    case 'email': {
      const emails = reminderContacts(contacts).filter((c) => c.email && !c.invalidEmail && isPlausibleEmail(c.email));
      const to = [...new Set(emails.map((c) => c.email!))];
      const fromAddress = ctx.settings.fromAddress ?? doc.input.branding?.email ?? null;
      if (!fromAddress) throw new RelanceError('config', 'no sender address: set the from address (relance outbox settings --from ...) or the branding email', { where: { field: 'from_address' } });
      const from = `${quoteName(ctx.settings.fromName ?? ctx.org.legalName)} <${fromAddress}>`;
      const replyTo = caseReplyAddress(ctx.settings.replyTo ?? fromAddress, a.customerId, a.id);
      const messageId = messageIdFor(a.orgId, a.id, fromAddress);
      const attachments: Array<{ filename: string; contentType: string; content: Buffer }> = [];
      for (const att of doc.attachments) if (att) attachments.push(att);
      const spec = TEMPLATES[key];
      if (spec.channels.includes('letter') && (spec.claimPenalties || spec.allOpenInvoices)) {
        // The formal notice, the handover notice and the statement travel as their letter too.
        const letter = await composeDocument({ key, channel: 'letter', input: doc.input, override: ctx.overrides, creationDate: ctx.now });
        attachments.push({ filename: `${key}-${doc.invoices[0]!.number}.pdf`, contentType: 'application/pdf', content: letter.pdf! });
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
        date: ctx.now,
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
        attachments: attachments.map((x) => x.filename),
        recipients: { to, replyTo, from: fromAddress },
        invoices: doc.invoices,
      };
    }
    case 'sms': {
      const to = normaliseE164(contact!.phone!, { field: `contacts[${contact!.id}].phone` });
      const text = composed.text ?? '';
      return { channel: 'sms', subject: null, to, text, segments: smsSegments(text), recipients: { to, contact: contact!.name }, invoices: doc.invoices };
    }
    case 'letter':
    case 'registered_letter': {
      const c = contact!;
      const lines = [c.name, ...(composed.vars.customer.name !== c.name ? [composed.vars.customer.name] : []), c.addressLine1!, ...(c.addressLine2 ? [c.addressLine2] : []), `${c.postalCode} ${c.city}`];
      if (c.country && c.country !== 'FR') lines.push(c.country);
      return {
        channel: a.channel,
        subject: composed.subject ?? '',
        pdf: composed.pdf!,
        address: { name: composed.vars.customer.name, lines, country: c.country },
        recipients: { address: lines },
        invoices: doc.invoices,
      };
    }
    default: {
      const phones = contacts.flatMap((c) => (c.phone && !c.invalidPhone ? [c.phone] : []));
      return { channel: 'call_task', subject: composed.subject, script: composed.text ?? '', phones, recipients: { phones }, invoices: doc.invoices };
    }
  }
}

