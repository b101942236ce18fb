import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { api, qs } from '../api.ts';
import { Pager } from '../components/ui.tsx';
import { money, num, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import type { CustomerListResponse } from '../../../src/http/routes/app/shapes/customers.ts';


const FILTERS = ['', 'open', 'overdue', 'disputed', 'paused'] as const;

export function Customers() {
  const t = useT();
  const lang = useLang();
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<'name' | 'balance' | 'overdue' | 'id'>('balance');
  const [dir, setDir] = useState<'asc' | 'desc'>('desc');
  const [filter, setFilter] = useState<(typeof FILTERS)[number]>('');
  const [page, setPage] = useState(0);
  // Ask the server once typing pauses, not at every key.
  useEffect(() => {
    const h = setTimeout(() => {
      setSearch(text.trim());
      setPage(0);
    }, 250);
    return () => clearTimeout(h);
  }, [text]);
  const q = useQuery({
    queryKey: ['customers', search, sort, dir, filter, page],
    queryFn: () => api<CustomerListResponse>(`/api/app/customers${qs({ q: search, sort, dir, filter, page, size: 50 })}`),
    placeholderData: keepPreviousData,
  });
  const by = (s: typeof sort) => {
    if (sort === s) setDir(dir === 'asc' ? 'desc' : 'asc');
    else {
      setSort(s);
      setDir(s === 'name' || s === 'id' ? 'asc' : 'desc');
    }
    setPage(0);
  };
  const arrow = (s: typeof sort) => (sort === s ? (dir === 'asc' ? ' ↑' : ' ↓') : '');
  return (
    <div className="page" data-testid="customers">
      <header className="page-head">
        <h1>{t('nav.customers')}</h1>
        {q.data && <span className="muted">{t('customers.count', { n: num(q.data.total, lang) })}</span>}
      </header>
      <div className="toolbar">
        <input type="search" placeholder={t('customers.search')} value={text} onChange={(e) => setText(e.target.value)} style={{ minWidth: 320 }} data-testid="customer-search" />
        <select value={filter} onChange={(e) => { setFilter(e.target.value as (typeof FILTERS)[number]); setPage(0); }} aria-label={t('customers.filter')}>
          {FILTERS.map((f) => (
            <option key={f} value={f}>
              {t(`customers.filter.${f || 'all'}` as MessageKey)}
            </option>
          ))}
        </select>
        <span className="spacer" />
        {q.data && <Pager page={page} size={q.data.size} total={q.data.total} onPage={setPage} />}
      </div>
      <section className="card">
        {q.isError && <p className="error">{q.error.message}</p>}
        <table className="table">
          <thead>
            <tr>
              <th className="sortable" onClick={() => by('name')}>
                {t('col.customer')}
                {arrow('name')}
              </th>
              <th className="sortable" onClick={() => by('id')}>
                {t('col.number')}
                {arrow('id')}
              </th>
              <th>{t('col.kind')}</th>
              <th className="num sortable" onClick={() => by('balance')}>
                {t('col.open')}
                {arrow('balance')}
              </th>
              <th className="num sortable" onClick={() => by('overdue')}>
                {t('col.overdue')}
                {arrow('overdue')}
              </th>
              <th className="num">{t('col.openInvoices')}</th>
              <th className="num">{t('col.oldestLate')}</th>
            </tr>
          </thead>
          <tbody>
            {q.data?.rows.map((r) => (
              <tr key={r.id} data-testid="customer-row">
                <td>
                  <Link to="/customers/$customerId" params={{ customerId: r.id }}>
                    {r.name}
                  </Link>
                  {r.tags.length > 0 && <span className="muted small"> · {r.tags.join(', ')}</span>}
                </td>
                <td className="small">{r.externalId ?? r.id}</td>
                <td className="small">{t(`kind.${r.kind}` as MessageKey)}</td>
                <td className="num">{money(r.openMinor, r.currency ?? 'EUR', lang)}</td>
                <td className={`num ${r.overdueMinor !== '0' ? 'error' : ''}`}>{money(r.overdueMinor, r.currency ?? 'EUR', lang)}</td>
                <td className="num">{r.openInvoices}</td>
                <td className="num">{r.daysPastDue > 0 ? `${r.daysPastDue} ${t('common.daysShort')}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {q.data && q.data.rows.length === 0 && <p className="muted">{t('common.none')}</p>}
      </section>
    </div>
  );
}
