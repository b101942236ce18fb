/**
 * Sign-in throttling, per account and per client address, kept in the database (table
 * auth_throttle) so every server process sees the same counts. Every attempt counts as a failure
 * the moment it starts — before the password is checked — so a burst of parallel guesses is
 * counted as fast as it arrives; a success then takes its count back. Past a few free failures
 * each one blocks the key for a delay that doubles (1 s, 2 s, 4 s … up to 15 minutes); an attempt
 * on a blocked key is refused with 'rate_limited' and the seconds to wait (HTTP 429 Retry-After)
 * without checking the password, so even the right one waits. Counts are forgotten a day after
 * the last failure.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/driver.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('auth-throttle', {
  too_many: {
    fr: "trop de tentatives de connexion : réessayez dans {seconds} s",
    en: "too many sign-in attempts: try again in {seconds} s",
  },
});

export interface ThrottlePolicy {
  /** Failures allowed before any delay. */
  free: number;
  /** Longest delay, in seconds. */
  maxDelaySeconds: number;
}

/** One person's account: a handful of typos are free. */
export const ACCOUNT_POLICY: ThrottlePolicy = { free: 5, maxDelaySeconds: 900 };
/** One address (an office behind one NAT shares it): more room, the same doubling after. */
export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, maxDelaySeconds: 900 };
const FORGET_AFTER_MS = 24 * 3600_000;

/** Seconds a key is blocked after its n-th counted failure. */
export function delaySeconds(failures: number, p: ThrottlePolicy): number {
  if (failures <= p.free) return 0;
  return Math.min(p.maxDelaySeconds, 2 ** Math.min(30, failures - p.free - 1));
}

export const accountKey = (email: string) => `account:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
export const addressKey = (address: string) => `address:${address}`;

export interface ThrottleKey {
  key: string;
  policy: ThrottlePolicy;
}

/**
 * Counts an attempt on each key, in one transaction with the keys' rows locked (in key order, so
 * two attempts never deadlock). Throws 'rate_limited' (details.retryAfterSeconds) when a key is
 * blocked; the attempt is then not counted.
 */
export async function countAttempt(db: Db, keys: ThrottleKey[], now: Date): Promise<void> {
  const sorted = [...keys].sort((a, b) => a.key.localeCompare(b.key));
  const blockedFor = await db.tx(async (q) => {
    const rows = new Map<string, { failures: number; last_failure_at: string | Date; blocked_until: string | Date | null }>();
    for (const k of sorted) {
      await q.query('INSERT INTO auth_throttle (key, failures, last_failure_at) VALUES ($1, 0, $2) ON CONFLICT (key) DO NOTHING', [k.key, now]);
      const [r] = await q.query<{ failures: number; last_failure_at: string | Date; blocked_until: string | Date | null }>(
        'SELECT failures, last_failure_at, blocked_until FROM auth_throttle WHERE key = $1 FOR UPDATE',
        [k.key],
      );
      rows.set(k.key, r!);
    }
    let wait = 0;
    for (const k of sorted) {
      const r = rows.get(k.key)!;
      const until = r.blocked_until ? new Date(r.blocked_until).getTime() : 0;
      if (until > now.getTime()) wait = Math.max(wait, Math.ceil((until - now.getTime()) / 1000));
    }
    if (wait > 0) return wait;
    for (const k of sorted) {
      const r = rows.get(k.key)!;
      const fresh = now.getTime() - new Date(r.last_failure_at).getTime() > FORGET_AFTER_MS;
      const failures = (fresh ? 0 : Number(r.failures)) + 1;
      const delay = delaySeconds(failures, k.policy);
      await q.query('UPDATE auth_throttle SET failures = $2, last_failure_at = $3, blocked_until = $4 WHERE key = $1', [
        k.key,
        failures,
        now,
        delay > 0 ? new Date(now.getTime() + delay * 1000) : null,
      ]);
    }
    return 0;
  });
  if (blockedFor > 0) throw new RelanceError(ERROR_CODES.RATE_LIMITED, E('too_many', { seconds: blockedFor }), { details: { retryAfterSeconds: blockedFor } });
}

/**
 * The attempt succeeded: the account's count starts again from zero; the address gives back the
 * one count this attempt took (an office signing in all day is not slowed down).
 */
export async function attemptSucceeded(db: Db, keys: ThrottleKey[]): Promise<void> {
  await db.tx(async (q) => {
    for (const k of [...keys].sort((a, b) => a.key.localeCompare(b.key))) {
      if (k.key.startsWith('account:')) await q.query('DELETE FROM auth_throttle WHERE key = $1', [k.key]);
      else await q.query('UPDATE auth_throttle SET failures = greatest(failures - 1, 0) WHERE key = $1', [k.key]);
    }
  });
}

/** Runs `attempt` counted against the keys; a success clears its count, any failure keeps it. */
export async function throttled<T>(db: Db, keys: ThrottleKey[], now: Date, attempt: () => Promise<T>): Promise<T> {
  await countAttempt(db, keys, now);
  const result = await attempt();
  await attemptSucceeded(db, keys);
  return result;
}
