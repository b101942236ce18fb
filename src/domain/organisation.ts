/**
 * An organisation's identity and bank account, checked in one place for every way in: the CLI
 * (`relance org create|update`), the web app's settings and setup wizard, the demo and the bulk
 * loader all go through `createOrganisation`/`updateOrganisation` (src/ledger/repo.ts), which call
 * this. Errors name the field; values come back normalised (digits only, IBAN without spaces).
 */
import { validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { isValidIban, isValidSiren, isValidSiret, isValidVatNumber, normaliseDigits, normaliseIban, normaliseVat } from './identifiers.ts';
import { assertCurrency } from './money.ts';

const E = defineErrors('organisation', {
  legal_name: { fr: "la raison sociale est obligatoire", en: "the legal name is required" },
  too_long: { fr: "{field} : {max} caractères au plus", en: "{field}: at most {max} characters" },
  siren: { fr: "« {value} » n’est pas un SIREN valide (9 chiffres, clé de Luhn)", en: "\"{value}\" is not a valid SIREN (9 digits with a Luhn check digit)" },
  siret: { fr: "« {value} » n’est pas un SIRET valide (14 chiffres, clé de Luhn)", en: "\"{value}\" is not a valid SIRET (14 digits with a Luhn check digit)" },
  siret_siren: { fr: "le SIRET {siret} n’appartient pas au SIREN {siren} (ses 9 premiers chiffres)", en: "SIRET {siret} does not belong to SIREN {siren} (its first 9 digits)" },
  vat: { fr: "« {value} » n’est pas un numéro de TVA intracommunautaire valide (ex. FR40303265045)", en: "\"{value}\" is not a valid EU VAT number (e.g. FR40303265045)" },
  vat_siren: { fr: "le numéro de TVA {vat} ne correspond pas au SIREN {siren}", en: "VAT number {vat} does not match SIREN {siren}" },
  iban: { fr: "« {value} » n’est pas un IBAN valide (clé de contrôle ou longueur)", en: "\"{value}\" is not a valid IBAN (check digits or length)" },
  bic: { fr: "« {value} » n’est pas un BIC valide (8 ou 11 caractères)", en: "\"{value}\" is not a valid BIC (8 or 11 characters)" },
  country: { fr: "le pays est un code à deux lettres (FR), pas « {value} »", en: "country is a two-letter code (FR), not \"{value}\"" },
  time_zone: { fr: "« {value} » n’est pas un fuseau horaire IANA (ex. Europe/Paris)", en: "\"{value}\" is not an IANA time zone (e.g. Europe/Paris)" },
  language: { fr: "la langue doit être fr ou en, pas « {value} »", en: "language must be fr or en, not \"{value}\"" },
});

export interface OrganisationFields {
  legalName: string;
  siren: string | null;
  siret: string | null;
  vatNumber: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  postalCode: string | null;
  city: string | null;
  country: string;
  iban: string | null;
  bic: string | null;
  timeZone: string;
  currency: string;
  language: 'fr' | 'en';
}

export type OrganisationPatch = { [K in keyof OrganisationFields]?: unknown };

const TEXT_LIMITS: Partial<Record<keyof OrganisationFields, number>> = { legalName: 200, addressLine1: 200, addressLine2: 200, postalCode: 16, city: 100 };

const text = (v: unknown) => (v === null || v === undefined ? null : String(v).trim() || null);

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks and normalises the fields given (all of them when creating: `current` null). `current`
 * is the organisation as stored, so that a SIRET or a VAT number is checked against the SIREN it
 * will sit next to. Returns only the fields given.
 */
export function checkOrganisation(patch: OrganisationPatch, current: Pick<OrganisationFields, 'siren'> | null): Partial<OrganisationFields> {
  const out: Partial<OrganisationFields> = {};
  const has = (k: keyof OrganisationFields) => k in patch && patch[k] !== undefined;
  if (current === null || has('legalName')) {
    const name = text(patch.legalName);
    if (!name) throw validation(E('legal_name'), { field: 'legalName' });
    out.legalName = name;
  }
  for (const k of ['addressLine1', 'addressLine2', 'postalCode', 'city'] as const) if (has(k)) out[k] = text(patch[k]);
  for (const [k, max] of Object.entries(TEXT_LIMITS) as [keyof OrganisationFields, number][]) {
    const v = out[k];
    if (typeof v === 'string' && v.length > max) throw validation(E('too_long', { field: k, max }), { field: k });
  }
  if (has('siren')) {
    const raw = text(patch.siren);
    out.siren = raw === null ? null : normaliseDigits(raw);
    if (raw !== null && !isValidSiren(raw)) throw validation(E('siren', { value: raw }), { field: 'siren' });
  }
  const siren = out.siren !== undefined ? out.siren : (current?.siren ?? null);
  if (has('siret')) {
    const raw = text(patch.siret);
    out.siret = raw === null ? null : normaliseDigits(raw);
    if (raw !== null && !isValidSiret(raw)) throw validation(E('siret', { value: raw }), { field: 'siret' });
    if (out.siret && siren && !out.siret.startsWith(siren)) throw validation(E('siret_siren', { siret: out.siret, siren }), { field: 'siret' });
  }
  if (has('vatNumber')) {
    const raw = text(patch.vatNumber);
    out.vatNumber = raw === null ? null : normaliseVat(raw);
    if (raw !== null && !isValidVatNumber(raw)) throw validation(E('vat', { value: raw }), { field: 'vatNumber' });
    if (out.vatNumber?.startsWith('FR') && siren && out.vatNumber.slice(4) !== siren) throw validation(E('vat_siren', { vat: out.vatNumber, siren }), { field: 'vatNumber' });
  }
  if (has('iban')) {
    const raw = text(patch.iban);
    out.iban = raw === null ? null : normaliseIban(raw);
    if (raw !== null && !isValidIban(raw)) throw validation(E('iban', { value: raw }), { field: 'iban' });
  }
  if (has('bic')) {
    const raw = text(patch.bic);
    out.bic = raw === null ? null : raw.replace(/\s/g, '').toUpperCase();
    if (out.bic !== null && !/^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(out.bic)) throw validation(E('bic', { value: raw! }), { field: 'bic' });
  }
  if (current === null || has('country')) {
    const v = (text(patch.country) ?? 'FR').toUpperCase();
    if (!/^[A-Z]{2}$/.test(v)) throw validation(E('country', { value: String(patch.country) }), { field: 'country' });
    out.country = v;
  }
  if (current === null || has('timeZone')) {
    const v = text(patch.timeZone) ?? 'Europe/Paris';
    if (!isTimeZone(v)) throw validation(E('time_zone', { value: v }), { field: 'timeZone' });
    out.timeZone = v;
  }
  if (current === null || has('currency')) {
    const v = (text(patch.currency) ?? 'EUR').toUpperCase();
    assertCurrency(v, { field: 'currency' });
    out.currency = v;
  }
  if (current === null || has('language')) {
    const v = text(patch.language) ?? 'fr';
    if (v !== 'fr' && v !== 'en') throw validation(E('language', { value: v }), { field: 'language' });
    out.language = v;
  }
  return out;
}
