import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pdfText } from './debtor-harness.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import {
  caseReplyAddress,
  checkCallOutcome,
  classifyHttpResult,
  classifySmtpError,
  messageIdFor,
  nextSendingInstant,
  normaliseE164,
  parseCaseReplyAddress,
  parseMessageId,
  retryDelaySeconds,
  smsSegments,
  transition,
} from '../src/domain/delivery.ts';
import { workingDays } from '../src/domain/engine/holidays.ts';
import { mergePdfs, pdfPageCount } from '../src/delivery/pdf-merge.ts';
import { composeDocument } from '../src/documents/compose.ts';
import { sampleInput } from '../src/documents/samples.ts';

const d = (s: string) => s as CalendarDate;

describe('outbox state machine', () => {
  it('moves only along the documented transitions, and says why not otherwise', () => {
    expect(transition('awaiting_approval', 'approve')).toBe('queued');
    expect(transition('queued', 'claim')).toBe('sending');
    expect(transition('sending', 'retry')).toBe('queued');
    expect(transition('sending', 'uncertain')).toBe('uncertain');
    expect(transition('uncertain', 'resolve_retry')).toBe('queued');
    expect(() => transition('sent', 'cancel')).toThrow(/sent cannot be cancelled/);
    expect(() => transition('queued', 'approve')).toThrow(/only awaiting_approval/);
    expect(() => transition('uncertain', 'claim')).toThrow();
  });

  it('retries back off exponentially, spread per action, capped at six hours', () => {
    const base = [1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, 20n)); // id 20: no spread
    expect(base).toEqual([60, 120, 240, 480, 960]);
    expect(retryDelaySeconds(30, 20n)).toBe(6 * 3600);
    expect(retryDelaySeconds(1, 0n)).toBe(48);
    expect(retryDelaySeconds(1, 40n)).toBe(72);
  });
});

describe('what a send result means', () => {
  it('SMTP: a reply decides; no reply before the content is temporary, after it uncertain', () => {
    expect(classifySmtpError({ message: 'try later', responseCode: 451, command: 'DATA', dataStarted: true }).kind).toBe('temporary');
    expect(classifySmtpError({ message: 'User unknown', responseCode: 550, command: 'RCPT TO', dataStarted: false })).toMatchObject({ kind: 'permanent', badAddress: true });
    expect(classifySmtpError({ message: 'spam', responseCode: 554, command: 'DATA', dataStarted: true })).toMatchObject({ kind: 'permanent', badAddress: false });
    expect(classifySmtpError({ message: 'ECONNREFUSED', code: 'ESOCKET', dataStarted: false }).kind).toBe('temporary');
    expect(classifySmtpError({ message: 'Connection closed', code: 'ECONNECTION', dataStarted: true }).kind).toBe('uncertain');
  });

  it('HTTP providers: 429/503 retry, other 5xx and lost answers are uncertain, 4xx permanent', () => {
    expect(classifyHttpResult({ status: 200, requestSent: true })).toBeNull();
    expect(classifyHttpResult({ status: 503, requestSent: true })!.kind).toBe('temporary');
    expect(classifyHttpResult({ status: 429, requestSent: true })!.kind).toBe('temporary');
    expect(classifyHttpResult({ status: 500, requestSent: true })!.kind).toBe('uncertain');
    expect(classifyHttpResult({ status: 400, requestSent: true })!.kind).toBe('permanent');
    expect(classifyHttpResult({ requestSent: false })!.kind).toBe('temporary');
    expect(classifyHttpResult({ requestSent: true })!.kind).toBe('uncertain');
  });
});

describe('sending window', () => {
  const fr = workingDays('FR');
  const rules = { timeZone: 'Europe/Paris', window: { start: '09:00', end: '18:00' }, workingDaysOnly: true, isWorkingDay: (x: CalendarDate) => fr.isWorkingDay(x) };
  it('inside the window: now; before it: today at the start; after it or on a day off: the next working day', () => {
    expect(nextSendingInstant('2026-03-02T10:00:00.000Z', rules)).toBe('2026-03-02T10:00:00.000Z');
    expect(nextSendingInstant('2026-03-02T06:00:00.000Z', rules)).toBe('2026-03-02T08:00:00Z');
    expect(nextSendingInstant('2026-03-06T18:30:00.000Z', rules)).toBe('2026-03-09T08:00:00Z'); // Friday evening -> Monday
    expect(nextSendingInstant('2026-05-01T09:00:00.000Z', rules)).toBe('2026-05-04T07:00:00Z'); // 1 May (Friday), summer time
  });
  it('follows daylight saving time: 09:00 in Paris is 08:00Z in winter and 07:00Z in summer', () => {
    expect(nextSendingInstant('2026-03-27T20:00:00.000Z', rules)).toBe('2026-03-30T07:00:00Z'); // across the 29 March change
  });
});

describe('SMS', () => {
  it('counts GSM-7 septets (extension characters twice) and UCS-2 units, 160/153 and 70/67 per segment', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments(`${'a'.repeat(152)}€`)).toEqual({ encoding: 'GSM-7', units: 154, segments: 1 });
    expect(smsSegments(`${'a'.repeat(160)}€`).segments).toBe(2);
    expect(smsSegments('Facture réglée à 100 € : merci')).toMatchObject({ encoding: 'GSM-7' });
    expect(smsSegments('Relance n° 2 — merci')).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(smsSegments('ê'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments('œ'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
  });
  it('accepts E.164 numbers only, with a hint for French national numbers', () => {
    expect(normaliseE164('+33 6 12 34 56 78')).toBe('+33612345678');
    expect(normaliseE164('+44 (20) 7946-0958')).toBe('+442079460958');
    expect(() => normaliseE164('06 12 34 56 78')).toThrow(/E\.164.*\+33612345678/);
    expect(() => normaliseE164('+0612')).toThrow(/E\.164/);
    expect(() => normaliseE164('+1234567890123456')).toThrow(/E\.164/);
  });
});

describe('addresses', () => {
  it('a stable Message-ID per action, and a reply-to that names the customer case', () => {
    const id = messageIdFor('0b6f2b4e-3c1a-4f57-9d55-2f6a3c1d9e10', 42n, 'relances@acme.fr');
    expect(id).toBe('<action-0b6f2b4e-3c1a-4f57-9d55-2f6a3c1d9e10-42@acme.fr>');
    expect(parseMessageId(id)).toEqual({ orgId: '0b6f2b4e-3c1a-4f57-9d55-2f6a3c1d9e10', actionId: 42n });
    expect(caseReplyAddress('compta+old@acme.fr', 7n, 42n)).toBe('compta+c7-a42@acme.fr');
    expect(parseCaseReplyAddress('"Acme" <compta+c7-a42@acme.fr>')).toEqual({ customerId: 7n, actionId: 42n });
  });
});

describe('call outcomes', () => {
  it('say what they need and what they set in motion', () => {
    const today = d('2026-03-02');
    expect(checkCallOutcome({ outcome: 'promise_to_pay', promisedOn: d('2026-03-10'), promisedMinor: 100n }, today)).toEqual({ closesTask: true, effect: 'promise' });
    expect(() => checkCallOutcome({ outcome: 'promise_to_pay', promisedOn: d('2026-03-01'), promisedMinor: 100n }, today)).toThrow(/past/);
    expect(() => checkCallOutcome({ outcome: 'dispute' }, today)).toThrow(/reason/);
    expect(checkCallOutcome({ outcome: 'already_paid' }, today).effect).toBe('reconciliation');
    expect(checkCallOutcome({ outcome: 'no_answer' }, today)).toEqual({ closesTask: false, effect: 'callback' });
    expect(() => checkCallOutcome({ outcome: 'reached', reason: 'lazy' as never }, today)).toThrow(/non-payment/);
  });
});

describe('PDF merge', () => {
  it('puts letters end to end, every page kept, byte-exact content streams', async () => {
    const a = (await composeDocument({ key: 'firm', channel: 'letter', input: sampleInput('business', 'fr', 'firm') })).pdf!;
    const b = (await composeDocument({ key: 'statement', channel: 'letter', input: sampleInput('business', 'en', 'statement', 40) })).pdf!;
    const merged = mergePdfs([
      { name: 'a', pdf: a },
      { name: 'b', pdf: b },
      { name: 'a again', pdf: a },
    ]);
    expect(pdfPageCount(merged)).toBe(2 * pdfPageCount(a) + pdfPageCount(b));
    expect(pdfPageCount(b)).toBeGreaterThan(1);
    expect(() => mergePdfs([{ name: 'junk.pdf', pdf: Buffer.from('hello') }])).toThrow(/junk\.pdf.*not a PDF/);
  });

  it('merges PDFs written by other producers too (compressed cross-reference streams, indirect lengths): every page and its text kept', async () => {
    const letter = (await composeDocument({ key: 'reminder', channel: 'letter', input: sampleInput('business', 'fr', 'reminder') })).pdf!;
    const dir = fileURLToPath(new URL('./fixtures/einvoice/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.pdf'));
    expect(files.length).toBeGreaterThan(5);
    const pagesOf = (pdf: Buffer) => Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', ['-'], { input: pdf, encoding: 'utf8' }))![1]);
    const words = (text: string) => text.split(/\s+/).filter((w) => /^[\p{L}\d][\p{L}\d.,-]{3,}$/u.test(w));
    for (const f of files) {
      const other = readFileSync(dir + f);
      const merged = mergePdfs([{ name: 'letter', pdf: letter }, { name: f, pdf: other }]);
      // poppler reads the merged file's own cross-reference table and page tree.
      expect(pagesOf(merged), f).toBe(pagesOf(letter) + pagesOf(other));
      expect(pdfPageCount(merged), f).toBe(pagesOf(merged));
      const text = pdfText(merged);
      expect(text).toContain('Objet : Rappel – facture F-2025-0412');
      for (const w of words(pdfText(other)).slice(0, 20)) expect(text, `${f}: ${w}`).toContain(w);
    }
  });
});
