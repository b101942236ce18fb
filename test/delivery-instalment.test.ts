/**
 * A payment plan's instalment reminder goes out through the outbox (the plan's own pause lets it
 * through), asks for the instalment's amount, and names the instalment.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { listLocalOutbox } from '../src/delivery/channels/email.ts';
import { confirmSent } from '../src/delivery/outbox.ts';
import { createPaymentPlan } from '../src/engine/events.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, d, paris, plan, setupOrg, worker } from './delivery-fixture.ts';

describe.each(dbTargets())('instalment reminders on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('the reminder of instalment 1 is sent during the plan, for its amount', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-02-02', { number: 'F-PLAN-1', amount: 90_000n });
    await db.tx((q) =>
      createPaymentPlan(q, org.id, { customerId: c.id, invoiceIds: [inv.id], instalments: [{ dueDate: d('2026-03-09'), amountMinor: 30_000n }, { dueDate: d('2026-04-09'), amountMinor: 60_000n }] }, d('2026-03-02')),
    );
    const r = await plan(db, org.id, '2026-03-10');
    expect(r.instalmentReminders).toBe(1);
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-plan-'));
    const stats = await worker(db, paris('2026-03-10'), { dataDir }).runOnce();
    expect(stats.exported).toBe(2); // the plan's confirmation, queued on 2 March, and the reminder
    expect((await actions(db, org.id)).map((a) => a.status)).toEqual(['exported', 'exported']);
    const mails = await Promise.all(listLocalOutbox(join(dataDir, 'outbox'), org.id).map((f) => simpleParser(readFileSync(f.file))));
    const mail = mails.find((m) => m.subject?.startsWith('Échéance n° 1'))!;
    expect(mail.subject).toMatch(/^Échéance n° 1 non reçue/);
    const text = (mail.text ?? '').replace(/[\u202f\u00a0]/g, ' ');
    expect(text).toContain('l’échéance n° 1 de l’échéancier convenu, soit 300,00 €, attendue le 9 mars 2026');
    expect(text).toContain('Montant à régler : 300,00 €');
  });
});

describe.each(dbTargets())('delivery webhooks on $name', (target) => {
  it('action.exported is told when a message is written to the local outbox, action.sent when it is confirmed sent', async () => {
    const { createSubscription } = await import('../src/webhooks/index.ts');
    const db = await target.open();
    try {
      const org = await setupOrg(db);
      await createSubscription(db, org.id, { url: 'https://hooks.example.com/hook', events: ['action.sent', 'action.exported', 'action.failed'] });
      const c = await addCustomer(db, org.id);
      await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-HOOK-1' });
      await plan(db, org.id, '2026-03-02');
      const stats = await worker(db, paris('2026-03-02')).runOnce();
      expect([stats.sent, stats.exported]).toEqual([0, 1]);
      const [a] = await actions(db, org.id);
      await db.tx((q) => confirmSent(q, org.id, { ids: [a!.id] }, 'claire', paris('2026-03-02', '16:00')));
      const ev = await db.query<{ type: string; payload: { channel: string; confirmedBy?: string } }>('SELECT type, payload FROM webhook_events WHERE organisation_id = $1 ORDER BY id', [org.id]);
      expect(ev.map((e) => [e.type, e.payload.channel, e.payload.confirmedBy ?? null])).toEqual([
        ['action.exported', 'email', null],
        ['action.sent', 'email', 'claire'],
      ]);
    } finally {
      await db.close();
    }
  });
});
