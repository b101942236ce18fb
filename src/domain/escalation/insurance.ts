/**
 * Credit insurance (pure): the deadlines of a credit insurance policy, counted from the original
 * due date of the first unpaid invoice of a debtor, and the day each task is raised.
 *
 * Policies differ from insurer to insurer (docs/law.md §10): what they share is a longest extension
 * of payment terms the insured may grant without the insurer's approval (prorogation d'échéance),
 * and a period after the original due date within which an unpaid debt must be declared as a
 * threatened loss (déclaration de menace de sinistre); past either, the cover of the debt may be
 * lost. Both are the organisation's figures, read from its policy, never assumed.
 */
import { addDays, type CalendarDate, maxDate } from '../dates.ts';

export interface InsurancePolicy {
  insurer: string;
  policyNumber: string | null;
  /** Days after the original due date by which the unpaid debt is declared. */
  declarationDays: number;
  /** Days after the original due date past which terms may not be extended without approval. */
  maxExtensionDays: number;
  /** Days before a deadline at which its task is raised. */
  noticeDays: number;
  active: boolean;
}

export type InsuranceTaskKind = 'insurance_extension' | 'insurance_declaration';

export interface InsuranceDeadlines {
  extensionEndsOn: CalendarDate;
  declarationDueOn: CalendarDate;
}

/** What each figure of a policy may be; a figure outside is refused, naming it. */
export const POLICY_LIMITS = {
  declarationDays: { min: 1, max: 365 },
  maxExtensionDays: { min: 0, max: 365 },
  noticeDays: { min: 0, max: 90 },
} as const;

/** The first figure of the policy outside its limits, or null. */
export function policyProblem(p: Pick<InsurancePolicy, 'declarationDays' | 'maxExtensionDays' | 'noticeDays'>): { field: keyof typeof POLICY_LIMITS; min: number; max: number } | null {
  for (const field of Object.keys(POLICY_LIMITS) as (keyof typeof POLICY_LIMITS)[]) {
    const v = p[field];
    const { min, max } = POLICY_LIMITS[field];
    if (!Number.isInteger(v) || v < min || v > max) return { field, min, max };
  }
  return null;
}

export function insuranceDeadlines(policy: Pick<InsurancePolicy, 'declarationDays' | 'maxExtensionDays'>, firstDueDate: CalendarDate): InsuranceDeadlines {
  return { extensionEndsOn: addDays(firstDueDate, policy.maxExtensionDays), declarationDueOn: addDays(firstDueDate, policy.declarationDays) };
}

/** The day a deadline's task appears: `noticeDays` before it, never before the case opened. */
export function taskRaisedOn(deadline: CalendarDate, noticeDays: number, openedOn: CalendarDate): CalendarDate {
  return maxDate(addDays(deadline, -noticeDays), openedOn);
}

/** The tasks of an open case due by `today`: each deadline's, from `noticeDays` before it. */
export function insuranceTasksDue(policy: Pick<InsurancePolicy, 'noticeDays'>, c: InsuranceDeadlines & { openedOn: CalendarDate }, today: CalendarDate): { kind: InsuranceTaskKind; dueOn: CalendarDate }[] {
  const out: { kind: InsuranceTaskKind; dueOn: CalendarDate }[] = [];
  if (taskRaisedOn(c.extensionEndsOn, policy.noticeDays, c.openedOn) <= today) out.push({ kind: 'insurance_extension', dueOn: c.extensionEndsOn });
  if (taskRaisedOn(c.declarationDueOn, policy.noticeDays, c.openedOn) <= today) out.push({ kind: 'insurance_declaration', dueOn: c.declarationDueOn });
  return out;
}
