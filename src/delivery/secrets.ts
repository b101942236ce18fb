/**
 * Where a channel's secret comes from, and the one place it is opened: a value the organisation
 * entered (stored sealed with AES-256-GCM under the instance key, src/secrets.ts), or an
 * environment variable of the server named by the operator (never one of the instance's own).
 * Opening fails with a ChannelConfigError that names the setting, never the value, so a missing or
 * unreadable secret stops its own channel and nothing else.
 */
import { decryptSecret, encryptSecret } from '../secrets.ts';
import { ChannelConfigError } from './channels/types.ts';

export type SecretSource = { env: string } | { stored: string; context: string };

/**
 * Variables an operator's setting may never name, even by mistake: the instance's own secrets
 * (database credentials, the key sealing every tenant's secrets).
 */
export const RESERVED_ENV = /^(RELANCE_SECRET_KEY|[A-Z_]*DATABASE_URL|PG[A-Z]*)$/;

/**
 * Seals a secret before it is stored. `context` names where it is stored ("<organisation>:sms.apiKey"):
 * a sealed value copied elsewhere does not open. `what` names it in an error, never the value.
 */
export function sealSecret(plain: string, context: string, what: string): string {
  return encryptSecret(plain, context, what);
}

/** The secret's value, for the transport that needs it. */
export function readSecret(src: SecretSource, channel: string, field: string, env: NodeJS.ProcessEnv): string {
  if ('env' in src) {
    if (RESERVED_ENV.test(src.env)) throw new ChannelConfigError(channel, `environment variable ${src.env} (named for ${field}) belongs to the instance, not to a channel: it is never sent`);
    const v = env[src.env];
    if (v === undefined || v === '') throw new ChannelConfigError(channel, `environment variable ${src.env} (named for ${field}) is not set`);
    return v;
  }
  try {
    return decryptSecret(src.stored, src.context, field);
  } catch (e) {
    throw new ChannelConfigError(channel, (e as Error).message);
  }
}
