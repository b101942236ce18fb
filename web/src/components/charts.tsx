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

export function BarChart({ bars, height = 180, testId }: { bars: Bar[]; height?: number; testId?: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const w = 100 / Math.max(1, bars.length);
  return (
    <svg className="chart" viewBox={`0 0 100 ${height / 2}`} preserveAspectRatio="none" role="img" data-testid={testId} style={{ height }}>
      <title>{bars.map((b) => `${b.label}: ${b.caption}`).join(' · ')}</title>
      {bars.map((b, i) => {
        const h = (b.value / max) * (height / 2 - 2);
        return (
          <g key={b.label}>
            <rect x={i * w + w * 0.15} y={height / 2 - h} width={w * 0.7} height={Math.max(h, 0.3)} fill={TONE[b.tone ?? 'ok']} rx={0.6}>
              <title>{`${b.label}: ${b.caption}`}</title>
            </rect>
          </g>
        );
      })}
    </svg>
  );
}

export function BarLegend({ bars }: { bars: Bar[] }) {
  return (
    <div className="bar-legend" style={{ gridTemplateColumns: `repeat(${bars.length}, 1fr)` }}>
      {bars.map((b) => (
        <div key={b.label}>
          <div className="bl-label">{b.label}</div>
          <div className="bl-value">{b.caption}</div>
        </div>
      ))}
    </div>
  );
}

export interface Series {
  name: string;
  colour: string;
  values: (number | null)[];
  format: (v: number) => string;
}

/** Several series over the same x labels, each scaled to its own maximum (shapes, not levels). */
export function LineChart({ labels, series, height = 200, testId }: { labels: string[]; series: Series[]; height?: number; testId?: string }) {
  const [hover, setHover] = useState<number | null>(null);
  const W = 600;
  const H = height;
  const pad = 24;
  const x = (i: number) => pad + (i * (W - 2 * pad)) / Math.max(1, labels.length - 1);
  return (
    <div className="linechart" data-testid={testId}>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: hover only highlights a point; the values are also in the title and the legend */}
      <svg viewBox={`0 0 ${W} ${H}`} role="img" onMouseLeave={() => setHover(null)}>
        <title>{series.map((s) => s.name).join(', ')}</title>
        {labels.map((l, i) => (
          <text key={l} x={x(i)} y={H - 4} fontSize="10" textAnchor="middle" fill="#667">
            {l}
          </text>
        ))}
        {series.map((s) => {
          const vals = s.values.filter((v): v is number => v !== null);
          const max = Math.max(1e-9, ...vals.map(Math.abs));
          const y = (v: number) => H - pad - (v / max) * (H - 2 * pad - 10);
          const pts = s.values.map((v, i) => (v === null ? null : `${x(i)},${y(v)}`)).filter(Boolean);
          return (
            <g key={s.name}>
              <polyline points={pts.join(' ')} fill="none" stroke={s.colour} strokeWidth="2" />
              {s.values.map((v, i) => (v === null ? null : <circle key={labels[i]} cx={x(i)} cy={y(v)} r={hover === i ? 4 : 2.5} fill={s.colour} />))}
            </g>
          );
        })}
        {labels.map((l, i) => (
          // biome-ignore lint/a11y/noStaticElementInteractions: hover only highlights a month; the figures are in the title
          <rect key={`h${l}`} x={x(i) - (W - 2 * pad) / labels.length / 2} y={0} width={(W - 2 * pad) / labels.length} height={H} fill="transparent" onMouseEnter={() => setHover(i)} />
        ))}
      </svg>
      <div className="legend">
        {series.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.colour }} /> {s.name}
            {hover !== null && s.values[hover] !== null && s.values[hover] !== undefined ? `: ${s.format(s.values[hover]!)} (${labels[hover]})` : ''}
          </span>
        ))}
      </div>
    </div>
  );
}
