import { describe, expect, it } from 'vitest';
import { prng } from '../demo/generate.ts';
import { addDays, type CalendarDate } from './dates.ts';
import { backtest, forecastCashIn, type HistoryInvoice, inputAsOf, naiveForecast } from './forecast.ts';

const TODAY = '2026-11-30' as CalendarDate;

/** Two years of weekly invoices: half the customers pay on the due date, half 30 days after it. */
function history(): HistoryInvoice[] {
  const r = prng('forecast');
  const out: HistoryInvoice[] = [];
  for (let c = 1n; c <= 10n; c++) {
    for (let w = 0; w < 104; w++) {
      const issueDate = addDays(TODAY, -7 * w - Math.floor(r() * 7));
      const dueDate = addDays(issueDate, 30);
      const amountMinor = BigInt(10_000 + Math.floor(r() * 90_000));
      const on = addDays(dueDate, c <= 5n ? 0 : 30);
      out.push({ id: BigInt(out.length + 1), customerId: c, issueDate, dueDate, amountMinor, payments: on <= TODAY ? [{ on, amountMinor }] : [] });
    }
  }
  return out;
}

describe('cash-in forecast', () => {
  it("moves each invoice by its customer's habit: a late payer's invoice is expected about 30 days after its due date", () => {
    const input = inputAsOf(history(), TODAY);
    expect(input.customers.get(7n)!.daysLate).toBe(30);
    expect(input.customers.get(2n)!.daysLate).toBe(0);
    const one = { ...input, invoices: [{ invoiceId: null, customerId: 7n, openMinor: 100_000n, dueDate: addDays(TODAY, 3), underAgreement: false }] };
    const weeks = forecastCashIn(one);
    expect(weeks.findIndex((x) => x > 0n)).toBe(4); // due + 30 = day 33: the fifth week
    expect(weeks[4]!).toBeGreaterThan(80_000n);
    expect(naiveForecast(one).findIndex((x) => x > 0n)).toBe(0);
  });

  it('promises and plan instalments bring their amount on their date, weighted by how often the customer kept its word', () => {
    const input = inputAsOf(history(), TODAY);
    input.customers.get(2n)!.promisesKeptShare = 0.5;
    const weeks = forecastCashIn({ ...input, invoices: [], agreements: [{ customerId: 2n, on: addDays(TODAY, 15), amountMinor: 200_000n }] });
    expect(weeks[2]).toBe(100_000n);
  });

  it('back-tested on a history with known habits, its error is well below the naive forecast by due dates', () => {
    const b = backtest(history(), TODAY);
    expect(b.origins).toHaveLength(6);
    expect(b.wape!).toBeLessThan(b.naiveWape! / 2);
    expect(b.wape!).toBeLessThan(0.3);
  });
});
