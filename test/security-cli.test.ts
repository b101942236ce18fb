/**
 * Issue 15 through the `relance` binary on the embedded database: account commands, the data
 * folder's lock, backup and restore. Each test spawns real processes on one data folder.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { openDatabase } from '../src/db/open.ts';

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

// Each test starts several processes, each opening the embedded database: minutes on a loaded machine.
const SLOW = { timeout: 300_000 };

beforeAll(async () => {
  await relance(['seed', '--demo', '--customers', '5', '--invoices', '20', '--date', '2026-11-22']);
}, SLOW.timeout);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relance users (operator, on the server)', SLOW, () => {
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

/** Starts `relance serve` on the data folder; resolves once it answers. */
async function serve(): Promise<{ child: ChildProcess; url: string; stop: () => Promise<number | null> }> {
  const child = spawn('node', ['bin/relance.mjs', 'serve', '--port', '0', '--no-cycle', '--no-worker'], { env, cwd: process.cwd() });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Relance is running at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`relance serve exited ${code}: ${out}`)));
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  return { child, url, stop };
}

/** Every table of the database, each row as JSON, sorted: two databases with the same content compare equal. */
async function everyTable(db: Db): Promise<Record<string, string[]>> {
  const tables = await db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`);
  const out: Record<string, string[]> = {};
  for (const { tablename } of tables) {
    const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${tablename}`);
    out[tablename] = rows
      .map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)))
      .sort();
  }
  return out;
}

describe('the embedded database is opened by one process at a time, and backed up while it runs', SLOW, () => {
  const backup = join(dir, 'backup.tar.gz');
  let before: Record<string, string[]>;

  it('15.13 a second process on the same data folder refuses, saying which process holds it and how to proceed', async () => {
    const server = await serve();
    try {
      const second = await relance(['api-keys', 'create', '--scope', 'read']).catch((e) => e);
      expect(second.code).toBe(11);
      expect(second.stderr).toMatch(/in_use: .*in use by process \d+ \(relance serve/);
      expect(second.stderr).toMatch(/Stop that process .* or run it against PostgreSQL with DATABASE_URL/);
      const lock = JSON.parse(readFileSync(join(dir, 'relance.lock'), 'utf8'));
      expect(lock).toMatchObject({ pid: server.child.pid, command: expect.stringMatching(/^relance serve/) });

      // 15.14: while it runs, the backup goes through it.
      const made = await relance(['backup', '--out', backup]);
      expect(made.stdout).toMatch(/backup written to .*backup\.tar\.gz/);
      expect(readFileSync(backup).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(statSync(join(dir, 'operator.token')).mode & 0o777).toBe(0o600);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(existsSync(join(dir, 'relance.lock'))).toBe(false);
    expect(existsSync(join(dir, 'operator.token'))).toBe(false);
  });

  it('15.13 a lock left by a process that died is taken over', async () => {
    const dead = spawn('node', ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(join(dir, 'relance.lock'), JSON.stringify({ pid: dead.pid, procStart: '1', startedAt: '2026-01-01T00:00:00Z', command: 'relance serve', host: hostname(), token: 'old' }));
    const listed = await relance(['api-keys', 'list']);
    expect(listed.stderr).toBe('');
    expect(existsSync(join(dir, 'relance.lock'))).toBe(false);
  });

  it('15.14 relance restore puts back every table as it was backed up', async () => {
    const db = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    try {
      before = await everyTable(db);
    } finally {
      await db.close();
    }
    expect(Object.keys(before).length).toBeGreaterThan(30);
    expect(before.invoices!.length).toBe(20);
    // The database changes after the backup...
    await relance(['users', 'add', '--email', 'after-backup@example.fr', '--role', 'viewer']);
    // ...a restore over it must be asked for...
    const refused = await relance(['restore', backup]).catch((e) => e);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/--replace/);
    const restored = await relance(['restore', backup, '--replace']);
    expect(restored.stdout).toMatch(/restored .* kept in .*pglite\.before-restore-/);
    expect(readdirSync(dir).some((f) => f.startsWith('pglite.before-restore-'))).toBe(true);
    const db2 = await openDatabase({ dataDir: dir, databaseUrl: undefined });
    try {
      const after = await everyTable(db2);
      expect(Object.keys(after)).toEqual(Object.keys(before));
      for (const t of Object.keys(before)) expect(after[t], t).toEqual(before[t]);
    } finally {
      await db2.close();
    }
    const notBackup = join(dir, 'not-a-backup.txt');
    writeFileSync(notBackup, 'hello');
    const bad = await relance(['restore', notBackup, '--replace']).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a Relance backup/);
  });
});
