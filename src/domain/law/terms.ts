/**
 * Payment-term checks under C. com. L441-10 I (France). The agreed term may not exceed 60 days after
 * the invoice date; by derogation, 45 days end of month ("45 jours fin de mois") if expressly
 * stipulated; periodic invoices (CGI 289 I 3) 45 days after issue. How "45 jours fin de mois" is
 * counted has no authoritative ruling (docs/law.md §3), so both computations exist
 * and the organisation chooses; the default takes the earlier of the two, so a warning is never missed.
 */
import { type CalendarDate, minDate } from '../dates.ts';
import { validation } from '../../errors.ts';
import { civilToDay, dayToCivil, fromDay, toDay } from './calendar.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('law-terms', {
  regime: { fr: "régime de délais de paiement inconnu « {regime} »", en: "unknown payment-terms regime \"{regime}\"" },
  eom: { fr: "calcul « 45 jours fin de mois » inconnu « {method} » ; valeurs possibles : {known}", en: "unknown \"45 jours fin de mois\" computation \"{method}\"; expected one of {known}" },
  due_before_issue: { fr: "la date d’échéance {dueDate} est antérieure à la date de facture {issueDate}", en: "due date {dueDate} is before issue date {issueDate}" },
});

/** The regime the contract uses. */
export type TermsRegime = 'sixty-days' | 'forty-five-days-end-of-month' | 'periodic';

/**
 * 'issue-plus-45-then-end-of-month': issue date + 45 days, then the end of that month
 * (15 January -> 1 March -> 31 March).
 * 'end-of-month-plus-45': end of the issue month, then + 45 days (15 January -> 31 January -> 17 March).
 * 'earlier-of-both': the stricter limit of the two (default).
 */
export type FortyFiveEndOfMonthMethod = 'issue-plus-45-then-end-of-month' | 'end-of-month-plus-45' | 'earlier-of-both';
export const FORTY_FIVE_EOM_METHODS: readonly FortyFiveEndOfMonthMethod[] = ['issue-plus-45-then-end-of-month', 'end-of-month-plus-45', 'earlier-of-both'];

export interface PaymentTermsSettings {
  regime: TermsRegime;
  fortyFiveEndOfMonth: FortyFiveEndOfMonthMethod;
}

export const DEFAULT_TERMS_SETTINGS: PaymentTermsSettings = { regime: 'sixty-days', fortyFiveEndOfMonth: 'earlier-of-both' };

export interface TermsWarning {
  code: 'terms_over_60_days' | 'terms_over_45_days_end_of_month' | 'terms_over_45_days_periodic';
  /** The latest lawful due date under the regime. */
  limit: CalendarDate;
  /** Days the due date is past the limit. */
  daysOver: number;
  message: { fr: string; en: string };
}

export interface PaymentTermsCheck {
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  /** Days from issue to due date. */
  termDays: number;
  regime: TermsRegime;
  limit: CalendarDate;
  /** Every limit, for display: what each reading of the law allows. */
  limits: {
    sixtyDays: CalendarDate;
    fortyFiveEndOfMonthIssueFirst: CalendarDate;
    fortyFiveEndOfMonthMonthEndFirst: CalendarDate;
    periodic: CalendarDate;
  };
  warnings: TermsWarning[];
}

function endOfMonthDay(day: number): number {
  const [y, m] = dayToCivil(day);
  return m === 12 ? civilToDay(y + 1, 1, 1) - 1 : civilToDay(y, m + 1, 1) - 1;
}

export function fortyFiveEndOfMonth(issueDate: CalendarDate, method: Exclude<FortyFiveEndOfMonthMethod, 'earlier-of-both'>): CalendarDate {
  const issue = toDay(issueDate, { field: 'issueDate' });
  return fromDay(method === 'issue-plus-45-then-end-of-month' ? endOfMonthDay(issue + 45) : endOfMonthDay(issue) + 45);
}

const fmt = (d: CalendarDate) => `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;

/** Warn when an invoice's terms exceed what L441-10 allows under the organisation's regime. */
export function checkPaymentTerms(
  invoice: { issueDate: CalendarDate; dueDate: CalendarDate },
  settings: Partial<PaymentTermsSettings> = {},
): PaymentTermsCheck {
  const s = { ...DEFAULT_TERMS_SETTINGS, ...settings };
  if (!['sixty-days', 'forty-five-days-end-of-month', 'periodic'].includes(s.regime)) {
    throw validation(E('regime', { regime: String(s.regime) }), { field: 'regime' });
  }
  if (!FORTY_FIVE_EOM_METHODS.includes(s.fortyFiveEndOfMonth)) {
    throw validation(E('eom', { method: String(s.fortyFiveEndOfMonth), known: FORTY_FIVE_EOM_METHODS.join(', ') }), {
      field: 'fortyFiveEndOfMonth',
    });
  }
  const issue = toDay(invoice.issueDate, { field: 'issueDate' });
  const due = toDay(invoice.dueDate, { field: 'dueDate' });
  if (due < issue) throw validation(E('due_before_issue', { dueDate: invoice.dueDate, issueDate: invoice.issueDate }), { field: 'dueDate' });
  const limits = {
    sixtyDays: fromDay(issue + 60),
    fortyFiveEndOfMonthIssueFirst: fromDay(endOfMonthDay(issue + 45)),
    fortyFiveEndOfMonthMonthEndFirst: fromDay(endOfMonthDay(issue) + 45),
    periodic: fromDay(issue + 45),
  };
  let limit: CalendarDate;
  let code: TermsWarning['code'];
  let message: (over: number) => TermsWarning['message'];
  if (s.regime === 'sixty-days') {
    limit = limits.sixtyDays;
    code = 'terms_over_60_days';
    message = (over) => ({
      fr: `Délai de paiement de ${due - issue} jours : dépasse le maximum de 60 jours après la date de facture (${fmt(limit)}) de ${over} jour(s) (C. com. L441-10).`,
      en: `Payment term of ${due - issue} days exceeds the 60-day maximum after the invoice date (${fmt(limit)}) by ${over} day(s) (C. com. L441-10).`,
    });
  } else if (s.regime === 'periodic') {
    limit = limits.periodic;
    code = 'terms_over_45_days_periodic';
    message = (over) => ({
      fr: `Facture périodique : l’échéance dépasse le maximum de 45 jours après émission (${fmt(limit)}) de ${over} jour(s) (C. com. L441-10, CGI 289 I 3).`,
      en: `Periodic invoice: the due date exceeds the 45-day maximum after issue (${fmt(limit)}) by ${over} day(s) (C. com. L441-10, CGI 289 I 3).`,
    });
  } else {
    const a = limits.fortyFiveEndOfMonthIssueFirst;
    const b = limits.fortyFiveEndOfMonthMonthEndFirst;
    limit = s.fortyFiveEndOfMonth === 'issue-plus-45-then-end-of-month' ? a : s.fortyFiveEndOfMonth === 'end-of-month-plus-45' ? b : minDate(a, b);
    code = 'terms_over_45_days_end_of_month';
    const how = {
      'issue-plus-45-then-end-of-month': { fr: 'date de facture + 45 jours puis fin de mois', en: 'invoice date + 45 days, then end of month' },
      'end-of-month-plus-45': { fr: 'fin du mois de facture puis + 45 jours', en: 'end of the invoice month, then + 45 days' },
      'earlier-of-both': { fr: 'le plus strict des deux calculs', en: 'the stricter of both computations' },
    }[s.fortyFiveEndOfMonth];
    message = (over) => ({
      fr: `L’échéance dépasse le maximum de 45 jours fin de mois (${how.fr} : ${fmt(limit)}) de ${over} jour(s) (C. com. L441-10).`,
      en: `The due date exceeds the 45-days-end-of-month maximum (${how.en}: ${fmt(limit)}) by ${over} day(s) (C. com. L441-10).`,
    });
  }
  const over = due - toDay(limit);
  return {
    issueDate: invoice.issueDate,
    dueDate: invoice.dueDate,
    termDays: due - issue,
    regime: s.regime,
    limit,
    limits,
    warnings: over > 0 ? [{ code, limit, daysOver: over, message: message(over) }] : [],
  };
}
