/**
 * EPC069-12 "SEPA credit transfer QR code" payload: the text a banking app scans straight into a
 * transfer. Pure: builds and validates the payload only; drawing the QR code (ECC level M, version
 * ≤ 13) is the documents layer's job.
 *
 * Layout (one element per line, LF separated, no separator after the last populated element):
 *  1 "BCD" · 2 version "002" (or "001") · 3 charset "1" (UTF-8) · 4 "SCT" · 5 BIC (optional in 002)
 *  6 beneficiary name ≤ 70 · 7 IBAN · 8 "EUR" + amount, e.g. "EUR412.43" · 9 purpose code ≤ 4
 *  10 structured reference (ISO 11649 RF) ≤ 35 OR 11 unstructured remittance text ≤ 140, never both
 *  12 beneficiary-to-originator information ≤ 70. Whole payload ≤ 331 bytes.
 */
import { validation } from '../errors.ts';
import { isValidCreditorReference, isValidIban, normaliseIban } from './identifiers.ts';
import { type Minor, toDecimalString } from './money.ts';

export interface EpcInput {
  /** "002" by default: BIC optional inside the EEA. "001" requires the BIC. */
  version?: '001' | '002';
  bic?: string | null;
  /** Beneficiary name as the bank knows it. */
  name: string;
  iban: string;
  /** Amount in euro cents; omitted leaves the amount for the payer to type. */
  amountMinor?: Minor | null;
  currency?: string;
  /** ISO 20022 purpose code, 4 letters (e.g. "SUPP"); rarely used. */
  purpose?: string | null;
  /** ISO 11649 creditor reference "RF..", the form bank matching reads back. */
  reference?: string | null;
  /** Unstructured remittance information, when there is no RF reference. */
  text?: string | null;
  /** Beneficiary-to-originator information, shown by some apps, not transmitted. */
  information?: string | null;
}

export const EPC_MAX_BYTES = 331;
const MAX_MINOR = 99_999_999_999n; // 999 999 999.99
const BIC_RE = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

function field(name: string) {
  return { field: `epc.${name}` };
}

/** Characters a QR-reading app would take for a line break or choke on. */
function checkLine(value: string, name: string, max: number): string {
  if (/[\r\n]/.test(value)) throw validation(`${name} must not contain a line break`, field(name));
  if ([...value].length > max) throw validation(`${name} is ${[...value].length} characters, the EPC QR code allows ${max}`, field(name));
  return value;
}

/** The payload text; throws a validation error naming the EPC field at fault. */
export function epcPayload(input: EpcInput): string {
  const version = input.version ?? '002';
  if (version !== '001' && version !== '002') throw validation(`version must be "001" or "002", got "${version}"`, field('version'));

  const bic = (input.bic ?? '').replace(/\s/g, '').toUpperCase();
  if (bic === '' && version === '001') throw validation('BIC is mandatory in version 001', field('bic'));
  if (bic !== '' && !BIC_RE.test(bic)) throw validation(`"${input.bic}" is not a BIC (8 or 11 characters)`, field('bic'));

  const name = checkLine((input.name ?? '').trim(), 'name', 70);
  if (name === '') throw validation('beneficiary name is required', field('name'));

  const iban = normaliseIban(input.iban ?? '');
  if (!isValidIban(iban)) throw validation(`"${input.iban}" is not a valid IBAN`, field('iban'));
  if (iban.length > 34) throw validation('IBAN is longer than 34 characters', field('iban'));

  const currency = input.currency ?? 'EUR';
  if (currency !== 'EUR') throw validation(`the EPC QR code carries euro amounts only, got ${currency}`, field('amount'));
  let amount = '';
  if (input.amountMinor !== undefined && input.amountMinor !== null) {
    if (input.amountMinor < 1n || input.amountMinor > MAX_MINOR) {
      throw validation('amount must be between 0.01 and 999999999.99 EUR', field('amount'));
    }
    amount = `EUR${toDecimalString(input.amountMinor, 'EUR')}`;
  }

  const purpose = (input.purpose ?? '').trim();
  if (purpose !== '' && !/^[A-Z0-9]{1,4}$/.test(purpose)) throw validation(`purpose "${purpose}" must be an ISO 20022 code of up to 4 characters`, field('purpose'));

  const reference = (input.reference ?? '').replace(/\s/g, '').toUpperCase();
  const text = checkLine((input.text ?? '').trim(), 'text', 140);
  if (reference !== '' && text !== '') throw validation('give either a structured RF reference or a remittance text, not both', field('reference'));
  if (reference !== '') {
    if (reference.length > 35) throw validation('reference is longer than 35 characters', field('reference'));
    if (!isValidCreditorReference(reference)) throw validation(`"${input.reference}" is not a valid ISO 11649 RF creditor reference`, field('reference'));
  }
  const information = checkLine((input.information ?? '').trim(), 'information', 70);

  const lines = ['BCD', version, '1', 'SCT', bic, name, iban, amount, purpose, reference, text, information];
  // Trailing empty elements are dropped: the last populated element ends the payload.
  while (lines.length > 7 && lines[lines.length - 1] === '') lines.pop();
  const payload = lines.join('\n');
  const bytes = new TextEncoder().encode(payload).length;
  if (bytes > EPC_MAX_BYTES) throw validation(`payload is ${bytes} bytes, the EPC QR code allows ${EPC_MAX_BYTES}`, field('payload'));
  return payload;
}
