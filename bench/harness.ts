/**
 * Benchmark reporting. A bench file `bench/<name>.bench.ts` exports `run(ctx)`; each figure it
 * measures is reported with the baseline measured in the same run, printed as a table row, or
 * with --json as one JSON object per line:
 * {"bench","figure","value","unit","baseline","ratio","target","met"}.
 */
export interface Figure {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  /** The same work done the simplest way, measured in this run (null when there is none). */
  baseline: number | null;
  /** e.g. "< 60 s", "<= 3x baseline"; null when the issue sets none. */
  target: string | null;
  /** Whether the target is met; null when there is no target. */
  met: boolean | null;
  note?: string;
}

export interface BenchContext {
  json: boolean;
  /** PostgreSQL URL for benches that need a server (BENCH_DATABASE_URL, default local). */
  databaseUrl: string;
  /** Scale factor: --quick runs smaller sizes to check a bench works. */
  quick: boolean;
  report(f: Omit<Figure, 'bench'>): void;
}

export function formatFigure(f: Figure): string {
  const ratio = f.baseline ? (f.value / f.baseline).toFixed(2) : '—';
  const met = f.met === null ? '' : f.met ? 'met' : 'NOT MET';
  return [
    f.bench.padEnd(15),
    f.figure.padEnd(58),
    `${fmt(f.value)} ${f.unit}`.padEnd(16),
    `baseline ${f.baseline === null ? '—' : `${fmt(f.baseline)} ${f.unit}`}`.padEnd(24),
    `ratio ${ratio}`.padEnd(12),
    `target ${f.target ?? '—'}`.padEnd(22),
    met,
    f.note ? ` (${f.note})` : '',
  ].join(' ');
}

function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}

export function toJsonLine(f: Figure): string {
  const ratio = f.baseline ? Number((f.value / f.baseline).toFixed(4)) : null;
  return JSON.stringify({ bench: f.bench, figure: f.figure, value: f.value, unit: f.unit, baseline: f.baseline, ratio, target: f.target, met: f.met });
}

/** p-th percentile (0..100) of samples, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}

export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
