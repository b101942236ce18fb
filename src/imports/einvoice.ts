/**
 * E-invoice import: Factur-X / ZUGFeRD PDFs, CII XML and UBL XML become invoices (or credit
 * notes) of the organisation that issued them. The seller must be this organisation (SIREN or VAT
 * number); the buyer becomes, or is found as, a customer; the original file is stored in
 * documents and, for a PDF, attached to the invoice so reminders can carry it.
 */
import type { Db, Queryable } from '../db/driver.ts';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { frenchVatFromSiren, isValidSiren } from '../domain/identifiers.ts';
import { maxMinor, type Minor, minMinor, moneyText, toDecimalString } from '../domain/money.ts';
import { isRelanceError, validation } from '../errors.ts';
import { defineErrors, renderText, type Text } from '../i18n/index.ts';
import { type EInvoice, parseEInvoice } from '../formats/einvoice/index.ts';
import { type RowRefusal, refusalText, upsertAllocations, upsertCreditNotes, upsertCustomers, upsertInvoices, upsertPayments } from '../ledger/bulk.ts';
import type { ImportSession } from '../ledger/import-session.ts';
import { getOrganisation, type Organisation, writeOff } from '../ledger/repo.ts';
import { type ImportBody, type ImportOptions, type ImportReport, runImport, sha256Hex } from './report.ts';
import { type ImportInput, inputName, readAllBytes } from './source.ts';

const E = defineErrors('imports-einvoice', {
  seller_not_organisation: { fr: 'le vendeur {seller} (SIREN {sellerSiren}, TVA {sellerVat}) n’est pas cette organisation (SIREN {orgSiren}, TVA {orgVat})', en: 'the seller {seller} (SIREN {sellerSiren}, VAT {sellerVat}) is not this organisation (SIREN {orgSiren}, VAT {orgVat})' },
  buyer_no_name: { fr: 'l’acheteur n’a pas de nom', en: 'the buyer has no name' },
});

/** What the import understood differently from what the file literally says (English in the report). */
const W = defineErrors('imports-einvoice-warnings', {
  due_before_issue: { fr: 'l’échéance du {due} précède la date de facture du {issue} (admis par EN 16931) : la facture est due dès sa date d’émission', en: 'due date {due} is before issue date {issue} (allowed by EN 16931): the invoice is due from its issue date' },
  no_due_date: { fr: 'pas d’échéance dans la facture (BT-9) : date de facture + {days} jours', en: 'no due date in the invoice (BT-9): issue date + {days} days' },
  no_seller_check: { fr: 'l’organisation n’a ni SIREN ni numéro de TVA : le vendeur n’a pas pu être vérifié', en: 'the organisation has no SIREN or VAT number: the seller could not be checked' },
  buyer_siren: { fr: 'le SIREN {siren} de l’acheteur a une clé fausse', en: "the buyer's SIREN {siren} fails its check digit" },
  zero_total: { fr: 'le total est nul : rien à recouvrer, facture non importée', en: 'the total is zero: nothing to collect, invoice not imported' },
  implied_paid: { fr: 'le montant dû {due} est inférieur au total {total} sans acompte indiqué : la différence de {paid} est enregistrée comme déjà payée', en: 'the amount due {due} is lower than the total {total} with no prepaid amount stated: the difference of {paid} is recorded as already paid' },
  prepaid_mismatch: { fr: 'l’acompte indiqué ({prepaid}) ne correspond pas au montant dû {due} sur un total de {total} : le montant dû fait foi, {paid} enregistré comme déjà payé', en: 'the prepaid amount stated ({prepaid}) does not agree with the amount due {due} on a total of {total}: the amount due prevails, {paid} recorded as already paid' },
  due_over_total: { fr: 'le montant dû {due} dépasse le total {total} : seul le total est réclamé', en: 'the amount due {due} exceeds the total {total}: only the total is claimed' },
  surplus: { fr: 'le montant déjà payé ({paid}) dépasse le total ({total}) : la facture est soldée et {surplus} restent au crédit du client', en: 'the amount already paid ({paid}) exceeds the total ({total}): the invoice is settled and {surplus} is kept as the customer’s credit' },
  rounding_down: { fr: 'arrondi de {rounding} (BT-114) : passé en perte sur la facture', en: 'rounding of {rounding} (BT-114): written off on the invoice' },
  rounding_up: { fr: 'arrondi de {rounding} (BT-114) ajouté au montant réclamé', en: 'rounding of {rounding} (BT-114) added to the amount claimed' },
  credit_applied: { fr: 'avoir {number} imputé sur la facture {invoice} qu’il corrige ({amount})', en: 'credit note {number} applied to invoice {invoice}, which it corrects ({amount})' },
});

/**
 * What an e-invoice's totals mean for the ledger. The amount due (BT-115) is what stays open:
 * the total claimed (BT-112, plus a positive rounding BT-114), minus a negative rounding written
 * off, minus what was already paid (BT-113 as stated, or implied when a MINIMUM or BASIC WL
 * invoice gives an amount due below its total and no prepaid amount). More paid than the total
 * (a refund due) settles the invoice and leaves the surplus as the customer's credit.
 */
export interface EInvoiceSettlement {
  invoiceAmountMinor: Minor;
  writeOffMinor: Minor;
  /** The payment recorded for what was already paid (0: none). */
  paidMinor: Minor;
  /** The part of that payment applied to the invoice; the rest is customer credit. */
  allocatedMinor: Minor;
  openMinor: Minor;
  warnings: Text[];
}

export function settlementOf(inv: Pick<EInvoice, 'inclTaxMinor' | 'roundingMinor' | 'dueMinor' | 'prepaidMinor' | 'prepaidStated' | 'currency'>): EInvoiceSettlement {
  const m = (x: Minor) => moneyText(x, inv.currency);
  const warnings: Text[] = [];
  const invoiceAmountMinor = inv.inclTaxMinor + maxMinor(inv.roundingMinor, 0n);
  const writeOffMinor = maxMinor(-inv.roundingMinor, 0n);
  if (inv.roundingMinor > 0n) warnings.push(W('rounding_up', { rounding: m(inv.roundingMinor) }));
  if (writeOffMinor > 0n) warnings.push(W('rounding_down', { rounding: m(writeOffMinor) }));
  const claimable = invoiceAmountMinor - writeOffMinor;
  let paidMinor = claimable - inv.dueMinor;
  if (paidMinor < 0n) {
    warnings.push(W('due_over_total', { due: m(inv.dueMinor), total: m(inv.inclTaxMinor) }));
    paidMinor = 0n;
  } else if (paidMinor > 0n && !inv.prepaidStated) {
    warnings.push(W('implied_paid', { due: m(inv.dueMinor), total: m(inv.inclTaxMinor), paid: m(paidMinor) }));
  } else if (inv.prepaidStated && paidMinor !== inv.prepaidMinor) {
    warnings.push(W('prepaid_mismatch', { prepaid: m(inv.prepaidMinor), due: m(inv.dueMinor), total: m(inv.inclTaxMinor), paid: m(paidMinor) }));
  }
  const allocatedMinor = minMinor(paidMinor, claimable);
  if (paidMinor > claimable) warnings.push(W('surplus', { paid: m(paidMinor), total: m(inv.inclTaxMinor), surplus: m(paidMinor - claimable) }));
  return { invoiceAmountMinor, writeOffMinor, paidMinor, allocatedMinor, openMinor: claimable - allocatedMinor, warnings };
}

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
  return runImport(db, orgId, 'einvoice', meta, opts, async (session, b) => {
    const { q } = session;
    const hashes: string[] = [];
    for (const [i, input] of inputs.entries()) {
      const file = names[i]!;
      b.rowsRead++;
      const bytes = await readAllBytes(input);
      const sha = sha256Hex(bytes);
      hashes.push(sha);
      // Each file in a savepoint: a refused one (even by the database) leaves the transaction
      // usable, so every other file is still read and its problems reported.
      await q.exec('SAVEPOINT einvoice_file');
      try {
        await importOne(session, org, file, bytes, sha, b);
        await q.exec('RELEASE SAVEPOINT einvoice_file');
      } catch (e) {
        if (!isRelanceError(e)) throw e;
        await q.exec('ROLLBACK TO SAVEPOINT einvoice_file');
        b.problems.add(e.where?.line ?? null, e.where?.path ?? e.where?.field ?? null, `${file}: ${e.detail(b.problems.lang)}`);
      }
      opts.onProgress?.({ rows: i + 1, bytesRead: i + 1, bytesTotal: inputs.length });
    }
    meta.sha256 = hashes.length === 1 ? hashes[0]! : null;
  });
}

async function importOne(session: ImportSession, org: Organisation, file: string, bytes: Buffer, sha: string, b: ImportBody) {
  const { q, orgId } = session;
  const { invoice: inv, source } = parseEInvoice(bytes, file);
  const warn = (w: Text | string) => b.warnings.push(`${file}: ${typeof w === 'string' ? w : renderText(w, b.problems.lang)}`);
  const detected = (b.detected.files ??= []) as unknown[];
  detected.push({ file, syntax: inv.syntax, profile: inv.profile, kind: inv.kind, typeCode: inv.typeCode, number: inv.number, embedded: source.kind === 'pdf' ? source.embeddedName : null });
  for (const w of inv.warnings) warn(w);

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
  if (seller === null) warn(W('no_seller_check'));
  if (!inv.buyer.name) throw validation(E('buyer_no_name'), { path: 'BuyerTradeParty/Name' });
  if (inv.buyer.siren && !isValidSiren(inv.buyer.siren)) warn(W('buyer_siren', { siren: inv.buyer.siren }));
  if (inv.kind === 'invoice' && inv.inclTaxMinor === 0n) {
    warn(W('zero_total'));
    return;
  }

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
      session,
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

  const documentId = await storeDocument(q, orgId, file, source.kind === 'pdf' ? 'application/pdf' : 'application/xml', bytes, sha);
  const doc = (kind: 'invoice' | 'credit_note', total: Minor, due: Minor, dueDate: string | null) =>
    b.documents.add(
      { file, kind, number: inv.number, issueDate: inv.issueDate, dueDate, currency: inv.currency, total: toDecimalString(total, inv.currency), amountDue: toDecimalString(due, inv.currency), buyer: inv.buyer.name },
      due,
    );

  if (inv.kind === 'credit_note') {
    const r = await upsertCreditNotes(session, [
      { line: 0, customerExternalId: customerKey, number: inv.number, externalId: null, issueDate: inv.issueDate, currency: inv.currency, amountMinor: inv.inclTaxMinor, reason: inv.negated ? 'e-invoice with negative total' : 'e-invoice credit note' },
    ]);
    refusals(b, file, r);
    b.counts.add('credit_notes', r);
    if (b.problems.any) return;
    const applied = await applyToCorrectedInvoice(session, inv, customerKey, b, file);
    if (applied) warn(W('credit_applied', { number: inv.number, invoice: applied.invoice, amount: moneyText(applied.amountMinor, inv.currency) }));
    doc('credit_note', inv.inclTaxMinor, inv.inclTaxMinor - (applied?.amountMinor ?? 0n), null);
    return;
  }

  let dueDate = inv.dueDate;
  if (!dueDate) {
    const days = known?.payment_terms_days ?? 30;
    dueDate = addDays(inv.issueDate, days);
    warn(W('no_due_date', { days }));
  }
  // EN 16931 allows it (two of the CEN's own examples have one); the ledger keeps every invoice due
  // no earlier than issued, so such an invoice is due at once, which is what the seller meant.
  if (dueDate < inv.issueDate) {
    warn(W('due_before_issue', { due: dueDate, issue: inv.issueDate }));
    dueDate = inv.issueDate;
  }

  const s = settlementOf(inv);
  for (const w of s.warnings) warn(w);
  const r = await upsertInvoices(session, [
    {
      line: 0, customerExternalId: customerKey, number: inv.number, externalId: null, issueDate: inv.issueDate, dueDate, currency: inv.currency,
      amountExclTaxMinor: inv.exclTaxMinor > s.invoiceAmountMinor ? s.invoiceAmountMinor : maxMinor(inv.exclTaxMinor, 0n), amountInclTaxMinor: s.invoiceAmountMinor,
    },
  ]);
  refusals(b, file, r);
  b.counts.add('invoices', r);
  if (b.problems.any) return;
  doc('invoice', inv.inclTaxMinor, s.openMinor, dueDate);
  if (s.writeOffMinor > 0n) await writeOffRounding(q, orgId, inv.number, s.writeOffMinor, inv.issueDate);
  // What was already paid is recorded as a payment, once: its key is the invoice number. A surplus
  // beyond the total stays on the payment, unallocated: the customer's credit.
  if (s.paidMinor > 0n) {
    const externalId = `einvoice-prepaid:${inv.number}`;
    const p = await upsertPayments(session, [
      { line: 0, externalId, customerExternalId: customerKey, paymentDate: inv.issueDate, currency: inv.currency, amountMinor: s.paidMinor,
        method: 'other', reference: `prepaid ${toDecimalString(s.paidMinor, inv.currency)} (e-invoice ${inv.number})`, payerName: null, payerIban: null },
    ]);
    refusals(b, file, p);
    b.counts.add('payments', p);
    if (s.allocatedMinor > 0n) {
      const a = await upsertAllocations(session, [
        { line: 0, invoiceNumber: inv.number, paymentExternalId: externalId, currency: inv.currency, amountMinor: s.allocatedMinor, allocatedOn: inv.issueDate },
      ]);
      refusals(b, file, a);
      b.counts.add('allocations', a);
    }
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

const ROUNDING_REASON = 'payable rounding amount (BT-114)';

/** The rounding written off once: a re-import finds it already there. */
async function writeOffRounding(q: Queryable, orgId: string, number: string, amountMinor: Minor, on: string) {
  const [i] = await q.query<{ id: bigint; done: boolean }>(
    `SELECT i.id, EXISTS (SELECT 1 FROM write_offs w WHERE w.organisation_id = i.organisation_id AND w.invoice_id = i.id AND w.reason = $3) AS done
       FROM invoices i WHERE i.organisation_id = $1 AND i.number = $2`,
    [orgId, number, ROUNDING_REASON],
  );
  if (i && !i.done) await writeOff(q, orgId, { invoiceId: i.id, amountMinor, writtenOffOn: on as CalendarDate, reason: ROUNDING_REASON });
}

/**
 * A credit note naming the invoice it corrects (BT-25) is applied to it when that invoice is the
 * same customer's, in the same currency, and still open: what is left stays as customer credit.
 */
async function applyToCorrectedInvoice(session: ImportSession, inv: EInvoice, customerKey: string, b: ImportBody, file: string) {
  const { q, orgId } = session;
  if (!inv.precedingInvoice) return null;
  const [target] = await q.query<{ number: string; open: bigint; left: bigint }>(
    `SELECT i.number, i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open, n.amount_minor - n.allocated_minor AS left
       FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
       JOIN credit_notes n ON n.organisation_id = i.organisation_id AND n.number = $4
      WHERE i.organisation_id = $1 AND i.number = $2 AND c.external_id = $3 AND i.currency = $5 AND n.customer_id = i.customer_id`,
    [orgId, inv.precedingInvoice, customerKey, inv.number, inv.currency],
  );
  if (!target) return null;
  const already = await q.query<{ sum: bigint | null }>(
    `SELECT sum(a.amount_minor) AS sum FROM allocations a JOIN credit_notes n ON n.organisation_id = a.organisation_id AND n.id = a.credit_note_id
       JOIN invoices i ON i.organisation_id = a.organisation_id AND i.id = a.invoice_id
      WHERE a.organisation_id = $1 AND n.number = $2 AND i.number = $3`,
    [orgId, inv.number, target.number],
  );
  const done = already[0]?.sum ?? 0n;
  const amountMinor = done + minMinor(target.open, target.left);
  if (amountMinor <= 0n) return null;
  const a = await upsertAllocations(session, [
    { line: 0, invoiceNumber: target.number, paymentExternalId: null, creditNoteNumber: inv.number, currency: inv.currency, amountMinor, allocatedOn: inv.issueDate },
  ]);
  refusals(b, file, a);
  b.counts.add('allocations', a);
  return { invoice: target.number, amountMinor };
}

function refusals(b: ImportBody, file: string, r: { refused: RowRefusal[] }) {
  for (const x of r.refused) b.problems.add(null, x.field, `${file}: ${renderText(refusalText(x), b.problems.lang)}`);
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
