import { describe, expect, it } from 'vitest';
import type { CalendarDate } from './dates.ts';
import { creditorReference } from './identifiers.ts';
import { describeProposal, type KnownCustomer, type LineOutcome, type MatchLine, matchLines, nameSimilarity, type OpenInvoice } from './matching.ts';

const d = (s: string) => s as CalendarDate;
const ACME_IBAN = 'FR7630006000011234567890189';
const customers: KnownCustomer[] = [
  { id: 1n, name: 'SARL ACME Plomberie', ibans: [ACME_IBAN] },
  { id: 2n, name: 'SAS Dupont Transports', ibans: [] },
  { id: 3n, name: 'ETS Martin Optique', ibans: [] },
  { id: 4n, name: 'SARL Martin Optique', ibans: [] },
];
let nextId = 100n;
const inv = (customerId: bigint, number: string, openMinor: bigint, dueDate = '2026-03-01'): OpenInvoice => ({
  id: nextId++,
  customerId,
  number,
  currency: 'EUR',
  openMinor,
  issueDate: d('2026-01-15'),
  dueDate: d(dueDate),
});
const invoices = [
  inv(1n, 'F-2026-00101', 120_000n, '2026-02-01'),
  inv(1n, 'F-2026-00102', 45_000n, '2026-02-15'),
  inv(1n, 'F-2026-00103', 30_050n, '2026-03-01'),
  inv(2n, 'F-2026-00201', 99_900n),
  inv(2n, 'F-2026-00202', 10_000n),
  inv(3n, 'F-2026-00301', 5_000n),
  inv(4n, 'F-2026-00401', 5_000n),
];
const line = (over: Partial<MatchLine>): MatchLine => ({
  id: 'l1',
  bookingDate: d('2026-03-10'),
  amountMinor: 1n,
  currency: 'EUR',
  counterpartyName: null,
  counterpartyIban: null,
  remittanceText: null,
  creditorReference: null,
  label: null,
  reversal: false,
  ...over,
});
const one = (l: Partial<MatchLine>, settings = {}): LineOutcome => matchLines([line(l)], invoices, customers, settings)[0]!;
const auto = (o: LineOutcome) => {
  if (o.kind !== 'auto') throw new Error(`expected an automatic match, got ${o.kind}: ${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return o.proposal;
};
const allocated = (o: LineOutcome) => auto(o).allocations.map((a) => [a.number, a.amountMinor]);

describe('matching pass 1: references', () => {
  it('finds the invoice from its RF creditor reference', () => {
    const p = auto(one({ amountMinor: 45_000n, creditorReference: creditorReference('F-2026-00102') }));
    expect(p.pass).toBe('reference');
    expect(p.allocations.map((a) => a.number)).toEqual(['F-2026-00102']);
    expect(p.confidence).toBeGreaterThanOrEqual(0.99);
    expect(describeProposal(p, 'fr', 'EUR')).toBe(`Référence structurée ${creditorReference('F-2026-00102')} de la facture F-2026-00102`);
    expect(describeProposal(p, 'en', 'EUR')).toBe(`Structured creditor reference ${creditorReference('F-2026-00102')} of invoice F-2026-00102`);
  });

  it.each(['REGLEMENT FACT F-2026-00201', 'fact f2026 00201', 'FACTURE N° F/2026/00201', 'FA 2026-00201 MERCI', 'VIR F202600201'])(
    'reads the invoice number in "%s"',
    (text) => {
      expect(allocated(one({ amountMinor: 99_900n, remittanceText: text }))).toEqual([['F-2026-00201', 99_900n]]);
    },
  );

  it('settles several invoices named in one transfer', () => {
    expect(allocated(one({ amountMinor: 165_000n, remittanceText: 'FACTURES F-2026-00101 ET F-2026-00102' }))).toEqual([
      ['F-2026-00101', 120_000n],
      ['F-2026-00102', 45_000n],
    ]);
  });

  it('keeps an overpayment as customer credit and a partial payment as an open balance', () => {
    const over = auto(one({ amountMinor: 100_000n, remittanceText: 'FACT F-2026-00201', counterpartyName: 'DUPONT TRANSPORTS' }));
    expect(over.allocations.map((a) => a.amountMinor)).toEqual([99_900n]);
    expect(over.unallocatedMinor).toBe(100n);
    expect(describeProposal(over, 'fr', 'EUR')).toContain('trop-perçu de 1,00\u202f€ laissé en crédit du client');
    const partial = auto(one({ amountMinor: 50_000n, remittanceText: 'ACOMPTE FACT F-2026-00201', counterpartyName: 'Dupont Transports' }));
    expect(partial.allocations.map((a) => a.amountMinor)).toEqual([50_000n]);
    expect(describeProposal(partial, 'en', 'EUR')).toContain('partial payment: €499.00 still due');
  });

  it('writes off bank charges within the tolerance, or leaves them open', () => {
    const w = auto(one({ amountMinor: 99_000n, remittanceText: 'INVOICE F-2026-00201' }, { bankChargesToleranceMinor: 1500n }));
    expect(w.allocations.map((a) => a.amountMinor)).toEqual([99_000n]);
    expect(w.writeOffs.map((a) => [a.number, a.amountMinor])).toEqual([['F-2026-00201', 900n]]);
    const left = auto(one({ amountMinor: 99_000n, remittanceText: 'INVOICE F-2026-00201' }, { bankChargesToleranceMinor: 1500n, bankCharges: 'leave_open' }));
    expect(left.writeOffs).toEqual([]);
  });
});

describe('matching pass 2: known IBAN and amount', () => {
  it('one invoice, a combination, the whole balance', () => {
    expect(allocated(one({ amountMinor: 30_050n, counterpartyIban: ACME_IBAN }))).toEqual([['F-2026-00103', 30_050n]]);
    expect(allocated(one({ amountMinor: 75_050n, counterpartyIban: ACME_IBAN })).map((a) => a[0])).toEqual(['F-2026-00102', 'F-2026-00103']);
    const all = auto(one({ amountMinor: 195_050n, counterpartyIban: ACME_IBAN }));
    expect(all.reason.key).toBe('match.iban_balance');
    expect(all.allocations).toHaveLength(3);
  });

  it('sends an amount that fits nothing to review, applied oldest first', () => {
    const o = one({ amountMinor: 20_000n, counterpartyIban: ACME_IBAN });
    expect(o.kind).toBe('review');
    if (o.kind === 'review') expect(o.candidates[0]!.allocations.map((a) => a.number)).toEqual(['F-2026-00101']);
  });
});

describe('matching pass 3: name and amount', () => {
  it('matches a close name with the exact amount', () => {
    expect(allocated(one({ amountMinor: 10_000n, counterpartyName: 'DUPONT TRANSPORTS SAS' }))).toEqual([['F-2026-00202', 10_000n]]);
  });

  it('does not choose between homonyms', () => {
    const o = one({ amountMinor: 5_000n, counterpartyName: 'MARTIN OPTIQUE' });
    expect(o.kind).toBe('review');
    if (o.kind === 'review') expect(new Set(o.candidates.map((c) => c.customerId))).toEqual(new Set([3n, 4n]));
  });

  it('measures name similarity without legal forms, word order or truncation', () => {
    expect(nameSimilarity('DUPONT TRANSPORTS', 'SAS Dupont Transports')).toBe(1);
    expect(nameSimilarity('TRANSPORTS DUPONT', 'SAS Dupont Transports')).toBe(1);
    expect(nameSimilarity('ETABLISSEMENTS DUPONT TRANSP', 'SAS Dupont Transports')).toBeGreaterThanOrEqual(0.9);
    expect(nameSimilarity('ORANGE SA', 'SAS Dupont Transports')).toBeLessThan(0.3);
  });
});

describe('matching across a batch', () => {
  it('ignores debits, flags reversals, and never gives one invoice to two lines', () => {
    const out = matchLines(
      [
        line({ id: 'a', amountMinor: -5_000n, label: 'PRLV URSSAF' }),
        line({ id: 'b', amountMinor: -45_000n, reversal: true, counterpartyIban: ACME_IBAN }),
        line({ id: 'c', amountMinor: 45_000n, counterpartyIban: ACME_IBAN }),
        line({ id: 'd', amountMinor: 45_000n, remittanceText: 'FACT F-2026-00102' }),
      ],
      invoices,
      customers,
    );
    expect(out.map((o) => o.kind)).toEqual(['ignored', 'reversal', 'review', 'auto']);
    // The reference wins the invoice; the IBAN-only line no longer finds an equal amount.
    expect(auto(out[3]!).allocations[0]!.number).toBe('F-2026-00102');
  });
});
