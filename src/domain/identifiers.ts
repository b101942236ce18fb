/**
 * Check digits of the identifiers a French receivables ledger carries: SIREN/SIRET (Luhn),
 * intra-community VAT numbers, IBAN (ISO 13616 mod 97) and ISO 11649 "RF" creditor references.
 */

export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let total = 0;
  for (let i = 0; i < digits.length; i++) {
    let n = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    total += n;
  }
  return total % 10 === 0;
}

/** Luhn check digit to append to `body` so that the whole passes. */
export function luhnCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return String(d);
  throw new Error('unreachable');
}

export const normaliseDigits = (s: string) => s.replace(/[\s.\-\u00a0]/g, '');

export function isValidSiren(s: string): boolean {
  const d = normaliseDigits(s);
  return /^\d{9}$/.test(d) && luhnValid(d);
}

/** La Poste's establishments (SIREN 356000000) use a digit-sum rule instead of Luhn. */
export function isValidSiret(s: string): boolean {
  const d = normaliseDigits(s);
  if (!/^\d{14}$/.test(d)) return false;
  if (d.startsWith('356000000')) return [...d].reduce((a, c) => a + Number(c), 0) % 5 === 0;
  return luhnValid(d);
}

/** French VAT number from a SIREN: FR + key + SIREN, key = (12 + 3 × (SIREN mod 97)) mod 97. */
export function frenchVatFromSiren(siren: string): string {
  const d = normaliseDigits(siren);
  const key = (12 + 3 * (Number(d) % 97)) % 97;
  return `FR${String(key).padStart(2, '0')}${d}`;
}

/** mod 97 of a long alphanumeric string, letters A=10 ... Z=35, computed piecewise (no bigint needed). */
export function mod97(alnum: string): number {
  let rem = 0;
  for (const ch of alnum.toUpperCase()) {
    const code = ch.charCodeAt(0);
    if (code >= 48 && code <= 57) rem = (rem * 10 + (code - 48)) % 97;
    else if (code >= 65 && code <= 90) rem = (rem * 100 + (code - 55)) % 97;
    else return -1;
  }
  return rem;
}

export const normaliseIban = (s: string) => s.replace(/[\s-]/g, '').toUpperCase();

/** Expected IBAN length per country (ISO 13616 registry, the SEPA countries and a few neighbours). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AT: 20, BE: 16, BG: 22, CH: 21, CY: 28, CZ: 24, DE: 22, DK: 18, EE: 20, ES: 24, FI: 18,
  FR: 27, GB: 22, GI: 23, GR: 27, HR: 21, HU: 28, IE: 22, IS: 26, IT: 27, LI: 21, LT: 20, LU: 20,
  LV: 21, MC: 27, MT: 31, NL: 18, NO: 15, PL: 28, PT: 25, RO: 24, SE: 24, SI: 19, SK: 24, SM: 27,
  VA: 22, MA: 28, TN: 24,
};

export function isValidIban(s: string): boolean {
  const iban = normaliseIban(s);
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) return false;
  const len = IBAN_LENGTHS[iban.slice(0, 2)];
  if (len !== undefined && iban.length !== len) return false;
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

/** Build a valid IBAN from a country code and BBAN (computes the two check digits). */
export function ibanFromBban(country: string, bban: string): string {
  const check = 98 - mod97(`${bban}${country}00`);
  return `${country}${String(check).padStart(2, '0')}${bban}`;
}

/** French RIB key for bank/branch/account (used to build realistic French BBANs). */
export function ribKey(bank: string, branch: string, account: string): string {
  const conv = account.toUpperCase().replace(/[A-Z]/g, (c) => {
    const i = c.charCodeAt(0) - 65;
    return String('12345678912345678923456789'[i]);
  });
  const n = BigInt(bank) * 89n + BigInt(branch) * 15n + BigInt(conv) * 3n;
  return String(97n - (n % 97n)).padStart(2, '0');
}

/** ISO 11649 creditor reference: "RF" + 2 check digits + the reference (alphanumeric, ≤ 21 chars). */
export function creditorReference(reference: string): string {
  const ref = reference.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
  if (ref.length === 0 || ref.length > 21) throw new RangeError(`RF reference body must be 1-21 alphanumerics, got "${reference}"`);
  const check = 98 - mod97(`${ref}RF00`);
  return `RF${String(check).padStart(2, '0')}${ref}`;
}

export function isValidCreditorReference(s: string): boolean {
  const r = s.replace(/\s/g, '').toUpperCase();
  if (!/^RF\d{2}[A-Z0-9]{1,21}$/.test(r)) return false;
  return mod97(r.slice(4) + r.slice(0, 4)) === 1;
}

export const normaliseVat = (s: string) => s.replace(/[\s.\-\u00a0]/g, '').toUpperCase();

/**
 * Intra-community VAT number shapes by country prefix (EU member states, Greece as EL, Northern
 * Ireland as XI); France's key is checked against its SIREN, other countries by shape only.
 */
const VAT_SHAPES: Record<string, RegExp> = {
  AT: /^U\d{8}$/, BE: /^[01]\d{9}$/, BG: /^\d{9,10}$/, CY: /^\d{8}[A-Z]$/, CZ: /^\d{8,10}$/, DE: /^\d{9}$/, DK: /^\d{8}$/,
  EE: /^\d{9}$/, EL: /^\d{9}$/, ES: /^[A-Z0-9]\d{7}[A-Z0-9]$/, FI: /^\d{8}$/, FR: /^[0-9A-HJ-NP-Z]{2}\d{9}$/, HR: /^\d{11}$/,
  HU: /^\d{8}$/, IE: /^\d{7}[A-W][A-I]?$|^\d[A-Z+*]\d{5}[A-W]$/, IT: /^\d{11}$/, LT: /^\d{9}$|^\d{12}$/, LU: /^\d{8}$/,
  LV: /^\d{11}$/, MT: /^\d{8}$/, NL: /^\d{9}B\d{2}$/, PL: /^\d{10}$/, PT: /^\d{9}$/, RO: /^\d{2,10}$/, SE: /^\d{12}$/,
  SI: /^\d{8}$/, SK: /^\d{10}$/, XI: /^\d{9}$|^\d{12}$|^GD\d{3}$|^HA\d{3}$/,
};

export function isValidVatNumber(s: string): boolean {
  const v = normaliseVat(s);
  const shape = VAT_SHAPES[v.slice(0, 2)];
  if (!shape?.test(v.slice(2))) return false;
  // A French key of two digits is computed from the SIREN (letters: the newer scheme, shape only).
  if (v.startsWith('FR') && /^\d{2}$/.test(v.slice(2, 4))) return frenchVatFromSiren(v.slice(4)) === v;
  return true;
}
