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

