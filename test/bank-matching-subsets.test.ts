/**
 * A credit whose amount is exactly the sum of several open invoices of one customer is proposed as
 * those invoices, however the customer was recognised (known IBAN, name in the remittance text),
 * however many older invoices the customer has, and after partial payments. Several exact
 * combinations are several proposals, never one chosen silently. Pure domain: no database.
 */
import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../src/domain/dates.ts';
import { describeProposal, type KnownCustomer, type MatchLine, matchLines, type OpenInvoice, type Proposal } from '../src/domain/matching.ts';

const d = (s: string) => s as CalendarDate;
const IBAN = 'FR7630006000011234567890189';

/** A bakery with a long open history: 18 invoices older than the pair, one of them half paid. */
function ledger(opts: { extra?: OpenInvoice[] } = {}) {
  const customers: KnownCustomer[] = [
    { id: 1n, name: 'Boulangerie Martin SARL', ibans: [IBAN] },
    { id: 2n, name: 'Martin Transports', ibans: [] },
    { id: 3n, name: 'Pâtisserie Leroy', ibans: [] },
  ];
  const invoices: OpenInvoice[] = [];
  let id = 100n;
  for (let k = 0; k < 18; k++) {
    const month = 1 + Math.floor(k / 4);
    const day = 3 + (k % 4) * 7;
    const due = `2026-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    // Amounts the pair cannot be confused with: over the credit, or small ones adding up to nothing near it.
    const openMinor = k === 2 ? 24_000n /* 540,00 of which 300,00 already paid */ : k % 5 === 4 ? 8_740n + BigInt(k) * 100n : 130_000n + BigInt(k) * 1_337n;
    invoices.push({ id: id++, customerId: 1n, number: `F-2026-${String(101 + k * 7).padStart(4, '0')}`, currency: 'EUR', openMinor, issueDate: d(`2026-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`), dueDate: d(due) });
  }
  invoices.push(
    { id: 900n, customerId: 1n, number: 'F-2026-0388', currency: 'EUR', openMinor: 91_856n, issueDate: d('2026-05-04'), dueDate: d('2026-06-03') },
    { id: 901n, customerId: 1n, number: 'F-2026-0391', currency: 'EUR', openMinor: 26_326n, issueDate: d('2026-05-06'), dueDate: d('2026-06-05') },
    // Another customer owes the same kind of amounts: never mixed in.
    { id: 950n, customerId: 2n, number: 'MT-77', currency: 'EUR', openMinor: 91_856n, issueDate: d('2026-05-01'), dueDate: d('2026-05-31') },
    { id: 951n, customerId: 3n, number: 'PL-12', currency: 'EUR', openMinor: 26_326n, issueDate: d('2026-05-01'), dueDate: d('2026-05-31') },
    ...(opts.extra ?? []),
  );
  return { customers, invoices };
}

const line = (over: Partial<MatchLine> = {}): MatchLine => ({
  id: 'L1',
  bookingDate: d('2026-06-10'),
  amountMinor: 118_182n,
  currency: 'EUR',
  counterpartyName: null,
  counterpartyIban: null,
  remittanceText: 'VIR SEPA BOULANGERIE MARTIN REGLEMENT FACTURES MAI',
  creditorReference: null,
  label: null,
  reversal: false,
  ...over,
});

/** Every proposal of a line (the automatic one first), as the review queue would list them. */
function proposals(l: MatchLine, data = ledger()): Proposal[] {
  const [o] = matchLines([l], data.invoices, data.customers);
  if (o!.kind === 'auto') return [o!.proposal, ...o!.alternatives];
  if (o!.kind === 'review') return o!.candidates;
  return [];
}
const invoicesOf = (p: Proposal) => p.allocations.map((a) => a.number).sort();

/** Brute force over the customer's open invoices: the test data has exactly the combinations it says. */
function exactCombinations(invs: OpenInvoice[], target: bigint, maxSize: number): string[][] {
  const out: string[][] = [];
  const walk = (from: number, left: bigint, pick: string[]) => {
    if (left === 0n && pick.length >= 2) out.push([...pick].sort());
    if (left <= 0n || pick.length === maxSize) return;
    for (let k = from; k < invs.length; k++) walk(k + 1, left - invs[k]!.openMinor, [...pick, invs[k]!.number]);
  };
  walk(0, target, []);
  return out;
}

describe('a credit equal to the sum of several open invoices of one customer', () => {
  it('the test ledger has exactly one combination of the bakery invoices for 1 181,82 €, and it is newer than the 14 oldest', () => {
    const { invoices } = ledger();
    const bakery = invoices.filter((i) => i.customerId === 1n);
    expect(exactCombinations(bakery, 118_182n, 5)).toEqual([['F-2026-0388', 'F-2026-0391']]);
    expect(bakery.length).toBeGreaterThan(14);
  });

  it('customer named in the remittance text, no known IBAN: the two invoices are proposed first, not "applied to the oldest"', () => {
    const ps = proposals(line());
    expect(ps.length).toBeGreaterThan(0);
    const best = ps[0]!;
    expect(best.customerId).toBe(1n);
    expect(invoicesOf(best)).toEqual(['F-2026-0388', 'F-2026-0391']);
    expect(best.allocations.map((a) => a.amountMinor)).toEqual([91_856n, 26_326n]);
    expect(best.unallocatedMinor).toBe(0n);
    expect(describeProposal(best, 'fr', 'EUR')).toContain('somme des factures F-2026-0388, F-2026-0391');
    expect(describeProposal(best, 'en', 'EUR')).toContain('sum of invoices F-2026-0388, F-2026-0391');
    expect(describeProposal(best, 'en', 'EUR')).not.toContain('oldest');
  });

  it('customer known by its IBAN, the pair newer than its 14 oldest open invoices: the pair is matched', () => {
    const ps = proposals(line({ counterpartyIban: 'FR76 3000 6000 0112 3456 7890 189', remittanceText: 'PAIEMENT' }));
    expect(invoicesOf(ps[0]!)).toEqual(['F-2026-0388', 'F-2026-0391']);
    expect(ps[0]!.reason.key).toBe('match.iban_subset');
    expect(ps[0]!.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it('by name and IBAN together, with the payer name field filled: the same single answer', () => {
    const ps = proposals(line({ counterpartyIban: IBAN, counterpartyName: 'BOULANGERIE MARTIN' }));
    expect(invoicesOf(ps[0]!)).toEqual(['F-2026-0388', 'F-2026-0391']);
    expect(ps.filter((p) => p.customerId === 1n && invoicesOf(p).join() === 'F-2026-0388,F-2026-0391')).toHaveLength(1);
  });

  it('after a partial payment the open amount counts: 918,56 € left on a 1 418,56 € invoice plus 263,26 €', () => {
    const data = ledger();
    // F-2026-0388 was invoiced 1 418,56 € and 500,00 € already paid: 918,56 € open.
    const ps = proposals(line(), data);
    expect(invoicesOf(ps[0]!)).toEqual(['F-2026-0388', 'F-2026-0391']);
    // The half-paid old invoice (240,00 € open) plus others never add up to the credit.
    expect(ps[0]!.allocations.every((a) => a.number !== 'F-2026-0115')).toBe(true);
  });

  it('the text names one invoice of the pair: both are proposed first rather than the surplus kept as credit', () => {
    const [o] = matchLines([line({ remittanceText: 'REGLEMENT FACTURE F-2026-0388' })], ledger().invoices, ledger().customers);
    expect(o!.kind).toBe('review');
    const ps = o!.kind === 'review' ? o!.candidates : [];
    expect(invoicesOf(ps[0]!)).toEqual(['F-2026-0388', 'F-2026-0391']);
    expect(ps[0]!.unallocatedMinor).toBe(0n);
    expect(ps[0]!.reason.key).toBe('match.number_plus');
    expect(describeProposal(ps[0]!, 'fr', 'EUR')).toContain('le surplus est exactement ce que le même client doit sur F-2026-0391');
    // The reading "one invoice and an overpayment" is still offered, below.
    expect(ps.some((p) => p.allocations.length === 1 && p.unallocatedMinor > 0n)).toBe(true);
    // With the payer's IBAN known as well, the pair is certain enough to apply.
    const [sure] = matchLines([line({ remittanceText: 'FACT F-2026-0391', counterpartyIban: IBAN })], ledger().invoices, ledger().customers);
    expect(sure!.kind).toBe('auto');
    if (sure!.kind === 'auto') expect(invoicesOf(sure!.proposal)).toEqual(['F-2026-0388', 'F-2026-0391']);
  });

  it('two exact combinations: both are proposed, neither applied automatically', () => {
    // A third invoice of 263,26 €: 918,56 + either of them.
    const extra: OpenInvoice = { id: 902n, customerId: 1n, number: 'F-2026-0399', currency: 'EUR', openMinor: 26_326n, issueDate: d('2026-05-20'), dueDate: d('2026-06-19') };
    for (const l of [line(), line({ counterpartyIban: IBAN, remittanceText: 'PAIEMENT' })]) {
      const [o] = matchLines([l], ledger({ extra: [extra] }).invoices, ledger().customers);
      expect(o!.kind).toBe('review');
      const ps = o!.kind === 'review' ? o!.candidates : [];
      const sets = ps.filter((p) => p.allocations.length === 2).map((p) => invoicesOf(p).join(' + '));
      expect(sets).toContain('F-2026-0388 + F-2026-0391');
      expect(sets).toContain('F-2026-0388 + F-2026-0399');
      expect(ps.filter((p) => p.allocations.length === 2).every((p) => p.notes.some((n) => n.key === 'note.ambiguous'))).toBe(true);
    }
  });

  it('a pair among 400 open invoices of a wholesaler is found and proposed first', () => {
    const many: OpenInvoice[] = Array.from({ length: 400 }, (_, k) => ({
      id: 5000n + BigInt(k),
      customerId: 5n,
      number: `W-${10_000 + k}`,
      currency: 'EUR',
      // Multiples of 100 €, and the pair's two amounts that are not: the pair is the only combination.
      openMinor: k === 123 ? 91_856n : k === 377 ? 26_326n : 10_000n * BigInt(1 + (k % 90)),
      issueDate: d('2026-01-05'),
      dueDate: d(`2026-0${2 + Math.floor(k / 100)}-${String(1 + (k % 28)).padStart(2, '0')}`),
    }));
    const customers: KnownCustomer[] = [{ id: 5n, name: 'Grossiste Unique', ibans: [IBAN] }];
    const [o] = matchLines([line({ counterpartyIban: IBAN, remittanceText: 'PAIEMENT' })], many, customers);
    // Every pair is tried; combinations of three and more among 400 invoices are more than the
    // search's bound, so it cannot say the pair is the only answer: proposed first, for a person.
    expect(o!.kind).toBe('review');
    const ps = o!.kind === 'review' ? o!.candidates : [];
    expect(invoicesOf(ps[0]!)).toEqual(['W-10123', 'W-10377']);
    expect(ps[0]!.reason.key).toBe('match.iban_subset');
  });

  it('a combination of four invoices among 60 open ones is still found', () => {
    const many: OpenInvoice[] = Array.from({ length: 60 }, (_, k) => ({
      id: 2000n + BigInt(k),
      customerId: 4n,
      number: `G-${1000 + k}`,
      currency: 'EUR',
      openMinor: 50_000n + BigInt(k) * 1_009n,
      issueDate: d('2026-01-05'),
      dueDate: d(`2026-0${2 + Math.floor(k / 20)}-${String(1 + (k % 20)).padStart(2, '0')}`),
    }));
    const target = many[41]!.openMinor + many[47]!.openMinor + many[52]!.openMinor + many[59]!.openMinor;
    const all = exactCombinations(many, target, 4);
    const customers: KnownCustomer[] = [{ id: 4n, name: 'Garage Dupont', ibans: ['FR1420041010050500013M02606'] }];
    const [o] = matchLines([line({ amountMinor: target, counterpartyIban: 'FR1420041010050500013M02606', remittanceText: 'VIREMENT' })], many, customers);
    const ps = o!.kind === 'auto' ? [o!.proposal, ...o!.alternatives] : o!.kind === 'review' ? o!.candidates : [];
    const found = ps.map((p) => invoicesOf(p).join(' + '));
    // Whatever the search returns, each is exact; and when there is only one, it is that one.
    for (const p of ps) expect(p.allocations.reduce((s, a) => s + a.amountMinor, 0n)).toBe(target);
    if (all.length === 1) expect(found).toEqual(['G-1041 + G-1047 + G-1052 + G-1059']);
    else expect(found.length).toBeGreaterThan(1);
  });
});
