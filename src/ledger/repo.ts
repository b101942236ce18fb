/**
 * Ledger reads and writes. Every function takes the organisation id and every statement filters
 * by it: there is no query in this file that can reach another organisation's rows. Writes take a
 * Queryable so callers compose them inside one transaction (db.tx).
 */
import { type Db, escapeLike, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import {
  type CustomerInput,
  checkAllocation,
  type CustomerBalance,
  customerBalances,
  type InvoiceInput,
  type InvoiceStatus,
  type PaymentInput,
  validateContact,
  validateCustomer,
  validateInvoice,
  validatePayment,
} from '../domain/ledger.ts';
import type { Minor } from '../domain/money.ts';
import { type EarlyDiscount, type RiskClass, validateCreditPolicy } from '../domain/credit-policy.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { normaliseIban } from '../domain/identifiers.ts';
import { checkOrganisation, type OrganisationFields, type OrganisationPatch } from '../domain/organisation.ts';
import { defineErrors, type Text } from '../i18n/index.ts';
import { ensureBuiltinScenarios } from '../engine/scenarios.ts';
import { insertInvoices } from './bulk.ts';

const E = defineErrors('ledger', {
  siren_taken: { fr: "le SIREN {siren} est déjà celui de l’organisation « {name} » : une organisation par entreprise", en: "SIREN {siren} already belongs to organisation \"{name}\": one organisation per company" },
  credit_note_number: { fr: "le numéro d’avoir est obligatoire", en: "credit note number is required" },
  one_source: { fr: "une affectation porte sur un paiement ou sur un avoir, exactement l’un des deux", en: "an allocation takes exactly one of a payment or a credit note" },
  payment_label: { fr: "le paiement {id}", en: "payment {id}" },
  credit_note_label: { fr: "l’avoir {number}", en: "credit note {number}" },
  write_off_positive: { fr: "le montant d’un passage en perte doit être positif", en: "a write-off amount must be positive" },
  write_off_over: { fr: "le passage en perte de {amount} dépasse le reste dû {open} de la facture {invoice}", en: "write-off of {amount} exceeds the open amount {open} of invoice {invoice}" },
});

export interface OrganisationInput {
  legalName: string;
  siren?: string | null;
  siret?: string | null;
  vatNumber?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  postalCode?: string | null;
  city?: string | null;
  country?: string;
  iban?: string | null;
  bic?: string | null;
  timeZone?: string;
  currency?: string;
  language?: 'fr' | 'en';
  /** Sending for real; a new organisation starts in review mode (every action waits for approval). */
  live?: boolean;
}

export interface Organisation extends OrganisationFields {
  id: string;
  live: boolean;
}

const ORG_COLUMNS: Record<keyof OrganisationFields, string> = {
  legalName: 'legal_name',
  siren: 'siren',
  siret: 'siret',
  vatNumber: 'vat_number',
  addressLine1: 'address_line1',
  addressLine2: 'address_line2',
  postalCode: 'postal_code',
  city: 'city',
  country: 'country',
  iban: 'iban',
  bic: 'bic',
  timeZone: 'time_zone',
  currency: 'currency',
  language: 'language',
};

/** One organisation per company: a SIREN already taken is refused, naming who holds it. */
async function refuseTakenSiren(q: Queryable, siren: string | null | undefined, exceptId: string | null): Promise<void> {
  if (!siren) return;
  const [other] = await q.query<{ legal_name: string }>('SELECT legal_name FROM organisations WHERE siren = $1 AND ($2::uuid IS NULL OR id <> $2)', [siren, exceptId]);
  if (other) throw new RelanceError(ERROR_CODES.CONFLICT, E('siren_taken', { siren, name: other.legal_name }), { where: { field: 'siren' } });
}

/** Creates an organisation: every field checked (src/domain/organisation.ts), the SIREN unique (also by the database). */
export async function createOrganisation(q: Queryable, o: OrganisationInput): Promise<Organisation> {
  const f = checkOrganisation(o, null) as OrganisationFields;
  await refuseTakenSiren(q, f.siren ?? null, null);
  const cols = (Object.keys(ORG_COLUMNS) as (keyof OrganisationFields)[]).filter((k) => f[k] !== undefined);
  const [row] = await q.query<Row>(
    `INSERT INTO organisations (${cols.map((k) => ORG_COLUMNS[k]).join(', ')}, live)
     VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}, $${cols.length + 1}) RETURNING *`,
    [...cols.map((k) => f[k]), o.live ?? false],
  );
  const organisation = toOrganisation(row!);
  // The built-in scenarios exist from the start, whatever reads them first (API, CLI, web, the cycle).
  await ensureBuiltinScenarios(q, organisation.id, organisation.language);
  return organisation;
}

/** Changes the fields given (the others stay), checked as at creation; `live` switches review mode off or on. */
export async function updateOrganisation(q: Queryable, id: string, patch: OrganisationPatch & { live?: boolean }): Promise<Organisation> {
  const current = await getOrganisation(q, id);
  const f = checkOrganisation(patch, current);
  if (f.siren) await refuseTakenSiren(q, f.siren, id);
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [k, v] of Object.entries(f) as [keyof OrganisationFields, unknown][]) {
    params.push(v);
    sets.push(`${ORG_COLUMNS[k]} = $${params.length}`);
  }
  if (patch.live !== undefined) {
    params.push(Boolean(patch.live));
    sets.push(`live = $${params.length}`);
  }
  if (sets.length === 0) return current;
  const [row] = await q.query<Row>(`UPDATE organisations SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, params);
  return toOrganisation(row!);
}

export async function getOrganisation(q: Queryable, id: string): Promise<Organisation> {
  const [row] = await q.query<Row>('SELECT * FROM organisations WHERE id = $1', [id]);
  if (!row) throw notFound('organisation', id);
  return toOrganisation(row);
}

export async function listOrganisations(q: Queryable): Promise<Organisation[]> {
  return (await q.query<Row>('SELECT * FROM organisations WHERE NOT loading ORDER BY created_at, id')).map(toOrganisation);
}

type Row = Record<string, unknown>;
const s = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toOrganisation(r: Row): Organisation {
  return {
    id: String(r.id),
    legalName: String(r.legal_name),
    siren: s(r.siren),
    siret: s(r.siret),
    vatNumber: s(r.vat_number),
    addressLine1: s(r.address_line1),
    addressLine2: s(r.address_line2),
    postalCode: s(r.postal_code),
    city: s(r.city),
    country: String(r.country),
    iban: s(r.iban),
    bic: s(r.bic),
    timeZone: String(r.time_zone),
    currency: String(r.currency),
    language: r.language as 'fr' | 'en',
    live: r.live !== false,
  };
}

// ------------------------------------------------------------------ customers

export interface Customer {
  id: bigint;
  externalId: string | null;
  legalName: string;
  kind: 'business' | 'consumer';
  siren: string | null;
  siret: string | null;
  vatNumber: string | null;
  country: string;
  language: 'fr' | 'en';
  paymentTermsDays: number;
  tags: string[];
  segment: string | null;
  creditLimitMinor: Minor | null;
  /** Deposit asked on new orders, basis points (3000 = 30 %). */
  depositBp: number | null;
  earlyDiscount: EarlyDiscount | null;
  riskClass: RiskClass | null;
  notes: string | null;
}

export interface Contact {
  id: bigint;
  customerId: bigint;
  name: string;
  role: string | null;
  email: string | null;
  phone: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
  receivesReminders: boolean;
}

function toCustomer(r: Row): Customer {
  return {
    id: r.id as bigint,
    externalId: s(r.external_id),
    legalName: String(r.legal_name),
    kind: r.kind as Customer['kind'],
    siren: s(r.siren),
    siret: s(r.siret),
    vatNumber: s(r.vat_number),
    country: String(r.country),
    language: r.language as Customer['language'],
    paymentTermsDays: Number(r.payment_terms_days),
    tags: (r.tags as string[]) ?? [],
    segment: s(r.segment),
    creditLimitMinor: (r.credit_limit_minor as bigint | null) ?? null,
    depositBp: r.deposit_bp == null ? null : Number(r.deposit_bp),
    earlyDiscount: r.early_discount_bp == null ? null : { bp: Number(r.early_discount_bp), withinDays: Number(r.early_discount_days) },
    riskClass: (r.risk_class as RiskClass | null) ?? null,
    notes: s(r.notes),
  };
}

/** A contacts row as the ledger shows it; blank texts read as absent. */
export function toContact(r: Row): Contact {
  const s = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    name: String(r.name),
    role: s(r.role),
    email: s(r.email),
    phone: s(r.phone),
    addressLine1: s(r.address_line1),
    addressLine2: s(r.address_line2),
    postalCode: s(r.postal_code),
    city: s(r.city),
    country: s(r.country),
    receivesReminders: Boolean(r.receives_reminders),
  };
}

export async function createCustomer(q: Queryable, orgId: string, c: CustomerInput): Promise<Customer & { contacts: Contact[] }> {
  validateCustomer(c);
  validateCreditPolicy({
    creditLimitMinor: c.creditLimitMinor ?? null,
    paymentTermsDays: c.paymentTermsDays ?? 30,
    depositBp: c.depositBp ?? null,
    earlyDiscount: c.earlyDiscount ?? null,
    riskClass: c.riskClass ?? null,
  });
  const [row] = await q.query<Row>(
    `INSERT INTO customers (organisation_id, external_id, legal_name, kind, siren, siret, vat_number, country, language,
       payment_terms_days, tags, segment, credit_limit_minor, notes, deposit_bp, early_discount_bp, early_discount_days, risk_class)
     VALUES ($1,$2,$3,coalesce($4,'business'),$5,$6,$7,coalesce($8,'FR'),coalesce($9,'fr'),coalesce($10,30),
       coalesce($11::text[], '{}'),$12,$13,$14,$15,$16,$17,$18)
     RETURNING *`,
    [
      orgId, c.externalId ?? null, c.legalName.trim(), c.kind ?? null, c.siren?.replace(/\s/g, '') ?? null,
      c.siret?.replace(/\s/g, '') ?? null, c.vatNumber ?? null, c.country ?? null, c.language ?? null, c.paymentTermsDays ?? null,
      c.tags ?? null, c.segment ?? null, c.creditLimitMinor ?? null, c.notes ?? null,
      c.depositBp ?? null, c.earlyDiscount?.bp ?? null, c.earlyDiscount?.withinDays ?? null, c.riskClass ?? null,
    ],
  );
  const customer = toCustomer(row!);
  const contacts: Contact[] = [];
  for (const ct of c.contacts ?? []) contacts.push(await addContact(q, orgId, customer.id, ct));
  return { ...customer, contacts };
}

/** What a customer update may change: a field left undefined stays as it is, null clears it. */
export type CustomerPatch = Partial<Omit<CustomerInput, 'contacts' | 'externalId'>>;

/** Changes a customer; the whole result is checked as one (terms and discount together). */
export async function updateCustomer(q: Queryable, orgId: string, id: bigint, patch: CustomerPatch): Promise<Customer & { contacts: Contact[] }> {
  const [current] = await q.query<Row>('SELECT * FROM customers WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, id]);
  if (!current) throw notFound('customer', String(id));
  const was = toCustomer(current);
  const pick = <K extends keyof CustomerPatch>(k: K, old: CustomerPatch[K]): CustomerPatch[K] => (patch[k] === undefined ? old : patch[k]);
  const next: CustomerInput = {
    legalName: pick('legalName', was.legalName)!,
    kind: pick('kind', was.kind),
    siren: pick('siren', was.siren),
    siret: pick('siret', was.siret),
    vatNumber: pick('vatNumber', was.vatNumber),
    country: pick('country', was.country),
    language: pick('language', was.language),
    paymentTermsDays: pick('paymentTermsDays', was.paymentTermsDays),
    tags: pick('tags', was.tags),
    segment: pick('segment', was.segment),
    creditLimitMinor: pick('creditLimitMinor', was.creditLimitMinor),
    notes: pick('notes', was.notes),
    depositBp: pick('depositBp', was.depositBp),
    earlyDiscount: pick('earlyDiscount', was.earlyDiscount),
    riskClass: pick('riskClass', was.riskClass),
  };
  validateCustomer(next);
  validateCreditPolicy({
    creditLimitMinor: next.creditLimitMinor ?? null,
    paymentTermsDays: next.paymentTermsDays ?? 30,
    depositBp: next.depositBp ?? null,
    earlyDiscount: next.earlyDiscount ?? null,
    riskClass: next.riskClass ?? null,
  });
  await q.query(
    `UPDATE customers SET legal_name = $3, kind = $4, siren = $5, siret = $6, vat_number = $7, country = $8, language = $9,
            payment_terms_days = $10, tags = coalesce($11::text[], '{}'), segment = $12, credit_limit_minor = $13, notes = $14,
            deposit_bp = $15, early_discount_bp = $16, early_discount_days = $17, risk_class = $18, updated_at = now()
      WHERE organisation_id = $1 AND id = $2`,
    [
      orgId, id, next.legalName.trim(), next.kind, next.siren?.replace(/\s/g, '') || null, next.siret?.replace(/\s/g, '') || null, next.vatNumber ?? null,
      next.country, next.language, next.paymentTermsDays, next.tags ?? null, next.segment ?? null, next.creditLimitMinor ?? null, next.notes ?? null,
      next.depositBp ?? null, next.earlyDiscount?.bp ?? null, next.earlyDiscount?.withinDays ?? null, next.riskClass ?? null,
    ],
  );
  return getCustomer(q, orgId, id);
}

export async function addContact(q: Queryable, orgId: string, customerId: bigint, ct: NonNullable<CustomerInput['contacts']>[number]): Promise<Contact> {
  validateContact(ct);
  const [row] = await q.query<Row>(
    `INSERT INTO contacts (organisation_id, customer_id, name, role, email, phone, address_line1, address_line2, postal_code, city, country, receives_reminders)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,coalesce($12,false)) RETURNING *`,
    [
      orgId, customerId, ct.name, ct.role ?? null, ct.email ?? null, ct.phone ?? null, ct.addressLine1 ?? null, ct.addressLine2 ?? null,
      ct.postalCode ?? null, ct.city ?? null, ct.country ?? null, ct.receivesReminders ?? null,
    ],
  );
  return toContact(row!);
}

const blankToNull = (v: string | null | undefined) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** Changes a contact of the customer (every field as given: a blank one is cleared). */
export async function updateContact(q: Queryable, orgId: string, customerId: bigint, contactId: bigint, ct: NonNullable<CustomerInput['contacts']>[number]): Promise<Contact> {
  validateContact(ct);
  const [row] = await q.query<Row>(
    `UPDATE contacts SET name = $4, role = $5, email = $6, phone = $7, address_line1 = $8, address_line2 = $9, postal_code = $10, city = $11, country = $12,
            receives_reminders = coalesce($13, receives_reminders)
      WHERE organisation_id = $1 AND customer_id = $2 AND id = $3 RETURNING *`,
    [
      orgId, customerId, contactId, ct.name.trim(), blankToNull(ct.role), blankToNull(ct.email), blankToNull(ct.phone), blankToNull(ct.addressLine1), blankToNull(ct.addressLine2),
      blankToNull(ct.postalCode), blankToNull(ct.city), blankToNull(ct.country), ct.receivesReminders ?? null,
    ],
  );
  if (!row) throw notFound('contact', String(contactId));
  return toContact(row);
}

/** Removes a contact of the customer (its addresses' statuses go with it). */
export async function removeContact(q: Queryable, orgId: string, customerId: bigint, contactId: bigint): Promise<void> {
  const rows = await q.query('DELETE FROM contacts WHERE organisation_id = $1 AND customer_id = $2 AND id = $3 RETURNING id', [orgId, customerId, contactId]);
  if (rows.length === 0) throw notFound('contact', String(contactId));
}

export async function getCustomer(q: Queryable, orgId: string, id: bigint): Promise<Customer & { contacts: Contact[] }> {
  const [row] = await q.query<Row>('SELECT * FROM customers WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!row) throw notFound('customer', String(id));
  const contacts = (await q.query<Row>('SELECT * FROM contacts WHERE organisation_id = $1 AND customer_id = $2 ORDER BY id', [orgId, id])).map(toContact);
  return { ...toCustomer(row), contacts };
}

export async function listCustomers(q: Queryable, orgId: string, opts: { search?: string; limit?: number; afterId?: bigint } = {}): Promise<Customer[]> {
  const rows = await q.query<Row>(
    `SELECT * FROM customers WHERE organisation_id = $1
       AND ($2::text IS NULL OR lower(legal_name) LIKE '%' || lower($5) || '%' OR external_id = $2 OR siren = $2)
       AND ($3::bigint IS NULL OR id > $3)
     ORDER BY id LIMIT $4`,
    [orgId, opts.search ?? null, opts.afterId ?? null, opts.limit ?? 100, escapeLike(opts.search ?? '')],
  );
  return rows.map(toCustomer);
}

// ------------------------------------------------------------------ invoices

export interface Invoice {
  id: bigint;
  customerId: bigint;
  number: string;
  externalId: string | null;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountExclTaxMinor: Minor;
  amountInclTaxMinor: Minor;
  allocatedMinor: Minor;
  writtenOffMinor: Minor;
  openMinor: Minor;
  status: InvoiceStatus;
  pdfDocumentId: bigint | null;
}

function toInvoice(r: Row): Invoice {
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    number: String(r.number),
    externalId: s(r.external_id),
    issueDate: r.issue_date as CalendarDate,
    dueDate: r.due_date as CalendarDate,
    currency: String(r.currency),
    amountExclTaxMinor: r.amount_excl_tax_minor as bigint,
    amountInclTaxMinor: r.amount_incl_tax_minor as bigint,
    allocatedMinor: r.allocated_minor as bigint,
    writtenOffMinor: r.written_off_minor as bigint,
    openMinor: r.open_minor as bigint,
    status: r.status as InvoiceStatus,
    pdfDocumentId: (r.pdf_document_id as bigint | null) ?? null,
  };
}

export async function createInvoice(q: Queryable, orgId: string, i: InvoiceInput): Promise<Invoice> {
  const { issueDate, dueDate } = validateInvoice(i);
  await getCustomerRow(q, orgId, i.customerId);
  const { firstId } = await insertInvoices(q, orgId, [
    { customerId: i.customerId, number: i.number.trim(), externalId: i.externalId ?? null, issueDate, dueDate, currency: i.currency, amountExclTaxMinor: i.amountExclTaxMinor, amountInclTaxMinor: i.amountInclTaxMinor },
  ]);
  return getInvoice(q, orgId, firstId!);
}

async function getCustomerRow(q: Queryable, orgId: string, id: bigint) {
  const [row] = await q.query<Row>('SELECT id FROM customers WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!row) throw notFound('customer', String(id));
}

export async function getInvoice(q: Queryable, orgId: string, id: bigint): Promise<Invoice> {
  const [row] = await q.query<Row>('SELECT * FROM invoice_balances WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!row) throw notFound('invoice', String(id));
  return toInvoice(row);
}

export async function getInvoiceByNumber(q: Queryable, orgId: string, number: string): Promise<Invoice> {
  const [row] = await q.query<Row>('SELECT * FROM invoice_balances WHERE organisation_id = $1 AND number = $2', [orgId, number]);
  if (!row) throw notFound('invoice', number);
  return toInvoice(row);
}

export async function listInvoices(
  q: Queryable,
  orgId: string,
  opts: { customerId?: bigint; openOnly?: boolean; limit?: number; afterId?: bigint } = {},
): Promise<Invoice[]> {
  const rows = await q.query<Row>(
    `SELECT * FROM invoice_balances WHERE organisation_id = $1
       AND ($2::bigint IS NULL OR customer_id = $2)
       AND (NOT $3::boolean OR allocated_minor + written_off_minor < amount_incl_tax_minor)
       AND ($4::bigint IS NULL OR id > $4)
     ORDER BY id LIMIT $5`,
    [orgId, opts.customerId ?? null, opts.openOnly ?? false, opts.afterId ?? null, opts.limit ?? 1000],
  );
  return rows.map(toInvoice);
}

// ------------------------------------------------------------------ payments, credit notes, allocations

export interface Payment {
  id: bigint;
  customerId: bigint | null;
  externalId: string | null;
  paymentDate: CalendarDate;
  currency: string;
  amountMinor: Minor;
  allocatedMinor: Minor;
  method: string;
  reference: string | null;
  payerName: string | null;
  payerIban: string | null;
}

function toPayment(r: Row): Payment {
  return {
    id: r.id as bigint,
    customerId: (r.customer_id as bigint | null) ?? null,
    externalId: s(r.external_id),
    paymentDate: r.payment_date as CalendarDate,
    currency: String(r.currency),
    amountMinor: r.amount_minor as bigint,
    allocatedMinor: r.allocated_minor as bigint,
    method: String(r.method),
    reference: s(r.reference),
    payerName: s(r.payer_name),
    payerIban: s(r.payer_iban),
  };
}

export async function recordPayment(q: Queryable, orgId: string, p: PaymentInput): Promise<Payment> {
  const date = validatePayment(p);
  if (p.customerId != null) await getCustomerRow(q, orgId, p.customerId);
  const [row] = await q.query<Row>(
    `INSERT INTO payments (organisation_id, customer_id, external_id, payment_date, currency, amount_minor, method, reference, payer_name, payer_iban)
     VALUES ($1,$2,$3,$4,$5,$6,coalesce($7,'transfer'),$8,$9,$10) RETURNING *`,
    [
      orgId, p.customerId ?? null, p.externalId ?? null, date, p.currency, p.amountMinor, p.method ?? null, p.reference ?? null,
      p.payerName ?? null, p.payerIban ? normaliseIban(p.payerIban) : null,
    ],
  );
  return toPayment(row!);
}

export async function getPayment(q: Queryable, orgId: string, id: bigint): Promise<Payment> {
  const [row] = await q.query<Row>('SELECT * FROM payments WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!row) throw notFound('payment', String(id));
  return toPayment(row);
}

export interface CreditNoteInput {
  customerId: bigint;
  number: string;
  externalId?: string | null;
  issueDate: string;
  currency: string;
  amountMinor: Minor;
  reason?: string | null;
}

export interface CreditNote {
  id: bigint;
  customerId: bigint;
  number: string;
  issueDate: CalendarDate;
  currency: string;
  amountMinor: Minor;
  allocatedMinor: Minor;
  reason: string | null;
}

export async function createCreditNote(q: Queryable, orgId: string, c: CreditNoteInput): Promise<CreditNote> {
  const date = validatePayment({ paymentDate: c.issueDate, currency: c.currency, amountMinor: c.amountMinor });
  if (!c.number?.trim()) throw validation(E('credit_note_number'), { field: 'number' });
  await getCustomerRow(q, orgId, c.customerId);
  const [row] = await q.query<Row>(
    `INSERT INTO credit_notes (organisation_id, customer_id, number, external_id, issue_date, currency, amount_minor, reason)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *`,
    [orgId, c.customerId, c.number.trim(), c.externalId ?? null, date, c.currency, c.amountMinor, c.reason ?? null],
  );
  return toCreditNote(row!);
}

function toCreditNote(r: Row): CreditNote {
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    number: String(r.number),
    issueDate: r.issue_date as CalendarDate,
    currency: String(r.currency),
    amountMinor: r.amount_minor as bigint,
    allocatedMinor: r.allocated_minor as bigint,
    reason: s(r.reason),
  };
}

export interface AllocationInput {
  invoiceId: bigint;
  paymentId?: bigint;
  creditNoteId?: bigint;
  amountMinor: Minor;
  allocatedOn: CalendarDate;
}

export interface Allocation {
  id: bigint;
  invoiceId: bigint;
  paymentId: bigint | null;
  creditNoteId: bigint | null;
  currency: string;
  amountMinor: Minor;
  allocatedOn: CalendarDate;
}

/**
 * Applies part of a payment or credit note to an invoice. The rows are locked first so the
 * domain check sees what concurrent writers committed; the database's CHECK constraints are the
 * last word if anything slips past.
 */
export async function allocate(q: Queryable, orgId: string, a: AllocationInput): Promise<Allocation> {
  if ((a.paymentId == null) === (a.creditNoteId == null)) {
    throw validation(E('one_source'), { field: 'paymentId' });
  }
  const [inv] = await q.query<Row>('SELECT * FROM invoice_balances WHERE organisation_id = $1 AND id = $2', [orgId, a.invoiceId]);
  if (!inv) throw notFound('invoice', String(a.invoiceId));
  await q.query('SELECT 1 FROM invoices WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, a.invoiceId]);
  const invoice = toInvoice((await q.query<Row>('SELECT * FROM invoice_balances WHERE organisation_id = $1 AND id = $2', [orgId, a.invoiceId]))[0]!);
  let source: { currency: string; amountMinor: Minor; allocatedMinor: Minor; label: Text };
  if (a.paymentId != null) {
    const [p] = await q.query<Row>('SELECT * FROM payments WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, a.paymentId]);
    if (!p) throw notFound('payment', String(a.paymentId));
    const pay = toPayment(p);
    source = { ...pay, label: E('payment_label', { id: String(pay.id) }) };
  } else {
    const [c] = await q.query<Row>('SELECT * FROM credit_notes WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, a.creditNoteId]);
    if (!c) throw notFound('credit note', String(a.creditNoteId));
    const cn = toCreditNote(c);
    source = { ...cn, label: E('credit_note_label', { number: cn.number }) };
  }
  checkAllocation(invoice, source, a.amountMinor);
  const [row] = await q.query<Row>(
    `INSERT INTO allocations (organisation_id, invoice_id, payment_id, credit_note_id, currency, amount_minor, allocated_on)
     VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING *`,
    [orgId, a.invoiceId, a.paymentId ?? null, a.creditNoteId ?? null, invoice.currency, a.amountMinor, a.allocatedOn],
  );
  return toAllocation(row!);
}

function toAllocation(r: Row): Allocation {
  return {
    id: r.id as bigint,
    invoiceId: r.invoice_id as bigint,
    paymentId: (r.payment_id as bigint | null) ?? null,
    creditNoteId: (r.credit_note_id as bigint | null) ?? null,
    currency: String(r.currency),
    amountMinor: r.amount_minor as bigint,
    allocatedOn: r.allocated_on as CalendarDate,
  };
}

/** Undo an allocation (a bank reversal, a wrong match): the invoice reopens by that amount. */
export async function reverseAllocation(q: Queryable, orgId: string, allocationId: bigint): Promise<void> {
  const rows = await q.query('DELETE FROM allocations WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, allocationId]);
  if (rows.length === 0) throw notFound('allocation', String(allocationId));
}

export async function writeOff(
  q: Queryable,
  orgId: string,
  w: { invoiceId: bigint; amountMinor: Minor; writtenOffOn: CalendarDate; reason?: string; requestId?: bigint | null },
): Promise<void> {
  const invoice = await getInvoice(q, orgId, w.invoiceId);
  await q.query('SELECT 1 FROM invoices WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, w.invoiceId]);
  if (w.amountMinor <= 0n) throw validation(E('write_off_positive'), { field: 'amount' });
  const fresh = await getInvoice(q, orgId, w.invoiceId);
  if (w.amountMinor > fresh.openMinor) {
    throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('write_off_over', { amount: w.amountMinor, open: fresh.openMinor, invoice: invoice.number }), {
      where: { field: 'amount' },
    });
  }
  await q.query(
    'INSERT INTO write_offs (organisation_id, invoice_id, currency, amount_minor, written_off_on, reason, request_id) VALUES ($1,$2,$3,$4,$5,$6,$7)',
    [orgId, w.invoiceId, invoice.currency, w.amountMinor, w.writtenOffOn, w.reason ?? null, w.requestId ?? null],
  );
}

// ------------------------------------------------------------------ balances

export interface OpenItem {
  invoiceId: bigint;
  number: string;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountInclTaxMinor: Minor;
  openMinor: Minor;
  daysPastDue: number;
}

export interface CustomerLedger {
  customerId: bigint;
  at: CalendarDate;
  openItems: OpenItem[];
  balances: CustomerBalance[];
}

/**
 * A customer's open items and balance at a date, in two indexed queries (the open-items partial
 * index and the customer indexes on payments and credit notes).
 */
export async function customerLedger(q: Queryable | Db, orgId: string, customerId: bigint, at: CalendarDate): Promise<CustomerLedger> {
  // One round trip: open items, then one row per currency of unallocated credit (kind 'c').
  const rows = await q.query<Row>(
    `SELECT 'i' AS kind, id, number, issue_date, due_date, currency, amount_incl_tax_minor,
            amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor,
            greatest(0, $3::date - due_date) AS days_past_due
       FROM invoices
      WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor
     UNION ALL
     SELECT 'c', NULL, NULL, NULL, NULL, currency, NULL, sum(amount_minor - allocated_minor), NULL FROM (
        SELECT currency, amount_minor, allocated_minor FROM payments WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor < amount_minor
        UNION ALL
        SELECT currency, amount_minor, allocated_minor FROM credit_notes WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor < amount_minor
     ) c GROUP BY currency
     ORDER BY kind DESC, due_date, id`,
    [orgId, customerId, at],
  );
  const items = rows.filter((r) => r.kind === 'i');
  const credits = rows.filter((r) => r.kind === 'c').map((r) => ({ currency: r.currency, unallocated: r.open_minor }));
  const openItems: OpenItem[] = items.map((r) => ({
    invoiceId: r.id as bigint,
    number: String(r.number),
    issueDate: r.issue_date as CalendarDate,
    dueDate: r.due_date as CalendarDate,
    currency: String(r.currency),
    amountInclTaxMinor: r.amount_incl_tax_minor as bigint,
    openMinor: r.open_minor as bigint,
    daysPastDue: Number(r.days_past_due),
  }));
  const balances = customerBalances(
    openItems,
    credits.map((c) => ({ currency: String(c.currency), unallocatedMinor: c.unallocated as bigint })),
    at,
  );
  return { customerId, at, openItems, balances };
}
