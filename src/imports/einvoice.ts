/**
 * E-invoice import: Factur-X / ZUGFeRD PDFs, CII XML and UBL XML become invoices (or credit
 * notes) of the organisation that issued them. The seller must be this organisation (SIREN or VAT
 * number); the buyer becomes, or is found as, a customer; the original file is stored in
 * documents and, for a PDF, attached to the invoice so reminders can carry it.
 */
import type { Db, Queryable } from '../db/driver.ts';
import { addDays } from '../domain/dates.ts';
import { frenchVatFromSiren, isValidSiren } from '../domain/identifiers.ts';
import { toDecimalString } from '../domain/money.ts';
import { isRelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { type EInvoice, parseEInvoice } from '../formats/einvoice/index.ts';
import { upsertAllocations, upsertCreditNotes, upsertCustomers, upsertInvoices, upsertPayments } from '../ledger/bulk.ts';
import { getOrganisation, type Organisation } from '../ledger/repo.ts';
import { type ImportBody, type ImportOptions, type ImportReport, runImport, sha256Hex } from './report.ts';
import { type ImportInput, inputName, readAllBytes } from './source.ts';

const E = defineErrors('imports-einvoice', {
  seller_not_organisation: { fr: 'le vendeur {seller} (SIREN {sellerSiren}, TVA {sellerVat}) n’est pas cette organisation (SIREN {orgSiren}, TVA {orgVat})', en: 'the seller {seller} (SIREN {sellerSiren}, VAT {sellerVat}) is not this organisation (SIREN {orgSiren}, VAT {orgVat})' },
  buyer_no_name: { fr: 'l’acheteur n’a pas de nom', en: 'the buyer has no name' },
  due_before_issue: { fr: 'l’échéance du {due} précède la date de facture du {issue}', en: 'due date {due} is before issue date {issue}' },
  total_positive: { fr: 'le total de la facture doit être positif', en: 'the invoice total must be positive' },
});

export function sellerIsOrganisation(inv: EInvoice, org: Pick<Organisation, 'siren' | 'vatNumber'>): boolean | null {
  const orgVats = [org.vatNumber?.replace(/\s/g, '').toUpperCase(), org.siren ? frenchVatFromSiren(org.siren) : undefined].filter(Boolean);
  if (!org.siren && orgVats.length === 0) return null;
  if (org.siren && (inv.seller.siren === org.siren || inv.seller.siret?.startsWith(org.siren))) return true;
  return Boolean(inv.seller.vatNumber && orgVats.includes(inv.seller.vatNumber));
}

export async function importEInvoices(db: Db, orgId: string, inputs: ImportInput[], opts: ImportOptions = {}): Promise<ImportReport> {
  const names = inputs.map((i) => inputName(i) ?? 'upload');
  const meta = { filename: names.join(', '), sha256: null as string | null };
  const org = await getOrganisation(db, orgId);
  return runImport(db, orgId, 'einvoice', meta, opts, async (q, b) => {
    const hashes: string[] = [];
    for (const [i, input] of inputs.entries()) {
      const file = names[i]!;
      b.rowsRead++;
      const bytes = await readAllBytes(input);
      const sha = sha256Hex(bytes);
      hashes.push(sha);
      try {
        await importOne(q, orgId, org, file, bytes, sha, b);
      } catch (e) {
        if (!isRelanceError(e)) throw e;
        b.problems.add(e.where?.line ?? null, e.where?.path ?? e.where?.field ?? null, `${file}: ${e.message}`);
      }
      opts.onProgress?.({ rows: i + 1, bytesRead: i + 1, bytesTotal: inputs.length });
    }
    meta.sha256 = hashes.length === 1 ? hashes[0]! : null;
  });
}

async function importOne(q: Queryable, orgId: string, org: Organisation, file: string, bytes: Buffer, sha: string, b: ImportBody) {
  const { invoice: inv, source } = parseEInvoice(bytes, file);
  const detected = (b.detected.files ??= []) as unknown[];
  detected.push({ file, syntax: inv.syntax, profile: inv.profile, kind: inv.kind, number: inv.number, embedded: source.kind === 'pdf' ? source.embeddedName : null });
  for (const w of inv.warnings) b.warnings.push(`${file}: ${w}`);

  const seller = sellerIsOrganisation(inv, org);
  if (seller === false) {
    throw validation(
      E('seller_not_organisation', {
        seller: inv.seller.name,
        sellerSiren: inv.seller.siren ?? '—',
        sellerVat: inv.seller.vatNumber ?? '—',
        orgSiren: org.siren ?? '—',
        orgVat: org.vatNumber ?? (org.siren ? frenchVatFromSiren(org.siren) : '—'),
      }),
      { path: 'SellerTradeParty' },
    );
  }
  if (seller === null) b.warnings.push(`${file}: the organisation has no SIREN or VAT number: the seller could not be checked`);
  if (!inv.buyer.name) throw validation(E('buyer_no_name'), { path: 'BuyerTradeParty/Name' });
  if (inv.buyer.siren && !isValidSiren(inv.buyer.siren)) b.warnings.push(`${file}: the buyer's SIREN ${inv.buyer.siren} fails its check digit`);

  // The buyer is an existing customer when its SIREN or VAT number matches; otherwise a new one.
  const [known] = await q.query<{ external_id: string | null; id: bigint; payment_terms_days: number }>(
    `SELECT id, external_id, payment_terms_days FROM customers WHERE organisation_id = $1
       AND (($2::text IS NOT NULL AND siren = $2) OR ($3::text IS NOT NULL AND upper(replace(vat_number, ' ', '')) = $3))
     ORDER BY id LIMIT 1`,
    [orgId, inv.buyer.siren, inv.buyer.vatNumber],
  );
  let customerKey = known?.external_id ?? null;
  if (known && !customerKey) {
    // A customer created by hand without external id gets one, so the ledger rows can name it.
    customerKey = `customer:${known.id}`;
    await q.query('UPDATE customers SET external_id = $3 WHERE organisation_id = $1 AND id = $2', [orgId, known.id, customerKey]);
  }
  if (!customerKey) {
    customerKey = inv.buyer.siren ?? inv.buyer.vatNumber ?? `einvoice:${inv.buyer.name}`;
    const c = inv.buyer;
    const r = await upsertCustomers(
      q,
      orgId,
      [
        {
          line: 0, externalId: customerKey, legalName: c.name, kind: null, siren: c.siren && isValidSiren(c.siren) ? c.siren : null,
          siret: null, vatNumber: c.vatNumber, country: c.country && /^[A-Z]{2}$/.test(c.country) ? c.country : null, language: null,
          paymentTermsDays: null, segment: null,
          contact: c.email || c.addressLine1 || c.phone
            ? { name: c.contactName ?? c.name, email: c.email, phone: c.phone, addressLine1: c.addressLine1, postalCode: c.postalCode, city: c.city, country: c.country }
            : null,
        },
      ],
      { insertOnly: true },
    );
    b.counts.add('customers', { inserted: r.inserted, updated: 0, unchanged: 1 - r.inserted });
  } else b.counts.add('customers', { inserted: 0, updated: 0, unchanged: 1 });

  let dueDate = inv.dueDate;
  if (!dueDate) {
    const terms = known?.payment_terms_days ?? 30;
    dueDate = addDays(inv.issueDate, terms);
    b.warnings.push(`${file}: no due date in the invoice (BT-9): issue date + ${terms} days`);
  }
  if (dueDate < inv.issueDate) throw validation(E('due_before_issue', { due: dueDate, issue: inv.issueDate }), { path: 'DueDate' });

  const documentId = await storeDocument(q, orgId, source.kind === 'pdf' ? file : file, source.kind === 'pdf' ? 'application/pdf' : 'application/xml', bytes, sha);

  if (inv.kind === 'credit_note') {
    const r = await upsertCreditNotes(q, orgId, [
      { line: 0, customerExternalId: customerKey, number: inv.number, externalId: null, issueDate: inv.issueDate, currency: inv.currency, amountMinor: inv.inclTaxMinor, reason: 'e-invoice credit note' },
    ]);
    refusals(b, file, r);
    b.counts.add('credit_notes', r);
    return;
  }
  if (inv.inclTaxMinor <= 0n) throw validation(E('total_positive'), { path: 'GrandTotalAmount' });
  const r = await upsertInvoices(q, orgId, [
    {
      line: 0, customerExternalId: customerKey, number: inv.number, externalId: null, issueDate: inv.issueDate, dueDate, currency: inv.currency,
      amountExclTaxMinor: inv.exclTaxMinor > inv.inclTaxMinor ? inv.inclTaxMinor : inv.exclTaxMinor, amountInclTaxMinor: inv.inclTaxMinor,
    },
  ]);
  refusals(b, file, r);
  b.counts.add('invoices', r);
  if (b.problems.any) return;
  // An amount already paid (BT-113) is recorded as a payment, once: its key is the invoice number.
  if (inv.prepaidMinor > 0n) {
    const externalId = `einvoice-prepaid:${inv.number}`;
    const p = await upsertPayments(q, orgId, [
      { line: 0, externalId, customerExternalId: customerKey, paymentDate: inv.issueDate, currency: inv.currency, amountMinor: inv.prepaidMinor,
        method: 'other', reference: `prepaid ${toDecimalString(inv.prepaidMinor, inv.currency)} (e-invoice ${inv.number})`, payerName: null, payerIban: null },
    ]);
    refusals(b, file, p);
    b.counts.add('payments', p);
    const a = await upsertAllocations(q, orgId, [
      { line: 0, invoiceNumber: inv.number, paymentExternalId: externalId, currency: inv.currency, amountMinor: inv.prepaidMinor, allocatedOn: inv.issueDate },
    ]);
    refusals(b, file, a);
    b.counts.add('allocations', a);
  }
  // The PDF is what reminders attach; an XML twin imported later does not replace it.
  if (source.kind === 'pdf') {
    await q.query(`UPDATE invoices SET pdf_document_id = $3 WHERE organisation_id = $1 AND number = $2 AND pdf_document_id IS DISTINCT FROM $3`, [
      orgId,
      inv.number,
      documentId,
    ]);
  }
  await q.query(
    `INSERT INTO invoice_payment_details (organisation_id, invoice_id, payment_reference, payee_iban, payee_bic, source_format, profile, source_document_id)
     SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM invoices WHERE organisation_id = $1 AND number = $2
     ON CONFLICT (organisation_id, invoice_id) DO UPDATE SET payment_reference = EXCLUDED.payment_reference, payee_iban = EXCLUDED.payee_iban,
       payee_bic = EXCLUDED.payee_bic, profile = EXCLUDED.profile,
       source_format = CASE WHEN $9 THEN EXCLUDED.source_format ELSE invoice_payment_details.source_format END,
       source_document_id = CASE WHEN $9 OR invoice_payment_details.source_document_id IS NULL THEN EXCLUDED.source_document_id
                                 ELSE invoice_payment_details.source_document_id END`,
    [orgId, inv.number, inv.paymentReference, inv.payeeIban, inv.payeeBic, source.kind === 'pdf' ? `factur-x (${inv.syntax})` : inv.syntax, inv.profile, documentId, source.kind === 'pdf'],
  );
}

function refusals(b: ImportBody, file: string, r: { refused: { field: string; reason: string }[] }) {
  for (const x of r.refused) b.problems.add(null, x.field, `${file}: ${x.reason}`);
}

/** Stores a file once per organisation (same bytes, same document). */
export async function storeDocument(q: Queryable, orgId: string, filename: string, contentType: string, bytes: Buffer, sha: string): Promise<bigint> {
  const base = filename.split(/[\\/]/).pop() ?? filename;
  const [existing] = await q.query<{ id: bigint }>('SELECT id FROM documents WHERE organisation_id = $1 AND sha256 = $2 ORDER BY id LIMIT 1', [orgId, sha]);
  if (existing) return existing.id;
  const [row] = await q.query<{ id: bigint }>(
    'INSERT INTO documents (organisation_id, filename, content_type, sha256, content) VALUES ($1,$2,$3,$4,$5) RETURNING id',
    [orgId, base, contentType, sha, bytes],
  );
  return row!.id;
}
