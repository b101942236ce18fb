import type { ImportRunRow } from '../../../src/http/routes/app/shapes/imports.ts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api.ts';
import { codeLabel, Empty, Loading, LoadFailed } from '../components/ui.tsx';
import { ImportPanel } from '../components/imports.tsx';
import { dateTime, num, useLang, useT } from '../i18n.tsx';
import { can, useMe } from '../session.ts';
import { refreshDashboardAfterChange } from './Dashboard.tsx';

export function Imports() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const history = useQuery({ queryKey: ['imports'], queryFn: () => api<ImportRunRow[]>('/api/app/imports') });
  return (
    <div className="page" data-testid="imports">
      <header className="page-head">
        <h1>{t('nav.imports')}</h1>
      </header>
      {can(me.data, 'write') && (
        <ImportPanel
          testPrefix="import"
          onImported={() => {
            // The figures and lists the import changed refresh without a reload.
            refreshDashboardAfterChange(qc);
            qc.invalidateQueries();
          }}
        />
      )}
      <section className="card">
        <h2>{t('import.history')}</h2>
        {history.isPending ? (
          <Loading />
        ) : history.isError ? (
          <LoadFailed error={history.error} onRetry={() => history.refetch()} />
        ) : history.data?.length ? (
          <div className="table-wrap">
            <table className="table" data-testid="import-history">
              <tbody>
                {history.data.map((h) => (
                  <tr key={h.id}>
                    <td>{dateTime(h.created_at, lang)}</td>
                    <td>{codeLabel(t, 'import.kind', h.kind)}</td>
                    <td>{h.filename}</td>
                    <td>{codeLabel(t, 'import.outcome', h.outcome)}</td>
                    <td className="num">
                      {num(h.rows_read, lang)} {t('import.rows')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty testId="import-history-empty">{t('import.noHistory')}</Empty>
        )}
      </section>
    </div>
  );
}
