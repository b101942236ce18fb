import { describe, expect, it } from 'vitest';
import { EPC_MAX_BYTES, epcPayload } from '../src/domain/epc-qr.ts';
import { creditorReference, isValidCreditorReference, isValidIban, mod97 } from '../src/domain/identifiers.ts';
import { RelanceError } from '../src/errors.ts';

const base = {
  name: 'Atelier Dupont SAS',
  iban: 'FR76 3000 6000 0112 3456 7890 189',
  amountMinor: 41_243n,
  reference: 'RF18539007547034',
};

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RelanceError);
    expect((e as RelanceError).code).toBe('validation');
    return (e as RelanceError).where?.field;
  }
  throw new Error('expected a validation error');
}

describe('mod-97 examples of docs/formats.md §5', () => {
  it('computes the RF reference of 539007547034 as RF18539007547034', () => {
    expect(mod97('539007547034271500')).toBe(80);
    expect(creditorReference('539007547034')).toBe('RF18539007547034');
    expect(isValidCreditorReference('RF18539007547034')).toBe(true);
    expect(isValidCreditorReference('RF19539007547034')).toBe(false);
  });
  it('accepts the IBAN examples and refuses a one-digit change', () => {
    expect(mod97('30006000011234567890189152776')).toBe(1);
    expect(isValidIban('FR7630006000011234567890189')).toBe(true);
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('FR7630006000011234567890188')).toBe(false);
  });
  it('gives every invoice number an RF reference that validates (the convention bank matching reads)', () => {
    for (const n of ['F-2026-0001', 'FA2026/118', 'inv 42']) {
      const rf = creditorReference(n);
      expect(isValidCreditorReference(rf)).toBe(true);
      expect(rf.length).toBeLessThanOrEqual(25);
    }
  });
});

describe('EPC069-12 payload', () => {
  it('writes the twelve elements in order, LF separated, without a trailing separator', () => {
    const p = epcPayload({ ...base, bic: 'BNPAFRPP', purpose: 'SUPP', information: 'Merci' });
    const lines = p.split('\n');
    expect(lines).toEqual([
      'BCD', // 1 service tag
      '002', // 2 version
      '1', // 3 character set UTF-8
      'SCT', // 4 identification
      'BNPAFRPP', // 5 BIC
      'Atelier Dupont SAS', // 6 name
      'FR7630006000011234567890189', // 7 IBAN, spaces removed
      'EUR412.43', // 8 amount
      'SUPP', // 9 purpose
      'RF18539007547034', // 10 structured reference
      '', // 11 text (empty: the reference is given)
      'Merci', // 12 information
    ]);
    expect(p.endsWith('\n')).toBe(false);
    expect(p.includes('\r')).toBe(false);
  });

  it('drops trailing empty elements: the RF reference is the last line', () => {
    expect(epcPayload(base)).toBe('BCD\n002\n1\nSCT\n\nAtelier Dupont SAS\nFR7630006000011234567890189\nEUR412.43\n\nRF18539007547034');
  });

  it('puts a remittance text in element 11, after an empty reference line', () => {
    const p = epcPayload({ ...base, reference: null, text: 'Factures F-1 F-2' });
    expect(p.split('\n').slice(7)).toEqual(['EUR412.43', '', '', 'Factures F-1 F-2']);
  });

  it('formats amounts with a dot and two decimals', () => {
    expect(epcPayload({ ...base, amountMinor: 1n }).split('\n')[7]).toBe('EUR0.01');
    expect(epcPayload({ ...base, amountMinor: 100_000n }).split('\n')[7]).toBe('EUR1000.00');
    expect(epcPayload({ ...base, amountMinor: 99_999_999_999n }).split('\n')[7]).toBe('EUR999999999.99');
    expect(epcPayload({ ...base, amountMinor: null }).split('\n')[7]).toBe('');
  });

  it('keeps UTF-8 names as they are (charset 1)', () => {
    const p = epcPayload({ ...base, name: 'Société Générale Œuvres «Ça»' });
    expect(p.split('\n')[5]).toBe('Société Générale Œuvres «Ça»');
    expect(p.split('\n')[2]).toBe('1');
  });

  it('refuses each bad field, naming it', () => {
    expect(fieldOf(() => epcPayload({ ...base, version: '001' }))).toBe('epc.bic');
    expect(fieldOf(() => epcPayload({ ...base, version: '003' as '002' }))).toBe('epc.version');
    expect(fieldOf(() => epcPayload({ ...base, bic: 'BNP' }))).toBe('epc.bic');
    expect(fieldOf(() => epcPayload({ ...base, name: '' }))).toBe('epc.name');
    expect(fieldOf(() => epcPayload({ ...base, name: 'x'.repeat(71) }))).toBe('epc.name');
    expect(fieldOf(() => epcPayload({ ...base, name: 'a\nb' }))).toBe('epc.name');
    expect(fieldOf(() => epcPayload({ ...base, iban: 'FR7630006000011234567890188' }))).toBe('epc.iban');
    expect(fieldOf(() => epcPayload({ ...base, amountMinor: 0n }))).toBe('epc.amount');
    expect(fieldOf(() => epcPayload({ ...base, amountMinor: 100_000_000_000n }))).toBe('epc.amount');
    expect(fieldOf(() => epcPayload({ ...base, currency: 'GBP' }))).toBe('epc.amount');
    expect(fieldOf(() => epcPayload({ ...base, purpose: 'SUPPLY' }))).toBe('epc.purpose');
    expect(fieldOf(() => epcPayload({ ...base, reference: 'RF19539007547034' }))).toBe('epc.reference');
    expect(fieldOf(() => epcPayload({ ...base, text: 'both' }))).toBe('epc.reference');
    expect(fieldOf(() => epcPayload({ ...base, reference: null, text: 't'.repeat(141) }))).toBe('epc.text');
    expect(fieldOf(() => epcPayload({ ...base, information: 'i'.repeat(71) }))).toBe('epc.information');
  });

  it('accepts version 001 with a BIC and a payload of exactly 331 bytes', () => {
    const p = epcPayload({ ...base, version: '001', bic: 'BNPAFRPPXXX', name: 'n'.repeat(70), reference: null, text: 't'.repeat(123), information: 'i'.repeat(70) });
    expect(new TextEncoder().encode(p).length).toBe(EPC_MAX_BYTES);
  });

  it('refuses a payload over 331 bytes (multi-byte characters count as bytes)', () => {
    expect(fieldOf(() => epcPayload({ ...base, bic: 'BNPAFRPPXXX', name: 'é'.repeat(70), reference: null, text: 'é'.repeat(140), information: 'é'.repeat(70) }))).toBe('epc.payload');
  });
});
