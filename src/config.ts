/**
 * Configuration from the environment, read once at the edge and passed down. Nothing below the
 * CLI and HTTP layers reads process.env.
 */
import { resolve } from 'node:path';
import { ERROR_CODES, RelanceError } from './errors.ts';
import { defineErrors } from './i18n/index.ts';

const E = defineErrors('config', {
  port: { fr: "PORT doit être un numéro de port, reçu « {value} »", en: "PORT must be a port number, got \"{value}\"" },
});

export interface Config {
  /** PostgreSQL connection string; absent means the embedded database. */
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  /** RELANCE_SECRET_KEY: the instance key sealing stored secrets (src/secrets.ts). */
  secretKey: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RelanceError(ERROR_CODES.CONFIG, E('port', { value: String(env.PORT) }), { where: { field: 'PORT' } });
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.RELANCE_DATA_DIR || './data'),
    port,
    host: env.HOST || '0.0.0.0',
    secretKey: env.RELANCE_SECRET_KEY || undefined,
  };
}
