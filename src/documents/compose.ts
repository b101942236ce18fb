/**
 * From ledger data to the exact thing a dunning step sends: an email (subject, HTML in the branded
 * layout, text, attachments), an SMS, a PDF letter with its payment QR code, or a call script.
 * One entry point, used by the CLI `relance render`, by the delivery worker and by the bench, so
 * what a user previews is what goes out.
 */
import { epcPayload } from '../domain/epc-qr.ts';
import { defineMessages, type Lang, t } from '../i18n/index.ts';
import { renderTemplate, type SourceLookup } from './engine.ts';
import { renderLetterPdf } from './pdf.ts';
import { type Channel, TEMPLATES, type TemplateKey } from './registry.ts';
import { type Branding, computeDocument, DEFAULT_BRANDING, type DocumentInput, type DocumentVariables } from './variables.ts';

/** The debtor portal's line, in every e-mail and SMS that has a link (src/portal). */
const M = defineMessages({
  portal_text: {
    fr: 'Votre espace client (factures, paiement, échéancier, contestation, sans créer de compte) : {url}',
    en: 'Your customer area (invoices, payment, payment plan, query, no account needed): {url}',
  },
  portal_html: { fr: 'Consultez vos factures, signalez un paiement, demandez un échéancier ou contestez une facture, sans créer de compte :', en: 'See your invoices, report a payment, ask for a payment plan or query an invoice, no account needed:' },
  portal_link: { fr: 'votre espace client', en: 'your customer area' },
  portal_sms: { fr: 'Espace client : {url}', en: 'Your account: {url}' },
});

export interface ComposeRequest {
  key: TemplateKey;
  channel: Channel;
  /** Defaults for claimPenalties and deadlineDays come from the template's spec. */
  input: DocumentInput;
  /** The organisation's own version of a part, when it has one. */
  override?: SourceLookup;
  /** Fixed PDF creation date (reproducible files); defaults to the epoch. */
  creationDate?: Date;
}

export interface ComposedDocument {
  key: TemplateKey;
  channel: Channel;
  lang: Lang;
  vars: DocumentVariables;
  subject: string | null;
  html: string | null;
  text: string | null;
  pdf: Buffer | null;
  /** The EPC QR payload printed on a letter (null when there is no IBAN or the currency is not EUR). */
  epcPayload: string | null;
}

export function documentInputFor(key: TemplateKey, input: DocumentInput): DocumentInput {
  const spec = TEMPLATES[key];
  return {
    ...input,
    claimPenalties: input.claimPenalties ?? spec.claimPenalties,
    deadlineDays: input.deadlineDays ?? (spec.deadlineDays || 8),
    // An instalment reminder is about one instalment and a plan's confirmation asks for the first
    // one still due: their payment box asks for that amount, never the whole balance.
    plan: input.plan && key !== 'instalment' && key !== 'payment_plan' ? { ...input.plan, current: null } : input.plan,
  };
}

/** The EPC payload for the amount a document asks for, or null when a QR code cannot be made. */
export function documentEpcPayload(facts: ReturnType<typeof computeDocument>): string | null {
  if (!facts.iban || facts.currency !== 'EUR' || facts.claimedMinor <= 0n) return null;
  return epcPayload({
    bic: facts.bic,
    name: facts.beneficiary.slice(0, 70),
    iban: facts.iban,
    amountMinor: facts.claimedMinor,
    reference: facts.reference,
    text: facts.reference ? null : facts.remittance,
  });
}

export async function composeDocument(req: ComposeRequest): Promise<ComposedDocument> {
  const input = documentInputFor(req.key, req.input);
  const facts = computeDocument(input);
  const { vars } = facts;
  const lang = input.lang;
  const parts = renderTemplate(req.key, req.channel, lang, vars, req.override);
  const branding: Branding = { ...DEFAULT_BRANDING, ...input.branding };
  const out: ComposedDocument = {
    key: req.key,
    channel: req.channel,
    lang,
    vars,
    subject: parts.subject ?? null,
    html: null,
    text: null,
    pdf: null,
    epcPayload: null,
  };
  switch (req.channel) {
    case 'email':
      out.html = emailLayout(parts.html ?? '', parts.subject ?? '', vars, branding, lang);
      out.text = `${parts.text ?? ''}${vars.payment.portal_link ? `\n\n${t(M, lang, 'portal_text', { url: vars.payment.portal_link })}` : ''}\n\n-- \n${vars.organisation.legal_mentions}\n`;
      break;
    case 'sms':
      // The portal's link in every SMS, unless the organisation's own text already has it.
      out.text = parts.text ?? '';
      if (vars.payment.portal_link && !out.text.includes(vars.payment.portal_link)) out.text += ` ${t(M, lang, 'portal_sms', { url: vars.payment.portal_link })}`;
      break;
    case 'call':
      out.text = parts.script ?? '';
      break;
    case 'letter': {
      const spec = TEMPLATES[req.key];
      out.epcPayload = spec.paymentBox ? documentEpcPayload(facts) : null;
      out.pdf = await renderLetterPdf({
        lang,
        vars,
        subject: parts.subject ?? '',
        body: parts.body ?? '',
        branding,
        registered: spec.registered,
        epcPayload: spec.paymentBox ? out.epcPayload : undefined,
        creationDate: req.creationDate,
      });
      break;
    }
  }
  return out;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The branded frame around an email's HTML part: table layout, inline styles (what mail clients render). */
export function emailLayout(inner: string, subject: string, vars: DocumentVariables, branding: Branding, lang: Lang): string {
  const colour = /^#[0-9a-fA-F]{6}$/.test(branding.colour) ? branding.colour : DEFAULT_BRANDING.colour;
  const logo = branding.logoPng ? `<img src="data:image/png;base64,${Buffer.from(branding.logoPng).toString('base64')}" alt="${escapeHtml(vars.organisation.name)}" style="max-height:48px;max-width:200px">` : `<strong style="font-size:18px;color:${colour}">${escapeHtml(vars.organisation.name)}</strong>`;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:24px 8px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-top:4px solid ${colour};font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222222">
<tr><td style="padding:20px 28px 0 28px">${logo}</td></tr>
<tr><td style="padding:8px 28px 20px 28px">
${inner}
</td></tr>
${
  vars.payment.portal_link
    ? `<tr><td style="padding:0 28px 18px 28px;font-size:14px;line-height:1.5">${escapeHtml(t(M, lang, 'portal_html'))} <a href="${escapeHtml(vars.payment.portal_link)}" style="color:${colour}">${escapeHtml(t(M, lang, 'portal_link'))}</a></td></tr>\n`
    : ''
}<tr><td style="padding:14px 28px;border-top:1px solid #eeeeee;font-size:12px;line-height:1.4;color:#777777">${escapeHtml(vars.organisation.legal_mentions)}</td></tr>
</table></td></tr></table>
</body></html>
`;
}
