import { describe, expect, it } from 'vitest';
import { creditorReference, frenchVatFromSiren, isValidCreditorReference, isValidIban, isValidSiren, isValidSiret, mod97 } from './identifiers.ts';

describe('identifiers (docs/formats.md §5)', () => {
  it('IBAN mod-97 examples', () => {
    expect(mod97('30006000011234567890189152776')).toBe(1);
    expect(isValidIban('FR76 3000 6000 0112 3456 7890 189')).toBe(true);
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('FR7630006000011234567890188')).toBe(false);
    expect(isValidIban('FR763000600001123456789018')).toBe(false); // wrong length
  });

  it('ISO 11649 RF creditor reference example', () => {
    expect(creditorReference('539007547034')).toBe('RF18539007547034');
    expect(isValidCreditorReference('RF18 5390 0754 7034')).toBe(true);
    expect(isValidCreditorReference('RF19539007547034')).toBe(false);
    expect(isValidCreditorReference(creditorReference('FA2611-000123'))).toBe(true);
  });

  it('SIREN, SIRET (with the La Poste exception) and the French VAT key', () => {
    expect(isValidSiren('732 829 320')).toBe(true);
    expect(isValidSiren('732829321')).toBe(false);
    expect(isValidSiret('73282932000074')).toBe(true);
    expect(isValidSiret('35600000000060')).toBe(true); // digit sum 20
    expect(isValidSiret('35600000000061')).toBe(false);
    expect(frenchVatFromSiren('404833048')).toBe('FR83404833048');
  });
});
