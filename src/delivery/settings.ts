/**
 * Per-organisation channel settings: SMTP server and sender, SMS and registered-mail providers,
 * call assignee, rate limits. A secret a tenant enters is stored sealed (AES-256-GCM under the
 * instance key, src/secrets.ts) and never shown again: `describeSettings` says only whether it is
 * set. Naming an environment variable that holds a secret is the operator's option on the server
 * (`relance outbox settings --smtp-password-env VAR`): no web or API caller can, since the server
 * would then send that variable's value wherever the tenant pointed it.
 */
import type { Queryable } from '../db/driver.ts';
import { DEFAULT_RATE_LIMITS, isPlausibleEmail } from '../domain/delivery.ts';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { checkUrlTarget, type NetworkPolicy, STRICT_POLICY } from '../net/guard.ts';
import { decryptSecret, encryptSecret } from '../secrets.ts';

const E = defineErrors('delivery-settings', {
  not_an_email: { fr: '« {value} » n’est pas une adresse e-mail', en: '"{value}" is not an email address' },
  unknown_channel: { fr: 'canal « {channel} » inconnu dans les limites d’envoi', en: 'unknown channel "{channel}" in rate limits' },
  rate_limit: { fr: 'une limite d’envoi est un nombre entier de messages par minute (de 0 à 100000)', en: 'a rate limit is a whole number of messages per minute (0 to 100000)' },
  not_a_url: { fr: '« {value} » n’est pas une URL http(s)', en: '"{value}" is not an http(s) URL' },
  env_unset: { fr: 'la variable d’environnement {name} (indiquée par {field}) n’est pas définie', en: 'environment variable {name} (named by {field}) is not set' },
  env_operator_only: {
    fr: 'seul l’exploitant du serveur peut indiquer une variable d’environnement ({field}), avec `relance outbox settings` sur le serveur ; saisissez plutôt le secret lui-même, il est enregistré chiffré',
    en: 'only the server’s operator may name an environment variable ({field}), with `relance outbox settings` on the server; enter the secret itself instead, it is stored encrypted',
  },
  env_reserved: {
    fr: 'la variable d’environnement {name} (indiquée par {field}) est une variable de l’instance, pas un secret de canal : elle n’est jamais envoyée',
    en: 'environment variable {name} (named by {field}) belongs to the instance, not to a channel: it is never sent',
  },
});

/** The settings naming an environment variable: operator-only (CLI on the server). */
export const ENV_FIELDS = ['smtpPasswordEnv', 'smsTokenEnv', 'registeredTokenEnv'] as const;
/** The settings holding a secret: sealed when stored, never returned. */
export const SECRET_FIELDS = ['smtpPassword', 'smsToken', 'registeredToken'] as const;

/**
 * Variables an operator's setting may never name, even by mistake: the instance's own secrets
 * (database credentials, the key sealing every tenant's secrets).
 */
const RESERVED_ENV = /^(RELANCE_SECRET_KEY|[A-Z_]*DATABASE_URL|PG[A-Z]*)$/;

export interface DeliverySettings {
  smtp: {
    host: string;
    port: number;
    security: 'none' | 'starttls' | 'tls';
    user: string | null;
    password: string | null;
    poolSize: number;
  } | null;
  fromAddress: string | null;
  fromName: string | null;
  replyTo: string | null;
  sms: { provider: 'local' } | { provider: 'http'; url: string; token: string | null; sender: string | null };
  registered: { provider: 'local' } | { provider: 'http'; url: string; token: string | null };
  callAssignee: string;
  maxAttempts: number;
  rateLimits: Record<string, number>;
  updatedAt: string | null;
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
  smsProvider?: 'local' | 'http';
  smsUrl?: string | null;
  smsToken?: string | null;
  smsTokenEnv?: string | null;
  smsSender?: string | null;
  registeredProvider?: 'local' | 'http';
  registeredUrl?: string | null;
  registeredToken?: string | null;
  registeredTokenEnv?: string | null;
  callAssignee?: string;
  maxAttempts?: number;
  rateLimits?: Record<string, number>;
}

const COLUMNS: Record<keyof SettingsInput, string> = {
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
  smsProvider: 'sms_provider',
  smsUrl: 'sms_url',
  smsToken: 'sms_token',
  smsTokenEnv: 'sms_token_env',
  smsSender: 'sms_sender',
  registeredProvider: 'registered_provider',
  registeredUrl: 'registered_url',
  registeredToken: 'registered_token',
  registeredTokenEnv: 'registered_token_env',
  callAssignee: 'call_assignee',
  maxAttempts: 'max_attempts',
  rateLimits: 'rate_limits',
};

/**
 * Only the keys given are changed; null clears a value. `operator: true` (the CLI on the server)
 * may name environment variables; any other caller that tries gets 'forbidden'.
 */
export async function saveDeliverySettings(q: Queryable, orgId: string, input: SettingsInput, opts: { operator?: boolean; policy?: NetworkPolicy } = {}): Promise<void> {
  for (const f of ENV_FIELDS) {
    const v = input[f];
    if (v === undefined) continue;
    if (!opts.operator) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('env_operator_only', { field: f }), { where: { field: f } });
    if (v !== null && RESERVED_ENV.test(v)) throw validation(E('env_reserved', { name: v, field: f }), { field: f });
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
  for (const f of ['smsUrl', 'registeredUrl'] as const) {
    const v = input[f];
    if (v == null) continue;
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw validation(E('not_a_url', { value: v }), { field: f });
    }
    if (!/^https?:$/.test(url.protocol)) throw validation(E('not_a_url', { value: v }), { field: f });
    // A provider URL a tenant types must not point the server at its own network (as webhooks).
    if (!opts.operator) await checkUrlTarget(url, opts.policy ?? STRICT_POLICY, f);
  }
  // A secret given replaces the variable named for it, and the other way round: one source each.
  input = { ...input };
  SECRET_FIELDS.forEach((f, i) => {
    const envField = ENV_FIELDS[i]!;
    if (input[f] !== undefined && input[envField] === undefined) input[envField] = null;
    else if (input[envField] != null && input[f] === undefined) input[f] = null;
  });
  const keys = (Object.keys(input) as (keyof SettingsInput)[]).filter((k) => input[k] !== undefined && k in COLUMNS);
  await q.query('INSERT INTO delivery_settings (organisation_id) VALUES ($1) ON CONFLICT DO NOTHING', [orgId]);
  if (keys.length === 0) return;
  const sets = keys.map((k, i) => (k === 'rateLimits' ? `rate_limits = rate_limits || $${i + 2}::jsonb` : `${COLUMNS[k]} = $${i + 2}`));
  const value = (k: keyof SettingsInput) => {
    const v = input[k];
    if (k === 'rateLimits') return JSON.stringify(v);
    if ((SECRET_FIELDS as readonly string[]).includes(k) && typeof v === 'string' && v !== '') return encryptSecret(v, `${orgId}:${COLUMNS[k]}`, k);
    return v;
  };
  await q.query(`UPDATE delivery_settings SET ${sets.join(', ')}, updated_at = now() WHERE organisation_id = $1`, [orgId, ...keys.map(value)]);
}

function secret(orgId: string, value: unknown, envName: unknown, env: NodeJS.ProcessEnv, column: string, envColumn: string): string | null {
  if (typeof envName === 'string' && envName) {
    if (RESERVED_ENV.test(envName)) throw new RelanceError(ERROR_CODES.CONFIG, E('env_reserved', { name: envName, field: envColumn }), { where: { field: envColumn } });
    const v = env[envName];
    if (v === undefined) throw new RelanceError(ERROR_CODES.CONFIG, E('env_unset', { name: envName, field: envColumn }), { where: { field: envColumn } });
    return v;
  }
  return typeof value === 'string' && value !== '' ? decryptSecret(value, `${orgId}:${column}`, column) : null;
}

export async function loadDeliverySettings(q: Queryable, orgId: string, env: NodeJS.ProcessEnv = process.env): Promise<DeliverySettings> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM delivery_settings WHERE organisation_id = $1', [orgId]);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  if (!r) {
    return {
      smtp: null,
      fromAddress: null,
      fromName: null,
      replyTo: null,
      sms: { provider: 'local' },
      registered: { provider: 'local' },
      callAssignee: 'team:recouvrement',
      maxAttempts: 8,
      rateLimits: { ...DEFAULT_RATE_LIMITS },
      updatedAt: null,
    };
  }
  const rates = (typeof r.rate_limits === 'string' ? JSON.parse(r.rate_limits) : r.rate_limits) as Record<string, number>;
  return {
    smtp: str(r.smtp_host)
      ? {
          host: String(r.smtp_host),
          port: r.smtp_port ? Number(r.smtp_port) : r.smtp_security === 'tls' ? 465 : 587,
          security: r.smtp_security as 'none' | 'starttls' | 'tls',
          user: str(r.smtp_user),
          password: secret(orgId, r.smtp_password, r.smtp_password_env, env, 'smtp_password', 'smtp_password_env'),
          poolSize: Number(r.smtp_pool_size),
        }
      : null,
    fromAddress: str(r.from_address),
    fromName: str(r.from_name),
    replyTo: str(r.reply_to),
    sms:
      r.sms_provider === 'http' && str(r.sms_url)
        ? { provider: 'http', url: String(r.sms_url), token: secret(orgId, r.sms_token, r.sms_token_env, env, 'sms_token', 'sms_token_env'), sender: str(r.sms_sender) }
        : { provider: 'local' },
    registered:
      r.registered_provider === 'http' && str(r.registered_url)
        ? { provider: 'http', url: String(r.registered_url), token: secret(orgId, r.registered_token, r.registered_token_env, env, 'registered_token', 'registered_token_env') }
        : { provider: 'local' },
    callAssignee: String(r.call_assignee),
    maxAttempts: Number(r.max_attempts),
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...rates },
    updatedAt: String(r.updated_at),
  };
}

/**
 * The settings as they may be shown: of each secret only whether it is set (true/false). The
 * operator (CLI on the server) also sees the names of the environment variables it set.
 */
export async function describeSettings(q: Queryable, orgId: string, opts: { operator?: boolean } = {}): Promise<Record<string, unknown>> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM delivery_settings WHERE organisation_id = $1', [orgId]);
  if (!r) return { configured: false, email: 'local .eml outbox (no SMTP server configured)', sms: 'local', registered: 'local', rateLimits: DEFAULT_RATE_LIMITS };
  const isSet = (v: unknown, env: unknown) => Boolean(env || v);
  const envNames = opts.operator ? { smtpPasswordEnv: r.smtp_password_env ?? null, smsTokenEnv: r.sms_token_env ?? null, registeredTokenEnv: r.registered_token_env ?? null } : {};
  return {
    smtpHost: r.smtp_host ?? null,
    smtpPort: r.smtp_port ?? null,
    smtpSecurity: r.smtp_security,
    smtpUser: r.smtp_user ?? null,
    smtpPasswordSet: isSet(r.smtp_password, r.smtp_password_env),
    smtpPoolSize: r.smtp_pool_size,
    fromAddress: r.from_address ?? null,
    fromName: r.from_name ?? null,
    replyTo: r.reply_to ?? null,
    smsProvider: r.sms_provider,
    smsUrl: r.sms_url ?? null,
    smsTokenSet: isSet(r.sms_token, r.sms_token_env),
    smsSender: r.sms_sender ?? null,
    registeredProvider: r.registered_provider,
    registeredUrl: r.registered_url ?? null,
    registeredTokenSet: isSet(r.registered_token, r.registered_token_env),
    callAssignee: r.call_assignee,
    maxAttempts: r.max_attempts,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...((typeof r.rate_limits === 'string' ? JSON.parse(r.rate_limits) : r.rate_limits) as object) },
    ...envNames,
  };
}
