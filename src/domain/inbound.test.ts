import { describe, expect, it } from 'vitest';
import { isAutoReply, parseDeliveryStatus, parseHeaderBlock, parseMime, readDeliveryReport, recipientOutcome } from './inbound.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');

describe('delivery status notifications', () => {
  it('reads the per-recipient blocks, with folded fields and address types', () => {
    const r = parseDeliveryStatus(
      [
        'Reporting-MTA: dns; mx.example.fr',
        '',
        'Final-Recipient: rfc822; Marie@Client.test',
        'Action: failed',
        'Status: 5.1.1',
        'Diagnostic-Code: smtp; 550 5.1.1 <marie@client.test>: Recipient address',
        '    rejected: User unknown',
        '',
        'Original-Recipient: rfc822;paul@client.test',
        'Final-Recipient: utf-8; paul@client.test',
        'Action: delayed',
        'Status: 4.4.1 (connection timed out)',
      ].join('\n'),
    );
    expect(r.reportingMta).toBe('mx.example.fr');
    expect(r.recipients).toEqual([
      { address: 'marie@client.test', action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 <marie@client.test>: Recipient address rejected: User unknown' },
      { address: 'paul@client.test', action: 'delayed', status: '4.4.1', diagnostic: null },
    ]);
  });

  it('5.x.x failed is hard, 4.x.x failed or delayed is soft, delivered and relayed got through', () => {
    expect(recipientOutcome({ action: 'failed', status: '5.2.2' })).toBe('hard');
    expect(recipientOutcome({ action: 'failed', status: null })).toBe('hard');
    expect(recipientOutcome({ action: 'failed', status: '4.4.7' })).toBe('soft');
    expect(recipientOutcome({ action: 'delayed', status: '4.4.1' })).toBe('soft');
    expect(recipientOutcome({ action: 'relayed', status: '2.0.0' })).toBe('delivered');
  });

  it('a multipart/report with a base64 status part and the returned message: recipients, Message-ID, X-Relance-Action', () => {
    const status = Buffer.from('Reporting-MTA: dns; mx.b.test\r\n\r\nFinal-Recipient: rfc822; lea@b.test\r\nAction: failed\r\nStatus: 5.7.1\r\n').toString('base64');
    const raw = crlf([
      'From: postmaster@b.test',
      'To: relances@menuiserie.test',
      'Subject: Undeliverable: Rappel',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/report; report-type="delivery-status"; boundary="inner=_1"',
      '',
      '--inner=_1',
      'Content-Type: text/plain; charset="utf-8"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Le message n=E2=80=99a pas pu =C3=AAtre remis.',
      '--inner=_1',
      'Content-Type: message/delivery-status',
      'Content-Transfer-Encoding: base64',
      '',
      status,
      '--inner=_1',
      'Content-Type: message/rfc822',
      '',
      'From: relances@menuiserie.test',
      'Message-ID:',
      ' <action-8c9e2a6e-1111-4222-8333-944445555666-7@menuiserie.test>',
      'X-Relance-Action: 8c9e2a6e-1111-4222-8333-944445555666/7',
      '',
      'Madame, Monsieur,',
      '--inner=_1--',
      '--outer--',
      '',
    ]);
    const root = parseMime(raw);
    expect(root.parts[0]!.parts[0]!.body.toString('utf8')).toBe('Le message n’a pas pu être remis.');
    expect(readDeliveryReport(raw)).toEqual({
      format: 'rfc3464',
      reportingMta: 'mx.b.test',
      recipients: [{ address: 'lea@b.test', action: 'failed', status: '5.7.1', diagnostic: null }],
      originalMessageId: '<action-8c9e2a6e-1111-4222-8333-944445555666-7@menuiserie.test>',
      originalAction: '8c9e2a6e-1111-4222-8333-944445555666/7',
      outcome: 'hard',
    });
  });

  it("Exim's bounces: X-Failed-Recipients, the status and the returned copy's Message-ID from the body", () => {
    const raw = crlf([
      'From: Mail Delivery System <Mailer-Daemon@mx.example>',
      'To: relances@menuiserie.test',
      'Subject: Mail delivery failed: returning message to sender',
      'X-Failed-Recipients: paul@b.test',
      'Message-Id: <E1abc-0001@mx.example>',
      '',
      'A message that you sent could not be delivered to one or more of its',
      'recipients. This is a permanent error. The following address(es) failed:',
      '',
      '  paul@b.test',
      '    SMTP error from remote mail server after RCPT TO:<paul@b.test>:',
      '    550 5.1.1 User unknown',
      '',
      '------ This is a copy of the message, including all the headers. ------',
      '',
      'Message-ID: <action-8c9e2a6e-1111-4222-8333-944445555666-9@menuiserie.test>',
      '',
    ]);
    expect(readDeliveryReport(raw)).toMatchObject({
      format: 'exim',
      recipients: [{ address: 'paul@b.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }],
      originalMessageId: '<action-8c9e2a6e-1111-4222-8333-944445555666-9@menuiserie.test>',
      outcome: 'hard',
    });
  });

  it('an ordinary message is no report', () => {
    expect(readDeliveryReport(crlf(['From: a@b.test', 'Subject: hello', '', 'text']))).toBeNull();
  });
});

describe('automatic replies', () => {
  it('Auto-Submitted (RFC 3834), X-Autoreply, Precedence auto_reply or an out-of-office subject; a person writing is none', () => {
    const h = (lines: string[]) => parseHeaderBlock(lines.join('\r\n'));
    expect(isAutoReply(h(['Auto-Submitted: auto-replied']), 'Re: Rappel')).toBe(true);
    expect(isAutoReply(h(['Auto-Submitted: no']), 'Re: Rappel')).toBe(false);
    expect(isAutoReply(h(['X-Autoreply: yes']), 'Re: Rappel')).toBe(true);
    expect(isAutoReply(h(['Precedence: auto_reply']), 'Re: Rappel')).toBe(true);
    expect(isAutoReply(h([]), 'Réponse automatique : absent jusqu’au 10 mars')).toBe(true);
    expect(isAutoReply(h([]), 'Automatic reply: Out of office')).toBe(true);
    expect(isAutoReply(h([]), 'Re: Rappel facture F-1')).toBe(false);
  });
});
