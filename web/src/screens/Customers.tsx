import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import type { CustomerListResponse, CustomerListRow } from '../../../src/http/routes/app/shapes/customers.ts';
import { api, qs } from '../api.ts';
import { Code, Empty, Loading, LoadFailed, Pager } from '../components/ui.tsx';
import { date, dateTime, money, num, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import type { CustomersSearch } from '../router.tsx';

const FILTERS = ['', 'mine', 'open', 'overdue', 'disputed', 'paused'] as const;
type Sort = 'name' | 'id' | 'owner' | 'status' | 'balance' | 'overdue' | 'invoices' | 'late' | 'lastAction' | 'nextAction';
/** Texts read from A to Z first; amounts, counts and dates from the largest or latest. */
const ASCENDING_FIRST: readonly Sort[] = ['name', 'id', 'owner', 'status', 'nextAction'];

export function Customers() {
  const t = useT();
  const lang = useLang();
  const search = useSearch({ from: '/app/customers' });
  const navigate = useNavigate({ from: '/customers' });
  const sort = (search.sort ?? 'balance') as Sort;
  const dir = search.dir ?? (search.sort ? 'asc' : 'desc');
  const filter = search.filter ?? '';
  const page = search.page ?? 0;
  const q = search.q ?? '';
  // The address holds the list's state: a change replaces it, so Back leaves the list as it was.
  const go = (patch: Partial<CustomersSearch>) => navigate({ search: (prev: CustomersSearch) => ({ ...prev, page: undefined, ...patch }), replace: true });
  const [text, setText] = useState(q);
  // Ask the server once typing pauses, not at every key.
  useEffect(() => {
    if (text.trim() === q) return;
    const h = setTimeout(() => go({ q: text.trim() || undefined }), 250);
    return () => clearTimeout(h);
  });
  const params = { q, sort, dir, filter, page, size: 50 };
  const list = useQuery({
    queryKey: ['customers', q, sort, dir, filter, page],
    queryFn: () => api<CustomerListResponse>(`/api/app/customers${qs(params)}`),
    placeholderData: keepPreviousData,
  });
  const by = (s: Sort) => {
    if (sort === s) go({ sort: s, dir: dir === 'asc' ? 'desc' : 'asc' });
    else go({ sort: s, dir: ASCENDING_FIRST.includes(s) ? 'asc' : 'desc' });
  };
  const head = (s: Sort, label: MessageKey, num = false) => (
    <th className={`sortable${num ? ' num' : ''}`} aria-sort={sort === s ? (dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="linklike" onClick={() => by(s)} data-testid={`sort-${s}`}>
        {t(label)}
        {sort === s ? (dir === 'asc' ? ' ↑' : ' ↓') : ''}
      </button>
    </th>
  );
  const csv = `/api/app/customers${qs({ q, sort, dir, filter, format: 'csv', lang })}`;
  return (
    <div className="page" data-testid="customers">
      <header className="page-head">
        <h1>{t('nav.customers')}</h1>
        {list.data && <span className="muted">{t('customers.count', { n: num(list.data.total, lang) })}</span>}
      </header>
      <div className="toolbar">
        <input type="search" placeholder={t('customers.search')} value={text} onChange={(e) => setText(e.target.value)} className="search-wide" data-testid="customer-search" />
        <select value={filter} onChange={(e) => go({ filter: e.target.value || undefined })} aria-label={t('customers.filter')} data-testid="customer-filter">
          {FILTERS.map((f) => (
            <option key={f} value={f}>
              {t(`customers.filter.${f || 'all'}` as MessageKey)}
            </option>
          ))}
        </select>
        <a href={csv} download data-testid="export-csv">
          <button type="button">{t('customers.export')}</button>
        </a>
        <span className="spacer" />
        {list.data && <Pager page={page} size={list.data.size} total={list.data.total} onPage={(p) => go({ page: p || undefined })} />}
      </div>
      <section className="card">
        {list.isError && <LoadFailed error={list.error} onRetry={() => list.refetch()} />}
        {list.isPending && <Loading />}
        {list.data && list.data.rows.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="customer-table">
              <thead>
                <tr>
                  {head('name', 'col.customer')}
                  {head('id', 'col.number')}
                  {head('owner', 'col.owner')}
                  {head('status', 'col.status')}
                  {head('balance', 'col.open', true)}
                  {head('overdue', 'col.overdue', true)}
                  {head('invoices', 'col.openInvoices', true)}
                  {head('late', 'col.oldestLate', true)}
                  {head('lastAction', 'col.lastAction')}
                  {head('nextAction', 'col.nextAction')}
                </tr>
              </thead>
              <tbody>
                {list.data.rows.map((r) => (
                  <Row key={r.id} r={r} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.data && list.data.rows.length === 0 &&
          (q || filter ? (
            <Empty testId="customers-none-match">
              {t('customers.noneMatch')}{' '}
              <button type="button" className="link" onClick={() => { setText(''); go({ q: undefined, filter: undefined }); }} data-testid="clear-filters">
                {t('customers.clearFilters')}
              </button>
            </Empty>
          ) : (
            <Empty testId="customers-empty">
              {t('customers.emptyAll')} <Link to="/imports">{t('customers.toImports')}</Link>
            </Empty>
          ))}
      </section>
    </div>
  );
}

function Row({ r }: { r: CustomerListRow }) {
  const t = useT();
  const lang = useLang();
  const tone = r.status === 'disputed' || r.status === 'overdue' ? 'bad' : r.status === 'paused' || r.status === 'promised' ? 'warn' : r.status === 'settled' ? 'ok' : 'info';
  return (
    <tr data-testid="customer-row" data-status={r.status}>
      <td>
        <Link to="/customers/$customerId" params={{ customerId: r.id }}>
          {r.name}
        </Link>
        {r.tags.length > 0 && <span className="muted small"> · {r.tags.join(', ')}</span>}
      </td>
      <td className="small">{r.externalId ?? r.id}</td>
      <td className="small">{r.owner ?? '—'}</td>
      <td>
        <span className={`pill ${tone}`}>{t(`customerStatus.${r.status}` as MessageKey)}</span>
      </td>
      <td className="num">{money(r.openMinor, r.currency ?? 'EUR', lang)}</td>
      <td className={`num ${r.overdueMinor !== '0' ? 'error' : ''}`}>{money(r.overdueMinor, r.currency ?? 'EUR', lang)}</td>
      <td className="num">{r.openInvoices}</td>
      <td className="num">{r.daysPastDue > 0 ? `${r.daysPastDue} ${t('common.daysShort')}` : '—'}</td>
      <td className="small">
        {r.lastAction ? (
          <>
            <Code prefix="template" value={r.lastAction.template} /> · {r.lastAction.at ? dateTime(r.lastAction.at, lang) : date(r.lastAction.on, lang)}
          </>
        ) : (
          '—'
        )}
      </td>
      <td className="small">
        {r.nextAction ? (
          <>
            <Code prefix="template" value={r.nextAction.template} /> · {date(r.nextAction.on, lang)}
          </>
        ) : (
          '—'
        )}
      </td>
    </tr>
  );
}
