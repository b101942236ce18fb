import { describe, expect, it } from 'vitest';
import { parseCalendarDate } from '../domain/dates.ts';
import { parseAmount } from '../domain/money.ts';
import { amountOf, dateOf } from './values.ts';

const outcome = (f: () => unknown) => {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

describe('fast value parsers give what the general parsers give', () => {
  it('amounts', () => {
    const samples = ['0', '1', '12', '1234,56', '1234.56', '-12,5', '-0,00', '1234,5', '12,', ',5', '1.234,56', '1 234,56', '12,345', '+3', '€12', 'abc',
      '9999999999999,99', '99999999999999,99', '1e5', '0012,30', '-', '12.3.4'];
    for (const cur of ['EUR', 'JPY', 'KWD']) {
      for (const s of samples) expect(outcome(() => amountOf(s, cur)), `${s} ${cur}`).toEqual(outcome(() => parseAmount(s, cur)));
    }
  });
  it('dates', () => {
    const samples = ['20250131', '20250229', '20240229', '20251301', '20250100', '31/01/2025', '29/02/2025', '1/2/2025', '2025-01-31', '2025-02-30',
      '2025-01-31T10:00', '31.01.2025', '31-01-2025', '', 'x', '00000101', '99991231'];
    for (const s of samples) expect(outcome(() => dateOf(s)), s).toEqual(outcome(() => parseCalendarDate(s)));
  });
});
