/**
 * Limitation periods ("prescription"): after them the creditor can no longer sue, and a collector who
 * still chases the debt commits one of the practices the DGCCRF found in 41 % of agencies. France:
 * 5 years between businesses (C. com. L110-4), 2 years for a professional against a consumer
 * (C. conso L218-2). The period runs from when the creditor knew the facts (the due date, by
 * default); an acknowledgment of the debt or a court claim starts it again (C. civ. 2240, 2241),
 * given as `interruptedOn`. It is "acquise lorsque le dernier jour du terme est accompli" (C. civ.
 * 2229): the deadline is the same calendar day N years later, inclusive.
 */
import type { CalendarDate } from '../dates.ts';
import { validation } from '../../errors.ts';
import { civilToDay, dayToCivil, fromDay, toDay } from './calendar.ts';
import type { DebtorKind } from './interest.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('law-prescription', {
  debtor: { fr: "le débiteur doit être « business » ou « consumer »", en: "debtor must be \"business\" or \"consumer\"" },
  years: { fr: "la durée de prescription doit être de 1 à 30 années entières", en: "the limitation period must be 1 to 30 whole years" },
  warn: { fr: "warnWithinDays doit être un nombre entier de jours, positif ou nul", en: "warnWithinDays must be a whole number of days, zero or more" },
});

export interface PrescriptionInput {
  debtor: DebtorKind;
  /** When the period starts: the due date, unless the creditor learnt of the debt later. */
  from: CalendarDate;
  /** The date of the check (today in the organisation's time zone, given by the caller). */
  today: CalendarDate;
  /** Latest acknowledgment of debt, payment on account or court claim: restarts the period. */
  interruptedOn?: CalendarDate;
  /** Flag as approaching this many days before the deadline (default 90). */
  warnWithinDays?: number;
  /** Override the period in years (other jurisdictions, or a contract that shortened it). */
  years?: number;
}

export interface PrescriptionStatus {
  years: number;
  legalBasis: string;
  startsOn: CalendarDate;
  /** Last day to act. */
  deadline: CalendarDate;
  /** Days from today to the deadline (negative once prescribed). */
  daysLeft: number;
  status: 'running' | 'approaching' | 'prescribed';
}

export const PRESCRIPTION_YEARS_FR: Record<DebtorKind, { years: number; legalBasis: string }> = {
  business: { years: 5, legalBasis: 'C. com. L110-4' },
  consumer: { years: 2, legalBasis: 'C. conso L218-2' },
};

function addYears(day: number, years: number): number {
  const [y, m, d] = dayToCivil(day);
  // 29 February + N years lands on 28 February when the target year is not a leap year.
  const target = civilToDay(y + years, m, d);
  return dayToCivil(target)[1] === m ? target : civilToDay(y + years, m + 1, 1) - 1;
}

export function prescriptionStatus(input: PrescriptionInput): PrescriptionStatus {
  if (input.debtor !== 'business' && input.debtor !== 'consumer') throw validation(E('debtor'), { field: 'debtor' });
  const rule = PRESCRIPTION_YEARS_FR[input.debtor];
  const years = input.years ?? rule.years;
  if (!Number.isInteger(years) || years < 1 || years > 30) throw validation(E('years'), { field: 'years' });
  const warn = input.warnWithinDays ?? 90;
  if (!Number.isInteger(warn) || warn < 0) throw validation(E('warn'), { field: 'warnWithinDays' });
  let start = toDay(input.from, { field: 'from' });
  if (input.interruptedOn !== undefined) start = Math.max(start, toDay(input.interruptedOn, { field: 'interruptedOn' }));
  const today = toDay(input.today, { field: 'today' });
  const deadline = addYears(start, years);
  const daysLeft = deadline - today;
  return {
    years,
    legalBasis: input.years === undefined ? rule.legalBasis : 'configured',
    startsOn: fromDay(start),
    deadline: fromDay(deadline),
    daysLeft,
    status: daysLeft < 0 ? 'prescribed' : daysLeft <= warn ? 'approaching' : 'running',
  };
}
