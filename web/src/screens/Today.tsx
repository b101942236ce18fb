import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { Ask } from '../components/confirm.tsx';
import { ActionPreview, BankHold, RateWarnings, Code, Modal, StatusPill, CountedCard, Loading, LoadFailed } from '../components/ui.tsx';
import { date, dateTime, hasKey, money, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';
import type { ActivityResponse, ActionRow, ApproveResponse, CallRow, CancelResponse, TodayResponse } from '../../../src/http/routes/app/shapes/today.ts';

export function Today() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const [byExpected, setByExpected] = useState(false);
  const q = useQuery({ queryKey: ['today', byExpected], queryFn: () => api<TodayResponse>(`/api/app/today${byExpected ? '?sort=expected' : ''}`) });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [preview, setPreview] = useState<ActionRow | null>(null);
  const [call, setCall] = useState<CallRow | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState<string[] | null>(null);
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['today'] });
    qc.invalidateQueries({ queryKey: ['dashboard'] });
  };
  const approve = useMutation({
    mutationFn: (ids: string[]) => api<ApproveResponse>('/api/app/actions/approve', { body: { ids } }),
    onSuccess: (r) => {
      setNotice(t('today.approvedN', { n: r.approved.length }));
      setSelected(new Set());
      setPreview(null);
      refresh();
    },
  });
  const cancel = useMutation({
    mutationFn: (v: { ids: string[]; reason: string }) => api<CancelResponse>('/api/app/actions/cancel', { body: v }),
    onSuccess: (r) => {
      setCancelling(null);
      setNotice(t('today.cancelledN', { n: r.cancelled.length }));
      setSelected(new Set());
      setPreview(null);
      refresh();
    },
  });
  const noteDone = useMutation({
    mutationFn: (id: string) => api(`/api/app/notes/${id}/done`, { body: {} }),
    onSuccess: refresh,
  });
  const resolve = useMutation({
    mutationFn: (v: { ids: string[]; as: 'sent' | 'not_sent' }) => api('/api/app/actions/resolve', { body: v }),
    onSuccess: refresh,
  });
  if (q.isPending) return <Loading testId="today-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  const calls = d.calls.filter((c) => c.kind === 'call');
  const tasks = d.calls.filter((c) => c.kind !== 'call');
  const writer = can(me.data, 'write');
  const askCancel = (ids: string[]) => setCancelling(ids);
  const toggle = (id: string) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const error = approve.error ?? resolve.error ?? noteDone.error;
  return (
    <div className="page" data-testid="today">
      <header className="page-head">
        <h1>{t('today.title')}</h1>
        <span className="muted">{date(d.today, lang)}</span>
        <label className="small">
          <input type="checkbox" checked={byExpected} onChange={(e) => setByExpected(e.target.checked)} data-testid="sort-expected" /> {t('today.sortExpected')}
        </label>
      </header>
      <BankHold hold={d.bank} today={d.today} />
      <RateWarnings warnings={d.rateWarnings} />
      {notice && (
        <div className="banner good" data-testid="today-notice">
          {notice}
        </div>
      )}
      {error && <div className="banner bad">{error.message}</div>}

      <section className="card" data-testid="approvals">
        <div className="page-head">
          <h2>
            {t('today.approvals')} ({d.approvals.length})
          </h2>
          <span className="spacer" />
          {writer && d.approvals.length > 0 && (
            <div className="actions-row">
              <button type="button" onClick={() => setSelected(selected.size === d.approvals.length ? new Set() : new Set(d.approvals.map((a) => a.id)))}>
                {selected.size === d.approvals.length ? t('common.selectNone') : t('common.selectAll')}
              </button>
              <button type="button" className="primary" disabled={selected.size === 0 || approve.isPending} onClick={() => approve.mutate([...selected])} data-testid="approve-selected">
                {t('today.approveN', { n: selected.size })}
              </button>
              <button type="button" className="danger" disabled={selected.size === 0} onClick={() => askCancel([...selected])}>
                {t('today.cancelN', { n: selected.size })}
              </button>
            </div>
          )}
        </div>
        {d.approvals.length === 0 ? (
          <p className="muted">{t('today.noApprovals')}</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th />
                <th>{t('col.customer')}</th>
                <th>{t('col.channel')}</th>
                <th>{t('col.template')}</th>
                <th>{t('col.invoices')}</th>
                <th className="num">{t('col.open')}</th>
                <th className="num">{t('col.expected')}</th>
                <th>{t('col.leaves')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {d.approvals.map((a) => (
                <tr key={a.id} data-testid={`approval-${a.id}`} data-template={a.template} className={selected.has(a.id) ? 'sel' : ''}>
                  <td>{writer && <input type="checkbox" checked={selected.has(a.id)} onChange={() => toggle(a.id)} aria-label={a.customerName} />}</td>
                  <td>
                    <Link to="/customers/$customerId" params={{ customerId: a.customerId }}>
                      {a.customerName}
                    </Link>
                  </td>
                  <td>
                    <Code prefix="channel" value={a.channel} />
                  </td>
                  <td>
                    <Code prefix="template" value={a.template} />
                  </td>
                  <td className="small">{a.invoices.join(', ')}</td>
                  <td className="num">{money(a.openMinor, a.currency, lang)}</td>
                  <td className="num" data-testid="expected">{money(a.expectedMinor ?? '0', a.currency, lang)}</td>
                  <td className="small" data-testid="leaves-at">{t('outbox.leavesAfterApproval', { when: dateTime(a.nextAttemptAt ?? a.sendAfter, lang) })}</td>
                  <td>
                    <button type="button" onClick={() => setPreview(a)} data-testid="open-preview">
                      {t('today.preview')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <CountedCard testId="calls" title={t('today.calls')} count={d.calls.length} empty={t('today.noCalls')}>
        <table className="table">
          <thead>
            <tr>
              <th>{t('col.customer')}</th>
              <th>{t('col.phones')}</th>
              <th>{t('col.invoices')}</th>
              <th>{t('col.due')}</th>
              <th className="num">{t('col.attempts')}</th>
              <th className="num">{t('col.expected')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.id} data-testid={`call-${c.id}`}>
                <td>
                  <Link to="/customers/$customerId" params={{ customerId: c.customerId }}>
                    {c.customerName}
                  </Link>
                </td>
                <td>
                  {c.phones.map((p) => (
                    <div key={p}>
                      <a href={`tel:${p.replace(/\s/g, '')}`}>{p}</a>
                    </div>
                  ))}
                </td>
                <td className="small">{c.invoices.map((i) => i.number).join(', ')}</td>
                <td>{date(c.dueOn, lang)}</td>
                <td className="num">{c.attempts}</td>
                <td className="num">{money(c.expectedMinor ?? '0', c.invoices[0]?.currency ?? 'EUR', lang)}</td>
                <td>
                  {writer && (
                    <button type="button" className="primary" onClick={() => setCall(c)} data-testid="log-call">
                      {t('today.logCall')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </CountedCard>

      {(d.queuedCalls?.length ?? 0) > 0 && (
        <section className="card" data-testid="queued-calls">
          <h2>
            {t('today.queuedCalls')} ({d.queuedCalls.length})
          </h2>
          <ul className="timeline">
            {d.queuedCalls.map((a) => (
              <li key={a.id} data-testid="queued-call">
                <span className="when">{dateTime(a.sendAfter, lang)}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: a.customerId }}>
                    {a.customerName}
                  </Link>
                </span>
                <span className="small">
                  <Code prefix="template" value={a.template} /> · {a.invoices.join(', ')} · {t('today.callAt', { when: dateTime(a.sendAfter, lang) })}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {(d.otherTasks?.length ?? 0) > 0 && (
        <section className="card" data-testid="other-tasks">
          <h2>
            {t('today.otherTasks')} ({d.otherTasks.length})
          </h2>
          <ul className="timeline">
            {d.otherTasks.map((x) => (
              <li key={x.id} data-testid="other-task" data-kind={x.kind}>
                <span className="when">{t('task.dueOn', { date: date(x.dueOn, lang) })}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: x.customerId }}>
                    {x.customerName}
                  </Link>
                </span>
                <span className="small">{hasKey(`task.${x.kind}`) ? t(`task.${x.kind}` as MessageKey) : t('task.other')}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {(d.noteFollowups?.length ?? 0) > 0 && (
        <section className="card" data-testid="note-followups">
          <h2>
            {t('today.noteFollowups')} ({d.noteFollowups.length})
          </h2>
          <ul className="timeline">
            {d.noteFollowups.map((n) => (
              <li key={n.id} data-testid="note-followup">
                <span className="when">{date(n.followUpOn, lang)}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: n.customerId }}>
                    {n.customerName}
                  </Link>
                </span>
                <span className="small">
                  {n.body} <span className="muted">({n.author})</span>
                  {writer && (
                    <button type="button" onClick={() => noteDone.mutate(n.id)} disabled={noteDone.isPending} data-testid="note-done" style={{ marginLeft: 8 }}>
                      {t('note.done')}
                    </button>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {tasks.length > 0 && (
        <section className="card" data-testid="tasks">
          <h2>
            {t('today.tasks')} ({tasks.length})
          </h2>
          <table className="table">
            <tbody>
              {tasks.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to="/customers/$customerId" params={{ customerId: c.customerId }}>
                      {c.customerName}
                    </Link>
                  </td>
                  <td className="small">
                    {c.template && c.script?.startsWith(`${c.template}: `) ? (
                      <>
                        <Code prefix="template" value={c.template} /> : {c.script.slice(c.template.length + 2)}
                      </>
                    ) : (
                      c.script
                    )}
                  </td>
                  <td>{date(c.dueOn, lang)}</td>
                  <td>
                    {writer && (
                      <button type="button" onClick={() => setCall(c)}>
                        {t('today.logTask')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <div className="grid2">
        <section className="card" data-testid="broken-promises">
          <h2>
            {t('today.brokenPromises')} ({d.brokenPromises.length + d.missedInstalments.length})
          </h2>
          {d.brokenPromises.length + d.missedInstalments.length === 0 && <p className="muted">{t('common.none')}</p>}
          <ul className="timeline">
            {[...d.brokenPromises, ...d.missedInstalments].map((b) => (
              <li key={b.id}>
                <span className="when">{date(b.dueOn, lang)}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: b.customerId }}>
                    {b.customerName}
                  </Link>
                </span>
                <span className="small">
                  {b.promisedOn ? t('today.promiseOf', { amount: money(b.amountMinor, b.currency ?? 'EUR', lang), date: date(b.promisedOn, lang) }) : b.note}
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section className="card" data-testid="new-disputes">
          <h2>
            {t('today.disputes')} ({d.disputes.length})
          </h2>
          {d.disputes.length === 0 && <p className="muted">{t('common.none')}</p>}
          <ul className="timeline">
            {d.disputes.map((x) => (
              <li key={x.id}>
                <span className="when">{date(x.openedOn, lang)}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: x.customerId }}>
                    {x.customerName}
                  </Link>
                </span>
                <span className="small">
                  {x.invoice ? `${x.invoice} — ` : ''}
                  {x.reason}
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>

      <CountedCard testId="delivery-problems" title={t('today.problems')} count={d.problems.length} empty={t('common.none')}>
        <table className="table">
          <tbody>
            {d.problems.map((a) => (
              <tr key={a.id}>
                <td>
                  <StatusPill status={a.status} />
                </td>
                <td>
                  <Link to="/customers/$customerId" params={{ customerId: a.customerId }}>
                    {a.customerName}
                  </Link>
                </td>
                <td>
                  <Code prefix="channel" value={a.channel} /> · <Code prefix="template" value={a.template} />
                </td>
                <td className="small error">{a.lastError ?? a.statusReason}</td>
                <td>
                  {writer && a.status === 'uncertain' && (
                    <div className="actions-row">
                      <button type="button" onClick={() => resolve.mutate({ ids: [a.id], as: 'sent' })}>
                        {t('today.wasSent')}
                      </button>
                      <button type="button" onClick={() => resolve.mutate({ ids: [a.id], as: 'not_sent' })}>
                        {t('today.notSent')}
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </CountedCard>

      {(d.creditAlerts?.length ?? 0) > 0 && (
        <section className="card" data-testid="credit-alerts">
          <h2>
            {t('today.creditAlerts')} ({d.creditAlerts!.length})
          </h2>
          <ul className="timeline">
            {d.creditAlerts!.map((a) => (
              <li key={a.id} data-testid="credit-alert">
                <span className="when">{date(a.raisedOn, lang)}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: a.customerId }}>
                    {a.customerName}
                  </Link>
                </span>
                <span className="small error">
                  {t('today.creditAlertLine', { exposure: money(a.exposureMinor, a.currency, lang), limit: money(a.limitMinor, a.currency, lang) })}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      {d.followups.length > 0 && (
        <section className="card">
          <h2>{t('today.followups')}</h2>
          <ul className="timeline">
            {d.followups.map((f) => (
              <li key={f.id}>
                <span className="when">{dateTime(f.createdAt, lang)}</span>
                <span>
                  <Link to="/customers/$customerId" params={{ customerId: f.customerId }}>
                    {f.customerName}
                  </Link>
                </span>
                <span className="small">
                  <Code prefix="followup" value={f.kind} /> — {f.note}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <Activity />

      {preview && (
        <Modal title={`${preview.customerName} — ${t(`template.${preview.template}` as never)}`} onClose={() => setPreview(null)} testId="preview-modal">
          <ActionPreview id={preview.id} />
          {writer && (
            <div className="actions-row">
              <button type="button" className="primary" onClick={() => approve.mutate([preview.id])} disabled={approve.isPending} data-testid="approve-one">
                {t('today.approve')}
              </button>
              <button type="button" className="danger" onClick={() => askCancel([preview.id])}>
                {t('today.cancel')}
              </button>
            </div>
          )}
        </Modal>
      )}
      {cancelling && (
        <Ask
          title={t('today.cancelTitle')}
          label={t('today.cancelReason')}
          pending={cancel.isPending}
          error={cancel.error?.message ?? null}
          onClose={() => setCancelling(null)}
          onSubmit={(reason) => cancel.mutate({ ids: cancelling, reason })}
          testId="cancel-dialog"
        />
      )}
      {call && <CallOutcome call={call} today={d.today} onClose={() => setCall(null)} onDone={(msg) => { setCall(null); setNotice(msg); refresh(); }} />}
    </div>
  );
}

/** What happened lately across every account: calls, notes, promises, disputes, payments, portal visits. */
function Activity() {
  const t = useT();
  const lang = useLang();
  const q = useQuery({ queryKey: ['activity'], queryFn: () => api<ActivityResponse>('/api/app/activity?limit=40') });
  return (
    <section className="card" data-testid="activity">
      <h2>{t('today.activity')}</h2>
      {q.isPending && <Loading />}
      {q.isError && <LoadFailed error={q.error} onRetry={() => q.refetch()} />}
      {q.data?.items.length === 0 && <p className="muted">{t('today.noActivity')}</p>}
      <ul className="timeline">
        {q.data?.items.map((x) => (
          <li key={`${x.kind}-${x.id}`} data-testid="activity-item" data-kind={x.kind}>
            <span className="when">{x.at.length > 10 ? dateTime(x.at, lang) : date(x.at, lang)}</span>
            <span>
              <span className="pill">{t(`timeline.${x.kind}` as MessageKey)}</span>{' '}
              <Link to="/customers/$customerId" params={{ customerId: x.customerId }}>
                {x.customerName}
              </Link>
            </span>
            <span className="small">
              {x.kind === 'call' && <Code prefix="outcome" value={x.code} />}
              {x.kind === 'portal' && <Code prefix="portal.event" value={x.code} />}
              {x.kind === 'payment' && <Code prefix="method" value={x.code} />}
              {x.kind === 'promise' && x.code && <StatusPill status={x.code} />}
              {x.kind === 'dispute' && (x.code === 'open' ? <span className="pill bad">{t('dispute.open')}</span> : <span className="pill ok">{t('dispute.resolvedShort')}</span>)}
              {x.amountMinor && x.currency ? ` ${money(x.amountMinor, x.currency, lang)}` : ''}
              {x.text ? ` · ${x.text}` : ''}
              {x.by ? <span className="muted"> ({x.by})</span> : null}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

const OUTCOMES = ['reached', 'no_answer', 'wrong_number', 'promise_to_pay', 'dispute', 'already_paid', 'payment_plan_requested'] as const;
const REASONS = ['forgot', 'invoice_not_received', 'missing_purchase_order', 'dispute', 'cash_difficulty', 'bad_faith', 'other'] as const;

/** Parses "1 234,56" or "1234.56" into minor units without a float. */
export function toMinor(text: string): string | null {
  const s = text.replace(/[\s\u00a0\u202f€]/g, '').replace(',', '.');
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return (BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0') || '0')).toString();
}

function CallOutcome({ call, today, onClose, onDone }: { call: CallRow; today: string; onClose: () => void; onDone: (msg: string) => void }) {
  const t = useT();
  const lang = useLang();
  const [outcome, setOutcome] = useState<(typeof OUTCOMES)[number]>('reached');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [promisedOn, setPromisedOn] = useState(today);
  const total = call.invoices.reduce((s, i) => s + BigInt(i.openMinor ?? '0'), 0n);
  const currency = call.invoices[0]?.currency ?? 'EUR';
  const [amount, setAmount] = useState(total > 0n ? (Number(total) / 100).toFixed(2).replace('.', lang === 'fr' ? ',' : '.') : '');
  const [disputeReason, setDisputeReason] = useState('');
  const save = useMutation({
    mutationFn: () =>
      api(`/api/app/calls/${call.id}/outcome`, {
        body: {
          outcome,
          reason: reason || undefined,
          note,
          promisedOn: outcome === 'promise_to_pay' ? promisedOn : undefined,
          promisedMinor: outcome === 'promise_to_pay' ? (toMinor(amount) ?? '') : undefined,
          disputeReason: outcome === 'dispute' ? disputeReason : undefined,
        },
      }),
    onSuccess: () => onDone(t('today.callSaved')),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Modal title={`${t('today.logCall')} — ${call.customerName}`} onClose={onClose} testId="call-modal">
      <div className="grid2">
        <div>
          <h3>{t('today.script')}</h3>
          <pre className="text">{call.script ?? '—'}</pre>
        </div>
        <div>
          <h3>{t('col.phones')}</h3>
          {call.phones.map((p) => (
            <div key={p}>
              <a href={`tel:${p.replace(/\s/g, '')}`}>{p}</a>
            </div>
          ))}
          <h3>{t('col.invoices')}</h3>
          <table className="table">
            <tbody>
              {call.invoices.map((i) => (
                <tr key={i.id ?? i.number}>
                  <td>{i.number}</td>
                  <td>{date(i.dueDate, lang)}</td>
                  <td className="num">{i.openMinor ? money(i.openMinor, i.currency ?? currency, lang) : i.open}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
      <form className="form" onSubmit={submit} data-testid="call-form">
        <label>
          {t('call.outcome')}
          <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as (typeof OUTCOMES)[number])}>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`outcome.${o}` as never)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('call.reason')}
          <select name="reason" value={reason} onChange={(e) => setReason(e.target.value)}>
            <option value="">—</option>
            {REASONS.map((o) => (
              <option key={o} value={o}>
                {t(`reason.${o}` as never)}
              </option>
            ))}
          </select>
        </label>
        {outcome === 'promise_to_pay' && (
          <>
            <label>
              {t('call.promisedOn')}
              <input type="date" name="promisedOn" value={promisedOn} min={today} onChange={(e) => setPromisedOn(e.target.value)} required />
            </label>
            <label>
              {t('call.promisedAmount')}
              <input name="promisedAmount" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" required />
            </label>
          </>
        )}
        {outcome === 'dispute' && (
          <label className="wide">
            {t('call.disputeReason')}
            <input name="disputeReason" value={disputeReason} onChange={(e) => setDisputeReason(e.target.value)} required />
          </label>
        )}
        <label className="wide">
          {t('call.note')}
          <textarea name="note" rows={3} value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        {save.error && <div className="error wide">{save.error.message}</div>}
        <div className="actions-row wide">
          <button type="submit" className="primary" disabled={save.isPending} data-testid="save-call">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
