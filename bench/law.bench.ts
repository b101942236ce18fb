/**
 * `npm run bench law`: late-payment interest for 1,000,000 invoices, pure computation (target < 2 s),
 * beside the floor: a loop over the same invoices that only sums their amounts.
 * Invoices are generated deterministically before timing: due dates over 2023–2025, 0 to 400 days
 * late, 10 % with a partial payment, mostly French business debts, some EU/DE/GB/consumer ones.
 */
import type { CalendarDate } from '../src/domain/dates.ts';
import { computeLateFees, defaultRateTables, type LateFeeInput } from '../src/domain/law/index.ts';
import { type BenchContext, ms } from './harness.ts';
import { fromDay, toDay } from '../src/domain/law/calendar.ts';

function invoices(n: number): LateFeeInput[] {
  let seed = 42;
  const rnd = (k: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % k;
  };
  const first = toDay('2023-01-01');
  const out: LateFeeInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const due = first + rnd(3 * 365);
    const late = rnd(401);
    const amountMinor = BigInt(10_000 + rnd(5_000_000));
    const kind = rnd(20);
    const input: LateFeeInput = {
      jurisdiction: kind < 14 ? 'FR' : kind < 16 ? 'EU' : kind < 18 ? 'DE' : 'GB',
      debtor: kind === 13 ? 'consumer' : 'business',
      currency: kind >= 18 ? 'GBP' : 'EUR',
      amountMinor,
      dueDate: fromDay(due),
      until: fromDay(due + late),
    };
    if (kind === 13) input.noticeDate = fromDay(due + 20);
    if (rnd(10) === 0 && late > 2) input.payments = [{ date: fromDay(due + 1 + rnd(late - 1)) as CalendarDate, amountMinor: amountMinor / 3n }];
    out[i] = input;
  }
  return out;
}

export async function run(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 100_000 : 1_000_000;
  const rates = defaultRateTables();
  const all = invoices(n);
  // Warm up the JIT and the rate caches on a slice, as a long-running process would be.
  for (let i = 0; i < Math.min(n, 20_000); i++) computeLateFees(all[i]!, rates);

  let t0 = process.hrtime.bigint();
  let amounts = 0n;
  for (let i = 0; i < n; i++) amounts += all[i]!.amountMinor;
  const floor = ms(t0);

  t0 = process.hrtime.bigint();
  let total = 0n;
  for (let i = 0; i < n; i++) total += computeLateFees(all[i]!, rates).totalMinor;
  const elapsed = ms(t0);

  if (amounts <= 0n || total <= 0n) throw new Error('nothing computed');
  ctx.report({
    figure: `late-fee interest for ${n.toLocaleString('en')} invoices (pure)`,
    value: Number(elapsed.toFixed(1)),
    unit: 'ms',
    baseline: Number(floor.toFixed(1)),
    target: ctx.quick ? null : '< 2000 ms',
    met: ctx.quick ? null : elapsed < 2000,
    note: 'baseline: loop summing the amounts only',
  });
  ctx.report({
    figure: 'summing the amounts only (the floor)',
    value: Number(floor.toFixed(1)),
    unit: 'ms',
    baseline: null,
    target: null,
    met: null,
  });
}
