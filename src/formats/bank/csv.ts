/**
 * Bank statements exported as CSV from online banking. Every bank has its own columns, so a
 * column mapping says which column is what; without one, French and English header names are
 * recognised ("Date opération", "Libellé", "Débit", "Crédit", "Montant"...). The separator, the
 * decimal comma and the character set are detected; dates are day first (dd/mm/yyyy), the French
 * convention, unless the mapping says otherwise.
 */
import { type CalendarDate, readDate } from '../../domain/dates.ts';
import { isValidIban, normaliseIban } from '../../domain/identifiers.ts';
import { parseAmount } from '../../domain/money.ts';
import { isRelanceError } from '../../errors.ts';
import { decodeText, separatorOfLines } from '../csv-sniff.ts';
import { type DelimitedRecord, splitRecords } from '../delimited.ts';
import { type BankLine, cleanText, joinText, type ParsedBankFile, type ParseOptions, parseError } from './types.ts';
import { defineErrors, type Text } from '../../i18n/index.ts';

const E = defineErrors('bank-csv', {
  not_a_date: { fr: "« {value} » n’est pas une date (JJ/MM/AAAA ou AAAA-MM-JJ attendu)", en: "\"{value}\" is not a date (dd/mm/yyyy or yyyy-mm-dd expected)" },
  not_an_amount: { fr: "« {value} » n’est pas un montant", en: "\"{value}\" is not an amount" },
  empty: { fr: "le fichier est vide", en: "the file is empty" },
  no_header: { fr: "pas de ligne d’en-tête", en: "no header row" },
  mapping_no_column_number: { fr: "correspondance : la colonne {ref} pour {field} n’existe pas ({count} colonnes)", en: "mapping: column {ref} for {field} does not exist ({count} columns)" },
  mapping_no_column_name: { fr: "correspondance : pas de colonne « {ref} » pour {field} dans l’en-tête", en: "mapping: no column \"{ref}\" for {field} in the header" },
  no_date_column: { fr: "aucune colonne de date d’opération trouvée : indiquez une correspondance de colonnes (--mapping)", en: "no booking date column found: give a column mapping (--mapping)" },
  no_amount_column: { fr: "aucune colonne de montant (ou de débit/crédit) trouvée : indiquez une correspondance de colonnes (--mapping)", en: "no amount column (or debit/credit columns) found: give a column mapping (--mapping)" },
  column_count: { fr: "{count} colonnes alors que l’en-tête en compte {header}", en: "{count} columns where the header has {header}" },
  not_a_currency: { fr: "« {value} » n’est pas un code devise", en: "\"{value}\" is not a currency code" },
  booking_date_empty: { fr: "la date d’opération est vide", en: "booking date is empty" },
  no_debit_credit: { fr: "ni montant au débit ni montant au crédit", en: "neither a debit nor a credit amount" },
  direction: { fr: "« {value} » n’indique ni un débit ({debit}) ni un crédit ({credit})", en: "\"{value}\" is neither a debit ({debit}) nor a credit ({credit}) indicator" },
  account_column: { fr: "la colonne du compte donne plusieurs comptes ({first}, {other}) : un relevé CSV ne doit porter que sur un compte", en: "the account column names several accounts ({first}, {other}): a CSV statement must be of one account" },
});

const W = defineErrors('bank-csv-warnings', {
  month_first: { fr: "dates lues le mois d’abord (comme « {example} », où le jour dépasse 12)", en: "dates read month first (as \"{example}\", where the day is above 12)" },
});

/** Values a debit/credit indicator column takes, normalised (accents and case ignored). */
const DEBIT_VALUES = ['d', 'db', 'dbit', 'debit', 'dr', '-', 'debiteur', 's', 'soll'];
const CREDIT_VALUES = ['c', 'cr', 'crdt', 'credit', '+', 'crediteur', 'h', 'haben'];

/** A column is named by its header text (case and accents ignored) or by its 1-based position. */
export type ColumnRef = string | number;

export interface CsvMapping {
  delimiter?: string;
  decimal?: ',' | '.';
  dateFormat?: 'dd/mm/yyyy' | 'mm/dd/yyyy' | 'yyyy-mm-dd';
  /** Lines before the header row (account details some banks print first). Detected when absent. */
  skipLines?: number;
  /** false: the file has no header row; columns are then named by their 1-based position. */
  header?: boolean;
  /** Currency of every line when there is no currency column (default EUR). */
  currency?: string;
  accountIban?: string;
  /** Values of the `direction` column meaning debit, and credit (defaults: D/DBIT/Debit…, C/CRDT/Credit…). */
  debitValues?: string[];
  creditValues?: string[];
  columns?: {
    bookingDate?: ColumnRef;
    valueDate?: ColumnRef;
    /** One signed amount column, or a debit and a credit column. */
    amount?: ColumnRef;
    debit?: ColumnRef;
    credit?: ColumnRef;
    /** A debit/credit indicator beside an unsigned (or wrongly signed) amount: it gives the sign. */
    direction?: ColumnRef;
    /** The statement's own account (IBAN), when the bank repeats it on every row. */
    account?: ColumnRef;
    currency?: ColumnRef;
    counterpartyName?: ColumnRef;
    counterpartyIban?: ColumnRef;
    remittanceText?: ColumnRef | ColumnRef[];
    label?: ColumnRef;
    creditorReference?: ColumnRef;
    entryReference?: ColumnRef;
  };
}

type Field = keyof NonNullable<CsvMapping['columns']>;

const norm = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** Header names seen in French and English bank exports, already normalised. */
const SYNONYMS: Record<Exclude<Field, 'remittanceText'> | 'remittanceText', string[]> = {
  bookingDate: ['date', 'buchungstag', 'buchungsdatum', 'fecha', 'fecha operacion', 'date operation', 'date d operation', 'date de l operation', 'date comptable', 'date de comptabilisation', 'booking date', 'transaction date', 'posting date'],
  valueDate: ['date valeur', 'date de valeur', 'value date', 'valuta', 'wertstellung', 'fecha valor'],
  amount: ['montant', 'amount', 'montant eur', 'montant en euros', 'somme', 'betrag', 'importe'],
  debit: ['debit', 'debit eur', 'debits', 'montant debit', 'debit euros'],
  credit: ['credit', 'credit eur', 'credits', 'montant credit', 'credit euros'],
  direction: ['d c', 'c d', 'sens', 'debit credit', 'credit debit', 'dr cr', 'cr dr', 'cdtdbtind', 'debit credit indicator', 'soll haben'],
  account: ['compte', 'numero de compte', 'iban du compte', 'account', 'account iban', 'account number', 'kontonummer', 'auftragskonto'],
  currency: ['devise', 'currency', 'monnaie', 'ccy', 'wahrung', 'moneda', 'divisa'],
  counterpartyName: ['tiers', 'beneficiaire', 'emetteur', 'donneur d ordre', 'contrepartie', 'counterparty', 'payer', 'nom', 'name'],
  counterpartyIban: ['iban', 'iban tiers', 'iban contrepartie', 'counterparty iban', 'compte contrepartie'],
  remittanceText: ['motif', 'verwendungszweck', 'concepto', 'reference', 'references', 'information complementaire', 'informations complementaires', 'detail', 'details', 'remittance', 'communication'],
  label: ['libelle', 'libelle operation', 'libelle de l operation', 'label', 'description', 'intitule', 'operation'],
  creditorReference: ['reference creancier', 'creditor reference', 'rf'],
  entryReference: ['reference banque', 'reference bancaire', 'transaction id', 'id transaction', 'fitid', 'numero d operation'],
};

const normDirection = (s: string) => norm(s) || s.trim();

/** UTF-8, else Windows-1252 (French bank exports); UTF-8 with a damaged byte is refused by place. */
function decode(input: Buffer | string, file?: string): string {
  return typeof input === 'string' ? input : decodeText(input, { file });
}

function parseDate(text: string, format: CsvMapping['dateFormat'], where: { file?: string; line: number; field: string }): CalendarDate {
  const d = readDate(text, { monthFirst: format === 'mm/dd/yyyy', shortYear: true });
  if (d === null) throw parseError(E('not_a_date', { value: text }), where);
  return d;
}

function parseMoney(text: string, decimal: ',' | '.', currency: string, where: { file?: string; line: number; field: string }): bigint {
  let s = text.trim().replace(/[\s\u00a0\u202f]/g, '');
  // "123,45-" (sign after the number) appears in some exports.
  if (/^[^-].*-$/.test(s)) s = `-${s.slice(0, -1)}`;
  s = decimal === ',' ? s.replace(/\./g, '').replace(',', '.') : s.replace(/,/g, '');
  try {
    return parseAmount(s, currency);
  } catch (e) {
    throw parseError(isRelanceError(e) && e.text ? e.text : E('not_an_amount', { value: text }), where);
  }
}

export function parseCsvStatement(input: Buffer | string, opts: ParseOptions & { mapping?: CsvMapping } = {}): ParsedBankFile {
  const file = opts.filename;
  const mapping = opts.mapping ?? {};
  const text = decode(input, file).replace(/^\uFEFF/, '');
  const physical = text.split(/\r\n|\n|\r/);
  const nonEmpty = physical.map((l, i) => ({ l, i })).filter((x) => x.l.trim() !== '');
  const warnings: Text[] = [];
  if (nonEmpty.length === 0) throw parseError(E('empty'), { file, line: 1 });

  // The header row: the given one, else the first line naming a date column.
  let headerIdx: number;
  if (mapping.skipLines !== undefined) headerIdx = mapping.skipLines;
  else {
    const found = nonEmpty.slice(0, 30).find((x) => {
      const cells = x.l.split(/[;,\t|]/).map((c) => norm(c.replace(/"/g, '')));
      return cells.some((c) => SYNONYMS.bookingDate.includes(c));
    });
    headerIdx = found ? found.i : nonEmpty[0]!.i;
  }
  const body = physical.slice(headerIdx);
  const delimiter = mapping.delimiter ?? separatorOfLines(body.filter((l) => l.trim() !== '').slice(0, 10));
  // The imports' splitter: a broken quote or an endless field is refused by its line in the file.
  const rows: DelimitedRecord[] = splitRecords(body.join('\n'), delimiter, { file, firstLine: headerIdx + 1 });
  if (rows.length < 1) throw parseError(E('no_header'), { file, line: headerIdx + 1 });
  // Without a header row, the columns are their positions and every row is data.
  const headless = mapping.header === false;
  if (headless) rows.unshift({ fields: rows[0]!.fields.map((_v, i) => String(i + 1)), line: headerIdx });
  const header = rows[0]!.fields.map(norm);
  const colOf = (ref: ColumnRef | undefined, field: string): number | null => {
    if (ref === undefined) return null;
    if (typeof ref === 'number') {
      if (ref < 1 || ref > header.length) throw parseError(E('mapping_no_column_number', { ref, field, count: header.length }), { file, line: headerIdx + 1, field });
      return ref - 1;
    }
    const i = header.indexOf(norm(ref));
    if (i < 0) throw parseError(E('mapping_no_column_name', { ref, field }), { file, line: headerIdx + 1, field });
    return i;
  };
  const guess = (field: Field): number | null => {
    const syn = SYNONYMS[field];
    const i = header.findIndex((h) => syn.includes(h));
    return i < 0 ? null : i;
  };
  const cols = mapping.columns ?? {};
  const pick = (field: Exclude<Field, 'remittanceText'>) => (cols[field] !== undefined ? colOf(cols[field], field) : mapping.columns ? null : guess(field));
  const c = {
    bookingDate: pick('bookingDate'),
    valueDate: pick('valueDate'),
    amount: pick('amount'),
    debit: pick('debit'),
    credit: pick('credit'),
    direction: pick('direction'),
    account: pick('account'),
    currency: pick('currency'),
    counterpartyName: pick('counterpartyName'),
    counterpartyIban: pick('counterpartyIban'),
    label: pick('label'),
    creditorReference: pick('creditorReference'),
    entryReference: pick('entryReference'),
  };
  const remit: number[] =
    cols.remittanceText !== undefined
      ? (Array.isArray(cols.remittanceText) ? cols.remittanceText : [cols.remittanceText]).map((r) => colOf(r, 'remittanceText')!)
      : mapping.columns
        ? []
        : [guess('remittanceText')].filter((x): x is number => x !== null);
  if (c.bookingDate === null) throw parseError(E('no_date_column'), { file, line: headerIdx + 1 });
  if (c.amount === null && c.debit === null && c.credit === null) {
    throw parseError(E('no_amount_column'), { file, line: headerIdx + 1 });
  }

  // Day or month first: the order the mapping gives, else the one a day above 12 proves.
  let dateFormat = mapping.dateFormat;
  if (!dateFormat) {
    const parts = rows.slice(1).map((r) => /^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\s*$/.exec(r.fields[c.bookingDate!] ?? '')).filter((m) => m !== null);
    if (parts.some((m) => Number(m[2]) > 12) && !parts.some((m) => Number(m[1]) > 12)) {
      dateFormat = 'mm/dd/yyyy';
      warnings.push(W('month_first', { example: parts.find((m) => Number(m[2]) > 12)![0].trim() }));
    }
  }
  const amountCells = rows.slice(1).flatMap((r) => [c.amount, c.debit, c.credit].map((i) => (i === null ? '' : (r.fields[i] ?? ''))));
  const decimal =
    mapping.decimal ?? (delimiter !== ',' && amountCells.some((v) => /\d,\d{1,2}-?$/.test(v.trim())) && !amountCells.some((v) => /\d\.\d{1,2}-?$/.test(v.trim())) ? ',' : '.');
  const defaultCurrency = mapping.currency ?? 'EUR';
  let accountIban = mapping.accountIban ? normaliseIban(mapping.accountIban) : null;
  const debitValues = (mapping.debitValues ?? DEBIT_VALUES).map(normDirection);
  const creditValues = (mapping.creditValues ?? CREDIT_VALUES).map(normDirection);

  const lines: BankLine[] = [];
  for (const { fields: record, line } of rows.slice(1)) {
    const cell = (i: number | null) => (i === null ? null : cleanText(record[i] ?? ''));
    if (record.every((v) => v.trim() === '')) continue;
    if (record.length !== header.length) {
      throw parseError(E('column_count', { count: record.length, header: header.length }), { file, line });
    }
    const currency = cell(c.currency)?.toUpperCase() ?? defaultCurrency;
    if (!/^[A-Z]{3}$/.test(currency)) throw parseError(E('not_a_currency', { value: currency }), { file, line, field: 'currency' });
    const dateText = cell(c.bookingDate);
    if (!dateText) throw parseError(E('booking_date_empty'), { file, line, field: 'bookingDate' });
    const bookingDate = parseDate(dateText, dateFormat, { file, line, field: 'bookingDate' });
    const vd = cell(c.valueDate);
    const valueDate = vd ? parseDate(vd, dateFormat, { file, line, field: 'valueDate' }) : null;
    let amountMinor: bigint;
    const a = cell(c.amount);
    if (a !== null) amountMinor = parseMoney(a, decimal, currency, { file, line, field: 'amount' });
    else {
      const d = cell(c.debit);
      const cr = cell(c.credit);
      if (d === null && cr === null) throw parseError(E('no_debit_credit'), { file, line, field: 'amount' });
      const dm = d === null ? 0n : parseMoney(d, decimal, currency, { file, line, field: 'debit' });
      const cm = cr === null ? 0n : parseMoney(cr, decimal, currency, { file, line, field: 'credit' });
      // A debit column holds the amount with or without its minus sign.
      amountMinor = (cm < 0n ? -cm : cm) - (dm < 0n ? -dm : dm);
    }
    const dir = cell(c.direction);
    if (c.direction !== null) {
      const d = normDirection(dir ?? '');
      const abs = amountMinor < 0n ? -amountMinor : amountMinor;
      if (debitValues.includes(d)) amountMinor = -abs;
      else if (creditValues.includes(d)) amountMinor = abs;
      else throw parseError(E('direction', { value: dir ?? '', debit: debitValues.join('/'), credit: creditValues.join('/') }), { file, line, field: 'direction' });
    }
    const own = cell(c.account);
    if (own && !mapping.accountIban && isValidIban(own)) {
      const iban = normaliseIban(own);
      if (accountIban && accountIban !== iban) throw parseError(E('account_column', { first: accountIban, other: iban }), { file, line, field: 'account' });
      accountIban = iban;
    }
    const ibanText = cell(c.counterpartyIban);
    lines.push({
      bookingDate,
      valueDate,
      amountMinor,
      currency,
      counterpartyName: cell(c.counterpartyName),
      counterpartyIban: ibanText && isValidIban(ibanText) ? normaliseIban(ibanText) : null,
      remittanceText: joinText(remit.map((i) => cell(i))),
      creditorReference: cell(c.creditorReference)?.replace(/\s/g, '') ?? null,
      label: cell(c.label),
      entryReference: cell(c.entryReference),
      endToEndId: null,
      bankReference: null,
      transactionCode: null,
      reversal: false,
      accountIban: null,
      accountNumber: null,
      source: { line },
    });
  }
  for (const l of lines) l.accountIban = accountIban;
  return {
    format: 'csv',
    version: null,
    statements: [{ id: null, accountIban, accountNumber: null, currency: lines[0]?.currency ?? defaultCurrency, openingBalance: null, closingBalance: null, lines }],
    warnings,
  };
}
