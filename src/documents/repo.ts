/**
 * Stored templates and branding of an organisation. Saving a template validates it first: a source
 * with a syntax error or an unknown variable never reaches the table.
 */
import type { Queryable } from '../db/driver.ts';
import { validation } from '../errors.ts';
import { defineErrors, type Lang } from '../i18n/index.ts';
import { type SourceLookup, validateTemplate } from './engine.ts';
import { assertTemplate, CHANNEL_PARTS, type Channel, type Part, partMode, type TemplateKey } from './registry.ts';
import { sampleVariables } from './samples.ts';
import { type Branding, DEFAULT_BRANDING, PAYMENT_LINK_FIELDS } from './variables.ts';

const E = defineErrors('documents-repo', {
  bad_language: { fr: 'la langue doit être fr ou en, et non « {lang} »', en: 'language must be fr or en, got "{lang}"' },
  bad_part: { fr: 'un modèle {channel} a pour parties {parts}, et non « {part} »', en: 'a {channel} template has parts {parts}, not "{part}"' },
  empty: { fr: 'un modèle ne peut pas être vide', en: 'a template cannot be empty' },
  bad_colour: { fr: 'la couleur doit être au format « #RRGGBB », et non « {colour} »', en: 'colour must be "#RRGGBB", got "{colour}"' },
  bad_payment_link: {
    fr: '« {value} » n’est pas un modèle de lien de paiement : une adresse https:// qui ne nomme que {known}',
    en: '"{value}" is not a payment link pattern: an https:// address naming only {known}',
  },
});

export interface TemplatePartInput {
  key: string;
  lang: Lang;
  channel: string;
  part: string;
  source: string;
}

export async function saveTemplate(q: Queryable, orgId: string, t: TemplatePartInput): Promise<void> {
  const { key, channel } = assertTemplate(t.key, t.channel, { field: 'key' });
  if (t.lang !== 'fr' && t.lang !== 'en') throw validation(E('bad_language', { lang: t.lang }), { field: 'lang' });
  if (!CHANNEL_PARTS[channel].includes(t.part as Part)) {
    throw validation(E('bad_part', { channel, parts: CHANNEL_PARTS[channel].join(', '), part: t.part }), { field: 'part' });
  }
  if (!t.source.trim()) throw validation(E('empty'), { field: 'source' });
  validateTemplate(t.source, { mode: partMode(channel, t.part as Part), lang: t.lang, samples: sampleVariables(t.lang), place: { field: 'source' } });
  await q.query(
    `INSERT INTO document_templates (organisation_id, key, lang, channel, part, source) VALUES ($1,$2,$3,$4,$5,$6)
     ON CONFLICT (organisation_id, key, lang, channel, part) DO UPDATE SET source = EXCLUDED.source, updated_at = now()`,
    [orgId, key, t.lang, channel, t.part, t.source],
  );
}

/** Back to the built-in version of a part. */
export async function resetTemplate(q: Queryable, orgId: string, t: Omit<TemplatePartInput, 'source'>): Promise<void> {
  await q.query('DELETE FROM document_templates WHERE organisation_id = $1 AND key = $2 AND lang = $3 AND channel = $4 AND part = $5', [
    orgId, t.key, t.lang, t.channel, t.part,
  ]);
}

/** The organisation's template parts, as a lookup for renderTemplate (null: use the built-in one). */
export async function loadTemplateOverrides(q: Queryable, orgId: string): Promise<SourceLookup> {
  const rows = await q.query<{ key: string; lang: string; channel: string; part: string; source: string }>(
    'SELECT key, lang, channel, part, source FROM document_templates WHERE organisation_id = $1',
    [orgId],
  );
  const map = new Map(rows.map((r) => [`${r.key}/${r.lang}/${r.channel}/${r.part}`, r.source]));
  return (key: TemplateKey, channel: Channel, lang: Lang, part: Part) => map.get(`${key}/${lang}/${channel}/${part}`) ?? null;
}

export async function getBranding(q: Queryable, orgId: string): Promise<Branding> {
  const [r] = await q.query<Record<string, unknown>>(
    `SELECT b.*, l.content AS logo, s.content AS signature
       FROM document_branding b
       LEFT JOIN documents l ON l.organisation_id = b.organisation_id AND l.id = b.logo_document_id
       LEFT JOIN documents s ON s.organisation_id = b.organisation_id AND s.id = b.signature_document_id
      WHERE b.organisation_id = $1`,
    [orgId],
  );
  if (!r) return { ...DEFAULT_BRANDING };
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    colour: String(r.colour),
    logoPng: (r.logo as Uint8Array | null) ?? null,
    signaturePng: (r.signature as Uint8Array | null) ?? null,
    signatoryName: s(r.signatory_name),
    signatoryTitle: s(r.signatory_title),
    footer: s(r.footer),
    email: s(r.email),
    phone: s(r.phone),
    website: s(r.website),
    place: s(r.place),
    paymentLink: s(r.payment_link),
  };
}

export interface BrandingInput {
  colour?: string;
  logoDocumentId?: bigint | null;
  signatureDocumentId?: bigint | null;
  signatoryName?: string | null;
  signatoryTitle?: string | null;
  footer?: string | null;
  email?: string | null;
  phone?: string | null;
  website?: string | null;
  place?: string | null;
  /** The online payment page pattern (https://...{invoice}...); null: none. Unchanged when absent. */
  paymentLink?: string | null;
}

/** A payment link pattern: https, and only the placeholders documents fill. */
export function checkPaymentLink(v: string): void {
  const names = [...v.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
  const unknown = names.find((n) => !(PAYMENT_LINK_FIELDS as readonly string[]).includes(n));
  if (!/^https:\/\/[^\s]+$/.test(v) || unknown !== undefined) {
    throw validation(E('bad_payment_link', { value: v, known: PAYMENT_LINK_FIELDS.map((f) => `{${f}}`).join(', ') }), { field: 'paymentLink' });
  }
}

export async function saveBranding(q: Queryable, orgId: string, b: BrandingInput): Promise<void> {
  if (b.colour !== undefined && !/^#[0-9A-Fa-f]{6}$/.test(b.colour)) throw validation(E('bad_colour', { colour: b.colour }), { field: 'colour' });
  if (b.paymentLink) checkPaymentLink(b.paymentLink);
  await q.query(
    `INSERT INTO document_branding (organisation_id, colour, logo_document_id, signature_document_id, signatory_name, signatory_title, footer, email, phone, website, place)
     VALUES ($1, coalesce($2, '#1F4E79'), $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (organisation_id) DO UPDATE SET colour = EXCLUDED.colour, logo_document_id = EXCLUDED.logo_document_id,
       signature_document_id = EXCLUDED.signature_document_id, signatory_name = EXCLUDED.signatory_name,
       signatory_title = EXCLUDED.signatory_title, footer = EXCLUDED.footer, email = EXCLUDED.email, phone = EXCLUDED.phone,
       website = EXCLUDED.website, place = EXCLUDED.place, updated_at = now()`,
    [
      orgId, b.colour ?? null, b.logoDocumentId ?? null, b.signatureDocumentId ?? null, b.signatoryName ?? null, b.signatoryTitle ?? null,
      b.footer ?? null, b.email ?? null, b.phone ?? null, b.website ?? null, b.place ?? null,
    ],
  );
  if (b.paymentLink !== undefined) {
    await q.query('UPDATE document_branding SET payment_link = $2 WHERE organisation_id = $1', [orgId, b.paymentLink || null]);
  }
}
