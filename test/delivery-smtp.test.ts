import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { resolveUncertain } from '../src/delivery/outbox.ts';
import { saveDeliverySettings } from '../src/delivery/settings.ts';
import { allocate, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, d, paris, plan, setupOrg, smtpSettings, startSmtp, type TestSmtp, worker } from './delivery-fixture.ts';

const INVOICE_PDF = Buffer.from('%PDF-1.4\n% the invoice as the ledger keeps it\n%%EOF\n');

describe.each(dbTargets())('email over SMTP on $name', (target) => {
  let db: Db;
  let smtp: TestSmtp;
  beforeAll(async () => {
    db = await target.open();
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp?.close();
    await db?.close();
  });

  it('sends the due-day reminder once: subject, text and HTML parts, the invoice PDF, a stable Message-ID, a reply-to for the case, and keeps the exact bytes as proof', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id, [{ name: 'Marie Curie', email: 'marie@client.test' }]);
    const inv = await addInvoice(db, org.id, c.id, '2026-03-02', { pdf: INVOICE_PDF, number: 'F-2026-0042' });
    await plan(db, org.id, '2026-03-02');
    const before = smtp.received.length;
    const stats = await worker(db, paris('2026-03-02')).runOnce();
    expect(stats.sent).toBe(1);
    const mine = smtp.received.slice(before);
    expect(mine).toHaveLength(1);
    const [a] = await actions(db, org.id);
    expect(a!.status).toBe('sent');

    const mail = await smtp.parse(mine[0]!);
    expect(mail.subject).toContain('F-2026-0042');
    expect(mail.text).toContain('F-2026-0042');
    expect(mail.html).toContain('F-2026-0042');
    expect(mail.text).toMatch(/1\s?200,00/);
    expect(mail.messageId).toBe(`<action-${org.id}-${a!.id}@menuiserie.test>`);
    expect(mail.replyTo?.value[0]?.address).toBe(`compta+c${c.id}-a${a!.id}@menuiserie.test`);
    expect(mail.from?.value[0]).toMatchObject({ address: 'relances@menuiserie.test', name: 'Menuiserie Test' });
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : null).toBe('marie@client.test');
    expect(mail.headers.get('x-relance-action')).toBe(`${org.id}/${a!.id}`);
    expect(mine[0]!.envelope).toEqual({ from: 'relances@menuiserie.test', to: ['marie@client.test'] });
    expect(mail.attachments.map((x) => [x.contentType, x.content.equals(INVOICE_PDF)])).toEqual([['application/pdf', true]]);

    // The proof is the message byte for byte as the server received it.
    const [proof] = await db.query<{ content: Uint8Array; sha256: string; invoice_ids: bigint[]; message_id: string }>(
      'SELECT content, sha256, invoice_ids, message_id FROM deliveries WHERE organisation_id = $1 AND action_id = $2',
      [org.id, a!.id],
    );
    expect(Buffer.from(proof!.content).equals(mine[0]!.raw)).toBe(true);
    expect(proof!.sha256).toBe(createHash('sha256').update(mine[0]!.raw).digest('hex'));
    expect(proof!.invoice_ids.map(String)).toEqual([String(inv.id)]);
    const events = await db.query<{ kind: string; provider_message_id: string | null; detail: { response?: string } }>(
      'SELECT kind, provider_message_id, detail FROM delivery_events WHERE organisation_id = $1 ORDER BY id',
      [org.id],
    );
    expect(events.map((e) => e.kind)).toEqual(['handed_over', 'accepted']);
    expect(events[1]!.provider_message_id).toBe(mail.messageId);
    expect(events[1]!.detail.response).toMatch(/queued as Q\d+/);

    // Running again sends nothing more.
    await worker(db, paris('2026-03-02', '11:00')).runOnce();
    expect(smtp.received.length).toBe(before + 1);
  });

  it('a payment recorded between planning and sending: nothing is sent, the action is cancelled as paid', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    // Recorded straight in the ledger, without telling the engine (an import, another process).
    await db.tx(async (q) => {
      const p = await recordPayment(q, org.id, { customerId: c.id, paymentDate: '2026-03-02', currency: 'EUR', amountMinor: 120_000n });
      await allocate(q, org.id, { invoiceId: inv.id, paymentId: p.id, amountMinor: 120_000n, allocatedOn: d('2026-03-02') });
    });
    const before = smtp.received.length;
    await worker(db, paris('2026-03-02')).runOnce();
    expect(smtp.received.length).toBe(before);
    expect((await actions(db, org.id)).map((a) => [a.status, a.status_reason])).toEqual([['cancelled', 'paid']]);
    const [sr] = await db.query<{ outcome: string; reason: string }>('SELECT outcome, reason FROM step_records WHERE organisation_id = $1', [org.id]);
    expect(sr).toEqual({ outcome: 'cancelled', reason: 'paid' });
  });

  it('a message for two invoices leaves out the one paid meanwhile and reminds the other', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id);
    const paid = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-PAID-1' });
    await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-OPEN-2' });
    await plan(db, org.id, '2026-03-02');
    await db.tx(async (q) => {
      const p = await recordPayment(q, org.id, { customerId: c.id, paymentDate: '2026-03-02', currency: 'EUR', amountMinor: 120_000n });
      await allocate(q, org.id, { invoiceId: paid.id, paymentId: p.id, amountMinor: 120_000n, allocatedOn: d('2026-03-02') });
    });
    const before = smtp.received.length;
    await worker(db, paris('2026-03-02')).runOnce();
    const mail = await smtp.parse(smtp.received[before]!);
    expect(mail.text).toContain('F-OPEN-2');
    expect(mail.text).not.toContain('F-PAID-1');
  });

  it('outside the sending window nothing goes out; it leaves when the window opens', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id);
    // Due a week before that Friday: the J+7 reminder, whose wording holds whatever day it leaves.
    await addInvoice(db, org.id, c.id, '2026-02-27');
    await plan(db, org.id, '2026-03-06');
    const before = smtp.received.length;
    await worker(db, paris('2026-03-06', '19:30')).runOnce();
    expect(smtp.received.length).toBe(before);
    const [a] = await actions(db, org.id);
    // Working days only: the next window is Monday 09:00 in Paris.
    expect([a!.status, a!.next_attempt_at && new Date(a!.next_attempt_at).toISOString()]).toEqual(['queued', paris('2026-03-09', '09:00').toISOString()]);
    await worker(db, paris('2026-03-07', '10:00')).runOnce();
    expect(smtp.received.length).toBe(before);
    await worker(db, paris('2026-03-09', '09:05')).runOnce();
    expect(smtp.received.length).toBe(before + 1);
  });

  it('sending held for stale bank data: nothing is sent while hold_reason is set', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    await db.query(`UPDATE actions SET hold_reason = 'stale_bank_data' WHERE organisation_id = $1`, [org.id]);
    const before = smtp.received.length;
    await worker(db, paris('2026-03-02')).runOnce();
    expect(smtp.received.length).toBe(before);
    expect((await actions(db, org.id))[0]!.status).toBe('queued');
  });

  it('a temporary refusal (451) is retried later with backoff, and sent once', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    smtp.failData = { code: 451, times: 1 };
    const before = smtp.received.length;
    await worker(db, paris('2026-03-02', '10:00')).runOnce();
    let [a] = await actions(db, org.id);
    expect([a!.status, a!.attempts]).toEqual(['queued', 1]);
    expect(a!.last_error).toContain('451');
    const retryAt = Date.parse(a!.next_attempt_at!);
    expect(retryAt).toBeGreaterThan(paris('2026-03-02', '10:00').getTime());
    // Not before its time...
    await worker(db, new Date(retryAt - 1000)).runOnce();
    expect(smtp.received.length).toBe(before);
    // ...then once.
    await worker(db, new Date(retryAt + 1000)).runOnce();
    [a] = await actions(db, org.id);
    expect([a!.status, a!.attempts]).toEqual(['sent', 2]);
    expect(smtp.received.length).toBe(before + 1);
  });

  it('a hard bounce (550 to RCPT TO) marks the address invalid and moves the step to its fallback channel, a letter', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id, [{ email: 'gone@client.test' }]);
    await addInvoice(db, org.id, c.id, '2026-02-23');
    await plan(db, org.id, '2026-03-02'); // J+7: email with fallback to letter
    smtp.rejectRecipients.add('gone@client.test');
    await worker(db, paris('2026-03-02')).runOnce();
    const rows = await actions(db, org.id);
    expect(rows.map((a) => [a.channel, a.status, a.fallback_from])).toEqual([
      ['email', 'failed', null],
      ['letter', 'exported', 'email'],
    ]);
    expect(rows[0]!.fallback_action_id).toBe(rows[1]!.id);
    const invalid = await db.query<{ value: string }>('SELECT value FROM contact_address_status WHERE organisation_id = $1', [org.id]);
    expect(invalid.map((r) => r.value)).toEqual(['gone@client.test']);
    const [letter] = await db.query<{ content_type: string; channel: string }>('SELECT content_type, channel FROM deliveries WHERE organisation_id = $1', [org.id]);
    expect(letter).toEqual({ content_type: 'application/pdf', channel: 'letter' });
  });

  it('connection lost after the server took the message: uncertain, never retried blindly; a human resolves it', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    smtp.dropAfterData = 1;
    const before = smtp.received.length;
    await worker(db, paris('2026-03-02')).runOnce();
    expect(smtp.received.length).toBe(before + 1);
    let [a] = await actions(db, org.id);
    expect(a!.status).toBe('uncertain');
    await worker(db, paris('2026-03-03')).runOnce();
    expect(smtp.received.length).toBe(before + 1);
    await db.tx((q) => resolveUncertain(q, org.id, [a!.id], 'sent', 'claire', paris('2026-03-03')));
    [a] = await actions(db, org.id);
    expect(a!.status).toBe('sent');
  });

  it('rate limit per organisation and channel: 2 emails a minute', async () => {
    const org = await setupOrg(db, { ...smtpSettings(smtp.port), rateLimits: { email: 2 } });
    for (let k = 0; k < 5; k++) {
      const c = await addCustomer(db, org.id);
      await addInvoice(db, org.id, c.id, '2026-03-02');
    }
    await plan(db, org.id, '2026-03-02');
    const before = smtp.received.length;
    await worker(db, paris('2026-03-02', '10:00')).runOnce();
    expect(smtp.received.length - before).toBe(2);
    await worker(db, paris('2026-03-02', '10:01')).runOnce();
    expect(smtp.received.length - before).toBe(4);
    await worker(db, paris('2026-03-02', '10:02')).runOnce();
    expect(smtp.received.length - before).toBe(5);
    await db.tx((q) => saveDeliverySettings(q, org.id, { rateLimits: { email: 600 } }));
  });
});
