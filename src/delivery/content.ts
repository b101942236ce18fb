/**
 * What an action sends, built with the documents code (composeDocument, buildEml): the .eml of an
 * email with its attachments, the text of an SMS, the PDF of a letter, the script of a call.
 * The ledger data of a whole batch of actions is read at once (loadRenderData: a few set-based
 * queries, the same reads as documentFromLedger makes for one invoice), then each action is
 * rendered from it; an action may cover several invoices (one message per customer), whose late
 * fees are computed here; the recipient is chosen here too, skipping addresses that bounced.
 */
import { type Queryable, pgArray } from '../db/driver.ts';
import { type CalendarDate, todayIn } from '../domain/dates.ts';
import { documentChannel } from '../domain/delivery.ts';
import { formatMoney } from '../domain/money.ts';
import { formalNoticeDeadline } from '../domain/engine/escalation.ts';
import type { Channel, ScenarioOptions, StoredScenarioOptions } from '../domain/engine/scenario.ts';
import { effectiveOptions } from '../domain/engine/sending.ts';
import { loadSendingDefaults } from '../engine/scenarios.ts';
import { MESSAGE_CHANNELS_SQL } from '../engine/planner-input.ts';
import { composeDocument } from '../documents/compose.ts';
import { isTemplateKey, TEMPLATES, type TemplateKey } from '../documents/registry.ts';
import { invoiceFees } from '../documents/from-ledger.ts';
import { type CreditorTerms, creditorTerms, regimeBetween } from '../law/regime.ts';
import { getBranding } from '../documents/repo.ts';
import type { Branding, DocumentInput, InvoiceData, InvoiceFees, ReminderData } from '../documents/variables.ts';
import { notFound, validation } from '../errors.ts';
import { defineErrors, type Lang } from '../i18n/index.ts';
import { toContact } from '../ledger/repo.ts';
import { getPortalSettings, linkForMessage, type PortalSettings } from '../portal/links.ts';
import { channelOf } from './channels/registry.ts';
import { manualTask } from './channels/tasks.ts';
import { type Attachment, type ContactRow, type InvoiceSummary, PermanentContentError, type RenderContext, type RenderedAction } from './channels/types.ts';

export { PermanentContentError } from './channels/types.ts';
export type { InvoiceSummary, RenderContext, RenderedAction } from './channels/types.ts';

const E = defineErrors('delivery-content', {
  no_open_invoice: { fr: 'le client {customer} n’a aucune facture ouverte en {currency} pour un relevé', en: 'customer {customer} has no open invoice in {currency} for a statement' },
  nothing_to_ask: { fr: 'la facture {number} a le statut « {status} » : il n’y a rien à réclamer', en: 'invoice {number} is {status}: nothing to ask for' },
});

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

/** Contacts flagged to receive reminders, or all of them when none is flagged. */
function reminderContacts(contacts: ContactRow[]): ContactRow[] {
  const flagged = contacts.filter((c) => c.receivesReminders);
  return flagged.length ? flagged : contacts;
}

/**
 * The promise or dispute an acknowledgement is about (actions.promise_id, dispute_id): the
 * promised date and amount, the dispute's date, reason and reference.
 */
async function agreementFor(q: Queryable, a: ActionToRender): Promise<Pick<DocumentInput, 'promise' | 'dispute'>> {
  const [ref] = await q.query<{ promise_id: bigint | null; dispute_id: bigint | null }>('SELECT promise_id, dispute_id FROM actions WHERE organisation_id = $1 AND id = $2', [a.orgId, a.id]);
  const out: Pick<DocumentInput, 'promise' | 'dispute'> = {};
  if (ref?.promise_id != null) {
    const [p] = await q.query<{ promised_on: CalendarDate; amount_minor: bigint }>('SELECT promised_on, amount_minor FROM promises WHERE organisation_id = $1 AND id = $2', [a.orgId, ref.promise_id]);
    if (p) out.promise = { date: p.promised_on, amountMinor: p.amount_minor };
  }
  if (ref?.dispute_id != null) {
    const [d] = await q.query<{ id: bigint; opened_on: CalendarDate; reason: string }>('SELECT id, opened_on, reason FROM disputes WHERE organisation_id = $1 AND id = $2', [a.orgId, ref.dispute_id]);
    if (d) out.dispute = { receivedOn: d.opened_on, reason: d.reason, reference: disputeReference(d.id, d.opened_on) };
  }
  return out;
}

/** The reference a debtor quotes about a dispute: "LIT-2026-000042". */
export const disputeReference = (id: bigint, openedOn: CalendarDate) => `LIT-${openedOn.slice(0, 4)}-${String(id).padStart(6, '0')}`;

/**
 * The payment plan an instalment reminder (or a plan confirmation) is about: its instalments, and
 * the instalment concerned with what is still due on it (for a confirmation, the first one still
 * due: what the payment box asks for now).
 */
/** What a portal receipt confirms: the portal event the action is about (actions.portal_event_id). */
async function receiptFor(q: Queryable, a: ActionToRender): Promise<DocumentInput['receipt']> {
  const [r] = await q.query<{ kind: string; data: unknown }>(
    `SELECT e.kind, e.data FROM actions x JOIN portal_events e ON e.organisation_id = x.organisation_id AND e.id = x.portal_event_id
      WHERE x.organisation_id = $1 AND x.id = $2`,
    [a.orgId, a.id],
  );
  if (!r) return null;
  const d = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>;
  const day = (v: unknown) => (typeof v === 'string' ? (v as CalendarDate) : null);
  if (r.kind === 'paid') return { kind: 'paid', paidOn: day(d.paidOn), amountMinor: BigInt(String(d.amountMinor)), reference: (d.reference as string | null) ?? null, holdUntil: day(d.holdUntil) };
  if (r.kind === 'plan_request') {
    const list = (d.instalments as Array<{ dueDate: string; amountMinor: string }>) ?? [];
    return { kind: 'plan_request', holdUntil: day(d.holdUntil), installments: list.map((i) => ({ date: i.dueDate as CalendarDate, amountMinor: BigInt(i.amountMinor) })) };
  }
  if (r.kind === 'contact') {
    const after = d.after as { name: string; email: string; phone: string | null };
    return { kind: 'contact', contact: after };
  }
  return null;
}

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
  const reminderOf = ref?.instalment_seq ?? null;
  if (plan && (reminderOf !== null || a.template === 'payment_plan')) {
    const paid = plan.open_at_start_minor - plan.open_now;
    let cumulative = 0n;
    for (const r of rows) {
      cumulative += r.amount_minor;
      if (reminderOf !== null ? r.seq !== reminderOf : current !== null) continue;
      const left = cumulative - paid;
      const due = left < r.amount_minor ? left : r.amount_minor;
      if (due > 0n) current = { seq: r.seq, date: r.due_date, amountMinor: due, overdue: at > r.due_date };
    }
    if (!current && reminderOf !== null) throw new PermanentContentError(`instalment ${reminderOf} is already paid`);
  }
  return { installments: rows.map((r) => ({ date: r.due_date, amountMinor: r.amount_minor })), current };
}

// ------------------------------------------------------------------ what a batch of actions reads

interface InvoiceRow extends InvoiceData {
  id: bigint;
  customerId: bigint;
  pdfDocumentId: bigint | null;
  /** As the ledger words it (invoice_balances): paid, or written off when only written off. */
  settledAs: 'paid' | 'written_off';
}

interface CustomerRow {
  legalName: string;
  kind: 'business' | 'consumer';
  country: string | null;
  number: string;
  siren: string | null;
  vatNumber: string | null;
  language: Lang;
}


/**
 * Everything the actions of a batch read from the ledger, loaded in a few set-based queries (one
 * per kind of row, whatever the number of actions): contacts and which of their addresses
 * bounced, customers, invoices, the open invoices of customers who get a statement, payments and
 * write-offs for the late fees, unallocated credits, the invoices' PDFs, the reminders already
 * sent, and each organisation's branding. Rendering then reads only from here.
 */
export interface RenderData {
  contacts: Map<string, ContactRow[]>;
  customers: Map<string, CustomerRow>;
  invoices: Map<string, InvoiceRow>;
  openInvoices: Map<string, InvoiceRow[]>;
  payments: Map<string, Array<{ date: CalendarDate; amountMinor: bigint }>>;
  credits: Map<string, bigint>;
  pdfs: Map<string, Attachment>;
  /** By invoice: the messages that reminded it, sent. */
  reminders: Map<string, Array<{ id: bigint; sentOn: CalendarDate; channel: string; template: string }>>;
  /** By invoice: the last reminder sent before Relance. */
  outside: Map<string, { level: string; sentOn: CalendarDate }>;
  /** By formal notice action: its scenario version's options (the deadline it states). */
  scenarioOptions: Map<string, ScenarioOptions>;
  branding: Map<string, Branding>;
  /** Each organisation's side of the late-payment regime (country, contractual rate). */
  creditors: Map<string, CreditorTerms>;
  /** The day documents are dated, per organisation (its own calendar day). */
  days: ReadonlyMap<string, CalendarDate>;
}

const k2 = (org: string, id: bigint | string) => `${org}/${id}`;

function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V) {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function toInvoiceRow(r: Record<string, unknown>): InvoiceRow {
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    number: String(r.number),
    issueDate: r.issue_date as CalendarDate,
    dueDate: r.due_date as CalendarDate,
    currency: String(r.currency),
    amountInclTaxMinor: r.amount_incl_tax_minor as bigint,
    openMinor: r.open_minor as bigint,
    pdfDocumentId: (r.pdf_document_id as bigint | null) ?? null,
    settledAs: (r.allocated_minor as bigint) === 0n && (r.written_off_minor as bigint) > 0n ? 'written_off' : 'paid',
  };
}

export async function loadRenderData(q: Queryable, actions: readonly ActionToRender[], at: ReadonlyMap<string, CalendarDate>): Promise<RenderData> {
  const data: RenderData = {
    contacts: new Map(),
    customers: new Map(),
    invoices: new Map(),
    openInvoices: new Map(),
    payments: new Map(),
    credits: new Map(),
    pdfs: new Map(),
    reminders: new Map(),
    outside: new Map(),
    scenarioOptions: new Map(),
    branding: new Map(),
    creditors: new Map(),
    days: at,
  };
  if (actions.length === 0) return data;
  const customers = new Map<string, { org: string; id: bigint }>();
  const invoiceKeys = new Map<string, { org: string; id: bigint }>();
  for (const a of actions) {
    customers.set(k2(a.orgId, a.customerId), { org: a.orgId, id: a.customerId });
    for (const id of a.invoiceIds) invoiceKeys.set(k2(a.orgId, id), { org: a.orgId, id });
  }
  const cust = [...customers.values()];
  const custParams = [pgArray(cust.map((c) => c.org)), pgArray(cust.map((c) => c.id))];

  const contactRows = await q.query<Record<string, unknown>>(
    `SELECT c.*,
            EXISTS (SELECT 1 FROM contact_address_status s WHERE s.organisation_id = c.organisation_id AND s.contact_id = c.id AND s.kind = 'email' AND s.value = c.email) AS invalid_email,
            EXISTS (SELECT 1 FROM contact_address_status s WHERE s.organisation_id = c.organisation_id AND s.contact_id = c.id AND s.kind = 'phone' AND s.value = c.phone) AS invalid_phone
       FROM unnest($1::uuid[], $2::bigint[]) AS k(org, customer_id)
       JOIN contacts c ON c.organisation_id = k.org AND c.customer_id = k.customer_id
      ORDER BY c.organisation_id, c.customer_id, c.receives_reminders DESC, c.id`,
    custParams,
  );
  for (const r of contactRows) {
    pushTo(data.contacts, k2(String(r.organisation_id), r.customer_id as bigint), { ...toContact(r), invalidEmail: Boolean(r.invalid_email), invalidPhone: Boolean(r.invalid_phone) });
  }

  const inv = [...invoiceKeys.values()];
  const invoiceRows = await q.query<Record<string, unknown>>(
    `SELECT i.organisation_id, i.id, i.customer_id, i.number, i.issue_date, i.due_date, i.currency, i.amount_incl_tax_minor, i.pdf_document_id, i.allocated_minor, i.written_off_minor,
            i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor
       FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id) JOIN invoices i ON i.organisation_id = k.org AND i.id = k.id`,
    [pgArray(inv.map((x) => x.org)), pgArray(inv.map((x) => x.id))],
  );
  for (const r of invoiceRows) data.invoices.set(k2(String(r.organisation_id), r.id as bigint), toInvoiceRow(r));

  // Only what a document shows, and only for actions that make one.
  const documented = actions.filter((a) => a.channel !== 'manual_task' && documentChannel(a.channel) && isTemplateKey(a.template));
  if (documented.length === 0) return data;

  const customerRows = await q.query<Record<string, unknown>>(
    `SELECT c.organisation_id, c.id, c.external_id, c.legal_name, c.kind, c.country, c.siren, c.vat_number, c.language
       FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id) JOIN customers c ON c.organisation_id = k.org AND c.id = k.id`,
    custParams,
  );
  for (const r of customerRows) {
    data.customers.set(k2(String(r.organisation_id), r.id as bigint), {
      legalName: String(r.legal_name),
      kind: r.kind as CustomerRow['kind'],
      country: (r.country as string | null) ?? null,
      number: r.external_id === null || r.external_id === undefined ? String(r.id) : String(r.external_id),
      siren: (r.siren as string | null) ?? null,
      vatNumber: (r.vat_number as string | null) ?? null,
      language: r.language as Lang,
    });
  }

  // Statements list every open invoice of the customer.
  const statementCustomers = new Map<string, { org: string; id: bigint }>();
  for (const a of documented) if (TEMPLATES[a.template as TemplateKey].allOpenInvoices) statementCustomers.set(k2(a.orgId, a.customerId), { org: a.orgId, id: a.customerId });
  if (statementCustomers.size) {
    const sc = [...statementCustomers.values()];
    const rows = await q.query<Record<string, unknown>>(
      `SELECT i.organisation_id, i.id, i.customer_id, i.number, i.issue_date, i.due_date, i.currency, i.amount_incl_tax_minor, i.pdf_document_id, i.allocated_minor, i.written_off_minor,
              i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor
         FROM unnest($1::uuid[], $2::bigint[]) AS k(org, customer_id)
         JOIN invoices i ON i.organisation_id = k.org AND i.customer_id = k.customer_id AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
        ORDER BY i.due_date, i.id`,
      [pgArray(sc.map((x) => x.org)), pgArray(sc.map((x) => x.id))],
    );
    for (const r of rows) {
      const row = toInvoiceRow(r);
      pushTo(data.openInvoices, k2(String(r.organisation_id), row.customerId), row);
      data.invoices.set(k2(String(r.organisation_id), row.id), data.invoices.get(k2(String(r.organisation_id), row.id)) ?? row);
    }
  }

  // Payments and write-offs up to the document's day, for the invoices past due (late fees).
  const overdue: Array<{ org: string; id: bigint; at: CalendarDate }> = [];
  for (const [key, i] of data.invoices) {
    const org = key.slice(0, key.indexOf('/'));
    const day = at.get(org);
    if (day && day > i.dueDate) overdue.push({ org, id: i.id, at: day });
  }
  if (overdue.length) {
    const rows = await q.query<{ organisation_id: string; invoice_id: bigint; date: CalendarDate; amount: bigint }>(
      `SELECT a.organisation_id, a.invoice_id, a.allocated_on AS date, a.amount_minor AS amount
         FROM unnest($1::uuid[], $2::bigint[], $3::date[]) AS k(org, id, at)
         JOIN allocations a ON a.organisation_id = k.org AND a.invoice_id = k.id AND a.allocated_on <= k.at
       UNION ALL
       SELECT w.organisation_id, w.invoice_id, w.written_off_on, w.amount_minor
         FROM unnest($1::uuid[], $2::bigint[], $3::date[]) AS k(org, id, at)
         JOIN write_offs w ON w.organisation_id = k.org AND w.invoice_id = k.id AND w.written_off_on <= k.at`,
      [pgArray(overdue.map((x) => x.org)), pgArray(overdue.map((x) => x.id)), pgArray(overdue.map((x) => x.at))],
    );
    for (const r of rows) pushTo(data.payments, k2(r.organisation_id, r.invoice_id), { date: r.date, amountMinor: r.amount });
  }

  const creditRows = await q.query<{ organisation_id: string; customer_id: bigint; currency: string; c: bigint | null }>(
    `SELECT x.organisation_id, x.customer_id, x.currency, sum(x.amount_minor - x.allocated_minor) AS c FROM (
       SELECT p.organisation_id, p.customer_id, p.currency, p.amount_minor, p.allocated_minor
         FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id) JOIN payments p ON p.organisation_id = k.org AND p.customer_id = k.id
       UNION ALL
       SELECT n.organisation_id, n.customer_id, n.currency, n.amount_minor, n.allocated_minor
         FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id) JOIN credit_notes n ON n.organisation_id = k.org AND n.customer_id = k.id) x
     GROUP BY x.organisation_id, x.customer_id, x.currency`,
    custParams,
  );
  for (const r of creditRows) data.credits.set(`${k2(r.organisation_id, r.customer_id)}/${r.currency}`, r.c ?? 0n);

  const pdfKeys = new Map<string, { org: string; id: bigint }>();
  for (const [key, i] of data.invoices) if (i.pdfDocumentId !== null) pdfKeys.set(k2(key.slice(0, key.indexOf('/')), i.pdfDocumentId), { org: key.slice(0, key.indexOf('/')), id: i.pdfDocumentId });
  if (pdfKeys.size) {
    const pk = [...pdfKeys.values()];
    const rows = await q.query<{ organisation_id: string; id: bigint; filename: string; content_type: string; content: Uint8Array }>(
      `SELECT d.organisation_id, d.id, d.filename, d.content_type, d.content
         FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id) JOIN documents d ON d.organisation_id = k.org AND d.id = k.id
        -- Only a PDF is the invoice a reader can open (an e-invoice's XML is not).
        WHERE d.content_type = 'application/pdf'`,
      [pgArray(pk.map((x) => x.org)), pgArray(pk.map((x) => x.id))],
    );
    for (const r of rows) data.pdfs.set(k2(r.organisation_id, r.id), { filename: r.filename, contentType: r.content_type, content: Buffer.from(r.content) });
  }

  // The reminders actually sent for each invoice (a message of a reminder's tone or a formal
  // notice, that left), and those sent before Relance: what a document may say was done. The day
  // each was sent is the organisation's calendar day.
  const invoiceParams = [pgArray([...invoiceKeys.values()].map((k) => k.org)), pgArray([...invoiceKeys.values()].map((k) => k.id))];
  const reminderRows = await q.query<{ organisation_id: string; invoice_id: bigint; id: bigint; sent_on: CalendarDate; channel: string; template: string }>(
    `SELECT sr.organisation_id, sr.invoice_id, a.id, (a.sent_at AT TIME ZONE o.time_zone)::date AS sent_on, a.channel, a.template
       FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id)
       JOIN step_records sr ON sr.organisation_id = k.org AND sr.invoice_id = k.id AND sr.outcome = 'planned'
       JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id AND a.status = 'sent' AND a.sent_at IS NOT NULL
            AND a.channel IN ${MESSAGE_CHANNELS_SQL} AND a.tone IN ('reminder', 'firm', 'final', 'formal_notice')
       JOIN organisations o ON o.id = sr.organisation_id
      ORDER BY a.sent_at, a.id`,
    invoiceParams,
  );
  for (const r of reminderRows) pushTo(data.reminders, k2(r.organisation_id, r.invoice_id), { id: r.id, sentOn: r.sent_on, channel: r.channel, template: r.template });
  const outsideRows = await q.query<{ organisation_id: string; invoice_id: bigint; level: string; sent_on: CalendarDate }>(
    `SELECT x.organisation_id, x.invoice_id, x.level, x.sent_on FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id)
       JOIN outside_reminders x ON x.organisation_id = k.org AND x.invoice_id = k.id`,
    invoiceParams,
  );
  for (const r of outsideRows) data.outside.set(k2(r.organisation_id, r.invoice_id), { level: r.level, sentOn: r.sent_on });
  // A formal notice states its deadline from the expected receipt: the scenario's options say how.
  const notices = documented.filter((a) => a.template === 'formal_notice');
  if (notices.length) {
    const rows = await q.query<{ organisation_id: string; id: bigint; options: StoredScenarioOptions | string }>(
      `SELECT a.organisation_id, a.id, v.definition -> 'options' AS options
         FROM unnest($1::uuid[], $2::bigint[]) AS k(org, id)
         JOIN actions a ON a.organisation_id = k.org AND a.id = k.id
         JOIN scenario_versions v ON v.organisation_id = a.organisation_id AND v.scenario_id = a.scenario_id AND v.version = a.scenario_version`,
      [pgArray(notices.map((a) => a.orgId)), pgArray(notices.map((a) => a.id))],
    );
    // The holiday calendar the scenario follows is the organisation's (postal delays count working days).
    const sending = new Map<string, Awaited<ReturnType<typeof loadSendingDefaults>>>();
    for (const r of rows) {
      if (!sending.has(r.organisation_id)) sending.set(r.organisation_id, await loadSendingDefaults(q, r.organisation_id));
      const stored = (typeof r.options === 'string' ? JSON.parse(r.options) : r.options) as StoredScenarioOptions;
      data.scenarioOptions.set(k2(r.organisation_id, r.id), effectiveOptions(stored, sending.get(r.organisation_id)!));
    }
  }

  for (const org of new Set(documented.map((a) => a.orgId))) {
    data.branding.set(org, await getBranding(q, org));
    data.creditors.set(org, await creditorTerms(q, org));
  }
  return data;
}

/**
 * The reminders sent before this action for its invoices, oldest first: each message once (one
 * message may name several of them), those sent before Relance without a channel. The action itself
 * is left out (a preview of a sent action).
 */
function previousReminders(data: RenderData, a: ActionToRender): ReminderData[] {
  const seen = new Set<bigint>([a.id]);
  const out: ReminderData[] = [];
  for (const id of a.invoiceIds) {
    for (const r of data.reminders.get(k2(a.orgId, id)) ?? []) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      const channel = documentChannel(r.channel);
      if (channel) out.push({ date: r.sentOn, channel, key: r.template });
    }
    const o = data.outside.get(k2(a.orgId, id));
    if (o && !out.some((x) => x.channel === null && x.date === o.sentOn && x.key === o.level)) out.push({ date: o.sentOn, channel: null, key: o.level });
  }
  return out.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0)).slice(-50);
}

/**
 * The document input for all the action's invoices, from the batch's data: one invoice per action
 * invoice (every open one for a statement), late fees from the law engine at the document's day.
 */
async function documentFor(q: Queryable, a: ActionToRender, key: TemplateKey, ctx: RenderContext, at: CalendarDate, data: RenderData): Promise<{ input: DocumentInput; attachments: Attachment[]; invoices: InvoiceSummary[] }> {
  const own = a.invoiceIds.flatMap((id) => {
    const i = data.invoices.get(k2(a.orgId, id));
    return i ? [i] : [];
  });
  own.sort((x, y) => (x.dueDate < y.dueDate ? -1 : x.dueDate > y.dueDate ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  if (own.length === 0) throw new PermanentContentError('the action has no invoice left to remind');
  const customer = data.customers.get(k2(a.orgId, a.customerId));
  if (!customer) throw notFound('customer', String(a.customerId));
  const spec = TEMPLATES[key];
  const lang = customer.language ?? ctx.org.language;
  let invoices: InvoiceRow[];
  if (spec.allOpenInvoices) {
    const currency = own[0]!.currency;
    invoices = (data.openInvoices.get(k2(a.orgId, a.customerId)) ?? []).filter((i) => i.currency === currency);
    if (invoices.length === 0) throw validation(E('no_open_invoice', { customer: customer.legalName, currency }), { field: '--invoice' });
  } else {
    for (const i of own) if (i.openMinor <= 0n) throw validation(E('nothing_to_ask', { number: i.number, status: i.settledAs }), { field: '--invoice' });
    invoices = own;
  }
  const currencies = new Set(invoices.map((i) => i.currency));
  if (currencies.size > 1) throw new PermanentContentError(`one message cannot ask for several currencies (${[...currencies].join(', ')})`);

  const law = regimeBetween(data.creditors.get(a.orgId) ?? (await creditorTerms(q, a.orgId)), customer);
  const fees = new Map<string, InvoiceFees>();
  for (const i of invoices) {
    if (at <= i.dueDate) continue;
    fees.set(i.number, invoiceFees(i, law, at, data.payments.get(k2(a.orgId, i.id)) ?? [], ctx.rates, lang));
  }

  // The invoices' own PDFs (for a statement, the PDF of the invoice the step was planned for).
  const attachments: Attachment[] = [];
  for (const i of spec.allOpenInvoices ? own.slice(0, 1) : own) {
    const pdf = i.pdfDocumentId === null ? undefined : data.pdfs.get(k2(a.orgId, i.pdfDocumentId));
    if (pdf) attachments.push(pdf);
  }

  const input: DocumentInput = {
    lang,
    at,
    organisation: ctx.org,
    branding: data.branding.get(a.orgId) ?? (await getBranding(q, a.orgId)),
    customer: { legalName: customer.legalName, kind: customer.kind, number: customer.number, siren: customer.siren, vatNumber: customer.vatNumber, country: customer.country },
    law,
    contact: null,
    invoices: invoices.map((i) => ({ number: i.number, issueDate: i.issueDate, dueDate: i.dueDate, currency: i.currency, amountInclTaxMinor: i.amountInclTaxMinor, openMinor: i.openMinor })),
    fees,
    creditsMinor: data.credits.get(`${k2(a.orgId, a.customerId)}/${invoices[0]!.currency}`) ?? 0n,
  };
  if (key === 'instalment' || key === 'payment_plan') input.plan = await planFor(q, a, at);
  if (key === 'promise' || key === 'dispute_ack') Object.assign(input, await agreementFor(q, a));
  if (key === 'portal_receipt') input.receipt = await receiptFor(q, a);
  return {
    input,
    attachments,
    invoices: invoices.map((i) => ({
      id: String(i.id),
      number: i.number,
      dueDate: i.dueDate,
      currency: i.currency,
      open: formatMoney(i.openMinor, i.currency, lang),
      openMinor: i.openMinor.toString(),
    })),
  };
}

/** What one action sends, read from the ledger now (previews; the worker renders whole batches). */
export async function renderAction(q: Queryable, a: ActionToRender, ctx: RenderContext): Promise<RenderedAction> {
  const data = await loadRenderData(q, [a], new Map([[a.orgId, todayIn(ctx.org.timeZone, ctx.now)]]));
  return renderFrom(q, a, ctx, data);
}

export type RenderResult<A> = { action: A; rendered: RenderedAction } | { action: A; error: unknown };

/**
 * What each action of a batch sends: the batch's ledger data read once (loadRenderData), then
 * each action rendered from it, handed to `each` as soon as it is ready; a failure is that
 * action's alone. Between two actions the event loop gets a turn, so that a worker's messages
 * already on their way (SMTP replies, database answers) are not held up by a batch being rendered.
 */
export async function renderActions<A extends ActionToRender>(
  q: Queryable,
  actions: readonly A[],
  ctxOf: (a: A) => RenderContext,
  each?: (r: RenderResult<A>) => void,
): Promise<Array<RenderResult<A>>> {
  if (actions.length === 0) return [];
  const at = new Map<string, CalendarDate>();
  for (const a of actions) {
    if (at.has(a.orgId)) continue;
    const c = ctxOf(a);
    at.set(a.orgId, todayIn(c.org.timeZone, c.now));
  }
  const data = await loadRenderData(q, actions, at);
  const out: Array<RenderResult<A>> = [];
  for (const a of actions) {
    let r: RenderResult<A>;
    try {
      r = { action: a, rendered: await renderFrom(q, a, ctxOf(a), data) };
    } catch (error) {
      r = { action: a, error };
    }
    out.push(r);
    each?.(r);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

const portalSettingsOf = new WeakMap<RenderData, Map<string, PortalSettings>>();

/**
 * The customer's portal link in every message (renewed by it: src/portal/links.ts), and for the
 * pre-due message the "is everything in order?" answers on the portal, when the organisation has
 * the portal on, at a public address.
 */
async function portalLinks(q: Queryable, a: ActionToRender, ctx: RenderContext, key: TemplateKey, data: RenderData, invoices: InvoiceSummary[]): Promise<DocumentInput['links']> {
  let cache = portalSettingsOf.get(data);
  if (!cache) portalSettingsOf.set(data, (cache = new Map()));
  let settings = cache.get(a.orgId);
  if (!settings) cache.set(a.orgId, (settings = await getPortalSettings(q, a.orgId)));
  const link = await linkForMessage(q, a.orgId, a.customerId, ctx.now, settings);
  if (!link?.url) return {};
  const first = invoices[0];
  const check = key === 'courtesy' && settings.predueCheck && invoices.length === 1 && first;
  return {
    portal: link.url,
    ...(check ? { satisfactionHappy: `${link.url}/check/${first.id}?answer=yes`, satisfactionUnhappy: `${link.url}/check/${first.id}?answer=no` } : {}),
  };
}

async function renderFrom(q: Queryable, a: ActionToRender, ctx: RenderContext, data: RenderData): Promise<RenderedAction> {
  const at = data.days.get(a.orgId) ?? todayIn(ctx.org.timeZone, ctx.now);
  const contacts = reminderContacts(data.contacts.get(k2(a.orgId, a.customerId)) ?? []);
  const channel = channelOf(a.channel);
  if (!channel) throw new PermanentContentError(`unknown channel ${a.channel}`);

  const docChannel = channel.spec.document;
  if (!docChannel) {
    const numbers = a.invoiceIds.flatMap((id) => {
      const i = data.invoices.get(k2(a.orgId, id));
      return i ? [i.number] : [];
    });
    return manualTask(a.template, numbers, contacts);
  }
  if (!isTemplateKey(a.template)) throw new PermanentContentError(`unknown template "${a.template}"`);
  const key = a.template;
  if (!TEMPLATES[key].channels.includes(docChannel)) throw new PermanentContentError(`template "${key}" has no ${docChannel} version`);

  // Pick the recipient before rendering: the template greets the contact by name.
  const contact = channel.pickContact(contacts);
  const doc = await documentFor(q, a, key, ctx, at, data);
  doc.input.contact = contact ?? null;
  // The text says the invoice is attached only when the channel carries it and it is stored.
  doc.input.attachedInvoices = channel.attachesInvoices ? doc.attachments.length : 0;
  doc.input.reminders = previousReminders(data, a);
  doc.input.links = { ...doc.input.links, ...(await portalLinks(q, a, ctx, key, data, doc.invoices)) };
  if (key === 'formal_notice') {
    // The date the debtor can meet: from the expected presentation of a letter, from sending for
    // an e-mail; the same date the engine waits for before a handover (escalation.ts).
    const options = data.scenarioOptions.get(k2(a.orgId, a.id));
    if (options) {
      const d = formalNoticeDeadline(at, a.channel as Channel, options);
      doc.input.deadlineDays = d.days;
      doc.input.deadlineDate = d.deadline;
    }
  }
  const composed = await composeDocument({ key, channel: docChannel, input: doc.input, override: ctx.overrides, creationDate: ctx.now });
  return channel.render({
    action: a,
    key,
    now: ctx.now,
    org: ctx.org,
    settings: ctx.settings,
    overrides: ctx.overrides,
    contacts,
    contact: contact as ContactRow,
    input: doc.input,
    composed,
    attachments: channel.attachesInvoices ? doc.attachments : [],
    invoices: doc.invoices,
    lang: doc.input.lang,
  });
}
