import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { api } from '../api.ts';
import { Code, StatusPill } from '../components/ui.tsx';
import { date, dateTime, money, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';

interface InvoiceData {
  today: string;
  invoice: { id: string; number: string; issueDate: string; dueDate: string; currency: string; amountExclTaxMinor: string; amountInclTaxMinor: string; openMinor: string; status: string; allocatedMinor: string; writtenOffMinor: string };
  customer: { id: string; name: string };
  daysPastDue: number;
  calendar: { stepKey: string; offset: number; channel: string; tone: string; date: string; state: string; actionStatus: string | null; reason: string | null; paused: boolean; prerequisite: string | null; waiting: boolean }[];
  settlements: { kind: string; id: string; on: string; amountMinor: string; method: string | null; reference: string | null; creditNote: string | null }[];
  documents: { kind: string; id: string; channel?: string; subject?: string; template?: string; at?: string; url: string }[];
  fees: { interestMinor: string; indemnityMinor: string; periods: { from: string; to: string; days: number; ratePercent: string; interestMinor: string }[] } | null;
  /** The pauses in force over this invoice, with what each covers (null: the whole customer). */
  pauses: { id: string; reason: string; endsOn: string | null; invoices: string[] | null }[];
}

export function InvoicePage() {
  const t = useT();
  const lang = useLang();
  const { invoiceId } = useParams({ from: '/app/invoices/$invoiceId' });
  const q = useQuery({ queryKey: ['invoice', invoiceId], queryFn: () => api<InvoiceData>(`/api/app/invoices/${invoiceId}`) });
  if (q.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (q.isError) return <p className="error">{q.error.message}</p>;
  const d = q.data;
  const i = d.invoice;
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
                    <span className={`pill ${l.state === 'done' ? 'ok' : l.state === 'future' ? 'info' : 'warn'}`}>{t(`calendar.${l.state}` as MessageKey)}</span>
                    {l.actionStatus && <StatusPill status={l.actionStatus} />}
                    {l.paused && <span className="pill warn">{t('customer.paused')}</span>}
                  </td>
                  <td className="small muted">
                    <Code prefix="skip" value={l.reason ?? (l.waiting ? l.prerequisite : null)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.calendar.length === 0 && <p className="muted">{t('invoice.noCalendar')}</p>}
        </section>
        <section className="card">
          <h2>{t('invoice.settlements')}</h2>
          {d.settlements.length === 0 && <p className="muted">{t('common.none')}</p>}
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
          {d.documents.length === 0 && <p className="muted">{t('common.none')}</p>}
          <ul className="timeline">
            {d.documents.map((doc) => (
              <li key={`${doc.kind}-${doc.id}`}>
                <span className="when">{doc.at ? dateTime(doc.at, lang) : ''}</span>
                <span>{doc.kind === 'invoice_pdf' ? t('invoice.pdf') : <Code prefix="channel" value={doc.channel} />}</span>
                <span>
                  <a href={doc.url} target="_blank" rel="noreferrer">
                    {doc.subject ?? (doc.template ? t(`template.${doc.template}` as MessageKey) : t('timeline.open'))}
                  </a>
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
