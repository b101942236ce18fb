/** `npm run bench [name...] [-- --json] [--quick]`: runs bench/<name>.bench.ts, all when none named. */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchContext, type Figure, formatFigure, toJsonLine } from './harness.ts';

const dir = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
let failed = false;
for (const name of names.length ? names : available) {
  const ctx: BenchContext = {
    json,
    quick,
    databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    report(f) {
      const full: Figure = { bench: name, ...f };
      process.stdout.write(`${json ? toJsonLine(full) : formatFigure(full)}\n`);
    },
  };
  if (!json) process.stdout.write(`\n== bench ${name}${quick ? ' (quick)' : ''}\n`);
  try {
    const mod = (await import(join(dir, `${name}.bench.ts`))) as { run(ctx: BenchContext): Promise<void> };
    await mod.run(ctx);
  } catch (e) {
    failed = true;
    process.stderr.write(`bench ${name} failed: ${(e as Error).stack}\n`);
  }
}
process.exit(failed ? 1 : 0);
