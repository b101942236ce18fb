/**
 * Issue 15, "Security and reliability": one regression test per finding, named after it, on both
 * databases where a database is involved. Requests go through the Hono app as a browser's would
 * (session cookie, same-origin headers).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { sealLegacySecrets } from '../src/db/open.ts';
import { loadDeliverySettings, saveDeliverySettings } from '../src/delivery/settings.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { KEY_FILE, loadInstanceKey, setInstanceKey } from '../src/secrets.ts';
import { dbTargets } from './db.ts';

const PASSWORD = 'tilleul-boussole-42';
const HOST = 'relance.test';

async function session(db: Db, orgId: string, email: string, role: 'admin' | 'collector' | 'viewer' = 'admin'): Promise<Record<string, string>> {
  await db.tx((q) => addUser(q, orgId, { email, role, password: PASSWORD }));
  const s = await db.tx((q) => login(q, email, PASSWORD, { organisationId: orgId, now: new Date() }));
  return { cookie: `relance_session=${s.token}`, host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
}

const url = (path: string) => `http://${HOST}${path}`;

describe.each(dbTargets())('issue 15 on $name', (target) => {
  let db: Db;
  let orgA: string;
  let orgB: string;
  let adminA: Record<string, string>;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    db = await target.open();
    orgA = (await createOrganisation(db, { legalName: 'Menuiserie A' })).id;
    orgB = (await createOrganisation(db, { legalName: 'Serrurerie B' })).id;
    adminA = await session(db, orgA, 'admin-a@example.fr');
    app = createApp({ db, now: () => new Date() });
  });
  afterAll(async () => db?.close());

  const put = (path: string, body: unknown, headers = adminA) => app.request(url(path), { method: 'PUT', headers, body: JSON.stringify(body) });
  const post = (path: string, body: unknown, headers = adminA) => app.request(url(path), { method: 'POST', headers, body: JSON.stringify(body) });
  const get = (path: string, headers = adminA) => app.request(url(path), { headers });

  describe('15.1 secrets', () => {
    it('15.1 an organisation admin cannot make the server send an environment variable (smtpPasswordEnv, smsTokenEnv, registeredTokenEnv)', async () => {
      process.env.RELANCE_TEST_CANARY = 'postgres://owner:canary@db/relance';
      for (const field of ['smtpPasswordEnv', 'smsTokenEnv', 'registeredTokenEnv']) {
        const r = await put('/api/app/settings/delivery', { smtpHost: 'smtp.attacker.example', smsProvider: 'http', smsUrl: 'https://sms.attacker.example', [field]: 'RELANCE_TEST_CANARY' });
        expect(r.status).toBe(403);
        const p = (await r.json()) as { code: string; where: { field: string }; detail: string };
        expect(p.code).toBe('forbidden');
        expect(p.where.field).toBe(field);
        expect(p.detail).toMatch(/relance outbox settings/);
      }
      // Nothing of the refused requests was written (one transaction each).
      const [row] = await db.query<Record<string, unknown>>('SELECT * FROM delivery_settings WHERE organisation_id = $1', [orgA]);
      expect(row?.smtp_host ?? null).toBeNull();
      const settings = await loadDeliverySettings(db, orgA, process.env);
      expect(JSON.stringify(settings)).not.toContain('canary');
    });

    it('15.1 a secret entered in the web app is stored sealed (AES-256-GCM) and never returned, only "set / not set"', async () => {
      const secret = 'smtp-password-do-not-leak';
      const r = await put('/api/app/settings/delivery', { smtpHost: 'smtp.example.fr', smtpUser: 'relances', smtpPassword: secret, smsProvider: 'http', smsUrl: 'https://sms.example.fr', smsToken: 'sms-token-do-not-leak' });
      expect(r.status).toBe(200);
      const [row] = await db.query<{ smtp_password: string; sms_token: string }>('SELECT smtp_password, sms_token FROM delivery_settings WHERE organisation_id = $1', [orgA]);
      expect(row!.smtp_password).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
      expect(row!.smtp_password).not.toContain(secret);
      expect(Buffer.from(row!.smtp_password.slice(7), 'base64url').toString('latin1')).not.toContain(secret);
      // Sealed values differ each time (fresh nonce) and open only for their own organisation and field.
      const again = await put('/api/app/settings/delivery', { smtpPassword: secret });
      expect(again.status).toBe(200);
      const [row2] = await db.query<{ smtp_password: string }>('SELECT smtp_password FROM delivery_settings WHERE organisation_id = $1', [orgA]);
      expect(row2!.smtp_password).not.toBe(row!.smtp_password);
      const settings = await loadDeliverySettings(db, orgA);
      expect(settings.smtp?.password).toBe(secret);
      expect(settings.sms).toMatchObject({ token: 'sms-token-do-not-leak' });
      await db.query('INSERT INTO delivery_settings (organisation_id, smtp_host, smtp_password) VALUES ($1, $2, $3)', [orgB, 'smtp.b.fr', row2!.smtp_password]);
      await expect(loadDeliverySettings(db, orgB)).rejects.toThrow(/does not decrypt/);
      await db.query('DELETE FROM delivery_settings WHERE organisation_id = $1', [orgB]);

      const shown = await (await get('/api/app/settings')).text();
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain('sms-token-do-not-leak');
      expect(shown).not.toContain('enc:v1:');
      const delivery = (JSON.parse(shown) as { delivery: Record<string, unknown> }).delivery;
      expect(delivery).toMatchObject({ smtpPasswordSet: true, smsTokenSet: true, registeredTokenSet: false });
      // An empty field keeps the stored secret.
      await put('/api/app/settings/delivery', { smtpPassword: '', fromName: 'Menuiserie A' });
      expect((await loadDeliverySettings(db, orgA)).smtp?.password).toBe(secret);
    });

    it('15.1 a webhook signing secret is shown once at creation, stored sealed, never listed', async () => {
      const r = await post('/api/app/settings/webhooks', { url: 'https://hooks.example.com/relance', events: ['invoice.paid'] });
      expect(r.status).toBe(200);
      const created = (await r.json()) as { id: string; secret: string };
      expect(created.secret).toMatch(/^whsec_/);
      const [row] = await db.query<{ secret: string }>('SELECT secret FROM webhook_subscriptions WHERE organisation_id = $1 AND id = $2', [orgA, created.id]);
      expect(row!.secret).toMatch(/^enc:v1:/);
      expect(await (await get('/api/app/settings')).text()).not.toContain(created.secret);
    });

    it('15.1 secrets stored in clear before this version are sealed at the next start with a key', async () => {
      await db.query(
        `INSERT INTO delivery_settings (organisation_id, smtp_host, smtp_password) VALUES ($1, 'smtp.b.fr', 'legacy-clear-password')
         ON CONFLICT (organisation_id) DO UPDATE SET smtp_password = EXCLUDED.smtp_password`,
        [orgB],
      );
      expect((await loadDeliverySettings(db, orgB)).smtp?.password).toBe('legacy-clear-password');
      expect(await sealLegacySecrets(db)).toBeGreaterThanOrEqual(1);
      const [row] = await db.query<{ smtp_password: string }>('SELECT smtp_password FROM delivery_settings WHERE organisation_id = $1', [orgB]);
      expect(row!.smtp_password).toMatch(/^enc:v1:/);
      expect((await loadDeliverySettings(db, orgB)).smtp?.password).toBe('legacy-clear-password');
      expect(await sealLegacySecrets(db)).toBe(0);
    });

    it('15.1 without RELANCE_SECRET_KEY (PostgreSQL), storing a secret is refused with how to set the key', async () => {
      setInstanceKey(null);
      try {
        const r = await put('/api/app/settings/delivery', { smtpPassword: 'would-be-clear' });
        expect(r.status).toBe(500);
        const p = (await r.json()) as { code: string; detail: string };
        expect(p.code).toBe('config');
        expect(p.detail).toMatch(/RELANCE_SECRET_KEY/);
        expect(p.detail).toMatch(/openssl rand -base64 32/);
        expect(p.detail).not.toContain('would-be-clear');
      } finally {
        setInstanceKey(randomBytes(32));
      }
    });

    it('15.1 the operator (CLI on the server) may still name a variable, never one of the instance', async () => {
      await db.tx((q) => saveDeliverySettings(q, orgB, { smtpHost: 'smtp.b.fr', smtpPasswordEnv: 'RELANCE_TEST_SMTP' }, { operator: true }));
      expect((await loadDeliverySettings(db, orgB, { RELANCE_TEST_SMTP: 'from-env' })).smtp?.password).toBe('from-env');
      for (const name of ['DATABASE_URL', 'RELANCE_SECRET_KEY', 'PGPASSWORD']) {
        await expect(db.tx((q) => saveDeliverySettings(q, orgB, { smtpPasswordEnv: name }, { operator: true }))).rejects.toThrow(/belongs to the instance/);
      }
      // A row written before this version that names one is not resolved either.
      await db.query(`UPDATE delivery_settings SET smtp_password_env = 'DATABASE_URL' WHERE organisation_id = $1`, [orgB]);
      await expect(loadDeliverySettings(db, orgB, { DATABASE_URL: 'postgres://x' })).rejects.toThrow(/belongs to the instance/);
    });
  });
});

describe('15.1 the instance key', () => {
  it('15.1 on the embedded database the key is generated into the data folder once, readable by its owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relance-key-'));
    try {
      const first = loadInstanceKey({ secretKey: undefined, embedded: true, dataDir: dir });
      expect(first.source).toBe('generated');
      expect(statSync(join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
      const second = loadInstanceKey({ secretKey: undefined, embedded: true, dataDir: dir });
      expect(second.source).toBe('file');
      expect(second.key!.equals(first.key!)).toBe(true);
      expect(readFileSync(join(dir, KEY_FILE), 'utf8').trim()).toHaveLength(44);
      // The variable wins; on PostgreSQL without it there is no key.
      const env = randomBytes(32);
      expect(loadInstanceKey({ secretKey: env.toString('base64'), embedded: true, dataDir: dir }).key!.equals(env)).toBe(true);
      expect(loadInstanceKey({ secretKey: env.toString('hex'), embedded: false, dataDir: dir }).key!.equals(env)).toBe(true);
      expect(loadInstanceKey({ secretKey: undefined, embedded: false, dataDir: dir }).key).toBeNull();
      expect(() => loadInstanceKey({ secretKey: 'short', embedded: false, dataDir: dir })).toThrow(/32 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
