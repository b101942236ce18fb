/**
 * A company's own organisation: `relance org create|list|show|update`, the checks that name the
 * field and write nothing, one organisation per SIREN (a unique key), the first admin of each
 * organisation, review mode, and the setup wizard's one-time code. Commands run in-process on
 * both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../src/auth/index.ts';
import { buildProgram } from '../src/cli/program.ts';
import type { CliContext } from '../src/cli/context.ts';
import type { Db } from '../src/db/driver.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { isRelanceError, type RelanceError } from '../src/errors.ts';
import { createApp } from '../src/http/app.ts';
import { SetupGate } from '../src/http/setup.ts';
import { createOrganisation, listOrganisations } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

describe.each(dbTargets())('organisations on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  /** Runs `relance ...args` in-process on the test database; returns what it printed. */
  async function relance(...args: string[]): Promise<string[]> {
    const out: string[] = [];
    const ctx: CliContext = {
      config: { dataDir: '', port: 0, host: '127.0.0.1' } as unknown as CliContext['config'],
      openDb: async () => Object.assign(Object.create(db) as Db, { close: async () => {} }),
      async resolveOrg(d, explicit) {
        const orgs = await listOrganisations(d);
        const o = explicit ? orgs.find((x) => x.id === explicit || x.siren === explicit || x.legalName === explicit) : orgs[0];
        if (!o) throw new Error(`no organisation ${explicit}`);
        return o.id;
      },
      out: (l) => out.push(l),
    };
    const program = buildProgram(ctx);
    await program.parseAsync(['node', 'relance', ...args]);
    return out;
  }
  const failure = async (...args: string[]): Promise<RelanceError> => {
    const e = await relance(...args).then(() => null, (x: unknown) => x);
    if (!isRelanceError(e)) throw new Error(`expected a RelanceError, got ${String(e)}`);
    return e;
  };
  const counts = async () =>
    (await db.query<{ o: bigint; u: bigint; s: bigint }>(
      'SELECT (SELECT count(*) FROM organisations) AS o, (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM scenarios) AS s',
    ))[0]!;

  const GOOD = ['--name', 'Ébénisterie Durand SARL', '--siren', '732829320', '--siret', '73282932000074', '--vat', 'FR44732829320', '--iban', 'FR76 3000 6000 0112 3456 7890 189', '--bic', 'AGRIFRPP', '--address-line1', '4 rue des Tanneurs', '--postal-code', '69002', '--city', 'Lyon', '--email', 'compta@durand.example', '--admin-email', 'marie@durand.example'];

  it('bad input: invalid SIREN, SIRET, VAT, IBAN, missing name, no admin: an error naming the option, nothing written', async () => {
    const before = await counts();
    const cases: [string[], string, RegExp][] = [
      [['--siren', '732829321'], '--siren', /not a valid SIREN/],
      [['--siret', '73282932000075'], '--siret', /not a valid SIRET/],
      [['--siret', '55210055400013'], '--siret', /does not belong to SIREN/],
      [['--vat', 'FR45732829320'], '--vat', /not a valid EU VAT number/],
      [['--vat', 'FR40303265045'], '--vat', /does not match SIREN/],
      [['--iban', 'FR7630006000011234567890188'], '--iban', /not a valid IBAN/],
      [['--name', '  '], '--name', /legal name is required/],
      [['--admin-email', 'marie'], '--admin-email', /not an email address/],
    ];
    for (const [change, option, message] of cases) {
      const args = [...GOOD];
      for (let i = 0; i < change.length; i += 2) args[args.indexOf(change[i]!) + 1] = change[i + 1]!;
      const e = await failure('org', 'create', ...args);
      expect([e.code, e.where?.field], change.join(' ')).toEqual(['validation', option]);
      expect(e.message).toMatch(message);
    }
    const noAdmin = GOOD.filter((x, i) => !['--email', '--admin-email'].includes(x) && !['--email', '--admin-email'].includes(GOOD[i - 1]!));
    expect((await failure('org', 'create', ...noAdmin)).where?.field).toBe('--admin-email');
    expect(await counts()).toEqual(before);
  });

  it('org create: the organisation in review mode, its sender, its first admin with a one-time password (--json)', async () => {
    const [line] = await relance('org', 'create', ...GOOD, '--json');
    const created = JSON.parse(line!);
    expect(Object.keys(created)).toEqual(['id', 'name', 'siren', 'admin']);
    expect(created).toMatchObject({ name: 'Ébénisterie Durand SARL', siren: '732829320', admin: { email: 'marie@durand.example', password: expect.stringMatching(/^.{12,}$/) } });
    const s = await db.tx((q) => login(q, 'marie@durand.example', created.admin.password, { organisationId: created.id, now: new Date() }));
    expect(s.principal.role).toBe('admin');
    const shown = JSON.parse((await relance('org', 'show', '--org', '732829320', '--json'))[0]!);
    expect(shown).toMatchObject({ live: false, iban: 'FR7630006000011234567890189', sender: 'compta@durand.example', admins: ['marie@durand.example'] });
    expect((await relance('org', 'list')).join('\n')).toMatch(/732829320\s+review\s+Ébénisterie Durand SARL/);
  });

  it('duplicate SIREN: refused by the command, naming the organisation that has it, and by the database unique key', async () => {
    const before = await counts();
    const e = await failure('org', 'create', ...GOOD.map((x) => (x === 'marie@durand.example' ? 'paul@other.example' : x)));
    expect([e.code, e.where?.field]).toEqual(['conflict', '--siren']);
    expect(e.message).toMatch(/already belongs to organisation "Ébénisterie Durand SARL"/);
    expect(await counts()).toEqual(before);
    await expect(db.query(`INSERT INTO organisations (legal_name, siren) VALUES ('Bis', '732829320')`)).rejects.toThrow(/an organisation with this SIREN already exists/);
  });

  it('org update: fields checked the same way; --live switches review mode off', async () => {
    const e = await failure('org', 'update', '--org', '732829320', '--iban', 'FR00');
    expect(e.where?.field).toBe('--iban');
    await relance('org', 'update', '--org', '732829320', '--city', 'Villeurbanne', '--postal-code', '69100');
    const [out] = await relance('org', 'update', '--org', '732829320', '--live');
    expect(out).toMatch(/is live/);
    expect(JSON.parse((await relance('org', 'show', '--org', '732829320', '--json'))[0]!)).toMatchObject({ city: 'Villeurbanne', live: true });
  });

  it('issue 15.3: admin@relance.local is the demo’s admin only, never made admin of an organisation created later', async () => {
    const { organisation: demo, admin } = await seedDemo(db, { today: '2026-03-02' as never, customers: 5, invoices: 20 });
    expect(admin.email).toBe('admin@relance.local');
    const [line] = await relance('org', 'create', '--name', 'Plomberie Petit', '--siren', '552100554', '--admin-email', 'jean@petit.example', '--json');
    const later = JSON.parse(line!);
    const members = await db.query<{ organisation_id: string; email: string }>(
      `SELECT m.organisation_id, u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email IN ('admin@relance.local', 'jean@petit.example') ORDER BY u.email`,
    );
    expect(members).toEqual([
      { organisation_id: demo.id, email: 'admin@relance.local' },
      { organisation_id: later.id, email: 'jean@petit.example' },
    ]);
    // the demo, which chased its customers before, is live; the new organisation starts in review
    const orgs = await listOrganisations(db);
    expect(orgs.find((o) => o.id === demo.id)!.live).toBe(true);
    expect(orgs.find((o) => o.id === later.id)!.live).toBe(false);
  });

  it('the organisation checks are one: the web settings refuse the same IBAN the command refuses, naming the field', async () => {
    await expect(createOrganisation(db, { legalName: 'X', iban: 'FR7630006000011234567890188' })).rejects.toMatchObject({ code: 'validation', where: { field: 'iban' } });
    await expect(createOrganisation(db, { legalName: 'X', vatNumber: 'DE12345678' })).rejects.toMatchObject({ where: { field: 'vatNumber' } });
  });
});

describe.each(dbTargets())('setup wizard on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('refuses a wrong setup code, writes nothing on bad input, then creates the organisation once and closes', async () => {
    const gate = SetupGate.withCode('ABCD-EFGH-JKLM');
    const app = createApp({ db, now: () => new Date('2026-03-02T09:00:00Z'), setup: gate });
    const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await (await app.request('/api/setup')).json()).toEqual({ open: true });
    const wrong = await post('/api/setup/check', { code: 'ABCD-EFGH-JKLN' });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { detail: string }).detail).toMatch(/wrong setup code/);
    expect((await post('/api/setup/check', { code: 'abcd efgh jklm' })).status).toBe(200);
    const body = {
      code: 'ABCD-EFGH-JKLM',
      organisation: { legalName: 'Serrurerie Leroy', siren: '732829320', iban: 'FR7630006000011234567890189', addressLine1: '1 place Bellecour', postalCode: '69002', city: 'Lyon' },
      branding: { footer: 'SAS au capital de 10 000 € – RCS Lyon 732 829 320' },
      sender: { fromAddress: 'relances@leroy.example' },
      admin: { email: 'anne@leroy.example', password: 'correct horse battery' },
    };
    const bad = await post('/api/setup', { ...body, organisation: { ...body.organisation, siren: '732829321' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { where: unknown }).where).toEqual({ field: 'organisation.siren' });
    expect(await listOrganisations(db)).toEqual([]);
    expect((await post('/api/setup', { ...body, code: 'WRONG-CODE' })).status).toBe(403);
    expect(await listOrganisations(db)).toEqual([]);
    const ok = await post('/api/setup', body);
    expect(ok.status).toBe(201);
    expect(ok.headers.get('set-cookie')).toMatch(/relance_session=/);
    expect(await ok.json()).toMatchObject({ organisation: { name: 'Serrurerie Leroy', live: false }, admin: { email: 'anne@leroy.example', password: null }, signedIn: true });
    // closed for good: the same code no longer opens anything
    expect(await (await app.request('/api/setup')).json()).toEqual({ open: false });
    expect((await post('/api/setup', { ...body, organisation: { ...body.organisation, siren: '552100554' } })).status).toBe(403);
    expect(await listOrganisations(db)).toHaveLength(1);
  });

  it('a server started with organisations has no setup: every call is refused', async () => {
    const app = createApp({ db, now: () => new Date() });
    expect(await (await app.request('/api/setup')).json()).toEqual({ open: false });
    const r = await app.request('/api/setup/check', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"x"}' });
    expect(r.status).toBe(403);
  });
});
