/**
 * An email as the exact MIME message that would be sent (.eml): multipart/alternative text + HTML,
 * plus attachments (the invoice's PDF, the formal notice letter). Built with nodemailer's
 * MailComposer, the same composer the SMTP transport uses, so the file is what goes on the wire.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';

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

export function buildEml(m: EmailMessage): Promise<Buffer> {
  const mail = new MailComposer({
    from: m.from,
    to: m.to ?? undefined,
    replyTo: m.replyTo ?? undefined,
    subject: m.subject,
    text: m.text,
    html: m.html,
    date: m.date,
    messageId: m.messageId,
    headers: m.headers,
    attachments: (m.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    textEncoding: 'quoted-printable',
  });
  return new Promise((resolve, reject) => {
    mail.compile().build((err, message) => (err ? reject(err) : resolve(message)));
  });
}
