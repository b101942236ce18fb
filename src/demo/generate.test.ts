import { describe, expect, it } from 'vitest';
import { type CalendarDate, isCalendarDate } from '../domain/dates.ts';
import { isValidIban, isValidSiren, isValidSiret } from '../domain/identifiers.ts';
import { validateCustomer, validateInvoice } from '../domain/ledger.ts';
import { generateLedger } from './generate.ts';

const today = '2026-11-22' as CalendarDate;
const all = (opts: Parameters<typeof generateLedger>[0]) => {
  const out = { customers: [] as any[], invoices: [] as any[], payments: [] as any[], allocations: [] as any[] };
  for (const b of generateLedger(opts)) for (const k of Object.keys(out) as (keyof typeof out)[]) out[k].push(...b[k]);
  return out;
};

describe('demo ledger generator', () => {
  const demo = all({ customers: 200, invoices: 2000, seed: 42, today });

  it('is deterministic for a seed and different for another', () => {
    expect(all({ customers: 200, invoices: 2000, seed: 42, today })).toEqual(demo);
    expect(all({ customers: 200, invoices: 2000, seed: 7, today }).invoices[0]).not.toEqual(demo.invoices[0]);
  });

  it('makes exactly the requested counts, with unique invoice numbers', () => {
    expect(demo.customers).toHaveLength(200);
    expect(demo.invoices).toHaveLength(2000);
    expect(new Set(demo.invoices.map((i) => i.number)).size).toBe(2000);
    const odd = all({ customers: 7, invoices: 101, seed: 1, today, batchCustomers: 3 });
    expect(odd.customers).toHaveLength(7);
    expect(odd.invoices).toHaveLength(101);
  });

  it('businesses have valid SIREN/SIRET, payers valid IBANs, every row passes the ledger validation', () => {
    const businesses = demo.customers.filter((c) => c.kind === 'business' && c.siren);
    expect(businesses.length).toBeGreaterThan(150);
    expect(demo.customers.some((c) => c.kind === 'consumer')).toBe(true);
    for (const c of businesses) {
      expect(isValidSiren(c.siren)).toBe(true);
      expect(isValidSiret(c.siret)).toBe(true);
    }
    for (const c of demo.customers) validateCustomer(c);
    for (const i of demo.invoices) validateInvoice({ ...i, customerId: 1n });
    for (const p of demo.payments) if (p.payerIban) expect(isValidIban(p.payerIban)).toBe(true);
  });

  it('spans the last 18 months with realistic payment behaviour', () => {
    const dates = demo.invoices.map((i) => i.issueDate).sort();
    expect(dates[0] >= '2025-05-20').toBe(true);
    expect(dates.at(-1)! <= today).toBe(true);
    expect(dates.every(isCalendarDate)).toBe(true);
    const paidFull = new Set(demo.allocations.filter((a) => demo.invoices.find((i) => i.number === a.invoiceNumber)!.amountInclTaxMinor === a.amountMinor).map((a) => a.invoiceNumber));
    const partial = demo.allocations.length - paidFull.size;
    const open = demo.invoices.length - demo.allocations.length;
    // Most invoices paid, some still open (recent ones and bad payers), some paid in part.
    expect(paidFull.size / demo.invoices.length).toBeGreaterThan(0.6);
    expect(open).toBeGreaterThan(100);
    expect(partial).toBeGreaterThan(5);
    // Some payments late: after the due date.
    const byNumber = new Map(demo.invoices.map((i) => [i.number, i]));
    const late = demo.allocations.filter((a) => a.allocatedOn > byNumber.get(a.invoiceNumber)!.dueDate).length;
    expect(late / demo.allocations.length).toBeGreaterThan(0.2);
    for (const a of demo.allocations) expect(a.allocatedOn <= today).toBe(true);
  });
});
