/**
 * What reaches a debtor, and what the outbox says about it (issue 16, points 3, 8, 9, 10, 11 and
 * two smaller ones): each test reads what the debtor would receive (.eml parsed by mailparser, PDF
 * text by pdftotext, the SMS as written) on both databases.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin, login } from '../src/auth/index.ts';
import { buildProgram } from '../src/cli/program.ts';
import { loadConfig } from '../src/config.ts';
import type { Db } from '../src/db/driver.ts';
import { listLocalOutbox } from '../src/delivery/channels/email.ts';
import { printBatch } from '../src/delivery/letters.ts';
import { approveActions, confirmSent, listOutbox, requeueFailed } from '../src/delivery/outbox.ts';
import { createFallback } from '../src/delivery/outbox-outcomes.ts';
import { customerHistoryPdf, recordBounce } from '../src/delivery/proof.ts';
import { saveDeliverySettings } from '../src/delivery/settings.ts';
import { networkPolicy } from '../src/net/guard.ts';
import { saveBranding } from '../src/documents/repo.ts';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { computeDashboard } from '../src/reports/dashboard.ts';
import { createApp } from '../src/http/app.ts';
import { getOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, chasedUntil, d, paris, plan, sentOutside, setupOrg, worker } from './delivery-fixture.ts';

const pdftext = (pdf: Buffer) => {
  const file = join(mkdtempSync(join(tmpdir(), 'relance-pdf-')), 'x.pdf');
  writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
};
const flat = (s: string | undefined | false) => (s || '').replace(/[\u202f\u00a0]/g, ' ');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

const statusCounts = async (db: Db, orgId: string) =>
  Object.fromEntries((await db.query<{ status: string; n: bigint }>('SELECT status, count(*) AS n FROM actions WHERE organisation_id = $1 GROUP BY status', [orgId])).map((r) => [r.status, Number(r.n)]));

describe.each(dbTargets())('what reaches the debtor, honestly, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('16.8 with no SMTP server, SMS or registered-mail provider nothing is marked sent: each message is exported where a human finds it, the SMS names its sender, and the outbox, timeline, evidence PDF and KPIs say exported', async () => {
    const org = await setupOrg(db);
    const byEmail = await addCustomer(db, org.id);
    const bySms = await addCustomer(db, org.id, [{ phone: '+33612345678' }]);
    const byLetter = await addCustomer(db, org.id);
    const byRegistered = await addCustomer(db, org.id);
    await db.query(`UPDATE customers SET language = 'en' WHERE organisation_id = $1 AND id = $2`, [org.id, byRegistered.id]);
    await addInvoice(db, org.id, byEmail.id, '2026-03-02', { number: 'F-EML-1' }); // J: e-mail
    const sms1 = await addInvoice(db, org.id, bySms.id, '2026-02-20', { number: 'F-SMS-1' }); // J+10: SMS
    await chasedUntil(db, org.id, sms1.id, 7, '2026-02-27');
    const let1 = await addInvoice(db, org.id, byLetter.id, '2026-02-16', { number: 'F-LET-1' }); // J+14: letter
    await chasedUntil(db, org.id, let1.id, 10, '2026-02-26');
    const rar1 = await addInvoice(db, org.id, byRegistered.id, '2026-01-31', { number: 'F-RAR-1' }); // J+30: registered letter
    await sentOutside(db, org.id, rar1.id, 'firm', '2026-02-14');
    await plan(db, org.id, '2026-03-02');
    await db.tx((q) => approveActions(q, org.id, { status: ['awaiting_approval'] }, 'claire', paris('2026-03-02')));
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-honest-'));
    const stats = await worker(db, paris('2026-03-02'), { dataDir }).runOnce();

    expect([stats.sent, stats.exported, stats.failed]).toEqual([0, 4, 0]);
    const rows = await actions(db, org.id);
    expect(rows.map((a) => [a.channel, a.status]).sort()).toEqual([
      ['email', 'exported'],
      ['letter', 'exported'],
      ['registered_letter', 'exported'],
      ['sms', 'exported'],
    ]);
    // What the debtor would receive, written where a human finds it.
    const [file] = listLocalOutbox(join(dataDir, 'outbox'), org.id);
    const mail = await simpleParser(readFileSync(file!.file));
    expect(flat(mail.subject)).toBe('Facture F-EML-1 : échéance aujourd’hui');
    const [smsFile] = readdirSync(join(dataDir, 'outbox', org.id, 'sms'));
    const sms = readFileSync(join(dataDir, 'outbox', org.id, 'sms', smsFile!), 'utf8');
    expect(sms).toMatch(/^To: \+33612345678\nFrom: Menuiserie\n\n/);
    expect(sms).toContain('F-SMS-1');
    const batch = await db.tx((q) => printBatch(q, org.id, d('2026-03-02'), paris('2026-03-02', '17:00')));
    expect(batch.letters.map((l) => l.registered).sort()).toEqual([false, true]);

    // The outbox lists them as exported, to send by hand.
    const listed = await listOutbox(db, org.id, { status: ['exported'] });
    expect(listed).toHaveLength(4);
    // The web app: the Outbox screen and the customer's timeline.
    const admin = await ensureAdmin(db, org.id, `admin-${org.id.slice(0, 8)}@menuiserie.test`);
    const s = await db.tx((q) => login(q, admin!.email, admin!.password!, { now: new Date() }));
    const app = createApp({ db, now: () => paris('2026-03-02', '17:00') });
    const get = async (path: string) => (await app.request(path, { headers: { cookie: `relance_session=${s.token}` } })).json() as Promise<Record<string, unknown>>;
    const outbox = (await get('/api/app/outbox')) as { smtpConfigured: boolean; exported: number; rows: Array<{ status: string; local: boolean }> };
    expect(outbox.exported).toBe(4);
    expect(outbox.rows.every((r) => r.status === 'exported' && r.local)).toBe(true);
    const customer = (await get(`/api/app/customers/${byEmail.id}`)) as { timeline: Array<{ kind: string; data: { status: string } }> };
    expect(customer.timeline.filter((x) => x.kind === 'reminder').map((x) => x.data.status)).toEqual(['exported']);

    // The evidence file says what happened, in the customer's language.
    // (Lines of the PDF are joined: a sentence may wrap.)
    const fr = pdftext((await customerHistoryPdf(db, org.id, byEmail.id, paris('2026-03-03'))).pdf).replace(/\s+/g, ' ');
    expect(fr).toContain('exportée, pas envoyée par Relance');
    expect(fr).toContain('rien n’est parti de Relance, à envoyer à la main');
    expect(fr).toContain('2 mars 2026 — e-mail, Rappel le jour de l’échéance : exportée');
    const en = pdftext((await customerHistoryPdf(db, org.id, byRegistered.id, paris('2026-03-03'))).pdf).replace(/\s+/g, ' ');
    expect(en).toContain('exported, not sent by Relance');
    expect(en).toMatch(/\d{1,2} [A-Z][a-z]+ 2026 — registered letter, /);
    for (const text of [fr, en]) expect(text).not.toMatch(/\b(registered_letter|manual_task|call_task|formal_notice|handed_over|superseded)\b|\d{4}-\d{2}-\d{2}/);

    // KPIs: what was only exported is not counted as sent.
    const dash = await computeDashboard(db, await getOrganisation(db, org.id), d('2026-03-03'), paris('2026-03-03'));
    expect(dash.steps.reduce((n, x) => n + x.actions, 0)).toBe(0);
    expect(dash.steps.reduce((n, x) => n + (x.exported ?? 0), 0)).toBe(4);

    // Sent by hand and confirmed: only then sent, with the day of the confirmation.
    const [email] = rows.filter((a) => a.channel === 'email');
    await db.tx((q) => confirmSent(q, org.id, { ids: [email!.id] }, 'claire', paris('2026-03-02', '17:30')));
    expect((await actions(db, org.id)).find((a) => a.id === email!.id)!.status).toBe('sent');
    const after = await computeDashboard(db, await getOrganisation(db, org.id), d('2026-03-03'), paris('2026-03-03'));
    expect(after.steps.reduce((n, x) => n + x.actions, 0)).toBe(1);
  });

  it('16.9 a broken SMS configuration stops only SMS: e-mail still goes, the SMS ends failed with the reason, a stuck action is resolved by its lease, and the counts match the outbox', async () => {
    const org = await setupOrg(db);
    // The operator named a variable that this worker's environment does not have.
    await db.tx((q) => saveDeliverySettings(q, org.id, { smsProvider: 'http', smsUrl: 'http://127.0.0.1:9/sms', smsTokenEnv: 'RELANCE_TEST_SMS_TOKEN' }, { operator: true }));
    const e1 = await addCustomer(db, org.id);
    const e2 = await addCustomer(db, org.id);
    const s1 = await addCustomer(db, org.id, [{ phone: '+33612345678' }]);
    await addInvoice(db, org.id, e1.id, '2026-03-02');
    await addInvoice(db, org.id, e2.id, '2026-03-02');
    await chasedUntil(db, org.id, (await addInvoice(db, org.id, s1.id, '2026-02-20')).id, 7, '2026-02-27'); // J+10: SMS
    await plan(db, org.id, '2026-03-02');
    // The second e-mail's outcome cannot be written (the database connection drops at that moment).
    let failOnce = true;
    const flaky = new Proxy(db, {
      get(t, k) {
        if (k === 'query') {
          return async (sql: string, params?: unknown[]) => {
            if (failOnce && sql.includes('UPDATE actions a SET status = x.status')) {
              failOnce = false;
              throw new Error('connection terminated unexpectedly');
            }
            return t.query(sql, params);
          };
        }
        const v = Reflect.get(t, k);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    const sent: string[] = [];
    const email = () => ({
      name: 'test-smtp',
      async send(m: { messageId: string }, handOverFn: () => Promise<void>) {
        await handOverFn();
        sent.push(m.messageId);
        return { kind: 'sent' as const, providerMessageId: m.messageId };
      },
      async close() {},
    });
    const stats = await worker(flaky as Db, paris('2026-03-02'), { env: {}, transports: { email }, concurrency: 1, batchSize: 1 }).runOnce({ waitForLeasesMs: 5_000 });

    const rows = await actions(db, org.id);
    const sms = rows.find((a) => a.channel === 'sms')!;
    expect(sms.status).toBe('failed');
    expect(sms.last_error).toMatch(/^configuration: sms is not configured: environment variable RELANCE_TEST_SMS_TOKEN .* is not set$/);
    // A configuration failure moves nothing to another channel.
    expect(sms.fallback_action_id).toBeNull();
    // Both e-mails went; the one whose record was lost is not left "sending": it is uncertain.
    expect(sent).toHaveLength(2);
    expect(rows.filter((a) => a.channel === 'email').map((a) => a.status).sort()).toEqual(['sent', 'uncertain']);
    expect(rows.some((a) => a.status === 'sending')).toBe(false);
    // The worker's summary says what the outbox says.
    const counts = await statusCounts(db, org.id);
    expect({ sent: stats.sent, failed: stats.failed, uncertain: stats.uncertain, exported: stats.exported }).toEqual({
      sent: counts.sent ?? 0,
      failed: counts.failed ?? 0,
      uncertain: counts.uncertain ?? 0,
      exported: counts.exported ?? 0,
    });
    expect(counts).toEqual({ sent: 1, uncertain: 1, failed: 1 });

    // The variable set, the SMS is queued again and goes (to a gateway that answers).
    expect(await db.tx((q) => requeueFailed(q, org.id, { ids: [sms.id] }, 'claire', paris('2026-03-02', '10:30')))).toEqual([sms.id]);
    const gateway = await import('node:http').then(
      ({ createServer }) =>
        new Promise<{ port: number; close(): void; got: string[] }>((resolve) => {
          const got: string[] = [];
          const server = createServer((req, res) => {
            got.push(String(req.headers.authorization));
            req.resume();
            req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"gw-1"}'));
          });
          server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, close: () => server.close(), got }));
        }),
    );
    try {
      // The gateway runs on this machine: the operator's setting allows loopback.
      await db.tx((q) => saveDeliverySettings(q, org.id, { smsUrl: `http://127.0.0.1:${gateway.port}/sms` }, { policy: networkPolicy('127.0.0.0/8') }));
      const again = await worker(db, paris('2026-03-02', '10:31'), { env: { RELANCE_TEST_SMS_TOKEN: 'tok-1' } }).runOnce();
      expect(again.sent).toBe(1);
      expect(gateway.got).toEqual(['Bearer tok-1']);
      expect((await actions(db, org.id)).find((a) => a.id === sms.id)!.status).toBe('sent');
    } finally {
      gateway.close();
    }
  });

  const STEP_AND_LETTER: ScenarioDefinition = {
    options: { workingDaysOnly: true, holidayCalendar: 'FR', window: { start: '09:00', end: '18:00' }, minGapDays: 0, grouping: 'per_customer' },
    steps: [
      { offset: 20, channel: 'email', template: 'firm', tone: 'firm', fallbackChannel: 'letter' },
      { offset: 20, channel: 'letter', template: 'firm', tone: 'firm' },
    ],
  };
  const bouncing = () => ({
    name: 'test-smtp',
    async send() {
      return { kind: 'permanent' as const, error: '550 5.1.1 user unknown', badAddress: true };
    },
    async close() {},
  });

  it('16.10 a bounced e-mail falls back to the step\'s letter only once: one document per customer, step and channel, by the database\'s key', async () => {
    // The bounce comes while the step's letter waits: the e-mail's invoices join it.
    const org = await setupOrg(db, {}, STEP_AND_LETTER);
    const c = await addCustomer(db, org.id, [{ email: 'gone@client.test' }]);
    await addInvoice(db, org.id, c.id, '2026-02-10', { number: 'F-2ND-1' });
    await plan(db, org.id, '2026-03-02'); // J+20: the second reminder, by e-mail and by letter
    expect((await actions(db, org.id)).map((a) => a.channel).sort()).toEqual(['email', 'letter']);
    await worker(db, paris('2026-03-02'), { channels: ['email'], transports: { email: bouncing } }).runOnce();
    await worker(db, paris('2026-03-02', '10:05')).runOnce();
    let rows = await actions(db, org.id);
    expect(rows.map((a) => [a.channel, a.status]).sort()).toEqual([
      ['email', 'failed'],
      ['letter', 'exported'],
    ]);
    const fallbackEvent = await db.query<{ detail: { coveredBy: string; joined: boolean } | string }>(
      `SELECT detail FROM delivery_events WHERE organisation_id = $1 AND kind = 'fallback'`,
      [org.id],
    );
    const detail = typeof fallbackEvent[0]!.detail === 'string' ? JSON.parse(fallbackEvent[0]!.detail) : fallbackEvent[0]!.detail;
    expect(detail).toMatchObject({ joined: true });
    // A second try makes nothing either: the unique key holds, whatever the process.
    expect(await db.tx((q) => createFallback(q, org.id, rows.find((a) => a.channel === 'email')!.id, 'again', paris('2026-03-02', '11:00')))).toBeNull();
    let batch = await db.tx((q) => printBatch(q, org.id, d('2026-03-02'), paris('2026-03-02', '17:00')));
    expect(batch.letters).toHaveLength(1);
    expect(pdftext(batch.pdf).match(/Deuxième relance – facture F-2ND-1 impayée/g)).toHaveLength(1);

    // The bounce comes after the step's letter went (a DSN hours later): no second letter.
    const org2 = await setupOrg(db, {}, STEP_AND_LETTER);
    const c2 = await addCustomer(db, org2.id, [{ email: 'late@client.test' }]);
    await addInvoice(db, org2.id, c2.id, '2026-02-10', { number: 'F-2ND-2' });
    await plan(db, org2.id, '2026-03-02');
    const delivered = () => ({
      name: 'test-smtp',
      async send(m: { messageId: string }, handOverFn: () => Promise<void>) {
        await handOverFn();
        return { kind: 'sent' as const, providerMessageId: m.messageId };
      },
      async close() {},
    });
    await worker(db, paris('2026-03-02'), { transports: { email: delivered } }).runOnce();
    const [emailDelivery] = await db.query<{ message_id: string }>(`SELECT message_id FROM deliveries WHERE organisation_id = $1 AND channel = 'email'`, [org2.id]);
    const bounce = await db.tx((q) => recordBounce(q, org2.id, { messageId: emailDelivery!.message_id, kind: 'hard', diagnostic: '5.1.1 user unknown' }, paris('2026-03-02', '15:00')));
    expect(bounce.fallbackId).toBeNull();
    await worker(db, paris('2026-03-02', '15:05')).runOnce();
    rows = await actions(db, org2.id);
    expect(rows.map((a) => [a.channel, a.status]).sort()).toEqual([
      ['email', 'sent'],
      ['letter', 'exported'],
    ]);
    batch = await db.tx((q) => printBatch(q, org2.id, d('2026-03-02'), paris('2026-03-02', '17:00')));
    expect(pdftext(batch.pdf).match(/Deuxième relance – facture F-2ND-2 impayée/g)).toHaveLength(1);
  });

  it('16.11 the reminder e-mail carries the invoice PDF when one is stored and says so only then, in French and in English', async () => {
    const org = await setupOrg(db);
    const withPdf = await addCustomer(db, org.id);
    const withoutPdf = await addCustomer(db, org.id);
    const enWith = await addCustomer(db, org.id);
    const enWithout = await addCustomer(db, org.id);
    for (const c of [enWith, enWithout]) await db.query(`UPDATE customers SET language = 'en' WHERE organisation_id = $1 AND id = $2`, [org.id, c.id]);
    await addInvoice(db, org.id, withPdf.id, '2026-02-23', { number: 'F-PDF-1', pdf: PDF });
    await addInvoice(db, org.id, withoutPdf.id, '2026-02-23', { number: 'F-NOPDF-1' });
    await addInvoice(db, org.id, enWith.id, '2026-02-23', { number: 'F-PDF-2', pdf: PDF });
    await addInvoice(db, org.id, enWithout.id, '2026-02-23', { number: 'F-NOPDF-2' });
    await plan(db, org.id, '2026-03-02'); // J+7: the friendly reminder
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-attach-'));
    await worker(db, paris('2026-03-02'), { dataDir }).runOnce();
    const mails = await Promise.all(listLocalOutbox(join(dataDir, 'outbox'), org.id).map(async (f) => simpleParser(readFileSync(f.file))));
    const of = (number: string) => mails.find((m) => m.subject?.includes(number))!;
    const claimFr = 'vous trouverez la facture en pièce jointe';
    const claimEn = 'please find the invoice attached';

    const frWith = of('F-PDF-1');
    expect(frWith.attachments.map((a) => [a.contentType, a.content.equals(PDF)])).toEqual([['application/pdf', true]]);
    expect(flat(frWith.text)).toContain(claimFr);
    expect(flat(frWith.html || '')).toContain(claimFr);
    const frWithout = of('F-NOPDF-1');
    expect(frWithout.attachments).toEqual([]);
    expect(flat(frWithout.text)).not.toMatch(/pièce jointe|ci-joint/);
    expect(flat(frWithout.html || '')).not.toMatch(/pièce jointe|ci-joint/);
    expect(flat(frWithout.text)).toContain('Il s’agit sans doute d’un simple oubli. Nous vous remercions');

    const enWithMail = of('F-PDF-2');
    expect(enWithMail.attachments).toHaveLength(1);
    expect(flat(enWithMail.text)).toContain(claimEn);
    const enWithoutMail = of('F-NOPDF-2');
    expect(enWithoutMail.attachments).toEqual([]);
    expect(flat(enWithoutMail.text)).not.toMatch(/attach|enclos/i);
    expect(flat(enWithoutMail.html || '')).not.toMatch(/attach|enclos/i);
  });

  it('16.3 a message worded for its day leaves that day or is skipped with the reason; one that leaves late is dated the day it leaves', async () => {
    const WITH_COURTESY: ScenarioDefinition = {
      options: { workingDaysOnly: true, holidayCalendar: 'FR', window: { start: '09:00', end: '18:00' }, minGapDays: 0, grouping: 'per_customer' },
      steps: [
        { offset: -5, channel: 'email', template: 'courtesy', tone: 'courtesy' },
        { offset: 0, channel: 'email', template: 'due', tone: 'reminder' },
        { offset: 7, channel: 'email', template: 'reminder', tone: 'reminder' },
      ],
    };
    const org = await setupOrg(db, {}, WITH_COURTESY);
    const dueFriday = await addCustomer(db, org.id);
    const courtesy = await addCustomer(db, org.id);
    const late = await addCustomer(db, org.id);
    await addInvoice(db, org.id, dueFriday.id, '2026-03-06', { number: 'F-DUE-1' }); // due on Friday
    await addInvoice(db, org.id, courtesy.id, '2026-03-11', { number: 'F-CRT-1' }); // courtesy planned Friday (J-5)
    await addInvoice(db, org.id, late.id, '2026-02-27', { number: 'F-J7-1' }); // J+7 on Friday
    await plan(db, org.id, '2026-03-06');
    // Friday evening: the window has closed; nothing leaves until Monday.
    await worker(db, paris('2026-03-06', '19:30')).runOnce();
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-late-'));
    await worker(db, paris('2026-03-09', '09:05'), { dataDir }).runOnce();

    const rows = await db.query<{ customer_id: bigint; status: string; status_reason: string | null }>('SELECT customer_id, status, status_reason FROM actions WHERE organisation_id = $1', [org.id]);
    const of = (c: { id: bigint }) => rows.find((r) => r.customer_id === c.id)!;
    // "Due today" on Monday for a Friday due date: not sent, skipped with its reason.
    expect(of(dueFriday)).toMatchObject({ status: 'cancelled', status_reason: 'moment_passed' });
    const [step] = await db.query<{ outcome: string; reason: string }>(
      'SELECT sr.outcome, sr.reason FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id WHERE sr.organisation_id = $1 AND i.number = $2',
      [org.id, 'F-DUE-1'],
    );
    expect(step).toEqual({ outcome: 'skipped', reason: 'moment_passed: due on 2026-03-06, not sent by then' });
    // The courtesy notice still comes before the due date: it goes, worded for Monday.
    expect(of(courtesy).status).toBe('exported');
    expect(of(late).status).toBe('exported');
    const mails = await Promise.all(listLocalOutbox(join(dataDir, 'outbox'), org.id).map(async (f) => simpleParser(readFileSync(f.file))));
    expect(mails.map((m) => flat(m.subject)).sort()).toEqual(['Rappel : facture F-J7-1 échue le 27 février 2026', 'Échéance du 11 mars 2026 – facture F-CRT-1']);
    expect(mails.some((m) => /F-DUE-1/.test(m.subject ?? '') || /aujourd/.test(m.text ?? ''))).toBe(false);
    // Dated the day it left, not the day it was planned.
    for (const m of mails) expect(m.date?.toISOString().slice(0, 10)).toBe('2026-03-09');

    // A courtesy notice whose due date has passed by the time it could leave is skipped too.
    const org2 = await setupOrg(db, {}, WITH_COURTESY);
    const c2 = await addCustomer(db, org2.id);
    await addInvoice(db, org2.id, c2.id, '2026-03-11', { number: 'F-CRT-2' });
    await plan(db, org2.id, '2026-03-06');
    const stats = await worker(db, paris('2026-03-12', '10:00')).runOnce();
    expect([stats.exported, stats.cancelled]).toEqual([0, 1]);
    expect((await actions(db, org2.id)).map((a) => [a.status, a.status_reason])).toEqual([['cancelled', 'moment_passed']]);
  });

  it('relance outbox list --all --customer lists every action of the customer, whatever its status', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id);
    const other = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-ALL-1' });
    await addInvoice(db, org.id, other.id, '2026-03-02', { number: 'F-ALL-2' });
    await plan(db, org.id, '2026-03-02');
    await worker(db, paris('2026-03-02')).runOnce();
    await addInvoice(db, org.id, c.id, '2026-03-09', { number: 'F-ALL-3' });
    await plan(db, org.id, '2026-03-09');
    const run = async (...args: string[]) => {
      const out: string[] = [];
      const program = buildProgram({
        config: loadConfig(),
        openDb: async () => new Proxy(db, { get: (t, k) => (k === 'close' ? async () => {} : typeof Reflect.get(t, k) === 'function' ? Reflect.get(t, k).bind(t) : Reflect.get(t, k)) }),
        resolveOrg: async () => org.id,
        out: (line) => out.push(line),
      });
      await program.parseAsync(['node', 'relance', ...args]);
      return out;
    };
    const all = await run('outbox', 'list', '--all', '--customer', String(c.id));
    expect(all.at(-1)).toBe('2 action(s)');
    expect(all.some((l) => /2026-03-02 +exported/.test(l) && /F-ALL-1/.test(l))).toBe(true);
    expect(all.some((l) => /2026-03-09 +queued/.test(l) && /F-ALL-3/.test(l))).toBe(true);
    expect(all.some((l) => /F-ALL-2/.test(l))).toBe(false);
    // Without --all: what still needs something (queued, and exported awaiting sending by hand).
    expect((await run('outbox', 'list', '--customer', String(c.id))).at(-1)).toBe('2 action(s)');
    expect((await run('outbox', 'list', '--status', 'queued', '--customer', String(c.id))).at(-1)).toBe('1 action(s)');
  });

  it('the online payment link comes from the organisation\'s pattern, filled per invoice; without a pattern no message mentions paying online', async () => {
    const org = await setupOrg(db);
    const c = await addCustomer(db, org.id, [{ phone: '+33612345678' }]);
    await chasedUntil(db, org.id, (await addInvoice(db, org.id, c.id, '2026-02-20', { number: 'F-PAY/1', amount: 123_456n })).id, 7, '2026-02-27'); // J+10: SMS
    const c2 = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c2.id, '2026-03-02', { number: 'F-PAY-2' }); // J: e-mail
    await plan(db, org.id, '2026-03-02');
    const dataDir = mkdtempSync(join(tmpdir(), 'relance-pay-'));
    await worker(db, paris('2026-03-02'), { dataDir }).runOnce();
    const smsDir = join(dataDir, 'outbox', org.id, 'sms');
    const smsText = readFileSync(join(smsDir, readdirSync(smsDir)[0]!), 'utf8');
    const [file] = listLocalOutbox(join(dataDir, 'outbox'), org.id);
    const mail = await simpleParser(readFileSync(file!.file));
    for (const text of [smsText, mail.text ?? '', mail.html || '']) expect(text).not.toMatch(/en ligne|online|https?:\/\/pay/i);

    await expect(db.tx((q) => saveBranding(q, org.id, { paymentLink: 'http://pay.menuiserie.test/{invoice}' }))).rejects.toThrow(/https/);
    await expect(db.tx((q) => saveBranding(q, org.id, { paymentLink: 'https://pay.menuiserie.test/{facture}' }))).rejects.toThrow(/\{invoice\}/);
    await db.tx((q) => saveBranding(q, org.id, { paymentLink: 'https://pay.menuiserie.test/p?invoice={invoice}&amount={amount}&ref={reference}' }));
    const c3 = await addCustomer(db, org.id, [{ phone: '+33612345679' }]);
    await chasedUntil(db, org.id, (await addInvoice(db, org.id, c3.id, '2026-02-20', { number: 'F-PAY/3', amount: 123_456n })).id, 7, '2026-02-27');
    await db.query(`UPDATE delivery_settings SET updated_at = now() WHERE organisation_id = $1`, [org.id]);
    await plan(db, org.id, '2026-03-02');
    const dataDir2 = mkdtempSync(join(tmpdir(), 'relance-pay2-'));
    await worker(db, paris('2026-03-02', '11:00'), { dataDir: dataDir2 }).runOnce();
    const smsDir2 = join(dataDir2, 'outbox', org.id, 'sms');
    const sms3 = readFileSync(join(smsDir2, readdirSync(smsDir2)[0]!), 'utf8');
    expect(sms3).toContain('Paiement en ligne : https://pay.menuiserie.test/p?invoice=F-PAY%2F3&amount=1234.56&ref=');
  });
});
