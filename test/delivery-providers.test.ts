/**
 * Provider adapters against local mocks of their documented HTTP APIs (test/provider-mocks.ts, no
 * network): Brevo for SMS, Maileva for registered letters. Settings go through the same path as the
 * web app and the CLI (declared fields, secrets sealed), the worker opens the provider from them.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { providerCatalogue } from '../src/delivery/channels/registry.ts';
import { approveActions } from '../src/delivery/outbox.ts';
import { describeSettings, saveDeliverySettings } from '../src/delivery/settings.ts';
import { networkPolicy } from '../src/net/guard.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, chasedUntil, paris, plan, sentOutside, setupOrg, worker } from './delivery-fixture.ts';
import { brevoMock, type BrevoMock, mailevaMock, type MailevaMock } from './provider-mocks.ts';

const pdftext = (pdf: Buffer) => {
  const file = join(mkdtempSync(join(tmpdir(), 'relance-pdf-')), 'x.pdf');
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
};

/** The mocks run on this machine: the operator's network setting allows loopback (RELANCE_WEBHOOK_ALLOW_NETWORKS). */
const LOCAL_MOCKS = { policy: networkPolicy('127.0.0.0/8') };
const MAILEVA = { clientId: 'relance-client', clientSecret: 'client-secret-1', username: 'compta@menuiserie.test', password: 'maileva-pass-1' };

describe.each(dbTargets())('provider adapters on $name', (target) => {
  let db: Db;
  let brevo: BrevoMock;
  let maileva: MailevaMock;
  beforeAll(async () => {
    db = await target.open();
    brevo = await brevoMock('xkeysib-test-key');
    maileva = await mailevaMock(MAILEVA);
  });
  afterAll(async () => {
    await brevo?.close();
    await maileva?.close();
    await db?.close();
  });

  it('each channel lists its providers and the settings each declares; a provider refuses a setting it does not have, and asks for what it needs', async () => {
    const catalogue = providerCatalogue();
    expect(Object.keys(catalogue).sort()).toEqual(['letter', 'registered_letter', 'sms']);
    expect(catalogue.sms!.map((p) => p.key)).toEqual(['local', 'http', 'brevo']);
    expect(catalogue.registered_letter!.map((p) => p.key)).toEqual(['local', 'http', 'maileva']);
    expect(catalogue.sms!.find((p) => p.key === 'brevo')!.fields.filter((f) => f.secret).map((f) => f.key)).toEqual(['apiKey']);
    const org = await setupOrg(db);
    await expect(db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', options: { sender: 'MENUISERIE' } } } }))).rejects.toThrow(/brevo needs "apiKey"/);
    await expect(db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', options: { colour: 'red' }, secrets: { apiKey: 'k' } } } }))).rejects.toThrow(/no setting "colour"/);
    await expect(db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'twilio' } } }))).rejects.toThrow(/unknown provider "twilio" for channel sms; known: local, http, brevo/);
    await expect(db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', secretEnv: { apiKey: 'BREVO_KEY' } } } }))).rejects.toThrow(/only the server’s operator/);
    await expect(db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', secretEnv: { apiKey: 'DATABASE_URL' } } } }, { operator: true }))).rejects.toThrow(/belongs to the instance/);
    // Saved: the secret is sealed, shown only as set.
    await db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', options: { sender: 'MENUISERIE' }, secrets: { apiKey: 'xkeysib-secret' } } } }));
    const [row] = await db.query<{ p: string }>(`SELECT providers->'sms'->'secrets'->>'apiKey' AS p FROM delivery_settings WHERE organisation_id = $1`, [org.id]);
    expect(row!.p).toMatch(/^enc:v1:/);
    const shown = await describeSettings(db, org.id);
    expect(JSON.stringify(shown)).not.toContain('xkeysib-secret');
    expect((shown.providers as Record<string, unknown>).sms).toMatchObject({ provider: 'brevo', options: { sender: 'MENUISERIE' }, secretsSet: { apiKey: true } });
  });

  it('Brevo: a reminder SMS goes as a transactional SMS with the API key, the sender and the number without "+"; no credit is retried, a lost answer is uncertain', async () => {
    const org = await setupOrg(db);
    await db.tx((q) =>
      saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', options: { sender: 'MENUISERIE', url: brevo.url }, secrets: { apiKey: 'xkeysib-test-key' } } } }, LOCAL_MOCKS),
    );
    const c = await addCustomer(db, org.id, [{ phone: '+33 6 12 34 56 78' }]);
    await chasedUntil(db, org.id, (await addInvoice(db, org.id, c.id, '2026-02-20', { number: 'F-BREVO-1' })).id, 7, '2026-02-27');
    await plan(db, org.id, '2026-03-02'); // J+10: SMS
    const before = brevo.sent.length;
    const stats = await worker(db, paris('2026-03-02')).runOnce();
    expect([stats.sent, stats.exported]).toEqual([1, 0]);
    const got = brevo.sent.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ sender: 'MENUISERIE', recipient: '33612345678', type: 'transactional', tag: 'relance' });
    expect(got[0]!.content).toContain('F-BREVO-1');
    const [a] = await actions(db, org.id);
    expect(a!.status).toBe('sent');
    const [sms] = await db.query<{ provider: string; provider_message_id: string }>('SELECT provider, provider_message_id FROM sms_messages WHERE organisation_id = $1', [org.id]);
    expect(sms).toMatchObject({ provider: 'brevo' });
    expect(sms!.provider_message_id).toMatch(/^\d+$/);
    // What went is what the proof store keeps.
    const [proof] = await db.query<{ content: Uint8Array }>('SELECT content FROM deliveries WHERE organisation_id = $1', [org.id]);
    expect(Buffer.from(proof!.content).toString('utf8')).toBe(got[0]!.content);

    // No credit left: not sent, tried again later (topping up the account is enough).
    const c2 = await addCustomer(db, org.id, [{ phone: '+33612345679' }]);
    await chasedUntil(db, org.id, (await addInvoice(db, org.id, c2.id, '2026-02-20', { number: 'F-BREVO-2' })).id, 7, '2026-02-27');
    await plan(db, org.id, '2026-03-02');
    brevo.next.push('no_credit');
    await worker(db, paris('2026-03-02', '10:10')).runOnce();
    let a2 = (await actions(db, org.id)).find((x) => x.id !== a!.id)!;
    expect([a2.status, a2.last_error]).toEqual(['queued', expect.stringMatching(/no SMS credit left on the Brevo account/)]);
    // The answer lost after the request went out: uncertain, for a human to check in Brevo's logs.
    brevo.next.push('drop');
    await worker(db, new Date(Date.parse(a2.next_attempt_at!) + 1000)).runOnce();
    a2 = (await actions(db, org.id)).find((x) => x.id === a2.id)!;
    expect(a2.status).toBe('uncertain');
  });

  it('Brevo: a wrong API key fails the SMS with the provider\'s reason; the e-mail of the same run is not held up', async () => {
    const org = await setupOrg(db);
    await db.tx((q) => saveDeliverySettings(q, org.id, { providers: { sms: { provider: 'brevo', options: { url: brevo.url }, secrets: { apiKey: 'wrong-key' } } } }, LOCAL_MOCKS));
    const bySms = await addCustomer(db, org.id, [{ phone: '+33612345678' }]);
    const byEmail = await addCustomer(db, org.id);
    await chasedUntil(db, org.id, (await addInvoice(db, org.id, bySms.id, '2026-02-20')).id, 7, '2026-02-27');
    await addInvoice(db, org.id, byEmail.id, '2026-03-02');
    await plan(db, org.id, '2026-03-02');
    const stats = await worker(db, paris('2026-03-02')).runOnce();
    expect([stats.failed, stats.exported]).toEqual([1, 1]);
    const rows = await actions(db, org.id);
    expect(rows.find((r) => r.channel === 'sms')).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/HTTP 401: unauthorized/) });
  });

  it('Maileva: the formal notice goes as an online registered letter: token, draft sending with the sender, the letter PDF, the recipient in six lines, then submission after the hand-over', async () => {
    const org = await setupOrg(db);
    await db.tx((q) =>
      saveDeliverySettings(q, org.id, {
        providers: {
          registered_letter: {
            provider: 'maileva',
            options: { clientId: MAILEVA.clientId, username: MAILEVA.username, notificationEmail: 'compta@menuiserie.test', url: maileva.apiUrl, authUrl: maileva.authUrl },
            secrets: { clientSecret: MAILEVA.clientSecret, password: MAILEVA.password },
          },
        },
      }, LOCAL_MOCKS),
    );
    const c = await addCustomer(db, org.id, [{ name: 'Jeanne Martin' }]);
    await sentOutside(db, org.id, (await addInvoice(db, org.id, c.id, '2026-01-31', { number: 'F-RAR-9' })).id, 'firm', '2026-02-14');
    await plan(db, org.id, '2026-03-02'); // J+30: formal notice by registered letter, after approval
    await db.tx((q) => approveActions(q, org.id, { status: ['awaiting_approval'] }, 'claire', paris('2026-03-02')));
    const before = maileva.sendings.length;
    const stats = await worker(db, paris('2026-03-02')).runOnce();
    expect(stats.sent).toBe(1);
    const s = maileva.sendings.slice(before);
    expect(s).toHaveLength(1);
    const sending = s[0]!;
    expect(sending.status).toBe('PENDING');
    expect(sending.body).toMatchObject({
      acknowledgement_of_receipt: true,
      notification_email: 'compta@menuiserie.test',
      sender_address_line_1: org.legalName,
      sender_address_line_4: '12 rue des Tanneurs',
      sender_address_line_6: '69002 Lyon',
      sender_country_code: 'FR',
    });
    expect(String(sending.body.name)).toMatch(/Mise en demeure/);
    expect(sending.recipients).toEqual([
      expect.objectContaining({ address_line_1: c.legalName, address_line_2: 'Jeanne Martin', address_line_4: '3 place du Marché', address_line_6: '69003 Lyon', country_code: 'FR' }),
    ]);
    // The letter Maileva prints is the one the proof store keeps, byte for byte.
    expect(sending.documents).toHaveLength(1);
    const [proof] = await db.query<{ content: Uint8Array; channel: string; provider: string }>('SELECT content, channel, provider FROM deliveries WHERE organisation_id = $1', [org.id]);
    expect(proof).toMatchObject({ channel: 'registered_letter', provider: 'maileva' });
    expect(Buffer.from(proof!.content).equals(sending.documents[0]!.pdf)).toBe(true);
    const text = pdftext(sending.documents[0]!.pdf);
    expect(text).toMatch(/MISE EN DEMEURE|Mise en demeure/);
    expect(text).toContain('F-RAR-9');
    const [a] = await actions(db, org.id);
    expect(a).toMatchObject({ status: 'sent' });
    const [pm] = await db.query<{ provider_message_id: string }>('SELECT provider_message_id FROM actions WHERE organisation_id = $1', [org.id]);
    expect(pm!.provider_message_id).toBe(`${sending.id}/${sending.recipients[0]!.id}`);
  });

  it('Maileva: an address it refuses leaves nothing sent (the draft is deleted) and fails the step with its reason; no answer to the submission is uncertain', async () => {
    const org = await setupOrg(db);
    await db.tx((q) =>
      saveDeliverySettings(q, org.id, {
        providers: {
          registered_letter: {
            provider: 'maileva',
            options: { clientId: MAILEVA.clientId, username: MAILEVA.username, notificationEmail: 'compta@menuiserie.test', url: maileva.apiUrl, authUrl: maileva.authUrl },
            secrets: { clientSecret: MAILEVA.clientSecret, password: MAILEVA.password },
          },
        },
      }, LOCAL_MOCKS),
    );
    const bad = await addCustomer(db, org.id);
    await db.query(`UPDATE contacts SET postal_code = '6900' WHERE organisation_id = $1 AND customer_id = $2`, [org.id, bad.id]);
    await sentOutside(db, org.id, (await addInvoice(db, org.id, bad.id, '2026-01-31', { number: 'F-RAR-BAD' })).id, 'firm', '2026-02-14');
    await plan(db, org.id, '2026-03-02');
    await db.tx((q) => approveActions(q, org.id, { status: ['awaiting_approval'] }, 'claire', paris('2026-03-02')));
    const before = maileva.sendings.length;
    await worker(db, paris('2026-03-02')).runOnce();
    const [a] = await actions(db, org.id);
    expect(a!.status).toBe('failed');
    expect(a!.last_error).toMatch(/ADDRESS_LINE_6_WRONG_FORMAT/);
    expect(maileva.sendings.slice(before).map((x) => [x.status, x.deleted])).toEqual([['DRAFT', true]]);
    // Nothing reached the debtor: no hand-over, no proof of a sending.
    expect(await db.query('SELECT 1 FROM deliveries WHERE organisation_id = $1', [org.id])).toEqual([]);

    // The connection drops when the submission arrives: Maileva may have it, a human decides.
    const good = await addCustomer(db, org.id);
    await sentOutside(db, org.id, (await addInvoice(db, org.id, good.id, '2026-01-31', { number: 'F-RAR-DROP' })).id, 'firm', '2026-02-14');
    await plan(db, org.id, '2026-03-02');
    await db.tx((q) => approveActions(q, org.id, { status: ['awaiting_approval'] }, 'claire', paris('2026-03-02')));
    maileva.next.push('drop_submit');
    await worker(db, paris('2026-03-02', '10:30')).runOnce();
    const dropped = (await actions(db, org.id)).find((x) => x.id !== a!.id)!;
    expect(dropped.status).toBe('uncertain');
    expect(await db.query('SELECT 1 FROM deliveries WHERE organisation_id = $1 AND action_id = $2', [org.id, dropped.id])).toHaveLength(1);
  });
});
