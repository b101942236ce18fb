/**
 * The outbox without an SMTP server: approvals, cancellations, leases, racing workers, the local
 * channels (.eml outbox, SMS, letters, registered letters), call tasks and their outcomes, the
 * append-only proof store, the print batch and the evidence file. pdftotext (poppler-utils) reads
 * the PDFs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { listCallTasks, recordCallOutcome } from '../src/delivery/calls.ts';
import { HttpSms } from '../src/delivery/channels/sms.ts';
import { listLocalOutbox } from '../src/delivery/channels/email.ts';
import { printBatch } from '../src/delivery/letters.ts';
import { approveActions, cancelActions, confirmSent } from '../src/delivery/outbox.ts';
import { claimDue, reapExpiredLeases } from '../src/delivery/outbox-claim.ts';
import { handOver } from '../src/delivery/outbox-outcomes.ts';
import { pdfPageCount } from '../src/delivery/pdf-merge.ts';
import { customerHistoryPdf, recordBounce, recordRegisteredProof } from '../src/delivery/proof.ts';
import { saveDeliverySettings } from '../src/delivery/settings.ts';
import { networkPolicy } from '../src/net/guard.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, chasedUntil, d, paris, plan, sentOutside, setupOrg, worker } from './delivery-fixture.ts';

const pdftext = (pdf: Buffer) => {
  const file = join(mkdtempSync(join(tmpdir(), 'relance-pdf-')), 'x.pdf');
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
};

describe.each(dbTargets())('outbox on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('without SMTP settings the email goes to the local outbox as an .eml file, listed', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-LOCAL-1' });
    await plan(db, org.id, '2026-03-02');
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-data-'));
    const stats = await worker(db, paris('2026-03-02'), { dataDir }).runOnce();
    // Nothing left the machine: exported, awaiting sending by hand, not sent.
    expect([stats.sent, stats.exported]).toEqual([0, 1]);
    expect((await actions(db, org.id)).map((a) => [a.status, a.status_reason])).toEqual([['exported', null]]);
    const files = listLocalOutbox(join(dataDir, 'outbox'), org.id);
    expect(files.map((f) => f.day)).toEqual(['2026-03-02']);
    const eml = readFileSync(files[0]!.file);
    expect(eml.toString('latin1')).toContain('F-LOCAL-1');
    const [proof] = await db.query<{ content: Uint8Array; provider: string }>('SELECT content, provider FROM deliveries WHERE organisation_id = $1', [org.id]);
    expect(Buffer.from(proof!.content).equals(eml)).toBe(true);
    expect(proof!.provider).toBe('local-outbox');
  });

  it('the proof store is append-only: the database refuses to change or delete a sent message, its events, or to un-send an action', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    await worker(db, paris('2026-03-02')).runOnce();
    // An exported message only becomes sent (confirmed) or cancelled (not to be sent).
    await expect(db.query(`UPDATE actions SET status = 'queued' WHERE organisation_id = $1`, [org.id])).rejects.toThrow(/was exported/);
    await db.tx((q) => confirmSent(q, org.id, { status: ['exported'] }, 'claire', paris('2026-03-02', '15:00')));
    await expect(db.query(`UPDATE deliveries SET subject = 'edited' WHERE organisation_id = $1`, [org.id])).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM deliveries WHERE organisation_id = $1', [org.id])).rejects.toThrow(/append-only/);
    await expect(db.query(`UPDATE delivery_events SET kind = 'accepted' WHERE organisation_id = $1`, [org.id])).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM delivery_events WHERE organisation_id = $1', [org.id])).rejects.toThrow(/append-only/);
    await expect(db.query(`UPDATE actions SET status = 'queued' WHERE organisation_id = $1`, [org.id])).rejects.toThrow(/was sent/);
    // And a hash that does not match the content is refused too.
    const [a] = await actions(db, org.id);
    await expect(
      db.query(
        `INSERT INTO deliveries (organisation_id, action_id, attempt, customer_id, channel, provider, recipients, invoice_ids, content_type, content, sha256, handed_over_at)
         VALUES ($1, $2, 99, $3, 'email', 'x', '{}', '{}', 'text/plain', $4, $5, now())`,
        [org.id, a!.id, c.id, Buffer.from('forged'), '0'.repeat(64)],
      ),
    ).rejects.toThrow();
  });

  it('a formal notice waits for approval; approved in bulk, it goes as a registered letter with a tracking number, then the proofs are added', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-02-02');
    await sentOutside(db, org.id, inv.id, 'firm', '2026-02-16'); // a firm reminder sent before Relance
    await plan(db, org.id, '2026-03-04'); // J+30
    let [a] = await actions(db, org.id);
    expect([a!.channel, a!.status]).toEqual(['registered_letter', 'awaiting_approval']);
    await worker(db, paris('2026-03-04')).runOnce();
    expect((await actions(db, org.id))[0]!.status).toBe('awaiting_approval');
    const approved = await db.tx((q) => approveActions(q, org.id, { status: ['awaiting_approval'], channel: ['registered_letter'] }, 'claire', paris('2026-03-04')));
    expect(approved).toEqual([a!.id]);
    await worker(db, paris('2026-03-04', '11:00')).runOnce();
    [a] = await actions(db, org.id);
    // No provider: in the print batch to post at the counter, not sent yet.
    expect(a!.status).toBe('exported');
    const [rl] = await db.query<{ tracking_number: string; provider: string; status: string }>('SELECT * FROM registered_letters WHERE organisation_id = $1', [org.id]);
    expect(rl).toMatchObject({ provider: 'local', status: 'submitted' });
    expect(rl!.tracking_number).toMatch(/^LOCAL-/);
    // Posted at the counter: the real number and the acknowledgement of receipt come in.
    await db.tx((q) => recordRegisteredProof(q, org.id, a!.id, { tracking: '1A12345678901', at: paris('2026-03-05') }));
    // The post office's number is the proof it was sent.
    expect((await actions(db, org.id))[0]!.status).toBe('sent');
    await db.tx((q) => recordRegisteredProof(q, org.id, a!.id, { kind: 'receipt', at: paris('2026-03-07'), content: Buffer.from('%PDF-1.4 signed AR'), contentType: 'application/pdf' }));
    const [after] = await db.query<{ tracking_number: string; status: string }>('SELECT * FROM registered_letters WHERE organisation_id = $1', [org.id]);
    expect(after).toMatchObject({ tracking_number: '1A12345678901', status: 'delivered' });
    // A provider's number cannot be replaced.
    await expect(db.tx((q) => recordRegisteredProof(q, org.id, a!.id, { tracking: 'OTHER12345', at: paris('2026-03-08') }))).rejects.toThrow(/tracking number/);
    // The print batch of the day lists it as registered, with its number.
    const batch = await db.tx((q) => printBatch(q, org.id, d('2026-03-04'), paris('2026-03-04', '12:00')));
    expect(batch.letters.map((l) => [l.registered, l.tracking])).toEqual([[true, '1A12345678901']]);
  });

  it('cancelled by a human: not sent, its step not planned again; a sent action cannot be cancelled', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02');
    const c2 = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c2.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    const [a1, a2] = await actions(db, org.id);
    await db.tx((q) => cancelActions(q, org.id, { ids: [a1!.id] }, 'claire', 'customer called, paying today', paris('2026-03-02')));
    await worker(db, paris('2026-03-02')).runOnce();
    expect((await actions(db, org.id)).map((a) => a.status)).toEqual(['cancelled', 'exported']);
    expect((await plan(db, org.id, '2026-03-02')).actionsCreated).toBe(0);
    await db.tx((q) => confirmSent(q, org.id, { ids: [a2!.id] }, 'claire', paris('2026-03-02', '15:00')));
    await expect(db.tx((q) => cancelActions(q, org.id, { ids: [a2!.id] }, 'claire', 'too late', paris('2026-03-02')))).rejects.toThrow(/sent cannot be cancelled/);
    await expect(db.tx((q) => cancelActions(q, org.id, {}, 'claire', 'everything', paris('2026-03-02')))).rejects.toThrow(/say which actions/);
  });

  it('a worker that dies: its lease expires; what it had not handed over is sent again, what it had is uncertain', async () => {
    const org = await setupOrg(db);
    for (let k = 0; k < 2; k++) {
      const c = await addCustomer(db, org.id);
      await addInvoice(db, org.id, c.id, '2026-03-02');
    }
    await plan(db, org.id, '2026-03-02');
    const now = paris('2026-03-02');
    const { claimed } = await claimDue(db, { owner: 'dead-worker', now, leaseMs: 60_000, limit: 10 });
    expect(claimed).toHaveLength(2);
    await handOver(db, claimed[0]!, 'dead-worker', {
      channel: 'email', provider: 'x', recipients: {}, subject: 's', messageId: '<m@x>', invoiceIds: [], contentType: 'text/plain', content: Buffer.from('x'),
      sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', customerId: claimed[0]!.customerId,
    }, now);
    // Another worker cannot take them before the lease ends...
    expect((await claimDue(db, { owner: 'w2', now: new Date(now.getTime() + 30_000), leaseMs: 60_000, limit: 10 })).claimed).toEqual([]);
    expect(await reapExpiredLeases(db, new Date(now.getTime() + 30_000))).toEqual({ requeued: 0, uncertain: 0 });
    // ...and after it, one is uncertain and the other is back in the queue.
    expect(await reapExpiredLeases(db, new Date(now.getTime() + 61_000))).toEqual({ requeued: 1, uncertain: 1 });
    const rows = await actions(db, org.id);
    expect(rows.map((a) => a.status).sort()).toEqual(['queued', 'uncertain']);
    // The dead worker's late hand-over of the requeued one is refused.
    const lost = claimed[1]!;
    await expect(
      handOver(db, lost, 'dead-worker', { channel: 'email', provider: 'x', recipients: {}, subject: null, messageId: null, invoiceIds: [], contentType: 'text/plain', content: Buffer.from('x'), sha256: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', customerId: lost.customerId }, now),
    ).rejects.toThrow(/no longer owned/);
  });

  it('two workers racing over the same outbox send each message once', async () => {
    const org = await setupOrg(db);
    for (let k = 0; k < 30; k++) {
      const c = await addCustomer(db, org.id);
      await addInvoice(db, org.id, c.id, '2026-03-02');
    }
    await plan(db, org.id, '2026-03-02');
    const sentBy: string[] = [];
    const fake = (name: string) => () => ({
      name,
      async send(m: { messageId: string }, handOverFn: () => Promise<void>) {
        await handOverFn();
        sentBy.push(m.messageId);
        return { kind: 'sent' as const, providerMessageId: m.messageId };
      },
      async close() {},
    });
    const clock = () => paris('2026-03-02');
    const [s1, s2] = await Promise.all([
      worker(db, clock, { transports: { email: fake('a') }, concurrency: 3 }).runOnce(),
      worker(db, clock, { transports: { email: fake('b') }, concurrency: 3 }).runOnce(),
    ]);
    expect(s1.sent + s2.sent).toBe(30);
    expect(new Set(sentBy).size).toBe(30);
    expect(sentBy).toHaveLength(30);
  });

  it('SMS: counted in segments, refused with a clear error when the number is not E.164', async () => {
    const org = await setupOrg(db);
    const good = await addCustomer(db, org.id, [{ phone: '+33 6 12 34 56 78' }]);
    const bad = await addCustomer(db, org.id, [{ phone: '06 12 34 56 78' }]);
    for (const x of [good, bad]) await chasedUntil(db, org.id, (await addInvoice(db, org.id, x.id, '2026-02-20')).id, 7, '2026-02-27');
    await plan(db, org.id, '2026-03-02'); // J+10: SMS
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-sms-'));
    await worker(db, paris('2026-03-02'), { dataDir }).runOnce();
    const rows = await db.query<{ customer_id: bigint; status: string; last_error: string | null }>('SELECT customer_id, status, last_error FROM actions WHERE organisation_id = $1 ORDER BY id', [org.id]);
    const byCustomer = new Map(rows.map((r) => [String(r.customer_id), r]));
    expect(byCustomer.get(String(good.id))!.status).toBe('exported');
    expect(byCustomer.get(String(bad.id))).toMatchObject({ status: 'failed' });
    expect(byCustomer.get(String(bad.id))!.last_error).toMatch(/E\.164.*\+33612345678/);
    const [sms] = await db.query<{ to_number: string; encoding: string; segments: number }>('SELECT to_number, encoding, segments FROM sms_messages WHERE organisation_id = $1', [org.id]);
    expect(sms).toMatchObject({ to_number: '+33612345678' });
    expect(['GSM-7', 'UCS-2']).toContain(sms!.encoding);
    expect(sms!.segments).toBeGreaterThanOrEqual(1);
    expect(readdirSync(join(dataDir, 'outbox', org.id, 'sms'))).toHaveLength(1);
  });

  it('letters of the day: one print-ready PDF, cover list first, each letter as stored', async () => {
    const org = await setupOrg(db);
    const names: string[] = [];
    for (let k = 0; k < 3; k++) {
      const c = await addCustomer(db, org.id, [{ name: `Destinataire ${k}` }]);
      names.push(c.legalName);
      await chasedUntil(db, org.id, (await addInvoice(db, org.id, c.id, '2026-02-16')).id, 10, '2026-02-26');
    }
    await plan(db, org.id, '2026-03-02'); // J+14: letter
    await worker(db, paris('2026-03-02')).runOnce();
    // In the print batch: exported, sent once posted and confirmed.
    expect((await actions(db, org.id)).map((a) => [a.channel, a.status])).toEqual([['letter', 'exported'], ['letter', 'exported'], ['letter', 'exported']]);
    const { pdf, letters } = await db.tx((q) => printBatch(q, org.id, d('2026-03-02'), paris('2026-03-02', '17:00')));
    expect(letters).toHaveLength(3);
    expect(pdfPageCount(pdf)).toBe(1 + letters.reduce((n, l) => n + l.pages, 0));
    const text = pdftext(pdf);
    expect(text).toMatch(/Lot d’impression du 2026-03-02/);
    for (const n of names) expect(text).toContain(n);
    expect(text).toContain(letters[0]!.sha256.slice(0, 16));
    const events = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM delivery_events WHERE organisation_id = $1 AND kind = 'printed'`, [org.id]);
    expect(Number(events[0]!.n)).toBe(3);
  });

  it('a call becomes a task with script, numbers and open invoices; outcomes act (promise, dispute, already paid, wrong number, no answer)', async () => {
    const org = await setupOrg(db, { callAssignee: 'team:recouvrement' });
    const customers: Awaited<ReturnType<typeof addCustomer>>[] = [];
    for (let k = 0; k < 5; k++) {
      const c = await addCustomer(db, org.id, [{ phone: `+3361234567${k}` }]);
      await chasedUntil(db, org.id, (await addInvoice(db, org.id, c.id, '2026-02-09', { number: `F-CALL-${k}` })).id, 14, '2026-02-23');
      customers.push(c);
    }
    await plan(db, org.id, '2026-03-02'); // J+21: call
    await worker(db, paris('2026-03-02')).runOnce();
    const tasks = await listCallTasks(db, org.id);
    expect(tasks).toHaveLength(5);
    const byCustomer = (k: number) => tasks.find((t) => t.customerId === customers[k]!.id)!;
    const t0 = byCustomer(0);
    expect(t0.assignedTo).toBe('team:recouvrement');
    expect(t0.script?.length).toBeGreaterThan(50);
    expect(t0.phoneNumbers).toEqual(['+33612345670']);
    expect(t0.invoices.map((i) => i.number)).toEqual(['F-CALL-0']);
    const today = d('2026-03-02');

    const promise = await db.tx((q) => recordCallOutcome(q, org.id, byCustomer(0).id, { outcome: 'promise_to_pay', reason: 'cash_difficulty', promisedOn: d('2026-03-10'), promisedMinor: 120_000n, by: 'claire' }, today));
    expect(promise.promiseId).not.toBeNull();
    expect(promise.taskStatus).toBe('done');
    const dispute = await db.tx((q) => recordCallOutcome(q, org.id, byCustomer(1).id, { outcome: 'dispute', disputeReason: 'delivery incomplete', by: 'claire' }, today));
    expect(dispute.disputeId).not.toBeNull();
    const paid = await db.tx((q) => recordCallOutcome(q, org.id, byCustomer(2).id, { outcome: 'already_paid', note: 'paid by cheque on 25/02', by: 'claire' }, today));
    expect(paid.followupId).not.toBeNull();
    const wrong = await db.tx((q) => recordCallOutcome(q, org.id, byCustomer(3).id, { outcome: 'wrong_number', by: 'claire' }, today));
    expect(wrong.taskStatus).toBe('open');
    const none = await db.tx((q) => recordCallOutcome(q, org.id, byCustomer(4).id, { outcome: 'no_answer', by: 'claire' }, today));
    expect(none.taskStatus).toBe('open');

    const pauses = await db.query<{ customer_id: bigint; reason: string }>('SELECT customer_id, reason FROM pauses WHERE organisation_id = $1 ORDER BY id', [org.id]);
    expect(pauses.map((p) => [String(p.customer_id), p.reason])).toEqual([
      [String(customers[0]!.id), 'promise_to_pay'],
      [String(customers[1]!.id), 'dispute'],
      [String(customers[2]!.id), 'other'],
    ]);
    const invalid = await db.query<{ value: string }>(`SELECT value FROM contact_address_status WHERE organisation_id = $1 AND kind = 'phone'`, [org.id]);
    expect(invalid.map((r) => r.value)).toEqual(['+33612345673']);
    const followups = await db.query<{ kind: string }>('SELECT kind FROM call_followups WHERE organisation_id = $1 ORDER BY id', [org.id]);
    expect(followups.map((f) => f.kind)).toEqual(['reconciliation', 'callback']);
    // A promise needs its date and amount.
    await expect(db.tx((q) => recordCallOutcome(q, org.id, byCustomer(4).id, { outcome: 'promise_to_pay', by: 'claire' }, today))).rejects.toThrow(/promised date/);
    await expect(db.query(`UPDATE call_outcomes SET outcome = 'reached' WHERE organisation_id = $1`, [org.id])).rejects.toThrow(/append-only/);
  });

  it('a bounce reported later marks the address invalid and queues the fallback letter; the evidence file has every message, its SHA-256 and the letters', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id, [{ name: 'Jeanne Martin', email: 'jeanne@client.test' }]);
    await addInvoice(db, org.id, c.id, '2026-02-23', { number: 'F-EVID-1' });
    await plan(db, org.id, '2026-03-02'); // J+7 email, fallback letter
    await worker(db, paris('2026-03-02')).runOnce();
    const [email] = await db.query<{ message_id: string; sha256: string }>('SELECT message_id, sha256 FROM deliveries WHERE organisation_id = $1', [org.id]);
    const r = await db.tx((q) => recordBounce(q, org.id, { messageId: email!.message_id, kind: 'hard', diagnostic: '5.1.1 user unknown' }, paris('2026-03-02', '12:00')));
    expect(r.fallbackId).not.toBeNull();
    await worker(db, paris('2026-03-02', '12:05')).runOnce();
    expect((await actions(db, org.id)).map((a) => [a.channel, a.status])).toEqual([['email', 'exported'], ['letter', 'exported']]);
    const { pdf, deliveries } = await customerHistoryPdf(db, org.id, c.id, paris('2026-03-03'));
    expect(deliveries).toBe(2);
    const text = pdftext(pdf);
    expect(text).toContain('Historique des relances');
    expect(text).toContain(email!.sha256);
    expect(text).toContain(email!.message_id);
    expect(text).toContain('revenu en erreur (adresse rejetée)');
    expect(text).not.toMatch(/\b(bounced|exported|manual_task|handover|superseded|paused)\b/);
    expect(text).toContain('F-EVID-1');
    // The letter itself is reproduced after the history.
    expect(pdfPageCount(pdf)).toBeGreaterThanOrEqual(2);
    expect(pdf.toString('latin1')).toContain('/FileAttachment');
  });

  it('an HTTP SMS gateway: JSON with bearer token and idempotency key; 503 is retried, a lost answer is uncertain', async () => {
    const requests: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];
    let mode: 'ok' | 'busy' | 'drop' = 'busy';
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push({ headers: req.headers, body: JSON.parse(body) });
        if (mode === 'busy') {
          res.writeHead(503).end('busy');
          return;
        }
        if (mode === 'drop') {
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `sms-${requests.length}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      const org = await setupOrg(db);
      // The gateway runs on this machine: the operator's setting allows loopback (RELANCE_WEBHOOK_ALLOW_NETWORKS).
      await db.tx((q) =>
        saveDeliverySettings(q, org.id, { smsProvider: 'http', smsUrl: `http://127.0.0.1:${port}/sms`, smsToken: 'secret-token', smsSender: 'MENUISERIE' }, { policy: networkPolicy('127.0.0.0/8') }),
      );
      const c1 = await addCustomer(db, org.id, [{ phone: '+33612345678' }]);
      await chasedUntil(db, org.id, (await addInvoice(db, org.id, c1.id, '2026-02-20')).id, 7, '2026-02-27');
      await plan(db, org.id, '2026-03-02');
      await worker(db, paris('2026-03-02')).runOnce();
      let [a] = await actions(db, org.id);
      expect([a!.status, a!.attempts]).toEqual(['queued', 1]);
      expect(requests[0]!.headers.authorization).toBe('Bearer secret-token');
      expect(requests[0]!.headers['idempotency-key']).toBe(`${org.id}-${a!.id}`);
      expect(requests[0]!.body).toMatchObject({ from: 'MENUISERIE', to: '+33612345678' });
      mode = 'ok';
      await worker(db, new Date(Date.parse(a!.next_attempt_at!) + 1000)).runOnce();
      [a] = await actions(db, org.id);
      expect(a!.status).toBe('sent');
      const [sms] = await db.query<{ provider_message_id: string }>('SELECT provider_message_id FROM sms_messages WHERE organisation_id = $1', [org.id]);
      expect(sms!.provider_message_id).toBe('sms-2');

      // The gateway took the request and the connection died: it may have sent it.
      const direct = new HttpSms(`http://127.0.0.1:${port}/sms`, null);
      mode = 'drop';
      const out = await direct.send({ to: '+33612345678', text: 'x', sender: 'MENUISERIE', reference: 'r', idempotencyKey: 'k' }, async () => {});
      expect(out.kind).toBe('uncertain');
    } finally {
      server.close();
    }
  });
});
