import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'relance-cli-'));
const env = { ...process.env, RELANCE_DATA_DIR: dir, DATABASE_URL: '', RELANCE_LANG: 'en' };
const relance = (args: string[]) => run('node', ['bin/relance.mjs', ...args], { env, cwd: process.cwd() });

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('relance CLI', () => {
  it('every command and subcommand has --help (checked in-process), and the binary answers it', async () => {
    const { buildProgram } = await import('../src/cli/program.ts');
    const { createCliContext } = await import('../src/cli/context.ts');
    const program = buildProgram(createCliContext());
    const walk = (cmd: import('commander').Command, path: string[]): string[][] =>
      cmd.commands.flatMap((c) => [[...path, c.name()], ...walk(c, [...path, c.name()])]);
    const all = walk(program, []);
    expect(all.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['migrate', 'seed', 'serve', 'run', 'preview', 'scenarios list', 'import bank', 'late-fees']));
    for (const path of all) {
      let cmd = program;
      for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
      const help = cmd.helpInformation();
      expect(help, path.join(' ')).toContain(`Usage: relance ${path.join(' ')}`);
      expect(cmd.description(), path.join(' ')).not.toBe('');
    }
    const { stdout } = await relance(['run', '--help']);
    expect(stdout).toContain('Usage: relance run');
    expect(stdout).toContain('--dry-run');
  });

  it('seeds the demo once, deterministic counts, and refuses a second seed with a conflict exit code', async () => {
    const { stdout } = await relance(['seed', '--demo', '--customers', '20', '--invoices', '150', '--date', '2026-11-22']);
    expect(stdout).toMatch(/20 customers, \d+ contacts, 150 invoices/);
    const again = await relance(['seed', '--demo']).catch((e) => e);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/demo organisation already exists/);
  });

  it('relance run: --dry-run --json prints the decisions and writes nothing; the real run makes them once', async () => {
    const dry = await relance(['run', '--date', '2026-11-22', '--dry-run', '--json']);
    const lines = dry.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ type: 'summary', dryRun: true, today: '2026-11-22' });
    const planned = lines.filter((l) => l.type === 'action');
    expect(planned.length).toBe(summary.actionsCreated);
    expect(planned.length).toBeGreaterThan(0);
    expect(planned[0]).toMatchObject({ plannedOn: '2026-11-22', invoices: expect.any(Array), channel: expect.any(String), step: expect.stringMatching(/^J[+-]\d+$/) });
    const real = await relance(['run', '--date', '2026-11-22', '--json']);
    const realLines = real.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(realLines.filter((l) => l.type === 'action')).toEqual(planned);
    const again = await relance(['run', '--date', '2026-11-22', '--json']);
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!)).toMatchObject({ actionsCreated: 0 });
    const invoice = planned[0].invoices[0];
    const preview = JSON.parse((await relance(['preview', '--invoice', invoice, '--date', '2026-11-22', '--json'])).stdout);
    expect(preview.lines.some((l: { state: string }) => l.state === 'done')).toBe(true);
  });

  it('a bad option value names the option and exits non-zero', async () => {
    const r = await relance(['seed', '--demo', '--date', '2026-02-30']).catch((e) => e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--date.*2026-02-30|2026-02-30.*not a calendar date/);
  });
});
