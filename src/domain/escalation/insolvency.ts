/**
 * Collective proceedings against a debtor (pure): the deadline to declare a claim, and the VAT
 * figures of a bad debt written off.
 *
 * The deadline rule is data with its source, not a constant (docs/law.md §8): it ships as read in
 * the Code de commerce, R622-24 — two months from the publication of the opening judgment in the
 * BODACC, plus two months for a creditor who does not live in metropolitan France — marked
 * unverified (`verified: false`) until counsel checks it,
 * and an organisation can override both figures (escalation settings). The same two-month period
 * applies to receivership (R631-7 refers to it) and liquidation (R641-25). The deadline is the same
 * day of the month (CPC 641), not moved to the next working day: an earlier date is the safe one.
 */
import { addMonths, type CalendarDate } from '../dates.ts';
import { divRoundHalfUp, type Minor } from '../money.ts';

export const PROCEEDING_KINDS = ['safeguard', 'receivership', 'liquidation'] as const;
export type ProceedingKind = (typeof PROCEEDING_KINDS)[number];

export interface ClaimDeclarationRule {
  /** Months from the publication of the judgment. */
  months: number;
  /** Months added for a creditor outside metropolitan France. */
  abroadExtraMonths: number;
  source: string;
  /** False: not checked against the text in force (docs/law.md §8); to be checked by the organisation's counsel. */
  verified: boolean;
}

export const CLAIM_DECLARATION_RULE_FR: ClaimDeclarationRule = {
  months: 2,
  abroadExtraMonths: 2,
  source: 'C. com. R622-24 (R631-7, R641-25)',
  verified: false,
};

export interface ClaimDeclarationOverride {
  months?: number;
  abroadExtraMonths?: number;
}

/** The rule in force for an organisation: the shipped one, with its override (then "configured"). */
export function claimDeclarationRule(override: ClaimDeclarationOverride | null | undefined): ClaimDeclarationRule {
  if (!override || (override.months === undefined && override.abroadExtraMonths === undefined)) return CLAIM_DECLARATION_RULE_FR;
  return {
    months: override.months ?? CLAIM_DECLARATION_RULE_FR.months,
    abroadExtraMonths: override.abroadExtraMonths ?? CLAIM_DECLARATION_RULE_FR.abroadExtraMonths,
    source: `configured by the organisation (shipped: ${CLAIM_DECLARATION_RULE_FR.source})`,
    verified: false,
  };
}

/** The last day to declare the claim, from the publication date. */
export function claimDeclarationDeadline(publishedOn: CalendarDate, creditorAbroad: boolean, rule: ClaimDeclarationRule = CLAIM_DECLARATION_RULE_FR): CalendarDate {
  return addMonths(publishedOn, rule.months + (creditorAbroad ? rule.abroadExtraMonths : 0));
}

/**
 * Whether a creditor counts as "not living in metropolitan France": its country is not France.
 * (An overseas creditor registered in France with country FR is not told apart: the organisation
 * says so when recording the proceeding.)
 */
export const creditorAbroadByCountry = (country: string) => country.toUpperCase() !== 'FR';

export interface BadDebtVatLine {
  invoiceNumber: string;
  /** Written off, tax included. */
  writtenOffMinor: Minor;
  /** The VAT inside the written-off part, pro rata of the invoice's own tax. */
  vatMinor: Minor;
  exclTaxMinor: Minor;
  /** The invoice's VAT rate as its amounts imply, in basis points (2000 = 20 %), or null without tax. */
  impliedRateBp: number | null;
}

/**
 * The VAT figures of an invoice written off: the part of the tax inside what is lost, in the
 * invoice's own proportion (its total tax over its total, half-up). What the accountant may recover
 * and how (a corrective invoice, the VAT return line) is theirs to decide; these are the figures.
 */
export function badDebtVat(inv: { number: string; amountExclTaxMinor: Minor; amountInclTaxMinor: Minor }, writtenOffMinor: Minor): BadDebtVatLine {
  const tax = inv.amountInclTaxMinor - inv.amountExclTaxMinor;
  const vat = tax > 0n && inv.amountInclTaxMinor > 0n ? divRoundHalfUp(writtenOffMinor * tax, inv.amountInclTaxMinor) : 0n;
  const impliedRateBp = tax > 0n && inv.amountExclTaxMinor > 0n ? Number(divRoundHalfUp(tax * 10_000n, inv.amountExclTaxMinor)) : null;
  return { invoiceNumber: inv.number, writtenOffMinor, vatMinor: vat, exclTaxMinor: writtenOffMinor - vat, impliedRateBp };
}
