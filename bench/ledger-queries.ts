import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { customerLedger } from '../src/ledger/repo.ts';
import { percentile } from './harness.ts';

/** p95 in ms of "balance and open items of one customer", over random customers. */
export async function balanceP95(db: Db, orgId: string, samples: number): Promise<number> {
  const ids = (await db.query<{ id: bigint }>('SELECT id FROM customers WHERE organisation_id = $1 ORDER BY random() LIMIT $2', [orgId, samples])).map((r) => r.id);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) await customerLedger(db, orgId, ids[i % ids.length]!, '2026-11-22' as CalendarDate); // warm-up
  for (const id of ids) {
    const t0 = process.hrtime.bigint();
    await customerLedger(db, orgId, id, '2026-11-22' as CalendarDate);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return percentile(times, 95);
}
