/**
 * CSV imports of customers, invoices and payments, as exported by invoicing tools and
 * spreadsheets. Columns are recognised by their French or English header ("N° facture",
 * "Date d'échéance", "Montant TTC", "Invoice number", "Due date"...) or named by a mapping file.
 * Rows are read, checked and written in batches inside one transaction; one bad row and nothing
 * is kept, and the report names every bad row.
 */
import { createHash } from 'node:crypto';
import { type Db, pgArray, type Queryable } from '../db/driver.ts';
import { addDays, type CalendarDate, calendarDate, parseCalendarDate } from '../domain/dates.ts';
import { isValidIban, isValidSiren, isValidSiret, normaliseDigits, normaliseIban } from '../domain/identifiers.ts';
import { type OutsideLevel, outsideLevelOf } from '../domain/engine/planner.ts';
import { assertIdentifier, PAYMENT_METHODS } from '../domain/ledger.ts';
import { assertCurrency, currencyExponent, parseAmount } from '../domain/money.ts';
import { validation } from '../errors.ts';
import { defineErrors, renderText } from '../i18n/index.ts';
import { headerKey, type Separator } from '../formats/csv-sniff.ts';
import { fastAmount, fastDate } from '../formats/values.ts';
import { upsertAllocations, upsertCustomers, upsertInvoices, upsertPayments } from '../ledger/bulk.ts';
import type { ImportSession } from '../ledger/import-session.ts';
import type { UpsertAllocation, UpsertCustomer, UpsertInvoice, UpsertPayment } from '../ledger/bulk-types.ts';
import { type ImportBody, type ImportOptions, type ImportReport, recordRefusals, runImport } from './report.ts';
import { WritePipe } from '../db/write-pipe.ts';
import { type ImportInput, inputName, inputSize, openDelimited } from './source.ts';

const E = defineErrors('imports-csv', {
  due_computed: { fr: 'date d’échéance absente sur certaines lignes : calculée d’après les conditions de paiement (30 jours par défaut)', en: 'due date missing on some rows: computed from the payment terms (default 30 days)' },
  no_rows: { fr: 'le fichier a une ligne d’en-tête mais aucune ligne de données', en: 'the file has a header but no rows' },
  twice: { fr: 'apparaît deux fois dans le fichier (la première fois ligne {first})', en: 'appears twice in the file (first at line {first})' },
  unknown_mapping_field: { fr: 'la correspondance nomme un champ inconnu « {field} » (champs connus : {known})', en: 'the mapping names an unknown field "{field}" (known: {known})' },
  mapping_missing_column: { fr: 'la correspondance place {field} dans la colonne « {ref} », que le fichier n’a pas', en: 'the mapping says {field} is column "{ref}", which the file does not have' },
  missing_columns: { fr: 'aucune colonne trouvée pour {fields} : indiquez-la dans un fichier de correspondance (--mapping) (en-tête : {header})', en: 'no column found for {fields}: name it in a mapping file (--mapping) (header: {header})' },
  field_empty: { fr: 'le champ {field} est vide', en: '{field} is empty' },
  not_a_us_date: { fr: '« {value} » n’est pas une date au format MM/JJ/AAAA', en: '"{value}" is not a date in mm/dd/yyyy' },
  not_days: { fr: '« {value} » n’est pas un nombre de jours', en: '"{value}" is not a number of days' },
  siren_invalid: { fr: 'le SIREN « {siren} » n’est pas valide (9 chiffres, clé de Luhn)', en: 'SIREN "{siren}" is not valid (9 digits, Luhn key)' },
  siret_invalid: { fr: 'le SIRET « {siret} » n’est pas valide (14 chiffres, clé de Luhn)', en: 'SIRET "{siret}" is not valid (14 digits, Luhn key)' },
  bad_language: { fr: 'la langue « {lang} » n’est ni fr ni en', en: 'language "{lang}" is not fr or en' },
  bad_country: { fr: 'le pays « {country} » n’est pas un code à deux lettres', en: 'country "{country}" is not a two-letter code' },
  terms_range: { fr: 'le délai de paiement doit être compris entre 0 et 365 jours', en: 'payment terms must be 0 to 365 days' },
  not_an_email: { fr: '« {value} » n’est pas une adresse e-mail', en: '"{value}" is not an email address' },
  no_customer: { fr: 'la ligne ne désigne aucun client', en: 'the row names no customer' },
  incl_tax_empty: { fr: 'le montant TTC est vide', en: 'amount including tax is empty' },
  amount_positive: { fr: 'le montant doit être positif (importez les avoirs à part)', en: 'the amount must be positive (import credit notes separately)' },
  excl_tax_range: { fr: 'le montant HT doit être compris entre 0 et le montant TTC', en: 'the amount excluding tax must be between 0 and the amount including tax' },
  issue_date_empty: { fr: 'la date de facture est vide', en: 'issue date is empty' },
  due_before_issue: { fr: 'l’échéance du {due} précède la date de facture du {issue}', en: 'due date {due} is before issue date {issue}' },
  open_range: { fr: 'le reste dû doit être compris entre 0 et le montant TTC', en: 'the open amount must be between 0 and the amount including tax' },
  payment_amount_empty: { fr: 'le montant est vide', en: 'amount is empty' },
  payment_amount_positive: { fr: 'le montant d’un règlement doit être positif', en: 'a payment amount must be positive' },
  payment_date_empty: { fr: 'la date de règlement est vide', en: 'payment date is empty' },
  iban_invalid: { fr: 'l’IBAN « {iban} » n’est pas valide', en: 'IBAN "{iban}" is not valid' },
  reminder_level: {
    fr: 'niveau de relance « {value} » inconnu : 1 à 4, relance, deuxième relance, dernière relance ou mise en demeure',
    en: 'unknown reminder level "{value}": 1 to 4, reminder, firm, final or formal notice',
  },
  reminder_level_date: { fr: 'un niveau de relance va avec la date de cette relance (et inversement)', en: 'a reminder level goes with the date of that reminder (and the other way round)' },
  reminder_before_issue: { fr: 'la relance du {on} précède la facture du {issue}', en: 'the reminder of {on} is before the invoice of {issue}' },
});

export type CsvKind = 'customers' | 'invoices' | 'payments';

/** A mapping file (JSON): which column holds which field, and how values are written. */
export interface ColumnMapping {
  /** field -> header text (case and accents ignored) or 1-based column number. */
  columns?: Record<string, string | number>;
  encoding?: string;
  separator?: ',' | ';' | '\t' | '|' | 'tab';
  dateFormat?: 'dd/mm/yyyy' | 'mm/dd/yyyy' | 'yyyy-mm-dd';
  /** Currency of rows without a currency column (default EUR). */
  currency?: string;
  /** Payment terms used for a due date missing from the file (default 30 days). */
  defaultPaymentTermsDays?: number;
}

const A = (...names: string[]) => names.map(headerKey);

/** Header aliases per field, French and English, compared with headerKey(). */
export const FIELDS: Record<CsvKind, Record<string, { aliases: string[]; required?: boolean }>> = {
  customers: {
    externalId: { aliases: A('Code client', 'N° client', 'Numéro client', 'Id client', 'Compte client', 'Compte', 'Customer ID', 'Customer code', 'Customer number', 'Customer no', 'Account', 'Account number', 'External ID', 'ID', 'Identifiant', 'Référence client', 'Ref client') },
    legalName: { aliases: A('Raison sociale', 'Nom', 'Client', 'Nom client', 'Société', 'Dénomination', 'Name', 'Customer', 'Customer name', 'Company', 'Company name', 'Legal name'), required: true },
    kind: { aliases: A('Type', 'Type client', 'Kind', 'Customer type') },
    siren: { aliases: A('SIREN', 'N° SIREN') },
    siret: { aliases: A('SIRET', 'N° SIRET') },
    vatNumber: { aliases: A('N° TVA', 'TVA', 'Numéro de TVA', 'TVA intracommunautaire', 'N° TVA intracommunautaire', 'VAT', 'VAT number', 'VAT no', 'VAT ID') },
    email: { aliases: A('Email', 'E-mail', 'Mail', 'Courriel', 'Adresse email', 'Email address') },
    phone: { aliases: A('Téléphone', 'Tél', 'Tel', 'Phone', 'Phone number', 'Mobile') },
    contactName: { aliases: A('Contact', 'Nom du contact', 'Contact name') },
    addressLine1: { aliases: A('Adresse', 'Adresse 1', 'Rue', 'Address', 'Address line 1', 'Street') },
    postalCode: { aliases: A('Code postal', 'CP', 'Postal code', 'Postcode', 'ZIP', 'ZIP code') },
    city: { aliases: A('Ville', 'Commune', 'City', 'Town') },
    country: { aliases: A('Pays', 'Code pays', 'Country', 'Country code') },
    language: { aliases: A('Langue', 'Language', 'Lang') },
    paymentTermsDays: { aliases: A('Délai de paiement', 'Délai paiement', 'Délai de règlement', 'Conditions de paiement', 'Payment terms', 'Terms', 'Terms days') },
    segment: { aliases: A('Segment', 'Catégorie', 'Category') },
  },
  invoices: {
    number: { aliases: A('N° facture', 'Numéro de facture', 'Numéro facture', 'Num facture', 'No facture', 'Facture', 'Pièce', 'N° pièce', 'Invoice number', 'Invoice no', 'Invoice #', 'Invoice', 'Invoice ID', 'Number', 'Numéro'), required: true },
    externalId: { aliases: A('Id externe', 'External ID', 'ID') },
    customerKey: { aliases: A('Code client', 'N° client', 'Numéro client', 'Id client', 'Compte client', 'Customer ID', 'Customer code', 'Customer number', 'Customer no', 'Account') },
    customerName: { aliases: A('Client', 'Nom client', 'Raison sociale', 'Customer', 'Customer name', 'Company', 'Company name') },
    customerSiren: { aliases: A('SIREN', 'SIREN client') },
    customerEmail: { aliases: A('Email', 'E-mail', 'Mail', 'Courriel') },
    issueDate: { aliases: A('Date', 'Date facture', 'Date de facture', "Date d'émission", 'Date émission', 'Date de facturation', 'Invoice date', 'Issue date', 'Date issued'), required: true },
    dueDate: { aliases: A("Date d'échéance", 'Échéance', 'Date échéance', 'Date limite de paiement', 'Due date', 'Due', 'Payment due date', 'Due on') },
    amountInclTax: { aliases: A('Montant TTC', 'TTC', 'Total TTC', 'Montant', 'Amount', 'Total', 'Amount incl. tax', 'Amount incl tax', 'Total incl. tax', 'Gross amount', 'Total amount', 'Amount incl. VAT'), required: true },
    amountExclTax: { aliases: A('Montant HT', 'HT', 'Total HT', 'Amount excl. tax', 'Amount excl tax', 'Net amount', 'Net', 'Subtotal', 'Amount excl. VAT') },
    openAmount: { aliases: A('Reste dû', 'Reste à payer', 'Montant restant', 'Restant dû', 'Solde', 'Open amount', 'Balance', 'Balance due', 'Amount due', 'Outstanding') },
    currency: { aliases: A('Devise', 'Monnaie', 'Currency') },
    paymentTermsDays: { aliases: A('Délai de paiement', 'Payment terms', 'Terms days') },
    // Reminders already sent before Relance (another tool, spreadsheets): the last level and its date.
    lastReminderLevel: { aliases: A('Niveau de relance', 'Niveau relance', 'Niveau dernière relance', 'Niveau de la dernière relance', 'Dernier niveau de relance', 'Last reminder level', 'Reminder level', 'Dunning level') },
    lastReminderOn: { aliases: A('Date dernière relance', 'Date de dernière relance', 'Date de la dernière relance', 'Dernière relance', 'Relancé le', 'Last reminder date', 'Last reminder on', 'Last reminder', 'Last reminded on') },
  },
  payments: {
    externalId: { aliases: A('Id paiement', 'N° règlement', 'Numéro de règlement', 'Id règlement', 'Payment ID', 'Transaction ID', 'External ID', 'ID') },
    paymentDate: { aliases: A('Date', 'Date de paiement', 'Date paiement', 'Date de règlement', 'Date règlement', 'Payment date', 'Paid on', 'Date paid'), required: true },
    amount: { aliases: A('Montant', 'Montant réglé', 'Montant payé', 'Amount', 'Amount paid', 'Paid'), required: true },
    currency: { aliases: A('Devise', 'Monnaie', 'Currency') },
    customerKey: { aliases: A('Code client', 'N° client', 'Numéro client', 'Compte client', 'Customer ID', 'Customer code', 'Customer number', 'Account') },
    customerName: { aliases: A('Client', 'Nom client', 'Customer', 'Customer name') },
    invoiceNumber: { aliases: A('N° facture', 'Numéro de facture', 'Facture', 'Invoice number', 'Invoice no', 'Invoice') },
    method: { aliases: A('Mode de paiement', 'Mode de règlement', 'Moyen de paiement', 'Mode', 'Method', 'Payment method') },
    reference: { aliases: A('Référence', 'Ref', 'Libellé', 'Communication', 'Reference', 'Label', 'Remittance') },
    payerName: { aliases: A('Payeur', 'Émetteur', "Donneur d'ordre", 'Payer', 'Payer name') },
    payerIban: { aliases: A('IBAN', 'IBAN payeur', 'Payer IBAN') },
  },
};

/**
 * Field -> column index, from the mapping when it names the field, else from the header's aliases,
 * and the required fields no column was found for ("customerKey or customerName" for invoices).
 */
export function matchColumns(kind: CsvKind, header: string[], mapping: ColumnMapping | undefined, file?: string): { columns: Record<string, number>; missing: string[] } {
  const keys = header.map(headerKey);
  const out: Record<string, number> = {};
  const taken = new Set<number>();
  for (const [field, ref] of Object.entries(mapping?.columns ?? {})) {
    if (!(field in FIELDS[kind])) throw validation(E('unknown_mapping_field', { field, known: Object.keys(FIELDS[kind]).join(', ') }), { file, field });
    const idx = typeof ref === 'number' ? ref - 1 : keys.indexOf(headerKey(ref));
    if (idx < 0 || idx >= header.length) throw validation(E('mapping_missing_column', { field, ref }), { file, line: 1, field });
    out[field] = idx;
    taken.add(idx);
  }
  // Longest aliases first over all fields, so "Code client" is not read as "Client".
  const candidates = Object.entries(FIELDS[kind])
    .filter(([f]) => !(f in out))
    .flatMap(([f, def]) => def.aliases.map((a, rank) => ({ f, a, rank })));
  for (const { f, a } of candidates.sort((x, y) => x.rank - y.rank || y.a.length - x.a.length)) {
    if (f in out) continue;
    const idx = keys.findIndex((k, i) => k === a && !taken.has(i));
    if (idx >= 0) {
      out[f] = idx;
      taken.add(idx);
    }
  }
  const missing = Object.entries(FIELDS[kind]).filter(([f, d]) => d.required && !(f in out)).map(([f]) => f);
  if (kind === 'invoices' && !('customerKey' in out) && !('customerName' in out)) missing.push('customerKey or customerName');
  return { columns: out, missing };
}

/** Field -> column index, from the mapping file when it names the field, else from the header. */
export function resolveColumns(kind: CsvKind, header: string[], mapping: ColumnMapping | undefined, file?: string): Record<string, number> {
  const { columns, missing } = matchColumns(kind, header, mapping, file);
  if (missing.length) {
    throw validation(E('missing_columns', { fields: missing.join(', '), header: header.join(' | ') }), { file, line: 1, field: missing[0] });
  }
  return columns;
}

/**
 * The first rows of a CSV file as they were read (encoding and separator sniffed) and the column
 * found for each field: what the web app shows before an import, and where it asks for the columns
 * it could not recognise.
 */
export async function inspectCsv(kind: CsvKind, input: ImportInput, rows = 10): Promise<{ header: string[]; rows: string[][]; columns: Record<string, number>; missing: string[]; separator: string; encoding: string }> {
  const file = await openDelimited(input);
  const first: string[][] = [];
  for await (const records of file.batches) {
    for (const rec of records) {
      if (first.length >= rows) break;
      first.push(rec.fields);
    }
    if (first.length >= rows) break;
  }
  await file.batches.return(undefined);
  const { columns, missing } = matchColumns(kind, file.header, undefined);
  return { header: file.header, rows: first, columns, missing, separator: file.separator === '\t' ? 'tab' : file.separator, encoding: file.encoding };
}

/** Rows per write: large batches keep the per-statement work of the set-based upserts small. */
const BATCH = 25_000;
/** Progress is told every PROGRESS rows, whatever the batch size. */
const PROGRESS = 5000;
const KNOWN_MAX = 200_000;

export interface CsvImportOptions extends ImportOptions {
  mapping?: ColumnMapping;
}

export async function importCsv(db: Db, orgId: string, kind: CsvKind, input: ImportInput, opts: CsvImportOptions = {}): Promise<ImportReport> {
  const filename = inputName(input) ?? null;
  const meta = { filename, sha256: null as string | null };
  return runImport(db, orgId, kind, meta, opts, async (session, b) => {
    const hash = createHash('sha256');
    const total = inputSize(input);
    let bytes = 0;
    const mapping = opts.mapping;
    const sep = mapping?.separator === 'tab' ? '\t' : (mapping?.separator as Separator | undefined);
    const file = await openDelimited(input, { encoding: mapping?.encoding, separator: sep, onChunk: (c, n) => {
      hash.update(c);
      bytes = n;
    } });
    const cols = resolveColumns(kind, file.header, mapping, filename ?? undefined);
    b.detected = {
      encoding: file.encoding,
      bom: file.bomLength > 0,
      separator: file.separator === '\t' ? 'tab' : file.separator,
      columns: Object.fromEntries(Object.entries(cols).map(([f, i]) => [f, file.header[i]])),
    };
    const reader = new RowReader(cols, file.header, mapping, filename ?? undefined);
    const sink = new CsvSink(session, kind, b);
    for await (const records of file.batches) {
      for (const rec of records) {
        b.rowsRead++;
        reader.line = rec.line;
        try {
          sink.add(reader, rec.fields);
        } catch (e) {
          b.problems.addError(rec.line, e);
        }
        if (sink.size >= BATCH) await sink.flush();
        if (b.rowsRead % PROGRESS === 0) opts.onProgress?.({ rows: b.rowsRead, bytesRead: bytes, bytesTotal: total });
      }
    }
    await sink.flush();
    await sink.pipe.drain();
    meta.sha256 = hash.digest('hex');
    opts.onProgress?.({ rows: b.rowsRead, bytesRead: total, bytesTotal: total });
    if (b.rowsRead === 0) b.problems.add(null, null, renderText(E('no_rows'), b.problems.lang));
  });
}

/** Reads typed values from one record, naming the column and line of anything wrong. */
class RowReader {
  line = 0;
  fields: string[] = [];
  constructor(
    readonly cols: Record<string, number>,
    readonly header: string[],
    readonly mapping: ColumnMapping | undefined,
    readonly file: string | undefined,
  ) {}
  where(field: string) {
    const i = this.cols[field];
    return { file: this.file, line: this.line, field: i === undefined ? field : this.header[i] };
  }
  text(field: string): string | null {
    const i = this.cols[field];
    if (i === undefined) return null;
    const v = this.fields[i]?.trim();
    return v ? v : null;
  }
  required(field: string): string {
    const v = this.text(field);
    if (v === null) throw validation(E('field_empty', { field }), this.where(field));
    return v;
  }
  /** An identifier (number, code, external id, reference): refused with a control character in it. */
  id(field: string): string | null {
    return assertIdentifier(this.text(field), field, this.where(field));
  }
  date(field: string): CalendarDate | null {
    const v = this.text(field);
    if (v === null) return null;
    const fmt = this.mapping?.dateFormat;
    if (fmt === 'mm/dd/yyyy') {
      const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(v);
      if (!m) throw validation(E('not_a_us_date', { value: v }), this.where(field));
      return calendarDate(`${m[3]}-${m[1]!.padStart(2, '0')}-${m[2]!.padStart(2, '0')}`, this.where(field));
    }
    return fastDate(v) ?? parseCalendarDate(v, this.where(field));
  }
  private lastCurrency = '';
  currency(): string {
    const c = (this.text('currency') ?? this.mapping?.currency ?? 'EUR').toUpperCase().replace('€', 'EUR');
    // Every row of a file usually has the same currency: checked once.
    if (c === this.lastCurrency) return c;
    assertCurrency(c, this.where('currency'));
    this.lastCurrency = c;
    return c;
  }
  amount(field: string, currency: string): bigint | null {
    const v = this.text(field);
    if (v === null) return null;
    return fastAmount(v, currencyExponent(currency)) ?? parseAmount(v, currency, this.where(field));
  }
  int(field: string): number | null {
    const v = this.text(field);
    if (v === null) return null;
    const m = /^(\d{1,3})(\s*(j|jours?|days?|d))?$/i.exec(v);
    if (!m) throw validation(E('not_days', { value: v }), this.where(field));
    return Number(m[1]);
  }
}

const METHOD_ALIASES: Record<string, string> = {
  virement: 'transfer', vir: 'transfer', transfer: 'transfer', banktransfer: 'transfer', wire: 'transfer', sepa: 'transfer',
  prelevement: 'direct_debit', prlv: 'direct_debit', directdebit: 'direct_debit', sdd: 'direct_debit',
  carte: 'card', cb: 'card', card: 'card', creditcard: 'card', cheque: 'cheque', chq: 'cheque', check: 'cheque',
  especes: 'cash', cash: 'cash', lcr: 'lcr', effet: 'lcr', traite: 'lcr',
};

function customerKeyOf(r: RowReader): { key: string; name: string | null } | null {
  const code = r.id('customerKey');
  const name = r.text('customerName');
  const siren = r.text('customerSiren');
  const key = code ?? (siren ? normaliseDigits(siren) : null) ?? name;
  return key ? { key, name } : null;
}

/** Accumulates one batch of rows and writes it set-based (one statement per table). */
class CsvSink {
  customers: UpsertCustomer[] = [];
  implicitCustomers = new Map<string, UpsertCustomer>();
  invoices: UpsertInvoice[] = [];
  /** Reminders sent before Relance, by invoice number (outside_reminders). */
  outside: { number: string; level: OutsideLevel; on: CalendarDate }[] = [];
  payments: UpsertPayment[] = [];
  settlements: { payment: UpsertPayment; allocation: UpsertAllocation }[] = [];
  allocations: UpsertAllocation[] = [];
  keysInBatch = new Map<string, number>();
  contentSeen = new Map<string, number>();
  /**
   * Customers named by earlier rows and already written in this import: not sent again. Bounded
   * (cleared past KNOWN_MAX keys), so memory stays flat however long the file.
   */
  knownCustomers = new Set<string>();
  readonly pipe = new WritePipe();
  derivedDueDates = 0;

  constructor(
    readonly session: ImportSession,
    readonly kind: CsvKind,
    readonly b: ImportBody,
  ) {}

  get size() {
    return this.customers.length + this.invoices.length + this.payments.length;
  }

  /** The same key twice in one batch would make one statement touch a row twice: refuse it here. */
  private once(key: string, r: RowReader, field: string): boolean {
    const first = this.keysInBatch.get(key);
    if (first !== undefined) {
      this.b.problems.add(r.line, r.where(field).field ?? field, renderText(E('twice', { first }), this.b.problems.lang));
      return false;
    }
    this.keysInBatch.set(key, r.line);
    return true;
  }

  add(r: RowReader, fields: string[]) {
    r.fields = fields;
    if (this.kind === 'customers') this.addCustomer(r);
    else if (this.kind === 'invoices') this.addInvoice(r);
    else this.addPayment(r);
  }

  private addCustomer(r: RowReader) {
    const legalName = r.required('legalName');
    const siren = r.text('siren') ? normaliseDigits(r.text('siren')!) : null;
    const siret = r.text('siret') ? normaliseDigits(r.text('siret')!) : null;
    if (siren && !isValidSiren(siren)) throw validation(E('siren_invalid', { siren }), r.where('siren'));
    if (siret && !isValidSiret(siret)) throw validation(E('siret_invalid', { siret }), r.where('siret'));
    const externalId = r.id('externalId') ?? siren ?? legalName;
    const kindText = r.text('kind')?.toLowerCase();
    const kind = kindText ? (/^(b2c|particulier|consumer|individual|personne)/.test(kindText) ? 'consumer' : 'business') : null;
    const lang = r.text('language')?.toLowerCase().slice(0, 2) ?? null;
    if (lang && lang !== 'fr' && lang !== 'en') throw validation(E('bad_language', { lang }), r.where('language'));
    const country = r.text('country')?.toUpperCase() ?? null;
    if (country && !/^[A-Z]{2}$/.test(country)) throw validation(E('bad_country', { country }), r.where('country'));
    const terms = r.int('paymentTermsDays');
    if (terms !== null && terms > 365) throw validation(E('terms_range'), r.where('paymentTermsDays'));
    const email = r.text('email');
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw validation(E('not_an_email', { value: email }), r.where('email'));
    const hasContact = email || r.text('phone') || r.text('addressLine1') || r.text('contactName');
    if (!this.once(`c:${externalId}`, r, 'externalId')) return;
    this.customers.push({
      line: r.line,
      externalId,
      legalName,
      kind,
      siren,
      siret,
      vatNumber: r.text('vatNumber')?.replace(/\s/g, '').toUpperCase() ?? null,
      country,
      language: lang as 'fr' | 'en' | null,
      paymentTermsDays: terms,
      segment: r.text('segment'),
      contact: hasContact
        ? {
            name: r.text('contactName') ?? legalName,
            email,
            phone: r.text('phone'),
            addressLine1: r.text('addressLine1'),
            postalCode: r.text('postalCode'),
            city: r.text('city'),
            country,
          }
        : null,
    });
  }

  private addInvoice(r: RowReader) {
    const number = assertIdentifier(r.required('number'), 'number', r.where('number'));
    const cust = customerKeyOf(r);
    if (!cust) throw validation(E('no_customer'), r.where('customerKey' in r.cols ? 'customerKey' : 'customerName'));
    const currency = r.currency();
    const incl = r.amount('amountInclTax', currency);
    if (incl === null) throw validation(E('incl_tax_empty'), r.where('amountInclTax'));
    if (incl <= 0n) throw validation(E('amount_positive'), r.where('amountInclTax'));
    const excl = r.amount('amountExclTax', currency) ?? incl;
    if (excl < 0n || excl > incl) throw validation(E('excl_tax_range'), r.where('amountExclTax'));
    const issueDate = r.date('issueDate');
    if (!issueDate) throw validation(E('issue_date_empty'), r.where('issueDate'));
    let dueDate = r.date('dueDate');
    if (!dueDate) {
      dueDate = addDays(issueDate, r.int('paymentTermsDays') ?? r.mapping?.defaultPaymentTermsDays ?? 30);
      this.derivedDueDates++;
    }
    if (dueDate < issueDate) throw validation(E('due_before_issue', { due: dueDate, issue: issueDate }), r.where('dueDate'));
    const open = r.amount('openAmount', currency);
    if (open !== null && (open < 0n || open > incl)) throw validation(E('open_range'), r.where('openAmount'));
    const siren = r.text('customerSiren') ? normaliseDigits(r.text('customerSiren')!) : null;
    if (siren && !isValidSiren(siren)) throw validation(E('siren_invalid', { siren }), r.where('customerSiren'));
    const levelText = r.text('lastReminderLevel');
    const remindedOn = r.date('lastReminderOn');
    if ((levelText === null) !== (remindedOn === null)) throw validation(E('reminder_level_date'), r.where(levelText === null ? 'lastReminderLevel' : 'lastReminderOn'));
    const level = levelText === null ? null : outsideLevelOf(levelText);
    if (levelText !== null && !level) throw validation(E('reminder_level', { value: levelText }), r.where('lastReminderLevel'));
    if (remindedOn && remindedOn < issueDate) throw validation(E('reminder_before_issue', { on: remindedOn, issue: issueDate }), r.where('lastReminderOn'));
    if (!this.once(`i:${number}`, r, 'number')) return;
    if (level && remindedOn) this.outside.push({ number, level, on: remindedOn });
    if (!this.implicitCustomers.has(cust.key) && !this.knownCustomers.has(cust.key)) {
      const email = r.text('customerEmail');
      this.implicitCustomers.set(cust.key, {
        line: r.line,
        externalId: cust.key,
        legalName: cust.name ?? cust.key,
        kind: null,
        siren,
        siret: null,
        vatNumber: null,
        country: null,
        language: null,
        paymentTermsDays: null,
        segment: null,
        contact: email ? { name: cust.name ?? cust.key, email, phone: null, addressLine1: null, postalCode: null, city: null, country: null } : null,
      });
    }
    this.invoices.push({
      line: r.line,
      customerExternalId: cust.key,
      number,
      externalId: r.id('externalId'),
      issueDate,
      dueDate,
      currency,
      amountExclTaxMinor: excl,
      amountInclTaxMinor: incl,
    });
    // An invoicing tool's "amount due" below the total means it was partly paid there: record that
    // settlement once, under a key derived from the invoice number, so a re-import adds nothing.
    if (open !== null && open < incl) {
      const externalId = `settled-before-import:${number}`;
      this.settlements.push({
        payment: {
          line: r.line,
          externalId,
          customerExternalId: cust.key,
          paymentDate: issueDate,
          currency,
          amountMinor: incl - open,
          method: 'other',
          reference: `settled before import (${number})`,
          payerName: null,
          payerIban: null,
        },
        allocation: { line: r.line, invoiceNumber: number, paymentExternalId: externalId, currency, amountMinor: incl - open, allocatedOn: issueDate },
      });
    }
  }

  private addPayment(r: RowReader) {
    const currency = r.currency();
    const amount = r.amount('amount', currency);
    if (amount === null) throw validation(E('payment_amount_empty'), r.where('amount'));
    if (amount <= 0n) throw validation(E('payment_amount_positive'), r.where('amount'));
    const paymentDate = r.date('paymentDate');
    if (!paymentDate) throw validation(E('payment_date_empty'), r.where('paymentDate'));
    const methodText = r.text('method');
    let method = 'transfer';
    if (methodText) {
      const k = headerKey(methodText);
      method = METHOD_ALIASES[k] ?? ((PAYMENT_METHODS as readonly string[]).includes(methodText) ? methodText : 'other');
    }
    let iban = r.text('payerIban');
    if (iban) {
      iban = normaliseIban(iban);
      if (!isValidIban(iban)) throw validation(E('iban_invalid', { iban }), r.where('payerIban'));
    }
    const cust = customerKeyOf(r);
    const invoiceNumber = r.id('invoiceNumber');
    const reference = r.id('reference');
    // Without a payment id, the row's content and its rank among identical rows make the key:
    // the same file imported twice gives the same keys, two identical payments stay two.
    let externalId = r.id('externalId');
    if (!externalId) {
      const base = [paymentDate, currency, amount, cust?.key ?? '', invoiceNumber ?? '', reference ?? '', iban ?? ''].join('\u001f');
      const n = this.contentSeen.get(base) ?? 0;
      this.contentSeen.set(base, n + 1);
      externalId = `csv:${createHash('sha256').update(`${base}\u001f${n}`).digest('hex').slice(0, 32)}`;
    }
    if (!this.once(`p:${externalId}`, r, 'externalId')) return;
    if (cust && !this.implicitCustomers.has(cust.key) && !this.knownCustomers.has(cust.key) && cust.name) {
      this.implicitCustomers.set(cust.key, {
        line: r.line, externalId: cust.key, legalName: cust.name, kind: null, siren: null, siret: null, vatNumber: null, country: null,
        language: null, paymentTermsDays: null, segment: null, contact: null,
      });
    }
    this.payments.push({
      line: r.line,
      externalId,
      customerExternalId: cust?.key ?? null,
      paymentDate,
      currency,
      amountMinor: amount,
      method,
      reference,
      payerName: r.text('payerName'),
      payerIban: iban,
    });
    if (invoiceNumber) this.allocations.push({ line: r.line, invoiceNumber, paymentExternalId: externalId, currency, amountMinor: amount, allocatedOn: paymentDate });
  }

  async flush() {
    const customers = this.customers;
    const implicit = [...this.implicitCustomers.values()];
    const invoices = this.invoices;
    const outside = this.outside;
    const payments = [...this.payments, ...this.settlements.map((s) => s.payment)];
    const allocations = [...this.allocations, ...this.settlements.map((s) => s.allocation)];
    this.customers = [];
    if (this.knownCustomers.size + implicit.length > KNOWN_MAX) this.knownCustomers.clear();
    for (const c of implicit) this.knownCustomers.add(c.externalId);
    this.implicitCustomers = new Map();
    this.invoices = [];
    this.outside = [];
    this.payments = [];
    this.settlements = [];
    this.allocations = [];
    this.keysInBatch = new Map();
    const { session, b } = this;
    const { q, orgId } = session;
    // Past the first problem nothing will be kept: keep reading to report every bad row, but
    // stop writing.
    if (b.problems.any) return;
    await this.pipe.push(async () => {
      if (customers.length) {
        const r = await upsertCustomers(session, customers);
        recordRefusals(b.problems, r);
        b.counts.add('customers', r);
      }
      if (implicit.length) {
        const r = await upsertCustomers(session, implicit, { insertOnly: true });
        b.counts.add('customers', { inserted: r.inserted, updated: 0, unchanged: 0 });
      }
      if (invoices.length) {
        const r = await upsertInvoices(session, invoices);
        recordRefusals(b.problems, r);
        b.counts.add('invoices', r);
      }
      if (outside.length) await recordOutsideReminders(q, orgId, outside);
      if (payments.length) {
        const r = await upsertPayments(session, payments);
        recordRefusals(b.problems, r);
        b.counts.add('payments', r);
      }
      if (allocations.length && !b.problems.any) {
        const r = await upsertAllocations(session, allocations);
        recordRefusals(b.problems, r);
        b.counts.add('allocations', r);
      }
    });
    if (this.derivedDueDates && !b.warnings.some((w) => w.startsWith('due date'))) {
      b.warnings.push(renderText(E('due_computed'), b.problems.lang));
    }
  }
}

/**
 * Reminders sent before Relance, by invoice number: the latest one of an invoice is kept (a
 * re-import with an older date changes nothing), and the planner looks at the invoice again.
 */
export async function recordOutsideReminders(q: Queryable, orgId: string, rows: readonly { number: string; level: OutsideLevel; on: CalendarDate }[]): Promise<void> {
  const ids = await q.query<{ id: bigint }>(
    `INSERT INTO outside_reminders (organisation_id, invoice_id, level, sent_on)
     SELECT $1, i.id, x.level, x.sent_on FROM unnest($2::text[], $3::text[], $4::date[]) AS x(number, level, sent_on)
       JOIN invoices i ON i.organisation_id = $1 AND i.number = x.number
     ON CONFLICT (organisation_id, invoice_id) DO UPDATE SET level = EXCLUDED.level, sent_on = EXCLUDED.sent_on, recorded_at = now()
      WHERE outside_reminders.sent_on <= EXCLUDED.sent_on AND (outside_reminders.level, outside_reminders.sent_on) IS DISTINCT FROM (EXCLUDED.level, EXCLUDED.sent_on)
     RETURNING invoice_id AS id`,
    [orgId, pgArray(rows.map((r) => r.number)), pgArray(rows.map((r) => r.level)), pgArray(rows.map((r) => r.on))],
  );
  if (ids.length) await q.query('DELETE FROM invoice_schedule WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[])', [orgId, pgArray(ids.map((r) => r.id))]);
}
