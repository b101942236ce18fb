import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { useState } from 'react';
import { api } from '../api.ts';
import { Ask, Confirm } from '../components/confirm.tsx';
import type { InvoiceDispute, InvoiceHistoryItem, InvoicePause, InvoiceResponse } from '../../../src/http/routes/app/shapes/invoices.ts';
import { Code, Empty, FormDialog, LoadFailed, Loading, Modal, StatusPill } from '../components/ui.tsx';
import { can, useMe } from '../session.ts';
import { toMinor } from './Today.tsx';
import { date, dateTime, money, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';

export function InvoicePage() {
  const t = useT();
  const lang = useLang();
  const { invoiceId } = useParams({ from: '/app/invoices/$invoiceId' });
  const me = useMe();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['invoice', invoiceId], queryFn: () => api<InvoiceResponse>(`/api/app/invoices/${invoiceId}`) });
  const [dialog, setDialog] = useState<null | 'pause' | 'promise' | 'dispute' | 'note' | 'penalties'>(null);
  const [resolving, setResolving] = useState<InvoiceDispute | null>(null);
  const [lifting, setLifting] = useState<InvoicePause | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const act = useMutation({
    mutationFn: (v: { path: string; body?: unknown }) => api(v.path, { body: v.body ?? {} }),
    onSuccess: () => {
      setDialog(null);
      setResolving(null);
      setLifting(null);
      setNotice(t('common.saved'));
      qc.invalidateQueries({ queryKey: ['invoice', invoiceId] });
      qc.invalidateQueries({ queryKey: ['customer'] });
      qc.invalidateQueries({ queryKey: ['today'] });
    },
  });
  if (q.isPending) return <Loading testId="invoice-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  const i = d.invoice;
  const writer = can(me.data, 'write');
  const open = i.openMinor !== '0';
  const onCustomer = (path: string, body: unknown) => act.mutate({ path: `/api/app/customers/${d.customer.id}${path}`, body });
  const resume = (p: InvoicePause) => {
    const dispute = p.reason === 'dispute' ? d.disputes.find((x) => x.pauseId === p.id && !x.resolvedOn) : undefined;
    if (dispute) setResolving(dispute);
    else setLifting(p);
  };
  return (
    <div className="page" data-testid="invoice-page">
      <header className="page-head">
        <h1>
          {t('col.invoice')} {i.number}
        </h1>
        <span data-testid="invoice-status">
          <StatusPill status={i.status} />
        </span>
        <Link to="/customers/$customerId" params={{ customerId: d.customer.id }}>
          {d.customer.name}
        </Link>
        {d.pauses.map((p) => (
          <span className="pill warn" key={p.id} data-testid="invoice-pause">
            <Code prefix="pause" value={p.reason} /> · {t('customer.pausedCovers', { covers: p.invoices ? p.invoices.join(', ') : t('customer.wholeCustomer') })}
          </span>
        ))}
      </header>
      {notice && <div className="banner good">{notice}</div>}
      {writer && (
        <div className="actions-row" data-testid="invoice-actions">
          {d.pauses.map((p) => (
            <button type="button" key={p.id} onClick={() => resume(p)} data-testid="invoice-resume" data-reason={p.reason}>
              {p.reason === 'dispute' ? t('dispute.resolve') : t('customer.resume')} (<Code prefix="pause" value={p.reason} />)
            </button>
          ))}
          {open && (
            <>
              <button type="button" onClick={() => setDialog('pause')} data-testid="invoice-pause-button">
                {t('customer.pause')}
              </button>
              <button type="button" onClick={() => setDialog('promise')} data-testid="invoice-promise">
                {t('customer.promise')}
              </button>
              <button type="button" onClick={() => setDialog('dispute')} data-testid="invoice-dispute">
                {t('customer.dispute')}
              </button>
            </>
          )}
          <button type="button" onClick={() => setDialog('note')} data-testid="invoice-note">
            {t('customer.note')}
          </button>
          {d.fees && (
            <button type="button" onClick={() => setDialog('penalties')} data-testid="invoice-penalties">
              {t('customer.penalties')}
            </button>
          )}
        </div>
      )}
      {d.disputes.length > 0 && (
        <section className="card" data-testid="invoice-disputes">
          <h2>{t('customer.disputes')}</h2>
          <ul className="timeline">
            {d.disputes.map((x) => (
              <li key={x.id} data-testid="invoice-dispute-row" data-state={x.resolvedOn ? 'resolved' : 'open'}>
                <span className="when">{date(x.openedOn, lang)}</span>
                <span>{x.resolvedOn ? <span className="pill ok">{t('dispute.resolved')} {date(x.resolvedOn, lang)}</span> : <span className="pill bad">{t('dispute.open')}</span>}</span>
                <span className="small">
                  {x.wholeCustomer ? `${t('customer.wholeCustomer')} — ` : ''}
                  {x.reason}
                  {x.resolution ? ` → ${x.resolution}` : ''}
                  {writer && !x.resolvedOn && (
                    <button type="button" onClick={() => setResolving(x)} style={{ marginLeft: 8 }} data-testid="invoice-resolve">
                      {t('dispute.resolve')}
                    </button>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div className="kpis">
        <div className="kpi">
          <div className="kpi-label">{t('col.amount')}</div>
          <div className="kpi-value">{money(i.amountInclTaxMinor, i.currency, lang)}</div>
        </div>
        <div className="kpi">
          <div className="kpi-label">{t('col.open')}</div>
          <div className="kpi-value" data-testid="invoice-open">
            {money(i.openMinor, i.currency, lang)}
          </div>
        </div>
        <div className="kpi">
          <div className="kpi-label">{t('invoice.issued')}</div>
          <div className="kpi-value">{date(i.issueDate, lang)}</div>
        </div>
        <div className="kpi">
          <div className="kpi-label">{t('col.due')}</div>
          <div className="kpi-value">{date(i.dueDate, lang)}</div>
          {d.daysPastDue > 0 && i.openMinor !== '0' && <div className="small error">{t('invoice.late', { n: d.daysPastDue })}</div>}
        </div>
        {d.fees && (
          <div className="kpi">
            <div className="kpi-label">{t('kpi.penalties')}</div>
            <div className="kpi-value">{money((BigInt(d.fees.interestMinor) + BigInt(d.fees.indemnityMinor)).toString(), i.currency, lang)}</div>
          </div>
        )}
      </div>
      <div className="split">
        <section className="card">
          <h2>{t('invoice.calendar')}</h2>
          <div className="table-wrap">
          <table className="table" data-testid="invoice-calendar">
            <tbody>
              {d.calendar.map((l) => (
                <tr key={l.stepKey}>
                  <td>{date(l.date, lang)}</td>
                  <td>{stepLabel(l.offset, lang)}</td>
                  <td>
                    <Code prefix="channel" value={l.channel} />
                  </td>
                  <td>
                    <Code prefix="tone" value={l.tone} />
                  </td>
                  <td>
                    {/* One status per row: held by a pause, else what its message became, else where the step stands. */}
                    {l.paused ? (
                      <span className="pill warn">{t('customer.paused')}</span>
                    ) : l.actionStatus ? (
                      <StatusPill status={l.actionStatus} />
                    ) : (
                      <span className={`pill ${l.state === 'done' ? 'ok' : l.state === 'future' ? 'info' : 'warn'}`}>{t(`calendar.${l.state}` as MessageKey)}</span>
                    )}
                  </td>
                  <td className="small muted">
                    <Code prefix="skip" value={l.reason ?? (l.waiting ? l.prerequisite : null)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
          {d.calendar.length === 0 && <p className="muted">{t('invoice.noCalendar')}</p>}
        </section>
        <section className="card">
          <h2>{t('invoice.settlements')}</h2>
          {d.settlements.length === 0 && <Empty testId="invoice-no-settlement">{t('invoice.noSettlements')}</Empty>}
          <table className="table" data-testid="settlements">
            <tbody>
              {d.settlements.map((s) => (
                <tr key={`${s.kind}-${s.id}`}>
                  <td>{date(s.on, lang)}</td>
                  <td>{s.kind === 'write_off' ? t('invoice.writeOff') : s.creditNote ? `${t('timeline.credit_note')} ${s.creditNote}` : <Code prefix="method" value={s.method} />}</td>
                  <td className="num">{money(s.amountMinor, i.currency, lang)}</td>
                  <td className="small muted">{s.reference}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 style={{ marginTop: 20 }}>{t('invoice.documents')}</h2>
          {d.documents.length === 0 && <Empty testId="invoice-no-document">{t('invoice.noDocuments')}</Empty>}
          <ul className="timeline">
            {d.documents.map((doc) => (
              <li key={`${doc.kind}-${doc.id}`}>
                <span className="when">{doc.kind === 'delivery' && doc.at ? dateTime(doc.at, lang) : ''}</span>
                <span>{doc.kind === 'invoice_pdf' ? t('invoice.pdf') : <Code prefix="channel" value={doc.channel} />}</span>
                <span>
                  <a href={doc.url} target="_blank" rel="noreferrer">
                    {doc.kind === 'invoice_pdf' ? t('timeline.open') : (doc.subject ?? <Code prefix="template" value={doc.template} />)}
                  </a>
                </span>
              </li>
            ))}
          </ul>
          <h2 style={{ marginTop: 20 }}>{t('invoice.history')}</h2>
          {d.history.length === 0 && <Empty testId="invoice-no-history">{t(open && d.calendar.length > 0 ? 'invoice.noHistoryOpen' : 'invoice.noHistory')}</Empty>}
          <ul className="timeline" data-testid="invoice-history">
            {d.history.map((h) => (
              <li key={`${h.kind}-${h.id}`} data-kind={h.kind}>
                <span className="when">{h.at.length > 10 ? dateTime(h.at, lang) : date(h.at, lang)}</span>
                <span>
                  <span className="pill">{t(h.kind === 'action' ? 'timeline.reminder' : (`timeline.${h.kind}` as MessageKey))}</span>
                </span>
                <span className="small">
                  <HistoryText h={h} />
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      {dialog === 'pause' && (
        <FormDialog title={t('customer.pause')} pending={act.isPending} error={act.error?.message} onClose={() => setDialog(null)} onSubmit={(f) => onCustomer('/pause', { invoiceIds: [i.id], until: f.get('until') || null, note: f.get('note') || null })}>
          <label>
            {t('customer.pauseUntil')}
            <input type="date" name="until" min={d.today} />
          </label>
          <label className="wide">
            {t('call.note')}
            <input name="note" />
          </label>
        </FormDialog>
      )}
      {dialog === 'promise' && (
        <FormDialog title={t('customer.promise')} pending={act.isPending} error={act.error?.message} onClose={() => setDialog(null)} onSubmit={(f) => onCustomer('/promise', { invoiceIds: [i.id], promisedOn: f.get('promisedOn'), amountMinor: toMinor(String(f.get('amount') || '')) ?? i.openMinor })}>
          <label>
            {t('call.promisedOn')}
            <input type="date" name="promisedOn" required min={d.today} />
          </label>
          <label>
            {t('call.promisedAmount')}
            <input name="amount" inputMode="decimal" placeholder={money(i.openMinor, i.currency, lang)} />
          </label>
        </FormDialog>
      )}
      {dialog === 'dispute' && (
        <FormDialog title={t('customer.dispute')} pending={act.isPending} error={act.error?.message} onClose={() => setDialog(null)} onSubmit={(f) => onCustomer('/dispute', { invoiceIds: [i.id], reason: f.get('reason') })} testId="invoice-dispute-dialog">
          <label className="wide">
            {t('call.disputeReason')}
            <input name="reason" required />
          </label>
        </FormDialog>
      )}
      {dialog === 'note' && (
        <FormDialog title={t('customer.note')} pending={act.isPending} error={act.error?.message} onClose={() => setDialog(null)} onSubmit={(f) => onCustomer('/notes', { body: f.get('body'), invoiceId: i.id, followUpOn: f.get('followUpOn') || null })} testId="invoice-note-dialog">
          <label className="wide">
            {t('call.note')}
            <textarea name="body" rows={4} required />
          </label>
          <label className="wide">
            {t('note.followUpOn')}
            <input type="date" name="followUpOn" min={d.today} />
          </label>
        </FormDialog>
      )}
      {dialog === 'penalties' && d.fees && (
        <Modal title={t('customer.penalties')} onClose={() => setDialog(null)} testId="invoice-penalties-modal">
          <p>{t('penalties.total', { interest: money(d.fees.interestMinor, i.currency, lang), indemnity: money(d.fees.indemnityMinor, i.currency, lang) })}</p>
          <ul className="small">
            {d.fees.periods.map((p) => (
              <li key={p.from}>
                {date(p.from, lang)} → {date(p.to, lang)} : {p.days} {t('common.days')} × {p.ratePercent} % = {money(p.interestMinor, i.currency, lang)}
              </li>
            ))}
          </ul>
        </Modal>
      )}
      {lifting && (
        <Confirm title={t('customer.resume')} pending={act.isPending} onClose={() => setLifting(null)} onConfirm={() => act.mutate({ path: `/api/app/pauses/${lifting.id}/lift` })}>
          {t('customer.resumeAsk', { covers: lifting.invoices ? lifting.invoices.join(', ') : t('customer.wholeCustomer') })}
          {act.error && <div className="error">{act.error.message}</div>}
        </Confirm>
      )}
      {resolving && (
        <Ask
          title={t('dispute.resolve')}
          label={t('dispute.resolution')}
          note={`${resolving.reason}. ${t('dispute.resolveNote')}`}
          pending={act.isPending}
          error={act.error?.message ?? null}
          onClose={() => setResolving(null)}
          onSubmit={(resolution) => act.mutate({ path: `/api/app/disputes/${resolving.id}/resolve`, body: { resolution } })}
          testId="resolve-dialog"
        />
      )}
    </div>
  );
}

function HistoryText({ h }: { h: InvoiceHistoryItem }) {
  const t = useT();
  const lang = useLang();
  switch (h.kind) {
    case 'action':
      return (
        <>
          <Code prefix="channel" value={h.channel} /> · <Code prefix="template" value={h.template} /> <StatusPill status={h.status} />
        </>
      );
    case 'promise':
      return (
        <>
          {money(h.amountMinor, h.currency, lang)} {t('common.on')} {date(h.promisedOn, lang)} <StatusPill status={h.status} />
        </>
      );
    case 'note':
      return (
        <>
          {h.body} <span className="muted">({h.author})</span>
          {h.followUpOn ? ` · ${t('note.followUpShown', { date: date(h.followUpOn, lang) })}` : ''}
        </>
      );
    case 'dispute':
      return (
        <>
          {h.reason} {h.resolvedOn ? `· ${t('dispute.resolved')} ${date(h.resolvedOn, lang)}: ${h.resolution}` : <span className="pill bad">{t('dispute.open')}</span>}
        </>
      );
  }
}
