import { type QueryClient, useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { api } from '../api.ts';
import { BarChart, BarLegend, LineChart } from '../components/charts.tsx';
import { BankHold, Code, Empty, Loading, LoadFailed, RateWarnings } from '../components/ui.tsx';
import { date, dateTime, money, num, pct, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import type { DashboardResponse } from '../../../src/http/routes/app/shapes/dashboard.ts';


function Kpi({ label, value, formula, testId, tone }: { label: string; value: string; formula: string; testId: string; tone?: 'bad' | 'ok' }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: focusable so keyboard users get the formula shown on hover
    <div className={`kpi ${tone ?? ''}`} title={formula} data-testid={testId} tabIndex={0}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value" data-testid={`${testId}-value`}>
        {value}
      </div>
      <div className="kpi-formula">{formula}</div>
    </div>
  );
}

/** "31" for a date in a 31-day month: whether the month is over on that day. */
function lastDayOf(iso: string): string {
  const [y, m] = [Number(iso.slice(0, 4)), Number(iso.slice(5, 7))];
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
  return String(days);
}

const BUCKET_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'muted'> = { not_due: 'ok', '1_30': 'warn', '31_60': 'warn', '61_90': 'bad', over_90: 'bad' };

let wantFresh = false;

/**
 * An import or a bank statement changed the ledger: the dashboard's next read recomputes its figures
 * (?fresh=1) instead of answering the snapshot of before and refreshing it in the background.
 */
export function refreshDashboardAfterChange(qc: QueryClient): void {
  wantFresh = true;
  qc.invalidateQueries({ queryKey: ['dashboard'] });
}

export function Dashboard() {
  const t = useT();
  const lang = useLang();
  const navigate = useNavigate();
  const q = useQuery({
    queryKey: ['dashboard'],
    queryFn: () => {
      const fresh = wantFresh;
      wantFresh = false;
      return api<DashboardResponse>(`/api/app/dashboard${fresh ? '?fresh=1' : ''}`);
    },
  });
  if (q.isPending) return <Loading testId="dashboard-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  const m = (v: string) => money(v, d.currency, lang);
  const days = (v: number | null) => (v === null ? '—' : `${num(v, lang, 1)} ${t('common.days')}`);
  const monthLabel = (ym: string) => `${ym.slice(5, 7)}/${ym.slice(2, 4)}`;
  // A bar of the aging opens the customers it adds up: not yet due, or overdue with the oldest first.
  const openAging = (i: number) =>
    navigate({ to: '/customers', search: d.aging[i]?.bucket === 'not_due' ? { filter: 'open', sort: 'balance', dir: 'desc' } : { filter: 'overdue', sort: 'late', dir: 'desc' } });
  // The last month of the trends is the current one until it ends: partial, marked as such.
  const partialLast = d.trends.at(-1)?.month === d.asOf.slice(0, 7) && d.asOf.slice(8, 10) !== lastDayOf(d.asOf);
  const compact = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { notation: 'compact', maximumFractionDigits: 1, style: 'currency', currency: d.currency });
  const aging = d.aging.map((a) => ({ label: t(`aging.${a.bucket}` as MessageKey), value: Number(a.amountMinor), caption: `${m(a.amountMinor)} · ${num(a.count, lang)}`, tone: BUCKET_TONE[a.bucket] }));
  const expected = d.expected.map((e) => ({
    label: date(e.weekStart, lang),
    value: Number(BigInt(e.dueMinor) + BigInt(e.promisedMinor)),
    caption: m((BigInt(e.dueMinor) + BigInt(e.promisedMinor)).toString()),
    tone: 'ok' as const,
  }));
  return (
    <div className="page" data-testid="dashboard">
      <header className="page-head">
        <h1>{t('dash.title')}</h1>
        <span className="muted">
          {t('dash.asOf', { date: date(d.asOf, lang) })}
        </span>
      </header>
      <BankHold hold={d.bank} today={d.asOf} />
      <RateWarnings warnings={d.rateWarnings} />
      {d.totals.receivablesMinor === '0' && d.trends.every((x) => x.salesMinor === '0') && (
        <Empty testId="dashboard-empty">
          {t('dash.empty')} <Link to="/imports">{t('customers.toImports')}</Link>
        </Empty>
      )}
      <section className="kpis">
        <Kpi testId="kpi-receivables" label={t('kpi.receivables')} value={m(d.totals.receivablesMinor)} formula={t('kpi.receivables.f')} />
        <Kpi testId="kpi-overdue" label={t('kpi.overdue')} value={m(d.totals.overdueMinor)} formula={t('kpi.overdue.f')} tone="bad" />
        <Kpi testId="kpi-overdue-share" label={t('kpi.overdueShare')} value={pct(d.totals.overdueShare, lang)} formula={t('kpi.overdueShare.f')} />
        <Kpi testId="kpi-dso" label={t('kpi.dso')} value={`${d.dsoExhausted ? '≥ ' : ''}${days(d.dso)}`} formula={t('kpi.dso.f')} />
        <Kpi testId="kpi-best-dso" label={t('kpi.bestDso')} value={days(d.bestPossibleDso)} formula={t('kpi.bestDso.f')} />
        <Kpi testId="kpi-add" label={t('kpi.add')} value={days(d.add)} formula={t('kpi.add.f')} />
        <Kpi testId="kpi-cei" label={t('kpi.cei')} value={pct(d.cei, lang)} formula={t('kpi.cei.f')} />
        <Kpi testId="kpi-penalties" label={t('kpi.penalties')} value={m((BigInt(d.penalties.interestMinor) + BigInt(d.penalties.indemnityMinor)).toString())} formula={t('kpi.penalties.f', { interest: m(d.penalties.interestMinor), indemnity: m(d.penalties.indemnityMinor) })} />
        <Kpi testId="kpi-collected" label={t('kpi.collected')} value={m(d.cashCollectedThisMonthMinor)} formula={t('kpi.collected.f')} tone="ok" />
        <Kpi testId="kpi-adp" label={t('kpi.adp')} value={days(d.averageDaysToPay)} formula={t('kpi.adp.f')} />
      </section>
      <div className="grid2">
        <section className="card">
          <h2 title={t('aging.f')}>{t('dash.aging')}</h2>
          <BarChart bars={aging} testId="aging-chart" onBar={openAging} />
          <BarLegend bars={aging} onBar={openAging} testId="aging-legend" />
          <p className="muted small">
            {t('dash.apart', { disputed: m(d.totals.disputedMinor), unallocated: m(d.totals.unallocatedMinor) })}
          </p>
        </section>
        <section className="card">
          <h2 title={t('dash.expected.f')}>{t('dash.expected')}</h2>
          <BarChart bars={expected} testId="expected-chart" />
          <BarLegend bars={expected} />
        </section>
      </div>
      <section className="card">
        <h2>{t('dash.trends')}</h2>
        <LineChart
          testId="trends-chart"
          labels={d.trends.map((x) => monthLabel(x.month))}
          axisFormat={(v) => compact.format(v / 100)}
          partialLast={partialLast}
          partialNote={t('dash.partialMonth', { date: date(d.asOf, lang) })}
          series={[
            { name: t('trend.receivables'), colour: '#1F4E79', values: d.trends.map((x) => Number(x.receivablesMinor)), format: (v) => m(String(Math.round(v))) },
            { name: t('trend.overdue'), colour: '#c62828', values: d.trends.map((x) => Number(x.overdueMinor)), format: (v) => m(String(Math.round(v))) },
            { name: t('trend.sales'), colour: '#7b1fa2', values: d.trends.map((x) => Number(x.salesMinor)), format: (v) => m(String(Math.round(v))) },
            { name: t('trend.collected'), colour: '#2e7d32', values: d.trends.map((x) => Number(x.collectedMinor)), format: (v) => m(String(Math.round(v))) },
          ]}
        />
      </section>
      <section className="card">
        <h2 title={t('steps.f')}>{t('dash.steps')}</h2>
        {d.steps.length === 0 ? (
          <p className="muted">{t('dash.steps.none')}</p>
        ) : (
          <table className="table" data-testid="steps-table">
            <thead>
              <tr>
                <th>{t('steps.step')}</th>
                <th>{t('steps.channel')}</th>
                <th className="num">{t('steps.actions')}</th>
                <th className="num">{t('steps.paid7')}</th>
                <th className="num">{t('steps.share')}</th>
                <th className="num" title={t('steps.exported.f')}>
                  {t('steps.exported')}
                </th>
              </tr>
            </thead>
            <tbody>
              {d.steps.map((s) => (
                <tr key={`${s.stepKey}-${s.template}`}>
                  <td>
                    {stepLabel(Number(s.stepKey.split(':')[0]), lang)} · <Code prefix="template" value={s.template} />
                  </td>
                  <td>{t(`channel.${s.channel}` as MessageKey)}</td>
                  <td className="num">{num(s.actions, lang)}</td>
                  <td className="num">{num(s.paidWithin7, lang)}</td>
                  <td className="num">
                    <span className="meter">
                      <span style={{ width: `${Math.min(100, s.share ?? 0)}%` }} />
                    </span>
                    {pct(s.share, lang, 0)}
                  </td>
                  <td className="num">{s.exported ? num(s.exported, lang) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <p className="muted small">
        {t('dash.computedAt', { at: dateTime(d.computedAt, lang) })} · <Link to="/today">{t('nav.today')} →</Link>
      </p>
    </div>
  );
}
