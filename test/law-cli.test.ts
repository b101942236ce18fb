import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'relance-law-cli-'));
const env = { ...process.env, RELANCE_DATA_DIR: dir, DATABASE_URL: '', RELANCE_LANG: 'en' };
const relance = (args: string[]) => run('node', ['bin/relance.mjs', ...args], { env, cwd: process.cwd() });
const fail = (args: string[]) => relance(args).then(
  () => {
    throw new Error(`expected relance ${args.join(' ')} to fail`);
  },
  (e: { code: number; stderr: string }) => e,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const example = ['late-fees', '--jurisdiction', 'FR', '--debtor', 'business', '--amount', '12000.00', '--currency', 'EUR', '--due', '2025-06-15', '--paid', '2025-09-15'];

describe('relance late-fees and rates', () => {
  it('prints the worked example as JSON with amounts as decimal strings', async () => {
    const { stdout } = await relance([...example, '--json']);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ interest: '372.43', indemnity: '40.00', total: '412.43', currency: 'EUR', provisional: false });
    expect(Object.keys(json).slice(0, 6)).toEqual(['interest', 'indemnity', 'total', 'currency', 'periods', 'provisional']);
    expect(json.periods).toEqual([
      expect.objectContaining({ from: '2025-06-16', to: '2025-06-30', days: 15, ratePercent: '13.15', base: '12000.00', interest: '64.85', provisional: false }),
      expect.objectContaining({ from: '2025-07-01', to: '2025-09-15', days: 77, ratePercent: '12.15', base: '12000.00', interest: '307.58', provisional: false }),
    ]);
  });

  it('prints a readable breakdown in French by default and in English on request', async () => {
    const fr = (await relance(example)).stdout;
    expect(fr).toContain('92 jours de retard');
    expect(fr).toMatch(/15 j × 13,15 % sur 12\u202f000,00\u202f€ = 64,85\u202f€/);
    expect(fr).toMatch(/Total : 412,43\u202f€/);
    const en = (await relance([...example, '--lang', 'en'])).stdout;
    expect(en).toContain('Total: €412.43');
  });

  it('refuses a contractual rate under the floor with the legal-rule exit code and names the floor', async () => {
    const e = await fail([...example, '--contract-rate', '10']);
    expect(e.code).toBe(7);
    expect(e.stderr).toMatch(/legal_rule.*below the legal floor of 11\.13%/);
  });

  it('flags a result past the last known rate until the operator sets the rate, then lists it', async () => {
    const late = ['late-fees', '--jurisdiction', 'FR', '--debtor', 'business', '--amount', '12000.00', '--due', '2026-06-15', '--paid', '2026-09-15', '--json'];
    const provisional = JSON.parse((await relance(late)).stdout);
    expect(provisional.provisional).toBe(true);
    expect(provisional.notes[0]).toContain('2026-H2');

    const set = await relance(['rates', 'set', '--table', 'ecb-mro', '--from', '2026-07-01', '--rate', '2.15']);
    expect(set.stdout).toContain('2026-07-01');
    const listed = JSON.parse((await relance(['rates', 'list', '--table', 'ecb-mro', '--json'])).stdout);
    expect(listed.tables[0].entries.at(-1)).toMatchObject({ from: '2026-07-01', ratePercent: '2.15', origin: 'operator' });

    const final = JSON.parse((await relance(late)).stdout);
    expect(final.provisional).toBe(false);
    expect(final.notes).toEqual([]);
  });

  it('validates rates set: table, date and rate', async () => {
    expect((await fail(['rates', 'set', '--table', 'libor', '--from', '2026-07-01', '--rate', '2'])).stderr).toMatch(/unknown rate table "libor"/);
    expect((await fail(['rates', 'set', '--table', 'ecb-mro', '--from', '2026-13-01', '--rate', '2'])).code).toBe(2);
    expect((await fail(['rates', 'set', '--table', 'ecb-mro', '--from', '2026-07-01', '--rate', 'two'])).stderr).toMatch(/not a rate/);
  });

  it('answers --help on every law command', async () => {
    for (const c of [['late-fees'], ['rates'], ['rates', 'list'], ['rates', 'set'], ['rates', 'remove']]) {
      expect((await relance([...c, '--help'])).stdout).toContain(`Usage: relance ${c.join(' ')}`);
    }
  });
});
