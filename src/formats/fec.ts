/**
 * FEC, the French legal accounting export (art. A47 A-1 LPF): a flat file, first line the field
 * names, TAB or "|" separated (";" seen in the wild), ISO 8859-15 or UTF-8, amounts with a decimal
 * comma, dates AAAAMMJJ (DD/MM/YYYY seen in the wild). Debit/Credit may be Montant + Sens.
 * This module reads one line into typed values; src/imports/fec.ts turns lines into the ledger.
 */
import { type CalendarDate, parseCalendarDate } from '../domain/dates.ts';
import { parseAmount } from '../domain/money.ts';
import { assertIdentifier } from '../domain/ledger.ts';
import { validation } from '../errors.ts';
import { headerKey } from './csv-sniff.ts';
import { fastAmount, fastDate } from './values.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('fec', {
  not_fec: { fr: "ce n’est pas un fichier FEC : pas de colonne {missing} (en-tête : {header}…)", en: "not a FEC file: no {missing} column (header: {header}…)" },
  sens: { fr: "Sens doit valoir D ou C (ou +1 / -1), reçu « {value} »", en: "Sens must be D or C (or +1 / -1), got \"{value}\"" },
  entry_date: { fr: "EcritureDate est vide", en: "EcritureDate is empty" },
  account: { fr: "CompteNum est vide", en: "CompteNum is empty" },
  date: { fr: "« {value} » n’est pas une date (AAAAMMJJ attendu, le format des dates du FEC)", en: "\"{value}\" is not a date (YYYYMMDD expected, the FEC's date format)" },
});

export const FEC_FIELDS = [
  'JournalCode', 'JournalLib', 'EcritureNum', 'EcritureDate', 'CompteNum', 'CompteLib', 'CompAuxNum', 'CompAuxLib', 'PieceRef',
  'PieceDate', 'EcritureLib', 'Debit', 'Credit', 'EcritureLet', 'DateLet', 'ValidDate', 'Montantdevise', 'Idevise',
] as const;

export interface FecLine {
  line: number;
  journalCode: string;
  entryNumber: string;
  entryDate: CalendarDate;
  account: string;
  accountLabel: string;
  auxAccount: string;
  auxLabel: string;
  pieceRef: string;
  pieceDate: CalendarDate | null;
  label: string;
  /** Minor units (euro cents), both zero or positive. */
  debit: bigint;
  credit: bigint;
  letter: string;
  letterDate: CalendarDate | null;
}

export interface FecColumns {
  idx: Record<string, number>;
  amountStyle: 'debit_credit' | 'montant_sens';
  /** The column of each field read per line, -1 when absent (looked up once, not per line). */
  at: Record<(typeof LINE_FIELDS)[number], number>;
}

const LINE_FIELDS = ['JournalCode', 'EcritureNum', 'EcritureDate', 'CompteNum', 'CompteLib', 'CompAuxNum', 'CompAuxLib', 'PieceRef', 'PieceDate', 'EcritureLib',
  'Debit', 'Credit', 'EcritureLet', 'DateLet', 'Montant', 'Sens'] as const;

/** Finds the FEC fields in the header (case-insensitive); says which mandatory ones are missing. */
export function fecColumns(header: string[], file?: string): FecColumns {
  const keys = header.map(headerKey);
  const idx: Record<string, number> = {};
  for (const f of [...FEC_FIELDS, 'Montant', 'Sens']) {
    const i = keys.indexOf(headerKey(f));
    if (i >= 0) idx[f] = i;
  }
  const amountStyle = 'Debit' in idx && 'Credit' in idx ? 'debit_credit' : 'Montant' in idx && 'Sens' in idx ? 'montant_sens' : null;
  const missing = ['JournalCode', 'EcritureNum', 'EcritureDate', 'CompteNum', 'PieceRef'].filter((f) => !(f in idx));
  if (!amountStyle) missing.push('Debit/Credit or Montant/Sens');
  if (missing.length) throw validation(E('not_fec', { missing: missing.join(', '), header: header.slice(0, 8).join(' | ') }), { file, line: 1 });
  const at = Object.fromEntries(LINE_FIELDS.map((f) => [f, idx[f] ?? -1])) as FecColumns['at'];
  return { idx, amountStyle: amountStyle!, at };
}

/** A FEC amount: decimal comma, no thousands separator; an empty field is zero. */
function fecAmount(s: string, file: string | undefined, line: number, field: string): bigint {
  if (!s) return 0n;
  return fastAmount(s, 2) ?? parseAmount(s, 'EUR', { file, line, field });
}

function fecDate(s: string, file: string | undefined, line: number, field: string): CalendarDate | null {
  if (!s) return null;
  const fast = fastDate(s);
  if (fast) return fast;
  // DD/MM/YYYY and YYYY-MM-DD are seen in the wild and read; the refusal names the FEC's own format.
  try {
    return parseCalendarDate(s, { file, line, field });
  } catch {
    throw validation(E('date', { value: s }), { file, line, field });
  }
}

/** The trimmed field at column i (-1: the file has no such column). */
function at(fields: string[], i: number): string {
  if (i < 0) return '';
  const v = fields[i];
  return v === undefined ? '' : v.trim();
}

export function readFecLine(cols: FecColumns, fields: string[], line: number, file?: string): FecLine {
  const c = cols.at;
  let debit: bigint;
  let credit: bigint;
  if (cols.amountStyle === 'debit_credit') {
    debit = fecAmount(at(fields, c.Debit), file, line, 'Debit');
    credit = fecAmount(at(fields, c.Credit), file, line, 'Credit');
  } else {
    const amount = fecAmount(at(fields, c.Montant), file, line, 'Montant');
    const sens = at(fields, c.Sens).toUpperCase();
    if (sens === 'D' || sens === '+1' || sens === '1') [debit, credit] = [amount, 0n];
    else if (sens === 'C' || sens === '-1') [debit, credit] = [0n, amount];
    else throw validation(E('sens', { value: at(fields, c.Sens) }), { file, line, field: 'Sens' });
  }
  // A negative amount on one side is the other side (some exports write reversals that way).
  if (debit < 0n) [debit, credit] = [0n, credit - debit];
  if (credit < 0n) [debit, credit] = [debit - credit, 0n];
  const entryDate = fecDate(at(fields, c.EcritureDate), file, line, 'EcritureDate');
  if (!entryDate) throw validation(E('entry_date'), { file, line, field: 'EcritureDate' });
  const account = at(fields, c.CompteNum);
  if (!account) throw validation(E('account'), { file, line, field: 'CompteNum' });
  const pieceRef = assertIdentifier(at(fields, c.PieceRef), 'PieceRef', { file, line });
  const auxAccount = assertIdentifier(at(fields, c.CompAuxNum), 'CompAuxNum', { file, line });
  return {
    line,
    journalCode: at(fields, c.JournalCode),
    entryNumber: at(fields, c.EcritureNum),
    entryDate,
    account,
    accountLabel: at(fields, c.CompteLib),
    auxAccount,
    auxLabel: at(fields, c.CompAuxLib),
    pieceRef,
    pieceDate: fecDate(at(fields, c.PieceDate), file, line, 'PieceDate'),
    label: at(fields, c.EcritureLib),
    debit,
    credit,
    letter: at(fields, c.EcritureLet),
    letterDate: fecDate(at(fields, c.DateLet), file, line, 'DateLet'),
  };
}

/** Customer (receivable) accounts: class 411. */
export const isReceivable = (account: string) => account.startsWith('411');
/** VAT collected: 4457x. */
export const isVatCollected = (account: string) => account.startsWith('4457');
/** Sales and other revenue: class 7. */
export const isRevenue = (account: string) => account.startsWith('7');
