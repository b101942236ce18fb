/**
 * An email as the exact MIME message that is sent (.eml): multipart/alternative text + HTML, inside
 * multipart/mixed with the attachments (the invoice's PDF, the formal notice letter) when there
 * are some. Written in one pass with nodemailer's own encoders (RFC 2047 words for names and the
 * subject, quoted-printable text and HTML, base64 attachments, RFC 2231 file names, 76-column
 * folding), the layout nodemailer's MailComposer gives, without its stream per part (which cost a
 * delivery worker about a millisecond per message). The SMTP transport sends these bytes as they
 * are, so the file is what goes on the wire.
 */
import { randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import * as base64 from 'nodemailer/lib/base64/index.js';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs/index.js';
import * as qp from 'nodemailer/lib/qp/index.js';

export interface EmailMessage {
  from: string;
  to: string | null;
  replyTo?: string | null;
  subject: string;
  html: string;
  text: string;
  attachments?: Array<{ filename: string; contentType: string; content: Buffer }>;
  /** Fixed for reproducible files; the sender sets the real ones. */
  date?: Date;
  messageId?: string;
  headers?: Record<string, string>;
}

const CRLF = '\r\n';
const PLAIN_ADDRESS = /^[^\s"(),:;<>@[\\\]]+@[^\s"(),:;<>@[\\\]]+$/;
/** Control characters can never appear in a header, not even encoded as themselves. */
const clean = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');

const line = (key: string, value: string) => mimeFuncs.foldLines(`${key}: ${value}`, 76);
const words = (value: string) => mimeFuncs.encodeWords(clean(value), 'Q', 52, true);

function addressName(name: string): string {
  const n = clean(name);
  if (/^[\w ]*$/.test(n)) return n;
  if (/^[\x20-\x7e]*$/.test(n)) return mimeFuncs.quoteString(n);
  return mimeFuncs.encodeWord(n, 'Q', 52);
}

/** An address list as a header value: names encoded or quoted, addresses in angle brackets. */
function addresses(value: string): string {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>) => {
    for (const a of list) {
      if ('group' in a && a.group) walk(a.group);
      else if (a.address) {
        const address = clean(a.address).replace(/[<>]+/g, '').trim();
        out.push(a.name ? `${addressName(a.name)} <${address}>` : PLAIN_ADDRESS.test(address) ? address : `<${address}>`);
      }
    }
  };
  walk(addressparser(value));
  return out.join(', ');
}

/** RFC 5322 date in UTC: "Mon, 02 Mar 2026 09:00:00 +0000". */
const rfcDate = (d: Date) => d.toUTCString().replace(/GMT$/, '+0000');

const qpBody = (s: string) => qp.wrap(qp.encode(Buffer.from(s.replace(/\r?\n/g, CRLF), 'utf8')), 76);

function textPart(type: 'text/plain' | 'text/html', content: string): string {
  return [line('Content-Type', `${type}; charset=utf-8`), line('Content-Transfer-Encoding', 'quoted-printable'), '', qpBody(content)].join(CRLF);
}

function attachmentPart(a: { filename: string; contentType: string; content: Buffer }): string {
  const filename = clean(a.filename);
  // The name parameter for old clients (an encoded word, quoted when needed), filename in RFC 2231.
  let name = mimeFuncs.encodeWords(filename, 'Q', 52, true);
  if (name !== filename || /[\s'"\\;:/=(),<>@[\]?]|^-/.test(name)) name = JSON.stringify(name);
  const type = `${mimeFuncs.buildHeaderValue({ value: clean(a.contentType).toLowerCase() || 'application/octet-stream' })}; name=${name}`;
  return [
    line('Content-Type', type),
    line('Content-Transfer-Encoding', 'base64'),
    line('Content-Disposition', mimeFuncs.buildHeaderValue({ value: 'attachment', params: { filename } })),
    '',
    base64.wrap(a.content.toString('base64'), 76),
  ].join(CRLF);
}

function multipart(subtype: 'mixed' | 'alternative', boundary: string, parts: string[]): string {
  return [line('Content-Type', `multipart/${subtype}; boundary="${boundary}"`), '', ...parts.flatMap((p) => [`--${boundary}`, p]), `--${boundary}--`, ''].join(CRLF);
}

export function buildEml(m: EmailMessage): Promise<Buffer> {
  try {
    return Promise.resolve(composeEml(m));
  } catch (e) {
    return Promise.reject(e);
  }
}

function composeEml(m: EmailMessage): Buffer {
  const id = randomBytes(8).toString('hex');
  const head: string[] = [];
  for (const [key, value] of Object.entries(m.headers ?? {})) head.push(line(clean(key).replace(/[^!-9;-~]/g, ''), words(value)));
  head.push(line('From', addresses(m.from)));
  if (m.to) head.push(line('To', addresses(m.to)));
  if (m.replyTo) head.push(line('Reply-To', addresses(m.replyTo)));
  head.push(line('Subject', words(m.subject)));
  head.push(line('Message-ID', clean(m.messageId ?? `<${randomBytes(16).toString('hex')}@relance.invalid>`)));
  head.push(line('Date', rfcDate(m.date ?? new Date())));
  head.push('MIME-Version: 1.0');
  const alternative = multipart('alternative', `--_Rl-${id}-Part_2`, [textPart('text/plain', m.text), textPart('text/html', m.html)]);
  const body = m.attachments?.length ? multipart('mixed', `--_Rl-${id}-Part_1`, [alternative, ...m.attachments.map(attachmentPart)]) : alternative;
  return Buffer.from(`${head.join(CRLF)}${CRLF}${body}`, 'utf8');
}
