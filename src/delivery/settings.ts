/**
 * Per-organisation channel settings: SMTP server and sender, the provider chosen for each channel
 * with its own options (each provider declares them: src/delivery/channels, `fields`), call
 * assignee, rate limits. A secret a tenant enters is stored sealed (AES-256-GCM under the instance
 * key, src/secrets.ts) and never shown again: `describeSettings` says only whether it is set.
 * Naming an environment variable that holds a secret is the operator's option on the server
 * (`relance outbox settings --smtp-password-env VAR`): no web or API caller can, since the server
 * would then send that variable's value wherever the tenant pointed it. Secrets are opened only
 * when a channel's transport opens (src/delivery/secrets.ts), so a missing or unreadable one fails
 * its own channel and nothing else.
 */
import type { Queryable } from '../db/driver.ts';
import { type ChannelKey, isChannelKey } from '../domain/channels.ts';
import { DEFAULT_RATE_LIMITS, isPlausibleEmail } from '../domain/delivery.ts';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { checkUrlTarget, type NetworkPolicy, STRICT_POLICY } from '../net/guard.ts';
import { providerCatalogue, providersOf } from './channels/registry.ts';
import type { DeliverySettings, ProviderChoice, ProviderField } from './channels/types.ts';
import { RESERVED_ENV, type SecretSource, sealSecret } from './secrets.ts';

export type { DeliverySettings } from './channels/types.ts';

const E = defineErrors('delivery-settings', {
  not_an_email: { fr: '« {value} » n’est pas une adresse e-mail', en: '"{value}" is not an email address' },
  unknown_channel: { fr: 'canal « {channel} » inconnu dans les limites d’envoi', en: 'unknown channel "{channel}" in rate limits' },
  rate_limit: { fr: 'une limite d’envoi est un nombre entier de messages par minute (de 0 à 100000)', en: 'a rate limit is a whole number of messages per minute (0 to 100000)' },
  not_a_url: { fr: '« {value} » n’est pas une URL http(s)', en: '"{value}" is not an http(s) URL' },
  no_providers: { fr: 'le canal « {channel} » n’a pas de prestataire à choisir', en: 'channel "{channel}" has no provider to choose' },
  unknown_provider: { fr: 'prestataire « {provider} » inconnu pour le canal {channel} ; possibles : {known}', en: 'unknown provider "{provider}" for channel {channel}; known: {known}' },
  unknown_option: { fr: 'le prestataire {provider} n’a pas de réglage « {option} » ; réglages : {known}', en: 'provider {provider} has no setting "{option}"; settings: {known}' },
  required: { fr: 'le prestataire {provider} demande « {option} »', en: 'provider {provider} needs "{option}"' },
  env_operator_only: {
    fr: 'seul l’exploitant du serveur peut indiquer une variable d’environnement ({field}), avec `relance outbox settings` sur le serveur ; saisissez plutôt le secret lui-même, il est enregistré chiffré',
    en: 'only the server’s operator may name an environment variable ({field}), with `relance outbox settings` on the server; enter the secret itself instead, it is stored encrypted',
  },
  env_name: { fr: '« {name} » n’est pas un nom de variable d’environnement', en: '"{name}" is not an environment variable name' },
  env_reserved: {
    fr: 'la variable d’environnement {name} (indiquée par {field}) est une variable de l’instance, pas un secret de canal : elle n’est jamais envoyée',
    en: 'environment variable {name} (named by {field}) belongs to the instance, not to a channel: it is never sent',
  },
});

/** The settings naming an environment variable: operator-only (CLI on the server). */
export const ENV_FIELDS = ['smtpPasswordEnv', 'smsTokenEnv', 'registeredTokenEnv'] as const;
/** The settings holding a secret: sealed when stored, never returned. */
export const SECRET_FIELDS = ['smtpPassword', 'smsToken', 'registeredToken'] as const;

/** An environment variable name an operator may give for a secret. */
function checkEnvName(v: string, field: string) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw validation(E('env_name', { name: v }), { field });
  if (RESERVED_ENV.test(v)) throw validation(E('env_reserved', { name: v, field }), { field });
}

/** A channel's provider as saved: null clears an option or a secret. */
export interface ProviderInput {
  provider?: string;
  options?: Record<string, string | null>;
  secrets?: Record<string, string | null>;
  /** Names of environment variables holding secrets (operator only). */
  secretEnv?: Record<string, string | null>;
  /** The field an error names for a setting given by a shorthand (smsUrl...), by setting key. */
  aliases?: Record<string, string>;
}

export interface SettingsInput {
  smtpHost?: string | null;
  smtpPort?: number | null;
  smtpSecurity?: 'none' | 'starttls' | 'tls';
  smtpUser?: string | null;
  smtpPassword?: string | null;
  smtpPasswordEnv?: string | null;
  smtpPoolSize?: number;
  fromAddress?: string | null;
  fromName?: string | null;
  replyTo?: string | null;
  /** Shorthands for providers.sms: provider, url option, its first secret, sender option. */
  smsProvider?: string;
  smsUrl?: string | null;
  smsToken?: string | null;
  smsTokenEnv?: string | null;
  smsSender?: string | null;
  /** Shorthands for providers.registered_letter. */
  registeredProvider?: string;
  registeredUrl?: string | null;
  registeredToken?: string | null;
  registeredTokenEnv?: string | null;
  providers?: Partial<Record<string, ProviderInput>>;
  callAssignee?: string;
  maxAttempts?: number;
  rateLimits?: Record<string, number>;
}

const COLUMNS = {
  smtpHost: 'smtp_host',
  smtpPort: 'smtp_port',
  smtpSecurity: 'smtp_security',
  smtpUser: 'smtp_user',
  smtpPassword: 'smtp_password',
  smtpPasswordEnv: 'smtp_password_env',
  smtpPoolSize: 'smtp_pool_size',
  fromAddress: 'from_address',
  fromName: 'from_name',
  replyTo: 'reply_to',
  callAssignee: 'call_assignee',
  maxAttempts: 'max_attempts',
  rateLimits: 'rate_limits',
} as const satisfies Partial<Record<keyof SettingsInput, string>>;

/** How providers are stored (delivery_settings.providers, per channel). */
interface StoredProvider {
  provider: string;
  options?: Record<string, string>;
  /** Sealed values (src/secrets.ts), opened with `secretContext[key]` when set, else "<organisation>:<channel>.<key>". */
  secrets?: Record<string, string>;
  secretEnv?: Record<string, string>;
  /** The context a secret carried over from the former columns was sealed with. */
  secretContext?: Record<string, string>;
}

/** The context a provider's secret is sealed with. */
export const providerSecretContext = (orgId: string, channel: string, key: string) => `${orgId}:${channel}.${key}`;

const parseJson = <T>(v: unknown, empty: T): T => (v == null ? empty : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** The shorthand fields of the two provider channels, as ProviderInputs. */
function shorthands(input: SettingsInput, stored: Record<string, StoredProvider>): Record<string, ProviderInput> {
  const out: Record<string, ProviderInput> = {};
  const map = [
    ['sms', input.smsProvider, input.smsUrl, input.smsToken, input.smsTokenEnv, input.smsSender],
    ['registered_letter', input.registeredProvider, input.registeredUrl, input.registeredToken, input.registeredTokenEnv, undefined],
  ] as const;
  for (const [channel, provider, url, token, tokenEnv, sender] of map) {
    if ([provider, url, token, tokenEnv, sender].every((v) => v === undefined)) continue;
    const p: ProviderInput = { provider: provider ?? stored[channel]?.provider ?? 'local', options: {}, secrets: {}, secretEnv: {}, aliases: {} };
    const def = providersOf(channel).find((d) => d.key === p.provider);
    const secret = def?.fields.find((f) => f.secret)?.key ?? 'token';
    const prefix = channel === 'sms' ? 'sms' : 'registered';
    if (url !== undefined) {
      p.options!.url = url;
      p.aliases!.url = `${prefix}Url`;
    }
    if (sender !== undefined) {
      p.options!.sender = sender;
      p.aliases!.sender = `${prefix}Sender`;
    }
    if (token !== undefined) {
      p.secrets![secret] = token;
      p.aliases![secret] = `${prefix}Token`;
    }
    if (tokenEnv !== undefined) {
      p.secretEnv![secret] = tokenEnv;
      p.aliases![`env:${secret}`] = `${prefix}TokenEnv`;
    }
    out[channel] = p;
  }
  return out;
}

function checkField(f: ProviderField, v: string, where: string) {
  if (f.kind === 'url' && !/^https?:\/\/[^\s]+$/.test(v)) throw validation(E('not_a_url', { value: v }), { field: where });
  if (f.kind === 'email' && !isPlausibleEmail(v)) throw validation(E('not_an_email', { value: v }), { field: where });
}

/** One channel's provider after the change, checked against the provider's declared settings. */
function applyProvider(orgId: string, channel: string, was: StoredProvider | undefined, p: ProviderInput, operator: boolean, urls: Array<{ url: string; where: string }>): StoredProvider {
  const defs = providersOf(channel);
  if (defs.length === 0) throw validation(E('no_providers', { channel }), { field: `providers.${channel}` });
  const key = p.provider ?? was?.provider ?? defs[0]!.key;
  const def = defs.find((d) => d.key === key);
  if (!def) throw validation(E('unknown_provider', { provider: key, channel, known: defs.map((d) => d.key).join(', ') }), { field: `providers.${channel}.provider` });
  // Another provider starts from a clean slate: the old one's options mean nothing to it.
  const same = was?.provider === key;
  const next: Required<StoredProvider> = {
    provider: key,
    options: { ...(same ? was?.options : {}) },
    secrets: { ...(same ? was?.secrets : {}) },
    secretEnv: { ...(same ? was?.secretEnv : {}) },
    secretContext: { ...(same ? was?.secretContext : {}) },
  };
  const known = def.fields.map((f) => f.key).join(', ') || '—';
  const fieldOf = (name: string, secret: boolean, where: string) => {
    const f = def.fields.find((x) => x.key === name && Boolean(x.secret) === secret);
    if (!f) throw validation(E('unknown_option', { provider: key, option: name, known }), { field: where });
    return f;
  };
  for (const [k, v] of Object.entries(p.options ?? {})) {
    const where = p.aliases?.[k] ?? `providers.${channel}.options.${k}`;
    const f = fieldOf(k, false, where);
    if (v === null || v === '') delete next.options[k];
    else {
      checkField(f, v, where);
      next.options[k] = v;
      if (f.kind === 'url') urls.push({ url: v, where });
    }
  }
  for (const [k, v] of Object.entries(p.secrets ?? {})) {
    fieldOf(k, true, p.aliases?.[k] ?? `providers.${channel}.secrets.${k}`);
    delete next.secretContext[k];
    if (v === null || v === '') delete next.secrets[k];
    else {
      next.secrets[k] = sealSecret(v, providerSecretContext(orgId, channel, k), `${channel} ${k}`);
      delete next.secretEnv[k];
    }
  }
  for (const [k, v] of Object.entries(p.secretEnv ?? {})) {
    const where = p.aliases?.[`env:${k}`] ?? `providers.${channel}.secretEnv.${k}`;
    if (!operator) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('env_operator_only', { field: where }), { where: { field: where } });
    fieldOf(k, true, where);
    if (v === null || v === '') delete next.secretEnv[k];
    else {
      checkEnvName(v, where);
      next.secretEnv[k] = v;
      delete next.secrets[k];
      delete next.secretContext[k];
    }
  }
  for (const f of def.fields) {
    if (!f.required || f.default !== undefined) continue;
    const set = f.secret ? next.secrets[f.key] !== undefined || next.secretEnv[f.key] !== undefined : next.options[f.key] !== undefined;
    if (!set) throw validation(E('required', { provider: key, option: f.key }), { field: `providers.${channel}.${f.secret ? 'secrets' : 'options'}.${f.key}` });
  }
  return next;
}

/**
 * Only the keys given are changed; null clears a value. `operator: true` (the CLI on the server)
 * may name environment variables; any other caller that tries is refused.
 */
export async function saveDeliverySettings(q: Queryable, orgId: string, input: SettingsInput, opts: { operator?: boolean; policy?: NetworkPolicy } = {}): Promise<void> {
  const operator = opts.operator ?? false;
  for (const f of ENV_FIELDS) {
    if (input[f] !== undefined && !operator) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('env_operator_only', { field: f }), { where: { field: f } });
  }
  for (const f of ['fromAddress', 'replyTo'] as const) {
    const v = input[f];
    if (v != null && !isPlausibleEmail(v)) throw validation(E('not_an_email', { value: v }), { field: f });
  }
  if (input.rateLimits) {
    for (const [channel, n] of Object.entries(input.rateLimits)) {
      if (!(channel in DEFAULT_RATE_LIMITS)) throw validation(E('unknown_channel', { channel }), { field: 'rateLimits' });
      if (!Number.isInteger(n) || n < 0 || n > 100_000) throw validation(E('rate_limit'), { field: `rateLimits.${channel}` });
    }
  }
  await q.query('INSERT INTO delivery_settings (organisation_id) VALUES ($1) ON CONFLICT DO NOTHING', [orgId]);
  const [row] = await q.query<{ providers: unknown }>('SELECT providers FROM delivery_settings WHERE organisation_id = $1 FOR UPDATE', [orgId]);
  const stored = parseJson<Record<string, StoredProvider>>(row?.providers, {});
  const changes: Record<string, ProviderInput> = { ...shorthands(input, stored) };
  for (const [channel, given] of Object.entries(input.providers ?? {})) {
    if (!given) continue;
    const { aliases: _aliases, ...p } = given;
    if (!isChannelKey(channel)) throw validation(E('no_providers', { channel }), { field: `providers.${channel}` });
    const s = changes[channel];
    changes[channel] = s
      ? { provider: p.provider ?? s.provider, options: { ...s.options, ...p.options }, secrets: { ...s.secrets, ...p.secrets }, secretEnv: { ...s.secretEnv, ...p.secretEnv }, aliases: s.aliases }
      : p;
  }
  const providers = { ...stored };
  const urls: Array<{ url: string; where: string }> = [];
  for (const [channel, p] of Object.entries(changes)) providers[channel] = applyProvider(orgId, channel, stored[channel], p, operator, urls);
  // A provider address a tenant types must not point the server at its own network (as webhooks).
  if (!operator) for (const u of urls) await checkUrlTarget(new URL(u.url), opts.policy ?? STRICT_POLICY, u.where);

  const sets: string[] = [];
  const params: unknown[] = [orgId];
  const put = (col: string, v: unknown, cast = '') => {
    params.push(v);
    sets.push(`${col} = $${params.length}${cast}`);
  };
  for (const [k, col] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
    const v = input[k];
    if (v === undefined) continue;
    if (k === 'rateLimits') {
      params.push(JSON.stringify(v));
      sets.push(`rate_limits = rate_limits || $${params.length}::jsonb`);
    } else if (k === 'smtpPassword') {
      put(col, typeof v === 'string' && v !== '' ? sealSecret(v, `${orgId}:smtp_password`, 'smtpPassword') : null);
      if (input.smtpPasswordEnv === undefined) put('smtp_password_env', null);
    } else if (k === 'smtpPasswordEnv') {
      if (typeof v === 'string') checkEnvName(v, 'smtpPasswordEnv');
      put(col, v);
      if (v !== null && input.smtpPassword === undefined) put('smtp_password', null);
    } else put(col, v);
  }
  if (Object.keys(changes).length) put('providers', JSON.stringify(providers), '::jsonb');
  if (sets.length === 0) return;
  await q.query(`UPDATE delivery_settings SET ${sets.join(', ')}, updated_at = now() WHERE organisation_id = $1`, params);
}

function secretSource(stored: unknown, envName: unknown, context: string): SecretSource | null {
  if (typeof envName === 'string' && envName) return { env: envName };
  return typeof stored === 'string' && stored !== '' ? { stored, context } : null;
}

const DEFAULTS: Omit<DeliverySettings, 'rateLimits'> = {
  smtp: null,
  fromAddress: null,
  fromName: null,
  replyTo: null,
  providers: {},
  callAssignee: 'team:recouvrement',
  maxAttempts: 8,
  updatedAt: null,
};

/** The settings as the worker uses them; secrets are not read here (see readSecret). */
export async function loadDeliverySettings(q: Queryable, orgId: string): Promise<DeliverySettings> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM delivery_settings WHERE organisation_id = $1', [orgId]);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  if (!r) return { ...DEFAULTS, providers: {}, rateLimits: { ...DEFAULT_RATE_LIMITS } };
  const rates = parseJson<Record<string, number>>(r.rate_limits, {});
  const providers: DeliverySettings['providers'] = {};
  for (const [channel, p] of Object.entries(parseJson<Record<string, StoredProvider>>(r.providers, {}))) {
    if (!isChannelKey(channel)) continue;
    const secrets: Record<string, SecretSource> = {};
    for (const [k, v] of Object.entries(p.secrets ?? {})) secrets[k] = { stored: v, context: p.secretContext?.[k] ?? providerSecretContext(orgId, channel, k) };
    for (const [k, v] of Object.entries(p.secretEnv ?? {})) secrets[k] = { env: v };
    providers[channel as ChannelKey] = { provider: p.provider, options: { ...p.options }, secrets } satisfies ProviderChoice;
  }
  return {
    smtp: str(r.smtp_host)
      ? {
          host: String(r.smtp_host),
          port: r.smtp_port ? Number(r.smtp_port) : r.smtp_security === 'tls' ? 465 : 587,
          security: r.smtp_security as 'none' | 'starttls' | 'tls',
          user: str(r.smtp_user),
          password: secretSource(r.smtp_password, r.smtp_password_env, `${orgId}:smtp_password`),
          poolSize: Number(r.smtp_pool_size),
        }
      : null,
    fromAddress: str(r.from_address),
    fromName: str(r.from_name),
    replyTo: str(r.reply_to),
    providers,
    callAssignee: String(r.call_assignee),
    maxAttempts: Number(r.max_attempts),
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...rates },
    updatedAt: String(r.updated_at),
  };
}

/**
 * The settings as they may be shown: of each secret only whether it is set. The operator (CLI on
 * the server) also sees the names of the environment variables it set. `catalogue` lists every
 * channel's providers with their settings, for a form.
 */
export async function describeSettings(q: Queryable, orgId: string, opts: { operator?: boolean } = {}): Promise<Record<string, unknown>> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM delivery_settings WHERE organisation_id = $1', [orgId]);
  const stored = parseJson<Record<string, StoredProvider>>(r?.providers, {});
  const providers: Record<string, unknown> = {};
  for (const channel of Object.keys(providerCatalogue())) {
    const p = stored[channel];
    const def = providersOf(channel).find((d) => d.key === (p?.provider ?? '')) ?? providersOf(channel)[0]!;
    providers[channel] = {
      provider: def.key,
      local: def.local,
      options: { ...p?.options },
      secretsSet: Object.fromEntries(def.fields.filter((f) => f.secret).map((f) => [f.key, Boolean(p?.secrets?.[f.key] ?? p?.secretEnv?.[f.key])])),
      ...(opts.operator ? { secretEnv: { ...p?.secretEnv } } : {}),
    };
  }
  const sms = providers.sms as { provider: string; options: Record<string, string> } | undefined;
  const reg = providers.registered_letter as { provider: string; options: Record<string, string> } | undefined;
  const base = {
    providers,
    catalogue: providerCatalogue(),
    // The shorthands, as the settings form and `relance outbox settings` show them.
    smsProvider: sms?.provider ?? 'local',
    smsUrl: sms?.options.url ?? null,
    smsSender: sms?.options.sender ?? null,
    registeredProvider: reg?.provider ?? 'local',
    registeredUrl: reg?.options.url ?? null,
    smsTokenSet: Object.values((providers.sms as { secretsSet?: Record<string, boolean> } | undefined)?.secretsSet ?? {}).some(Boolean),
    registeredTokenSet: Object.values((providers.registered_letter as { secretsSet?: Record<string, boolean> } | undefined)?.secretsSet ?? {}).some(Boolean),
  };
  if (!r) return { configured: false, email: 'local .eml outbox (no SMTP server configured)', ...base, rateLimits: DEFAULT_RATE_LIMITS };
  return {
    smtpHost: r.smtp_host ?? null,
    smtpPort: r.smtp_port ?? null,
    smtpSecurity: r.smtp_security,
    smtpUser: r.smtp_user ?? null,
    smtpPasswordSet: Boolean(r.smtp_password || r.smtp_password_env),
    ...(opts.operator ? { smtpPasswordEnv: r.smtp_password_env ?? null } : {}),
    smtpPoolSize: r.smtp_pool_size,
    fromAddress: r.from_address ?? null,
    fromName: r.from_name ?? null,
    replyTo: r.reply_to ?? null,
    ...base,
    callAssignee: r.call_assignee,
    maxAttempts: r.max_attempts,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...parseJson<object>(r.rate_limits, {}) },
  };
}

/**
 * Provider secrets stored in clear (carried over from before encryption) sealed with their
 * context: part of the start-up sealing of src/db/open.ts. Returns how many were sealed.
 */
export async function sealProviderSecrets(q: Queryable, seal: (plain: string, context: string) => string, isSealed: (v: string) => boolean): Promise<number> {
  const rows = await q.query<{ organisation_id: string; providers: unknown }>(`SELECT organisation_id, providers FROM delivery_settings WHERE providers <> '{}'::jsonb FOR UPDATE`);
  let n = 0;
  for (const r of rows) {
    const providers = parseJson<Record<string, StoredProvider>>(r.providers, {});
    let changed = false;
    for (const [channel, p] of Object.entries(providers)) {
      for (const [k, v] of Object.entries(p.secrets ?? {})) {
        if (!v || isSealed(v)) continue;
        p.secrets![k] = seal(v, p.secretContext?.[k] ?? providerSecretContext(r.organisation_id, channel, k));
        changed = true;
        n++;
      }
    }
    if (changed) await q.query('UPDATE delivery_settings SET providers = $2::jsonb WHERE organisation_id = $1', [r.organisation_id, JSON.stringify(providers)]);
  }
  return n;
}
