/**
 * The test message an admin sends to check an SMTP server (settings screen, setup wizard): built
 * and sent like any reminder, through a one-connection transport, with a bounded wait. A server
 * that refuses, does not exist or never answers is one answer (which one would tell open ports
 * from closed ones on the host named); an SMTP server's own reply is passed on.
 */
import { buildEml } from '../documents/email.ts';
import { validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { SmtpTransport } from './channels/email.ts';
import type { DeliverySettings } from './settings.ts';

const E = defineErrors('smtp-test', {
  smtp_unreachable: {
    fr: "impossible de joindre le serveur SMTP {host}:{port} : connexion refusée, adresse injoignable ou pas de réponse en {seconds} s ; vérifiez l’hôte, le port et la sécurité",
    en: "could not reach the SMTP server {host}:{port}: connection refused, address unreachable or no answer within {seconds} s; check the host, port and security",
  },
  smtp_refused: { fr: "le serveur SMTP {host}:{port} a refusé le message de test : {reason}", en: "the SMTP server {host}:{port} refused the test message: {reason}" },
});

/** How long the SMTP test waits to connect, for the greeting and for each reply. */
export const SMTP_TEST_TIMEOUT_MS = 10_000;

export async function sendTestMessage(o: {
  /** The SMTP settings, the password already opened (readSecret). */
  smtp: Omit<NonNullable<DeliverySettings['smtp']>, 'password'> & { password: string | null };
  from: string;
  fromName: string;
  to: string;
  organisation: string;
  now: Date;
  /** The form field the SMTP host came from, named by the errors. */
  field?: string;
}): Promise<unknown> {
  const messageId = `<test-${o.now.getTime()}@relance.local>`;
  const raw = await buildEml({
    from: `"${o.fromName.replace(/"/g, '')}" <${o.from}>`,
    to: o.to,
    subject: `Relance — test (${o.organisation})`,
    text: `Ce message de test confirme que Relance peut envoyer des e-mails par ${o.smtp.host}.\nThis test message confirms Relance can send email through ${o.smtp.host}.\n`,
    html: `<p>Ce message de test confirme que Relance peut envoyer des e-mails par ${o.smtp.host}.</p><p>This test message confirms Relance can send email through ${o.smtp.host}.</p>`,
    messageId,
    date: o.now,
  });
  const transport = new SmtpTransport({ ...o.smtp, poolSize: 1, socketTimeoutMs: SMTP_TEST_TIMEOUT_MS, connectTimeoutMs: SMTP_TEST_TIMEOUT_MS });
  let outcome: Awaited<ReturnType<SmtpTransport['send']>>;
  try {
    outcome = await transport.send({ from: o.from, to: [o.to], messageId, raw }, async () => {});
  } finally {
    await transport.close();
  }
  if (outcome.kind === 'sent') return outcome;
  const where = { host: o.smtp.host, port: o.smtp.port, seconds: SMTP_TEST_TIMEOUT_MS / 1000 };
  const reply = 'error' in outcome ? String(outcome.error ?? '') : '';
  // classifySmtpError's text starts with nodemailer's code; these are the ones before any SMTP reply.
  const unreachable = /^(ECONNECTION|ETIMEDOUT|ESOCKET|EDNS|error)\b(?! \d{3})/.test(reply);
  throw validation(unreachable ? E('smtp_unreachable', where) : E('smtp_refused', { ...where, reason: reply.slice(0, 300) }), { field: o.field ?? 'smtpHost' });
}
