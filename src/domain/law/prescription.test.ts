import { describe, expect, it } from 'vitest';
import type { CalendarDate } from '../dates.ts';
import { prescriptionStatus } from './index.ts';

const d = (s: string) => s as CalendarDate;

describe('limitation periods (prescription)', () => {
  it('runs 5 years between businesses, to the same calendar day inclusive', () => {
    const at = (today: string) => prescriptionStatus({ debtor: 'business', from: d('2020-03-15'), today: d(today) });
    expect(at('2024-06-01')).toMatchObject({ years: 5, legalBasis: 'C. com. L110-4', deadline: '2025-03-15', status: 'running' });
    expect(at('2025-01-10').status).toBe('approaching');
    expect(at('2025-03-15')).toMatchObject({ daysLeft: 0, status: 'approaching' });
    expect(at('2025-03-16')).toMatchObject({ daysLeft: -1, status: 'prescribed' });
  });

  it('runs 2 years against consumers', () => {
    const at = (today: string) => prescriptionStatus({ debtor: 'consumer', from: d('2024-01-10'), today: d(today) });
    expect(at('2025-06-01')).toMatchObject({ years: 2, legalBasis: 'C. conso L218-2', deadline: '2026-01-10', status: 'running' });
    expect(at('2025-11-01')).toMatchObject({ daysLeft: 70, status: 'approaching' });
    expect(at('2026-01-11').status).toBe('prescribed');
  });

  it('starts again from an acknowledgment of the debt, and handles 29 February', () => {
    expect(prescriptionStatus({ debtor: 'consumer', from: d('2024-01-10'), today: d('2026-02-01'), interruptedOn: d('2025-01-01') })).toMatchObject({
      deadline: '2027-01-01',
      status: 'running',
    });
    expect(prescriptionStatus({ debtor: 'consumer', from: d('2024-02-29'), today: d('2025-01-01') }).deadline).toBe('2026-02-28');
  });
});
