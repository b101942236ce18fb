import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { type FormEvent, useEffect, useState } from 'react';
import { api, qs } from '../api.ts';
import type { BankCandidate, BankImportResponse, BankQueueItem, BankResponse } from '../../../src/http/routes/app/shapes/bank.ts';
import type { InvoiceSearchRow } from '../../../src/http/routes/app/shapes/invoices.ts';
import { BankHold, Code, CountedCard, LoadFailed, Loading, Modal } from '../components/ui.tsx';
import { Confirm } from '../components/confirm.tsx';
import { refreshDashboardAfterChange } from './Dashboard.tsx';
import { date, dateTime, money, pct, useLang, useT } from '../i18n.tsx';
import { can, useMe } from '../session.ts';

/** A line a person is about to change, asked first in the app's own dialog. */
type Asking = { what: 'undo' | 'ignore'; id: string; amountMinor: string; currency: string; who: string | null };

export function Bank() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['bank'], queryFn: () => api<BankResponse>('/api/app/bank') });
  const [matching, setMatching] = useState<BankQueueItem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () => {
    qc.invalidateQueries({ queryKey: ['bank'] });
    refreshDashboardAfterChange(qc);
    qc.invalidateQueries({ queryKey: ['today'] });
  };
  const upload = useMutation({
    mutationFn: (form: FormData) => api<BankImportResponse>('/api/app/bank/import', { form }),
    onSuccess: (r) => {
      setNotice(t('bank.imported', { read: r.summary.read, fresh: r.summary.new, dup: r.summary.duplicates, matched: r.reconcile?.matched ?? 0, review: (r.reconcile?.review ?? 0) + (r.reconcile?.unmatched ?? 0) }));
      refresh();
    },
  });
  const [asking, setAsking] = useState<Asking | null>(null);
  const accept = useMutation({
    mutationFn: (id: string) => api(`/api/app/bank/proposals/${id}/accept`, { body: {} }),
    onSuccess: () => {
      setNotice(t('bank.matchedOk'));
      refresh();
    },
  });
  const lineAction = useMutation({
    mutationFn: (a: { what: 'undo' | 'ignore' | 'restore'; id: string }) => api(`/api/app/bank/lines/${a.id}/${a.what}`, { body: {} }),
    onSuccess: (_r, a) => {
      setAsking(null);
      setNotice(t(`bank.${a.what}Done`));
      refresh();
    },
  });
  if (q.isPending) return <Loading testId="bank-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  const writer = can(me.data, 'write');
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    upload.mutate(new FormData(e.currentTarget));
  };
  const err = upload.error ?? accept.error ?? lineAction.error;
  return (
    <div className="page" data-testid="bank">
      <header className="page-head">
        <h1>{t('nav.bank')}</h1>
      </header>
      <BankHold hold={d.hold} today={d.today} />
      {notice && <div className="banner good" data-testid="bank-notice">{notice}</div>}
      {err && <div className="banner bad">{err.message}</div>}
      {writer && (
        <form className="card toolbar" onSubmit={submit}>
          <strong>{t('bank.import')}</strong>
          <input type="file" name="file" required accept=".xml,.txt,.ofx,.qfx,.csv,.cfonb,.120" data-testid="bank-file" />
          <label>
            {t('bank.account')}
            <input name="account" placeholder={t('bank.accountDefault')} />
          </label>
          <button type="submit" className="primary" disabled={upload.isPending} data-testid="bank-upload">
            {t('bank.upload')}
          </button>
          <span className="muted small">{t('bank.formats')}</span>
        </form>
      )}
      {d.statements.length === 0 && d.queue.length === 0 ? (
        <section className="card empty-state" data-testid="bank-empty">
          <h2>{t('bank.noStatementTitle')}</h2>
          <p>{t('bank.noStatement')}</p>
          <p className="muted">{writer ? t('bank.noStatementNext') : t('bank.noStatementReader')}</p>
        </section>
      ) : (
        <CountedCard testId="review-queue" title={t('bank.review')} count={d.queue.length} empty={t('bank.nothingToReview')}>
          <ul className="bank-queue">
            {d.queue.map((l) => (
              <li key={l.lineId} className="bank-line" data-testid={`line-${l.lineId}`}>
                <div className="bank-line-head">
                  <strong className="num">{money(l.amountMinor, l.currency, lang)}</strong>
                  <span>{date(l.bookingDate, lang)}</span>
                  {l.counterpartyName && <span>{l.counterpartyName}</span>}
                  {l.text && <span className="small muted bank-line-text">{l.text}</span>}
                </div>
                {l.candidates.length === 0 && <p className="small muted">{t('bank.noCandidate')}</p>}
                {l.candidates.length > 1 && <p className="small">{t('bank.severalProposals', { n: l.candidates.length })}</p>}
                {l.candidates.map((c) => (
                  <Candidate key={c.proposalId} c={c} currency={l.currency} writer={writer} pending={accept.isPending} onAccept={() => accept.mutate(c.proposalId)} />
                ))}
                {writer && (
                  <div className="actions-row">
                    <button type="button" onClick={() => setMatching(l)} data-testid="match-by-hand">
                      {t('bank.matchByHand')}
                    </button>
                    <button type="button" className="link" onClick={() => setAsking({ what: 'ignore', id: l.lineId, amountMinor: l.amountMinor, currency: l.currency, who: l.counterpartyName })} data-testid="ignore-line">
                      {t('bank.ignore')}
                    </button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        </CountedCard>
      )}
      {(d.statements.length > 0 || d.matched.length > 0) && (
      <section className="card">
        <h2>{t('bank.matched')}</h2>
        {d.matched.length === 0 && <p className="muted">{t('bank.noneMatched')}</p>}
        <table className="table" data-testid="matched-lines">
          <tbody>
            {d.matched.map((l) => (
              <tr key={l.id}>
                <td>{date(l.bookingDate, lang)}</td>
                <td className="num">{money(l.amountMinor, l.currency, lang)}</td>
                <td>{l.customerId ? <Link to="/customers/$customerId" params={{ customerId: l.customerId }}>{l.customerName}</Link> : l.counterpartyName}</td>
                <td className="small">{l.text}</td>
                <td>
                  <span className="pill">{l.matchedBy === 'auto' ? t('bank.auto') : t('bank.manual')}</span>
                </td>
                <td>
                  {writer && (
                    <button type="button" className="link" onClick={() => setAsking({ what: 'undo', id: l.id, amountMinor: l.amountMinor, currency: l.currency, who: l.customerName ?? l.counterpartyName })} data-testid="undo-match">
                      {t('bank.undo')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      )}
      {d.ignored.length > 0 && (
        <section className="card" data-testid="ignored-lines">
          <h2>{t('bank.ignoredTitle')}</h2>
          <div className="table-wrap">
            <table className="table">
              <tbody>
                {d.ignored.map((l) => (
                  <tr key={l.id}>
                    <td>{date(l.bookingDate, lang)}</td>
                    <td className="num">{money(l.amountMinor, l.currency, lang)}</td>
                    <td>{l.counterpartyName}</td>
                    <td className="small">{l.text}</td>
                    <td>
                      {writer && (
                        <button type="button" className="link" disabled={lineAction.isPending} onClick={() => lineAction.mutate({ what: 'restore', id: l.id })} data-testid="restore-line">
                          {t('bank.restore')}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {asking && (
        <Confirm
          title={t(asking.what === 'undo' ? 'bank.undo' : 'bank.ignore')}
          confirm={t(asking.what === 'undo' ? 'bank.undo' : 'bank.ignore')}
          danger={asking.what === 'undo'}
          pending={lineAction.isPending}
          onClose={() => setAsking(null)}
          onConfirm={() => lineAction.mutate({ what: asking.what, id: asking.id })}
        >
          {t(asking.what === 'undo' ? 'bank.undoAsk' : 'bank.ignoreAsk', { amount: money(asking.amountMinor, asking.currency, lang), who: asking.who ?? '—' })}
          {lineAction.error && <p className="error">{lineAction.error.message}</p>}
        </Confirm>
      )}
      {d.statements.length > 0 && (
        <section className="card" data-testid="bank-statements">
          <h2>{t('bank.statements')}</h2>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>{t('bank.importedAt')}</th>
                  <th>{t('bank.format')}</th>
                  <th>{t('bank.file')}</th>
                  <th>{t('bank.accountCol')}</th>
                  <th className="num">{t('bank.linesMatched')}</th>
                  <th className="num">{t('bank.closing')}</th>
                </tr>
              </thead>
              <tbody>
                {d.statements.map((s) => (
                  <tr key={s.id}>
                    <td>{dateTime(s.importedAt, lang)}</td>
                    <td>
                      <Code prefix="bankFormat" value={s.format} />
                    </td>
                    <td className="small">{s.filename}</td>
                    <td className="small">{s.accountIban}</td>
                    <td className="num">
                      {s.matched}/{s.lines}
                    </td>
                    <td className="num">{s.closingMinor && s.closingDate ? `${money(s.closingMinor, s.currency ?? d.currency, lang)} (${date(s.closingDate, lang)})` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {matching && (
        <ManualMatch
          line={matching}
          onClose={() => setMatching(null)}
          onDone={() => {
            setMatching(null);
            setNotice(t('bank.matchedOk'));
            refresh();
          }}
        />
      )}
    </div>
  );
}

/** A proposed match: the customer, why, the invoices it settles and how much of each, accepted in one click. */
function Candidate({ c, currency, writer, pending, onAccept }: { c: BankCandidate; currency: string; writer: boolean; pending: boolean; onAccept: () => void }) {
  const t = useT();
  const lang = useLang();
  const numbers = c.allocations.map((a) => a.number).join(', ');
  return (
    <div className="bank-candidate" data-testid="proposal" data-invoices={numbers}>
      <div>
        <strong>{c.customerName ?? t('bank.unknownCustomer')}</strong> <span className="pill">{t('bank.confidence', { pct: pct(c.confidence * 100, lang, 0) })}</span>
      </div>
      <div className="small muted">{c.reason[lang]}</div>
      {c.allocations.length > 0 && (
        <ul className="bank-candidate-invoices" aria-label={t('bank.settles')}>
          {c.allocations.map((a) => (
            <li key={a.invoiceId} data-testid="proposal-invoice">
              <Link to="/invoices/$invoiceId" params={{ invoiceId: a.invoiceId }}>
                {a.number}
              </Link>{' '}
              <span className="num">{money(a.amountMinor, currency, lang)}</span>
            </li>
          ))}
        </ul>
      )}
      {c.writeOffs.length > 0 && <div className="small">{t('bank.chargesOff', { amount: money(c.writeOffs.reduce((s, w) => s + BigInt(w.amountMinor), 0n).toString(), currency, lang) })}</div>}
      {c.unallocatedMinor !== '0' && <div className="small">{t('bank.leftCredit', { amount: money(c.unallocatedMinor, currency, lang) })}</div>}
      {writer && (
        <button type="button" className="primary" disabled={pending} onClick={onAccept} data-testid="accept-proposal" aria-label={numbers ? t('bank.acceptInvoices', { invoices: numbers }) : t('bank.accept')}>
          {t('bank.accept')}
        </button>
      )}
    </div>
  );
}

function ManualMatch({ line, onClose, onDone }: { line: BankQueueItem; onClose: () => void; onDone: () => void }) {
  const t = useT();
  const lang = useLang();
  const [search, setSearch] = useState(line.candidates[0]?.customerName ?? line.counterpartyName ?? '');
  const [term, setTerm] = useState(search);
  const [chosen, setChosen] = useState<Map<string, { inv: InvoiceSearchRow; amount: bigint }>>(new Map());
  useEffect(() => {
    const h = setTimeout(() => setTerm(search), 250);
    return () => clearTimeout(h);
  }, [search]);
  const found = useQuery({ queryKey: ['invoice-search', term], queryFn: () => api<InvoiceSearchRow[]>(`/api/app/invoices/search${qs({ q: term })}`) });
  const total = [...chosen.values()].reduce((s, c) => s + c.amount, 0n);
  const left = BigInt(line.amountMinor) - total;
  const customers = new Set([...chosen.values()].map((c) => c.inv.customerId));
  const match = useMutation({
    mutationFn: () =>
      api(`/api/app/bank/lines/${line.lineId}/match`, {
        body: { customerId: [...customers][0], allocations: [...chosen.values()].map((c) => ({ invoiceId: c.inv.id, amountMinor: c.amount.toString() })) },
      }),
    onSuccess: onDone,
  });
  const toggle = (inv: InvoiceSearchRow) => {
    const m = new Map(chosen);
    if (m.has(inv.id)) m.delete(inv.id);
    else {
      const remaining = BigInt(line.amountMinor) - [...m.values()].reduce((s, c) => s + c.amount, 0n);
      const open = BigInt(inv.openMinor);
      m.set(inv.id, { inv, amount: remaining < open ? (remaining > 0n ? remaining : 0n) : open });
    }
    setChosen(m);
  };
  return (
    <Modal title={t('bank.matchByHand')} onClose={onClose} testId="match-modal">
      <p>
        <strong>{money(line.amountMinor, line.currency, lang)}</strong> · {date(line.bookingDate, lang)} · {line.counterpartyName} · <span className="small">{line.text}</span>
      </p>
      <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t('bank.searchInvoice')} data-testid="invoice-search" />
      <table className="table">
        <tbody>
          {found.data?.map((inv) => (
            <tr key={inv.id} className={chosen.has(inv.id) ? 'sel' : ''} data-testid="found-invoice" data-number={inv.number}>
              <td>
                <input type="checkbox" checked={chosen.has(inv.id)} onChange={() => toggle(inv)} aria-label={inv.number} disabled={customers.size > 0 && !customers.has(inv.customerId)} />
              </td>
              <td>{inv.number}</td>
              <td>{inv.customerName}</td>
              <td>{date(inv.dueDate, lang)}</td>
              <td className="num">{money(inv.openMinor, inv.currency, lang)}</td>
              <td className="num">{chosen.has(inv.id) ? money(chosen.get(inv.id)!.amount.toString(), inv.currency, lang) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small">{t('bank.leftAsCredit', { amount: money(left.toString(), line.currency, lang) })}</p>
      {match.error && <p className="error">{match.error.message}</p>}
      <div className="actions-row">
        <button type="button" className="primary" disabled={chosen.size === 0 || left < 0n || match.isPending} onClick={() => match.mutate()} data-testid="confirm-match">
          {t('bank.confirmMatch')}
        </button>
      </div>
    </Modal>
  );
}
