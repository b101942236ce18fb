/**
 * E-invoices read into one model, whatever the syntax: UN/CEFACT CII (Factur-X, ZUGFeRD 2,
 * XRechnung CII; also embedded in a PDF/A-3) and OASIS UBL 2.1 (Invoice and CreditNote). Only what
 * dunning needs: parties, number, dates, due date, totals, payment reference and account.
 * Business terms (BT-n) are those of EN 16931.
 */
import { XMLParser } from 'fast-xml-parser';
import { type CalendarDate, calendarDate } from '../../domain/dates.ts';
import { isValidIban, normaliseDigits, normaliseIban } from '../../domain/identifiers.ts';
import { assertCurrency, type Minor, parseAmount } from '../../domain/money.ts';
import { ERROR_CODES, RelanceError, validation } from '../../errors.ts';
import { invoiceXmlFromPdf } from './pdf.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('einvoice', {
  not_einvoice: { fr: "ce n’est pas une facture électronique : un PDF Factur-X/ZUGFeRD, un XML CII ou un XML UBL est attendu", en: "not an e-invoice: expected a Factur-X/ZUGFeRD PDF, a CII XML or a UBL XML" },
  embedded_pdf: { fr: "le fichier joint est un PDF, pas du XML", en: "the embedded file is a PDF, not XML" },
  xml: { fr: "le XML est illisible : {reason}", en: "the XML cannot be read: {reason}" },
  missing: { fr: "la facture électronique n’a pas de {path}", en: "the e-invoice has no {path}" },
  date: { fr: "« {value} » n’est pas une date (le format 102 est AAAAMMJJ)", en: "\"{value}\" is not a date (format 102 is YYYYMMDD)" },
  no_cii: { fr: "pas d’élément racine CrossIndustryInvoice", en: "no CrossIndustryInvoice root element" },
  no_ubl: { fr: "pas d’élément racine Invoice ou CreditNote UBL", en: "no UBL Invoice or CreditNote root element" },
});

export interface EInvoiceParty {
  name: string;
  /** BT-30/BT-47 legal registration when its scheme is 0002 (SIREN), else from a SIRET (0009). */
  siren: string | null;
  siret: string | null;
  vatNumber: string | null;
  email: string | null;
  contactName: string | null;
  phone: string | null;
  addressLine1: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
}

export interface EInvoice {
  syntax: 'CII' | 'UBL';
  /** BT-24 specification identifier (Factur-X profile, EN 16931...). */
  profile: string | null;
  kind: 'invoice' | 'credit_note';
  typeCode: string | null;
  number: string;
  issueDate: CalendarDate;
  dueDate: CalendarDate | null;
  currency: string;
  seller: EInvoiceParty;
  buyer: EInvoiceParty;
  exclTaxMinor: Minor;
  inclTaxMinor: Minor;
  prepaidMinor: Minor;
  /** BT-115 amount due for payment. */
  dueMinor: Minor;
  paymentReference: string | null;
  /** BT-84, kept only when it is a valid IBAN (the warning says otherwise). */
  payeeIban: string | null;
  payeeBic: string | null;
  paymentTerms: string | null;
  warnings: string[];
}

export type EInvoiceSource = { kind: 'pdf'; embeddedName: string } | { kind: 'xml' };

type X = Record<string, unknown>;
const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  processEntities: true,
});

const arr = (v: unknown): X[] => (v === undefined || v === null ? [] : Array.isArray(v) ? (v as X[]) : [v as X]);
const one = (v: unknown): X | undefined => arr(v)[0];
function text(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined || x === null) return null;
  if (typeof x === 'string') return x.trim() || null;
  if (typeof x === 'object' && '#text' in (x as X)) return String((x as X)['#text']).trim() || null;
  return null;
}
const attr = (v: unknown, a: string): string | null => {
  const x = Array.isArray(v) ? v[0] : v;
  return x && typeof x === 'object' && `@${a}` in (x as X) ? String((x as X)[`@${a}`]) : null;
};
/** Follows a path of element names; undefined when any step is missing. */
function at(root: unknown, ...path: string[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    const o = one(cur);
    if (!o) return undefined;
    cur = o[p];
  }
  return cur;
}

export function detectEInvoice(bytes: Buffer): 'pdf' | 'cii' | 'ubl' {
  if (bytes.toString('latin1', 0, 5) === '%PDF-') return 'pdf';
  const head = bytes.toString('utf8', 0, 4096);
  if (/<(\w+:)?CrossIndustryInvoice\b/.test(head)) return 'cii';
  if (/<(\w+:)?(Invoice|CreditNote)\b[^>]*urn:oasis:names:specification:ubl/.test(head)) return 'ubl';
  throw new RelanceError(ERROR_CODES.PARSE, E('not_einvoice'), { where: { line: 1 } });
}

/** Reads a PDF (the XML embedded in it), CII or UBL file. */
export function parseEInvoice(bytes: Buffer, file?: string): { invoice: EInvoice; source: EInvoiceSource; xml: Buffer } {
  const kind = detectEInvoice(bytes);
  if (kind === 'pdf') {
    const { name, xml } = invoiceXmlFromPdf(bytes);
    const inner = detectEInvoice(xml);
    if (inner === 'pdf') throw new RelanceError(ERROR_CODES.PARSE, E('embedded_pdf'), { where: { file } });
    return { invoice: parseXml(xml, inner, file), source: { kind: 'pdf', embeddedName: name }, xml };
  }
  return { invoice: parseXml(bytes, kind, file), source: { kind: 'xml' }, xml: bytes };
}

function parseXml(xml: Buffer, kind: 'cii' | 'ubl', file?: string): EInvoice {
  let doc: X;
  try {
    let s = xml.toString('utf8');
    if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    doc = parser.parse(s) as X;
  } catch (e) {
    throw new RelanceError(ERROR_CODES.PARSE, E('xml', { reason: (e as Error).message }), { where: { file }, cause: e });
  }
  return kind === 'cii' ? readCii(doc, file) : readUbl(doc, file);
}

function need<T>(v: T | null | undefined, path: string, file?: string): T {
  if (v === null || v === undefined || v === '') throw validation(E('missing', { path }), { file, path });
  return v;
}

function ciiDate(v: unknown, path: string, file?: string): CalendarDate | null {
  const s = text(at(v, 'DateTimeString'));
  if (!s) return null;
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s) ?? /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (!m) throw validation(E('date', { value: s }), { file, path });
  return calendarDate(`${m[1]}-${m[2]}-${m[3]}`, { file, path });
}

function amount(v: unknown, currency: string, path: string, file?: string): Minor | null {
  const s = text(v);
  return s === null ? null : parseAmount(s, currency, { file, path });
}

function identifiers(ids: { value: string | null; scheme: string | null }[]): { siren: string | null; siret: string | null } {
  let siren: string | null = null;
  let siret: string | null = null;
  for (const { value, scheme } of ids) {
    if (!value) continue;
    const digits = normaliseDigits(value);
    if ((scheme === '0002' || (!scheme && /^\d{9}$/.test(digits))) && /^\d{9}$/.test(digits)) siren ??= digits;
    if ((scheme === '0009' || (!scheme && /^\d{14}$/.test(digits))) && /^\d{14}$/.test(digits)) siret ??= digits;
  }
  if (!siren && siret) siren = siret.slice(0, 9);
  return { siren, siret };
}

const vat = (s: string | null) => (s ? s.replace(/[\s.-]/g, '').toUpperCase() : null);

function ciiParty(p: unknown): EInvoiceParty {
  const legal = at(p, 'SpecifiedLegalOrganization', 'ID');
  const ids = [{ value: text(legal), scheme: attr(legal, 'schemeID') }, ...arr(at(p, 'GlobalID')).map((g) => ({ value: text(g), scheme: attr(g, 'schemeID') }))];
  const taxRegs = arr(at(p, 'SpecifiedTaxRegistration')).map((t) => t.ID);
  const vatReg = taxRegs.find((id) => attr(id, 'schemeID') === 'VA');
  const addr = at(p, 'PostalTradeAddress');
  const contact = at(p, 'DefinedTradeContact');
  return {
    name: text(at(p, 'Name')) ?? '',
    ...identifiers(ids),
    vatNumber: vat(text(vatReg)),
    email: text(at(p, 'URIUniversalCommunication', 'URIID')) ?? text(at(contact, 'EmailURIUniversalCommunication', 'URIID')),
    contactName: text(at(contact, 'PersonName')),
    phone: text(at(contact, 'TelephoneUniversalCommunication', 'CompleteNumber')),
    addressLine1: text(at(addr, 'LineOne')),
    postalCode: text(at(addr, 'PostcodeCode')),
    city: text(at(addr, 'CityName')),
    country: text(at(addr, 'CountryID')),
  };
}

function payee(ibanText: string | null, warnings: string[]): string | null {
  if (!ibanText) return null;
  const iban = normaliseIban(ibanText);
  if (isValidIban(iban)) return iban;
  warnings.push(`the payee account "${ibanText}" is not a valid IBAN: not kept`);
  return null;
}

function readCii(doc: X, file?: string): EInvoice {
  const root = doc.CrossIndustryInvoice;
  if (!root) throw new RelanceError(ERROR_CODES.PARSE, E('no_cii'), { where: { file } });
  const warnings: string[] = [];
  const ed = at(root, 'ExchangedDocument');
  const trx = at(root, 'SupplyChainTradeTransaction');
  const agreement = at(trx, 'ApplicableHeaderTradeAgreement');
  const settlement = at(trx, 'ApplicableHeaderTradeSettlement');
  const currency = assertCurrency(need(text(at(settlement, 'InvoiceCurrencyCode')), 'InvoiceCurrencyCode (BT-5)', file), { file, path: 'InvoiceCurrencyCode' });
  const sum = at(settlement, 'SpecifiedTradeSettlementHeaderMonetarySummation');
  const P = 'SpecifiedTradeSettlementHeaderMonetarySummation/';
  const grand = need(amount(at(sum, 'GrandTotalAmount'), currency, `${P}GrandTotalAmount`, file), 'GrandTotalAmount (BT-112)', file);
  const basis = amount(at(sum, 'TaxBasisTotalAmount'), currency, `${P}TaxBasisTotalAmount`, file) ?? grand;
  const prepaid = amount(at(sum, 'TotalPrepaidAmount'), currency, `${P}TotalPrepaidAmount`, file) ?? 0n;
  const due = amount(at(sum, 'DuePayableAmount'), currency, `${P}DuePayableAmount`, file) ?? grand - prepaid;
  const terms = arr(at(settlement, 'SpecifiedTradePaymentTerms'));
  const dueDate = terms.map((t) => ciiDate(t.DueDateDateTime, 'SpecifiedTradePaymentTerms/DueDateDateTime', file)).find((d) => d) ?? null;
  const means = arr(at(settlement, 'SpecifiedTradeSettlementPaymentMeans'));
  const ibanText = means.map((m) => text(at(m, 'PayeePartyCreditorFinancialAccount', 'IBANID')) ?? text(at(m, 'PayeePartyCreditorFinancialAccount', 'ProprietaryID'))).find((x) => x) ?? null;
  const typeCode = text(at(ed, 'TypeCode'));
  return {
    syntax: 'CII',
    profile: text(at(root, 'ExchangedDocumentContext', 'GuidelineSpecifiedDocumentContextParameter', 'ID')),
    kind: typeCode === '381' || typeCode === '261' ? 'credit_note' : 'invoice',
    typeCode,
    number: need(text(at(ed, 'ID')), 'ExchangedDocument/ID (BT-1)', file),
    issueDate: need(ciiDate(at(ed, 'IssueDateTime'), 'ExchangedDocument/IssueDateTime', file), 'IssueDateTime (BT-2)', file),
    dueDate,
    currency,
    seller: ciiParty(at(agreement, 'SellerTradeParty')),
    buyer: ciiParty(at(agreement, 'BuyerTradeParty')),
    exclTaxMinor: basis,
    inclTaxMinor: grand,
    prepaidMinor: prepaid,
    dueMinor: due,
    paymentReference: text(at(settlement, 'PaymentReference')),
    payeeIban: payee(ibanText, warnings),
    payeeBic: means.map((m) => text(at(m, 'PayeeSpecifiedCreditorFinancialInstitution', 'BICID'))).find((x) => x) ?? null,
    paymentTerms: terms.map((t) => text(t.Description)).find((x) => x) ?? null,
    warnings,
  };
}

function ublParty(p: unknown): EInvoiceParty {
  const party = at(p, 'Party');
  const legal = at(party, 'PartyLegalEntity');
  const ids = [
    { value: text(at(legal, 'CompanyID')), scheme: attr(at(legal, 'CompanyID'), 'schemeID') },
    ...arr(at(party, 'PartyIdentification')).map((x) => ({ value: text(x.ID), scheme: attr(x.ID, 'schemeID') })),
  ];
  const vatScheme = arr(at(party, 'PartyTaxScheme')).find((t) => text(at(t, 'TaxScheme', 'ID')) === 'VAT');
  const addr = at(party, 'PostalAddress');
  const contact = at(party, 'Contact');
  const endpoint = at(party, 'EndpointID');
  return {
    name: text(at(legal, 'RegistrationName')) ?? text(at(party, 'PartyName', 'Name')) ?? '',
    ...identifiers(ids),
    vatNumber: vat(text(at(vatScheme, 'CompanyID'))),
    email: text(at(contact, 'ElectronicMail')) ?? (attr(endpoint, 'schemeID') === 'EM' ? text(endpoint) : null),
    contactName: text(at(contact, 'Name')),
    phone: text(at(contact, 'Telephone')),
    addressLine1: text(at(addr, 'StreetName')) ?? text(at(addr, 'AddressLine', 'Line')),
    postalCode: text(at(addr, 'PostalZone')),
    city: text(at(addr, 'CityName')),
    country: text(at(addr, 'Country', 'IdentificationCode')),
  };
}

function readUbl(doc: X, file?: string): EInvoice {
  const isCredit = 'CreditNote' in doc;
  const root = doc.Invoice ?? doc.CreditNote;
  if (!root) throw new RelanceError(ERROR_CODES.PARSE, E('no_ubl'), { where: { file } });
  const warnings: string[] = [];
  const currency = assertCurrency(need(text(at(root, 'DocumentCurrencyCode')), 'DocumentCurrencyCode (BT-5)', file), { file, path: 'DocumentCurrencyCode' });
  const t = at(root, 'LegalMonetaryTotal');
  const P = 'LegalMonetaryTotal/';
  const incl = need(amount(at(t, 'TaxInclusiveAmount'), currency, `${P}TaxInclusiveAmount`, file), 'TaxInclusiveAmount (BT-112)', file);
  const excl = amount(at(t, 'TaxExclusiveAmount'), currency, `${P}TaxExclusiveAmount`, file) ?? incl;
  const prepaid = amount(at(t, 'PrepaidAmount'), currency, `${P}PrepaidAmount`, file) ?? 0n;
  const payable = amount(at(t, 'PayableAmount'), currency, `${P}PayableAmount`, file) ?? incl - prepaid;
  const means = arr(at(root, 'PaymentMeans'));
  const date = (v: unknown, path: string) => {
    const s = text(v);
    return s ? calendarDate(s.slice(0, 10), { file, path }) : null;
  };
  const dueDate = date(at(root, 'DueDate'), 'DueDate') ?? means.map((m) => date(m.PaymentDueDate, 'PaymentMeans/PaymentDueDate')).find((d) => d) ?? null;
  const typeCode = text(at(root, isCredit ? 'CreditNoteTypeCode' : 'InvoiceTypeCode'));
  return {
    syntax: 'UBL',
    profile: text(at(root, 'CustomizationID')),
    kind: isCredit || typeCode === '381' ? 'credit_note' : 'invoice',
    typeCode,
    number: need(text(at(root, 'ID')), 'ID (BT-1)', file),
    issueDate: need(date(at(root, 'IssueDate'), 'IssueDate'), 'IssueDate (BT-2)', file),
    dueDate,
    currency,
    seller: ublParty(at(root, 'AccountingSupplierParty')),
    buyer: ublParty(at(root, 'AccountingCustomerParty')),
    exclTaxMinor: excl,
    inclTaxMinor: incl,
    prepaidMinor: prepaid,
    dueMinor: payable,
    paymentReference: means.map((m) => text(m.PaymentID)).find((x) => x) ?? null,
    payeeIban: payee(means.map((m) => text(at(m, 'PayeeFinancialAccount', 'ID'))).find((x) => x) ?? null, warnings),
    payeeBic: means.map((m) => text(at(m, 'PayeeFinancialAccount', 'FinancialInstitutionBranch', 'ID'))).find((x) => x) ?? null,
    paymentTerms: text(at(root, 'PaymentTerms', 'Note')),
    warnings,
  };
}
