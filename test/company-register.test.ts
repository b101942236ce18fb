/**
 * Issue 22, company register: the recherche-entreprises adapter against a local mock of that
 * public API's documented answer (GET /search?q=SIREN → results[] with siren, nom_complet,
 * etat_administratif A|C, date_fermeture); none configured by default; `relance customers check`
 * flags a closed company.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { getCustomer, updateCustomer } from '../src/ledger/repo.ts';
import { configuredRegister, rechercheEntreprises } from '../src/risk/register/index.ts';
import { dbTargets } from './db.ts';
import { cli } from './debtor-harness.ts';
import { addCustomer, setupOrg } from './delivery-fixture.ts';

const CLOSED = '552100554';
const ACTIVE = '732829320';
const RECORDS: Record<string, unknown> = {
  [CLOSED]: { siren: CLOSED, nom_complet: 'ANCIENNE MENUISERIE (AM)', nom_raison_sociale: 'ANCIENNE MENUISERIE', etat_administratif: 'C', date_fermeture: '2025-06-30' },
  [ACTIVE]: { siren: ACTIVE, nom_complet: 'SCIERIE BONNET', nom_raison_sociale: 'SCIERIE BONNET', etat_administratif: 'A', date_fermeture: null },
};

let server: Server;
let base: string;
const asked: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    asked.push(url.pathname + url.search);
    if (url.pathname !== '/search') return void res.writeHead(404).end();
    const q = url.searchParams.get('q') ?? '';
    const results = RECORDS[q] ? [RECORDS[q]] : [];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results, total_results: results.length, page: 1, per_page: 5, total_pages: 1 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('company register adapter', () => {
  it('reads closed and active companies, and says nothing of a SIREN it does not know', async () => {
    const reg = rechercheEntreprises(base);
    expect(await reg.lookup(CLOSED)).toEqual({ siren: CLOSED, legalName: 'ANCIENNE MENUISERIE', status: 'closed', closedOn: '2025-06-30', insolvent: null, source: 'recherche-entreprises' });
    expect(await reg.lookup(ACTIVE)).toMatchObject({ status: 'active', closedOn: null });
    expect(await reg.lookup('443061841')).toBeNull();
    expect(asked[0]).toBe(`/search?q=${CLOSED}&per_page=5`);
  });

  it('none by default: nothing is looked up unless the operator configures a register', () => {
    expect(() => configuredRegister({})).toThrow(/RELANCE_COMPANY_REGISTER/);
    expect(() => configuredRegister({ RELANCE_COMPANY_REGISTER: 'infogreffe' })).toThrow(/unknown register/);
    expect(configuredRegister({ RELANCE_COMPANY_REGISTER: `recherche-entreprises,${base}` }).name).toBe('recherche-entreprises');
  });
});

describe.each(dbTargets())('relance customers check on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('flags a closed company (risk class high) and leaves an active one as it is', async () => {
    const org = await setupOrg(db);
    const closed = await addCustomer(db, org.id);
    const active = await addCustomer(db, org.id);
    await updateCustomer(db, org.id, closed.id, { siren: CLOSED });
    await updateCustomer(db, org.id, active.id, { siren: ACTIVE });
    const before = process.env.RELANCE_COMPANY_REGISTER;
    process.env.RELANCE_COMPANY_REGISTER = `recherche-entreprises,${base}`;
    try {
      const fr = await cli(db, org.id, ['customers', 'check', String(closed.id)], 'fr');
      expect(fr).toBe('ANCIENNE MENUISERIE (SIREN 552100554) : FERMÉE depuis le 30 juin 2025 selon le registre (recherche-entreprises) ; classe de risque passée à élevé.');
      expect((await getCustomer(db, org.id, closed.id)).riskClass).toBe('high');
      const en = await cli(db, org.id, ['customers', 'check', String(active.id)], 'en');
      expect(en).toBe('SCIERIE BONNET (SIREN 732829320): active according to the register (recherche-entreprises).');
      expect((await getCustomer(db, org.id, active.id)).riskClass).toBeNull();
    } finally {
      if (before === undefined) delete process.env.RELANCE_COMPANY_REGISTER;
      else process.env.RELANCE_COMPANY_REGISTER = before;
    }
  });
});
