/**
 * Issue 15 through the `relance` binary on the embedded database: account commands, the data
 * folder's lock, backup and restore. Each test spawns real processes on one data folder.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'relance-sec-cli-'));
const env = { ...process.env, RELANCE_DATA_DIR: dir, DATABASE_URL: '', RELANCE_LANG: 'en', RELANCE_SECRET_KEY: '' };
const relance = (args: string[]) => execFileP('node', ['bin/relance.mjs', ...args], { env, cwd: process.cwd() });

/** Runs the binary with `input` on standard input. */
function relanceWithInput(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/relance.mjs', ...args], { env, cwd: process.cwd() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  await relance(['seed', '--demo', '--customers', '5', '--invoices', '20', '--date', '2026-11-22']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relance users (operator, on the server)', () => {
  it('15.5 `relance users add --password` says a new account was created with that password (not "password unchanged")', async () => {
    const created = await relance(['users', 'add', '--email', 'Camille@example.fr', '--role', 'collector', '--password', 'sept cailloux dans la poche']);
    expect(created.stdout).toMatch(/user camille@example\.fr \(collector\) created with the password given/);
    expect(created.stdout).not.toMatch(/unchanged/);
    const again = await relance(['users', 'add', '--email', 'camille@example.fr', '--role', 'viewer', '--password', 'un autre secret assez long']);
    expect(again.stdout).toMatch(/role viewer in this organisation \(password unchanged\)/);
    const weak = await relance(['users', 'add', '--email', 'weak@example.fr', '--role', 'viewer', '--password', '            ']).catch((e) => e);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/only spaces/);
  });

  it('15.5 `relance users password --email E --password-stdin` sets the password and signs every session out; a weak one is refused', async () => {
    const weak = await relanceWithInput(['users', 'password', '--email', 'camille@example.fr', '--password-stdin'], 'azertyuiop123\n');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/most common/);
    const ok = await relanceWithInput(['users', 'password', '--email', 'camille@example.fr', '--password-stdin'], 'trois pommes vertes au marche\n');
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/password of camille@example\.fr changed; \d+ session\(s\) signed out/);
    const unknown = await relanceWithInput(['users', 'password', '--email', 'nobody@example.fr', '--password-stdin'], 'le nouveau mot de passe\n');
    expect(unknown.code).toBe(4);
  });
});
