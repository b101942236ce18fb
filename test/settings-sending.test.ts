/**
 * The organisation's sending options (window, holiday calendar, working days only) are the
 * default of its scenarios: changing them leaves a scenario that set its own alone, and replans
 * the messages of those that follow them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { claimDue } from '../src/delivery/outbox-claim.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { assignScenario, ensureBuiltinScenarios, getScenario } from '../src/engine/scenarios.ts';
import { createApp } from '../src/http/app.ts';
import { createCustomer, createInvoice, createOrganisation } from '../src/ledger/repo.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
const TODAY = '2026-03-02' as CalendarDate; // a Monday in winter: Paris is UTC+1

describe.each(dbTargets())('sending options of the organisation on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let headers: Record<string, string>;
  let orgId: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await app.request(`http://${HOST}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };
  const sendAfter = async (customerId: bigint) =>
    (await db.query<{ send_after: Date | string }>('SELECT send_after FROM actions WHERE organisation_id = $1 AND customer_id = $2', [orgId, customerId])).map((r) =>
      new Date(r.send_after).toISOString(),
    );

  let follower: bigint;
  let ownWindow: bigint;
  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Menuiserie Fenêtre', timeZone: 'Europe/Paris', live: true })).id;
    await db.tx((q) => ensureBuiltinScenarios(q, orgId));
    await db.tx((q) => addUser(q, orgId, { email: 'admin@fenetre.fr', role: 'admin', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'admin@fenetre.fr', PASSWORD, { organisationId: orgId, now: new Date() }));
    headers = { cookie: `relance_session=${s.token}`, host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
    app = createApp({ db, now: () => new Date('2026-03-02T05:00:00Z') });
    const contacts = [{ name: 'Compta', email: 'compta@client.fr', receivesReminders: true }];
    for (const [i, name] of ['Atelier Suiveur', 'Scierie Matinale'].entries()) {
      const c = await createCustomer(db, orgId, { legalName: name, kind: 'business', contacts });
      await createInvoice(db, orgId, { customerId: c.id, number: `F-${i + 1}`, issueDate: '2026-01-31', dueDate: TODAY, currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 120_000n });
      if (i === 0) follower = c.id;
      else ownWindow = c.id;
    }
    await db.tx((q) => assignScenario(q, orgId, 'weekly', { customerId: ownWindow }));
  });
  afterAll(async () => db?.close());

  it('a scenario given its own window in the editor keeps it; one left at the organisation\'s follows it', async () => {
    const weekly = (await call('GET', '/api/app/scenarios')).body.scenarios.find((x: { key: string }) => x.key === 'weekly');
    expect(weekly.follows).toEqual(['window', 'holidayCalendar', 'workingDaysOnly']);
    // The editor sends the definition back whole, the window changed.
    const def = { ...weekly.definition, options: { ...weekly.definition.options, window: { start: '07:00', end: '08:00' } } };
    expect((await call('PUT', '/api/app/scenarios/weekly', { definition: def })).status).toBe(200);
    const after = await db.tx((q) => getScenario(q, orgId, 'weekly'));
    expect(after.follows).toEqual(['holidayCalendar', 'workingDaysOnly']);
    expect(after.definition.options.window).toEqual({ start: '07:00', end: '08:00' });
  });

  it("changing the organisation's window replans the scenarios that follow it and leaves the others", async () => {
    await runCycle(db, orgId, { today: TODAY });
    expect(await sendAfter(follower)).toEqual(['2026-03-02T08:00:00.000Z']); // 09:00 in Paris
    expect(await sendAfter(ownWindow)).toEqual(['2026-03-02T06:00:00.000Z']); // 07:00 in Paris
    const versions = { b2b: (await db.tx((q) => getScenario(q, orgId, 'standard-b2b'))).version, weekly: (await db.tx((q) => getScenario(q, orgId, 'weekly'))).version };

    const r = await call('PUT', '/api/app/settings/engine', { window: { start: '10:00', end: '12:30' }, holidayCalendar: 'FR-ALSACE-MOSELLE' });
    expect(r.status).toBe(200);

    const b2b = await db.tx((q) => getScenario(q, orgId, 'standard-b2b'));
    const weekly = await db.tx((q) => getScenario(q, orgId, 'weekly'));
    expect(b2b.definition.options.window).toEqual({ start: '10:00', end: '12:30' });
    expect(b2b.definition.options.holidayCalendar).toBe('FR-ALSACE-MOSELLE');
    expect(weekly.definition.options.window).toEqual({ start: '07:00', end: '08:00' });
    expect(weekly.definition.options.holidayCalendar).toBe('FR-ALSACE-MOSELLE');
    // The scenarios themselves did not change: no new version.
    expect([b2b.version, weekly.version]).toEqual([versions.b2b, versions.weekly]);
    expect(await sendAfter(follower)).toEqual(['2026-03-02T09:00:00.000Z']); // 10:00 in Paris
    expect(await sendAfter(ownWindow)).toEqual(['2026-03-02T06:00:00.000Z']);

    const settings = (await call('GET', '/api/app/settings')).body;
    expect(settings.sending).toEqual({ window: { start: '10:00', end: '12:30' }, holidayCalendar: 'FR-ALSACE-MOSELLE', workingDaysOnly: true });
    expect(settings.ownSending.map((x: { key: string }) => x.key).sort()).toEqual(['consumer', 'weekly']);
  });

  it("the worker goes by the effective window: the follower's new one, the other scenario's own", async () => {
    // 10:15 in Paris: inside the organisation's new window, outside the 07:00-08:00 of the other scenario.
    const r = await claimDue(db, { owner: 'test', now: new Date('2026-03-02T09:15:00Z'), limit: 10, leaseMs: 60_000 });
    const claimed = await db.query<{ customer_id: bigint; status: string }>('SELECT customer_id, status FROM actions WHERE organisation_id = $1 ORDER BY customer_id', [orgId]);
    expect(r.claimed.length).toBe(1);
    expect(claimed.find((a) => a.customer_id === follower)?.status).toBe('sending');
    expect(claimed.find((a) => a.customer_id === ownWindow)?.status).toBe('queued');
  });

  it('a bad window or an unknown calendar is a 400 naming the field, and changes nothing', async () => {
    for (const [body, field] of [
      [{ window: { start: '18:00', end: '09:00' } }, 'window'],
      [{ window: { start: '9h', end: '18:00' } }, 'window'],
      [{ window: { start: '09:00', end: '25:00' } }, 'window'],
      [{ holidayCalendar: 'XX' }, 'holidayCalendar'],
      [{ holidayCalendar: '__proto__' }, 'holidayCalendar'],
    ] as const) {
      const r = await call('PUT', '/api/app/settings/engine', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.where?.field).toBe(field);
    }
    expect((await call('GET', '/api/app/settings')).body.sending.window).toEqual({ start: '10:00', end: '12:30' });
  });
});

describe('migration 0028 on an organisation whose settings wrote the window into every scenario', () => {
  it("the default scenario's options become the organisation's; a scenario with other values keeps them as its own", async () => {
    const { openPglite } = await import('../src/db/driver.ts');
    const { listMigrations, migrate } = await import('../src/db/migrate.ts');
    const { BUILTIN_SCENARIOS } = await import('../src/domain/engine/scenario.ts');
    const db = await openPglite();
    try {
      await migrate(db, listMigrations().filter((m) => m.name < '0028'));
      const org = await createOrganisation(db, { legalName: 'Ancienne Menuiserie' });
      const full = (key: string, window: { start: string; end: string }) =>
        JSON.stringify({ ...BUILTIN_SCENARIOS[key]!.definition, options: { ...BUILTIN_SCENARIOS[key]!.definition.options, window, holidayCalendar: 'FR-RE' } });
      for (const [key, window, isDefault] of [['standard-b2b', { start: '08:00', end: '17:00' }, true], ['weekly', { start: '08:00', end: '17:00' }, false], ['consumer', { start: '10:00', end: '19:00' }, false]] as const) {
        await db.query('UPDATE scenarios SET definition = $3::jsonb, is_default = $4 WHERE organisation_id = $1 AND key = $2', [org.id, key, full(key, window), isDefault]);
        await db.query('UPDATE scenario_versions v SET definition = $3::jsonb FROM scenarios s WHERE s.organisation_id = $1 AND s.key = $2 AND v.organisation_id = s.organisation_id AND v.scenario_id = s.id', [org.id, key, full(key, window)]);
      }
      await migrate(db);
      const { loadSendingDefaults } = await import('../src/engine/scenarios.ts');
      expect(await loadSendingDefaults(db, org.id)).toEqual({ window: { start: '08:00', end: '17:00' }, holidayCalendar: 'FR-RE', workingDaysOnly: true });
      const weekly = await getScenario(db, org.id, 'weekly');
      const consumer = await getScenario(db, org.id, 'consumer');
      expect(weekly.follows).toEqual(['window', 'holidayCalendar', 'workingDaysOnly']);
      expect(consumer.follows).toEqual(['holidayCalendar', 'workingDaysOnly']);
      expect(consumer.definition.options.window).toEqual({ start: '10:00', end: '19:00' });
      const [v] = await db.query<{ w: unknown }>("SELECT definition #> '{options,window}' AS w FROM scenario_versions WHERE organisation_id = $1 AND scenario_id = $2", [org.id, weekly.id]);
      expect(v!.w).toBeNull();
    } finally {
      await db.close();
    }
  });
});
