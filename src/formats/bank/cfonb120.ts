/**
 * CFONB 120 ("relevé de compte 120 caractères"), the French banks' statement format. Records of
 * 120 characters: 01 old balance, 04 movement, 05 complement of the movement before it, 07 new
 * balance. Files come with CRLF, LF, blank lines between records, or no line breaks at all.
 * Positions as in docs/formats.md §1, CFONB 120 (1-based, inclusive).
 */
import { isCalendarDate, type CalendarDate } from '../../domain/dates.ts';
import { ibanFromBban, isValidCreditorReference, ribKey } from '../../domain/identifiers.ts';
import { amountInRange, currencyExponent, type Minor, moneyText, tooLargeText } from '../../domain/money.ts';
import { type BankLine, type BankStatement, cleanText, joinText, type ParsedBankFile, type ParseOptions, parseError } from './types.ts';
import { defineErrors, type Text } from '../../i18n/index.ts';
import { decodeText } from '../csv-sniff.ts';

const E = defineErrors('bank-cfonb120', {
  record_length: { fr: "l’enregistrement fait {length} caractères ; un enregistrement CFONB 120 en fait 120 (ou un multiple de 120 sans saut de ligne)", en: "record is {length} characters long; CFONB 120 records are 120 characters (or a multiple of 120 without line breaks)" },
  not_a_date: { fr: "{what} « {value} » n’est pas une date (JJMMAA attendu)", en: "{what} \"{value}\" is not a date (JJMMAA expected)" },
  invalid_date: { fr: "{what} « {value} » n’est pas une date valide", en: "{what} \"{value}\" is not a valid date" },
  amount_not_numeric: { fr: "le montant « {zone} » n’est pas numérique (positions 91 à 104)", en: "amount \"{zone}\" is not numeric (positions 91-104)" },
  amount_sign: { fr: "le montant « {zone} » ne se termine pas par un caractère de signe CFONB ({, A-I, }, J-R)", en: "amount \"{zone}\" does not end with a CFONB sign character ({, A-I, }, J-R)" },
  amount_decimals: { fr: "le montant « {zone} » a {decimals} décimales, plus que n’en admet {currency}", en: "amount \"{zone}\" has {decimals} decimals, more than {currency} allows" },
  currency: { fr: "la devise « {currency} » n’est pas un code ISO 4217 (positions 17 à 19)", en: "currency \"{currency}\" is not an ISO 4217 code (positions 17-19)" },
  decimals: { fr: "le nombre de décimales « {dec} » doit être un chiffre de 0 à 3 (position 20)", en: "number of decimals \"{dec}\" must be a digit 0-3 (position 20)" },
  no_record: { fr: "le fichier ne contient aucun enregistrement CFONB 120", en: "the file holds no CFONB 120 record" },
  statement_not_closed: { fr: "nouveau relevé (01) avant la clôture du précédent par un enregistrement 07", en: "new statement (01) before the previous one was closed by a 07 record" },
  movement_outside: { fr: "mouvement (04) hors relevé : aucun enregistrement d’ancien solde (01) avant lui", en: "movement (04) outside a statement: no old-balance record (01) before it" },
  movement_currency: { fr: "mouvement en {currency} dans un relevé en {statementCurrency}", en: "movement in {currency} inside a {statementCurrency} statement" },
  complement_outside: { fr: "complément (05) sans mouvement (04) avant lui", en: "complement (05) without a movement (04) before it" },
  balance_outside: { fr: "nouveau solde (07) hors relevé : aucun enregistrement d’ancien solde (01) avant lui", en: "new balance (07) outside a statement: no old-balance record (01) before it" },
  balance_mismatch: { fr: "le nouveau solde {amount} diffère de l’ancien solde augmenté des mouvements, {expected} : le relevé est incomplet", en: "new balance {amount} differs from old balance + movements {expected}: the statement is incomplete" },
  unknown_record: { fr: "code d’enregistrement inconnu « {code} » (01, 04, 05 ou 07 attendu)", en: "unknown record code \"{code}\" (expected 01, 04, 05 or 07)" },
  truncated: { fr: "le dernier relevé n’a pas d’enregistrement de nouveau solde (07) : le fichier est tronqué", en: "the last statement has no new-balance record (07): the file is truncated" },
});

const W2 = defineErrors('bank-cfonb120-warnings', {
  blank_currency: { fr: "ligne {line} : l’ancien solde (01) n’indique pas sa devise : {currency}, celle du relevé, est prise", en: "line {line}: the old balance (01) gives no currency: {currency}, the statement's, is used" },
});

const RECORD = 120;

/** 1-based inclusive slice, as the CFONB specification numbers its positions. */
const pos = (rec: string, from: number, to: number) => rec.slice(from - 1, to);

interface PhysicalRecord {
  text: string;
  line: number;
}

/** Splits into 120-character records, keeping the physical line number for error messages. */
function records(content: string, filename: string | undefined): PhysicalRecord[] {
  const out: PhysicalRecord[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    if (raw.length > RECORD) {
      // A file without line breaks is one long line of back-to-back records; the last one may
      // have lost its trailing blanks. Each piece must start with a record code, or the cut is wrong.
      for (let k = 0; k < raw.length; k += RECORD) {
        const piece = raw.slice(k, k + RECORD);
        if (!/^\d{2}/.test(piece) || (piece.length < RECORD && k + RECORD < raw.length)) {
          throw parseError(E('record_length', { length: raw.length }), { file: filename, line });
        }
        out.push({ text: piece.padEnd(RECORD, ' '), line });
      }
      return;
    }
    // Trailing spaces are often trimmed by editors and transfer tools: the blank zone is restored.
    out.push({ text: raw.padEnd(RECORD, ' '), line });
  });
  return out;
}

/** JJMMAA -> calendar date; the two-digit year pivots at 80 (1980-2079). */
const W = defineErrors('bank-cfonb120-dates', {
  old_balance: { fr: 'la date d’ancien solde', en: 'old balance date' },
  booking: { fr: 'la date d’opération', en: 'booking date' },
  value: { fr: 'la date de valeur', en: 'value date' },
  new_balance: { fr: 'la date de nouveau solde', en: 'new balance date' },
});
type DateWhat = Parameters<typeof W>[0];

function date6(s: string, what: DateWhat, where: { file?: string; line: number }): CalendarDate {
  if (!/^\d{6}$/.test(s)) throw parseError(E('not_a_date', { what: W(what), value: s }), where);
  const yy = Number(s.slice(4, 6));
  const iso = `${yy < 80 ? 2000 + yy : 1900 + yy}-${s.slice(2, 4)}-${s.slice(0, 2)}`;
  if (!isCalendarDate(iso)) throw parseError(E('invalid_date', { what: W(what), value: s }), where);
  return iso as CalendarDate;
}

const POSITIVE = '{ABCDEFGHI';
const NEGATIVE = '}JKLMNOPQR';

/**
 * A CFONB amount: 13 digits and a last character carrying both the sign and the last digit
 * ("{" = +0, A-I = +1..9, "}" = -0, J-R = -1..9), with `decimals` implied decimals.
 */
export function cfonbAmount(zone: string, decimals: number, currency: string, where: { file?: string; line: number }): Minor {
  const body = zone.slice(0, -1);
  const last = zone.slice(-1);
  if (!/^\d+$/.test(body)) throw parseError(E('amount_not_numeric', { zone }), where);
  let digit = POSITIVE.indexOf(last);
  let sign = 1n;
  if (digit < 0) {
    digit = NEGATIVE.indexOf(last);
    sign = -1n;
  }
  if (digit < 0) throw parseError(E('amount_sign', { zone }), where);
  const raw = BigInt(body + String(digit));
  const exp = currencyExponent(currency);
  let minor: bigint;
  if (decimals === exp) minor = raw;
  else if (decimals < exp) minor = raw * 10n ** BigInt(exp - decimals);
  else {
    const f = 10n ** BigInt(decimals - exp);
    if (raw % f !== 0n) throw parseError(E('amount_decimals', { zone, decimals, currency }), where);
    minor = raw / f;
  }
  if (!amountInRange(minor)) throw parseError(tooLargeText(zone, currency), where);
  return sign * minor;
}

interface Header {
  bank: string;
  branch: string;
  currency: string;
  decimals: number;
  account: string;
}

/**
 * The account zone of a record. Some banks leave the currency and decimals of the old-balance
 * record blank (`blankCurrency`): they are then those of the statement's next record.
 */
function header(rec: string, where: { file?: string; line: number }, blankCurrency = false): Header {
  const currency = pos(rec, 17, 19);
  const dec = pos(rec, 20, 20);
  const h = { bank: pos(rec, 3, 7), branch: pos(rec, 12, 16), currency, decimals: Number(dec), account: pos(rec, 22, 32).trim() };
  if (blankCurrency && currency.trim() === '' && dec.trim() === '') return { ...h, currency: '', decimals: -1 };
  if (!/^[A-Z]{3}$/.test(currency)) throw parseError(E('currency', { currency }), where);
  if (!/^[0-3]$/.test(dec)) throw parseError(E('decimals', { dec }), where);
  return h;
}

/** French IBAN from the RIB parts, when they are well formed (the account may hold letters). */
function ibanOf(h: Header): string | null {
  if (!/^\d{5}$/.test(h.bank) || !/^\d{5}$/.test(h.branch) || !/^[0-9A-Z]{11}$/.test(h.account)) return null;
  return ibanFromBban('FR', `${h.bank}${h.branch}${h.account}${ribKey(h.bank, h.branch, h.account)}`);
}

interface OpenMovement {
  line: BankLine;
  lib: string[];
  refs: string[];
  recordLine: number;
}

/**
 * Complement qualifiers (positions 46-48) the engine reads. Others (MMO amounts in another
 * currency, bank-specific codes) are not needed to match a payment and are left out.
 */
function applyComplement(m: OpenMovement, qualifier: string, zone: string): void {
  const text = cleanText(zone) ?? '';
  switch (qualifier) {
    case 'LIB':
    case 'LCC':
    case 'LC2':
      m.lib.push(text);
      break;
    case 'NPY': // payer name: the counterparty of a credit
      if (m.line.amountMinor >= 0n || !m.line.counterpartyName) m.line.counterpartyName = text;
      break;
    case 'NBE': // beneficiary name: the counterparty of a debit
      if (m.line.amountMinor < 0n || !m.line.counterpartyName) m.line.counterpartyName = text;
      break;
    case 'RCN': {
      // Zone 49-83 is the payer's reference (SEPA EndToEndId), 84-118 the purpose.
      const ref = cleanText(zone.slice(0, 35));
      const purpose = cleanText(zone.slice(35));
      if (ref && isValidCreditorReference(ref)) m.line.creditorReference = ref.replace(/\s/g, '').toUpperCase();
      else if (ref) m.line.endToEndId = ref;
      if (purpose) m.lib.push(purpose);
      break;
    }
    case 'REF':
      m.refs.push(text);
      break;
    default:
      break;
  }
}

export function parseCfonb120(input: Buffer | string, opts: ParseOptions = {}): ParsedBankFile {
  const file = opts.filename;
  // CFONB is specified in ASCII; banks write accents in Latin-1, some in UTF-8 (decoded as such,
  // positions then count characters).
  const content = typeof input === 'string' ? input : decodeText(input, { eightBit: 'latin1', file });
  const recs = records(content, file);
  if (recs.length === 0) throw parseError(E('no_record'), { file, line: 1 });

  const statements: BankStatement[] = [];
  const warnings: Text[] = [];
  let current: (BankStatement & { head: Header; sum: Minor; pendingOpening?: { zone: string; where: { file?: string; line: number } } }) | null = null;
  /** An old balance written without its currency takes the currency of the statement's next record. */
  const settleHead = (h: Header) => {
    if (!current?.pendingOpening) return;
    const { zone, where } = current.pendingOpening;
    current.head = { ...current.head, currency: h.currency, decimals: h.decimals };
    current.currency = h.currency;
    current.openingBalance!.amountMinor = cfonbAmount(zone, h.decimals, h.currency, where);
    current.pendingOpening = undefined;
    warnings.push(W2('blank_currency', { line: where.line, currency: h.currency }));
  };
  let movement: OpenMovement | null = null;

  const closeMovement = () => {
    if (!movement || !current) return;
    const m = movement;
    m.line.remittanceText = joinText(m.lib);
    m.line.bankReference = joinText([m.line.bankReference, ...m.refs], ' / ');
    current.lines.push(m.line);
    movement = null;
  };

  for (const r of recs) {
    const where = { file, line: r.line };
    const code = pos(r.text, 1, 2);
    switch (code) {
      case '01': {
        closeMovement();
        if (current) throw parseError(E('statement_not_closed'), where);
        const h = header(r.text, where, true);
        const date = date6(pos(r.text, 35, 40), 'old_balance', where);
        const pending = h.decimals < 0;
        const amount = pending ? 0n : cfonbAmount(pos(r.text, 91, 104), h.decimals, h.currency, where);
        current = {
          ...(pending ? { pendingOpening: { zone: pos(r.text, 91, 104), where } } : {}),
          id: null,
          accountIban: ibanOf(h),
          accountNumber: h.account,
          currency: h.currency,
          openingBalance: { amountMinor: amount, date },
          closingBalance: null,
          lines: [],
          head: h,
          sum: 0n,
        };
        break;
      }
      case '04': {
        closeMovement();
        if (!current) throw parseError(E('movement_outside'), where);
        const h = header(r.text, where);
        settleHead(h);
        if (h.currency !== current.head.currency) {
          throw parseError(E('movement_currency', { currency: h.currency, statementCurrency: current.head.currency }), where);
        }
        const bookingDate = date6(pos(r.text, 35, 40), 'booking', where);
        const vd = pos(r.text, 43, 48);
        const valueDate = vd.trim() === '' ? null : date6(vd, 'value', where);
        const amount = cfonbAmount(pos(r.text, 91, 104), h.decimals, h.currency, where);
        current.sum += amount;
        const entryNo = pos(r.text, 82, 88).trim();
        movement = {
          line: {
            bookingDate,
            valueDate,
            amountMinor: amount,
            currency: h.currency,
            counterpartyName: null,
            counterpartyIban: null,
            remittanceText: null,
            creditorReference: null,
            label: cleanText(pos(r.text, 49, 79)),
            entryReference: null,
            endToEndId: null,
            bankReference: joinText([pos(r.text, 105, 120), /^0*$/.test(entryNo) ? null : `#${entryNo}`], ' '),
            transactionCode: cleanText(pos(r.text, 33, 34)),
            reversal: false,
            accountIban: current.accountIban,
            accountNumber: current.accountNumber,
            source: { line: r.line },
          },
          lib: [],
          refs: [],
          recordLine: r.line,
        };
        break;
      }
      case '05': {
        if (!movement) throw parseError(E('complement_outside'), where);
        applyComplement(movement, pos(r.text, 46, 48).trim(), pos(r.text, 49, 118));
        break;
      }
      case '07': {
        closeMovement();
        if (!current) throw parseError(E('balance_outside'), where);
        const h = header(r.text, where);
        settleHead(h);
        const date = date6(pos(r.text, 35, 40), 'new_balance', where);
        const amount = cfonbAmount(pos(r.text, 91, 104), h.decimals, current.head.currency, where);
        // The movements must account exactly for the change of balance: a mismatch means a
        // record was lost or altered on the way, and importing the rest would hide it.
        const expected = current.openingBalance!.amountMinor + current.sum;
        if (expected !== amount) {
          throw parseError(
            E('balance_mismatch', { amount: moneyText(amount, current.head.currency), expected: moneyText(expected, current.head.currency) }),
            where,
          );
        }
        current.closingBalance = { amountMinor: amount, date };
        const { head: _h, sum: _s, pendingOpening: _p, ...stmt } = current;
        statements.push(stmt);
        current = null;
        break;
      }
      default:
        throw parseError(E('unknown_record', { code }), where);
    }
  }
  closeMovement();
  if (current) throw parseError(E('truncated'), { file, line: recs.at(-1)!.line });
  return { format: 'cfonb120', version: null, statements, warnings };
}
