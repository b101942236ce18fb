/**
 * FEC, the French legal accounting export (art. A47 A-1 LPF): a flat file, first line the field
 * names, TAB or "|" separated (";" seen in the wild), ISO 8859-15 or UTF-8, amounts with a decimal
 * comma, dates AAAAMMJJ (DD/MM/YYYY seen in the wild). Debit/Credit may be Montant + Sens.
 * This module reads one line into typed values; src/imports/fec.ts turns lines into the ledger.
 */
import type { CalendarDate } from '../domain/dates.ts';
import { validation } from '../errors.ts';
import { headerKey } from './csv-sniff.ts';
import { amountOf, dateOf } from './values.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('fec', {
  not_fec: { fr: "ce n’est pas un fichier FEC : pas de colonne {missing} (en-tête : {header}…)", en: "not a FEC file: no {missing} column (header: {header}…)" },
  sens: { fr: "Sens doit valoir D ou C (ou +1 / -1), reçu « {value} »", en: "Sens must be D or C (or +1 / -1), got \"{value}\"" },
  entry_date: { fr: "EcritureDate est vide", en: "EcritureDate is empty" },
  account: { fr: "CompteNum est vide", en: "CompteNum is empty" },
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
function fecAmount(text: string | undefined, where: { file?: string; line: number; field: string }): bigint {
  const s = (text ?? '').trim();
  if (!s) return 0n;
  return amountOf(s, 'EUR', where);
}

function fecDate(text: string | undefined, where: { file?: string; line: number; field: string }): CalendarDate | null {
  const s = (text ?? '').trim();
  return s ? dateOf(s, where) : null;
}

export function readFecLine(cols: FecColumns, fields: string[], line: number, file?: string): FecLine {
  const { at } = cols;
  const get = (f: (typeof LINE_FIELDS)[number]) => {
    const i = at[f];
    return i < 0 ? '' : (fields[i] ?? '').trim();
  };
  const w = (field: string) => ({ file, line, field });
  let debit: bigint;
  let credit: bigint;
  if (cols.amountStyle === 'debit_credit') {
    debit = fecAmount(get('Debit'), w('Debit'));
    credit = fecAmount(get('Credit'), w('Credit'));
  } else {
    const amount = fecAmount(get('Montant'), w('Montant'));
    const sens = get('Sens').toUpperCase();
    if (sens === 'D' || sens === '+1' || sens === '1') [debit, credit] = [amount, 0n];
    else if (sens === 'C' || sens === '-1') [debit, credit] = [0n, amount];
    else throw validation(E('sens', { value: get('Sens') }), w('Sens'));
  }
  // A negative amount on one side is the other side (some exports write reversals that way).
  if (debit < 0n) [debit, credit] = [0n, credit - debit];
  if (credit < 0n) [debit, credit] = [debit - credit, 0n];
  const entryDate = fecDate(get('EcritureDate'), w('EcritureDate'));
  if (!entryDate) throw validation(E('entry_date'), w('EcritureDate'));
  const account = get('CompteNum');
  if (!account) throw validation(E('account'), w('CompteNum'));
  return {
    line,
    journalCode: get('JournalCode'),
    entryNumber: get('EcritureNum'),
    entryDate,
    account,
    accountLabel: get('CompteLib'),
    auxAccount: get('CompAuxNum'),
    auxLabel: get('CompAuxLib'),
    pieceRef: get('PieceRef'),
    pieceDate: fecDate(get('PieceDate'), w('PieceDate')),
    label: get('EcritureLib'),
    debit,
    credit,
    letter: get('EcritureLet'),
    letterDate: fecDate(get('DateLet'), w('DateLet')),
  };
}

/** Customer (receivable) accounts: class 411. */
export const isReceivable = (account: string) => account.startsWith('411');
/** VAT collected: 4457x. */
export const isVatCollected = (account: string) => account.startsWith('4457');
/** Sales and other revenue: class 7. */
export const isRevenue = (account: string) => account.startsWith('7');
