/**
 * Scenarios from the first start and scenarios of the organisation's own (issue 16, smaller ones):
 * `GET /api/v1/scenarios` lists the built-ins right after the organisation is created (nothing had
 * to list them first), and an organisation creates new scenarios (a copy of another, or its own
 * steps) through the API, the CLI and the web app's route; a taken key, a bad key or no steps is a
 * clear error naming the field, and nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import { buildProgram } from '../src/cli/program.ts';
import type { CliContext } from '../src/cli/context.ts';
import type { Db } from '../src/db/driver.ts';
import { BUILTIN_SCENARIOS } from '../src/domain/engine/scenario.ts';
import { isRelanceError } from '../src/errors.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

describe.each(dbTargets())('scenarios of an organisation on $name', (target) => {
  let db: Db;
  let org: string;
  let key: string;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    db = await target.open();
    org = (await db.tx((q) => createOrganisation(q, { legalName: 'Atelier Roux SAS', siren: '552100554', language: 'fr' }))).id;
    key = (await db.tx((q) => createApiKey(q, org, { name: 'erp', scope: 'admin' }))).key;
    app = createApp({ db, now: () => new Date('2026-06-01T08:00:00Z') });
  });
  afterAll(async () => db?.close());

  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const scenarioCount = async () => Number((await db.query<{ n: bigint }>('SELECT count(*) AS n FROM scenarios WHERE organisation_id = $1', [org]))[0]!.n);

  it('lists the built-in scenarios from the first request, with a default', async () => {
    const res = await call('GET', '/api/v1/scenarios');
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { key: string; isDefault: boolean; name: string }[] };
    expect(data.map((s) => s.key).sort()).toEqual(Object.keys(BUILTIN_SCENARIOS).sort());
    expect(data.filter((s) => s.isDefault).map((s) => s.key)).toEqual(['standard-b2b']);
    // In the organisation's language
    expect(data.find((s) => s.key === 'standard-b2b')!.name).toBe(BUILTIN_SCENARIOS['standard-b2b']!.name.fr);
  });

  it('creates a copy of a scenario through the API, unassigned, with version 1 and the same steps', async () => {
    const res = await call('POST', '/api/v1/scenarios', { key: 'btp-strict', name: 'BTP — strict', from: 'standard-b2b' });
    expect(res.status).toBe(201);
    const s = (await res.json()) as { key: string; name: string; version: number; isDefault: boolean; definition: { steps: unknown[] } };
    expect(s).toMatchObject({ key: 'btp-strict', name: 'BTP — strict', version: 1, isDefault: false });
    expect(s.definition.steps).toEqual(BUILTIN_SCENARIOS['standard-b2b']!.definition.steps.map((x) => expect.objectContaining({ offset: x.offset, channel: x.channel })));
    const got = (await (await call('GET', '/api/v1/scenarios/btp-strict')).json()) as { version: number };
    expect(got.version).toBe(1);
    const versions = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM scenario_versions v JOIN scenarios s ON s.id = v.scenario_id WHERE s.organisation_id = $1 AND s.key = $2', [org, 'btp-strict']);
    expect(versions[0]!.n).toBe(1n);
  });

  it('creates a scenario from its own steps, and refuses bad ones naming the field, writing nothing', async () => {
    const steps = [
      { offset: 3, channel: 'email', template: 'reminder', tone: 'reminder' },
      { offset: 15, channel: 'registered_letter', template: 'formal_notice', tone: 'formal_notice', requiresApproval: true },
    ];
    const ok = await call('POST', '/api/v1/scenarios', { key: 'court', name: 'Court', definition: { options: BUILTIN_SCENARIOS['standard-b2b']!.definition.options, steps } });
    expect(ok.status, await ok.clone().text()).toBe(201);
    const before = await scenarioCount();
    const cases: [unknown, number, string][] = [
      [{ key: 'court', name: 'Encore', from: 'standard-b2b' }, 409, 'key'],
      [{ key: 'Bad Key!', name: 'X', from: 'standard-b2b' }, 400, 'key'],
      [{ key: 'sans-etapes', name: 'Sans étapes' }, 400, 'definition'],
      [{ key: 'inconnu', name: 'Inconnu', from: 'no-such-scenario' }, 404, ''],
      [{ key: 'offset-faux', name: 'Faux', definition: { steps: [{ offset: 'x', channel: 'email', template: 'reminder', tone: 'reminder' }] } }, 400, ''],
    ];
    for (const [body, status, field] of cases) {
      const res = await call('POST', '/api/v1/scenarios', body);
      const problem = (await res.json()) as { detail: string; where?: { field?: string } };
      expect([res.status, problem.detail], JSON.stringify(body)).toEqual([status, expect.any(String)]);
      expect(problem.detail).not.toMatch(/duplicate key|violates|undefined/);
      if (field) expect(problem.where?.field).toBe(field);
    }
    expect(await scenarioCount()).toBe(before);
  });

  it('creates one with `relance scenarios create --from`; an unreadable --file is named', async () => {
    const out: string[] = [];
    const ctx: CliContext = {
      config: { dataDir: '', port: 0, host: '127.0.0.1' } as unknown as CliContext['config'],
      openDb: async () => Object.assign(Object.create(db) as Db, { close: async () => {} }),
      resolveOrg: async () => org,
      out: (l) => out.push(l),
    };
    await buildProgram(ctx).parseAsync(['node', 'relance', 'scenarios', 'create', '--key', 'hebdo-copie', '--name', 'Hebdomadaire bis', '--from', 'weekly']);
    expect(out.join('\n')).toMatch(/^hebdo-copie \(v1\): Hebdomadaire bis, \d+ steps$/);
    const e = await buildProgram(ctx)
      .parseAsync(['node', 'relance', 'scenarios', 'create', '--key', 'x2', '--name', 'X', '--file', '/nonexistent/def.json'])
      .then(() => null, (x: unknown) => x);
    expect(isRelanceError(e) && e.message).toMatch(/cannot read \/nonexistent\/def\.json/);

    const keys = (await (await call('GET', '/api/v1/scenarios')).json()) as { data: { key: string }[] };
    expect(keys.data.map((s) => s.key)).toEqual(expect.arrayContaining(['hebdo-copie', 'btp-strict', 'court']));
  });
});
