/**
 * Charts drawn as plain SVG: a bar chart and a line chart are a few dozen lines each, where a
 * chart library would add hundreds of kilobytes to the first page.
 */
import { useState } from 'react';

export interface Bar {
  label: string;
  value: number;
  /** Text shown on hover and under the bar (the formatted amount). */
  caption: string;
  tone?: 'ok' | 'warn' | 'bad' | 'muted';
}

const TONE: Record<NonNullable<Bar['tone']>, string> = { ok: '#2e7d32', warn: '#f9a825', bad: '#c62828', muted: '#90a4ae' };

export function BarChart({ bars, height = 180, testId, onBar }: { bars: Bar[]; height?: number; testId?: string; onBar?: (i: number) => void }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = 100 / Math.max(1, bars.length);
  return (
    <svg className="chart" viewBox={`0 0 100 ${height / 2}`} preserveAspectRatio="none" role="img" data-testid={testId} style={{ height }}>
      <title>{bars.map((b) => `${b.label}: ${b.caption}`).join(' · ')}</title>
      {bars.map((b, i) => {
        const h = (b.value / max) * (height / 2 - 2);
        return (
          <g key={b.label}>
            {/* biome-ignore lint/a11y/noStaticElementInteractions: the legend under the chart has the same links as buttons for the keyboard */}
            <rect
              x={i * w + w * 0.15}
              y={height / 2 - h}
              width={w * 0.7}
              height={Math.max(h, 0.3)}
              fill={TONE[b.tone ?? 'ok']}
              rx={0.6}
              style={onBar ? { cursor: 'pointer' } : undefined}
              onClick={onBar ? () => onBar(i) : undefined}
            >
              <title>{`${b.label}: ${b.caption}`}</title>
            </rect>
          </g>
        );
      })}
    </svg>
  );
}

export function BarLegend({ bars, onBar, testId }: { bars: Bar[]; onBar?: (i: number) => void; testId?: string }) {
  return (
    <div className="bar-legend" style={{ gridTemplateColumns: `repeat(${bars.length}, minmax(0, 1fr))` }} data-testid={testId}>
      {bars.map((b, i) =>
        onBar ? (
          <button type="button" key={b.label} className="bl-link" onClick={() => onBar(i)}>
            <div className="bl-label">{b.label}</div>
            <div className="bl-value">{b.caption}</div>
          </button>
        ) : (
          <div key={b.label}>
            <div className="bl-label">{b.label}</div>
            <div className="bl-value">{b.caption}</div>
          </div>
        ),
      )}
    </div>
  );
}

export interface Series {
  name: string;
  colour: string;
  values: (number | null)[];
  format: (v: number) => string;
}

/**
 * Several series of the same unit over the same months, on one scale with its axis (levels compare
 * across series). The last month may be partial (the current one): drawn dashed and marked.
 */
export function LineChart({ labels, series, height = 220, testId, axisFormat, partialLast, partialNote }: {
  labels: string[];
  series: Series[];
  height?: number;
  testId?: string;
  /** A short label for an axis value ("12 k€"). */
  axisFormat: (v: number) => string;
  partialLast?: boolean;
  partialNote?: string;
}) {
  const [hover, setHover] = useState<number | null>(null);
  const W = 600;
  const H = height;
  const left = 64;
  const right = 12;
  const top = 10;
  const bottom = 24;
  const x = (i: number) => left + (i * (W - left - right)) / Math.max(1, labels.length - 1);
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = niceMax(Math.max(1, ...all));
  const y = (v: number) => H - bottom - (v / max) * (H - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const lastFull = partialLast ? labels.length - 2 : labels.length - 1;
  return (
    <div className="linechart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" onMouseLeave={() => setHover(null)}>
        <title>{series.map((s) => s.name).join(', ')}</title>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={left} x2={W - right} y1={y(v)} y2={y(v)} stroke="#e4e7ec" strokeWidth="1" />
            <text x={left - 6} y={y(v) + 3} fontSize="10" textAnchor="end" fill="#667">
              {axisFormat(v)}
            </text>
          </g>
        ))}
        <line x1={left} x2={left} y1={top} y2={H - bottom} stroke="#98a2b3" strokeWidth="1" />
        <line x1={left} x2={W - right} y1={H - bottom} y2={H - bottom} stroke="#98a2b3" strokeWidth="1" />
        {partialLast && labels.length > 1 && <rect x={(x(labels.length - 2) + x(labels.length - 1)) / 2} y={top} width={W - right - (x(labels.length - 2) + x(labels.length - 1)) / 2} height={H - top - bottom} fill="#f1f3f6" />}
        {labels.map((l, i) => (
          <text key={l} x={x(i)} y={H - 8} fontSize="10" textAnchor="middle" fill="#667" fontStyle={partialLast && i === labels.length - 1 ? 'italic' : undefined}>
            {partialLast && i === labels.length - 1 ? `${l}*` : l}
          </text>
        ))}
        {series.map((s) => {
          const pts = s.values.map((v, i) => (v === null ? null : { i, p: `${x(i)},${y(v)}` }));
          const full = pts.filter((p): p is { i: number; p: string } => p !== null && p.i <= lastFull).map((p) => p.p);
          const tail = pts.filter((p): p is { i: number; p: string } => p !== null && p.i >= lastFull).map((p) => p.p);
          return (
            <g key={s.name}>
              <polyline points={full.join(' ')} fill="none" stroke={s.colour} strokeWidth="2" />
              {partialLast && tail.length === 2 && <polyline points={tail.join(' ')} fill="none" stroke={s.colour} strokeWidth="2" strokeDasharray="4 3" />}
              {s.values.map((v, i) => (v === null ? null : <circle key={labels[i]} cx={x(i)} cy={y(v)} r={hover === i ? 4 : 2.5} fill={s.colour} />))}
            </g>
          );
        })}
        {labels.map((l, i) => (
          // biome-ignore lint/a11y/noStaticElementInteractions: hover only highlights a month; the figures are in the legend
          <rect key={`h${l}`} x={x(i) - (W - left - right) / labels.length / 2} y={0} width={(W - left - right) / labels.length} height={H} fill="transparent" onMouseEnter={() => setHover(i)} />
        ))}
      </svg>
      <div className="legend">
        {series.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.colour }} /> {s.name}
            {hover !== null && s.values[hover] !== null && s.values[hover] !== undefined ? `: ${s.format(s.values[hover]!)} (${labels[hover]})` : ''}
          </span>
        ))}
        {partialLast && partialNote && <span className="muted">* {partialNote}</span>}
      </div>
    </div>
  );
}

/** 1, 2, 2.5 or 5 times a power of ten, at least v: round axis steps. */
function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
