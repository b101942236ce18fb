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
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('epc-qr', {
  line_break: { fr: "{name} ne doit pas contenir de saut de ligne", en: "{name} must not contain a line break" },
  too_long: { fr: "{name} fait {length} caractères, le QR code EPC en admet {max}", en: "{name} is {length} characters, the EPC QR code allows {max}" },
  version: { fr: "la version doit être « 001 » ou « 002 », reçu « {version} »", en: "version must be \"001\" or \"002\", got \"{version}\"" },
  bic_required: { fr: "le BIC est obligatoire en version 001", en: "BIC is mandatory in version 001" },
  bic: { fr: "« {bic} » n’est pas un BIC (8 ou 11 caractères)", en: "\"{bic}\" is not a BIC (8 or 11 characters)" },
  name: { fr: "le nom du bénéficiaire est obligatoire", en: "beneficiary name is required" },
  iban: { fr: "« {iban} » n’est pas un IBAN valide", en: "\"{iban}\" is not a valid IBAN" },
  iban_length: { fr: "l’IBAN dépasse 34 caractères", en: "IBAN is longer than 34 characters" },
  euro: { fr: "le QR code EPC ne porte que des montants en euros, reçu {currency}", en: "the EPC QR code carries euro amounts only, got {currency}" },
  amount: { fr: "le montant doit être compris entre 0,01 et 999 999 999,99 EUR", en: "amount must be between 0.01 and 999999999.99 EUR" },
  purpose: { fr: "le code motif « {purpose} » doit être un code ISO 20022 de 4 caractères au plus", en: "purpose \"{purpose}\" must be an ISO 20022 code of up to 4 characters" },
  both: { fr: "indiquez soit une référence structurée RF, soit un libellé de virement, pas les deux", en: "give either a structured RF reference or a remittance text, not both" },
  reference_length: { fr: "la référence dépasse 35 caractères", en: "reference is longer than 35 characters" },
  reference: { fr: "« {reference} » n’est pas une référence créancier RF ISO 11649 valide", en: "\"{reference}\" is not a valid ISO 11649 RF creditor reference" },
  payload: { fr: "le contenu fait {bytes} octets, le QR code EPC en admet {max}", en: "payload is {bytes} bytes, the EPC QR code allows {max}" },
});

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
  if (/[\r\n]/.test(value)) throw validation(E('line_break', { name }), field(name));
  if ([...value].length > max) throw validation(E('too_long', { name, length: [...value].length, max }), field(name));
  return value;
}

/** The payload text; throws a validation error naming the EPC field at fault. */
export function epcPayload(input: EpcInput): string {
  const version = input.version ?? '002';
  if (version !== '001' && version !== '002') throw validation(E('version', { version }), field('version'));

  const bic = (input.bic ?? '').replace(/\s/g, '').toUpperCase();
  if (bic === '' && version === '001') throw validation(E('bic_required'), field('bic'));
  if (bic !== '' && !BIC_RE.test(bic)) throw validation(E('bic', { bic: String(input.bic) }), field('bic'));

  const name = checkLine((input.name ?? '').trim(), 'name', 70);
  if (name === '') throw validation(E('name'), field('name'));

  const iban = normaliseIban(input.iban ?? '');
  if (!isValidIban(iban)) throw validation(E('iban', { iban: input.iban }), field('iban'));
  if (iban.length > 34) throw validation(E('iban_length'), field('iban'));

  const currency = input.currency ?? 'EUR';
  if (currency !== 'EUR') throw validation(E('euro', { currency }), field('amount'));
  let amount = '';
  if (input.amountMinor !== undefined && input.amountMinor !== null) {
    if (input.amountMinor < 1n || input.amountMinor > MAX_MINOR) {
      throw validation(E('amount'), field('amount'));
    }
    amount = `EUR${toDecimalString(input.amountMinor, 'EUR')}`;
  }

  const purpose = (input.purpose ?? '').trim();
  if (purpose !== '' && !/^[A-Z0-9]{1,4}$/.test(purpose)) throw validation(E('purpose', { purpose }), field('purpose'));

  const reference = (input.reference ?? '').replace(/\s/g, '').toUpperCase();
  const text = checkLine((input.text ?? '').trim(), 'text', 140);
  if (reference !== '' && text !== '') throw validation(E('both'), field('reference'));
  if (reference !== '') {
    if (reference.length > 35) throw validation(E('reference_length'), field('reference'));
    if (!isValidCreditorReference(reference)) throw validation(E('reference', { reference: String(input.reference) }), field('reference'));
  }
  const information = checkLine((input.information ?? '').trim(), 'information', 70);

  const lines = ['BCD', version, '1', 'SCT', bic, name, iban, amount, purpose, reference, text, information];
  // Trailing empty elements are dropped: the last populated element ends the payload.
  while (lines.length > 7 && lines[lines.length - 1] === '') lines.pop();
  const payload = lines.join('\n');
  const bytes = new TextEncoder().encode(payload).length;
  if (bytes > EPC_MAX_BYTES) throw validation(E('payload', { bytes, max: EPC_MAX_BYTES }), field('payload'));
  return payload;
}
