import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'relance-cli-'));
const env = { ...process.env, RELANCE_DATA_DIR: dir, DATABASE_URL: '' };
const relance = (args: string[]) => run('node', ['bin/relance.mjs', ...args], { env, cwd: process.cwd() });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relance CLI', () => {
  it('every command answers --help', async () => {
    const { stdout } = await relance(['--help']);
    const commands = [...stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['migrate', 'seed', 'serve']));
    for (const c of commands) {
      const out = await relance([c, '--help']);
      expect(out.stdout).toContain(`Usage: relance ${c}`);
    }
  });

  it('seeds the demo once, deterministic counts, and refuses a second seed with a conflict exit code', async () => {
    const { stdout } = await relance(['seed', '--demo', '--customers', '20', '--invoices', '150', '--date', '2026-11-22']);
    expect(stdout).toMatch(/20 customers, \d+ contacts, 150 invoices/);
    const again = await relance(['seed', '--demo']).catch((e) => e);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/demo organisation already exists/);
  });

  it('a bad option value names the option and exits non-zero', async () => {
    const r = await relance(['seed', '--demo', '--date', '2026-02-30']).catch((e) => e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--date.*2026-02-30|2026-02-30.*not a calendar date/);
  });
});
