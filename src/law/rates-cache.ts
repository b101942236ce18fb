/**
 * The official rate tables as read a minute ago: the web app's screens compute late fees on every
 * read, and the tables change a few times a year (the operator's CLI).
 */
import type { Queryable } from '../db/driver.ts';
import type { RateTables } from '../domain/law/index.ts';
import { loadRateTables } from './rates-repo.ts';

let ratesCache: { at: number; tables: RateTables } | null = null;
export async function cachedRateTables(q: Queryable): Promise<RateTables> {
  if (ratesCache && Date.now() - ratesCache.at < 60_000) return ratesCache.tables;
  ratesCache = { at: Date.now(), tables: await loadRateTables(q) };
  return ratesCache.tables;
}
