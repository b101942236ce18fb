import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { computeLateFees, rateOn } from '../src/domain/law/index.ts';
import { RelanceError } from '../src/errors.ts';
import { listRateOverrides, loadRateTables, removeRateOverride, setRateOverride } from '../src/law/rates-repo.ts';
import { dbTargets } from './db.ts';

const d = (s: string) => s as CalendarDate;

describe.each(dbTargets())('operator rates on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('stores a rate, lists it, and computations use it instead of a provisional guess', async () => {
    const before = await loadRateTables(db);
    expect(rateOn(before, 'ecb-mro', d('2026-07-01')).provisional).toBe(true);

    const saved = await setRateOverride(db, { table: 'ecb-mro', from: '2026-07-01', ratePercent: '2,4', note: 'ECB press release' });
    expect(saved).toMatchObject({ table: 'ecb-mro', from: '2026-07-01', ratePercent: '2.40', note: 'ECB press release' });
    expect(await listRateOverrides(db)).toMatchObject([{ table: 'ecb-mro', from: '2026-07-01', ratePercent: '2.40' }]);

    const tables = await loadRateTables(db);
    const r = computeLateFees(
      { jurisdiction: 'FR', debtor: 'business', currency: 'EUR', amountMinor: 1_200_000n, dueDate: d('2026-06-15'), until: d('2026-09-15') },
      tables,
    );
    expect(r.provisional).toBe(false);
    expect(r.periods.map((p) => p.ratePercent)).toEqual(['12.15', '12.40']);
  });

  it('setting the same table and date again corrects the rate instead of adding a second one', async () => {
    await setRateOverride(db, { table: 'fr-taux-legal-autres', from: '2026-07-01', ratePercent: '2.50' });
    await setRateOverride(db, { table: 'fr-taux-legal-autres', from: '2026-07-01', ratePercent: '2.55' });
    const rows = (await listRateOverrides(db)).filter((o) => o.table === 'fr-taux-legal-autres');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ratePercent).toBe('2.55');
    expect(rateOn(await loadRateTables(db), 'fr-taux-legal-autres', d('2026-12-31'))).toMatchObject({ ratePercent: '2.55', provisional: false });
  });

  it('refuses an unknown table, a bad date or rate, and writes nothing', async () => {
    const count = (await listRateOverrides(db)).length;
    const fails = async (input: { table: string; from: string; ratePercent: string }) => {
      const e = await setRateOverride(db, input).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RelanceError);
      return (e as RelanceError).where?.field;
    };
    expect(await fails({ table: 'ecb-deposit', from: '2026-07-01', ratePercent: '2' })).toBe('table');
    expect(await fails({ table: 'ecb-mro', from: '2026-02-30', ratePercent: '2' })).toBe('from');
    expect(await fails({ table: 'ecb-mro', from: '2026-07-01', ratePercent: '2.15%%' })).toBe('rate');
    expect(await fails({ table: 'de-basiszinssatz', from: '2026-08-01', ratePercent: '1' })).toBe('from');
    expect(await listRateOverrides(db)).toHaveLength(count);
  });

  it('the database itself refuses a rate that is not exact decimal text', async () => {
    const e = await db.query("INSERT INTO rate_overrides (table_name, effective_from, rate_percent) VALUES ('ecb-mro', '2027-01-01', '2.1e0')").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RelanceError);
  });

  it('removes an operator rate, and says when there is none', async () => {
    await removeRateOverride(db, 'ecb-mro', '2026-07-01');
    expect(rateOn(await loadRateTables(db), 'ecb-mro', d('2026-07-01')).provisional).toBe(true);
    const e = await removeRateOverride(db, 'ecb-mro', '2026-07-01').catch((x: unknown) => x);
    expect((e as RelanceError).code).toBe('not_found');
  });
});
