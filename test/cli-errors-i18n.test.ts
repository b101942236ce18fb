import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'relance-cli-i18n-'));
const base = { ...process.env, RELANCE_DATA_DIR: dir, DATABASE_URL: '', RELANCE_LANG: '', LC_ALL: '', LANG: '' };
const relance = (args: string[], env: Record<string, string> = {}) =>
  run('node', ['bin/relance.mjs', ...args], { env: { ...base, ...env }, cwd: process.cwd() }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI errors in the user’s language', () => {
  const file = join(dir, 'releve.csv');
  beforeAll(async () => {
    const seeded = await relance(['seed', '--demo', '--customers', '3', '--invoices', '10', '--date', '2026-11-22']);
    expect(seeded.code, seeded.stderr).toBe(0);
    // Line 3 has an impossible date.
    writeFileSync(file, 'Date;Libellé;Montant\n02/11/2026;VIR SEPA CLIENT A;100,00\n31/02/2026;VIR SEPA CLIENT B;50,00\n');
  }, 120_000);

  it('a bad bank statement line: French under RELANCE_LANG=fr, English under RELANCE_LANG=en, same code and exit code', async () => {
    const fr = await relance(['import', 'bank', file, '--dry-run'], { RELANCE_LANG: 'fr' });
    expect(fr.code).toBe(3);
    expect(fr.stderr).toBe(`relance: parse: fichier ${file}, ligne 3, champ bookingDate : « 31/02/2026 » n’est pas une date (JJ/MM/AAAA ou AAAA-MM-JJ attendu)\n`);

    const en = await relance(['import', 'bank', file, '--dry-run'], { RELANCE_LANG: 'en', LANG: 'fr_FR.UTF-8' });
    expect(en.code).toBe(3);
    expect(en.stderr).toBe(`relance: parse: file ${file}, line 3, field bookingDate: "31/02/2026" is not a date (dd/mm/yyyy or yyyy-mm-dd expected)\n`);
  }, 60_000);

  it('follows LANG / LC_ALL when RELANCE_LANG is not set, English by default', async () => {
    const viaLang = await relance(['import', 'bank', file, '--dry-run'], { LANG: 'fr_FR.UTF-8' });
    expect(viaLang.stderr).toMatch(/^relance: parse: fichier .*, ligne 3, champ bookingDate : /);
    const viaLcAll = await relance(['import', 'bank', file, '--dry-run'], { LC_ALL: 'en_US.UTF-8', LANG: 'fr_FR.UTF-8' });
    expect(viaLcAll.stderr).toMatch(/^relance: parse: file .*, line 3, field bookingDate: /);
    const none = await relance(['import', 'bank', join(dir, 'missing.csv')]);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/^relance: not_found: file .*missing\.csv: cannot read /);
    const noneFr = await relance(['import', 'bank', join(dir, 'missing.csv')], { RELANCE_LANG: 'fr' });
    expect(noneFr.stderr).toMatch(/^relance: not_found: fichier .*missing\.csv : impossible de lire /);
  }, 60_000);
});
