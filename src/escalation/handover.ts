/**
 * Handing invoices over to a collection agency, a lawyer or a commissaire de justice: recorded (to
 * whom, when, which invoices, what was open), the reminders stopped for those invoices at once
 * (stop.ts), an export the agent can load (CSV and JSON: debtor, contacts, invoices, amounts, what
 * was done, the case file's reference), and what the agent reports back: its status, the payments
 * it collected — recorded and allocated through the ledger's normal payment path, so the invoice
 * is settled, re-planned and told like any other payment — and its fees (the creditor's cost:
 * amicable collection costs stay with the creditor, CPCE L111-8).
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { type CalendarDate, calendarDate, daysBetween } from '../domain/dates.ts';
import type { RateTables } from '../domain/law/index.ts';
import { type Minor, toDecimalString } from '../domain/money.ts';
import { replanOnPayment, replanCustomer } from '../engine/events.ts';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { allocate, type Contact, getCustomer, getInvoice, getOrganisation, recordPayment } from '../ledger/repo.ts';
import { emitEvent } from '../webhooks/index.ts';
import { claimAt } from './claim.ts';
import { recoveryHistory, type RecoveryHistory } from './history.ts';
import { openProceeding } from './insolvency.ts';
import { stopRecovery } from './stop.ts';

const E = defineErrors('escalation-handover', {
  agent: { fr: "indiquez à qui le dossier est confié", en: "say who the case is handed over to" },
  agent_kind: { fr: "type de mandataire inconnu « {kind} » (agency, lawyer ou bailiff)", en: "unknown kind of agent \"{kind}\" (agency, lawyer or bailiff)" },
  invoices: { fr: "indiquez les factures confiées, ou toutes les factures ouvertes", en: "say which invoices are handed over, or every open invoice" },
  not_open: { fr: "la facture {invoice} n’a plus rien à recouvrer", en: "invoice {invoice} has nothing left to recover" },
  other_customer: { fr: "la facture {invoice} appartient à un autre client", en: "invoice {invoice} belongs to another customer" },
  already: { fr: "la facture {invoice} est déjà confiée à {agent} (transmission {id})", en: "invoice {invoice} is already handed over to {agent} (handover {id})" },
  insolvent: { fr: "le client fait l’objet d’une procédure collective (n° {id}) : la créance se déclare au mandataire judiciaire, elle ne se confie pas à un recouvreur", en: "the customer is under collective proceedings (no. {id}): the claim is declared to the court-appointed representative, not handed to a collector" },
  currencies: { fr: "les factures confiées doivent être d’une seule devise", en: "the invoices handed over must be in one currency" },
  closed: { fr: "la transmission {id} est close", en: "handover {id} is closed" },
  over: { fr: "le paiement de {amount} dépasse ce qui reste dû sur les factures confiées ({open})", en: "the payment of {amount} exceeds what is still owed on the invoices handed over ({open})" },
  status: { fr: "statut inconnu « {status} » (handed_over, recovered ou closed)", en: "unknown status \"{status}\" (handed_over, recovered or closed)" },
  empty: { fr: "le rapport ne dit rien : un statut, un paiement ou des frais", en: "the report says nothing: a status, a payment or fees" },
  not_found: { fr: "transmission {id} introuvable", en: "handover {id} not found" },
});

export const AGENT_KINDS = ['agency', 'lawyer', 'bailiff'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];
export const HANDOVER_STATUSES = ['handed_over', 'recovered', 'closed'] as const;
export type HandoverStatus = (typeof HANDOVER_STATUSES)[number];

export interface Handover {
  id: bigint;
  customerId: bigint;
  invoiceIds: bigint[];
  agentKind: AgentKind;
  agentName: string;
  agentReference: string | null;
  caseFileReference: string;
  handedOverOn: CalendarDate;
  handedOverBy: string;
  currency: string;
  amountMinor: Minor;
  recoveredMinor: Minor;
  feesMinor: Minor;
  status: HandoverStatus;
  statusOn: CalendarDate;
  pauseId: bigint;
  note: string | null;
}

function toHandover(r: Record<string, unknown>): Handover {
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    invoiceIds: (r.invoice_ids as bigint[]).map((x) => BigInt(x)),
    agentKind: r.agent_kind as AgentKind,
    agentName: String(r.agent_name),
    agentReference: (r.agent_reference as string | null) ?? null,
    caseFileReference: String(r.case_file_reference),
    handedOverOn: r.handed_over_on as CalendarDate,
    handedOverBy: String(r.handed_over_by),
    currency: String(r.currency),
    amountMinor: r.amount_minor as bigint,
    recoveredMinor: r.recovered_minor as bigint,
    feesMinor: r.fees_minor as bigint,
    status: r.status as HandoverStatus,
    statusOn: r.status_on as CalendarDate,
    pauseId: r.pause_id as bigint,
    note: (r.note as string | null) ?? null,
  };
}

/** The reference a case file of this customer prepared on that day carries (the ZIP's name too). */
export const caseFileReference = (customerId: bigint, on: CalendarDate) => `RL-${customerId}-${on.replaceAll('-', '')}`;

export async function getHandover(q: Queryable, orgId: string, id: bigint): Promise<Handover> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM handovers WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!r) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('not_found', { id: String(id) }), { details: { what: 'handover', id: String(id) } });
  return toHandover(r);
}

export async function listHandovers(q: Queryable, orgId: string, opts: { customerId?: bigint | null; afterId?: bigint | null; limit?: number } = {}): Promise<Handover[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT * FROM handovers WHERE organisation_id = $1 AND ($2::bigint IS NULL OR customer_id = $2) AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4`,
    [orgId, opts.customerId ?? null, opts.afterId ?? null, opts.limit ?? 1000],
  );
  return rows.map(toHandover);
}

export interface HandoverInput {
  customerId: bigint;
  invoiceNumbers?: readonly string[] | null;
  allOpenInvoices?: boolean;
  agentKind: string;
  agentName: string;
  agentReference?: string | null;
  by: string;
  note?: string | null;
}

/** Records the handover and stops the reminders of the invoices handed over, now. */
export async function handOver(q: Queryable, orgId: string, h: HandoverInput, today: CalendarDate): Promise<{ handover: Handover; cancelledActions: number }> {
  if (!(AGENT_KINDS as readonly string[]).includes(h.agentKind)) throw validation(E('agent_kind', { kind: h.agentKind }), { field: 'agentKind' });
  if (!h.agentName?.trim()) throw validation(E('agent'), { field: 'agentName' });
  await getCustomer(q, orgId, h.customerId);
  const insolvency = await openProceeding(q, orgId, h.customerId);
  if (insolvency) throw new RelanceError(ERROR_CODES.LEGAL_RULE, E('insolvent', { id: String(insolvency.id) }), { where: { field: 'customerId' } });
  const named = h.invoiceNumbers?.length ? [...new Set(h.invoiceNumbers)] : null;
  if (!named && !h.allOpenInvoices) throw validation(E('invoices'), { field: 'invoiceNumbers' });
  const rows = await q.query<{ id: bigint; number: string; customer_id: bigint; currency: string; open_minor: bigint }>(
    `SELECT id, number, customer_id, currency, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor FROM invoices
      WHERE organisation_id = $1 AND ${named ? 'number = ANY($2::text[])' : 'customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor'}
      ORDER BY due_date, id FOR UPDATE`,
    [orgId, named ? pgArray(named) : h.customerId],
  );
  if (named) {
    for (const n of named) if (!rows.some((r) => r.number === n)) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('not_open', { invoice: n }), { where: { field: 'invoiceNumbers' } });
  }
  if (rows.length === 0) throw validation(E('invoices'), { field: 'invoiceNumbers' });
  for (const r of rows) {
    if (r.customer_id !== h.customerId) throw validation(E('other_customer', { invoice: r.number }), { field: 'invoiceNumbers' });
    if (r.open_minor <= 0n) throw validation(E('not_open', { invoice: r.number }), { field: 'invoiceNumbers' });
  }
  if (new Set(rows.map((r) => r.currency)).size > 1) throw validation(E('currencies'), { field: 'invoiceNumbers' });
  const ids = rows.map((r) => r.id);
  const [taken] = await q.query<{ id: bigint; agent_name: string; number: string }>(
    `SELECT h.id, h.agent_name, i.number FROM handovers h JOIN invoices i ON i.organisation_id = h.organisation_id AND i.id = ANY(h.invoice_ids)
      WHERE h.organisation_id = $1 AND h.status = 'handed_over' AND i.id = ANY($2::bigint[]) LIMIT 1`,
    [orgId, pgArray(ids)],
  );
  if (taken) throw new RelanceError(ERROR_CODES.CONFLICT, E('already', { invoice: taken.number, agent: taken.agent_name, id: String(taken.id) }), { where: { field: 'invoiceNumbers' } });
  const stop = await stopRecovery(q, orgId, { customerId: h.customerId, invoiceIds: ids, reason: 'handover', note: `handed over to ${h.agentName.trim()}` }, today);
  const amount = rows.reduce((a, r) => a + r.open_minor, 0n);
  const [row] = await q.query<Record<string, unknown>>(
    `INSERT INTO handovers (organisation_id, customer_id, invoice_ids, agent_kind, agent_name, agent_reference, case_file_reference, handed_over_on, handed_over_by,
       currency, amount_minor, status_on, pause_id, note)
     VALUES ($1,$2,$3::bigint[],$4,$5,$6,$7,$8,$9,$10,$11,$8,$12,$13) RETURNING *`,
    [orgId, h.customerId, pgArray(ids), h.agentKind, h.agentName.trim(), h.agentReference ?? null, caseFileReference(h.customerId, today), today, h.by, rows[0]!.currency, amount, stop.pauseId, h.note ?? null],
  );
  const handover = toHandover(row!);
  await emitEvent(q, orgId, 'case.escalated', {
    customerId: String(h.customerId), handoverId: String(handover.id), invoices: rows.map((r) => r.number), agent: handover.agentName, agentKind: handover.agentKind,
    amount: toDecimalString(amount, handover.currency), currency: handover.currency, caseFileReference: handover.caseFileReference,
  });
  return { handover, cancelledActions: stop.cancelledActions };
}

export interface HandoverReportInput {
  reference?: string | null;
  status?: string | null;
  payment?: { amountMinor: Minor; paidOn: string } | null;
  feesMinor?: Minor | null;
  note?: string | null;
}

/**
 * What the agent reports. A payment it collected is a payment of the customer: recorded and
 * allocated to the handed-over invoices (oldest due first) as any payment is, the invoices settled
 * re-planned and told (invoice.paid). A report whose reference was already received changes nothing.
 */
export async function reportHandover(q: Queryable, orgId: string, id: bigint, r: HandoverReportInput, today: CalendarDate): Promise<{ handover: Handover; reportId: bigint; paymentId: bigint | null; replayed: boolean }> {
  await q.query('SELECT 1 FROM handovers WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, id]);
  const h = await getHandover(q, orgId, id);
  if (r.reference) {
    const [prev] = await q.query<{ id: bigint; payment_id: bigint | null }>('SELECT id, payment_id FROM handover_reports WHERE organisation_id = $1 AND handover_id = $2 AND reference = $3', [orgId, id, r.reference]);
    if (prev) return { handover: h, reportId: prev.id, paymentId: prev.payment_id, replayed: true };
  }
  if (r.status && !(HANDOVER_STATUSES as readonly string[]).includes(r.status)) throw validation(E('status', { status: r.status }), { field: 'status' });
  if (!r.status && !r.payment && !r.feesMinor) throw validation(E('empty'), { field: 'status' });
  if (h.status === 'closed' && (r.payment || r.status)) throw validation(E('closed', { id: String(id) }), { field: 'status' });
  let paymentId: bigint | null = null;
  let settledAll = false;
  if (r.payment) {
    const paidOn = calendarDate(r.payment.paidOn, { field: 'payment.paidOn' });
    const invoices = [];
    for (const invId of h.invoiceIds) invoices.push(await getInvoice(q, orgId, invId));
    invoices.sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.id < b.id ? -1 : 1));
    const open = invoices.reduce((a, i) => a + i.openMinor, 0n);
    if (r.payment.amountMinor > open) {
      throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('over', { amount: toDecimalString(r.payment.amountMinor, h.currency), open: toDecimalString(open, h.currency) }), { where: { field: 'payment.amount' } });
    }
    const p = await recordPayment(q, orgId, {
      customerId: h.customerId, paymentDate: paidOn, currency: h.currency, amountMinor: r.payment.amountMinor, method: 'other',
      reference: `${h.agentName} ${r.reference ?? ''}`.trim().slice(0, 140), payerName: h.agentName,
    });
    paymentId = p.id;
    let left = p.amountMinor;
    for (const inv of invoices) {
      const amount = inv.openMinor < left ? inv.openMinor : left;
      if (amount <= 0n) continue;
      await allocate(q, orgId, { invoiceId: inv.id, paymentId: p.id, amountMinor: amount, allocatedOn: paidOn });
      left -= amount;
      if (inv.openMinor === amount) await emitEvent(q, orgId, 'invoice.paid', { invoiceId: inv.id, number: inv.number, customerId: inv.customerId, paymentId: p.id });
    }
    settledAll = r.payment.amountMinor === open;
    await replanOnPayment(today)(q, orgId, [h.customerId]);
  }
  const status = (r.status as HandoverStatus | null | undefined) ?? (settledAll ? 'recovered' : null);
  const [rep] = await q.query<{ id: bigint }>(
    `INSERT INTO handover_reports (organisation_id, handover_id, reference, reported_on, status, amount_minor, paid_on, payment_id, fees_minor, note)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
    [orgId, id, r.reference ?? null, today, status, r.payment?.amountMinor ?? null, r.payment?.paidOn ?? null, paymentId, r.feesMinor ?? null, r.note ?? null],
  );
  await q.query(
    `UPDATE handovers SET recovered_minor = recovered_minor + $3, fees_minor = fees_minor + $4,
            status = coalesce($5, status), status_on = CASE WHEN $5::text IS NULL OR $5::text = status THEN status_on ELSE $6 END
      WHERE organisation_id = $1 AND id = $2`,
    [orgId, id, r.payment?.amountMinor ?? 0n, r.feesMinor ?? 0n, status, today],
  );
  return { handover: await getHandover(q, orgId, id), reportId: rep!.id, paymentId, replayed: false };
}

/** The mandate ended without everything recovered: reminders resume for what is open only when asked. */
export async function resumeAfterHandover(q: Queryable, orgId: string, id: bigint, today: CalendarDate): Promise<Handover> {
  const h = await getHandover(q, orgId, id);
  await q.query('UPDATE pauses SET lifted_on = $3 WHERE organisation_id = $1 AND id = $2 AND lifted_on IS NULL', [orgId, h.pauseId, today]);
  await q.query(`UPDATE handovers SET status = 'closed', status_on = CASE WHEN status = 'closed' THEN status_on ELSE $3 END WHERE organisation_id = $1 AND id = $2`, [orgId, id, today]);
  await replanCustomer(q, orgId, h.customerId, today);
  return getHandover(q, orgId, id);
}

// ------------------------------------------------------------------ the export

export interface HandoverExport {
  caseFileReference: string;
  handover: { id: string; agentKind: AgentKind; agentName: string; agentReference: string | null; handedOverOn: CalendarDate; status: HandoverStatus };
  creditor: { legalName: string; siren: string | null; vatNumber: string | null; address: string; iban: string | null };
  debtor: { customerId: string; legalName: string; kind: string; siren: string | null; siret: string | null; vatNumber: string | null; country: string; address: string | null };
  contacts: { name: string; role: string | null; email: string | null; phone: string | null; address: string | null }[];
  invoices: { number: string; issueDate: CalendarDate; dueDate: CalendarDate; amountInclTax: string; open: string; daysPastDue: number; interest: string; indemnity: string; limitationDeadline: CalendarDate }[];
  totals: { currency: string; principal: string; interest: string; indemnity: string; total: string; asOf: CalendarDate; provisional: boolean };
  history: { remindersSent: number; firstReminderOn: CalendarDate | null; lastReminderOn: CalendarDate | null; formalNotices: { sentOn: CalendarDate; channel: string; tracking: string | null; receiptOn: CalendarDate | null }[]; calls: number; disputes: number; openDisputes: number; promises: number; brokenPromises: number };
}

const addressOf = (c: { addressLine1: string | null; addressLine2?: string | null; postalCode: string | null; city: string | null; country?: string | null }) =>
  [c.addressLine1, c.addressLine2, [c.postalCode, c.city].filter(Boolean).join(' '), c.country].filter(Boolean).join(', ') || null;

export function summarise(history: RecoveryHistory): HandoverExport['history'] {
  return {
    remindersSent: history.remindersSent,
    firstReminderOn: history.firstReminderOn,
    lastReminderOn: history.lastReminderOn,
    formalNotices: history.formalNotices.map((f) => ({ sentOn: f.sentOn, channel: f.channel, tracking: f.tracking, receiptOn: f.receiptOn })),
    calls: history.calls,
    disputes: history.disputes.length,
    openDisputes: history.disputes.filter((d) => !d.resolvedOn).length,
    promises: history.promises.length,
    brokenPromises: history.promises.filter((p) => p.status === 'broken').length,
  };
}

/** What the agent loads: the debtor, its contacts, each invoice with what is owed on `asOf`, the history. */
export async function handoverExport(q: Queryable, orgId: string, id: bigint, rates: RateTables, asOf: CalendarDate): Promise<HandoverExport> {
  const h = await getHandover(q, orgId, id);
  const org = await getOrganisation(q, orgId);
  const c = await getCustomer(q, orgId, h.customerId);
  const numbers = (await q.query<{ number: string }>('SELECT number FROM invoices WHERE organisation_id = $1 AND id = ANY($2::bigint[]) ORDER BY due_date, id', [orgId, pgArray(h.invoiceIds)])).map((r) => r.number);
  const claim = await claimAt(q, orgId, h.customerId, asOf, rates, { invoiceNumbers: numbers });
  const history = await recoveryHistory(q, orgId, h.customerId, h.invoiceIds);
  const cur = claim.currency;
  const billing = c.contacts.find((x) => x.addressLine1) ?? null;
  return {
    caseFileReference: h.caseFileReference,
    handover: { id: String(h.id), agentKind: h.agentKind, agentName: h.agentName, agentReference: h.agentReference, handedOverOn: h.handedOverOn, status: h.status },
    creditor: { legalName: org.legalName, siren: org.siren, vatNumber: org.vatNumber, address: addressOf(org) ?? '', iban: org.iban },
    debtor: { customerId: String(c.id), legalName: c.legalName, kind: c.kind, siren: c.siren, siret: c.siret, vatNumber: c.vatNumber, country: c.country, address: billing ? addressOf(billing) : null },
    contacts: c.contacts.map((x: Contact) => ({ name: x.name, role: x.role, email: x.email, phone: x.phone, address: addressOf(x) })),
    invoices: claim.lines.map((l) => ({
      number: l.number, issueDate: l.issueDate, dueDate: l.dueDate, amountInclTax: toDecimalString(l.amountInclTaxMinor, cur), open: toDecimalString(l.principalMinor, cur),
      daysPastDue: Math.max(0, daysBetween(l.dueDate, asOf)), interest: toDecimalString(l.interestMinor, cur), indemnity: toDecimalString(l.indemnityMinor, cur), limitationDeadline: l.limitation.deadline,
    })),
    totals: { currency: cur, principal: toDecimalString(claim.principalMinor, cur), interest: toDecimalString(claim.interestMinor, cur), indemnity: toDecimalString(claim.indemnityMinor, cur), total: toDecimalString(claim.totalMinor, cur), asOf, provisional: claim.provisional },
    history: summarise(history),
  };
}

const CSV_COLUMNS = [
  'case_file_reference', 'debtor_name', 'debtor_siren', 'debtor_vat_number', 'debtor_kind', 'debtor_address', 'debtor_country',
  'contact_name', 'contact_email', 'contact_phone', 'invoice_number', 'issue_date', 'due_date', 'amount_incl_tax', 'open_amount', 'currency',
  'days_past_due', 'interest', 'indemnity', 'limitation_deadline', 'reminders_sent', 'last_reminder_on', 'formal_notice_on', 'formal_notice_receipt_on', 'open_disputes',
] as const;

const csvCell = (v: string | number | null | undefined) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** One line per invoice, the debtor's columns repeated (what agency tools import); RFC 4180, UTF-8. */
export function handoverCsv(x: HandoverExport): string {
  const contact = x.contacts.find((c) => c.email || c.phone) ?? x.contacts[0] ?? null;
  const notice = x.history.formalNotices.at(-1) ?? null;
  const lines = [CSV_COLUMNS.join(',')];
  for (const i of x.invoices) {
    const row: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
      case_file_reference: x.caseFileReference, debtor_name: x.debtor.legalName, debtor_siren: x.debtor.siren, debtor_vat_number: x.debtor.vatNumber, debtor_kind: x.debtor.kind,
      debtor_address: x.debtor.address, debtor_country: x.debtor.country, contact_name: contact?.name ?? null, contact_email: contact?.email ?? null, contact_phone: contact?.phone ?? null,
      invoice_number: i.number, issue_date: i.issueDate, due_date: i.dueDate, amount_incl_tax: i.amountInclTax, open_amount: i.open, currency: x.totals.currency,
      days_past_due: i.daysPastDue, interest: i.interest, indemnity: i.indemnity, limitation_deadline: i.limitationDeadline, reminders_sent: x.history.remindersSent,
      last_reminder_on: x.history.lastReminderOn, formal_notice_on: notice?.sentOn ?? null, formal_notice_receipt_on: notice?.receiptOn ?? null, open_disputes: x.history.openDisputes,
    };
    lines.push(CSV_COLUMNS.map((k) => csvCell(row[k])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
