import { describe, expect, it } from 'vitest';
import { divRoundHalfUp, formatMoney, parseAmount, toDecimalString } from './money.ts';

describe('money', () => {
  it('parses French and English amount notations into exact minor units', () => {
    expect(parseAmount('1 234,56')).toBe(123456n);
    expect(parseAmount('1\u202f234,56 €')).toBe(123456n);
    expect(parseAmount('1.234,56')).toBe(123456n);
    expect(parseAmount('1,234.56')).toBe(123456n);
    expect(parseAmount('12000.00')).toBe(1200000n);
    expect(parseAmount('-32,21')).toBe(-3221n);
    expect(parseAmount('0.1')).toBe(10n);
    expect(parseAmount('1.234.567')).toBe(123456700n);
    expect(parseAmount('5', 'JPY')).toBe(5n);
    // 0.1 + 0.2 style float errors cannot happen: 0.29 stays 29 cents
    expect(parseAmount('0.29')).toBe(29n);
  });

  it('refuses what is not an amount, or more decimals than the currency has, naming where', () => {
    expect(() => parseAmount('12,345', 'EUR', { line: 4, field: 'Montant' })).toThrow(/more than 2 decimals/);
    expect(() => parseAmount('abc', 'EUR', { line: 4, field: 'Montant' })).toThrow(/not an amount/);
    expect(() => parseAmount('')).toThrow(/not an amount/);
    try {
      parseAmount('x', 'EUR', { file: 'f.csv', line: 4, field: 'Montant' });
    } catch (e) {
      expect((e as { describe(): string }).describe()).toBe('f.csv:4 field Montant: "x" is not an amount');
    }
  });

  it('prints decimal strings and French/English formats', () => {
    expect(toDecimalString(41243n)).toBe('412.43');
    expect(toDecimalString(-5n)).toBe('-0.05');
    expect(toDecimalString(7n, 'JPY')).toBe('7');
    expect(formatMoney(123456n, 'EUR', 'fr')).toBe('1\u202f234,56\u202f€');
    expect(formatMoney(123456n, 'EUR', 'en')).toBe('€1,234.56');
    expect(formatMoney(-4000n, 'GBP', 'en')).toBe('-£40.00');
  });

  it('rounds half away from zero', () => {
    expect(divRoundHalfUp(5n, 2n)).toBe(3n);
    expect(divRoundHalfUp(-5n, 2n)).toBe(-3n);
    expect(divRoundHalfUp(4n, 3n)).toBe(1n);
  });
});
