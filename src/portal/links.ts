/**
 * The debtor portal's links (issue 20): one per customer, signed, expiring, revocable.
 *
 * A link is `<nonce>.<signature>`: 16 random bytes and the first 16 bytes of an HMAC-SHA256 of
 * them under the instance key (src/secrets.ts). The database keeps the nonce and the link's
 * SHA-256, never the link: a message can carry the same link again (derived from the nonce with
 * the key), and a copy of the database alone opens nothing. A link whose signature does not check
 * is refused before any query; one that checks is looked up by its hash, then must be neither
 * revoked nor expired, and the organisation's portal must be on. Every refusal is the same answer
 * (`null`): who holds a wrong link learns nothing about why.
 *
 * Each new message renews the customer's link (`linkForMessage`): its expiry moves to today plus
 * the organisation's days; an expired link is replaced by a new one. `relance portal revoke` ends
 * it at once; the next message or `relance portal link` makes a new one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/driver.ts';
import { notFound, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { instanceMac } from '../secrets.ts';

const E = defineErrors('portal-links', {
  no_url: {
    fr: 'l’adresse publique du portail n’est pas réglée : relance portal settings --url https://… (l’adresse à laquelle vos clients joignent ce serveur)',
    en: 'the portal’s public address is not set: relance portal settings --url https://… (the address at which your customers reach this server)',
  },
  off: { fr: 'le portail client est désactivé pour cette organisation (relance portal settings --on pour le réactiver)', en: 'the customer portal is switched off for this organisation (relance portal settings --on to switch it on)' },
  days: { fr: 'la durée d’un lien va de 1 à 366 jours', en: 'a link lasts 1 to 366 days' },
  url: { fr: 'l’adresse publique doit commencer par https:// ou http://, sans ? ni #', en: 'the public address must start with https:// or http://, with no ? or #' },
});

const MAC_LABEL = 'relance-portal-link-v1';

export interface PortalSettings {
  enabled: boolean;
  publicUrl: string | null;
  linkDays: number;
  paidHoldDays: number;
  promiseMaxDays: number;
  planMaxInstalments: number;
  planMinInstalmentMinor: bigint;
  planMaxFirstDays: number;
  planAutoAccept: boolean;
  planAutoMaxDays: number;
  planAutoMaxMinor: bigint | null;
  attachmentMaxBytes: number;
  predueCheck: boolean;
  paymentProvider: 'stripe' | null;
  paymentSettings: Record<string, unknown>;
}

export const DEFAULT_PORTAL_SETTINGS: PortalSettings = {
  enabled: true,
  publicUrl: null,
  linkDays: 60,
  paidHoldDays: 5,
  promiseMaxDays: 30,
  planMaxInstalments: 6,
  planMinInstalmentMinor: 5000n,
  planMaxFirstDays: 30,
  planAutoAccept: true,
  planAutoMaxDays: 120,
  planAutoMaxMinor: null,
  attachmentMaxBytes: 5 * 1024 * 1024,
  predueCheck: true,
  paymentProvider: null,
  paymentSettings: {},
};

const COLUMNS: Record<keyof PortalSettings, string> = {
  enabled: 'enabled',
  publicUrl: 'public_url',
  linkDays: 'link_days',
  paidHoldDays: 'paid_hold_days',
  promiseMaxDays: 'promise_max_days',
  planMaxInstalments: 'plan_max_instalments',
  planMinInstalmentMinor: 'plan_min_instalment_minor',
  planMaxFirstDays: 'plan_max_first_days',
  planAutoAccept: 'plan_auto_accept',
  planAutoMaxDays: 'plan_auto_max_days',
  planAutoMaxMinor: 'plan_auto_max_minor',
  attachmentMaxBytes: 'attachment_max_bytes',
  predueCheck: 'predue_check',
  paymentProvider: 'payment_provider',
  paymentSettings: 'payment_settings',
};

function toSettings(r: Record<string, unknown> | undefined): PortalSettings {
  if (!r) return { ...DEFAULT_PORTAL_SETTINGS };
  const ps = r.payment_settings;
  return {
    enabled: Boolean(r.enabled),
    publicUrl: (r.public_url as string | null) ?? null,
    linkDays: Number(r.link_days),
    paidHoldDays: Number(r.paid_hold_days),
    promiseMaxDays: Number(r.promise_max_days),
    planMaxInstalments: Number(r.plan_max_instalments),
    planMinInstalmentMinor: BigInt(r.plan_min_instalment_minor as bigint),
    planMaxFirstDays: Number(r.plan_max_first_days),
    planAutoAccept: Boolean(r.plan_auto_accept),
    planAutoMaxDays: Number(r.plan_auto_max_days),
    planAutoMaxMinor: r.plan_auto_max_minor === null || r.plan_auto_max_minor === undefined ? null : BigInt(r.plan_auto_max_minor as bigint),
    attachmentMaxBytes: Number(r.attachment_max_bytes),
    predueCheck: Boolean(r.predue_check),
    paymentProvider: (r.payment_provider as 'stripe' | null) ?? null,
    paymentSettings: (typeof ps === 'string' ? JSON.parse(ps) : ps ?? {}) as Record<string, unknown>,
  };
}

export async function getPortalSettings(q: Queryable, orgId: string): Promise<PortalSettings> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM portal_settings WHERE organisation_id = $1', [orgId]);
  return toSettings(r);
}

/** Changes the settings named (the others keep their value); the database checks the ranges. */
export async function savePortalSettings(q: Queryable, orgId: string, patch: Partial<PortalSettings>): Promise<PortalSettings> {
  if (patch.linkDays !== undefined && !(Number.isInteger(patch.linkDays) && patch.linkDays >= 1 && patch.linkDays <= 366)) throw validation(E('days'), { field: 'linkDays' });
  if (patch.publicUrl) {
    if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(patch.publicUrl)) throw validation(E('url'), { field: 'publicUrl' });
    patch = { ...patch, publicUrl: patch.publicUrl.replace(/\/+$/, '') };
  }
  await q.query('INSERT INTO portal_settings (organisation_id) VALUES ($1) ON CONFLICT (organisation_id) DO NOTHING', [orgId]);
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof PortalSettings, unknown][];
  if (entries.length) {
    const sets = entries.map(([k], i) => `${COLUMNS[k]} = $${i + 2}${k === 'paymentSettings' ? '::jsonb' : ''}`);
    await q.query(`UPDATE portal_settings SET ${sets.join(', ')}, updated_at = now() WHERE organisation_id = $1`, [
      orgId,
      ...entries.map(([k, v]) => (k === 'paymentSettings' ? JSON.stringify(v) : v)),
    ]);
  }
  return getPortalSettings(q, orgId);
}

// ------------------------------------------------------------------ the link

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sign = (nonce: string) => instanceMac(MAC_LABEL, nonce, 'the portal links').subarray(0, 16).toString('base64url');
const tokenOf = (nonce: string) => `${nonce}.${sign(nonce)}`;

/** The nonce of a well-formed link whose signature checks, else null (no query made). */
function checkedNonce(token: string): string | null {
  const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return null;
  const expected = Buffer.from(sign(m[1]!), 'base64url');
  const given = Buffer.from(m[2]!, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? m[1]! : null;
}

export interface PortalLink {
  id: bigint;
  customerId: bigint;
  token: string;
  url: string | null;
  expiresAt: Date;
}

export const portalUrl = (base: string, token: string) => `${base.replace(/\/+$/, '')}/portal/${token}`;

const addDaysTo = (now: Date, days: number) => new Date(now.getTime() + days * 86_400_000);

/**
 * The customer's current link, its expiry moved to now plus `days` (the organisation's by
 * default); a new link when there is none or the last one expired. `renew: false` keeps the
 * expiry of a link still valid (a later one stays later).
 */
export async function currentLink(
  q: Queryable,
  orgId: string,
  customerId: bigint,
  now: Date,
  opts: { days?: number; settings?: PortalSettings } = {},
): Promise<PortalLink> {
  const settings = opts.settings ?? (await getPortalSettings(q, orgId));
  const days = opts.days ?? settings.linkDays;
  if (!(Number.isInteger(days) && days >= 1 && days <= 366)) throw validation(E('days'), { field: '--days' });
  const [customer] = await q.query<{ id: bigint }>('SELECT id FROM customers WHERE organisation_id = $1 AND id = $2 FOR KEY SHARE', [orgId, customerId]);
  if (!customer) throw notFound('customer', String(customerId));
  const until = addDaysTo(now, days);
  // An expired link is not brought back to life: it is marked so, and a new one is made.
  await q.query(
    `UPDATE portal_links SET revoked_at = $3, revoked_reason = 'expired'
      WHERE organisation_id = $1 AND customer_id = $2 AND revoked_at IS NULL AND expires_at <= $3`,
    [orgId, customerId, now],
  );
  const [kept] = await q.query<{ id: bigint; nonce: string; expires_at: Date | string }>(
    `UPDATE portal_links SET expires_at = greatest(expires_at, $3)
      WHERE organisation_id = $1 AND customer_id = $2 AND revoked_at IS NULL RETURNING id, nonce, expires_at`,
    [orgId, customerId, until],
  );
  let row = kept;
  if (!row) {
    const nonce = randomBytes(16).toString('base64url');
    // Two messages for one customer at once: the unique index lets one link through, the other
    // takes it.
    const [made] = await q.query<{ id: bigint; nonce: string; expires_at: Date | string }>(
      `INSERT INTO portal_links (organisation_id, customer_id, nonce, token_sha256, expires_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (organisation_id, customer_id) WHERE revoked_at IS NULL DO UPDATE SET expires_at = greatest(portal_links.expires_at, EXCLUDED.expires_at)
       RETURNING id, nonce, expires_at`,
      [orgId, customerId, nonce, sha256(tokenOf(nonce)), until],
    );
    row = made!;
  }
  const token = tokenOf(row.nonce);
  return { id: row.id, customerId, token, url: settings.publicUrl ? portalUrl(settings.publicUrl, token) : null, expiresAt: new Date(row.expires_at) };
}

/** The link to print in a message (renewing it), or null when the portal is off or has no public address. */
export async function linkForMessage(q: Queryable, orgId: string, customerId: bigint, now: Date, settings?: PortalSettings): Promise<PortalLink | null> {
  const s = settings ?? (await getPortalSettings(q, orgId));
  if (!s.enabled || !s.publicUrl) return null;
  return currentLink(q, orgId, customerId, now, { settings: s });
}

/** For `relance portal link`: the URL is needed, so a portal switched off or without address is said. */
export async function linkForOperator(q: Queryable, orgId: string, customerId: bigint, now: Date, days?: number): Promise<PortalLink & { url: string }> {
  const s = await getPortalSettings(q, orgId);
  if (!s.enabled) throw validation(E('off'), { field: 'enabled' });
  if (!s.publicUrl) throw validation(E('no_url'), { field: 'publicUrl' });
  const link = await currentLink(q, orgId, customerId, now, { days, settings: s });
  return { ...link, url: link.url! };
}

/** Revokes the customer's link at once; returns whether there was one. */
export async function revokeLink(q: Queryable, orgId: string, customerId: bigint, now: Date): Promise<boolean> {
  const [customer] = await q.query('SELECT 1 FROM customers WHERE organisation_id = $1 AND id = $2', [orgId, customerId]);
  if (!customer) throw notFound('customer', String(customerId));
  const rows = await q.query(
    `UPDATE portal_links SET revoked_at = $3, revoked_reason = 'revoked' WHERE organisation_id = $1 AND customer_id = $2 AND revoked_at IS NULL RETURNING id`,
    [orgId, customerId, now],
  );
  return rows.length > 0;
}

export interface PortalAccess {
  orgId: string;
  customerId: bigint;
  linkId: bigint;
  settings: PortalSettings;
}

/**
 * Who a link lets in, or null: a tampered, unknown, expired or revoked link, and a portal switched
 * off, are one and the same refusal.
 */
export async function openLink(q: Queryable, token: string, now: Date): Promise<PortalAccess | null> {
  if (!checkedNonce(token)) return null;
  const [r] = await q.query<{ organisation_id: string; customer_id: bigint; id: bigint }>(
    `SELECT organisation_id, customer_id, id FROM portal_links WHERE token_sha256 = $1 AND revoked_at IS NULL AND expires_at > $2`,
    [sha256(token), now],
  );
  if (!r) return null;
  const settings = await getPortalSettings(q, r.organisation_id);
  if (!settings.enabled) return null;
  return { orgId: r.organisation_id, customerId: r.customer_id, linkId: r.id, settings };
}
