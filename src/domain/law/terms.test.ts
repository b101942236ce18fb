import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../dates.ts';
import { checkPaymentTerms, fortyFiveEndOfMonth } from './index.ts';

const d = (s: string) => s as CalendarDate;

describe('payment terms (C. com. L441-10)', () => {
  it('warns when terms exceed 60 days after the invoice date', () => {
    const over = checkPaymentTerms({ issueDate: d('2025-01-10'), dueDate: d('2025-03-15') });
    expect(over.limit).toBe('2025-03-11');
    expect(over.termDays).toBe(64);
    expect(over.warnings).toHaveLength(1);
    expect(over.warnings[0]).toMatchObject({ code: 'terms_over_60_days', daysOver: 4 });
    expect(over.warnings[0]!.message.fr).toContain('60 jours');
    expect(checkPaymentTerms({ issueDate: d('2025-01-10'), dueDate: d('2025-03-11') }).warnings).toEqual([]);
  });

  it('computes "45 jours fin de mois" both ways', () => {
    expect(fortyFiveEndOfMonth(d('2025-01-15'), 'issue-plus-45-then-end-of-month')).toBe('2025-03-31');
    expect(fortyFiveEndOfMonth(d('2025-01-15'), 'end-of-month-plus-45')).toBe('2025-03-17');
    expect(fortyFiveEndOfMonth(d('2025-01-01'), 'issue-plus-45-then-end-of-month')).toBe('2025-02-28');
  });

  it('warns under the chosen "45 jours fin de mois" computation', () => {
    const invoice = { issueDate: d('2025-01-20'), dueDate: d('2025-03-25') };
    const issueFirst = checkPaymentTerms(invoice, { regime: 'forty-five-days-end-of-month', fortyFiveEndOfMonth: 'issue-plus-45-then-end-of-month' });
    expect(issueFirst.limit).toBe('2025-03-31');
    expect(issueFirst.warnings).toEqual([]);
    const monthEndFirst = checkPaymentTerms(invoice, { regime: 'forty-five-days-end-of-month', fortyFiveEndOfMonth: 'end-of-month-plus-45' });
    expect(monthEndFirst.limit).toBe('2025-03-17');
    expect(monthEndFirst.warnings[0]).toMatchObject({ code: 'terms_over_45_days_end_of_month', daysOver: 8 });
    // The other way round: issued on the 1st, the month-end-first reading is the more generous one.
    const early = { issueDate: d('2025-01-01'), dueDate: d('2025-03-10') };
    expect(checkPaymentTerms(early, { regime: 'forty-five-days-end-of-month', fortyFiveEndOfMonth: 'issue-plus-45-then-end-of-month' }).warnings[0]?.daysOver).toBe(10);
    expect(checkPaymentTerms(early, { regime: 'forty-five-days-end-of-month', fortyFiveEndOfMonth: 'end-of-month-plus-45' }).warnings).toEqual([]);
    // Default: the stricter of both, so no warning is missed.
    expect(checkPaymentTerms(early, { regime: 'forty-five-days-end-of-month' }).limit).toBe('2025-02-28');
    expect(checkPaymentTerms(invoice, { regime: 'forty-five-days-end-of-month' }).limit).toBe('2025-03-17');
  });

  it('limits periodic invoices to 45 days after issue', () => {
    const r = checkPaymentTerms({ issueDate: d('2025-01-10'), dueDate: d('2025-02-28') }, { regime: 'periodic' });
    expect(r.warnings[0]).toMatchObject({ code: 'terms_over_45_days_periodic', limit: '2025-02-24', daysOver: 4 });
  });

  it('refuses a due date before the issue date and an unknown computation', () => {
    expect(() => checkPaymentTerms({ issueDate: d('2025-02-10'), dueDate: d('2025-02-01') })).toThrow(/before issue date/);
    expect(() => checkPaymentTerms({ issueDate: d('2025-02-10'), dueDate: d('2025-03-01') }, { fortyFiveEndOfMonth: 'x' as never })).toThrow(/45 jours fin de mois/);
  });
});
