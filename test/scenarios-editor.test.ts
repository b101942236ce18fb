/**
 * The scenario editor's routes (/api/app/scenarios), as the Scenarios screen uses them: a scenario
 * made from scratch (a name, then its steps), a copy of another one, a save with a new name. A
 * bad step is refused with 400 naming the step and its field, in the user's language, and nothing
 * is written; a scenario that was refused is not half-created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { BUILTIN_SCENARIOS } from '../src/domain/engine/scenario.ts';
import { createApp } from '../src/http/app.ts';
import type { ScenarioListResponse, ScenarioSaved } from '../src/http/routes/app/shapes/scenarios.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
const NOW = new Date('2026-06-01T08:00:00Z');

describe.each(dbTargets())('the scenario editor on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let headers: Record<string, string>;
  let orgId: string;

  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await app.request(`http://${HOST}/api/app${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as T };
  };
  type Problem = { detail: string; where?: { field?: string } };
  const counts = async () => {
    const [r] = await db.query<{ s: bigint; v: bigint }>(
      'SELECT (SELECT count(*) FROM scenarios WHERE organisation_id = $1) AS s, (SELECT count(*) FROM scenario_versions WHERE organisation_id = $1) AS v',
      [orgId],
    );
    return { scenarios: Number(r!.s), versions: Number(r!.v) };
  };
  const options = BUILTIN_SCENARIOS['standard-b2b']!.definition.options;

  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Menuiserie Scénario', language: 'fr' })).id;
    await db.tx((q) => addUser(q, orgId, { email: 'admin@scenario.fr', role: 'admin', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'admin@scenario.fr', PASSWORD, { organisationId: orgId, now: NOW }));
    headers = { cookie: `relance_session=${s.token}`, host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
    app = createApp({ db, now: () => NOW });
    expect((await call('GET', '/scenarios')).status).toBe(200);
  }, 60_000);
  afterAll(async () => db?.close());

  it('creates a scenario from scratch: a name, then its steps one by one; it starts at version 1, unassigned', async () => {
    const steps = [
      { offset: 2, channel: 'email', template: 'reminder', tone: 'reminder' },
      { offset: 12, channel: 'letter', template: 'firm', tone: 'firm', conditions: { customerKind: 'business', minOverdueMinor: { EUR: '50000' } } },
      { offset: -3, channel: 'sms', template: 'courtesy', tone: 'courtesy' },
    ];
    const res = await call<ScenarioSaved>('POST', '/scenarios', { key: 'menuiserie-courte', name: 'Menuiserie — courte', definition: { options, steps } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ key: 'menuiserie-courte', name: 'Menuiserie — courte', version: 1, isDefault: false });
    // Kept in the order of the days, whatever the order they were added in.
    expect(res.body.definition.steps.map((s) => s.offset)).toEqual([-3, 2, 12]);
    expect(res.body.definition.steps[2]!.conditions).toEqual({ customerKind: 'business', minOverdueMinor: { EUR: '50000' } });
    const list = (await call<ScenarioListResponse>('GET', '/scenarios')).body;
    expect(list.scenarios.find((s) => s.key === 'menuiserie-courte')).toMatchObject({ version: 1, customers: 0, isDefault: false });
  });

  it('duplicates a scenario: a copy with its own key and name, then edited and renamed as a new version', async () => {
    const copy = await call<ScenarioSaved>('POST', '/scenarios', { key: 'hebdo-strict', name: 'Hebdomadaire strict', from: 'weekly' });
    expect(copy.status).toBe(201);
    expect(copy.body.definition.steps).toEqual(BUILTIN_SCENARIOS.weekly!.definition.steps.map((s) => expect.objectContaining({ offset: s.offset, channel: s.channel, template: s.template })));
    const steps = [...copy.body.definition.steps.filter((s) => s.offset < 21), { offset: 25, channel: 'call_task', template: 'call_j25', tone: 'final' }];
    const saved = await call<ScenarioSaved>('PUT', '/scenarios/hebdo-strict', { name: '  Hebdo strict  ', definition: { ...copy.body.definition, steps } });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ key: 'hebdo-strict', name: 'Hebdo strict', version: 2 });
    expect(saved.body.definition.steps.at(-1)).toMatchObject({ offset: 25, channel: 'call_task' });
    // The original is untouched.
    const weekly = (await call<ScenarioListResponse>('GET', '/scenarios')).body.scenarios.find((s) => s.key === 'weekly')!;
    expect([weekly.version, weekly.definition.steps.length]).toEqual([1, BUILTIN_SCENARIOS.weekly!.definition.steps.length]);
  });

  it('refuses a bad step or name with 400 naming the step and field, in the user’s language, and writes nothing', async () => {
    const good = { offset: 5, channel: 'email', template: 'reminder', tone: 'reminder' };
    const withStep = (bad: unknown) => ({ options, steps: [good, bad] });
    const before = await counts();
    const cases: [string, unknown, string, RegExp][] = [
      ['POST', { key: 'sans-etape', name: 'Sans étape', definition: { options, steps: [] } }, 'steps', /au moins une étape/],
      ['POST', { key: 'sans-nom', name: '   ', definition: withStep({ ...good, offset: 9 }) }, 'name', /nom/],
      ['POST', { key: 'jour-faux', name: 'Jour faux', definition: withStep({ ...good, offset: 'dix' }) }, 'steps[1].offset', /nombre entier de jours/],
      ['POST', { key: 'canal-faux', name: 'Canal faux', definition: withStep({ ...good, offset: 9, channel: 'fax' }) }, 'steps[1].channel', /canal inconnu/],
      ['POST', { key: 'modele-faux', name: 'Modèle faux', definition: withStep({ ...good, offset: 9, template: 'poeme' }) }, 'steps[1].template', /modèle inconnu/],
      ['POST', { key: 'modele-vide', name: 'Modèle vide', definition: withStep({ ...good, offset: 9, template: 42 }) }, 'steps[1].template', /modèle est obligatoire/],
      ['POST', { key: 'client-faux', name: 'Client faux', definition: withStep({ ...good, offset: 9, conditions: { customerKind: 'vip' } }) }, 'steps[1].conditions.customerKind', /condition sur le client/],
      ['POST', { key: 'etape-nulle', name: 'Étape nulle', definition: withStep(null) }, 'steps[1]', /une étape se décrit/],
      ['POST', { key: 'doublon', name: 'Doublon', definition: withStep({ ...good }) }, 'steps[1].offset', /deux étapes au jour 5 sur le même canal \(e-mail\)/],
      ['PUT', { name: 'x'.repeat(201), definition: withStep({ ...good, offset: 9 }) }, 'name', /200 caractères/],
      ['PUT', { name: 'Hebdo', definition: withStep({ ...good, offset: 9, requiresApproval: 'oui' }) }, 'steps[1].requiresApproval', /true ou false/],
    ];
    for (const [method, body, field, detail] of cases) {
      const res = await call<Problem>(method, method === 'POST' ? '/scenarios' : '/scenarios/hebdo-strict', body);
      expect([res.status, res.body.where?.field], JSON.stringify(body)).toEqual([400, field]);
      expect(res.body.detail).toMatch(detail);
    }
    expect(await counts()).toEqual(before);
    const kept = (await call<ScenarioListResponse>('GET', '/scenarios')).body.scenarios.find((s) => s.key === 'hebdo-strict')!;
    expect([kept.name, kept.version]).toEqual(['Hebdo strict', 2]);

    // In English for a user who reads English.
    expect((await call('POST', '/me/language', { language: 'en' })).status).toBe(200);
    const en = await call<Problem>('POST', '/scenarios', { key: 'canal-faux', name: 'Canal faux', definition: withStep({ ...good, offset: 9, channel: 'fax' }) });
    expect([en.status, en.body.where?.field, en.body.detail]).toEqual([400, 'steps[1].channel', 'unknown channel "fax"']);
    expect((await call('POST', '/me/language', { language: 'fr' })).status).toBe(200);
  });
});
