/**
 * Rows of a bulk ledger load (demo seeding, benches, file imports): references between rows are by
 * external id or number, so a batch can be built without knowing database ids.
 */
import type { CalendarDate } from '../domain/dates.ts';
import type { Minor } from '../domain/money.ts';


export interface GenCustomer {
  externalId: string;
  legalName: string;
  kind: 'business' | 'consumer';
  siren: string | null;
  siret: string | null;
  vatNumber: string | null;
  country: string;
  language: 'fr' | 'en';
  paymentTermsDays: number;
  tags: string[];
  segment: string;
  creditLimitMinor: Minor | null;
  iban: string;
  contacts: GenContact[];
}

export interface GenContact {
  name: string;
  role: string;
  email: string;
  phone: string;
  addressLine1: string;
  postalCode: string;
  city: string;
  country: string;
  receivesReminders: boolean;
}

export interface GenInvoice {
  customerExternalId: string;
  number: string;
  externalId: string;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountExclTaxMinor: Minor;
  amountInclTaxMinor: Minor;
}

export interface GenPayment {
  externalId: string;
  customerExternalId: string;
  paymentDate: CalendarDate;
  currency: string;
  amountMinor: Minor;
  method: 'transfer' | 'direct_debit' | 'card' | 'cheque' | 'lcr';
  reference: string;
  payerName: string;
  payerIban: string | null;
}

export interface GenAllocation {
  invoiceNumber: string;
  paymentExternalId: string;
  currency: string;
  amountMinor: Minor;
  allocatedOn: CalendarDate;
}

export interface LedgerBatch {
  customers: GenCustomer[];
  invoices: GenInvoice[];
  payments: GenPayment[];
  allocations: GenAllocation[];
}


// ------------------------------------------------------------------ upserts (file imports)
// Rows of a re-importable load: each carries the line of the file it came from, so anything the
// database refuses is reported at its line. Optional fields left null keep what is stored.

export interface UpsertCustomer {
  line: number;
  externalId: string;
  legalName: string;
  kind: 'business' | 'consumer' | null;
  siren: string | null;
  siret: string | null;
  vatNumber: string | null;
  country: string | null;
  language: 'fr' | 'en' | null;
  paymentTermsDays: number | null;
  segment: string | null;
  /** One contact, added when no contact of the customer has this email (or this name without email). */
  contact: Omit<GenContact, 'role' | 'receivesReminders' | 'email' | 'phone' | 'addressLine1' | 'postalCode' | 'city' | 'country'> & {
    email: string | null;
    phone: string | null;
    addressLine1: string | null;
    postalCode: string | null;
    city: string | null;
    country: string | null;
  } | null;
}

export interface UpsertInvoice {
  line: number;
  customerExternalId: string;
  number: string;
  externalId: string | null;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountExclTaxMinor: Minor;
  amountInclTaxMinor: Minor;
}

export interface UpsertPayment {
  line: number;
  externalId: string;
  customerExternalId: string | null;
  paymentDate: CalendarDate;
  currency: string;
  amountMinor: Minor;
  method: string;
  reference: string | null;
  payerName: string | null;
  payerIban: string | null;
}

/** The total a payment should have applied to an invoice; only the missing part is written. */
export interface UpsertAllocation {
  line: number;
  invoiceNumber: string;
  /** The source: a payment (by external id) or a credit note (by number). */
  paymentExternalId: string | null;
  creditNoteNumber?: string | null;
  currency: string;
  amountMinor: Minor;
  allocatedOn: CalendarDate;
}

export interface UpsertCreditNote {
  line: number;
  customerExternalId: string;
  number: string;
  externalId: string | null;
  issueDate: CalendarDate;
  currency: string;
  amountMinor: Minor;
  reason: string | null;
}
