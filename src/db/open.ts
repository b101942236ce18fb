import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { sealProviderSecrets } from '../delivery/settings.ts';
import { encryptSecret, hasInstanceKey, isSealed, loadInstanceKey, SEALED_PREFIX, setInstanceKey } from '../secrets.ts';
import { type Db, openPglite, openPostgres } from './driver.ts';
import { lockDataDir } from './lock.ts';
import { migrate } from './migrate.ts';

/**
 * Opens the configured database (PostgreSQL when DATABASE_URL is set, else PGlite), migrates it,
 * sets this process's instance key (src/secrets.ts) and seals the secrets still stored in clear.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'> & { secretKey?: string }, opts: { migrate?: boolean } = {}): Promise<Db> {
  setInstanceKey(loadInstanceKey({ secretKey: config.secretKey, embedded: !config.databaseUrl, dataDir: config.dataDir }).key);
  let db: Db;
  if (config.databaseUrl) db = await openPostgres(config.databaseUrl);
  else {
    const dir = join(config.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    // One process per data folder (src/db/lock.ts): a second one refuses, saying who holds it.
    const lock = lockDataDir(config.dataDir);
    try {
      db = await openPglite(dir);
    } catch (e) {
      lock.release();
      throw e;
    }
    const close = db.close.bind(db);
    db.close = async () => {
      try {
        await close();
      } finally {
        lock.release();
      }
    };
  }
  if (opts.migrate !== false) {
    await migrate(db);
    await sealLegacySecrets(db);
  }
  return db;
}

/** Every column holding a tenant's secret, and the context its value is sealed with. */
export const SECRET_COLUMNS = [
  { table: 'delivery_settings', column: 'smtp_password', context: (r: Record<string, unknown>) => `${r.organisation_id}:smtp_password` },
  { table: 'webhook_subscriptions', column: 'secret', context: (r: Record<string, unknown>) => `${r.organisation_id}:webhook_secret` },
] as const;

/**
 * Secrets stored before encryption existed are sealed at the first start that has a key (one
 * transaction; rows locked so two starting processes do not seal twice). Without a key they stay
 * readable as they are, and the next start with RELANCE_SECRET_KEY seals them.
 */
export async function sealLegacySecrets(db: Db): Promise<number> {
  if (!hasInstanceKey()) return 0;
  return db.tx(async (q) => {
    let n = 0;
    for (const s of SECRET_COLUMNS) {
      const rows = await q.query<Record<string, unknown>>(
        `SELECT * FROM ${s.table} WHERE ${s.column} IS NOT NULL AND ${s.column} <> '' AND ${s.column} NOT LIKE '${SEALED_PREFIX}%' FOR UPDATE`,
      );
      for (const r of rows) {
        const keyCols = s.table === 'delivery_settings' ? 'organisation_id = $2' : 'organisation_id = $2 AND id = $3';
        const keyVals = s.table === 'delivery_settings' ? [r.organisation_id] : [r.organisation_id, r.id];
        await q.query(`UPDATE ${s.table} SET ${s.column} = $1 WHERE ${keyCols}`, [encryptSecret(String(r[s.column]), s.context(r)), ...keyVals]);
        n++;
      }
    }
    // Channel providers' secrets (delivery_settings.providers, migration 0021).
    n += await sealProviderSecrets(q, (plain, context) => encryptSecret(plain, context, 'a provider secret'), isSealed);
    return n;
  });
}
