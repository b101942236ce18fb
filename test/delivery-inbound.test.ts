/**
 * Mail that comes back: delivery status notifications (Postfix-style RFC 3464 reports, a report
 * carrying only the returned message's X-Relance-Action, Exim's X-Failed-Recipients bounces),
 * automatic replies and customers' replies, read by `relance inbound` and POST /api/v1/inbound and
 * tied to the action they answer by Message-ID, action header or the case's reply address.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import { buildProgram } from '../src/cli/program.ts';
import type { CliContext } from '../src/cli/context.ts';
import type { Db } from '../src/db/driver.ts';
import { ingestInbound, readInbound } from '../src/delivery/inbound.ts';
import { registerRoutes } from '../src/http/routes/define.ts';
import { InboundResponse, inboundRoutes } from '../src/http/routes/inbound.ts';
import { dbTargets } from './db.ts';
import { actions, addCustomer, addInvoice, paris, plan, setupOrg, worker } from './delivery-fixture.ts';

const eml = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');

/** The header block of a message as sent. */
const headersOf = (raw: Buffer) => raw.toString('latin1').split('\r\n\r\n')[0]!;

function postfixDsn(sent: Buffer, recipients: Array<{ address: string; action: string; status: string; diagnostic?: string }>, n: number) {
  return eml([
    'Return-Path: <>',
    `Message-Id: <dsn-${n}@mx.menuiserie.test>`,
    'From: MAILER-DAEMON@mx.menuiserie.test (Mail Delivery System)',
    'To: relances@menuiserie.test',
    'Subject: Undelivered Mail Returned to Sender',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="DSN-B"',
    '',
    '--DSN-B',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I am sorry to have to inform you that your message could not be delivered.',
    '',
    '--DSN-B',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.menuiserie.test',
    '',
    ...recipients.flatMap((r) => [`Final-Recipient: rfc822; ${r.address}`, `Action: ${r.action}`, `Status: ${r.status}`, ...(r.diagnostic ? [`Diagnostic-Code: smtp; ${r.diagnostic}`] : []), '']),
    '--DSN-B',
    'Content-Type: text/rfc822-headers',
    '',
    headersOf(sent),
    '',
    '--DSN-B--',
  ]);
}

describe.each(dbTargets())('mail that comes back on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('bounces, automatic replies and replies are tied to their action and act', async () => {
    const org = await setupOrg(db);
    const a = await addCustomer(db, org.id, [{ name: 'Marie', email: 'marie@a.test' }]);
    const b = await addCustomer(db, org.id, [{ name: 'Paul', email: 'paul@b.test' }, { name: 'Léa', email: 'lea@b.test' }]);
    const c = await addCustomer(db, org.id, [{ name: 'Zoé', email: 'zoe@c.test' }]);
    const d = await addCustomer(db, org.id, [{ name: 'Hugo', email: 'hugo@d.test' }]);
    const e = await addCustomer(db, org.id, [{ name: 'Eve', email: 'eve@e.test' }]);
    for (const x of [a, b, c, d, e]) await addInvoice(db, org.id, x.id, '2026-02-23');
    await plan(db, org.id, '2026-03-02'); // the J+7 email, whose fallback is a letter
    // No SMTP server: written to the local outbox, awaiting sending by hand.
    expect((await worker(db, paris('2026-03-02')).runOnce()).exported).toBe(5);
    const sent = await db.query<{ customer_id: bigint; action_id: bigint; message_id: string; content: Uint8Array }>(
      'SELECT customer_id, action_id, message_id, content FROM deliveries WHERE organisation_id = $1 ORDER BY id',
      [org.id],
    );
    const of = (customerId: bigint) => {
      const s = sent.find((x) => x.customer_id === customerId)!;
      return { ...s, raw: Buffer.from(s.content) };
    };
    const at = paris('2026-03-02', '15:00');
    const ingest = (raw: Buffer) => db.tx((q) => ingestInbound(q, org.id, raw, at));

    // A hard bounce of the only address: marked invalid, the step goes by letter.
    const dsnA = postfixDsn(of(a.id).raw, [{ address: 'marie@a.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }], 1);
    const ra = await ingest(dsnA);
    expect(ra).toMatchObject({ kind: 'bounce_hard', matched: true, matchedBy: 'message_id', actionId: of(a.id).action_id, customerId: a.id, invalidated: ['marie@a.test'], duplicate: false });
    expect(ra.fallbackId).not.toBeNull();
    const fallback = (await actions(db, org.id)).find((x) => x.id === ra.fallbackId)!;
    expect([fallback.channel, fallback.status, fallback.fallback_from]).toEqual(['letter', 'queued', 'email']);
    // The same notification again (a mailbox read twice): kept once, nothing more happens.
    const again = await ingest(dsnA);
    expect(again).toMatchObject({ duplicate: true, inboundId: ra.inboundId, fallbackId: null });
    expect((await actions(db, org.id)).filter((x) => x.fallback_from)).toHaveLength(1);

    // Exim: one of two addresses bounced; the other still gets the reminders, no fallback.
    const exim = eml([
      'From: Mail Delivery System <Mailer-Daemon@mx.b.test>',
      'To: relances@menuiserie.test',
      'Subject: Mail delivery failed: returning message to sender',
      'X-Failed-Recipients: paul@b.test',
      'Auto-Submitted: auto-replied',
      'Message-Id: <E1exim@mx.b.test>',
      '',
      'This message was created automatically by mail delivery software.',
      '',
      '  paul@b.test',
      '    SMTP error from remote mail server after RCPT TO:<paul@b.test>:',
      '    550 5.1.1 User unknown',
      '',
      '------ This is a copy of the message, including all the headers. ------',
      '',
      headersOf(of(b.id).raw),
    ]);
    const rb = await ingest(exim);
    expect(rb).toMatchObject({ kind: 'bounce_hard', matchedBy: 'message_id', invalidated: ['paul@b.test'], fallbackId: null });

    // A delayed message: recorded, the address stays valid.
    const rc = await ingest(postfixDsn(of(c.id).raw, [{ address: 'zoe@c.test', action: 'delayed', status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full' }], 3));
    expect(rc).toMatchObject({ kind: 'bounce_soft', matched: true, invalidated: [], fallbackId: null });

    // A report that only has the returned message's X-Relance-Action (its Message-ID rewritten).
    const rewritten = Buffer.from(headersOf(of(e.id).raw).replace(/^Message-ID: .*$/im, 'Message-ID: <rewritten@relay.test>'), 'latin1');
    const re = await ingest(postfixDsn(rewritten, [{ address: 'eve@e.test', action: 'failed', status: '5.7.1', diagnostic: '550 5.7.1 rejected by policy' }], 5));
    expect(re).toMatchObject({ kind: 'bounce_hard', matchedBy: 'action_header', actionId: of(e.id).action_id, invalidated: ['eve@e.test'] });
    expect(re.fallbackId).not.toBeNull();

    const invalid = await db.query<{ value: string; reason: string }>('SELECT value, reason FROM contact_address_status WHERE organisation_id = $1 ORDER BY value', [org.id]);
    expect(invalid.map((x) => x.value)).toEqual(['eve@e.test', 'marie@a.test', 'paul@b.test']);
    expect(invalid.find((x) => x.value === 'marie@a.test')!.reason).toMatch(/5\.1\.1/);

    // A customer's reply to the case's address: on the action, and on the customer's timeline.
    const actionD = of(d.id).action_id;
    const reply = eml([
      'From: Hugo <Hugo@d.test>',
      `To: Menuiserie <compta+c${d.id}-a${actionD}@menuiserie.test>`,
      'Subject: Re: Rappel',
      'Message-ID: <reply-1@d.test>',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Bonjour, la facture a =C3=A9t=C3=A9 r=C3=A9gl=C3=A9e hier par virement.',
      '',
      'Le 2 mars 2026 =C3=A0 10:00, Menuiserie Test a =C3=A9crit :',
      '> Madame, Monsieur,',
    ]);
    const rd = await ingest(reply);
    expect(rd).toMatchObject({ kind: 'reply', matchedBy: 'reply_address', actionId: actionD, customerId: d.id, from: 'hugo@d.test' });
    const [note] = await db.query<{ id: bigint; body: string; author: string }>('SELECT id, body, author FROM customer_notes WHERE organisation_id = $1 AND customer_id = $2', [org.id, d.id]);
    expect(note!.id).toBe(rd.noteId);
    expect(note!.author).toBe('hugo@d.test');
    expect(note!.body).toBe('Réponse reçue par e-mail de hugo@d.test : « Re: Rappel »\n\nBonjour, la facture a été réglée hier par virement.');

    // An out-of-office answer to the message (In-Reply-To): recorded on the action, no note.
    const ooo = await ingest(
      eml(['From: hugo@d.test', 'To: relances@menuiserie.test', 'Subject: Réponse automatique : absent', `In-Reply-To: ${of(d.id).message_id}`, 'Auto-Submitted: auto-replied', 'Message-ID: <ooo-1@d.test>', '', 'Je suis absent.']),
    );
    expect(ooo).toMatchObject({ kind: 'auto_reply', matchedBy: 'message_id', actionId: actionD, noteId: null });

    // A reply address naming another customer than its action's is not trusted; nor is an unknown message.
    const forged = await ingest(eml(['From: x@y.test', `To: compta+c${a.id}-a${actionD}@menuiserie.test`, 'Subject: hello', 'Message-ID: <forged@y.test>', '', 'hi']));
    expect(forged).toMatchObject({ kind: 'reply', matched: false, actionId: null, noteId: null });

    const events = await db.query<{ action_id: bigint; kind: string }>(
      `SELECT action_id, kind FROM delivery_events WHERE organisation_id = $1 AND kind IN ('bounced', 'replied', 'auto_replied', 'fallback') ORDER BY id`,
      [org.id],
    );
    expect(events.map((x) => [x.action_id, x.kind])).toEqual([
      [of(a.id).action_id, 'bounced'],
      [of(a.id).action_id, 'fallback'],
      [of(b.id).action_id, 'bounced'],
      [of(c.id).action_id, 'bounced'],
      [of(e.id).action_id, 'bounced'],
      [of(e.id).action_id, 'fallback'],
      [actionD, 'replied'],
      [actionD, 'auto_replied'],
    ]);
    const kept = await db.query<{ kind: string; matched_by: string | null }>('SELECT kind, matched_by FROM inbound_messages WHERE organisation_id = $1 ORDER BY id', [org.id]);
    expect(kept.map((x) => [x.kind, x.matched_by])).toEqual([
      ['bounce_hard', 'message_id'],
      ['bounce_hard', 'message_id'],
      ['bounce_soft', 'message_id'],
      ['bounce_hard', 'action_header'],
      ['reply', 'reply_address'],
      ['auto_reply', 'message_id'],
      ['unmatched', null],
    ]);
    // Kept as received, for good.
    await expect(db.query('UPDATE inbound_messages SET subject = $2 WHERE organisation_id = $1', [org.id, 'x'])).rejects.toThrow(/append-only/);

    // The fallback letters go out with the next run; the bounced address is not used again.
    await worker(db, paris('2026-03-02', '15:05')).runOnce();
    const letters = (await actions(db, org.id)).filter((x) => x.fallback_from);
    expect(letters.map((x) => [x.channel, x.status])).toEqual([
      ['letter', 'exported'],
      ['letter', 'exported'],
    ]);
    // Added to the print batch (to post by hand): handed over, exported and told, in one write.
    const told = await db.query<{ payload: { actionId: string; channel: string } | string }>(`SELECT payload FROM webhook_events WHERE organisation_id = $1 AND type = 'action.exported'`, [org.id]);
    const payloads = told.map((x) => (typeof x.payload === 'string' ? JSON.parse(x.payload) : x.payload) as { actionId: string; channel: string });
    expect(payloads.filter((p) => p.channel === 'letter').map((p) => p.actionId).sort()).toEqual(letters.map((x) => String(x.id)).sort());
    const letterEvents = await db.query<{ kind: string }>('SELECT kind FROM delivery_events WHERE organisation_id = $1 AND action_id = $2 ORDER BY id', [org.id, letters[0]!.id]);
    expect(letterEvents.map((x) => x.kind)).toEqual(['handed_over', 'exported']);
  });

  it('relance inbound reads .eml files (or standard input) and says what it did; POST /api/v1/inbound does the same', async () => {
    const org = await setupOrg(db);
    const a = await addCustomer(db, org.id, [{ name: 'Marie', email: 'marie@a.test' }]);
    await addInvoice(db, org.id, a.id, '2026-02-23');
    await plan(db, org.id, '2026-03-02');
    await worker(db, paris('2026-03-02')).runOnce();
    const [s] = await db.query<{ content: Uint8Array; message_id: string }>('SELECT content, message_id FROM deliveries WHERE organisation_id = $1', [org.id]);
    const dsn = postfixDsn(Buffer.from(s!.content), [{ address: 'marie@a.test', action: 'failed', status: '5.1.1' }], 10);
    const file = join(mkdtempSync(join(tmpdir(), 'relance-inbound-')), 'bounce.eml');
    writeFileSync(file, dsn);

    const out: string[] = [];
    const ctx: CliContext = {
      config: { dataDir: tmpdir() } as CliContext['config'],
      openDb: async () => ({ ...db, close: async () => {} }),
      resolveOrg: async () => org.id,
      out: (line) => out.push(line),
    };
    await buildProgram(ctx).parseAsync(['node', 'relance', 'inbound', file, '--lang', 'en']);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/bounce\.eml: hard bounce of action \d+ \(customer \d+\); address\(es\) now invalid: marie@a\.test; step moved to its fallback channel: action \d+/);
    await buildProgram(ctx).parseAsync(['node', 'relance', 'inbound', file, '--lang', 'fr']);
    expect(out[1]).toMatch(/bounce\.eml : déjà reçu \(message entrant \d+\), rien de plus/);
    await expect(readInbound(Buffer.from('not a message'))).rejects.toThrow(/not an email message/);

    // The API: the key's organisation, the raw message as the body.
    const key = (await createApiKey(db, org.id, { name: 'mx', scope: 'write' })).key;
    const app = new Hono();
    registerRoutes(app, { db, now: () => paris('2026-03-02', '16:00') }, inboundRoutes);
    const reply = eml(['From: marie@a.test', 'To: relances@menuiserie.test', 'Subject: Re: Rappel', `References: <x@y> ${s!.message_id}`, 'Message-ID: <r-9@a.test>', '', 'Je vous appelle demain.']);
    const r = await app.request('/api/v1/inbound', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'message/rfc822' }, body: new Uint8Array(reply) });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(InboundResponse.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({ kind: 'reply', matched: true, matchedBy: 'message_id', duplicate: false });
  });
});
