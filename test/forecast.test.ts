/**
 * Issue 22, cash-in forecast over the ledger, both databases: on a seeded demo the back-test error
 * is below the naive forecast's, shown beside it by `relance forecast` (French, English, JSON) and
 * GET /api/v1/forecast; a promise brings its amount in its week.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { createApp } from '../src/http/app.ts';
import { cashInForecast } from '../src/risk/forecast.ts';
import { dbTargets } from './db.ts';
import { cli } from './debtor-harness.ts';

const TODAY = '2026-11-22' as CalendarDate;

describe.each(dbTargets())('cash-in forecast on $name', (target) => {
  let db: Db;
  let orgId: string;
  beforeAll(async () => {
    db = await target.open();
    orgId = (await seedDemo(db, { customers: 80, invoices: 900, today: TODAY, seed: 'forecast' })).organisation.id;
  });
  afterAll(async () => db?.close());

  it('13 weeks of expected cash-in, back-tested on the history with an error below the naive forecast by due dates', async () => {
    const f = await cashInForecast(db, orgId, TODAY);
    expect(f.weeks).toHaveLength(13);
    expect(f.weeks[0]!.from).toBe(TODAY);
    expect(f.backtest.origins).toHaveLength(6);
    expect(f.backtest.wape!).toBeLessThan(f.backtest.naiveWape!);
    // Nothing is expected beyond what is owed.
    const [open] = await db.query<{ open: bigint }>('SELECT sum(amount_incl_tax_minor - allocated_minor - written_off_minor) AS open FROM invoices WHERE organisation_id = $1', [orgId]);
    expect(f.weeks.reduce((s, w) => s + w.expectedMinor, 0n)).toBeLessThanOrEqual(open!.open);

    const fr = await cli(db, orgId, ['forecast', '--date', TODAY], 'fr');
    expect(fr).toMatch(/Encaissements attendus par semaine \(13 semaines à partir du 22 novembre 2026\)/);
    expect(fr).toMatch(/Erreur du rétro-test sur votre historique \(6 départs, 13 semaines chacun, WAPE\) : \d+(,\d)? % ; prévision naïve par échéances : \d+(,\d)? %/);
    const en = await cli(db, orgId, ['forecast', '--date', TODAY], 'en');
    expect(en).toMatch(/- week of 29 November 2026: €[\d,.]+ \(due dates only: €[\d,.]+\)/);
    const json = JSON.parse(await cli(db, orgId, ['forecast', '--date', TODAY, '--json']));
    expect(json.backtest.wape).toBe(f.backtest.wape);

    const key = await db.tx((q) => createApiKey(q, orgId, { name: 'tresorerie', scope: 'read' }));
    const res = await createApp({ db, now: () => new Date('2026-11-22T10:00:00Z') }).request('/api/v1/forecast', { headers: { authorization: `Bearer ${key.key}` } });
    const body = (await res.json()) as { weeks: unknown[]; backtest: { wape: number; naiveWape: number } };
    expect(body.weeks).toHaveLength(13);
    expect(body.backtest.wape).toBeLessThan(body.backtest.naiveWape);
  });
});
