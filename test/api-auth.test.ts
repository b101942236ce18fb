import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, apiKeyPrincipal, createApiKey, ensureAdmin, login, revokeApiKey } from '../src/auth/index.ts';
import { hashPassword, verifyPassword } from '../src/auth/passwords.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

describe('passwords', () => {
  it('are hashed with scrypt, a per-user salt and the parameters stored with the hash', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', a)).toBe(false);
    // Old hashes keep verifying with their own parameters after the defaults change.
    const weaker = await hashPassword('pw', { N: 1024, r: 8, p: 1, keyLength: 32 });
    expect(await verifyPassword('pw', weaker)).toBe(true);
  });
});

describe.each(dbTargets())('users, sessions and API keys on $name', (target) => {
  let db: Db;
  let org: string;
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS' })).id;
  });
  afterAll(async () => db?.close());

  it('first start creates the admin once and returns its generated password once', async () => {
    const first = await ensureAdmin(db, org, 'admin@relance.local');
    expect(first).toMatchObject({ email: 'admin@relance.local' });
    expect(first!.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(await ensureAdmin(db, org, 'admin@relance.local')).toBeNull();
    const s = await db.tx((q) => login(q, 'ADMIN@relance.local', first!.password!, { now: new Date() }));
    expect(s.principal).toMatchObject({ organisationId: org, role: 'admin', scope: 'admin' });
    const [row] = await db.query<{ password_hash: string }>(`SELECT password_hash FROM users WHERE email = 'admin@relance.local'`);
    expect(row!.password_hash).not.toContain(first!.password!);
  });

  it('refuses a wrong password, an unknown address and an expired session alike', async () => {
    await db.tx((q) => addUser(q, org, { email: 'marie@example.fr', role: 'collector', password: 'a long enough password' }));
    const now = new Date('2026-03-01T10:00:00Z');
    await expect(db.tx((q) => login(q, 'marie@example.fr', 'wrong password!!', { now }))).rejects.toThrow(/wrong email or password/);
    await expect(db.tx((q) => login(q, 'nobody@example.fr', 'a long enough password', { now }))).rejects.toThrow(/wrong email or password/);
    const s = await db.tx((q) => login(q, 'marie@example.fr', 'a long enough password', { now }));
    const app = createApp({ db, now: () => new Date('2026-03-20T10:00:00Z') });
    const me = await app.request('/api/auth/me', { headers: { cookie: `relance_session=${s.token}` } });
    expect(me.status).toBe(401);
  });

  it('an API key is shown once, stored as its SHA-256, and stops working when revoked', async () => {
    const k = await createApiKey(db, org, { name: 'erp', scope: 'write' });
    expect(k.key).toMatch(/^rlk_[A-Za-z0-9_-]{43}$/);
    const [stored] = await db.query<{ key_hash: string; prefix: string }>('SELECT key_hash, prefix FROM api_keys WHERE id = $1', [k.id]);
    expect(stored!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(k.key.startsWith(stored!.prefix)).toBe(true);
    expect(stored!.key_hash).not.toContain(k.key.slice(4));
    const now = new Date();
    expect(await apiKeyPrincipal(db, k.key, now)).toMatchObject({ organisationId: org, scope: 'write' });
    await revokeApiKey(db, org, k.id, now);
    expect(await apiKeyPrincipal(db, k.key, now)).toBeNull();
    const app = createApp({ db, now: () => now });
    const r = await app.request('/api/v1/invoices', { headers: { authorization: `Bearer ${k.key}` } });
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('a session cannot be used from another origin to write', async () => {
    const s = await db.tx((q) => login(q, 'marie@example.fr', 'a long enough password', { now: new Date() }));
    const app = createApp({ db, now: () => new Date() });
    const r = await app.request('http://relance.local/api/v1/disputes', {
      method: 'POST',
      headers: { cookie: `relance_session=${s.token}`, origin: 'https://evil.example', host: 'relance.local', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(403);
  });
});
