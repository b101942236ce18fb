import { describe, expect, it } from 'vitest';
import { KeyFilter } from './key-filter.ts';

describe('KeyFilter', () => {
  it('never forgets a key it was given, and rarely claims one it was not', () => {
    const f = new KeyFilter();
    for (let i = 0; i < 200_000; i++) f.add(`FA-${String(i).padStart(7, '0')}`);
    for (let i = 0; i < 200_000; i++) expect(f.mightHave(`FA-${String(i).padStart(7, '0')}`)).toBe(true);
    let wrong = 0;
    for (let i = 200_000; i < 400_000; i++) if (f.mightHave(`FA-${String(i).padStart(7, '0')}`)) wrong++;
    // At 200,000 keys in 32 Mibit with 7 hashes the expected rate is far below 0.01%.
    expect(wrong).toBeLessThan(20);
    expect(f.size).toBe(200_000);
    expect(f.mightHave('')).toBe(false);
  });
});
