/**
 * Reads back a stored .eml (as src/documents/email.ts wrote it) to show it: headers, the HTML and
 * text parts, the attachments' names. The raw bytes stay the proof; this is only their reading.
 */
import { simpleParser } from 'mailparser';
import type { ParsedEml } from '../http/routes/app/shapes/eml.ts';

export type { ParsedEml };

const addresses = (a: { text: string } | { text: string }[] | undefined) => (a === undefined ? '' : Array.isArray(a) ? a.map((x) => x.text).join(', ') : a.text);

export async function parseEml(raw: Buffer): Promise<ParsedEml> {
  const mail = await simpleParser(raw, { skipImageLinks: true, skipHtmlToText: true, skipTextLinks: true });
  const dateLine = mail.headerLines.find((h) => h.key === 'date')?.line ?? '';
  return {
    subject: mail.subject ?? '',
    from: addresses(mail.from),
    to: addresses(mail.to),
    date: dateLine.replace(/^date:\s*/i, ''),
    html: typeof mail.html === 'string' ? mail.html : null,
    text: mail.text ?? null,
    attachments: mail.attachments.map((a) => ({ filename: a.filename ?? 'attachment', contentType: a.contentType, size: a.size })),
  };
}
