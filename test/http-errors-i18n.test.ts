import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createApiKey, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

describe.each(dbTargets())('problem+json in the caller’s language on $name', (target) => {
  let db: Db;
  let key: string;
  let org: string;
  const now = new Date('2026-11-22T09:00:00Z');
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Menuiserie Martin SARL' })).id;
    key = (await createApiKey(db, org, { name: 'erp', scope: 'write' })).key;
  });
  afterAll(async () => db?.close());

  const get = (path: string, headers: Record<string, string>) => createApp({ db, now: () => now }).request(path, { headers });

  it('answers in French with Accept-Language: fr-FR, in English otherwise; the code never changes', async () => {
    const fr = await get('/api/v1/invoices/999999', { authorization: `Bearer ${key}`, 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.8' });
    expect(fr.status).toBe(404);
    expect(fr.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await fr.json()).toMatchObject({ code: 'not_found', title: 'Introuvable', detail: 'facture 999999 introuvable', status: 404 });

    for (const headers of [{ 'accept-language': 'en-GB,en;q=0.9' }, { 'accept-language': 'de-DE' }, {}] as Record<string, string>[]) {
      const en = await get('/api/v1/invoices/999999', { authorization: `Bearer ${key}`, ...headers });
      expect(await en.json()).toMatchObject({ code: 'not_found', title: 'Not found', detail: 'invoice 999999 not found', status: 404 });
    }

    const bad = await get('/api/v1/invoices/999999', { authorization: 'Bearer rlk_nope', 'accept-language': 'fr' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ code: 'unauthenticated', title: 'Authentification requise', detail: 'cette clé d’API est inconnue ou révoquée' });
  });

  it('a web session answers in its user’s language whatever Accept-Language says', async () => {
    await db.tx((q) => addUser(q, org, { email: 'claire@example.fr', role: 'collector', password: 'a long enough password', language: 'fr' }));
    await db.tx((q) => addUser(q, org, { email: 'john@example.com', role: 'collector', password: 'a long enough password', language: 'en' }));
    const claire = await db.tx((q) => login(q, 'claire@example.fr', 'a long enough password', { now }));
    const john = await db.tx((q) => login(q, 'john@example.com', 'a long enough password', { now }));
    const asClaire = await get('/api/v1/invoices/424242', { cookie: `relance_session=${claire.token}`, 'accept-language': 'en-US' });
    expect(await asClaire.json()).toMatchObject({ code: 'not_found', title: 'Introuvable', detail: 'facture 424242 introuvable' });
    const asJohn = await get('/api/v1/invoices/424242', { cookie: `relance_session=${john.token}`, 'accept-language': 'fr-FR' });
    expect(await asJohn.json()).toMatchObject({ code: 'not_found', title: 'Not found', detail: 'invoice 424242 not found' });
  });
});
