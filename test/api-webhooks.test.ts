import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import {
  BACKOFF_SECONDS,
  createSubscription,
  deliverDue,
  deliveryAttempts,
  emitEvent,
  listDeliveries,
  replayDelivery,
  SIGNATURE_HEADER,
  startWebhookDispatcher,
  verifySignature,
} from '../src/webhooks/index.ts';
import { networkPolicy } from '../src/net/guard.ts';
import { dbTargets } from './db.ts';

/** The receiver runs on this machine: the operator's setting that allows loopback (RELANCE_WEBHOOK_ALLOW_NETWORKS). */
const LOCAL = { policy: networkPolicy('127.0.0.0/8') };

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe.each(dbTargets())('webhooks against a real receiver on 127.0.0.1 ($name)', (target) => {
  let db: Db;
  let org: string;
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let answers: number[] = [];
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'Atelier Dupont SAS' })).id;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = answers.shift() ?? 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/relance`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await db?.close();
  });

  it('delivers a signed event, retries with backoff after a failure, logs every attempt, and replays', async () => {
    const sub = await createSubscription(db, org, { url, events: ['invoice.paid', 'dispute.opened'] }, LOCAL);
    await createSubscription(db, org, { url: `${url}/other`, events: ['case.escalated'] }, LOCAL);
    // Emitted in a transaction that rolls back: no event, no delivery.
    await db
      .tx(async (q) => {
        await emitEvent(q, org, 'invoice.paid', { invoice: 'F-0' });
        throw new Error('rolled back');
      })
      .catch(() => {});
    const { deliveries } = await db.tx((q) => emitEvent(q, org, 'invoice.paid', { invoice: 'F-1', amount: '120.00' }));
    expect(deliveries).toBe(1);

    const t0 = new Date(Date.now() + 1000);
    answers = [500];
    expect(await deliverDue(db, { ...LOCAL, now: () => t0 })).toEqual({ attempted: 1, delivered: 0, failed: 1 });
    // Not due again before the backoff.
    expect((await deliverDue(db, { ...LOCAL, now: () => new Date(t0.getTime() + 10_000) })).attempted).toBe(0);
    const t1 = new Date(t0.getTime() + (BACKOFF_SECONDS[0] + 1) * 1000);
    expect(await deliverDue(db, { ...LOCAL, now: () => t1 })).toEqual({ attempted: 1, delivered: 1, failed: 0 });
    expect((await deliverDue(db, { ...LOCAL, now: () => new Date(t1.getTime() + 86_400_000) })).attempted).toBe(0);

    expect(received).toHaveLength(2);
    const last = received[1]!;
    const body = JSON.parse(last.body);
    expect(body).toMatchObject({ type: 'invoice.paid', organisation: org, data: { invoice: 'F-1', amount: '120.00' } });
    const sig = String(last.headers[SIGNATURE_HEADER]);
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(sub.secret, sig, last.body, Math.floor(t1.getTime() / 1000))).toBe(true);
    expect(verifySignature(sub.secret, sig, `${last.body} `, Math.floor(t1.getTime() / 1000))).toBe(false);
    expect(verifySignature('whsec_wrong', sig, last.body, Math.floor(t1.getTime() / 1000))).toBe(false);
    // A replayed old signature is refused by the timestamp check.
    expect(verifySignature(sub.secret, sig, last.body, Math.floor(t1.getTime() / 1000) + 3600)).toBe(false);

    const [d] = await listDeliveries(db, org);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200 });
    const log = await deliveryAttempts(db, org, d!.id as bigint);
    expect(log.map((a) => [a.status_code, a.error])).toEqual([
      [500, 'HTTP 500'],
      [200, null],
    ]);

    const replay = await replayDelivery(db, org, d!.id as bigint, t1);
    expect(await deliverDue(db, { ...LOCAL, now: () => t1 })).toEqual({ attempted: 1, delivered: 1, failed: 0 });
    expect(received).toHaveLength(3);
    expect(JSON.parse(received[2]!.body).id).toBe(body.id);
    expect(received[2]!.headers['relance-delivery']).toBe(String(replay));
  });

  it('gives up after the last backoff step and marks the delivery dead', async () => {
    const o = (await createOrganisation(db, { legalName: 'Other' })).id;
    await createSubscription(db, o, { url: 'http://127.0.0.1:9/unreachable', events: ['*'] }, LOCAL);
    await db.tx((q) => emitEvent(q, o, 'case.escalated', { customer: 'C1' }));
    let t = Date.now() + 1000;
    for (let i = 0; i < 7; i++) {
      await deliverDue(db, { ...LOCAL, now: () => new Date(t), timeoutMs: 2000 });
      t += 86_400_000 + 1000;
    }
    const [d] = await listDeliveries(db, o);
    expect(d).toMatchObject({ status: 'dead', attempts: 7 });
    expect(String(d!.last_error)).not.toBe('');
  });

  it('the dispatcher started by the server delivers what is emitted', async () => {
    const o = (await createOrganisation(db, { legalName: 'Dispatcher Co' })).id;
    await createSubscription(db, o, { url: `${url}/dispatcher`, events: ['promise.broken'] }, LOCAL);
    const before = received.length;
    const stop = startWebhookDispatcher(db, { ...LOCAL, intervalMs: 20 });
    try {
      await db.tx((q) => emitEvent(q, o, 'promise.broken', { promiseId: '7' }));
      for (let i = 0; i < 200 && received.length === before; i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await stop();
    }
    expect(JSON.parse(received.at(-1)!.body)).toMatchObject({ type: 'promise.broken', data: { promiseId: '7' } });
  });
});
