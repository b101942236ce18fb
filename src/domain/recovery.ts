/**
 * Expected recovery (pure): the chance an open invoice gets paid, from how long it has been overdue
 * and the customer's risk, calibrated on the organisation's own history with the practitioners'
 * figures as the prior (about 90 % of debts chased within three months are recovered, about 10 %
 * after a year), and the amount that chance is worth. No clock: days overdue are given.
 */
import type { Minor } from './money.ts';

/** Age buckets by days past due: their lower bounds (the first: any invoice, due or not). */
export const RECOVERY_BUCKETS = [-100_000, 1, 31, 61, 91, 181, 366] as const;
/** The prior per bucket: ~90 % within three months, falling to ~10 % past a year. */
export const RECOVERY_PRIOR = [0.97, 0.93, 0.9, 0.87, 0.6, 0.3, 0.1] as const;
/** How many invoices the prior weighs: an organisation's history outweighs it once it has more. */
export const PRIOR_STRENGTH = 20;

export interface BucketObservation {
  /** Invoices that reached the bucket's age unpaid (and were then watched long enough). */
  reached: number;
  /** Of those, the ones finally paid in full. */
  recovered: number;
}

export interface Calibration {
  /** P(paid) per bucket, in bucket order. */
  p: number[];
  observed: BucketObservation[];
}

/** Beta-binomial update of each bucket's prior by what the organisation observed; never rises with age. */
export function calibrate(observed: readonly BucketObservation[]): Calibration {
  const p: number[] = [];
  RECOVERY_PRIOR.forEach((prior, k) => {
    const o = observed[k] ?? { reached: 0, recovered: 0 };
    const posterior = (prior * PRIOR_STRENGTH + o.recovered) / (PRIOR_STRENGTH + o.reached);
    // An older debt is never likelier to be paid than a younger one.
    p.push(k === 0 ? posterior : Math.min(p[k - 1]!, posterior));
  });
  return { p, observed: RECOVERY_BUCKETS.map((_, k) => observed[k] ?? { reached: 0, recovered: 0 }) };
}

export function bucketOf(daysOverdue: number): number {
  let k = 0;
  for (let j = 0; j < RECOVERY_BUCKETS.length; j++) if (daysOverdue >= RECOVERY_BUCKETS[j]!) k = j;
  return k;
}

/**
 * P(paid | days overdue, customer): the bucket's calibrated chance, its odds moved by the
 * customer's risk score (30, the score of a customer nobody knows yet, moves nothing; each 25
 * points multiplies or divides the odds by e). Kept within 1 % and 99 %.
 */
export function recoveryProbability(cal: Calibration, daysOverdue: number, riskScore: number | null): number {
  const base = Math.min(0.99, Math.max(0.01, cal.p[bucketOf(daysOverdue)]!));
  if (riskScore === null) return base;
  const logit = Math.log(base / (1 - base)) - (riskScore - 30) / 25;
  return Math.min(0.99, Math.max(0.01, 1 / (1 + Math.exp(-logit))));
}

/** open × p in minor units: p taken to basis points, the product rounded half up. */
export function expectedMinor(openMinor: Minor, p: number): Minor {
  const bp = BigInt(Math.round(p * 10_000));
  return (openMinor * bp * 2n + 10_000n) / 20_000n;
}
