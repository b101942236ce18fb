/**
 * What the customer sees on the portal, read from the ledger through the same code as the
 * documents (documentFromLedger → computeDocument): the organisation's identity and contact, the
 * open invoices with what is still owed, the late-payment interest and compensation where the law
 * that governs the debt provides for them (and that law, as the statement of account words it),
 * the payment instructions (IBAN, RF reference, EPC QR payload) per currency, what is under way on
 * each invoice (dispute, promise, plan) and the customer's own history on the portal. Only this
 * customer of this organisation: every query is keyed by both.
 */
import type { Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import type { RateTables } from '../domain/law/rates.ts';
import { documentEpcPayload, documentInputFor } from '../documents/compose.ts';
import { documentFromLedger } from '../documents/from-ledger.ts';
import { getBranding } from '../documents/repo.ts';
import { computeDocument } from '../documents/variables.ts';
import type { Lang } from '../i18n/index.ts';
import { ACTIVE_PAUSE, COVERS } from '../engine/planner-input.ts';
import { type Contact, getCustomer, getOrganisation } from '../ledger/repo.ts';
import type { PortalAccess } from './links.ts';

export interface PortalInvoice {
  id: string;
  number: string;
  issueDate: string;
  dueDate: string;
  amount: string;
  open: string;
  openMinor: bigint;
  currency: string;
  overdue: boolean;
  daysPastDue: number;
  interest: string | null;
  indemnity: string | null;
  hasPdf: boolean;
  /** What holds its reminders now, in the customer's words (no internal reason). */
  state: 'disputed' | 'promised' | 'plan' | 'checking' | null;
}

export interface PortalCurrencyGroup {
  currency: string;
  invoices: PortalInvoice[];
  openTotal: string;
  openTotalMinor: bigint;
  overdueTotal: string;
  penalties: {
    applicable: boolean;
    indemnityApplicable: boolean;
    fromNotice: boolean;
    law: string;
    interestBasis: string;
    indemnityRule: string | null;
    interest: string;
    indemnity: string;
    total: string;
    anyOverdue: boolean;
  };
  payment: { beneficiary: string; iban: string | null; bic: string | null; reference: string | null; remittance: string; amount: string; epc: string | null };
}

export interface PortalHistoryItem {
  at: string;
  kind: string;
  data: Record<string, unknown>;
}

export interface PortalView {
  lang: Lang;
  today: CalendarDate;
  organisation: { name: string; address: string; email: string | null; phone: string | null; website: string | null; siren: string | null; colour: string; legalMentions: string };
  customer: { id: string; name: string; number: string };
  contact: { id: string | null; name: string | null; email: string | null; phone: string | null };
  groups: PortalCurrencyGroup[];
  history: PortalHistoryItem[];
}

export async function portalView(q: Queryable, access: PortalAccess, today: CalendarDate, rates: RateTables, langAsked?: Lang): Promise<PortalView> {
  const { orgId, customerId } = access;
  const org = await getOrganisation(q, orgId);
  const customer = await getCustomer(q, orgId, customerId);
  const lang: Lang = langAsked ?? customer.language ?? org.language;
  const branding = await getBranding(q, orgId);
  const open = await q.query<{ id: bigint; number: string; currency: string; pdf: boolean; state: string | null }>(
    `SELECT i.id, i.number, i.currency,
            EXISTS (SELECT 1 FROM documents d WHERE d.organisation_id = i.organisation_id AND d.id = i.pdf_document_id AND d.content_type = 'application/pdf') AS pdf,
            (SELECT CASE min(CASE p.reason WHEN 'dispute' THEN 1 WHEN 'payment_plan' THEN 2 WHEN 'promise_to_pay' THEN 3 WHEN 'other' THEN 4 END)
                      WHEN 1 THEN 'disputed' WHEN 2 THEN 'plan' WHEN 3 THEN 'promised' WHEN 4 THEN 'checking' END
               FROM pauses p WHERE p.organisation_id = i.organisation_id AND p.customer_id = i.customer_id
                AND ${COVERS('p', 'i.id')} AND ${ACTIVE_PAUSE('p', '$3::date')}) AS state
       FROM invoices i
      WHERE i.organisation_id = $1 AND i.customer_id = $2 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
      ORDER BY i.due_date, i.id`,
    [orgId, customerId, today],
  );
  const byNumber = new Map(open.map((r) => [r.number, r]));
  const currencies = [...new Set(open.map((r) => r.currency))];
  const groups: PortalCurrencyGroup[] = [];
  let contact: PortalView['contact'] = { id: null, name: null, email: null, phone: null };
  for (const currency of currencies) {
    const first = open.find((r) => r.currency === currency)!;
    const doc = await documentFromLedger(q, orgId, { invoiceNumber: first.number, key: 'statement', lang, at: today, rates });
    const input = documentInputFor('statement', doc.input);
    const facts = computeDocument(input);
    const v = facts.vars;
    groups.push({
      currency,
      invoices: v.invoices.map((i) => {
        const row = byNumber.get(i.number)!;
        const raw = doc.input.invoices.find((x) => x.number === i.number)!;
        return {
          id: String(row.id),
          number: i.number,
          issueDate: i.issue_date,
          dueDate: i.due_date,
          amount: i.amount,
          open: i.open_amount,
          openMinor: raw.openMinor,
          currency,
          overdue: i.is_overdue,
          daysPastDue: i.days_past_due,
          interest: i.interest,
          indemnity: i.indemnity,
          hasPdf: row.pdf,
          state: (row.state as PortalInvoice['state']) ?? null,
        };
      }),
      openTotal: v.totals.open_amount,
      openTotalMinor: doc.input.invoices.reduce((s, i) => s + i.openMinor, 0n),
      overdueTotal: v.totals.overdue_amount,
      penalties: {
        applicable: v.penalties.applicable,
        indemnityApplicable: v.penalties.indemnity_applicable,
        fromNotice: v.penalties.from_notice,
        law: v.penalties.law,
        interestBasis: v.penalties.interest_basis,
        indemnityRule: v.penalties.indemnity_rule,
        interest: v.penalties.interest,
        indemnity: v.penalties.indemnity,
        total: v.penalties.total,
        anyOverdue: v.totals.overdue_count > 0,
      },
      payment: {
        beneficiary: v.payment.beneficiary,
        iban: v.payment.iban,
        bic: v.payment.bic,
        reference: v.payment.reference,
        remittance: v.payment.remittance,
        amount: v.payment.amount,
        epc: documentEpcPayload(facts),
      },
    });
  }
  // The billing contact: the one who receives the reminders (as documentFromLedger picks it).
  const c = billingContact(customer.contacts);
  if (c) contact = { id: String(c.id), name: c.name, email: c.email, phone: c.phone };
  const history = await q.query<{ kind: string; data: unknown; created_at: Date | string; numbers: string[] | null }>(
    `SELECT e.kind, e.data, e.created_at,
            (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = e.organisation_id AND i.id = ANY(e.invoice_ids)) AS numbers
       FROM portal_events e
      WHERE e.organisation_id = $1 AND e.customer_id = $2 AND e.kind NOT IN ('visit', 'document')
      ORDER BY e.created_at DESC, e.id DESC LIMIT 50`,
    [orgId, customerId],
  );
  const address = [org.addressLine1, org.addressLine2, [org.postalCode, org.city].filter(Boolean).join(' ')].filter((x) => x && String(x).trim()).join(', ');
  return {
    lang,
    today,
    organisation: {
      name: org.legalName,
      address,
      email: branding.email,
      phone: branding.phone,
      website: branding.website,
      siren: org.siren,
      colour: /^#[0-9a-fA-F]{6}$/.test(branding.colour) ? branding.colour : '#1F4E79',
      legalMentions: [org.legalName, address, org.siren ? `SIREN ${org.siren}` : null, branding.footer].filter(Boolean).join(' — '),
    },
    customer: { id: String(customer.id), name: customer.legalName, number: customer.externalId ?? String(customer.id) },
    contact,
    groups,
    history: history.map((h) => ({
      at: new Date(h.created_at).toISOString(),
      kind: h.kind,
      data: { ...((typeof h.data === 'string' ? JSON.parse(h.data) : h.data) as Record<string, unknown>), invoices: h.numbers ?? [] },
    })),
  };
}

/** The contact who receives the reminders: the billing contact the customer may update. */
export function billingContact(contacts: readonly Contact[]): Contact | null {
  return contacts.find((x) => x.receivesReminders) ?? contacts.find((x) => x.email) ?? contacts[0] ?? null;
}
