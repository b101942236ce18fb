/**
 * E-invoices read into one model, whatever the syntax: UN/CEFACT CII (Factur-X, ZUGFeRD 2,
 * XRechnung CII; also embedded in a PDF/A-3), its ZUGFeRD 1.0 predecessor (CrossIndustryDocument,
 * still sent in Germany) and OASIS UBL 2.1 (Invoice and CreditNote). Only what dunning needs:
 * parties, number, dates, due date, totals, payment reference and account. Business terms (BT-n)
 * are those of EN 16931.
 *
 * A negative invoice (a corrective invoice or a French "avoir" sent as type 380 with negative
 * amounts) is read as the credit note it is: kind 'credit_note', amounts made positive.
 */
import { type CalendarDate, calendarDate } from '../../domain/dates.ts';
import { isValidIban, normaliseDigits, normaliseIban } from '../../domain/identifiers.ts';
import { assertIdentifier } from '../../domain/ledger.ts';
import { assertCurrency, type Minor, moneyText, parseAmount } from '../../domain/money.ts';
import { ERROR_CODES, isRelanceError, RelanceError, validation } from '../../errors.ts';
import { readXml, XmlSyntaxError, xmlText } from '../xml.ts';
import { invoiceXmlFromPdf } from './pdf.ts';
import { defineErrors, renderText } from '../../i18n/index.ts';

const E = defineErrors('einvoice', {
  not_einvoice: { fr: "ce n’est pas une facture électronique : un PDF Factur-X/ZUGFeRD, un XML CII ou un XML UBL est attendu", en: "not an e-invoice: expected a Factur-X/ZUGFeRD PDF, a CII XML or a UBL XML" },
  embedded_pdf: { fr: "le fichier joint est un PDF, pas du XML", en: "the embedded file is a PDF, not XML" },
  xml: { fr: "le XML est illisible : {reason}", en: "the XML cannot be read: {reason}" },
  missing: { fr: "la facture électronique n’a pas de {path}", en: "the e-invoice has no {path}" },
  date: { fr: "« {value} » n’est pas une date (le format 102 est AAAAMMJJ)", en: "\"{value}\" is not a date (format 102 is YYYYMMDD)" },
  no_cii: { fr: "pas d’élément racine CrossIndustryInvoice", en: "no CrossIndustryInvoice root element" },
  no_ubl: { fr: "pas d’élément racine Invoice ou CreditNote UBL", en: "no UBL Invoice or CreditNote root element" },
  doctype: { fr: "une déclaration DOCTYPE n’est pas acceptée dans une facture électronique", en: "a DOCTYPE declaration is not accepted in an e-invoice" },
  unterminated: { fr: "commentaire ou instruction de traitement non terminé avant l’élément racine", en: "comment or processing instruction not terminated before the root element" },
  xml_too_large: { fr: "le XML de la facture fait {size} octets, au-delà des {max} admis", en: "the invoice XML is {size} bytes, beyond the {max} accepted" },
  root: { fr: "l’élément racine est <{root}> : ce n’est pas une facture électronique (CrossIndustryInvoice, CrossIndustryDocument ZUGFeRD 1.0, Invoice ou CreditNote UBL attendu)", en: "the root element is <{root}>: not an e-invoice (expected CrossIndustryInvoice, ZUGFeRD 1.0 CrossIndustryDocument, UBL Invoice or CreditNote)" },
});

/** Warnings: what was understood differently from what the file literally says. */
const W = defineErrors('einvoice-warnings', {
  negative_total: { fr: "total négatif ({total}) : lu comme un avoir de {amount}", en: "negative total ({total}): read as a credit note of {amount}" },
  payee_iban: { fr: "le compte du bénéficiaire « {iban} » n’est pas un IBAN valide : non conservé", en: "the payee account \"{iban}\" is not a valid IBAN: not kept" },
});

/** UN/EDIFACT 1001 document types that are credit notes (EN 16931 BT-3). */
const CREDIT_NOTE_TYPES = new Set(['81', '83', '261', '262', '296', '308', '381', '396', '420', '458', '532']);

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
  /** CII-1 is the ZUGFeRD 1.0 CrossIndustryDocument. */
  syntax: 'CII' | 'CII-1' | 'UBL';
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
  /** BT-113, 0 when absent (`prepaidStated` says whether the file gives it). */
  prepaidMinor: Minor;
  prepaidStated: boolean;
  /** BT-114 rounding amount added to the total to give the amount due (0 when absent). */
  roundingMinor: Minor;
  /** BT-115 amount due for payment. */
  dueMinor: Minor;
  /** BT-25: the invoice a credit note or corrective invoice refers to. */
  precedingInvoice: string | null;
  /** The file's amounts were negative and have been turned into a credit note's. */
  negated: boolean;
  paymentReference: string | null;
  /** BT-84, kept only when it is a valid IBAN (the warning says otherwise). */
  payeeIban: string | null;
  payeeBic: string | null;
  paymentTerms: string | null;
  /** English texts (kept for the import report). */
  warnings: string[];
}

export type EInvoiceSource = { kind: 'pdf'; embeddedName: string } | { kind: 'xml' };

type X = Record<string, unknown>;

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

/**
 * The root element of an XML file: its prologue (declaration, comments, processing instructions,
 * however long — the official German samples open with a 6 KB licence comment) is skipped. A
 * DOCTYPE is refused: an invoice needs no DTD, and a DTD is how entity bombs get in.
 */
export function xmlRoot(bytes: Buffer, file?: string): { name: string; local: string; tag: string } | null {
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  let pos = start;
  const n = bytes.length;
  for (;;) {
    while (pos < n && (bytes[pos] === 0x20 || bytes[pos] === 0x09 || bytes[pos] === 0x0a || bytes[pos] === 0x0d)) pos++;
    if (pos >= n || bytes[pos] !== 0x3c) return null;
    const next = bytes[pos + 1];
    if (next === 0x3f /* ? */) {
      const end = bytes.indexOf('?>', pos + 2, 'latin1');
      if (end < 0) throw new RelanceError(ERROR_CODES.PARSE, E('unterminated'), { where: { file, line: 1 } });
      pos = end + 2;
      continue;
    }
    if (next === 0x21 /* ! */) {
      if (bytes.toString('latin1', pos, pos + 4) === '<!--') {
        const end = bytes.indexOf('-->', pos + 4, 'latin1');
        if (end < 0) throw new RelanceError(ERROR_CODES.PARSE, E('unterminated'), { where: { file, line: 1 } });
        pos = end + 3;
        continue;
      }
      throw new RelanceError(ERROR_CODES.PARSE, E('doctype'), { where: { file, line: lineAt(bytes, pos) } });
    }
    const gt = bytes.indexOf(0x3e, pos);
    const tag = bytes.toString('utf8', pos, gt < 0 ? Math.min(n, pos + 4096) : gt + 1);
    const m = /^<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)/.exec(tag);
    if (!m) return null;
    const name = m[1]!;
    return { name, local: name.slice(name.indexOf(':') + 1), tag };
  }
}

function lineAt(bytes: Buffer, pos: number): number {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < pos; i = bytes.indexOf(0x0a, i + 1)) line++;
  return line;
}

export function detectEInvoice(bytes: Buffer, file?: string): 'pdf' | 'cii' | 'cii1' | 'ubl' {
  if (bytes.toString('latin1', 0, 5) === '%PDF-') return 'pdf';
  const root = xmlRoot(bytes, file);
  if (!root) throw new RelanceError(ERROR_CODES.PARSE, E('not_einvoice'), { where: { file, line: 1 } });
  if (root.local === 'CrossIndustryInvoice') return 'cii';
  if (root.local === 'CrossIndustryDocument' && /urn:ferd:CrossIndustryDocument:invoice:1p0/.test(root.tag)) return 'cii1';
  if ((root.local === 'Invoice' || root.local === 'CreditNote') && /urn:oasis:names:specification:ubl/.test(root.tag)) return 'ubl';
  throw new RelanceError(ERROR_CODES.PARSE, E('root', { root: root.name }), { where: { file, line: 1 } });
}

/** Reads a PDF (the XML embedded in it), CII or UBL file. */
export function parseEInvoice(bytes: Buffer, file?: string): { invoice: EInvoice; source: EInvoiceSource; xml: Buffer } {
  const kind = detectEInvoice(bytes, file);
  if (kind === 'pdf') {
    const { name, xml } = invoiceXmlFromPdf(bytes);
    const inner = detectEInvoice(xml, file);
    if (inner === 'pdf') throw new RelanceError(ERROR_CODES.PARSE, E('embedded_pdf'), { where: { file } });
    return { invoice: parseXml(xml, inner, file), source: { kind: 'pdf', embeddedName: name }, xml };
  }
  return { invoice: parseXml(bytes, kind, file), source: { kind: 'xml' }, xml: bytes };
}

/** An invoice XML is a few kilobytes; attachments inside it are the bulk of the large ones. */
export const EINVOICE_XML_MAX_BYTES = 20 * 1024 * 1024;

function parseXml(xml: Buffer, kind: 'cii' | 'cii1' | 'ubl', file?: string): EInvoice {
  if (xml.length > EINVOICE_XML_MAX_BYTES) throw new RelanceError(ERROR_CODES.PARSE, E('xml_too_large', { size: xml.length, max: EINVOICE_XML_MAX_BYTES }), { where: { file } });
  let doc: X;
  try {
    // Attached documents (base64, megabytes) are not read: dropped before parsing, in one pass.
    let s = xmlText(xml, file).replace(/(<(?:[\w.-]+:)?(?:EmbeddedDocumentBinaryObject|AttachmentBinaryObject)\b[^>]*>)[^<]*/g, '$1');
    if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    doc = readXml(s) as X;
  } catch (e) {
    if (isRelanceError(e)) throw e;
    const line = e instanceof XmlSyntaxError ? e.line : undefined;
    throw new RelanceError(ERROR_CODES.PARSE, E('xml', { reason: (e as Error).message }), { where: line === undefined ? { file } : { file, line }, cause: e });
  }
  const inv = kind === 'ubl' ? readUbl(doc, file) : readCii(doc, kind === 'cii' ? CII_D16B : CII_1P0, file);
  return asCreditNoteWhenNegative(inv);
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

/** A name written over several lines ("Herrn\n   Max Mustermann") as one line. */
const oneLine = (s: string | null) => (s === null ? null : s.replace(/\s+/g, ' ').trim() || null);

const vat = (s: string | null) => (s ? s.replace(/[\s.-]/g, '').toUpperCase() : null);

function ciiParty(p: unknown): EInvoiceParty {
  const legal = at(p, 'SpecifiedLegalOrganization', 'ID');
  const ids = [{ value: text(legal), scheme: attr(legal, 'schemeID') }, ...arr(at(p, 'GlobalID')).map((g) => ({ value: text(g), scheme: attr(g, 'schemeID') }))];
  const taxRegs = arr(at(p, 'SpecifiedTaxRegistration')).map((t) => t.ID);
  const vatReg = taxRegs.find((id) => attr(id, 'schemeID') === 'VA');
  const addr = at(p, 'PostalTradeAddress');
  const contact = at(p, 'DefinedTradeContact');
  return {
    name: oneLine(text(at(p, 'Name'))) ?? '',
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
  warnings.push(renderText(W('payee_iban', { iban: ibanText }), 'en'));
  return null;
}

/** Where CII keeps things: the D16B names (Factur-X, ZUGFeRD 2, XRechnung) and ZUGFeRD 1.0's. */
interface CiiNames {
  syntax: 'CII' | 'CII-1';
  root: string;
  context: string;
  document: string;
  transaction: string;
  agreement: string;
  settlement: string;
  summation: string;
}
const CII_D16B: CiiNames = {
  syntax: 'CII',
  root: 'CrossIndustryInvoice',
  context: 'ExchangedDocumentContext',
  document: 'ExchangedDocument',
  transaction: 'SupplyChainTradeTransaction',
  agreement: 'ApplicableHeaderTradeAgreement',
  settlement: 'ApplicableHeaderTradeSettlement',
  summation: 'SpecifiedTradeSettlementHeaderMonetarySummation',
};
const CII_1P0: CiiNames = {
  syntax: 'CII-1',
  root: 'CrossIndustryDocument',
  context: 'SpecifiedExchangedDocumentContext',
  document: 'HeaderExchangedDocument',
  transaction: 'SpecifiedSupplyChainTradeTransaction',
  agreement: 'ApplicableSupplyChainTradeAgreement',
  settlement: 'ApplicableSupplyChainTradeSettlement',
  summation: 'SpecifiedTradeSettlementMonetarySummation',
};

function readCii(doc: X, N: CiiNames, file?: string): EInvoice {
  const root = doc[N.root];
  if (!root) throw new RelanceError(ERROR_CODES.PARSE, E('no_cii'), { where: { file } });
  const warnings: string[] = [];
  const ed = at(root, N.document);
  const trx = at(root, N.transaction);
  const agreement = at(trx, N.agreement);
  const settlement = at(trx, N.settlement);
  const currency = assertCurrency(need(text(at(settlement, 'InvoiceCurrencyCode')), 'InvoiceCurrencyCode (BT-5)', file), { file, path: 'InvoiceCurrencyCode' });
  const sum = at(settlement, N.summation);
  const P = `${N.summation}/`;
  const grand = need(amount(at(sum, 'GrandTotalAmount'), currency, `${P}GrandTotalAmount`, file), 'GrandTotalAmount (BT-112)', file);
  const basis = amount(at(sum, 'TaxBasisTotalAmount'), currency, `${P}TaxBasisTotalAmount`, file) ?? grand;
  const prepaidStated = amount(at(sum, 'TotalPrepaidAmount'), currency, `${P}TotalPrepaidAmount`, file);
  const prepaid = prepaidStated ?? 0n;
  const rounding = amount(at(sum, 'RoundingAmount'), currency, `${P}RoundingAmount`, file) ?? 0n;
  const due = amount(at(sum, 'DuePayableAmount'), currency, `${P}DuePayableAmount`, file) ?? grand - prepaid + rounding;
  const terms = arr(at(settlement, 'SpecifiedTradePaymentTerms'));
  const dueDate = terms.map((t) => ciiDate(t.DueDateDateTime, 'SpecifiedTradePaymentTerms/DueDateDateTime', file)).find((d) => d) ?? null;
  const means = arr(at(settlement, 'SpecifiedTradeSettlementPaymentMeans'));
  const ibanText = means.map((m) => text(at(m, 'PayeePartyCreditorFinancialAccount', 'IBANID')) ?? text(at(m, 'PayeePartyCreditorFinancialAccount', 'ProprietaryID'))).find((x) => x) ?? null;
  const typeCode = text(at(ed, 'TypeCode'));
  return {
    syntax: N.syntax,
    profile: text(at(root, N.context, 'GuidelineSpecifiedDocumentContextParameter', 'ID')),
    kind: typeCode && CREDIT_NOTE_TYPES.has(typeCode) ? 'credit_note' : 'invoice',
    typeCode,
    number: assertIdentifier(need(text(at(ed, 'ID')), `${N.document}/ID (BT-1)`, file), 'BT-1', { file, path: `${N.document}/ID` }),
    issueDate: need(ciiDate(at(ed, 'IssueDateTime'), `${N.document}/IssueDateTime`, file), 'IssueDateTime (BT-2)', file),
    dueDate,
    currency,
    seller: ciiParty(at(agreement, 'SellerTradeParty')),
    buyer: ciiParty(at(agreement, 'BuyerTradeParty')),
    exclTaxMinor: basis,
    inclTaxMinor: grand,
    prepaidMinor: prepaid,
    prepaidStated: prepaidStated !== null,
    roundingMinor: rounding,
    dueMinor: due,
    precedingInvoice: text(at(settlement, 'InvoiceReferencedDocument', 'IssuerAssignedID')),
    negated: false,
    paymentReference: text(at(settlement, 'PaymentReference')),
    payeeIban: payee(ibanText, warnings),
    payeeBic: means.map((m) => text(at(m, 'PayeeSpecifiedCreditorFinancialInstitution', 'BICID'))).find((x) => x) ?? null,
    paymentTerms: terms.map((t) => text(t.Description)).find((x) => x) ?? null,
    warnings,
  };
}

/**
 * A negative invoice total is a credit: a corrective invoice or an "avoir" sent as an invoice type.
 * It is read as a credit note with positive amounts (and a negative credit note as an invoice).
 */
function asCreditNoteWhenNegative(inv: EInvoice): EInvoice {
  if (inv.inclTaxMinor >= 0n) return inv;
  const warning = renderText(W('negative_total', { total: moneyText(inv.inclTaxMinor, inv.currency), amount: moneyText(-inv.inclTaxMinor, inv.currency) }), 'en');
  return {
    ...inv,
    kind: inv.kind === 'credit_note' ? 'invoice' : 'credit_note',
    exclTaxMinor: -inv.exclTaxMinor,
    inclTaxMinor: -inv.inclTaxMinor,
    prepaidMinor: -inv.prepaidMinor,
    roundingMinor: -inv.roundingMinor,
    dueMinor: -inv.dueMinor,
    negated: true,
    warnings: [...inv.warnings, warning],
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
    name: oneLine(text(at(legal, 'RegistrationName')) ?? text(at(party, 'PartyName', 'Name'))) ?? '',
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
  const prepaidStated = amount(at(t, 'PrepaidAmount'), currency, `${P}PrepaidAmount`, file);
  const prepaid = prepaidStated ?? 0n;
  const rounding = amount(at(t, 'PayableRoundingAmount'), currency, `${P}PayableRoundingAmount`, file) ?? 0n;
  const payable = amount(at(t, 'PayableAmount'), currency, `${P}PayableAmount`, file) ?? incl - prepaid + rounding;
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
    kind: isCredit || (typeCode !== null && CREDIT_NOTE_TYPES.has(typeCode)) ? 'credit_note' : 'invoice',
    typeCode,
    number: assertIdentifier(need(text(at(root, 'ID')), 'ID (BT-1)', file), 'BT-1', { file, path: 'ID' }),
    issueDate: need(date(at(root, 'IssueDate'), 'IssueDate'), 'IssueDate (BT-2)', file),
    dueDate,
    currency,
    seller: ublParty(at(root, 'AccountingSupplierParty')),
    buyer: ublParty(at(root, 'AccountingCustomerParty')),
    exclTaxMinor: excl,
    inclTaxMinor: incl,
    prepaidMinor: prepaid,
    prepaidStated: prepaidStated !== null,
    roundingMinor: rounding,
    dueMinor: payable,
    precedingInvoice: text(at(root, 'BillingReference', 'InvoiceDocumentReference', 'ID')),
    negated: false,
    paymentReference: means.map((m) => text(m.PaymentID)).find((x) => x) ?? null,
    payeeIban: payee(means.map((m) => text(at(m, 'PayeeFinancialAccount', 'ID'))).find((x) => x) ?? null, warnings),
    payeeBic: means.map((m) => text(at(m, 'PayeeFinancialAccount', 'FinancialInstitutionBranch', 'ID'))).find((x) => x) ?? null,
    paymentTerms: text(at(root, 'PaymentTerms', 'Note')),
    warnings,
  };
}
