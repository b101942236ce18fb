/**
 * "The demo works out of the box" (issue 14): what `relance serve --seed-demo` does on a fresh data
 * folder — the demo seeded, the daily cycle, the in-process worker — on a working day inside the
 * sending window, with no SMTP server configured: the e-mails are written as .eml files under the
 * data folder's outbox, each Message-ID once, from the demo's sender address, and none fails for
 * want of a sender. A second worker pass writes nothing again.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { DEMO_SENDER, seedDemo } from '../src/demo/seed.ts';
import { DeliveryWorker } from '../src/delivery/worker.ts';
import { runDueCycles } from '../src/engine/scheduler.ts';
import { dbTargets } from './db.ts';

/** Tuesday 3 March 2026, 10:00 in Paris: a working day, inside every scenario's sending window. */
const NOW = Date.parse('2026-03-03T09:00:00Z');
const TODAY = '2026-03-03' as never;

function emlFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.eml')) out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

describe.each(dbTargets())('the demo out of the box on $name', (target) => {
  let db: Db;
  let dataDir: string;
  beforeAll(async () => {
    db = await target.open();
    dataDir = mkdtempSync(join(tmpdir(), 'relance-demo-'));
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('seed, daily cycle, worker inside the window: .eml files under the outbox, each Message-ID once, from the demo sender', { timeout: 300_000 }, async () => {
    const { organisation } = await seedDemo(db, { today: TODAY });
    await runDueCycles(db, NOW, () => {});
    const clock = () => new Date(NOW);
    const worker = () => new DeliveryWorker(db, { dataDir, clock, concurrency: 4 }).runOnce({ waitForLeasesMs: 0 });
    await worker();

    const files = emlFiles(join(dataDir, 'outbox'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.includes(join('outbox', organisation.id, '2026-03-03')))).toBe(true);
    const ids: string[] = [];
    for (const f of files) {
      const mail = await simpleParser(readFileSync(f));
      expect(mail.from?.value[0]?.address).toBe(DEMO_SENDER.fromAddress);
      expect(mail.to).toBeDefined();
      expect(mail.subject).toBeTruthy();
      ids.push(mail.messageId!);
    }
    expect(new Set(ids).size).toBe(ids.length);

    // One file per e-mail handed over, each recorded once with its Message-ID; none failed for want of a sender.
    const delivered = await db.query<{ message_id: string }>(`SELECT message_id FROM deliveries WHERE organisation_id = $1 AND channel = 'email' ORDER BY message_id`, [organisation.id]);
    expect(delivered.map((d) => d.message_id).sort()).toEqual([...ids].sort());
    const failed = await db.query<{ n: bigint }>(
      `SELECT count(*) AS n FROM actions WHERE organisation_id = $1 AND channel = 'email' AND status IN ('failed', 'uncertain')`,
      [organisation.id],
    );
    expect(failed[0]!.n).toBe(0n);

    // The worker runs again (the server's next poll): nothing is written twice.
    await worker();
    expect(emlFiles(join(dataDir, 'outbox'))).toEqual(files);
  });
});
