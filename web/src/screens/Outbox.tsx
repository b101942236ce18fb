import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api } from '../api.ts';
import { Code, CountedCard, Empty, HtmlFrame, Loading, LoadFailed, Modal, PdfFrame, StatusPill } from '../components/ui.tsx';
import { dateTime, useLang, useT } from '../i18n.tsx';
import type { DeliveryResponse, OutboxListRow, OutboxPendingRow, OutboxResponse } from '../../../src/http/routes/app/shapes/outbox.ts';

const recipientsText = (r: unknown) => {
  if (!r || typeof r !== 'object') return '';
  const o = r as Record<string, unknown>;
  if (Array.isArray(o.to)) return o.to.join(', ');
  if (typeof o.to === 'string') return o.to;
  if (Array.isArray(o.address)) return o.address.join(', ');
  return '';
};

export function Outbox() {
  const t = useT();
  const lang = useLang();
  const qc = useQueryClient();
  const [channel, setChannel] = useState('');
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState<OutboxListRow | null>(null);
  const params = new URLSearchParams({ ...(channel ? { channel } : {}), ...(status ? { status } : {}) }).toString();
  const q = useQuery({ queryKey: ['outbox', channel, status], queryFn: () => api<OutboxResponse>(`/api/app/outbox${params ? `?${params}` : ''}`) });
  const confirm = useMutation({
    mutationFn: (ids: string[]) => api('/api/app/actions/confirm', { body: { ids } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['outbox'] }),
  });
  return (
    <div className="page" data-testid="outbox">
      <header className="page-head">
        <h1>{t('nav.outbox')}</h1>
        <select value={channel} onChange={(e) => setChannel(e.target.value)}>
          <option value="">{t('outbox.all')}</option>
          {['email', 'sms', 'letter', 'registered_letter'].map((c) => (
            <option key={c} value={c}>
              {t(`channel.${c}` as never)}
            </option>
          ))}
        </select>
        <select value={status} onChange={(e) => setStatus(e.target.value)} data-testid="outbox-status">
          <option value="">{t('outbox.allStatuses')}</option>
          {['exported', 'sent', 'uncertain', 'failed', 'cancelled'].map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}` as never)}
            </option>
          ))}
        </select>
      </header>
      {q.data && !q.data.smtpConfigured && <div className="banner">{t('outbox.local')}</div>}
      {q.data && q.data.exported > 0 && (
        <div className="banner" data-testid="outbox-exported">
          {t('outbox.exported', { n: q.data.exported })}
        </div>
      )}
      {q.isError && <LoadFailed error={q.error} onRetry={() => q.refetch()} />}
      {confirm.isError && <p className="error">{confirm.error.message}</p>}
      {q.isPending && <Loading />}
      {q.data && (
        <>
          <PendingCard testId="outbox-pending" title={t('outbox.pending')} empty={t('outbox.noPending')} rows={q.data.pending} />
          <PendingCard testId="outbox-failed" title={t('outbox.failed')} empty={t('outbox.noFailed')} rows={q.data.failed} failed />
          <h2>{t('outbox.sent')}</h2>
        </>
      )}
      <section className="card">
        {q.data?.rows.length === 0 && <Empty testId="outbox-empty">{t('outbox.empty')}</Empty>}
        <table className="table">
          <tbody>
            {q.data?.rows.map((r) => (
              <tr key={r.id} data-testid="outbox-row" data-channel={r.channel} data-template={r.template} data-status={r.status}>
                <td>{dateTime(r.sentAt ?? r.handedOverAt, lang)}</td>
                <td>
                  <Code prefix="channel" value={r.channel} />
                  {r.local && <span className="pill">{t('outbox.localPill')}</span>}
                </td>
                <td>
                  <StatusPill status={r.status} />
                  {r.status === 'exported' && r.settled && <div className="small error">{t('outbox.settled')}</div>}
                </td>
                <td>
                  <Link to="/customers/$customerId" params={{ customerId: r.customerId }}>
                    {r.customerName}
                  </Link>
                </td>
                <td>{r.subject ?? <Code prefix="template" value={r.template} />}</td>
                <td className="small">{recipientsText(r.recipients)}</td>
                <td className="small">{r.invoices.join(', ')}</td>
                <td>
                  <button type="button" onClick={() => setOpen(r)} data-testid="open-message">
                    {t('outbox.open')}
                  </button>
                  {r.status === 'exported' && (
                    <button type="button" onClick={() => confirm.mutate([r.actionId])} disabled={confirm.isPending} data-testid="confirm-sent" title={t('outbox.confirm.f')}>
                      {t('outbox.confirm')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {open && <Message row={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** Messages not gone out yet (with the time each may leave), or failed (with why). */
function PendingCard({ testId, title, empty, rows, failed = false }: { testId: string; title: string; empty: string; rows: OutboxPendingRow[]; failed?: boolean }) {
  const t = useT();
  const lang = useLang();
  return (
    <CountedCard testId={testId} title={title} count={rows.length} empty={empty}>
      <div className="table-wrap">
        <table className="table">
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid={failed ? 'failed-row' : 'pending-row'} data-status={r.status}>
                <td>
                  <StatusPill status={r.status} />
                </td>
                <td>
                  <Link to="/customers/$customerId" params={{ customerId: r.customerId }}>
                    {r.customerName}
                  </Link>
                </td>
                <td>
                  <Code prefix="channel" value={r.channel} /> · <Code prefix="template" value={r.template} />
                </td>
                <td className="small">{r.invoices.join(', ')}</td>
                <td className={failed ? 'small error' : 'small'} data-testid={failed ? 'failed-reason' : 'leaves-at'}>
                  {failed ? (r.reason ?? '—') : r.status === 'awaiting_approval' ? t('outbox.leavesAfterApproval', { when: dateTime(r.leavesAt, lang) }) : t('outbox.leavesAt', { when: dateTime(r.leavesAt, lang) })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </CountedCard>
  );
}

function Message({ row, onClose }: { row: OutboxListRow; onClose: () => void }) {
  const t = useT();
  const lang = useLang();
  const q = useQuery({ queryKey: ['delivery', row.id], queryFn: () => api<DeliveryResponse>(`/api/app/deliveries/${row.id}`) });
  const d = q.data;
  return (
    <Modal title={row.subject ?? row.template} onClose={onClose} testId="message-modal">
      {d && (
        <>
          <div className="small muted">
            SHA-256 {d.sha256} · <a href={d.rawUrl}>{t('outbox.download')}</a>
          </div>
          {d.email && (
            <>
              <div className="small">
                {t('preview.from')} {d.email.from} · {t('preview.to')} {d.email.to}
              </div>
              {d.email.html ? <HtmlFrame html={d.email.html} title={d.email.subject} /> : <pre className="text">{d.email.text}</pre>}
              {d.email.attachments.length > 0 && (
                <div className="small">
                  {t('preview.attachments')}: {d.email.attachments.map((a) => a.filename).join(', ')}
                </div>
              )}
            </>
          )}
          {d.text !== undefined && <pre className="text">{d.text}</pre>}
          {d.contentType.includes('pdf') && <PdfFrame url={d.rawUrl} title={row.subject ?? 'PDF'} />}
          <ul className="timeline">
            {d.events.map((e) => (
              <li key={`${e.kind}-${e.at}`}>
                <span className="when">{dateTime(e.at, lang)}</span>
                <span>
                  <Code prefix="event" value={e.kind} />
                </span>
                <span />
              </li>
            ))}
          </ul>
        </>
      )}
    </Modal>
  );
}
