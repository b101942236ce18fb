import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { type Db, openPglite, openPostgres } from './driver.ts';
import { migrate } from './migrate.ts';

/** Opens the configured database (PostgreSQL when DATABASE_URL is set, else PGlite) and migrates it. */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, opts: { migrate?: boolean } = {}): Promise<Db> {
  let db: Db;
  if (config.databaseUrl) db = await openPostgres(config.databaseUrl);
  else {
    const dir = join(config.dataDir, 'pglite');
    mkdirSync(dir, { recursive: true });
    db = await openPglite(dir);
  }
  if (opts.migrate !== false) await migrate(db);
  return db;
}
