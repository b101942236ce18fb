import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import type { CustomerContact, CustomerDispute, CustomerOpenItem, CustomerPageResponse, CustomerTimelineItem, CustomerPenaltiesResponse } from '../../../src/http/routes/app/shapes/customers.ts';
import { api, downloadFile } from '../api.ts';
import { addMonths, type CalendarDate } from '../../../src/domain/dates.ts';
import { planSchedule } from '../../../src/domain/payment-plan.ts';
import { Ask, Confirm } from '../components/confirm.tsx';
import { Code, FormDialog, Loading, LoadFailed, Modal, StatusPill } from '../components/ui.tsx';
import { date, dateTime, money, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';
import { toMinor } from './Today.tsx';

type Pause = CustomerPageResponse['pauses'][number];
type OpenItem = CustomerOpenItem;
type Contact = CustomerContact;
type Dispute = CustomerDispute;
type TimelineItem = CustomerTimelineItem;

/** Minor units as the decimal people type back ("500000" → "5000.00"). */
const decimalOf = (minor: string): string => {
  const neg = minor.startsWith('-');
  const digits = (neg ? minor.slice(1) : minor).padStart(3, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
};


export function Customer() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const { customerId } = useParams({ from: '/app/customers/$customerId' });
  const q = useQuery({ queryKey: ['customer', customerId], queryFn: () => api<CustomerPageResponse>(`/api/app/customers/${customerId}`) });
  const [dialog, setDialog] = useState<null | 'promise' | 'dispute' | 'plan' | 'pause' | 'penalties' | 'note' | 'credit' | 'edit' | 'contact' | 'call'>(null);
  const [contact, setContact] = useState<Contact | null>(null);
  const [removing, setRemoving] = useState<Contact | null>(null);
  const [resolving, setResolving] = useState<Dispute | null>(null);
  const [resuming, setResuming] = useState<Pause | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // The escalation files are fetched, not linked: a refusal (a disputed debt, no formal notice...) is shown here.
  const [fileBusy, setFileBusy] = useState<null | 'caseFile' | 'injonction'>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const fetchFile = async (which: 'caseFile' | 'injonction', path: string) => {
    setFileBusy(which);
    setFileError(null);
    try {
      await downloadFile(path);
    } catch (e) {
      setFileError(e instanceof Error ? e.message : String(e));
    } finally {
      setFileBusy(null);
    }
  };
  const act = useMutation({
    // A path under the customer, or one of the app's own (/api/app/...).
    mutationFn: (v: { path: string; body?: unknown }) => api(v.path.startsWith('/api/') ? v.path : `/api/app/customers/${customerId}${v.path}`, { body: v.body ?? {} }),
    onSuccess: () => {
      setDialog(null);
      setContact(null);
      setRemoving(null);
      setResolving(null);
      setResuming(null);
      setNotice(t('common.saved'));
      qc.invalidateQueries({ queryKey: ['customer', customerId] });
      qc.invalidateQueries({ queryKey: ['today'] });
      qc.invalidateQueries({ queryKey: ['dashboard'] });
    },
  });
  if (q.isPending) return <Loading testId="customer-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  const c = d.customer;
  const writer = can(me.data, 'write');
  const future = d.calendar.filter((l) => l.state === 'future' || l.state === 'due');
  const activePauses = d.pauses.filter((p) => p.active);
  const plans = d.timeline.filter((e) => e.kind === 'plan');
  // The invoices under an open dispute (all of them when a dispute is about the whole customer).
  const disputedIds = new Set(d.disputes.filter((x) => !x.resolvedOn).flatMap((x) => x.invoiceIds ?? d.openItems.map((i) => i.invoiceId)));
  const covers = (p: { invoices: string[] | null }) => (p.invoices ? p.invoices.join(', ') : t('customer.wholeCustomer'));
  // A dispute's pause ends with the dispute: its button asks how it was resolved.
  const resume = (p: Pause) => {
    const dispute = p.reason === 'dispute' ? d.disputes.find((x) => x.pauseId === p.id && !x.resolvedOn) : undefined;
    if (dispute) setResolving(dispute);
    else setResuming(p);
  };
  return (
    <div className="page" data-testid="customer-page">
      <header className="page-head">
        <h1 data-testid="customer-name">{c.legalName}</h1>
        <span className="muted">
          {t(`kind.${c.kind}` as MessageKey)}
          {c.siren ? ` · SIREN ${c.siren}` : ''}
          {c.externalId ? ` · ${c.externalId}` : ''} · {t('customer.terms', { n: c.paymentTermsDays })} · {t('customer.owner')}&nbsp;:{' '}
          <span data-testid="customer-owner">{d.owner ?? t('customer.noOwner')}</span>
        </span>
        {d.credit.exposure.overLimit && (
          <span className="pill bad" data-testid="over-limit-badge">
            {t('credit.overBadge')}
          </span>
        )}
        {activePauses.map((p) => (
          <span className="pill warn" data-testid="paused-badge" key={p.id}>
            {t('customer.pausedCovers', { covers: p.invoices ? p.invoices.join(', ') : t('customer.wholeCustomer') })}
          </span>
        ))}
      </header>
      {notice && <div className="banner good">{notice}</div>}
      {act.error && <div className="banner bad">{act.error.message}</div>}
      <div className="grid3">
        {d.balances.map((b) => (
          <section className="card" key={b.currency}>
            <div className="kpi-label">{t('col.open')}</div>
            <div className="kpi-value" data-testid="customer-open">
              {money(b.openInvoicesMinor, b.currency, lang)}
            </div>
            <div className="small error">
              {t('col.overdue')}: {money(b.overdueMinor, b.currency, lang)}
            </div>
            {b.unallocatedCreditMinor !== '0' && (
              <div className="small muted">
                {t('customer.credit')}: {money(b.unallocatedCreditMinor, b.currency, lang)}
              </div>
            )}
          </section>
        ))}
        <section className="card">
          <div className="kpi-label">{t('customer.scenario')}</div>
          <div className="kpi-value small">{d.scenario.name}</div>
          {writer && (
            <select
              value={d.scenario.key}
              onChange={(e) => act.mutate({ path: '/scenario', body: { scenario: e.target.value } })}
              aria-label={t('customer.changeScenario')}
              data-testid="scenario-select"
            >
              {d.scenarios.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </section>
        <section className="card" data-testid="credit-policy">
          <div className="kpi-label">{t('credit.title')}</div>
          <div className="small">
            {t('credit.limit')}: <span data-testid="credit-limit">{d.credit.creditLimitMinor === null ? t('credit.noLimit') : money(d.credit.creditLimitMinor, d.currency, lang)}</span>
          </div>
          <div className="small">
            {t('credit.exposure')}: <strong data-testid="credit-exposure">{money(d.credit.exposure.exposureMinor, d.currency, lang)}</strong> (
            {t('credit.exposureDetail', { open: money(d.credit.exposure.openMinor, d.currency, lang), orders: money(d.credit.exposure.ordersMinor, d.currency, lang) })})
          </div>
          {d.credit.exposure.headroomMinor !== null && (
            <div className={`small ${d.credit.exposure.overLimit ? 'error' : 'muted'}`} data-testid="credit-headroom">
              {d.credit.exposure.overLimit
                ? t('credit.overLimit', { over: money(String(-BigInt(d.credit.exposure.headroomMinor)), d.currency, lang) })
                : t('credit.headroom', { headroom: money(d.credit.exposure.headroomMinor, d.currency, lang) })}
            </div>
          )}
          <div className="small muted">
            {t('credit.riskClass')}: {t(`credit.riskClass.${d.credit.riskClass ?? 'none'}` as MessageKey)}
            {d.credit.depositPercent ? ` · ${t('credit.depositShown', { percent: d.credit.depositPercent })}` : ''}
            {d.credit.earlyPaymentDiscount ? ` · ${t('credit.discountShown', { percent: d.credit.earlyPaymentDiscount.percent, days: d.credit.earlyPaymentDiscount.withinDays })}` : ''}
          </div>
          {writer && (
            <button type="button" onClick={() => setDialog('credit')} data-testid="edit-credit">
              {t('credit.edit')}
            </button>
          )}
        </section>
        <section className="card" data-testid="risk">
          <div className="kpi-label">{t('risk.title')}</div>
          <div className="kpi-value small">
            <span className={`pill ${d.risk.level === 'high' ? 'bad' : d.risk.level === 'medium' ? 'warn' : 'ok'}`} data-testid="risk-score">
              {d.risk.score}/100 · {t(`risk.level.${d.risk.level}` as MessageKey)}
            </span>
          </div>
          <ul className="small" data-testid="risk-reasons">
            {d.risk.reasons.map((r) => (
              <li key={r.key}>{lang === 'fr' ? r.fr : r.en}</li>
            ))}
          </ul>
        </section>
        <section className="card" data-testid="contacts">
          <div className="kpi-label">{t('customer.contacts')}</div>
          {c.contacts.length === 0 && (
            <p className="small muted" data-testid="no-contact">
              {t('contact.none')}
            </p>
          )}
          {c.contacts.map((ct) => (
            <div key={ct.id} className="small contact-line" data-testid="contact">
              <strong>{ct.name}</strong>
              {ct.role ? ` (${ct.role})` : ''} {ct.receivesReminders && <span className="pill info">{t('contact.remindersBadge')}</span>}
              <div>
                {ct.email && <a href={`mailto:${ct.email}`}>{ct.email}</a>} {ct.phone && <a href={`tel:${ct.phone.replace(/\s/g, '')}`}>{ct.phone}</a>}
              </div>
              {writer && (
                <div className="actions-row">
                  <button
                    type="button"
                    onClick={() => {
                      setContact(ct);
                      setDialog('contact');
                    }}
                    data-testid="edit-contact"
                  >
                    {t('contact.edit')}
                  </button>
                  <button type="button" className="danger" onClick={() => setRemoving(ct)} data-testid="remove-contact">
                    {t('contact.remove')}
                  </button>
                </div>
              )}
            </div>
          ))}
          {writer && (
            <button
              type="button"
              onClick={() => {
                setContact(null);
                setDialog('contact');
              }}
              data-testid="add-contact"
            >
              {t('contact.add')}
            </button>
          )}
        </section>
      </div>

      <div className="actions-row">
        {writer && (
          <>
            {activePauses.map((p) => (
              <button type="button" key={p.id} onClick={() => resume(p)} data-testid="resume" data-reason={p.reason}>
                {p.reason === 'dispute' ? t('dispute.resolve') : t('customer.resume')} (<Code prefix="pause" value={p.reason} /> · {covers(p)})
              </button>
            ))}
            <button type="button" onClick={() => setDialog('edit')} data-testid="edit-customer">
              {t('customer.edit')}
            </button>
            <button type="button" onClick={() => setDialog('call')} data-testid="log-call">
              {t('customer.logCall')}
            </button>
            <button type="button" onClick={() => setDialog('pause')} data-testid="pause">
              {t('customer.pause')}
            </button>
            <button type="button" onClick={() => setDialog('promise')} disabled={d.openItems.length === 0} data-testid="promise">
              {t('customer.promise')}
            </button>
            <button type="button" onClick={() => setDialog('dispute')} data-testid="open-dispute">
              {t('customer.dispute')}
            </button>
            <button type="button" onClick={() => setDialog('plan')} disabled={d.openItems.length === 0} data-testid="plan">
              {t('customer.plan')}
            </button>
            <button type="button" onClick={() => setDialog('note')} data-testid="add-note">
              {t('customer.note')}
            </button>
          </>
        )}
        <button type="button" onClick={() => setDialog('penalties')} data-testid="penalties">
          {t('customer.penalties')}
        </button>
        {d.openItems.length > 0 && (
          <a className="button-like" href={`/api/app/customers/${customerId}/statement.pdf`} target="_blank" rel="noreferrer">
            <button type="button">{t('customer.statement')}</button>
          </a>
        )}
        <a href={`/api/app/customers/${customerId}/evidence`} download>
          <button type="button">{t('customer.evidence')}</button>
        </a>
        <button type="button" data-testid="case-file" disabled={fileBusy !== null} onClick={() => fetchFile('caseFile', `/api/app/customers/${customerId}/case-file`)}>
          {fileBusy === 'caseFile' ? t('common.loading') : t('customer.caseFile')}
        </button>
        <button type="button" data-testid="injonction" disabled={fileBusy !== null} onClick={() => fetchFile('injonction', `/api/app/customers/${customerId}/injonction`)}>
          {fileBusy === 'injonction' ? t('common.loading') : t('customer.injonction')}
        </button>
      </div>
      {fileError && (
        <div className="banner bad" role="alert" data-testid="file-refused">
          {fileError}
        </div>
      )}

      <div className="split">
        <section className="card">
          <h2>
            {t('customer.openItems')} ({d.openItems.length})
          </h2>
          <div className="table-wrap">
          <table className="table" data-testid="open-items">
            <thead>
              <tr>
                <th>{t('col.invoice')}</th>
                <th>{t('col.due')}</th>
                <th className="num">{t('col.amount')}</th>
                <th className="num">{t('col.open')}</th>
                <th className="num">{t('col.late')}</th>
              </tr>
            </thead>
            <tbody>
              {d.openItems.map((i) => (
                <tr key={i.invoiceId}>
                  <td>
                    <Link to="/invoices/$invoiceId" params={{ invoiceId: i.invoiceId }}>
                      {i.number}
                    </Link>
                    {disputedIds.has(i.invoiceId) && (
                      <span className="pill bad" data-testid="invoice-disputed" title={d.disputes.find((x) => !x.resolvedOn && (x.invoiceIds === null || x.invoiceIds.includes(i.invoiceId)))?.reason}>
                        {t('invoice.disputed')}
                      </span>
                    )}
                  </td>
                  <td>{date(i.dueDate, lang)}</td>
                  <td className="num">{money(i.amountInclTaxMinor, i.currency, lang)}</td>
                  <td className="num">{money(i.openMinor, i.currency, lang)}</td>
                  <td className={`num ${i.daysPastDue > 0 ? 'error' : ''}`}>{i.daysPastDue > 0 ? `${i.daysPastDue} ${t('common.daysShort')}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
          <h2 style={{ marginTop: 20 }}>{t('customer.nextSteps')}</h2>
          {future.length === 0 ? (
            <p className="muted" data-testid="no-next-steps">
              {activePauses.length ? t('customer.nextSteps.paused') : t('customer.nextSteps.none')}
            </p>
          ) : (
            <div className="table-wrap">
          <table className="table" data-testid="next-steps">
              <tbody>
                {future.map((l) => (
                  <tr key={`${l.invoice}-${l.stepKey}`} data-testid="next-step" data-paused={l.paused ? 'yes' : 'no'}>
                    <td>{date(l.date, lang)}</td>
                    <td>{stepLabel(l.offset, lang)}</td>
                    <td>
                      <Code prefix="channel" value={l.channel} />
                    </td>
                    <td>
                      <Code prefix="tone" value={l.tone} />
                    </td>
                    <td className="small">{l.invoice}</td>
                    <td>{l.paused ? <span className="pill warn">{t('customer.paused')}</span> : <span className="pill info">{t(`calendar.${l.state}` as MessageKey)}</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          )}
        </section>
        <section className="card">
          <h2>{t('customer.disputes')}</h2>
          {d.disputes.length === 0 && <p className="muted small">{t('customer.noDisputes')}</p>}
          <ul className="timeline" data-testid="disputes">
            {d.disputes.map((x) => (
              <li key={x.id} data-testid="dispute" data-state={x.resolvedOn ? 'resolved' : 'open'}>
                <span className="when">{date(x.openedOn, lang)}</span>
                <span>{x.resolvedOn ? <span className="pill ok">{t('dispute.resolved')} {date(x.resolvedOn, lang)}</span> : <span className="pill bad">{t('dispute.open')}</span>}</span>
                <span className="small">
                  {t('dispute.covers', { covers: covers(x) })} — {x.reason}
                  {x.resolution ? ` → ${x.resolution}` : ''}
                  {writer && !x.resolvedOn && (
                    <button type="button" onClick={() => setResolving(x)} data-testid="resolve-dispute" style={{ marginLeft: 8 }}>
                      {t('dispute.resolve')}
                    </button>
                  )}
                </span>
              </li>
            ))}
          </ul>
          {plans.length > 0 && (
            <>
              <h2 style={{ marginTop: 20 }}>{t('customer.plans')}</h2>
              {plans.map((e) => {
                const x = e.data as { status: string; currency: string; amountMinor: string; instalments: { seq: number; dueDate: string; amountMinor: string }[] | null };
                return (
                  <div key={e.id} data-testid="plan-schedule">
                    <div className="small">
                      {date(e.at, lang)} · {money(x.amountMinor, x.currency, lang)} <StatusPill status={x.status} />
                    </div>
                    <table className="table">
                      <tbody>
                        {(x.instalments ?? []).map((i) => (
                          <tr key={i.seq}>
                            <td>#{i.seq}</td>
                            <td>{date(i.dueDate, lang)}</td>
                            <td className="num">{money(i.amountMinor, x.currency, lang)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                );
              })}
            </>
          )}
          <h2 style={{ marginTop: 20 }}>{t('customer.timeline')}</h2>
          <ul className="timeline" data-testid="timeline">
            {d.timeline.map((e) => (
              <li key={`${e.kind}-${e.id}`} data-kind={e.kind}>
                <span className="when">{e.at.length > 10 ? dateTime(e.at, lang) : date(e.at, lang)}</span>
                <span>
                  <span className="pill">{t(`timeline.${e.kind}` as MessageKey)}</span>
                </span>
                <span className="small">
                  <TimelineText item={e} currency={d.currency} />
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>

      {dialog === 'pause' && (
        <FormDialog
          title={t('customer.pause')}
          onClose={() => setDialog(null)}
          onSubmit={(f) => act.mutate({ path: '/pause', body: { ...coverage(f), until: f.get('until') || undefined, note: f.get('note') } })}
          pending={act.isPending}
        >
          <InvoicePicker items={d.openItems} wholeCustomer />
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
        <PromiseDialog items={d.openItems} today={d.today} pending={act.isPending} error={act.error?.message ?? null} onClose={() => setDialog(null)} onSubmit={(b) => act.mutate({ path: '/promise', body: b })} />
      )}
      {dialog === 'dispute' && (
        <FormDialog title={t('customer.dispute')} onClose={() => setDialog(null)} pending={act.isPending} onSubmit={(f) => act.mutate({ path: '/dispute', body: { ...coverage(f), reason: f.get('reason') } })}>
          <InvoicePicker items={d.openItems} wholeCustomer />
          <label className="wide">
            {t('call.disputeReason')}
            <input name="reason" required />
          </label>
        </FormDialog>
      )}
      {dialog === 'plan' && (
        <PlanDialog items={d.openItems} today={d.today} pending={act.isPending} error={act.error?.message ?? null} onClose={() => setDialog(null)} onSubmit={(b) => act.mutate({ path: '/payment-plan', body: b })} />
      )}
      {dialog === 'credit' && (
        <FormDialog
          title={t('credit.edit')}
          onClose={() => setDialog(null)}
          pending={act.isPending}
          onSubmit={(f) => {
            const pct = String(f.get('discountPercent') ?? '').trim();
            act.mutate({
              path: '/credit-policy',
              body: {
                creditLimit: String(f.get('creditLimit') ?? '').trim() || null,
                paymentTermsDays: String(f.get('paymentTermsDays') ?? ''),
                depositPercent: String(f.get('depositPercent') ?? '').trim() || null,
                earlyPaymentDiscount: pct ? { percent: pct, withinDays: String(f.get('discountDays') ?? '') } : null,
                riskClass: String(f.get('riskClass') ?? '') || null,
              },
            });
          }}
        >
          <label>
            {t('credit.limit')}
            <input name="creditLimit" inputMode="decimal" defaultValue={d.credit.creditLimitMinor === null ? '' : decimalOf(d.credit.creditLimitMinor)} data-testid="credit-limit-input" />
          </label>
          <label>
            {t('credit.terms')}
            <input name="paymentTermsDays" inputMode="numeric" required defaultValue={String(d.credit.paymentTermsDays)} />
          </label>
          <label>
            {t('credit.deposit')}
            <input name="depositPercent" inputMode="decimal" defaultValue={d.credit.depositPercent ?? ''} />
          </label>
          <label>
            {t('credit.discountPercent')}
            <input name="discountPercent" inputMode="decimal" defaultValue={d.credit.earlyPaymentDiscount?.percent ?? ''} />
          </label>
          <label>
            {t('credit.discountDays')}
            <input name="discountDays" inputMode="numeric" defaultValue={d.credit.earlyPaymentDiscount ? String(d.credit.earlyPaymentDiscount.withinDays) : ''} />
          </label>
          <label>
            {t('credit.riskClass')}
            <select name="riskClass" defaultValue={d.credit.riskClass ?? ''} data-testid="risk-class-select">
              <option value="">{t('credit.riskClass.none')}</option>
              <option value="low">{t('credit.riskClass.low')}</option>
              <option value="medium">{t('credit.riskClass.medium')}</option>
              <option value="high">{t('credit.riskClass.high')}</option>
            </select>
          </label>
        </FormDialog>
      )}
      {dialog === 'note' && (
        <FormDialog
          title={t('customer.note')}
          onClose={() => setDialog(null)}
          pending={act.isPending}
          error={act.error?.message}
          onSubmit={(f) => act.mutate({ path: '/notes', body: { body: f.get('body'), followUpOn: f.get('followUpOn') || null } })}
        >
          <label className="wide">
            {t('call.note')}
            <textarea name="body" rows={4} required />
          </label>
          <label className="wide">
            {t('note.followUpOn')}
            <input type="date" name="followUpOn" min={d.today} data-testid="note-follow-up" />
          </label>
        </FormDialog>
      )}
      {dialog === 'edit' && (
        <FormDialog
          title={t('customer.edit')}
          onClose={() => setDialog(null)}
          pending={act.isPending}
          error={act.error?.message}
          onSubmit={(f) =>
            act.mutate({
              path: '/profile',
              body: { legalName: String(f.get('legalName') ?? ''), siren: String(f.get('siren') ?? ''), vatNumber: String(f.get('vatNumber') ?? ''), language: String(f.get('language') ?? 'fr'), owner: String(f.get('owner') ?? '') },
            })
          }
        >
          <label className="wide">
            {t('customer.legalName')}
            <input name="legalName" required defaultValue={c.legalName} />
          </label>
          <label>
            SIREN
            <input name="siren" inputMode="numeric" defaultValue={c.siren ?? ''} />
          </label>
          <label>
            {t('customer.vatNumber')}
            <input name="vatNumber" defaultValue={c.vatNumber ?? ''} />
          </label>
          <label>
            {t('customer.language')}
            <select name="language" defaultValue={c.language}>
              <option value="fr">{t('lang.fr')}</option>
              <option value="en">{t('lang.en')}</option>
            </select>
          </label>
          <label>
            {t('customer.owner')}
            <select name="owner" defaultValue={d.owner ?? ''} data-testid="owner-select">
              <option value="">{t('customer.noOwner')}</option>
              {d.owners.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
        </FormDialog>
      )}
      {dialog === 'contact' && (
        <FormDialog
          title={contact ? t('contact.editTitle') : t('contact.add')}
          onClose={() => setDialog(null)}
          pending={act.isPending}
          error={act.error?.message}
          testId="contact-dialog"
          onSubmit={(f) =>
            act.mutate({
              path: contact ? `/contacts/${contact.id}` : '/contacts',
              body: {
                name: String(f.get('name') ?? ''),
                role: String(f.get('role') ?? ''),
                email: String(f.get('email') ?? ''),
                phone: String(f.get('phone') ?? ''),
                receivesReminders: f.get('receivesReminders') === 'yes',
              },
            })
          }
        >
          <label>
            {t('contact.name')}
            <input name="name" required defaultValue={contact?.name ?? ''} />
          </label>
          <label>
            {t('contact.role')}
            <input name="role" defaultValue={contact?.role ?? ''} />
          </label>
          <label>
            {t('contact.email')}
            <input name="email" type="email" defaultValue={contact?.email ?? ''} />
          </label>
          <label>
            {t('contact.phone')}
            <input name="phone" type="tel" defaultValue={contact?.phone ?? ''} />
          </label>
          <label className="inline wide">
            <input type="checkbox" name="receivesReminders" value="yes" defaultChecked={contact ? contact.receivesReminders : true} />
            {t('contact.receivesReminders')}
          </label>
        </FormDialog>
      )}
      {dialog === 'call' && <UnplannedCall items={d.openItems} today={d.today} pending={act.isPending} error={act.error?.message ?? null} onClose={() => setDialog(null)} onSubmit={(b) => act.mutate({ path: '/calls', body: b })} />}
      {removing && (
        <Confirm danger confirm={t('contact.remove')} pending={act.isPending} onClose={() => setRemoving(null)} onConfirm={() => act.mutate({ path: `/contacts/${removing.id}/remove` })}>
          {t('contact.removeAsk', { name: removing.name })}
          {act.error && <div className="error">{act.error.message}</div>}
        </Confirm>
      )}
      {resuming && (
        <Confirm title={t('customer.resume')} pending={act.isPending} onClose={() => setResuming(null)} onConfirm={() => act.mutate({ path: `/api/app/pauses/${resuming.id}/lift` })}>
          {t('customer.resumeAsk', { covers: covers(resuming) })}
          {(resuming.reason === 'promise_to_pay' || resuming.reason === 'payment_plan') && (
            <p data-testid="resume-withdraws">{t(`customer.resumeAsk.${resuming.reason}`)}</p>
          )}
          {act.error && <div className="error">{act.error.message}</div>}
        </Confirm>
      )}
      {resolving && (
        <Ask
          title={t('dispute.resolve')}
          label={t('dispute.resolution')}
          note={`${t('dispute.covers', { covers: covers(resolving) })} — ${resolving.reason}. ${t('dispute.resolveNote')}`}
          pending={act.isPending}
          error={act.error?.message ?? null}
          onClose={() => setResolving(null)}
          onSubmit={(resolution) => act.mutate({ path: `/api/app/disputes/${resolving.id}/resolve`, body: { resolution } })}
          testId="resolve-dialog"
        />
      )}
      {dialog === 'penalties' && <Penalties customerId={customerId} onClose={() => setDialog(null)} />}
    </div>
  );
}

/** What a pause or an agreement covers, from the picker: the invoices ticked, or the whole customer. */
function coverage(f: FormData): { invoiceIds: string[] } | { customerWide: true } {
  return f.get('customerWide') ? { customerWide: true } : { invoiceIds: f.getAll('invoice').map(String) };
}

/**
 * The invoices a pause or an agreement covers: none ticked by default (it covers what is said),
 * and, for a pause or a dispute, the whole customer when asked.
 */
function InvoicePicker({ items, wholeCustomer = false }: { items: OpenItem[]; wholeCustomer?: boolean }) {
  const t = useT();
  const lang = useLang();
  return (
    <fieldset className="wide" data-testid="invoice-picker">
      <legend>{t('customer.covers')}</legend>
      {items.map((i) => (
        <label key={i.invoiceId} className="inline">
          <input type="checkbox" name="invoice" value={i.invoiceId} data-number={i.number} />
          {i.number} — {money(i.openMinor, i.currency, lang)} ({date(i.dueDate, lang)})
        </label>
      ))}
      {wholeCustomer && (
        <label className="inline">
          <input type="checkbox" name="customerWide" value="yes" />
          {t('customer.wholeCustomer')}
        </label>
      )}
    </fieldset>
  );
}

/** A calendar date k months after another ("2026-01-31" + 1 → "2026-03-03" as the browser counts; the server checks the plan). */
/** Invoices ticked in a dialog, and what is still owed on them. */
function useTicked(items: OpenItem[]) {
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const picked = items.filter((i) => chosen.has(i.invoiceId));
  const total = picked.reduce((s, i) => s + BigInt(i.openMinor), 0n);
  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };
  return { chosen, picked, total, toggle };
}

function TickList({ items, ticked, legend, testId }: { items: OpenItem[]; ticked: ReturnType<typeof useTicked>; legend: string; testId: string }) {
  const lang = useLang();
  return (
    <fieldset className="wide" data-testid={testId}>
      <legend>{legend}</legend>
      {items.map((i) => (
        <label key={i.invoiceId} className="inline">
          <input type="checkbox" checked={ticked.chosen.has(i.invoiceId)} onChange={(e) => ticked.toggle(i.invoiceId, e.target.checked)} data-number={i.number} />
          {i.number} — {money(i.openMinor, i.currency, lang)} ({date(i.dueDate, lang)})
        </label>
      ))}
    </fieldset>
  );
}

/** Minor units as typed back in the user's language ("120000" → "1200,00" / "1200.00"). */
const typedAmount = (minor: bigint, lang: string) => decimalOf(String(minor)).replace('.', lang === 'fr' ? ',' : '.');

/** A promise covers the invoices ticked, and only those: they alone are paused until its date. */
function PromiseDialog({ items, today, pending, error, onClose, onSubmit }: { items: OpenItem[]; today: string; pending: boolean; error: string | null; onClose: () => void; onSubmit: (b: unknown) => void }) {
  const t = useT();
  const lang = useLang();
  const ticked = useTicked(items);
  const [promisedOn, setPromisedOn] = useState('');
  const [amount, setAmount] = useState('');
  const currency = ticked.picked[0]?.currency ?? items[0]?.currency ?? 'EUR';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit({ invoiceIds: ticked.picked.map((i) => i.invoiceId), promisedOn, amountMinor: toMinor(amount || typedAmount(ticked.total, lang)) ?? '' });
  };
  return (
    <Modal title={t('customer.promise')} onClose={onClose} testId="promise-dialog">
      <form className="form" onSubmit={submit}>
        <p className="wide muted small">{t('promise.pickInvoices')}</p>
        <TickList items={items} ticked={ticked} legend={t('customer.covers')} testId="invoice-picker" />
        {ticked.picked.length > 0 && <p className="wide small" data-testid="promise-total">{t('promise.total', { amount: money(ticked.total, currency, lang) })}</p>}
        <label>
          {t('call.promisedOn')}
          <input type="date" name="promisedOn" required min={today} value={promisedOn} onChange={(e) => setPromisedOn(e.target.value)} />
        </label>
        <label>
          {t('call.promisedAmount')}
          <input name="amount" inputMode="decimal" value={amount} placeholder={ticked.total > 0n ? typedAmount(ticked.total, lang) : ''} onChange={(e) => setAmount(e.target.value)} />
        </label>
        {error && <div className="error wide">{error}</div>}
        <div className="actions-row wide">
          <button type="submit" className="primary" disabled={pending || ticked.picked.length === 0} data-testid="save-promise">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * A payment plan: the invoices it settles, the first date, an optional down payment due that day,
 * then equal monthly instalments (the last takes the rounding remainder). The schedule is shown as
 * it will be recorded.
 */
function PlanDialog({ items, today, pending, error, onClose, onSubmit }: { items: OpenItem[]; today: string; pending: boolean; error: string | null; onClose: () => void; onSubmit: (b: unknown) => void }) {
  const t = useT();
  const lang = useLang();
  const ticked = useTicked(items);
  const [count, setCount] = useState(3);
  const [start, setStart] = useState<string>(addMonths(today as CalendarDate, 1));
  const [down, setDown] = useState('');
  const total = ticked.total;
  const downMinor = down.trim() ? BigInt(toMinor(down) ?? '0') : 0n;
  const tooBig = downMinor > 0n && downMinor >= total;
  const instalments = (planSchedule({ totalMinor: total, firstDate: start as CalendarDate, instalments: count, downPaymentMinor: downMinor }) ?? []).map((i) => ({ ...i, amountMinor: String(i.amountMinor) }));
  const currency = ticked.picked[0]?.currency ?? items[0]?.currency ?? 'EUR';
  return (
    <Modal title={t('customer.plan')} onClose={onClose} testId="plan-dialog">
      <div className="form">
        <TickList items={items} ticked={ticked} legend={t('customer.covers')} testId="plan-invoices" />
        <label>
          {t('plan.start')}
          <input type="date" min={today} value={start} onChange={(e) => setStart(e.target.value || addMonths(today as CalendarDate, 1))} data-testid="plan-start" />
        </label>
        <label>
          {t('plan.downPayment')}
          <input inputMode="decimal" value={down} onChange={(e) => setDown(e.target.value)} data-testid="plan-down" />
        </label>
        <label>
          {t('customer.planCount')}
          <input type="number" min={1} max={24} value={count} onChange={(e) => setCount(Math.max(1, Math.min(24, Number(e.target.value) || 1)))} />
        </label>
      </div>
      <h3>{t('plan.schedule')}</h3>
      {tooBig && <p className="error">{t('plan.tooBig')}</p>}
      <table className="table" data-testid="plan-preview">
        <tbody>
          {instalments.map((i, k) => (
            <tr key={`${i.down ? 'down' : 'n'}-${i.dueDate}`}>
              <td>{i.down ? t('plan.downPaymentRow') : `#${k + 1}`}</td>
              <td>{date(i.dueDate, lang)}</td>
              <td className="num">{money(i.amountMinor, currency, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small">{t('plan.total', { amount: money(total, currency, lang) })}</p>
      {error && <div className="error">{error}</div>}
      <div className="actions-row">
        <button
          type="button"
          className="primary"
          disabled={pending || instalments.length === 0}
          onClick={() => onSubmit({ invoiceIds: ticked.picked.map((i) => i.invoiceId), instalments: instalments.map(({ dueDate, amountMinor }) => ({ dueDate, amountMinor })) })}
          data-testid="save-plan"
        >
          {t('common.save')}
        </button>
      </div>
    </Modal>
  );
}

const CALL_OUTCOMES = ['reached', 'no_answer', 'wrong_number', 'promise_to_pay', 'dispute', 'already_paid', 'payment_plan_requested'] as const;
const CALL_REASONS = ['forgot', 'invoice_not_received', 'missing_purchase_order', 'dispute', 'cash_difficulty', 'bad_faith', 'other'] as const;

/** A call nobody planned (the customer rang, or a call from this page): what came of it acts as on a planned call. */
function UnplannedCall({ items, today, pending, error, onClose, onSubmit }: { items: OpenItem[]; today: string; pending: boolean; error: string | null; onClose: () => void; onSubmit: (b: unknown) => void }) {
  const t = useT();
  const lang = useLang();
  const ticked = useTicked(items);
  const [outcome, setOutcome] = useState<(typeof CALL_OUTCOMES)[number]>('reached');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [promisedOn, setPromisedOn] = useState(today);
  const [amount, setAmount] = useState('');
  const [disputeReason, setDisputeReason] = useState('');
  const owed = ticked.picked.length ? ticked.total : items.reduce((s, i) => s + BigInt(i.openMinor), 0n);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit({
      outcome,
      reason: reason || undefined,
      note,
      invoiceIds: ticked.picked.map((i) => i.invoiceId),
      promisedOn: outcome === 'promise_to_pay' ? promisedOn : undefined,
      promisedMinor: outcome === 'promise_to_pay' ? (toMinor(amount || typedAmount(owed, lang)) ?? '') : undefined,
      disputeReason: outcome === 'dispute' ? disputeReason : undefined,
    });
  };
  return (
    <Modal title={t('customer.logCall')} onClose={onClose} testId="unplanned-call">
      <form className="form" onSubmit={submit}>
        <TickList items={items} ticked={ticked} legend={t('customer.callInvoices')} testId="call-invoices" />
        <label>
          {t('call.outcome')}
          <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value as (typeof CALL_OUTCOMES)[number])} data-testid="call-outcome">
            {CALL_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`outcome.${o}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('call.reason')}
          <select name="reason" value={reason} onChange={(e) => setReason(e.target.value)}>
            <option value="">—</option>
            {CALL_REASONS.map((o) => (
              <option key={o} value={o}>
                {t(`reason.${o}` as MessageKey)}
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
              <input name="promisedAmount" value={amount} placeholder={typedAmount(owed, lang)} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" />
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
        {error && <div className="error wide">{error}</div>}
        <div className="actions-row wide">
          <button type="submit" className="primary" disabled={pending} data-testid="save-call">
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Penalties({ customerId, onClose }: { customerId: string; onClose: () => void }) {
  const t = useT();
  const lang = useLang();
  const q = useQuery({ queryKey: ['penalties', customerId, lang], queryFn: () => api<CustomerPenaltiesResponse>(`/api/app/customers/${customerId}/penalties?lang=${lang}`) });
  const cur = q.data?.invoices[0]?.currency ?? 'EUR';
  return (
    <Modal title={t('customer.penalties')} onClose={onClose} testId="penalties-modal">
      {q.isPending && <Loading />}
      {q.data && (
        <>
          <p>
            {t('penalties.total', { interest: money(q.data.interestMinor, cur, lang), indemnity: money(q.data.indemnityMinor, cur, lang) })}
          </p>
          <table className="table">
            <thead>
              <tr>
                <th>{t('col.invoice')}</th>
                <th className="num">{t('col.late')}</th>
                <th className="num">{t('col.open')}</th>
                <th className="num">{t('penalties.interest')}</th>
                <th className="num">{t('penalties.indemnity')}</th>
                <th>{t('penalties.periods')}</th>
              </tr>
            </thead>
            <tbody>
              {q.data.invoices.map((i) => (
                <tr key={i.invoiceId}>
                  <td>{i.number}</td>
                  <td className="num">{i.daysLate}</td>
                  <td className="num">{money(i.openMinor, i.currency, lang)}</td>
                  <td className="num">{money(i.interestMinor, i.currency, lang)}</td>
                  <td className="num">{money(i.indemnityMinor, i.currency, lang)}</td>
                  <td className="small">
                    {i.periods.map((p) => (
                      <div key={p.from}>
                        {date(p.from, lang)} → {date(p.to, lang)}: {p.days} j × {p.ratePercent} % = {money(p.interestMinor, i.currency, lang)}
                      </div>
                    ))}
                    {i.notes.map((n) => (
                      <div key={n} className="muted">
                        {n}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Modal>
  );
}

function TimelineText({ item, currency }: { item: TimelineItem; currency: string }) {
  const t = useT();
  const lang = useLang();
  const x = item.data as Record<string, string | null | string[] | unknown>;
  const m = (v: unknown, cur?: unknown) => money(v as string, (cur as string) ?? currency, lang);
  switch (item.kind) {
    case 'invoice':
      return (
        <>
          <Link to="/invoices/$invoiceId" params={{ invoiceId: item.id }}>
            {String(x.number)}
          </Link>{' '}
          — {m(x.amountMinor, x.currency)} · {t('col.due')} {date(x.dueDate as string, lang)}
          {x.openMinor !== '0' ? ` · ${t('col.open')} ${m(x.openMinor, x.currency)}` : ` · ${t('status.paid')}`}
        </>
      );
    case 'payment':
      return (
        <>
          {m(x.amountMinor, x.currency)} · <Code prefix="method" value={x.method as string} /> {x.reference ? `· ${x.reference}` : ''}
        </>
      );
    case 'credit_note':
      return (
        <>
          {String(x.number)} — {m(x.amountMinor, x.currency)} {x.reason ? `· ${x.reason}` : ''}
        </>
      );
    case 'reminder':
      return (
        <>
          <Code prefix="channel" value={x.channel as string} /> · <Code prefix="template" value={x.template as string} /> <StatusPill status={x.status as string} />{' '}
          {(x.invoices as string[]).join(', ')}
          {(item.data.deliveryIds ?? []).map((id) => (
            <a key={id} href={`/api/app/deliveries/${id}/raw`} target="_blank" rel="noreferrer" style={{ marginLeft: 8 }} data-testid="open-delivery">
              {t('timeline.open')}
            </a>
          ))}
          {x.statusReason ? <span className="muted"> · {String(x.statusReason)}</span> : null}
        </>
      );
    case 'call':
      return (
        <>
          <Code prefix="outcome" value={x.outcome as string} />
          {x.promisedOn ? ` · ${t('call.promisedOn')} ${date(x.promisedOn as string, lang)} ${m(x.promisedMinor)}` : ''}
          {x.note ? ` · ${x.note}` : ''} <span className="muted">({String(x.by)})</span>
        </>
      );
    case 'promise':
      return (
        <>
          {m(x.amountMinor, x.currency)} {t('common.on')} {date(x.promisedOn as string, lang)} <StatusPill status={x.status as string} />
        </>
      );
    case 'dispute':
      return (
        <>
          {x.invoice ? `${x.invoice} — ` : ''}
          {String(x.reason)} {x.resolvedOn ? `· ${t('dispute.resolved')} ${date(x.resolvedOn as string, lang)}: ${x.resolution}` : <span className="pill bad">{t('dispute.open')}</span>}
        </>
      );
    case 'pause':
      return (
        <>
          <Code prefix="pause" value={x.reason as string} /> {x.endsOn ? `→ ${date(x.endsOn as string, lang)}` : ''} {x.liftedOn ? `· ${t('pause.lifted')} ${date(x.liftedOn as string, lang)}` : ''} {x.note ? `· ${x.note}` : ''}
        </>
      );
    case 'plan':
      return (
        <>
          {m(x.amountMinor, x.currency)} · {((x.instalments as unknown[]) ?? []).length} × <StatusPill status={x.status as string} />
        </>
      );
    case 'note':
      return (
        <>
          {String(x.body)} <span className="muted">({String(x.author)})</span>
          {x.followUpOn ? <span className={`pill ${x.followUpDone ? 'ok' : 'warn'}`}>{t('note.followUpShown', { date: date(x.followUpOn as string, lang) })}</span> : null}
        </>
      );
    case 'portal':
      return (
        <>
          <Code prefix="portal.event" value={x.event as string} />
          {(x.invoices as string[] | undefined)?.length ? ` · ${(x.invoices as string[]).join(', ')}` : ''}
        </>
      );
    default:
      return null;
  }
}
