import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_TITLES, PLACE_WORDS, RelanceError, notFound, renderError, validation } from '../errors.ts';
import { defineErrors, ERROR_TABLES, langOf, type MessageTable } from './index.ts';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [p] : [];
  });
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function checkTable(name: string, table: MessageTable) {
  for (const [key, m] of Object.entries(table)) {
    expect(m.fr?.trim(), `${name}.${key} fr`).toBeTruthy();
    expect(m.en?.trim(), `${name}.${key} en`).toBeTruthy();
    expect(placeholders(m.fr), `${name}.${key}: same {placeholders} in fr and en`).toEqual(placeholders(m.en));
  }
}

describe('error message keys', () => {
  it('every table given to defineErrors has non-empty fr and en texts with the same {placeholders}', async () => {
    // Load every module that defines error texts, so each area's table is registered.
    const files = sourceFiles(SRC).filter((f) => readFileSync(f, 'utf8').includes('defineErrors('));
    for (const f of files) await import(f);
    const areas = [...ERROR_TABLES.keys()];
    expect(areas.length, `areas: ${areas.join(', ')}`).toBeGreaterThan(5);
    const files2 = files.map((f) => relative(SRC, f));
    expect(files2).toContain('errors.ts');
    for (const [area, table] of ERROR_TABLES) checkTable(area, table);
    checkTable('titles', ERROR_TITLES);
    checkTable('place', PLACE_WORDS);
    for (const code of Object.values(ERROR_CODES)) expect(ERROR_TITLES[code], code).toBeDefined();
  });

  it('an area table is checked by the same rule (a wrong table fails)', () => {
    expect(() => checkTable('bad', { x: { fr: 'facture {numero} introuvable', en: 'invoice {number} not found' } })).toThrow();
    expect(() => checkTable('bad', { x: { fr: '', en: 'x' } })).toThrow();
  });

  it('an error keeps English as its message and renders in French with the title and place words', () => {
    const E = defineErrors('test-area', { bad_date: { fr: 'la date « {value} » doit être au format JJ/MM/AAAA ou AAAA-MM-JJ', en: '"{value}" is not a date (DD/MM/YYYY or YYYY-MM-DD expected)' } });
    const e = validation(E('bad_date', { value: '31/02/2026' }), { file: 'f.csv', line: 4, field: 'due_date' });
    expect(e.message).toBe('"31/02/2026" is not a date (DD/MM/YYYY or YYYY-MM-DD expected)');
    expect(e.text?.key).toBe('test-area.bad_date');
    expect(e.describe()).toBe('f.csv:4 field due_date: "31/02/2026" is not a date (DD/MM/YYYY or YYYY-MM-DD expected)');
    expect(e.describe('fr')).toBe('fichier f.csv, ligne 4, champ due_date : la date « 31/02/2026 » doit être au format JJ/MM/AAAA ou AAAA-MM-JJ');
    expect(e.describe('en')).toBe('file f.csv, line 4, field due_date: "31/02/2026" is not a date (DD/MM/YYYY or YYYY-MM-DD expected)');
    expect(renderError(e, 'fr')).toEqual({
      code: 'validation',
      title: 'Donnée invalide',
      place: 'fichier f.csv, ligne 4, champ due_date',
      detail: 'la date « 31/02/2026 » doit être au format JJ/MM/AAAA ou AAAA-MM-JJ',
    });
    expect(renderError(e, 'en').title).toBe('Invalid input');
  });

  it('notFound names the thing in the language; an error without a key stays English', () => {
    const e = notFound('invoice', 'F-123');
    expect(e.message).toBe('invoice F-123 not found');
    expect(e.detail('fr')).toBe('facture F-123 introuvable');
    const plain = new RelanceError(ERROR_CODES.CONFLICT, 'plain English');
    expect(plain.detail('fr')).toBe('plain English');
    expect(renderError(plain, 'fr').title).toBe('Conflit');
    expect(renderError(new Error('boom'), 'fr')).toMatchObject({ code: 'internal', title: 'Erreur interne', detail: 'erreur interne' });
  });

  it('reads the language of a locale or an Accept-Language value', () => {
    expect(langOf('fr_FR.UTF-8')).toBe('fr');
    expect(langOf('fr')).toBe('fr');
    expect(langOf('fr-CA')).toBe('fr');
    expect(langOf('C.UTF-8')).toBe('en');
    expect(langOf('french')).toBe('en');
    expect(langOf('')).toBeUndefined();
    expect(langOf(undefined)).toBeUndefined();
  });
});
