/**
 * A customer's payment behaviour and risk score (pure). The behaviour is a handful of aggregates
 * over the customer's history (what the database computes set-based for every customer at once,
 * src/risk/behaviour.ts, or `behaviourOf` here from the raw facts); the score (0 = no concern,
 * 100 = the worst) is the sum of the points each finding adds, and each finding is a reason said in
 * words, French and English. The day of the computation is a parameter: no clock here.
 */
import { addDays, type CalendarDate, daysBetween } from './dates.ts';
import { defineMessages, type Lang, t } from '../i18n/index.ts';
import type { Minor } from './money.ts';

/** A settled or open invoice as the behaviour reads it. */
export interface InvoiceFact {
  amountMinor: Minor;
  dueDate: CalendarDate;
  /** The day the last payment settled it (null: not settled by `today`). */
  paidOn: CalendarDate | null;
  /** Still owed on `today` (0 when settled). */
  openMinor: Minor;
  /** Reminders (steps on or after the due date) sent before it was paid, or so far. */
  reminders: number;
}

export interface Behaviour {
  /**
   * Amount-weighted average days late of the invoices settled (all time, last 6 and 12 months by
   * payment day) and of what is owed past due now (days so far); null without any.
   */
  daysLate: { all: number | null; last6: number | null; last12: number | null };
  settledCount: number;
  /** Invoices settled with 0, 1, 2 and 3 or more reminders before the payment. */
  paidAfterReminders: [number, number, number, number];
  openMinor: Minor;
  overdueMinor: Minor;
  /** Owed for more than 90 days past the due date. */
  overdue90Minor: Minor;
  oldestDaysPastDue: number;
  promisesKept: number;
  promisesBroken: number;
  disputes: number;
  disputesOpen: number;
}

export function emptyBehaviour(): Behaviour {
  return {
    daysLate: { all: null, last6: null, last12: null },
    settledCount: 0,
    paidAfterReminders: [0, 0, 0, 0],
    openMinor: 0n,
    overdueMinor: 0n,
    overdue90Minor: 0n,
    oldestDaysPastDue: 0,
    promisesKept: 0,
    promisesBroken: 0,
    disputes: 0,
    disputesOpen: 0,
  };
}

/** Amount-weighted mean of days late (early counts as on time); one decimal. */
function weightedDays(items: { amountMinor: Minor; days: number }[]): number | null {
  let w = 0n;
  let s = 0n;
  for (const x of items) {
    w += x.amountMinor;
    s += x.amountMinor * BigInt(Math.max(0, x.days));
  }
  if (w === 0n) return null;
  // Tenths of a day, rounded half up, in integers.
  return Number((s * 20n + w) / (2n * w)) / 10;
}

/** The behaviour from the raw facts (the reference the SQL aggregate is checked against). */
export function behaviourOf(invoices: readonly InvoiceFact[], agreements: { promisesKept: number; promisesBroken: number; disputes: number; disputesOpen: number }, today: CalendarDate): Behaviour {
  const b = { ...emptyBehaviour(), ...agreements };
  const settled = invoices.filter((i) => i.paidOn !== null && i.paidOn <= today && i.openMinor === 0n);
  // What is still owed past its due date is late too, by the days counted so far: a customer who
  // stopped paying must not look punctual because nothing more was settled.
  const owed = invoices.filter((i) => i.openMinor > 0n && i.dueDate < today).map((i) => ({ amountMinor: i.openMinor, days: daysBetween(i.dueDate, today) }));
  const late = (since: CalendarDate | null) =>
    weightedDays([...settled.filter((i) => since === null || i.paidOn! > since).map((i) => ({ amountMinor: i.amountMinor, days: daysBetween(i.dueDate, i.paidOn!) })), ...owed]);
  b.daysLate = { all: late(null), last6: late(addDays(today, -182)), last12: late(addDays(today, -365)) };
  b.settledCount = settled.length;
  for (const i of settled) b.paidAfterReminders[Math.min(3, i.reminders) as 0 | 1 | 2 | 3]++;
  for (const i of invoices) {
    if (i.openMinor <= 0n) continue;
    b.openMinor += i.openMinor;
    const past = daysBetween(i.dueDate, today);
    if (past > 0) {
      b.overdueMinor += i.openMinor;
      b.oldestDaysPastDue = Math.max(b.oldestDaysPastDue, past);
    }
    if (past > 90) b.overdue90Minor += i.openMinor;
  }
  return b;
}

export type RiskReasonKey =
  | 'no_history'
  | 'prompt'
  | 'late_avg'
  | 'worsening'
  | 'improving'
  | 'overdue_90'
  | 'overdue_now'
  | 'promises_broken'
  | 'promises_kept'
  | 'disputes'
  | 'reminders_needed';

export interface RiskReason {
  key: RiskReasonKey;
  /** What this finding adds to the score (negative: lowers it). */
  points: number;
  vars: Record<string, number>;
}

export type RiskLevel = 'low' | 'medium' | 'high';

export interface RiskAssessment {
  score: number;
  level: RiskLevel;
  reasons: RiskReason[];
}

const percent = (part: bigint | number, whole: bigint | number): number =>
  Number(whole) === 0 ? 0 : Math.round((Number(part) * 100) / Number(whole));

/**
 * The score: lateness (up to 40 points at 60 days late on average), a worsening trend (up to 10),
 * what is owed beyond 90 days now (up to 20), broken promises (up to 15), disputes (up to 10),
 * invoices paid only after two reminders or more (up to 5). Without any settled invoice the
 * customer starts at 30: unknown is not safe.
 */
export function assessRisk(b: Behaviour): RiskAssessment {
  const reasons: RiskReason[] = [];
  const recent = b.daysLate.last12 ?? b.daysLate.all;
  if (recent === null) reasons.push({ key: 'no_history', points: 30, vars: {} });
  else if (recent <= 3) reasons.push({ key: 'prompt', points: Math.round(recent), vars: { days: recent } });
  else reasons.push({ key: 'late_avg', points: Math.min(40, Math.round((recent * 40) / 60)), vars: { days: recent } });
  if (b.daysLate.last6 !== null && b.daysLate.last12 !== null) {
    const diff = b.daysLate.last6 - b.daysLate.last12;
    if (diff >= 5) reasons.push({ key: 'worsening', points: Math.min(10, Math.round(diff / 2)), vars: { recent: b.daysLate.last6, year: b.daysLate.last12 } });
    else if (diff <= -5) reasons.push({ key: 'improving', points: -Math.min(5, Math.round(-diff / 4)), vars: { recent: b.daysLate.last6, year: b.daysLate.last12 } });
  }
  if (b.overdue90Minor > 0n) {
    const share = percent(b.overdue90Minor, b.openMinor);
    reasons.push({ key: 'overdue_90', points: Math.max(5, Math.round((share * 20) / 100)), vars: { share, days: b.oldestDaysPastDue } });
  } else if (b.overdueMinor > 0n && b.oldestDaysPastDue > 30) {
    reasons.push({ key: 'overdue_now', points: 3, vars: { days: b.oldestDaysPastDue } });
  }
  const promises = b.promisesKept + b.promisesBroken;
  if (b.promisesBroken > 0) reasons.push({ key: 'promises_broken', points: Math.round((15 * b.promisesBroken) / promises), vars: { broken: b.promisesBroken, total: promises } });
  else if (b.promisesKept > 0) reasons.push({ key: 'promises_kept', points: -2, vars: { kept: b.promisesKept } });
  if (b.disputes > 0) reasons.push({ key: 'disputes', points: Math.min(10, 4 * b.disputes + 2 * b.disputesOpen), vars: { n: b.disputes, open: b.disputesOpen } });
  const chased = b.paidAfterReminders[2] + b.paidAfterReminders[3];
  if (b.settledCount > 0 && chased > 0) {
    const share = percent(chased, b.settledCount);
    if (share >= 20) reasons.push({ key: 'reminders_needed', points: Math.round((share * 5) / 100), vars: { share } });
  }
  const score = Math.max(0, Math.min(100, reasons.reduce((s, r) => s + r.points, 0)));
  reasons.sort((x, y) => y.points - x.points);
  return { score, level: riskLevel(score), reasons };
}

export function riskLevel(score: number): RiskLevel {
  return score < 25 ? 'low' : score < 50 ? 'medium' : 'high';
}

const M = defineMessages({
  no_history: { fr: 'aucune facture réglée : pas encore d’historique de paiement', en: 'no invoice settled yet: no payment history' },
  prompt: { fr: 'paie à l’échéance (retard moyen {days} j, pondéré par les montants)', en: 'pays on time (average {days} days late, weighted by amount)' },
  late_avg: { fr: 'paie en moyenne {days} jours après l’échéance (pondéré par les montants)', en: 'pays {days} days after the due date on average (weighted by amount)' },
  worsening: { fr: 'retards en hausse : {recent} j sur les 6 derniers mois contre {year} j sur 12 mois', en: 'paying later: {recent} days over the last 6 months against {year} days over 12 months' },
  improving: { fr: 'retards en baisse : {recent} j sur les 6 derniers mois contre {year} j sur 12 mois', en: 'paying sooner: {recent} days over the last 6 months against {year} days over 12 months' },
  overdue_90: { fr: '{share} % de ce qu’il doit est échu depuis plus de 90 jours (le plus ancien : {days} j)', en: '{share} % of what is owed is over 90 days past due (oldest: {days} days)' },
  overdue_now: { fr: 'une facture est échue depuis {days} jours', en: 'an invoice is {days} days past due' },
  promises_broken: { fr: '{broken} promesse(s) de paiement non tenue(s) sur {total}', en: '{broken} of {total} promises to pay broken' },
  promises_kept: { fr: '{kept} promesse(s) de paiement tenue(s)', en: '{kept} promises to pay kept' },
  disputes: { fr: '{n} litige(s), dont {open} en cours', en: '{n} dispute(s), {open} still open' },
  reminders_needed: { fr: '{share} % des factures réglées seulement après au moins deux relances', en: '{share} % of invoices paid only after two reminders or more' },
  low: { fr: 'risque faible', en: 'low risk' },
  medium: { fr: 'risque moyen', en: 'medium risk' },
  high: { fr: 'risque élevé', en: 'high risk' },
});

const num = (n: number, lang: Lang) => (lang === 'fr' ? String(n).replace('.', ',') : String(n));

export function riskReasonText(r: RiskReason, lang: Lang): string {
  return t(M, lang, r.key, Object.fromEntries(Object.entries(r.vars).map(([k, v]) => [k, num(v, lang)])));
}

export function riskLevelText(level: RiskLevel, lang: Lang): string {
  return t(M, lang, level);
}
