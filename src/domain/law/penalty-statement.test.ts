import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../dates.ts';
import { RelanceError } from '../../errors.ts';
import { buildPenaltyStatement, defaultRateTables, penaltyReceivable } from './index.ts';

const d = (s: string) => s as CalendarDate;
const rates = defaultRateTables();

describe('penalty statement', () => {
  const statement = () =>
    buildPenaltyStatement(
      {
        jurisdiction: 'FR',
        debtor: 'business',
        currency: 'EUR',
        asOf: d('2025-10-31'),
        invoices: [
          { number: 'F-2025-001', dueDate: d('2025-06-15'), amountMinor: 1_200_000n, paidOn: d('2025-09-15') },
          { number: 'F-2025-002', dueDate: d('2025-09-30'), amountMinor: 50_000n, payments: [{ date: d('2025-10-15'), amountMinor: 20_000n }] },
          { number: 'F-2025-003', dueDate: d('2025-11-30'), amountMinor: 80_000n },
        ],
      },
      rates,
    );

  it('lists penalties and indemnities per late invoice, with totals', () => {
    const s = statement();
    expect(s.lines.map((l) => [l.invoiceNumber, l.daysLate, l.interestMinor, l.indemnityMinor])).toEqual([
      ['F-2025-001', 92, 37_243n, 4_000n],
      // 15 days on 500.00 then 16 days on 300.00 at 12.15 %: 2.50 + 1.60
      ['F-2025-002', 31, 250n + 160n, 4_000n],
    ]);
    expect(s.interestMinor).toBe(37_243n + 410n);
    expect(s.indemnityMinor).toBe(8_000n);
    expect(s.totalMinor).toBe(s.interestMinor + s.indemnityMinor);
    expect(s.provisional).toBe(false);
  });

  it('becomes a new receivable without VAT, never a change to the invoices', () => {
    const r = penaltyReceivable(statement(), { number: 'PEN-2025-001', issueDate: d('2025-10-31'), dueDate: d('2025-11-30') });
    expect(r).toMatchObject({ currency: 'EUR', amountInclTaxMinor: 45_653n, amountExclTaxMinor: 45_653n, invoiceNumbers: ['F-2025-001', 'F-2025-002'] });
  });

  it('names the invoice that is wrong', () => {
    let err: unknown;
    try {
      buildPenaltyStatement(
        { jurisdiction: 'FR', debtor: 'business', currency: 'EUR', asOf: d('2025-10-31'), invoices: [{ number: 'A', dueDate: d('2025-13-01'), amountMinor: 1n }] },
        rates,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RelanceError);
    expect((err as RelanceError).where).toMatchObject({ path: 'invoices[0]', field: 'dueDate' });
    expect((err as RelanceError).message).toContain('invoice A');
  });
});
