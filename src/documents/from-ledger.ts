/**
 * Reads what a document needs from the ledger: the organisation and its branding, the customer and
 * the contact who receives reminders, the invoices concerned (one, or every open one for a
 * statement), their late fees computed by the law engine at the document's date, unallocated
 * credits, and the invoice's stored PDF when there is one.
 */
import type { Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { forTheDebtor, lateFeesUnder, type RateTables, type RegimeDecision, renderLawNote } from '../domain/law/index.ts';
import { creditorTerms, regimeBetween } from '../law/regime.ts';
import type { Minor } from '../domain/money.ts';
import { validation } from '../errors.ts';
import { defineErrors, type Lang } from '../i18n/index.ts';
import { customerLedger, getCustomer, getInvoiceByNumber, getOrganisation, type Invoice } from '../ledger/repo.ts';
import { TEMPLATES, type TemplateKey } from './registry.ts';
import { getBranding } from './repo.ts';
import type { DocumentInput, InvoiceData, InvoiceFees } from './variables.ts';

const E = defineErrors('documents-from-ledger', {
  no_open_invoice: { fr: 'le client {customer} n’a aucune facture ouverte en {currency} pour un relevé', en: 'customer {customer} has no open invoice in {currency} for a statement' },
  nothing_to_ask: { fr: 'la facture {number} a le statut « {status} » : il n’y a rien à réclamer', en: 'invoice {number} is {status}: nothing to ask for' },
});

/**
 * An overdue invoice's late fees at a document's date, under the regime of its parties, as a
 * document shows them: the one computation behind a single document and the outbox's batch
 * rendering. Only what the debtor may read goes in its notes: an operator's advice (a rate not
 * known yet, a currency not converted) stays out of the document.
 */
export function invoiceFees(
  i: { currency: string; amountInclTaxMinor: Minor; dueDate: CalendarDate },
  law: RegimeDecision,
  at: CalendarDate,
  payments: { date: CalendarDate; amountMinor: Minor }[],
  rates: RateTables,
  lang: Lang,
): InvoiceFees {
  const r = lateFeesUnder(law, { currency: i.currency, amountMinor: i.amountInclTaxMinor, dueDate: i.dueDate, until: at, payments }, rates);
  return {
    interestMinor: r.interestMinor,
    indemnityMinor: r.indemnityMinor,
    provisional: r.provisional,
    notes: r.noteDetails.filter(forTheDebtor).map((n) => renderLawNote(n, lang)),
    periods: r.periods,
  };
}

export interface LedgerDocument {
  input: DocumentInput;
  /** The invoice's own PDF, attached to reminder emails. */
  attachment: { filename: string; contentType: string; content: Buffer } | null;
  recipient: { name: string | null; email: string | null; phone: string | null };
  invoice: Invoice;
}

export async function documentFromLedger(
  q: Queryable,
  orgId: string,
  opts: { invoiceNumber: string; key: TemplateKey; lang?: Lang; at: CalendarDate; rates: RateTables },
): Promise<LedgerDocument> {
  const org = await getOrganisation(q, orgId);
  const invoice = await getInvoiceByNumber(q, orgId, opts.invoiceNumber);
  const customer = await getCustomer(q, orgId, invoice.customerId);
  const lang = opts.lang ?? customer.language ?? org.language;
  const contact = customer.contacts.find((c) => c.receivesReminders) ?? customer.contacts.find((c) => c.email) ?? customer.contacts[0] ?? null;
  const spec = TEMPLATES[opts.key];

  let invoices: Array<InvoiceData & { id: bigint }>;
  if (spec.allOpenInvoices) {
    const ledger = await customerLedger(q, orgId, customer.id, opts.at);
    invoices = ledger.openItems.filter((i) => i.currency === invoice.currency).map((i) => ({ ...i, id: i.invoiceId }));
    if (invoices.length === 0) throw validation(E('no_open_invoice', { customer: customer.legalName, currency: invoice.currency }), { field: '--invoice' });
  } else {
    if (invoice.openMinor <= 0n) throw validation(E('nothing_to_ask', { number: invoice.number, status: invoice.status }), { field: '--invoice' });
    invoices = [invoice];
  }

  const law = regimeBetween(await creditorTerms(q, orgId), customer);
  const fees = new Map<string, InvoiceFees>();
  for (const i of invoices) {
    if (opts.at <= i.dueDate) continue;
    const payments = await q.query<{ date: CalendarDate; amount: Minor }>(
      `SELECT allocated_on AS date, amount_minor AS amount FROM allocations WHERE organisation_id = $1 AND invoice_id = $2 AND allocated_on <= $3
       UNION ALL
       SELECT written_off_on, amount_minor FROM write_offs WHERE organisation_id = $1 AND invoice_id = $2 AND written_off_on <= $3`,
      [orgId, i.id, opts.at],
    );
    fees.set(
      i.number,
      invoiceFees(
        i,
        law,
        opts.at,
        payments.map((p) => ({ date: p.date, amountMinor: p.amount })),
        opts.rates,
        lang,
      ),
    );
  }

  const credits = await q.query<{ c: Minor | null }>(
    `SELECT sum(amount_minor - allocated_minor) AS c FROM (
       SELECT amount_minor, allocated_minor, currency FROM payments WHERE organisation_id = $1 AND customer_id = $2
       UNION ALL SELECT amount_minor, allocated_minor, currency FROM credit_notes WHERE organisation_id = $1 AND customer_id = $2) x
     WHERE currency = $3`,
    [orgId, customer.id, invoice.currency],
  );

  let attachment: LedgerDocument['attachment'] = null;
  if (invoice.pdfDocumentId !== null) {
    const [d] = await q.query<{ filename: string; content_type: string; content: Uint8Array }>(
      // Only a PDF is the invoice a reader can open (an e-invoice's XML is not).
      `SELECT filename, content_type, content FROM documents WHERE organisation_id = $1 AND id = $2 AND content_type = 'application/pdf'`,
      [orgId, invoice.pdfDocumentId],
    );
    if (d) attachment = { filename: d.filename, contentType: d.content_type, content: Buffer.from(d.content) };
  }

  const input: DocumentInput = {
    lang,
    at: opts.at,
    organisation: org,
    branding: await getBranding(q, orgId),
    customer: { legalName: customer.legalName, kind: customer.kind, number: customer.externalId ?? String(customer.id), siren: customer.siren, vatNumber: customer.vatNumber, country: customer.country },
    law,
    contact,
    invoices,
    fees,
    creditsMinor: credits[0]?.c ?? 0n,
  };
  return { input, attachment, recipient: { name: contact?.name ?? null, email: contact?.email ?? null, phone: contact?.phone ?? null }, invoice };
}
