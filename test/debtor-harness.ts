/**
 * What the debtor-facing tests share: the CLI run in-process on the test database (the same
 * commands a user types, in French or English), the web app's API behind a real session, and
 * what a worker wrote to the local outbox read back as the debtor gets it (.eml parsed by
 * mailparser, PDF read by pdftotext).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { addUser, login } from '../src/auth/index.ts';
import { buildProgram } from '../src/cli/program.ts';
import { loadConfig } from '../src/config.ts';
import type { Db } from '../src/db/driver.ts';
import { listLocalOutbox } from '../src/delivery/channels/email.ts';
import { createApp } from '../src/http/app.ts';

/** Runs `relance <args>` in-process against `db` (which stays open), in the language asked; returns what it printed. */
export async function cli(db: Db, orgId: string, args: string[], lang: 'fr' | 'en' = 'en'): Promise<string> {
  const out: string[] = [];
  const before = process.env.RELANCE_LANG;
  process.env.RELANCE_LANG = lang;
  try {
    const program = buildProgram({
      config: loadConfig(),
      openDb: async () => ({ ...db, close: async () => {} }),
      resolveOrg: async () => orgId,
      out: (line) => out.push(line),
    });
    program.exitOverride();
    await program.parseAsync(['node', 'relance', ...args]);
  } finally {
    if (before === undefined) delete process.env.RELANCE_LANG;
    else process.env.RELANCE_LANG = before;
  }
  return out.join('\n');
}

let users = 0;

/** The web app's API (/api/app) as a signed-in admin of the organisation, on a fixed clock. */
export async function webSession(db: Db, orgId: string, now: Date) {
  users++;
  const email = `controleur${users}@menuiserie.test`;
  const u = await db.tx((q) => addUser(q, orgId, { email, role: 'admin', password: 'a long enough password' }));
  const s = await db.tx((q) => login(q, u.email, 'a long enough password', { now }));
  const app = createApp({ db, now: () => now });
  const cookie = `relance_session=${s.token}`;
  return {
    async get<T>(path: string): Promise<T> {
      const r = await app.request(`/api/app${path}`, { headers: { cookie } });
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    },
    async send(method: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
      const r = await app.request(`/api/app${path}`, { method, headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
  };
}

/** Every .eml a worker wrote for the organisation, parsed as the debtor's mail client would. */
export async function outboxMails(dataDir: string, orgId: string): Promise<ParsedMail[]> {
  const files = listLocalOutbox(join(dataDir, 'outbox'), orgId);
  return Promise.all(files.map((f) => simpleParser(readFileSync(f.file))));
}

/** A text as read, non-breaking spaces made plain. */
export const plain = (s: string | null | undefined) => (s ?? '').replace(/[\u202f\u00a0]/g, ' ');

/** The text of a mail as read, non-breaking spaces made plain. */
export const mailText = (m: ParsedMail) => plain(m.text);

/** The subject of a mail as read, non-breaking spaces made plain. */
export const subject = (m: ParsedMail) => plain(m.subject);

/** The text of a PDF as pdftotext reads it (what a debtor reads on paper), spaces made plain. */
export function pdfText(pdf: Buffer | Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'relance-pdf-'));
  const file = join(dir, 'doc.pdf');
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/[\u202f\u00a0]/g, ' ');
}
