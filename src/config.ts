/**
 * Configuration from the environment, read once at the edge and passed down. Nothing below the
 * CLI and HTTP layers reads process.env.
 */
import { resolve } from 'node:path';
import { ERROR_CODES, RelanceError } from './errors.ts';
import { defineErrors } from './i18n/index.ts';

const E = defineErrors('config', {
  port: { fr: "PORT doit être un numéro de port, reçu « {value} »", en: "PORT must be a port number, got \"{value}\"" },
  size: { fr: "{name} est une taille en octets (1048576, 512k, 100M, 1G), reçu « {value} »", en: "{name} is a size in bytes (1048576, 512k, 100M, 1G), got \"{value}\"" },
});

/** Defaults of the request body limits (src/http/limits.ts). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

/** "1048576", "512k", "100M", "1G" (binary multiples), "100MiB" → bytes. */
export function parseSize(value: string, name: string): number {
  const m = /^\s*(\d+)\s*([kmg])?(?:i?b)?\s*$/i.exec(value);
  const n = m ? Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] ?? ' ').toLowerCase()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new RelanceError(ERROR_CODES.CONFIG, E('size', { name, value }), { where: { field: name } });
  return n;
}

export interface Config {
  /** PostgreSQL connection string; absent means the embedded database. */
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  /** RELANCE_SECRET_KEY: the instance key sealing stored secrets (src/secrets.ts). */
  secretKey: string | undefined;
  /** RELANCE_TRUST_PROXY=1: a reverse proxy sets X-Forwarded-For (client address for throttling). */
  trustProxy: boolean;
  /** RELANCE_MAX_BODY_BYTES: largest JSON request body (default 1 MiB). */
  maxBodyBytes: number;
  /** RELANCE_MAX_UPLOAD_BYTES: largest file upload (imports, statements, inbound mail; default 100 MiB). */
  maxUploadBytes: number;
  /** RELANCE_WEBHOOK_ALLOW_NETWORKS: networks webhooks may reach although private (src/net/guard.ts). */
  webhookAllowNetworks: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RelanceError(ERROR_CODES.CONFIG, E('port', { value: String(env.PORT) }), { where: { field: 'PORT' } });
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  return {
    databaseUrl,
    dataDir: resolve(env.RELANCE_DATA_DIR || './data'),
    port,
    // The embedded database serves one machine: only its own browser unless HOST says otherwise.
    host: env.HOST || (databaseUrl ? '0.0.0.0' : '127.0.0.1'),
    secretKey: env.RELANCE_SECRET_KEY || undefined,
    trustProxy: env.RELANCE_TRUST_PROXY === '1' || env.RELANCE_TRUST_PROXY === 'true',
    maxBodyBytes: env.RELANCE_MAX_BODY_BYTES ? parseSize(env.RELANCE_MAX_BODY_BYTES, 'RELANCE_MAX_BODY_BYTES') : DEFAULT_MAX_BODY_BYTES,
    maxUploadBytes: env.RELANCE_MAX_UPLOAD_BYTES ? parseSize(env.RELANCE_MAX_UPLOAD_BYTES, 'RELANCE_MAX_UPLOAD_BYTES') : DEFAULT_MAX_UPLOAD_BYTES,
    webhookAllowNetworks: env.RELANCE_WEBHOOK_ALLOW_NETWORKS || undefined,
  };
}
