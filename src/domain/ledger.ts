/**
 * The receivables ledger's rules, as pure functions: what an invoice still owes, its status, how
 * late it is, a customer's balance, and whether an allocation may be made. The database enforces
 * the same invariants (CHECK constraints and composite keys in the migrations); checking here first
 * lets the user get an error that names the field instead of a constraint name.
 */
import { ERROR_CODES, type ErrorPlace, RelanceError, validation } from '../errors.ts';
import { type CalendarDate, calendarDate } from './dates.ts';
import { amountInRange, assertCurrency, type Minor, moneyText } from './money.ts';
import { isValidIban, isValidSiren, isValidSiret } from './identifiers.ts';
import { defineErrors, type Text } from '../i18n/index.ts';
import type { EarlyDiscount, RiskClass } from './credit-policy.ts';

const E = defineErrors('ledger-rules', {
  allocation_positive: { fr: "le montant d’une affectation doit être positif", en: "an allocation amount must be positive" },
  currency_mismatch: { fr: "les devises ne correspondent pas : la facture {invoice} est en {invoiceCurrency}, {source} en {sourceCurrency}", en: "currencies do not match: invoice {invoice} is in {invoiceCurrency}, {source} in {sourceCurrency}" },
  over_invoice: { fr: "l’affectation de {amount} dépasse le reste dû {open} de la facture {invoice}", en: "allocation of {amount} exceeds the open amount {open} of invoice {invoice}" },
  over_source: { fr: "l’affectation de {amount} dépasse le reste disponible ({left}) sur {source}", en: "allocation of {amount} exceeds what is left of {source} ({left})" },
  legal_name_required: { fr: "la raison sociale est obligatoire", en: "legal name is required" },
  kind: { fr: "le type doit être business ou consumer, reçu « {kind} »", en: "kind must be business or consumer, got \"{kind}\"" },
  siren: { fr: "le SIREN « {siren} » n’est pas valide (9 chiffres, clé de Luhn)", en: "SIREN \"{siren}\" is not valid (9 digits, Luhn key)" },
  siret: { fr: "le SIRET « {siret} » n’est pas valide (14 chiffres, clé de Luhn)", en: "SIRET \"{siret}\" is not valid (14 digits, Luhn key)" },
  language: { fr: "la langue doit être fr ou en, reçu « {language} »", en: "language must be fr or en, got \"{language}\"" },
  country: { fr: "le pays doit être un code ISO 3166 alpha-2, reçu « {country} »", en: "country must be an ISO 3166 alpha-2 code, got \"{country}\"" },
  payment_terms: { fr: "le délai de paiement doit être compris entre 0 et 365 jours", en: "payment terms must be 0 to 365 days" },
  credit_limit: { fr: "l’encours autorisé ne peut pas être négatif", en: "credit limit cannot be negative" },
  contact_name: { fr: "le nom du contact est obligatoire", en: "contact name is required" },
  email: { fr: "« {email} » n’est pas une adresse e-mail", en: "\"{email}\" is not an email address" },
  invoice_number: { fr: "le numéro de facture est obligatoire", en: "invoice number is required" },
  due_before_issue: { fr: "la date d’échéance {dueDate} est antérieure à la date de facture {issueDate}", en: "due date {dueDate} is before issue date {issueDate}" },
  excl_over_incl: { fr: "le montant HT dépasse le montant TTC", en: "amount excluding tax exceeds amount including tax" },
  integer_minor: { fr: "{field} doit être un nombre entier de centimes", en: "{field} must be an integer number of minor units" },
  positive: { fr: "{field} doit être positif", en: "{field} must be positive" },
  zero_or_more: { fr: "{field} doit être positif ou nul", en: "{field} must be zero or more" },
  payment_method: { fr: "mode de paiement inconnu « {method} »", en: "unknown payment method \"{method}\"" },
  payer_iban: { fr: "l’IBAN du payeur « {iban} » n’est pas valide", en: "payer IBAN \"{iban}\" is not valid" },
  control_character: {
    fr: "{field} contient un caractère de contrôle ({code}) en position {position} : un identifiant tient sur une ligne de caractères imprimables",
    en: "{field} holds a control character ({code}) at position {position}: an identifier is one line of printable characters",
  },
  out_of_range: { fr: "{field} dépasse le plus grand montant admis", en: "{field} exceeds the largest amount accepted" },
});

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * An identifier (invoice number, customer code, external id, reference) is refused when it holds
 * a control character: a CR/LF in an invoice number breaks the letters, e-mail subjects and files
 * it is written into. Returns the value for use inline.
 */
export function assertIdentifier<T extends string | null | undefined>(value: T, field: string, where: Omit<ErrorPlace, 'field'> & { field?: string } = {}): T {
  if (typeof value !== 'string') return value;
  const m = CONTROL.exec(value);
  if (m) {
    const code = `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw validation(E('control_character', { field, code, position: m.index + 1 }), { ...where, field: where.field ?? field });
  }
  return value;
}

export type CustomerKind = 'business' | 'consumer';
export type Language = 'fr' | 'en';
/** Derived by the database's invoice_balances view from allocations and write-offs, never stored. */
export type InvoiceStatus = 'open' | 'partially_paid' | 'paid' | 'written_off';

export interface InvoiceAmounts {
  amountInclTaxMinor: Minor;
  allocatedMinor: Minor;
  writtenOffMinor: Minor;
}

export function openAmount(i: InvoiceAmounts): Minor {
  return i.amountInclTaxMinor - i.allocatedMinor - i.writtenOffMinor;
}

export interface CustomerBalance {
  currency: string;
  /** Sum of open amounts of invoices. */
  openInvoicesMinor: Minor;
  /** Payments and credit notes received but not yet allocated to an invoice. */
  unallocatedCreditMinor: Minor;
  /** What the customer owes net: open invoices minus unallocated credit. */
  balanceMinor: Minor;
  overdueMinor: Minor;
}

/** Balance per currency from a customer's open items and unallocated credits at a date. */
export function customerBalances(
  openItems: ReadonlyArray<{ currency: string; openMinor: Minor; dueDate: CalendarDate }>,
  credits: ReadonlyArray<{ currency: string; unallocatedMinor: Minor }>,
  at: CalendarDate,
): CustomerBalance[] {
  const by = new Map<string, CustomerBalance>();
  const get = (c: string) => {
    let b = by.get(c);
    if (!b) {
      b = { currency: c, openInvoicesMinor: 0n, unallocatedCreditMinor: 0n, balanceMinor: 0n, overdueMinor: 0n };
      by.set(c, b);
    }
    return b;
  };
  for (const i of openItems) {
    const b = get(i.currency);
    b.openInvoicesMinor += i.openMinor;
    if (i.openMinor > 0n && at > i.dueDate) b.overdueMinor += i.openMinor;
  }
  for (const c of credits) get(c.currency).unallocatedCreditMinor += c.unallocatedMinor;
  for (const b of by.values()) b.balanceMinor = b.openInvoicesMinor - b.unallocatedCreditMinor;
  return [...by.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

/** Whether `amount` may be allocated from a source (payment or credit note) to an invoice. */
export function checkAllocation(
  invoice: InvoiceAmounts & { currency: string; number: string },
  source: { currency: string; amountMinor: Minor; allocatedMinor: Minor; label: string | Text },
  amount: Minor,
): void {
  if (amount <= 0n) throw validation(E('allocation_positive'), { field: 'amount' });
  if (invoice.currency !== source.currency) {
    throw new RelanceError(
      ERROR_CODES.LEDGER_INVARIANT,
      E('currency_mismatch', { invoice: invoice.number, invoiceCurrency: invoice.currency, source: source.label, sourceCurrency: source.currency }),
      { where: { field: 'currency' } },
    );
  }
  const invoiceOpen = openAmount(invoice);
  if (amount > invoiceOpen) {
    throw new RelanceError(
      ERROR_CODES.LEDGER_INVARIANT,
      E('over_invoice', { amount: moneyText(amount, invoice.currency), open: moneyText(invoiceOpen, invoice.currency), invoice: invoice.number }),
      { where: { field: 'amount' } },
    );
  }
  const sourceLeft = source.amountMinor - source.allocatedMinor;
  if (amount > sourceLeft) {
    throw new RelanceError(
      ERROR_CODES.LEDGER_INVARIANT,
      E('over_source', { amount: moneyText(amount, invoice.currency), source: source.label, left: moneyText(sourceLeft, invoice.currency) }),
      { where: { field: 'amount' } },
    );
  }
}

// ------------------------------------------------------------------ input validation

export interface CustomerInput {
  externalId?: string | null;
  legalName: string;
  kind?: CustomerKind;
  siren?: string | null;
  siret?: string | null;
  vatNumber?: string | null;
  country?: string;
  language?: Language;
  paymentTermsDays?: number;
  tags?: string[];
  segment?: string | null;
  creditLimitMinor?: Minor | null;
  /** Credit policy (src/domain/credit-policy.ts checks them). */
  depositBp?: number | null;
  earlyDiscount?: EarlyDiscount | null;
  riskClass?: RiskClass | null;
  notes?: string | null;
  contacts?: ContactInput[];
}

export interface ContactInput {
  name: string;
  role?: string | null;
  email?: string | null;
  phone?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  postalCode?: string | null;
  city?: string | null;
  country?: string | null;
  receivesReminders?: boolean;
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateCustomer(c: CustomerInput): void {
  if (!c.legalName?.trim()) throw validation(E('legal_name_required'), { field: 'legalName' });
  assertIdentifier(c.externalId, 'externalId');
  if (c.kind && c.kind !== 'business' && c.kind !== 'consumer') throw validation(E('kind', { kind: c.kind }), { field: 'kind' });
  if (c.siren && !isValidSiren(c.siren)) throw validation(E('siren', { siren: c.siren }), { field: 'siren' });
  if (c.siret && !isValidSiret(c.siret)) throw validation(E('siret', { siret: c.siret }), { field: 'siret' });
  if (c.language && c.language !== 'fr' && c.language !== 'en') throw validation(E('language', { language: c.language }), { field: 'language' });
  if (c.country && !/^[A-Z]{2}$/.test(c.country)) throw validation(E('country', { country: c.country }), { field: 'country' });
  if (c.paymentTermsDays !== undefined && (!Number.isInteger(c.paymentTermsDays) || c.paymentTermsDays < 0 || c.paymentTermsDays > 365)) {
    throw validation(E('payment_terms'), { field: 'paymentTermsDays' });
  }
  if (c.creditLimitMinor != null && c.creditLimitMinor < 0n) throw validation(E('credit_limit'), { field: 'creditLimit' });
  c.contacts?.forEach((ct, i) => {
    validateContact(ct, `contacts[${i}].`);
  });
}

/** A contact needs a name; its e-mail, when there is one, must be an address. */
export function validateContact(ct: ContactInput, prefix = ''): void {
  if (!ct.name?.trim()) throw validation(E('contact_name'), { field: `${prefix}name` });
  if (ct.email && !EMAIL_RE.test(ct.email)) throw validation(E('email', { email: ct.email }), { field: `${prefix}email` });
}

export interface InvoiceInput {
  customerId: bigint;
  number: string;
  externalId?: string | null;
  issueDate: string;
  dueDate: string;
  currency: string;
  amountExclTaxMinor: Minor;
  amountInclTaxMinor: Minor;
}

export function validateInvoice(i: InvoiceInput): { issueDate: CalendarDate; dueDate: CalendarDate } {
  if (!i.number?.trim()) throw validation(E('invoice_number'), { field: 'number' });
  assertIdentifier(i.number, 'number');
  assertIdentifier(i.externalId, 'externalId');
  const issueDate = calendarDate(i.issueDate, { field: 'issueDate' });
  const dueDate = calendarDate(i.dueDate, { field: 'dueDate' });
  if (dueDate < issueDate) throw validation(E('due_before_issue', { dueDate, issueDate }), { field: 'dueDate' });
  assertCurrency(i.currency, { field: 'currency' });
  assertMinor(i.amountInclTaxMinor, 'amountInclTax', true);
  assertMinor(i.amountExclTaxMinor, 'amountExclTax', false);
  if (i.amountExclTaxMinor > i.amountInclTaxMinor) throw validation(E('excl_over_incl'), { field: 'amountExclTax' });
  return { issueDate, dueDate };
}

export function assertMinor(v: unknown, field: string, strictlyPositive: boolean): asserts v is bigint {
  if (typeof v !== 'bigint') throw validation(E('integer_minor', { field }), { field });
  if (!amountInRange(v)) throw validation(E('out_of_range', { field }), { field });
  if (strictlyPositive ? v <= 0n : v < 0n) throw validation(E(strictlyPositive ? 'positive' : 'zero_or_more', { field }), { field });
}

export const PAYMENT_METHODS = ['transfer', 'direct_debit', 'card', 'cheque', 'cash', 'lcr', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export interface PaymentInput {
  customerId?: bigint | null;
  externalId?: string | null;
  paymentDate: string;
  currency: string;
  amountMinor: Minor;
  method?: PaymentMethod;
  reference?: string | null;
  payerName?: string | null;
  payerIban?: string | null;
}

export function validatePayment(p: PaymentInput): CalendarDate {
  const d = calendarDate(p.paymentDate, { field: 'paymentDate' });
  assertIdentifier(p.externalId, 'externalId');
  assertIdentifier(p.reference, 'reference');
  assertCurrency(p.currency, { field: 'currency' });
  assertMinor(p.amountMinor, 'amount', true);
  if (p.method && !PAYMENT_METHODS.includes(p.method)) throw validation(E('payment_method', { method: p.method }), { field: 'method' });
  if (p.payerIban && !isValidIban(p.payerIban)) throw validation(E('payer_iban', { iban: p.payerIban }), { field: 'payerIban' });
  return d;
}
