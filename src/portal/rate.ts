/**
 * The portal's rate limits: requests counted per key in fixed windows, in the database (table
 * portal_rate) so every server process counts together. The portal needs no password, so what
 * stops a guesser is this: few wrong links per address, a bounded number of requests per address
 * and per link. Old windows are dropped as new ones are counted.
 */
import type { Queryable } from '../db/driver.ts';

export interface RateRule {
  windowSeconds: number;
  limit: number;
}

/** Any request from one address. */
export const ADDRESS_RULE: RateRule = { windowSeconds: 60, limit: 120 };
/** Any request on one link (a link forwarded around, a script). */
export const LINK_RULE: RateRule = { windowSeconds: 60, limit: 60 };
/** Wrong links from one address: a guesser is stopped after a handful. */
export const WRONG_LINK_RULE: RateRule = { windowSeconds: 600, limit: 10 };
/** Actions (forms sent) on one link. */
export const ACTION_RULE: RateRule = { windowSeconds: 3600, limit: 30 };

/** Counts a hit; returns the seconds to wait when the key is over its limit, else 0. */
export async function hit(q: Queryable, key: string, rule: RateRule, now: Date): Promise<number> {
  const ms = rule.windowSeconds * 1000;
  const start = new Date(Math.floor(now.getTime() / ms) * ms);
  const [r] = await q.query<{ hits: number }>(
    `INSERT INTO portal_rate (key, window_start, hits) VALUES ($1, $2, 1)
     ON CONFLICT (key, window_start) DO UPDATE SET hits = portal_rate.hits + 1 RETURNING hits`,
    [key, start],
  );
  await q.query('DELETE FROM portal_rate WHERE key = $1 AND window_start < $2', [key, start]);
  return Number(r!.hits) > rule.limit ? Math.ceil((start.getTime() + ms - now.getTime()) / 1000) : 0;
}

/** Whether a key is already over its limit, without counting (a wrong link checked before it counts). */
export async function over(q: Queryable, key: string, rule: RateRule, now: Date): Promise<number> {
  const ms = rule.windowSeconds * 1000;
  const start = new Date(Math.floor(now.getTime() / ms) * ms);
  const [r] = await q.query<{ hits: number }>('SELECT hits FROM portal_rate WHERE key = $1 AND window_start = $2', [key, start]);
  return r && Number(r.hits) >= rule.limit ? Math.ceil((start.getTime() + ms - now.getTime()) / 1000) : 0;
}
