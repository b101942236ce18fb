import { describe, expect, it } from 'vitest';
import { RelanceError } from '../errors.ts';
import { mapDbError } from './driver.ts';

describe('mapDbError', () => {
  it('turns ledger trigger messages and known constraints into French and English texts, English message unchanged', () => {
    const msg = 'an allocation refers to a payment that does not exist in this organisation or is in another currency (currencies do not match)';
    const e = mapDbError({ code: 'RL001', message: msg }) as RelanceError;
    expect(e).toBeInstanceOf(RelanceError);
    expect(e.code).toBe('ledger_invariant');
    expect(e.message).toBe(msg);
    expect(e.detail('fr')).toBe('une affectation porte sur un paiement qui n’existe pas dans cette organisation ou qui est dans une autre devise (les devises ne correspondent pas)');
    const has = mapDbError({ code: 'RL001', message: 'payments 12 has allocations: reverse them first' }) as RelanceError;
    expect(has.message).toBe('payments 12 has allocations: reverse them first');
    expect(has.detail('fr')).toBe('le paiement 12 a des affectations : annulez-les d’abord');
    const other = mapDbError({ code: 'RL001', message: 'something new' }) as RelanceError;
    expect(other.message).toBe('something new');
    expect(other.detail('fr')).toBe('la base de données a refusé la modification : something new');
    const dup = mapDbError({ code: '23505', constraint: 'invoices_number_unique' }) as RelanceError;
    expect(dup.code).toBe('conflict');
    expect(dup.message).toBe('an invoice with this number already exists in the organisation');
    expect(dup.detail('fr')).toBe('une facture portant ce numéro existe déjà dans l’organisation');
    const check = mapDbError({ code: '23514', constraint: 'some_check' }) as RelanceError;
    expect(check.message).toBe('constraint some_check refused the change');
    expect(check.detail('fr')).toBe('la contrainte some_check a refusé la modification');
  });
});
