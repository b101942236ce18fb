/**
 * A customer's credit policy (pure): credit limit, payment terms, deposit, early-payment discount
 * and risk class; how its exposure compares with the limit. Rates are basis points (1 % = 100):
 * typed as decimal percentages ("2", "1.5"), never held in a float.
 */
import { validation } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';
import { amountInRange, type Minor } from './money.ts';

const E = defineErrors('credit-policy', {
  percent: { fr: "{field} : « {value} » n’est pas un pourcentage (ex. 30 ou 1,5)", en: "{field}: \"{value}\" is not a percentage (e.g. 30 or 1.5)" },
  percent_range: { fr: "{field} doit être compris entre {min} % et {max} %", en: "{field} must be between {min} % and {max} %" },
  discount_days: { fr: "le délai de l’escompte doit être un nombre de jours entre 0 et 365", en: "the discount period must be a number of days from 0 to 365" },
  discount_after_terms: { fr: "l’escompte doit s’obtenir avant l’échéance ({days} jours)", en: "the discount must be earned before the due date ({days} days)" },
  risk_class: { fr: "classe de risque inconnue « {value} » (low, medium ou high)", en: "unknown risk class \"{value}\" (low, medium or high)" },
  credit_limit: { fr: "l’encours autorisé doit être positif ou nul et au plus 100 milliards", en: "the credit limit must be zero or more and at most 100 billion" },
});

export const RISK_CLASSES = ['low', 'medium', 'high'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];
/** What may trigger a stricter scenario: being over the limit, or a risk class. */
export const POLICY_TRIGGERS = ['over_limit', 'medium', 'high'] as const;
export type PolicyTrigger = (typeof POLICY_TRIGGERS)[number];

export interface EarlyDiscount {
  /** Basis points: 200 = 2 %. */
  bp: number;
  /** Paid within this many days of the issue date. */
  withinDays: number;
}

export interface CreditPolicy {
  creditLimitMinor: Minor | null;
  paymentTermsDays: number;
  depositBp: number | null;
  earlyDiscount: EarlyDiscount | null;
  riskClass: RiskClass | null;
}

/** "30", "1.5", "1,5", "2 %" → basis points; refuses more than two decimals. */
export function parsePercent(text: string | number, field: string, maxPercent = 100): number {
  const s = String(text).trim().replace(/\s*%$/, '').replace(',', '.');
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) throw validation(E('percent', { field, value: String(text) }), { field });
  const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (bp > maxPercent * 100) throw validation(E('percent_range', { field, min: 0, max: maxPercent }), { field });
  return bp;
}

/** Basis points as the percentage people type back: 150 → "1.5". */
export function formatPercent(bp: number, lang: Lang = 'en'): string {
  const whole = Math.trunc(bp / 100);
  const frac = String(bp % 100).padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}${lang === 'fr' ? ',' : '.'}${frac}` : String(whole);
}

/** Checks a policy as it will be stored; every error names the field. */
export function validateCreditPolicy(p: CreditPolicy): CreditPolicy {
  if (p.creditLimitMinor !== null && (p.creditLimitMinor < 0n || !amountInRange(p.creditLimitMinor))) throw validation(E('credit_limit'), { field: 'creditLimit' });
  if (p.depositBp !== null && (p.depositBp < 0 || p.depositBp > 10_000)) throw validation(E('percent_range', { field: 'depositPercent', min: 0, max: 100 }), { field: 'depositPercent' });
  if (p.earlyDiscount) {
    const { bp, withinDays } = p.earlyDiscount;
    if (bp < 1 || bp > 5_000) throw validation(E('percent_range', { field: 'earlyPaymentDiscount.percent', min: '0,01', max: 50 }), { field: 'earlyPaymentDiscount.percent' });
    if (!Number.isInteger(withinDays) || withinDays < 0 || withinDays > 365) throw validation(E('discount_days'), { field: 'earlyPaymentDiscount.withinDays' });
    if (withinDays >= p.paymentTermsDays && p.paymentTermsDays > 0) {
      throw validation(E('discount_after_terms', { days: p.paymentTermsDays }), { field: 'earlyPaymentDiscount.withinDays' });
    }
  }
  if (p.riskClass !== null && !(RISK_CLASSES as readonly string[]).includes(p.riskClass)) throw validation(E('risk_class', { value: String(p.riskClass) }), { field: 'riskClass' });
  return p;
}

export function parseRiskClass(v: string | null | undefined, field = 'riskClass'): RiskClass | null {
  if (v === null || v === undefined || v === '' || v === 'none') return null;
  if (!(RISK_CLASSES as readonly string[]).includes(v)) throw validation(E('risk_class', { value: v }), { field });
  return v as RiskClass;
}

export interface Exposure {
  openMinor: Minor;
  ordersMinor: Minor;
  exposureMinor: Minor;
  limitMinor: Minor | null;
  /** Limit minus exposure; negative when over. Null without a limit. */
  headroomMinor: Minor | null;
  overLimit: boolean;
}

/** Exposure = open receivables + orders announced and not invoiced; over the limit when strictly above it. */
export function exposureOf(openMinor: Minor, ordersMinor: Minor, limitMinor: Minor | null): Exposure {
  const exposureMinor = openMinor + ordersMinor;
  return {
    openMinor,
    ordersMinor,
    exposureMinor,
    limitMinor,
    headroomMinor: limitMinor === null ? null : limitMinor - exposureMinor,
    overLimit: limitMinor !== null && exposureMinor > limitMinor,
  };
}

const M = defineMessages({
  low: { fr: 'faible', en: 'low' },
  medium: { fr: 'moyen', en: 'medium' },
  high: { fr: 'élevé', en: 'high' },
  over_limit: { fr: 'au-delà de l’encours autorisé', en: 'over the credit limit' },
  discount: { fr: '{percent} % d’escompte pour paiement sous {days} jours', en: '{percent} % discount if paid within {days} days' },
});

export function riskClassLabel(c: RiskClass | PolicyTrigger, lang: Lang): string {
  return t(M, lang, c);
}

export function discountLabel(d: EarlyDiscount, lang: Lang): string {
  return t(M, lang, 'discount', { percent: formatPercent(d.bp, lang), days: d.withinDays });
}
