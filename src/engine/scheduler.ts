/**
 * Runs the daily cycle inside the server: at start and then every interval, each organisation
 * whose cycle has not run yet today (in its own time zone) gets one. Idempotent like the cycle:
 * two servers ticking at once collide on the actions' unique keys.
 */
import type { Db } from '../db/driver.ts';
import { todayIn } from '../domain/dates.ts';
import { isRelanceError } from '../errors.ts';
import { listOrganisations } from '../ledger/repo.ts';
import { type CycleSummary, runCycle } from './cycle.ts';

export interface DailyCycleHandle {
  stop(): void;
  /** Resolves when the tick in progress (if any) ends. */
  idle(): Promise<void>;
}

export async function runDueCycles(db: Db, now: number, log: (line: string) => void): Promise<CycleSummary[]> {
  const out: CycleSummary[] = [];
  for (const org of await listOrganisations(db)) {
    const today = todayIn(org.timeZone, now);
    const [ran] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM cycle_runs WHERE organisation_id = $1 AND run_on = $2', [org.id, today]);
    if (ran && ran.n > 0n) continue;
    let summary: CycleSummary;
    try {
      summary = await runCycle(db, org.id, { today });
    } catch (e) {
      // One organisation's failure (a broken scenario, a bad setting) must not stop the others'
      // cycles: it is logged with its reason and tried again at the next tick.
      log(`daily cycle ${today} for ${org.legalName} failed: ${isRelanceError(e) ? e.message : (e as Error).message}`);
      continue;
    }
    log(`daily cycle ${today} for ${org.legalName}: ${summary.actionsCreated} actions planned, ${summary.stepsSkipped} steps skipped${summary.hold.held ? `; sending held: ${summary.hold.message}` : ''}`);
    out.push(summary);
  }
  return out;
}

export function startDailyCycle(db: Db, opts: { now?: () => number; intervalMs?: number; log?: (line: string) => void } = {}): DailyCycleHandle {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running.then(() => runDueCycles(db, now(), log)).catch((e) => log(`daily cycle failed: ${(e as Error).message}`));
  };
  tick();
  const timer = setInterval(tick, opts.intervalMs ?? 15 * 60_000);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    idle: () => running.then(() => undefined),
  };
}
