import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { type FormEvent, type ReactNode, useState } from 'react';
import { api, downloadFile } from '../api.ts';
import { Code, Modal, StatusPill } from '../components/ui.tsx';
import { date, dateTime, money, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';
import { toMinor } from './Today.tsx';

interface OpenItem {
  invoiceId: string;
  number: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  amountInclTaxMinor: string;
  openMinor: string;
  daysPastDue: number;
}

interface CalendarLine {
  invoice: string;
  stepKey: string;
  offset: number;
  channel: string;
  tone: string;
  date: string;
  state: string;
  actionStatus: string | null;
  reason: string | null;
  paused: boolean;
}

interface TimelineItem {
  at: string;
  kind: string;
  id: string;
  data: Record<string, unknown> & { deliveryIds?: string[] };
}

interface CustomerData {
  today: string;
  currency: string;
  customer: {
    id: string;
    legalName: string;
    kind: string;
    siren: string | null;
    vatNumber: string | null;
    externalId: string | null;
    language: string;
    paymentTermsDays: number;
    tags: string[];
    contacts: { id: string; name: string; role: string | null; email: string | null; phone: string | null; city: string | null; receivesReminders: boolean }[];
  };
  balances: { currency: string; openInvoicesMinor: string; overdueMinor: string; unallocatedCreditMinor: string; balanceMinor: string }[];
  openItems: OpenItem[];
  calendar: CalendarLine[];
  scenario: { key: string; name: string; assigned: boolean };
  scenarios: { key: string; name: string }[];
  /** invoices: the numbers a pause covers; null: the whole customer. */
  pauses: { id: string; reason: string; startsOn: string; endsOn: string | null; liftedOn: string | null; note: string | null; active: boolean; invoiceIds: string[] | null; invoices: string[] | null }[];
  paused: boolean;
  timeline: TimelineItem[];
  risk: {
    score: number;
    level: 'low' | 'medium' | 'high';
    reasons: { key: string; points: number; fr: string; en: string }[];
    daysLate: { all: number | null; last6: number | null; last12: number | null };
    paidAfterReminders: number[];
    settledCount: number;
  };
  credit: {
    creditLimitMinor: string | null;
    paymentTermsDays: number;
    depositPercent: string | null;
    earlyPaymentDiscount: { percent: string; withinDays: number } | null;
    riskClass: 'low' | 'medium' | 'high' | null;
    exposure: { openMinor: string; ordersMinor: string; exposureMinor: string; headroomMinor: string | null; overLimit: boolean };
  };
}

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
  const q = useQuery({ queryKey: ['customer', customerId], queryFn: () => api<CustomerData>(`/api/app/customers/${customerId}`) });
  const [dialog, setDialog] = useState<null | 'promise' | 'dispute' | 'plan' | 'pause' | 'penalties' | 'note' | 'credit'>(null);
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
    mutationFn: (v: { path: string; body?: unknown }) => api(`/api/app/customers/${customerId}${v.path}`, { body: v.body ?? {} }),
    onSuccess: () => {
      setDialog(null);
      setNotice(t('common.saved'));
      qc.invalidateQueries({ queryKey: ['customer', customerId] });
      qc.invalidateQueries({ queryKey: ['today'] });
      qc.invalidateQueries({ queryKey: ['dashboard'] });
    },
  });
  const lift = useMutation({
    mutationFn: (pauseId: string) => api(`/api/app/pauses/${pauseId}/lift`, { body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['customer', customerId] }),
  });
  if (q.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (q.isError) return <p className="error">{q.error.message}</p>;
  const d = q.data;
  const c = d.customer;
  const writer = can(me.data, 'write');
  const future = d.calendar.filter((l) => l.state === 'future' || l.state === 'due');
  const activePauses = d.pauses.filter((p) => p.active);
  return (
    <div className="page" data-testid="customer-page">
      <header className="page-head">
        <h1 data-testid="customer-name">{c.legalName}</h1>
        <span className="muted">
          {t(`kind.${c.kind}` as MessageKey)}
          {c.siren ? ` · SIREN ${c.siren}` : ''}
          {c.externalId ? ` · ${c.externalId}` : ''} · {t('customer.terms', { n: c.paymentTermsDays })}
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
        <section className="card">
          <div className="kpi-label">{t('customer.contacts')}</div>
          {c.contacts.map((ct) => (
            <div key={ct.id} className="small">
              <strong>{ct.name}</strong>
              {ct.role ? ` (${ct.role})` : ''} {ct.email && <a href={`mailto:${ct.email}`}>{ct.email}</a>} {ct.phone && <a href={`tel:${ct.phone.replace(/\s/g, '')}`}>{ct.phone}</a>}
            </div>
          ))}
        </section>
      </div>

      <div className="actions-row">
        {writer && (
          <>
            {activePauses.map((p) => (
              <button type="button" key={p.id} onClick={() => lift.mutate(p.id)} data-testid="resume">
                {t('customer.resume')} (<Code prefix="pause" value={p.reason} /> · {p.invoices ? p.invoices.join(', ') : t('customer.wholeCustomer')})
              </button>
            ))}
            <button type="button" onClick={() => setDialog('pause')} data-testid="pause">
              {t('customer.pause')}
            </button>
            <button type="button" onClick={() => setDialog('promise')} disabled={d.openItems.length === 0}>
              {t('customer.promise')}
            </button>
            <button type="button" onClick={() => setDialog('dispute')}>
              {t('customer.dispute')}
            </button>
            <button type="button" onClick={() => setDialog('plan')} disabled={d.openItems.length === 0}>
              {t('customer.plan')}
            </button>
            <button type="button" onClick={() => setDialog('note')}>
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
                  </td>
                  <td>{date(i.dueDate, lang)}</td>
                  <td className="num">{money(i.amountInclTaxMinor, i.currency, lang)}</td>
                  <td className="num">{money(i.openMinor, i.currency, lang)}</td>
                  <td className={`num ${i.daysPastDue > 0 ? 'error' : ''}`}>{i.daysPastDue > 0 ? `${i.daysPastDue} ${t('common.daysShort')}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 style={{ marginTop: 20 }}>{t('customer.nextSteps')}</h2>
          {future.length === 0 ? (
            <p className="muted" data-testid="no-next-steps">
              {activePauses.length ? t('customer.nextSteps.paused') : t('customer.nextSteps.none')}
            </p>
          ) : (
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
          )}
        </section>
        <section className="card">
          <h2>{t('customer.timeline')}</h2>
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
        <Dialog
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
        </Dialog>
      )}
      {dialog === 'promise' && (
        <Dialog
          title={t('customer.promise')}
          onClose={() => setDialog(null)}
          pending={act.isPending}
          onSubmit={(f) =>
            act.mutate({ path: '/promise', body: { ...coverage(f), promisedOn: f.get('promisedOn'), amountMinor: toMinor(String(f.get('amount'))) ?? '' } })
          }
        >
          <InvoicePicker items={d.openItems} />
          <label>
            {t('call.promisedOn')}
            <input type="date" name="promisedOn" required min={d.today} />
          </label>
          <label>
            {t('call.promisedAmount')}
            <input name="amount" required inputMode="decimal" />
          </label>
        </Dialog>
      )}
      {dialog === 'dispute' && (
        <Dialog title={t('customer.dispute')} onClose={() => setDialog(null)} pending={act.isPending} onSubmit={(f) => act.mutate({ path: '/dispute', body: { ...coverage(f), reason: f.get('reason') } })}>
          <InvoicePicker items={d.openItems} wholeCustomer />
          <label className="wide">
            {t('call.disputeReason')}
            <input name="reason" required />
          </label>
        </Dialog>
      )}
      {dialog === 'plan' && <PlanDialog items={d.openItems} today={d.today} pending={act.isPending} onClose={() => setDialog(null)} onSubmit={(b) => act.mutate({ path: '/payment-plan', body: b })} />}
      {dialog === 'credit' && (
        <Dialog
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
        </Dialog>
      )}
      {dialog === 'note' && (
        <Dialog title={t('customer.note')} onClose={() => setDialog(null)} pending={act.isPending} onSubmit={(f) => act.mutate({ path: '/notes', body: { body: f.get('body') } })}>
          <label className="wide">
            {t('call.note')}
            <textarea name="body" rows={4} required />
          </label>
        </Dialog>
      )}
      {dialog === 'penalties' && <Penalties customerId={customerId} onClose={() => setDialog(null)} />}
    </div>
  );
}

function Dialog({ title, onClose, onSubmit, pending, children }: { title: string; onClose: () => void; onSubmit: (f: FormData) => void; pending: boolean; children: ReactNode }) {
  const t = useT();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    onSubmit(new FormData(e.currentTarget));
  };
  return (
    <Modal title={title} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        {children}
        <div className="actions-row wide">
          <button type="submit" className="primary" disabled={pending}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
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
          <input type="checkbox" name="invoice" value={i.invoiceId} />
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

function PlanDialog({ items, today, pending, onClose, onSubmit }: { items: OpenItem[]; today: string; pending: boolean; onClose: () => void; onSubmit: (b: unknown) => void }) {
  const t = useT();
  const lang = useLang();
  const [count, setCount] = useState(3);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const picked = items.filter((i) => chosen.has(i.invoiceId));
  const total = picked.reduce((s, i) => s + BigInt(i.openMinor), 0n);
  // Equal instalments a month apart; the last one takes the rounding remainder.
  const each = total / BigInt(count);
  const instalments = Array.from({ length: count }, (_, k) => {
    const d = new Date(`${today}T12:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() + k + 1);
    return { dueDate: d.toISOString().slice(0, 10), amountMinor: String(k === count - 1 ? total - each * BigInt(count - 1) : each) };
  });
  return (
    <Modal title={t('customer.plan')} onClose={onClose}>
      <div className="form">
        <fieldset className="wide" data-testid="plan-invoices">
          <legend>{t('customer.covers')}</legend>
          {items.map((i) => (
            <label key={i.invoiceId} className="inline">
              <input
                type="checkbox"
                checked={chosen.has(i.invoiceId)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.target.checked) next.add(i.invoiceId);
                  else next.delete(i.invoiceId);
                  setChosen(next);
                }}
              />
              {i.number} — {money(i.openMinor, i.currency, lang)} ({date(i.dueDate, lang)})
            </label>
          ))}
        </fieldset>
        <label>
          {t('customer.planCount')}
          <input type="number" min={2} max={24} value={count} onChange={(e) => setCount(Math.max(2, Math.min(24, Number(e.target.value) || 2)))} />
        </label>
      </div>
      <table className="table">
        <tbody>
          {instalments.map((i, k) => (
            <tr key={i.dueDate}>
              <td>#{k + 1}</td>
              <td>{date(i.dueDate, lang)}</td>
              <td className="num">{money(i.amountMinor, items[0]?.currency ?? 'EUR', lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions-row">
        <button type="button" className="primary" disabled={pending || picked.length === 0} onClick={() => onSubmit({ invoiceIds: picked.map((i) => i.invoiceId), instalments })}>
          {t('common.save')}
        </button>
      </div>
    </Modal>
  );
}

interface PenaltyData {
  interestMinor: string;
  indemnityMinor: string;
  invoices: { invoiceId: string; number: string; dueDate: string; currency: string; openMinor: string; daysLate: number; interestMinor: string; indemnityMinor: string; provisional: boolean; periods: { from: string; to: string; days: number; ratePercent: string; interestMinor: string }[]; notes: string[] }[];
}

function Penalties({ customerId, onClose }: { customerId: string; onClose: () => void }) {
  const t = useT();
  const lang = useLang();
  const q = useQuery({ queryKey: ['penalties', customerId, lang], queryFn: () => api<PenaltyData>(`/api/app/customers/${customerId}/penalties?lang=${lang}`) });
  const cur = q.data?.invoices[0]?.currency ?? 'EUR';
  return (
    <Modal title={t('customer.penalties')} onClose={onClose} testId="penalties-modal">
      {q.isPending && <p className="muted">{t('common.loading')}</p>}
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
        </>
      );
    default:
      return null;
  }
}
