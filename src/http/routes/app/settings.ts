/**
 * Settings: the organisation and its branding, delivery (SMTP and the test message), the engine's
 * options, going live, the contractual rate. People, keys and webhooks are in ./users.ts.
 */
import { z } from 'zod';
import { providerCatalogue } from '../../../delivery/channels/registry.ts';
import { describeSettings, loadDeliverySettings, SECRET_FIELDS, type SettingsInput, saveDeliverySettings } from '../../../delivery/settings.ts';
import { readSecret } from '../../../delivery/secrets.ts';
import { sendTestMessage } from '../../../delivery/smtp-test.ts';
import { getBranding, saveBranding } from '../../../documents/repo.ts';
import { HOLIDAY_CALENDARS } from '../../../domain/engine/holidays.ts';
import { SENDING_FIELDS } from '../../../domain/engine/sending.ts';
import { RATE_TABLE_NAMES } from '../../../domain/law/index.ts';
import { acknowledgesAgreements, setAcknowledgeAgreements } from '../../../engine/acknowledgements.ts';
import { goLivePreview, setLive } from '../../../engine/golive.ts';
import { listScenarios, loadSendingDefaults } from '../../../engine/scenarios.ts';
import { changeSendingDefaults } from '../../../engine/sending.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { getContractRate, listRateOverrides, ratesAreTheOperators, setContractRate } from '../../../law/rates-repo.ts';
import { updateOrganisation } from '../../../ledger/repo.ts';
import { listApiKeys } from '../../../auth/index.ts';
import { listSubscriptions, WEBHOOK_EVENTS } from '../../../webhooks/index.ts';
import { appRoute, download, uploaded } from './common.ts';
import { getLogo, LOGO_MAX_BYTES, logoTooLarge, removeLogo, saveLogo } from '../../../documents/logo.ts';
import { notFound, validation } from '../../../errors.ts';
import { AnyObject } from './shapes/common.ts';
import type { DeliveryView, ProviderEntry, ProviderNow, SettingsResponse } from './shapes/settings.ts';
import type { GoLiveResponse, GoLiveSwitch } from './shapes/setup.ts';

const E = defineErrors('web-settings', {
  email: { fr: "« {email} » n’est pas une adresse e-mail", en: "\"{email}\" is not an email address" },
  golive_days: { fr: "days est un nombre de jours de 1 à 366", en: "days is a number of days from 1 to 366" },
  no_smtp: { fr: "aucun serveur SMTP n’est configuré : les messages vont dans la boîte d’envoi locale", en: "no SMTP server is configured: messages go to the local outbox" },
  no_sender: { fr: "pas d’adresse d’expéditeur : renseignez d’abord l’adresse d’envoi", en: "no sender address: set the from address first" },
  stale_bank: { fr: "données bancaires anciennes : de 1 à 60 jours", en: "stale bank data: 1 to 60 days" },
});

const Text = z.string().nullish();
const Branding = z.object({
  colour: z.string().nullish(),
  signatoryName: Text,
  signatoryTitle: Text,
  footer: Text,
  email: Text,
  phone: Text,
  website: Text,
  place: Text,
  paymentLink: Text,
});

export const settingsRoutes = [
  appRoute({
    method: 'get',
    path: '/settings',
    scope: 'read',
    response: z.custom<SettingsResponse>(),
    handler: async ({ q, orgId, org, user, now }) => {
      const admin = user.role === 'admin';
      const branding = await getBranding(q, orgId);
      const [engine] = await q.query<{ stale_bank_days: number }>('SELECT stale_bank_days FROM engine_settings WHERE organisation_id = $1', [orgId]);
      const scenarios = await listScenarios(q, orgId);
      // This organisation's view of its people: the membership's role and state, not the account's.
      const users = await q.query<{ id: string; email: string; name: string | null; language: string; disabled_at: string | null; role: string }>(
        `SELECT u.id, u.email, u.name, u.language, m.disabled_at, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.organisation_id = $1 ORDER BY m.created_at, u.email`,
        [orgId],
      );
      const invitations = admin
        ? await q.query<{ id: string; email: string; role: string; expires_at: string }>(
            `SELECT left(token_hash, 16) AS id, email, role, expires_at FROM invitations
              WHERE organisation_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at`,
            [orgId, now],
          )
        : [];
      const { signaturePng: _s, logoPng, ...brandingText } = branding;
      const described = await describeSettings(q, orgId);
      const catalogue: Record<string, ProviderEntry[]> = Object.fromEntries(
        Object.entries(providerCatalogue()).map(([channel, list]) => [channel, list.map((p) => ({ key: p.key, label: p.label, local: p.local, fields: p.fields }))]),
      );
      const delivery: DeliveryView = { ...described, catalogue, providers: described.providers as Record<string, ProviderNow> };
      return {
        organisation: org,
        branding: { ...brandingText, hasLogo: logoPng !== null },
        delivery,
        staleBankDays: engine?.stale_bank_days ?? 3,
        acknowledgeAgreements: await acknowledgesAgreements(q, orgId),
        sending: await loadSendingDefaults(q, orgId),
        // The scenarios that set some of these options themselves: a change here leaves those alone.
        ownSending: scenarios
          .filter((x) => x.follows.length < SENDING_FIELDS.length)
          .map((x) => ({ key: x.key, name: x.name, window: x.follows.includes('window') ? null : x.definition.options.window, holidayCalendar: x.follows.includes('holidayCalendar') ? null : x.definition.options.holidayCalendar, workingDaysOnly: x.follows.includes('workingDaysOnly') ? null : x.definition.options.workingDaysOnly })),
        holidayCalendars: Object.entries(HOLIDAY_CALENDARS).map(([key, v]) => ({ key, name: v.name })),
        users: users.map((u) => ({ id: u.id, email: u.email, name: u.name, language: u.language, role: u.role, disabled: u.disabled_at !== null })),
        invitations: invitations.map((i) => ({ id: i.id, email: i.email, role: i.role, expiresAt: i.expires_at })),
        apiKeys: admin ? (await listApiKeys(q, orgId)).map((k) => ({ ...k, id: String(k.id) })) : [],
        webhooks: admin ? (await listSubscriptions(q, orgId)).map((w) => ({ ...w, id: String(w.id) })) : [],
        webhookEvents: WEBHOOK_EVENTS,
        rates: (await listRateOverrides(q)).map((x) => ({ ...x })),
        contractRate: await getContractRate(q, orgId),
        rateTables: RATE_TABLE_NAMES,
      };
    },
  }),
  /** The organisation's fields are checked by checkOrganisation (src/domain/organisation.ts), as in the setup wizard. */
  appRoute({
    method: 'put',
    path: '/settings/organisation',
    scope: 'admin',
    body: z.looseObject({ branding: Branding.optional() }),
    handler: async ({ q, orgId, body: b }) => {
      const { live: _live, branding: _branding, ...fields } = b;
      await updateOrganisation(q, orgId, fields);
      const br = (b.branding ?? {}) as Record<string, unknown>;
      if (Object.keys(br).length) {
        const cur = await getBranding(q, orgId);
        const [ids] = await q.query<{ logo_document_id: bigint | null; signature_document_id: bigint | null }>(
          'SELECT logo_document_id, signature_document_id FROM document_branding WHERE organisation_id = $1',
          [orgId],
        );
        const txt = (k: string, v: string | null) => (k in br ? (String(br[k] ?? '').trim() || null) : v);
        await saveBranding(q, orgId, {
          colour: typeof br.colour === 'string' ? br.colour : cur.colour,
          logoDocumentId: ids?.logo_document_id ?? null,
          signatureDocumentId: ids?.signature_document_id ?? null,
          signatoryName: txt('signatoryName', cur.signatoryName),
          signatoryTitle: txt('signatoryTitle', cur.signatoryTitle),
          footer: txt('footer', cur.footer),
          email: txt('email', cur.email),
          phone: txt('phone', cur.phone),
          website: txt('website', cur.website),
          place: txt('place', cur.place),
          ...('paymentLink' in br ? { paymentLink: txt('paymentLink', null) } : {}),
        });
      }
      return { ok: true };
    },
  }),
  /** The letterhead's logo: a PNG or JPEG checked by documents/logo.ts (the error names `logo`). */
  appRoute({
    method: 'post',
    path: '/settings/logo',
    scope: 'admin',
    handler: async ({ q, orgId, c }) => {
      // Refused before it is read when it says it is far larger (the form's few other bytes aside).
      if (Number(c.req.header('content-length') ?? 0) > LOGO_MAX_BYTES + 64 * 1024) throw logoTooLarge();
      const up = await uploaded(c);
      await saveLogo(q, orgId, up.bytes, up.filename);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'delete',
    path: '/settings/logo',
    scope: 'admin',
    handler: async ({ q, orgId }) => {
      await removeLogo(q, orgId);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'get',
    path: '/settings/logo',
    scope: 'read',
    handler: async ({ q, orgId }) => {
      const logo = await getLogo(q, orgId);
      if (!logo) throw notFound('logo', orgId);
      return download(logo.bytes, logo.contentType, logo.contentType === 'image/png' ? 'logo.png' : 'logo.jpg', true);
    },
  }),
  appRoute({
    method: 'put',
    path: '/settings/delivery',
    scope: 'admin',
    // The fields are checked by saveDeliverySettings (it names the field).
    body: AnyObject,
    handler: async ({ q, orgId, options, body }) => {
      const b = body as SettingsInput;
      // An empty secret field means "keep the one stored" (the form never receives it back).
      for (const k of SECRET_FIELDS) if (b[k] === '') delete b[k];
      // Not the operator: naming an environment variable (smtpPasswordEnv...) is refused with 403.
      await saveDeliverySettings(q, orgId, b, { policy: options.webhookPolicy });
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/settings/delivery/test',
    scope: 'admin',
    readOnly: true,
    body: z.object({ to: z.string().optional() }),
    handler: async ({ q, orgId, org, user, now, body: b }) => {
        const to = (b.to ?? user.email).trim();
      if (!/^[^\s@]+@[^\s@]+$/.test(to)) throw validation(E('email', { email: to }), { field: 'to' });
      const settings = await loadDeliverySettings(q, orgId);
      if (!settings.smtp) throw validation(E('no_smtp'), { field: 'smtpHost' });
        const from = settings.fromAddress ?? (await getBranding(q, orgId)).email;
      if (!from) throw validation(E('no_sender'), { field: 'fromAddress' });
      const password = settings.smtp.password ? readSecret(settings.smtp.password, 'email', 'smtp_password', process.env) : null;
      const outcome = await sendTestMessage({ smtp: { ...settings.smtp, password }, from, fromName: settings.fromName ?? org.legalName, to, organisation: org.legalName, now });
      return { outcome };
    },
  }),
  // Going live: what would go out over the next days, and the switch (review mode until then).
  appRoute({
    method: 'get',
    path: '/golive',
    scope: 'read',
    query: z.object({ days: z.string().optional() }),
    response: z.custom<GoLiveResponse>(),
    handler: async ({ db, orgId, today, query }) => {
      const days = Number(query.days ?? 30);
      if (!Number.isInteger(days) || days < 1 || days > 366) throw validation(E('golive_days'), { field: 'days' });
      return db.tx((q) => goLivePreview(q, orgId, today, days));
    },
  }),
  appRoute({
    method: 'post',
    path: '/golive',
    scope: 'admin',
    body: z.object({ live: z.boolean() }),
    response: z.custom<GoLiveSwitch>(),
    handler: async ({ q, orgId, today, body }) => {
      const r = await setLive(q, orgId, body.live, today);
      return { live: r.organisation.live, released: r.released, replanned: r.replanned };
    },
  }),
  appRoute({
    method: 'put',
    path: '/settings/engine',
    scope: 'admin',
    body: z.object({
      staleBankDays: z.union([z.number(), z.string()]).optional(),
      window: z.object({ start: z.string(), end: z.string() }).optional(),
      holidayCalendar: z.string().optional(),
      workingDaysOnly: z.boolean().optional(),
      acknowledgeAgreements: z.boolean().optional(),
    }),
    handler: async ({ q, orgId, today, body: b }) => {
      if (b.acknowledgeAgreements !== undefined) {
        await setAcknowledgeAgreements(q, orgId, b.acknowledgeAgreements);
      }
      if (b.staleBankDays !== undefined) {
        const n = Number(b.staleBankDays);
        if (!Number.isInteger(n) || n < 1 || n > 60) throw validation(E('stale_bank'), { field: 'staleBankDays' });
        await q.query(
          `INSERT INTO engine_settings (organisation_id, stale_bank_days) VALUES ($1, $2)
           ON CONFLICT (organisation_id) DO UPDATE SET stale_bank_days = EXCLUDED.stale_bank_days, updated_at = now()`,
          [orgId, n],
        );
      }
      if (b.window !== undefined || b.holidayCalendar !== undefined || b.workingDaysOnly !== undefined) {
        // The organisation's options: the scenarios that follow them are replanned, the others keep their own.
        await changeSendingDefaults(q, orgId, { window: b.window, holidayCalendar: b.holidayCalendar, workingDaysOnly: b.workingDaysOnly }, today);
      }
      return { ok: true };
    },
  }),
  // The official rate tables are instance-wide: only the operator changes them (CLI on the server).
  appRoute({ method: 'post', path: '/settings/rates', scope: 'read', handler: async () => { throw ratesAreTheOperators(); } }),
  appRoute({ method: 'delete', path: '/settings/rates/:table/:from', scope: 'read', handler: async () => { throw ratesAreTheOperators(); } }),
  /** The organisation's own contractual rate: its late fees only. */
  appRoute({
    method: 'put',
    path: '/settings/contract-rate',
    scope: 'admin',
    body: z.object({ ratePercent: z.union([z.string(), z.number()]).nullish(), note: z.string().nullish() }),
    handler: async ({ q, orgId, body: b }) => {
      const rate = b.ratePercent === null || b.ratePercent === undefined || String(b.ratePercent).trim() === '' ? null : String(b.ratePercent);
      return { contractRate: await setContractRate(q, orgId, rate === null ? null : { ratePercent: rate, note: b.note ?? null }) };
    },
  }),
];
