import { describe, expect, it } from 'vitest';
import { cliLang } from './exit.ts';

describe('the CLI language', () => {
  it('is RELANCE_LANG, else LC_ALL, else LANG (fr_* → fr), else English', () => {
    expect(cliLang({})).toBe('en');
    expect(cliLang({ LANG: 'fr_FR.UTF-8' })).toBe('fr');
    expect(cliLang({ LANG: 'C.UTF-8' })).toBe('en');
    expect(cliLang({ LC_ALL: 'en_GB.UTF-8', LANG: 'fr_FR.UTF-8' })).toBe('en');
    expect(cliLang({ LC_ALL: 'fr_BE.UTF-8', LANG: 'en_US.UTF-8' })).toBe('fr');
    expect(cliLang({ RELANCE_LANG: 'en', LANG: 'fr_FR.UTF-8' })).toBe('en');
    expect(cliLang({ RELANCE_LANG: 'fr', LC_ALL: 'en_US.UTF-8' })).toBe('fr');
    expect(cliLang({ RELANCE_LANG: 'de', LANG: 'fr_FR.UTF-8' })).toBe('fr');
  });
});
