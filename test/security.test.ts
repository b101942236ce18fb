/**
 * Issue 15, "Security and reliability": one regression test per finding, named after it, on both
 * databases where a database is involved. Requests go through the Hono app as a browser's would
 * (session cookie, same-origin headers).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadConfig } from '../src/config.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import { APP_ROUTES } from '../src/http/routes/app/index.ts';
import type { Db } from '../src/db/driver.ts';
import { sealLegacySecrets } from '../src/db/open.ts';
import { readSecret } from '../src/delivery/secrets.ts';
import { type DeliverySettings, loadDeliverySettings, saveDeliverySettings } from '../src/delivery/settings.ts';
import { createApp } from '../src/http/app.ts';
import { validateTemplate } from '../src/documents/engine.ts';
import { sampleVariables } from '../src/documents/samples.ts';
import { createCustomer, createOrganisation } from '../src/ledger/repo.ts';
import { networkPolicy, refusalOf } from '../src/net/guard.ts';
import { createSubscription, deliverDue, emitEvent } from '../src/webhooks/index.ts';
import { KEY_FILE, loadInstanceKey, setInstanceKey } from '../src/secrets.ts';
import { dbTargets } from './db.ts';

const PASSWORD = 'tilleul-boussole-42';
/** This file's instance key, set again after the test that runs without one. */
const KEY = randomBytes(32);
setInstanceKey(KEY);
const HOST = 'relance.test';

async function session(db: Db, orgId: string, email: string, role: 'admin' | 'collector' | 'viewer' = 'admin'): Promise<Record<string, string>> {
  await db.tx((q) => addUser(q, orgId, { email, role, password: PASSWORD }));
  const s = await db.tx((q) => login(q, email, PASSWORD, { organisationId: orgId, now: new Date() }));
  return { cookie: `relance_session=${s.token}`, host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
}

const url = (path: string) => `http://${HOST}${path}`;

/** The SMTP password as the e-mail channel opens it. */
const smtpPassword = (s: DeliverySettings, env: NodeJS.ProcessEnv = {}) => (s.smtp?.password ? readSecret(s.smtp.password, 'email', 'smtp_password', env) : null);

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
      const settings = await loadDeliverySettings(db, orgA);
      expect(JSON.stringify(settings)).not.toContain('canary');
      expect(JSON.stringify(settings)).not.toContain('RELANCE_TEST_CANARY');
    });

    it('15.1 a secret entered in the web app is stored sealed (AES-256-GCM) and never returned, only "set / not set"', async () => {
      const secret = 'smtp-password-do-not-leak';
      const r = await put('/api/app/settings/delivery', { smtpHost: 'smtp.example.fr', smtpUser: 'relances', smtpPassword: secret, smsProvider: 'http', smsUrl: 'https://sms.example.fr', smsToken: 'sms-token-do-not-leak' });
      expect(r.status).toBe(200);
      const [row] = await db.query<{ smtp_password: string; sms_token: string }>(
        `SELECT smtp_password, providers->'sms'->'secrets'->>'token' AS sms_token FROM delivery_settings WHERE organisation_id = $1`,
        [orgA],
      );
      expect(row!.smtp_password).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
      expect(row!.sms_token).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/);
      expect(row!.smtp_password).not.toContain(secret);
      expect(Buffer.from(row!.smtp_password.slice(7), 'base64url').toString('latin1')).not.toContain(secret);
      // Sealed values differ each time (fresh nonce) and open only for their own organisation and field.
      const again = await put('/api/app/settings/delivery', { smtpPassword: secret });
      expect(again.status).toBe(200);
      const [row2] = await db.query<{ smtp_password: string }>('SELECT smtp_password FROM delivery_settings WHERE organisation_id = $1', [orgA]);
      expect(row2!.smtp_password).not.toBe(row!.smtp_password);
      const settings = await loadDeliverySettings(db, orgA);
      // Secrets are opened only by the channel that uses them, when its transport opens.
      expect(smtpPassword(settings)).toBe(secret);
      expect(readSecret(settings.providers.sms!.secrets.token!, 'sms', 'token', {})).toBe('sms-token-do-not-leak');
      await db.query('INSERT INTO delivery_settings (organisation_id, smtp_host, smtp_password) VALUES ($1, $2, $3)', [orgB, 'smtp.b.fr', row2!.smtp_password]);
      const copied = await loadDeliverySettings(db, orgB);
      expect(() => smtpPassword(copied)).toThrow(/does not decrypt/);
      await db.query('DELETE FROM delivery_settings WHERE organisation_id = $1', [orgB]);

      const shown = await (await get('/api/app/settings')).text();
      expect(shown).not.toContain(secret);
      expect(shown).not.toContain('sms-token-do-not-leak');
      expect(shown).not.toContain('enc:v1:');
      const delivery = (JSON.parse(shown) as { delivery: Record<string, unknown> }).delivery;
      expect(delivery).toMatchObject({ smtpPasswordSet: true, smsTokenSet: true, registeredTokenSet: false });
      // An empty field keeps the stored secret.
      await put('/api/app/settings/delivery', { smtpPassword: '', fromName: 'Menuiserie A' });
      expect(smtpPassword(await loadDeliverySettings(db, orgA))).toBe(secret);
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
      expect(smtpPassword(await loadDeliverySettings(db, orgB))).toBe('legacy-clear-password');
      expect(await sealLegacySecrets(db)).toBeGreaterThanOrEqual(1);
      const [row] = await db.query<{ smtp_password: string }>('SELECT smtp_password FROM delivery_settings WHERE organisation_id = $1', [orgB]);
      expect(row!.smtp_password).toMatch(/^enc:v1:/);
      expect(smtpPassword(await loadDeliverySettings(db, orgB))).toBe('legacy-clear-password');
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
        setInstanceKey(KEY);
      }
    });

    it('15.1 the operator (CLI on the server) may still name a variable, never one of the instance', async () => {
      await db.tx((q) => saveDeliverySettings(q, orgB, { smtpHost: 'smtp.b.fr', smtpPasswordEnv: 'RELANCE_TEST_SMTP' }, { operator: true }));
      expect(smtpPassword(await loadDeliverySettings(db, orgB), { RELANCE_TEST_SMTP: 'from-env' })).toBe('from-env');
      for (const name of ['DATABASE_URL', 'RELANCE_SECRET_KEY', 'PGPASSWORD']) {
        await expect(db.tx((q) => saveDeliverySettings(q, orgB, { smtpPasswordEnv: name }, { operator: true }))).rejects.toThrow(/belongs to the instance/);
      }
      // A row written before this version that names one is not resolved either.
      await db.query(`UPDATE delivery_settings SET smtp_password_env = 'DATABASE_URL' WHERE organisation_id = $1`, [orgB]);
      const loadedEnv = await loadDeliverySettings(db, orgB);
      expect(() => smtpPassword(loadedEnv, { DATABASE_URL: 'postgres://x' })).toThrow(/belongs to the instance/);
    });
  });

  describe('15.2 users are global, what an organisation admin does acts on its membership only', () => {
    let adminB: Record<string, string>;
    let adminBId: string;
    beforeAll(async () => {
      adminB = await session(db, orgB, 'admin-b@example.fr');
      adminBId = (await db.query<{ id: string }>(`SELECT id FROM users WHERE email = 'admin-b@example.fr'`))[0]!.id;
    });

    it('15.2 adding an existing person by e-mail gives the same answer as adding a new one, and changes nothing of their account', async () => {
      const [before] = await db.query<Record<string, unknown>>(`SELECT * FROM users WHERE email = 'admin-b@example.fr'`);
      const existing = await post('/api/app/settings/users', { email: 'Admin-B@example.fr', role: 'viewer', name: 'Renamed by A' });
      const fresh = await post('/api/app/settings/users', { email: 'nobody-yet@example.fr', role: 'viewer', name: 'New person' });
      expect(existing.status).toBe(200);
      expect(fresh.status).toBe(200);
      const a = (await existing.json()) as Record<string, unknown>;
      const b = (await fresh.json()) as Record<string, unknown>;
      const shape = (o: Record<string, unknown>) => JSON.stringify(o, (k, v) => (['email', 'token', 'path', 'expiresAt'].includes(k) ? typeof v : v));
      expect(shape(a)).toBe(shape(b));
      expect(a).not.toHaveProperty('userId');
      expect(a).not.toHaveProperty('password');
      const [after] = await db.query<Record<string, unknown>>(`SELECT * FROM users WHERE email = 'admin-b@example.fr'`);
      expect(after).toEqual(before);
      // Not a member of A until they accept: A sees an invitation, not B's person.
      const settings = (await (await get('/api/app/settings')).json()) as { users: { email: string }[]; invitations: { email: string }[] };
      expect(settings.users.map((u) => u.email)).not.toContain('admin-b@example.fr');
      expect(settings.invitations.map((u) => u.email)).toEqual(expect.arrayContaining(['admin-b@example.fr', 'nobody-yet@example.fr']));
    });

    it('15.2 an invitation is accepted once: an existing person with their own password, a new one by choosing a strong one', async () => {
      const invite = async (email: string) =>
        ((await (await post('/api/app/settings/users', { email, role: 'collector' })).json()) as { invitation: { token: string } }).invitation.token;
      const same = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
      const tokenB = await invite('admin-b@example.fr');
      const info = (await (await app.request(url('/api/auth/invitation'), { method: 'POST', headers: same, body: JSON.stringify({ token: tokenB }) })).json()) as Record<string, unknown>;
      expect(info).toMatchObject({ organisation: 'Menuiserie A', email: 'admin-b@example.fr', role: 'collector' });
      const accept = (token: string, password: string) => app.request(url('/api/auth/invitation/accept'), { method: 'POST', headers: same, body: JSON.stringify({ token, password }) });
      // A weak password is refused the same way for both (the rule is checked first).
      expect((await accept(tokenB, '            ')).status).toBe(400);
      expect((await accept(tokenB, 'an-unguessable-wrong-one')).status).toBe(401);
      const ok = await accept(tokenB, PASSWORD);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('set-cookie')).toMatch(/relance_session=/);
      expect((await accept(tokenB, PASSWORD)).status).toBe(404);
      const tokenNew = await invite('newcomer@example.fr');
      expect((await accept(tokenNew, 'azertyuiop123')).status).toBe(400);
      expect((await accept(tokenNew, 'quatre mots bien choisis')).status).toBe(200);
      const [m] = await db.query<{ role: string }>(
        `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'newcomer@example.fr' AND m.organisation_id = $1`,
        [orgA],
      );
      expect(m?.role).toBe('collector');
    });

    it('15.2 disabling, a role change and removal by organisation A leave the person untouched in organisation B', async () => {
      const [m] = await db.query('SELECT 1 FROM memberships WHERE organisation_id = $1 AND user_id = $2', [orgA, adminBId]);
      expect(m).toBeDefined();
      const inA = await db.tx((q) => login(q, 'admin-b@example.fr', PASSWORD, { organisationId: orgA, now: new Date() }));
      const cookieA = { ...adminB, cookie: `relance_session=${inA.token}` };
      expect((await put(`/api/app/settings/users/${adminBId}`, { disabled: true })).status).toBe(200);
      expect((await get('/api/app/me', cookieA)).status).toBe(401);
      await expect(db.tx((q) => login(q, 'admin-b@example.fr', PASSWORD, { organisationId: orgA, now: new Date() }))).rejects.toThrow(/no access/);
      // Still admin of B, signed in there, and can sign in again.
      expect((await get('/api/app/me', adminB)).status).toBe(200);
      expect((await db.tx((q) => login(q, 'admin-b@example.fr', PASSWORD, { now: new Date() }))).principal).toMatchObject({ organisationId: orgB, role: 'admin' });
      const [u] = await db.query<{ disabled_at: string | null }>('SELECT disabled_at FROM users WHERE id = $1', [adminBId]);
      expect(u!.disabled_at).toBeNull();
      expect((await put(`/api/app/settings/users/${adminBId}`, { disabled: false, role: 'viewer' })).status).toBe(200);
      const roles = await db.query<{ organisation_id: string; role: string }>('SELECT organisation_id, role FROM memberships WHERE user_id = $1', [adminBId]);
      expect(Object.fromEntries(roles.map((r) => [r.organisation_id, r.role]))).toEqual({ [orgA]: 'viewer', [orgB]: 'admin' });
      expect((await app.request(url(`/api/app/settings/users/${adminBId}`), { method: 'DELETE', headers: adminA })).status).toBe(200);
      expect(await db.query('SELECT 1 FROM memberships WHERE user_id = $1 AND organisation_id = $2', [adminBId, orgA])).toHaveLength(0);
      expect((await get('/api/app/me', adminB)).status).toBe(200);
      // A person who is not a member of A cannot be changed from A.
      expect((await put(`/api/app/settings/users/${adminBId}`, { disabled: true })).status).toBe(404);
    });
  });

  describe('15.4 legal rates', () => {
    it('15.4 an organisation admin cannot change the instance-wide legal rate tables (web app and API: 403), which would move every other organisation\'s late fees', async () => {
      const web = await post('/api/app/settings/rates', { table: 'ecb-mro', from: '2026-07-01', ratePercent: '90' });
      expect(web.status).toBe(403);
      expect(((await web.json()) as { detail: string }).detail).toMatch(/relance rates set/);
      expect((await app.request(url('/api/app/settings/rates/ecb-mro/2026-07-01'), { method: 'DELETE', headers: adminA })).status).toBe(403);
      const api = await app.request(url('/api/v1/rates'), { method: 'POST', headers: adminA, body: JSON.stringify({ table: 'ecb-mro', from: '2026-07-01', ratePercent: '90' }) });
      expect(api.status).toBe(403);
      expect(await db.query('SELECT 1 FROM rate_overrides')).toHaveLength(0);
    });

    it('15.4 an organisation sets its own contractual rate, which no other organisation sees', async () => {
      const r = await put('/api/app/settings/contract-rate', { ratePercent: '15', note: 'CGV art. 8' });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { contractRate: unknown }).contractRate).toMatchObject({ ratePercent: '15.00', note: 'CGV art. 8' });
      const adminB = await session(db, orgB, 'admin-b2@example.fr');
      expect(((await (await get('/api/app/settings', adminB)).json()) as { contractRate: unknown }).contractRate).toBeNull();
      expect(((await (await get('/api/app/settings')).json()) as { contractRate: unknown }).contractRate).toMatchObject({ ratePercent: '15.00' });
      const viewer = await session(db, orgA, 'viewer-a@example.fr', 'viewer');
      expect((await put('/api/app/settings/contract-rate', { ratePercent: '20' }, viewer)).status).toBe(403);
      expect((await put('/api/app/settings/contract-rate', { ratePercent: 'douze' })).status).toBe(400);
    });
  });

  describe('15.6 webhooks', () => {
    it('15.6 a webhook to a loopback, private, link-local or metadata address is refused when saved (web app and API), also through a name or IPv4-mapped IPv6', async () => {
      for (const target of ['http://127.0.0.1:8080/x', 'http://10.0.0.5:22/', 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/', 'http://[::1]:3000/', 'http://localhost:3000/hook', 'http://100.64.1.2/']) {
        const r = await post('/api/app/settings/webhooks', { url: target, events: ['invoice.paid'] });
        expect(r.status, target).toBe(400);
        expect(((await r.json()) as { where: { field: string } }).where.field).toBe('url');
      }
      const key = await db.tx(async (q) => (await import('../src/auth/index.ts')).createApiKey(q, orgA, { name: 'hooks', scope: 'admin' }));
      // The SMS and registered-mail provider URLs a tenant types are held to the same rule.
      for (const field of ['smsUrl', 'registeredUrl']) {
        const r = await put('/api/app/settings/delivery', { [field]: 'http://169.254.169.254/latest/meta-data/' });
        expect(r.status, field).toBe(400);
        expect(((await r.json()) as { where: { field: string } }).where.field).toBe(field);
      }
      const api = await app.request(url('/api/v1/webhooks'), {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://192.168.1.1/admin', events: ['*'] }),
      });
      expect(api.status).toBe(400);
      // The operator may allow a network.
      const lan = createApp({ db, now: () => new Date(), options: { webhookPolicy: networkPolicy('192.168.1.0/24') } });
      const ok = await lan.request(url('/api/app/settings/webhooks'), { method: 'POST', headers: adminA, body: JSON.stringify({ url: 'http://192.168.1.20/hook', events: ['*'] }) });
      expect(ok.status).toBe(200);
    });

    it('15.6 the address is checked again at send time, and a failure says "could not deliver", never the socket detail', async () => {
      const received: string[] = [];
      const server = createServer((req, res) => {
        received.push(req.url ?? '');
        res.end('ok');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const spare = createServer();
      await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
      const closed = (spare.address() as AddressInfo).port;
      await new Promise((r) => spare.close(r));
      // A receiver that accepts the connection and never answers (as a filtered port looks).
      const silent = createNetServer(() => {});
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const silentPort = (silent.address() as AddressInfo).port;
      try {
        const org = (await createOrganisation(db, { legalName: 'Webhook Co' })).id;
        // Saved while allowed (or while its name resolved to a public address): the send decides again.
        await createSubscription(db, org, { url: `http://localhost:${port}/rebound`, events: ['*'] }, { policy: networkPolicy('127.0.0.0/8') });
        await createSubscription(db, org, { url: `http://127.0.0.1:${closed}/closed`, events: ['*'] }, { policy: networkPolicy('127.0.0.0/8') });
        await createSubscription(db, org, { url: `http://127.0.0.1:${silentPort}/silent`, events: ['*'] }, { policy: networkPolicy('127.0.0.0/8') });
        await db.tx((q) => emitEvent(q, org, 'invoice.paid', { invoice: 'F-1' }));
        const at = new Date(Date.now() + 1000);
        expect(await deliverDue(db, { now: () => at, timeoutMs: 1500 })).toMatchObject({ attempted: 3, delivered: 0, failed: 3 });
        expect(received).toEqual([]);
        const errors = (await db.query<{ url: string; error: string }>(
          `SELECT s.url, a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.organisation_id = a.organisation_id AND d.id = a.delivery_id
             JOIN webhook_subscriptions s ON s.organisation_id = d.organisation_id AND s.id = d.subscription_id WHERE a.organisation_id = $1 ORDER BY s.id`,
          [org],
        )).map((x) => x.error);
        expect(errors).toEqual([
          'not sent: the address is a loopback, private, link-local or reserved network',
          'not sent: the address is a loopback, private, link-local or reserved network',
          'not sent: the address is a loopback, private, link-local or reserved network',
        ]);
        // With the operator's setting, the closed port and the silent one fail alike.
        const again = new Date(at.getTime() + 3600_000);
        expect(await deliverDue(db, { now: () => again, timeoutMs: 1500, policy: networkPolicy('127.0.0.0/8') })).toMatchObject({ attempted: 3, delivered: 1, failed: 2 });
        expect(received).toEqual(['/rebound']);
        const last = await db.query<{ error: string | null }>(
          `SELECT DISTINCT a.error FROM webhook_attempts a WHERE a.organisation_id = $1 AND a.attempted_at = $2 AND a.error IS NOT NULL`,
          [org, again],
        );
        expect(last.map((x) => x.error)).toEqual(['could not deliver: no connection to the receiver or no answer in time']);
      } finally {
        await new Promise((r) => server.close(r));
        silent.close();
      }
    });
  });

  describe('15.8 request bodies', () => {
    it('15.8 a JSON body over the limit is refused with 413 problem+json naming the limit, before it is read', async () => {
      const big = JSON.stringify({ fromName: 'x'.repeat(1_100_000) });
      const r = await put('/api/app/settings/delivery', JSON.parse(big));
      expect(r.status).toBe(413);
      expect(r.headers.get('content-type')).toMatch(/problem\+json/);
      const p = (await r.json()) as { code: string; detail: string };
      expect(p.code).toBe('too_large');
      expect(p.detail).toMatch(/1 MiB/);
      expect(p.detail).toMatch(/RELANCE_MAX_BODY_BYTES/);
      expect((await put('/api/app/settings/delivery', { fromName: 'x'.repeat(900_000) })).status).toBe(200);
    });

    it('15.8 a streamed upload is refused as soon as it passes the limit (a 300 MB body is not buffered)', async () => {
      const small = createApp({ db, now: () => new Date(), options: { maxUploadBytes: 2 * 1024 * 1024 } });
      let pulled = 0;
      const chunk = new Uint8Array(64 * 1024).fill(65);
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (pulled >= 300 * 1024 * 1024) return controller.close();
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const { 'content-type': _ct, ...headers } = adminA;
      const r = await small.request(url('/api/app/imports'), { method: 'POST', headers: { ...headers, 'content-type': 'multipart/form-data; boundary=x' }, body: stream, duplex: 'half' } as RequestInit);
      expect(r.status).toBe(413);
      expect(((await r.json()) as { detail: string }).detail).toMatch(/2 MiB.*RELANCE_MAX_UPLOAD_BYTES/);
      expect(pulled).toBeLessThan(4 * 1024 * 1024);
      // Under the upload limit, the same route reads the file (here: not a multipart body, 400).
      expect((await small.request(url('/api/app/imports'), { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'kind=fec' })).status).toBe(400);
    });
  });

  describe('15.10 template rendering budget', () => {
    const HEAVY = '{% for i in (1..3000000) %}{{ i }}{% endfor %}';
    const WIDE = '{% for i in (1..200000) %}{{ customer.name }} {{ customer.name }} {{ customer.name }}{% endfor %}';

    it('15.10 a template that renders too long or writes too much is refused when saved, with a clear error', async () => {
      for (const [source, why] of [
        [HEAVY, /plus de 200 ms à se rendre/],
        [WIDE, /plus de 200 ms à se rendre|plus de 1000 Ko de texte/],
      ] as const) {
        const r = await put('/api/app/templates/reminder/email/en', { parts: { text: source } });
        expect(r.status).toBe(400);
        expect(((await r.json()) as { detail: string }).detail).toMatch(why);
      }
      expect(() => validateTemplate('{% for i in (1..20) %}{{ i }}{% endfor %}', { samples: sampleVariables('fr') })).not.toThrow();
      expect(() => validateTemplate(HEAVY, { samples: sampleVariables('fr') })).toThrow(/more than 200 ms/);
      // Much text in little time is refused by its size.
      expect(() => validateTemplate(`{% assign s = '${'x'.repeat(4000)}' %}{% for i in (1..300) %}{{ s }}{% endfor %}`, { samples: sampleVariables('fr') })).toThrow(/more than 1000 KB of text/);
    });

    it('15.10 sixteen heavy previews at once do not freeze the server: a health request answers meanwhile, each preview says why the draft was refused', async () => {
      const done: string[] = [];
      const previews = Array.from({ length: 16 }, (_, i) =>
        Promise.resolve(post('/api/app/templates/preview', { key: 'reminder', channel: 'email', lang: 'fr', parts: { text: HEAVY } })).then(async (r) => {
          done.push(`preview ${i}`);
          return { status: r.status, body: (await r.json()) as { errors: { part: string; message: string }[] } };
        }),
      );
      const health = Promise.resolve(app.request(url('/api/health'))).then((r) => {
        done.push('health');
        return r.status;
      });
      expect(await health).toBe(200);
      const answers = await Promise.all(previews);
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.body.errors).toEqual([{ part: 'text', message: expect.stringMatching(/more than 200 ms to render/), line: null }]);
      }
      // The health request did not wait for all the previews.
      expect(done.indexOf('health')).toBeLessThan(done.length - 1);
    });
  });

  describe('15 smaller ones', () => {
    it('15 bad input answers 400 naming the field: /api/app/scenarios/preview with {}, /api/app/outbox?limit=-5, and no /api/app route answers 500 to a body that is not an object', async () => {
      const preview = await post('/api/app/scenarios/preview', {});
      expect(preview.status).toBe(400);
      expect(((await preview.json()) as { where: { field: string } }).where.field).toBe('definition');
      const outbox = await get('/api/app/outbox?limit=-5');
      expect(outbox.status).toBe(400);
      expect(((await outbox.json()) as { where: { field: string } }).where.field).toBe('limit');
      expect((await get('/api/app/customers?page=-1')).status).toBe(400);
      expect((await get('/api/app/outbox?limit=20')).status).toBe(200);
      const routes = APP_ROUTES.filter((d) => d.method === 'post' || d.method === 'put').map((d) => [d.method, d.path.replace(/^\/api\/app/, '')] as const);
      expect(routes.length).toBeGreaterThan(20);
      const crashed: string[] = [];
      for (const [method, path] of routes) {
        for (const b of ['null', '[]', '{}']) {
          const r = await app.request(url(`/api/app${path.replace(/:\w+/g, '1')}`), { method: method.toUpperCase(), headers: adminA, body: b });
          if (r.status >= 500) crashed.push(`${method} ${path} ${b}: ${r.status}`);
        }
      }
      expect(crashed).toEqual([]);
    });

    it('15 search=% and _ match those characters, not everything', async () => {
      for (const name of ['Remise 100% SARL', 'Bois_et_Fer', 'BoisXetXFer']) await createCustomer(db, orgA, { legalName: name });
      const key = await db.tx(async (q) => (await import('../src/auth/index.ts')).createApiKey(q, orgA, { name: 'search', scope: 'read' }));
      const search = async (term: string) =>
        ((await (await app.request(url(`/api/v1/customers?search=${encodeURIComponent(term)}`), { headers: { authorization: `Bearer ${key.key}` } })).json()) as { data: { legalName: string }[] }).data.map((c) => c.legalName);
      expect(await search('%')).toEqual(['Remise 100% SARL']);
      expect(await search('_et_')).toEqual(['Bois_et_Fer']);
      expect(await search('bois')).toEqual(['Bois_et_Fer', 'BoisXetXFer']);
      expect(((await (await get('/api/app/invoices/search?q=%25')).json()) as unknown[]).length).toBe(0);
    });

    it('15 the SMTP test to a closed port or a server that never answers ends with a clear error, without socket detail', async () => {
      const silent = createNetServer(() => {});
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const spare = createNetServer();
      await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
      const closed = (spare.address() as AddressInfo).port;
      await new Promise((r) => spare.close(r));
      try {
        for (const port of [closed, (silent.address() as AddressInfo).port]) {
          expect((await put('/api/app/settings/delivery', { smtpHost: '127.0.0.1', smtpPort: port, smtpSecurity: 'none', fromAddress: 'relances@menuiserie-a.fr' })).status).toBe(200);
          const r = await post('/api/app/settings/delivery/test', { to: 'compta@menuiserie-a.fr' });
          expect(r.status).toBe(400);
          const detail = ((await r.json()) as { detail: string }).detail;
          expect(detail).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
          expect(detail).toMatch(/refusée, adresse injoignable ou pas de réponse en 10 s/);
          expect(detail).not.toMatch(/ECONN|ETIMEDOUT|Greeting/);
        }
      } finally {
        silent.close();
        await put('/api/app/settings/delivery', { smtpHost: null });
      }
    });
  });

  describe('15.5 passwords', () => {
    const same = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
    const signIn = (a: ReturnType<typeof createApp>, email: string, password: string, address = '198.51.100.7', headers = same) =>
      a.request(url('/api/auth/login'), { method: 'POST', headers, body: JSON.stringify({ email, password }) }, { incoming: { socket: { remoteAddress: address, remotePort: 40000, remoteFamily: 'IPv4' } } });

    it('15.5 repeated wrong passwords are throttled per account with growing delays (429, Retry-After), even the right one waits, across processes', async () => {
      await db.tx((q) => addUser(q, orgA, { email: 'target@example.fr', role: 'viewer', password: PASSWORD }));
      let clock = new Date('2026-03-02T09:00:00Z');
      const one = createApp({ db, now: () => clock });
      const two = createApp({ db, now: () => clock }); // another server process on the same database
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await signIn(i % 2 ? two : one, 'target@example.fr', `wrong password ${i}!`, `203.0.113.${i}`)).status);
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toContain(429);
      const blocked = await signIn(two, 'target@example.fr', PASSWORD, '203.0.113.99');
      expect(blocked.status).toBe(429);
      const first = Number(blocked.headers.get('retry-after'));
      expect(first).toBeGreaterThan(0);
      expect(((await blocked.json()) as { code: string }).code).toBe('rate_limited');
      // After the wait, another failure blocks for longer.
      clock = new Date(clock.getTime() + (first + 1) * 1000);
      expect((await signIn(one, 'target@example.fr', 'still the wrong one', '203.0.113.50')).status).toBe(401);
      const longer = await signIn(one, 'target@example.fr', PASSWORD, '203.0.113.51');
      expect(longer.status).toBe(429);
      expect(Number(longer.headers.get('retry-after'))).toBeGreaterThan(first);
      // The person waits, then signs in; the count starts again.
      clock = new Date(clock.getTime() + 3600_000);
      expect((await signIn(two, 'target@example.fr', PASSWORD, '203.0.113.52')).status).toBe(200);
      expect((await signIn(two, 'target@example.fr', 'one typo again!!', '203.0.113.53')).status).toBe(401);
    });

    it('15.5 one address trying many accounts is throttled too', async () => {
      let clock = new Date('2026-03-03T09:00:00Z');
      const a = createApp({ db, now: () => clock });
      const statuses: number[] = [];
      for (let i = 0; i < 24; i++) statuses.push((await signIn(a, `spray-${i}@example.fr`, 'Printemps2026!', '192.0.2.66')).status);
      expect(statuses.slice(0, 20).every((x) => x === 401)).toBe(true);
      expect(statuses).toContain(429);
      // Another address is not affected.
      expect((await signIn(a, 'admin-a@example.fr', PASSWORD, '192.0.2.67')).status).toBe(200);
      clock = new Date(clock.getTime() + 2 * 86_400_000);
      expect((await signIn(a, 'admin-a@example.fr', PASSWORD, '192.0.2.66')).status).toBe(200);
    }, 180000);

    it('15.5 sign-in from another origin is refused (no login CSRF)', async () => {
      const r = await signIn(app, 'admin-a@example.fr', PASSWORD, '192.0.2.1', { ...same, origin: 'https://evil.example' });
      expect(r.status).toBe(403);
      expect(r.headers.get('set-cookie')).toBeNull();
    });

    it('15.5 a real strength rule: twelve spaces, one character repeated, a common password or the e-mail are refused', async () => {
      for (const weak of ['            ', 'aaaaaaaaaaaa', '123456789012', 'Password2024!', 'azertyuiop123', 'weak-user@example.fr', 'court']) {
        await expect(db.tx((q) => addUser(q, orgA, { email: 'weak-user@example.fr', role: 'viewer', password: weak })), weak).rejects.toMatchObject({ code: 'validation', where: { field: 'password' } });
      }
      await db.tx((q) => addUser(q, orgA, { email: 'weak-user@example.fr', role: 'viewer', password: 'sept cailloux dans la poche' }));
    });

    it('15.5 a person changes their password in the web app: the current one is checked, every session ends, this browser gets a new one', async () => {
      const first = await session(db, orgA, 'changer@example.fr', 'collector');
      const other = await db.tx((q) => login(q, 'changer@example.fr', PASSWORD, { now: new Date() }));
      const otherHeaders = { ...first, cookie: `relance_session=${other.token}` };
      const change = (body: unknown, headers = first) => app.request(url('/api/auth/password'), { method: 'POST', headers, body: JSON.stringify(body) });
      expect((await change({ currentPassword: 'not the password', newPassword: 'un tout nouveau secret' })).status).toBe(401);
      const weak = await change({ currentPassword: PASSWORD, newPassword: '            ' });
      expect(weak.status).toBe(400);
      expect(((await weak.json()) as { where: { field: string } }).where.field).toBe('newPassword');
      const ok = await change({ currentPassword: PASSWORD, newPassword: 'un tout nouveau secret' });
      expect(ok.status).toBe(200);
      const cookie = /relance_session=([^;]+)/.exec(ok.headers.get('set-cookie') ?? '')![1];
      expect((await get('/api/app/me', first)).status).toBe(401);
      expect((await get('/api/app/me', otherHeaders)).status).toBe(401);
      expect((await get('/api/app/me', { ...first, cookie: `relance_session=${cookie}` })).status).toBe(200);
      await expect(db.tx((q) => login(q, 'changer@example.fr', PASSWORD, { now: new Date() }))).rejects.toThrow(/wrong email or password/);
      // Sign out everywhere ends that one too.
      const out = await app.request(url('/api/auth/logout-everywhere'), { method: 'POST', headers: { ...first, cookie: `relance_session=${cookie}` }, body: '{}' });
      expect(out.status).toBe(200);
      expect((await get('/api/app/me', { ...first, cookie: `relance_session=${cookie}` })).status).toBe(401);
    });
  });
});

describe('15.6 which addresses a webhook may reach', () => {
  it('15.6 loopback, private, link-local, CGNAT, multicast and metadata addresses are refused in IPv4 and IPv6, with mapped, NAT64 and 6to4 forms', () => {
    const refused = [
      '127.0.0.1', '127.8.9.10', '10.0.0.5', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.100.100.200',
      '0.0.0.0', '224.0.0.251', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', 'ff02::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a00:1', '2002:a00:1::1', '::10.0.0.1',
    ];
    for (const a of refused) expect(refusalOf(a), a).not.toBeNull();
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '172.32.0.1']) expect(refusalOf(a), a).toBeNull();
    expect(refusalOf('169.254.169.254')).toBe('link-local');
    expect(refusalOf('::ffff:10.1.2.3')).toBe('private');
    expect(() => networkPolicy('10.0.0.0/33')).toThrow(/RELANCE_WEBHOOK_ALLOW_NETWORKS/);
  });
});

describe('15 the server listens on 127.0.0.1 on the embedded database unless HOST says otherwise', () => {
  it('15 embedded: 127.0.0.1 by default; HOST wins; PostgreSQL keeps every interface', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ DATABASE_URL: 'postgres://db/relance' }).host).toBe('0.0.0.0');
    expect(loadConfig({ RELANCE_MAX_BODY_BYTES: '2M', RELANCE_MAX_UPLOAD_BYTES: '512MiB' })).toMatchObject({ maxBodyBytes: 2 * 1024 * 1024, maxUploadBytes: 512 * 1024 * 1024 });
    expect(() => loadConfig({ RELANCE_MAX_BODY_BYTES: 'lots' })).toThrow(/RELANCE_MAX_BODY_BYTES/);
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
