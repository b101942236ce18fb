import type { FormEvent, ReactNode } from 'react';
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { Link } from '@tanstack/react-router';
import { date, hasKey, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';

/** What a screen shows while its data is on the way. */
export function Loading({ testId = 'loading' }: { testId?: string }) {
  const t = useT();
  return (
    <p className="muted" role="status" aria-busy="true" data-testid={testId}>
      {t('common.loading')}
    </p>
  );
}

/** A screen whose data could not be read: why, in the user's language, and a way to try again. */
export function LoadFailed({ error, onRetry }: { error: Error; onRetry?: () => void }) {
  const t = useT();
  return (
    <div className="banner bad" role="alert" data-testid="load-failed">
      {t('common.loadFailed')} {error.message}{' '}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/** A list or panel with nothing in it yet: what to do to fill it. */
export function Empty({ children, testId = 'empty' }: { children: ReactNode; testId?: string }) {
  return (
    <p className="muted empty" data-testid={testId}>
      {children}
    </p>
  );
}

/** A card listing things with their count in the title, or saying there are none. */
export function CountedCard({ testId, title, count, empty, children }: { testId: string; title: string; count: number; empty: string; children: ReactNode }) {
  return (
    <section className="card" data-testid={testId}>
      <h2>
        {title} ({count})
      </h2>
      {count === 0 ? <p className="muted">{empty}</p> : children}
    </section>
  );
}

/** A dialog holding a form: its fields, the error of the last try, and a save button. */
export function FormDialog({ title, pending, error, onClose, onSubmit, testId, children }: { title: string; pending: boolean; error?: string | null; onClose: () => void; onSubmit: (f: FormData) => void; testId?: string; children: ReactNode }) {
  const t = useT();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    onSubmit(new FormData(e.currentTarget));
  };
  return (
    <Modal title={title} onClose={onClose} testId={testId}>
      <form className="form" onSubmit={submit}>
        {children}
        {error && <div className="error wide">{error}</div>}
        <div className="actions-row wide">
          <button type="submit" className="primary" disabled={pending}>
            {t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function Modal({ title, onClose, children, testId }: { title: string; onClose: () => void; children: ReactNode; testId?: string }) {
  useEffect(() => {
    const f = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', f);
    return () => window.removeEventListener('keydown', f);
  }, [onClose]);
  const t = useT();
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click outside the dialog closes it; Escape does the same from the keyboard
    <div className="modal-back" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-label={title} data-testid={testId}>
        <div className="page-head">
          <h2>{title}</h2>
          <span className="spacer" />
          <button type="button" onClick={onClose}>
            {t('common.close')}
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/**
 * A server code's label through its message key. A code with no key yet is shown as words ("written
 * off"), never with its underscores and dots: the test of every screen flags the ones that remain.
 */
export function codeLabel(t: (k: MessageKey) => string, prefix: string, value: string): string {
  const k = `${prefix}.${value}`;
  return hasKey(k) ? t(k) : value.replace(/[_.]+/g, ' ');
}

/** A server code (channel, status, reason) shown through its message key when there is one. */
export function Code({ prefix, value }: { prefix: string; value: string | null | undefined }) {
  const t = useT();
  if (!value) return null;
  return <>{codeLabel(t, prefix, value)}</>;
}

export function StatusPill({ status }: { status: string }) {
  const tone = ['sent', 'paid', 'kept', 'completed', 'matched'].includes(status)
    ? 'ok'
    : ['failed', 'uncertain', 'broken', 'cancelled'].includes(status)
      ? 'bad'
      : ['awaiting_approval', 'open', 'partially_paid', 'review'].includes(status)
        ? 'warn'
        : 'info';
  return (
    <span className={`pill ${tone}`} data-status={status}>
      <Code prefix="status" value={status} />
    </span>
  );
}

/** Shows a PDF the API returns (same-origin URL or base64), in the browser's viewer. */
export function PdfFrame({ url, base64, title }: { url?: string; base64?: string | null; title: string }) {
  const [src, setSrc] = useState<string | null>(url ?? null);
  useEffect(() => {
    if (!base64) return;
    const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
    const u = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
    setSrc(u);
    return () => URL.revokeObjectURL(u);
  }, [base64]);
  useEffect(() => {
    if (url) setSrc(url);
  }, [url]);
  if (!src) return null;
  return <iframe className="preview-frame" title={title} src={src} style={{ minHeight: 640 }} />;
}

/** An HTML email shown in a sandboxed frame: no script runs, no link navigates the app. */
export function HtmlFrame({ html, title, testId }: { html: string; title: string; testId?: string }) {
  return <iframe className="preview-frame" title={title} sandbox="" srcDoc={html} data-testid={testId} />;
}

export interface ActionPreviewData {
  error?: string;
  channel: string;
  subject: string | null;
  html?: string | null;
  text?: string | null;
  to?: string | string[];
  from?: string;
  pdfUrl?: string;
  attachments?: { filename: string; size: number }[];
  address?: { lines: string[] };
  invoices?: { number: string; open: string }[];
}

export function ActionPreview({ id }: { id: string }) {
  const t = useT();
  const [data, setData] = useState<ActionPreviewData | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    setData(null);
    api<ActionPreviewData>(`/api/app/actions/${id}/preview`).then(setData, (e: Error) => setErr(e.message));
  }, [id]);
  if (err) return <p className="error">{err}</p>;
  if (!data) return <p className="muted">{t('common.loading')}</p>;
  if (data.error) return <p className="error" data-testid="preview-error">{data.error}</p>;
  return (
    <div className="page" data-testid="action-preview">
      <div className="muted small">
        <Code prefix="channel" value={data.channel} />
        {data.subject ? ` · ${data.subject}` : ''}
        {data.to ? ` · ${t('preview.to')} ${Array.isArray(data.to) ? data.to.join(', ') : data.to}` : ''}
      </div>
      {data.address && <pre className="text">{data.address.lines.join('\n')}</pre>}
      {data.html && <HtmlFrame html={data.html} title={data.subject ?? 'email'} testId="preview-html" />}
      {!data.html && data.text && <pre className="text">{data.text}</pre>}
      {data.attachments && data.attachments.length > 0 && (
        <div className="small">
          {t('preview.attachments')}: {data.attachments.map((a) => a.filename).join(', ')}
        </div>
      )}
      {data.pdfUrl && (
        <>
          <a href={data.pdfUrl} target="_blank" rel="noreferrer" data-testid="preview-pdf-link">
            {t('preview.openPdf')}
          </a>
          <PdfFrame url={data.pdfUrl} title={data.subject ?? 'PDF'} />
        </>
      )}
    </div>
  );
}

export function Pager({ page, size, total, onPage }: { page: number; size: number; total: number; onPage: (p: number) => void }) {
  const t = useT();
  const pages = Math.max(1, Math.ceil(total / size));
  return (
    <div className="toolbar">
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>
        ←
      </button>
      <span className="muted small">{t('common.page', { page: page + 1, pages })}</span>
      <button type="button" disabled={page + 1 >= pages} onClick={() => onPage(page + 1)}>
        →
      </button>
    </div>
  );
}

/** The stale-bank-data guard of the daily cycle, said in the user's language. */
export function BankHold({ hold, today }: { hold: { held: boolean; message: string | null; lastImportOn: string | null }; today: string }) {
  const t = useT();
  const lang = useLang();
  if (!hold.message) return null;
  const days = hold.lastImportOn ? Math.round((Date.parse(today) - Date.parse(hold.lastImportOn)) / 86_400_000) : 0;
  return (
    <div className={hold.held ? 'banner bad' : 'banner'} data-testid="bank-warning">
      <strong>{hold.held ? t('today.bankHeld') : t('today.bankNote')}</strong>{' '}
      {hold.lastImportOn ? t('bank.stale', { date: date(hold.lastImportOn, lang), days }) : t('bank.never')} <Link to="/bank">{t('nav.bank')} →</Link>
    </div>
  );
}

/**
 * Rate tables the organisation's overdue debts need and that are not known that far: interest
 * uses the latest known rate meanwhile and formal notices wait until the operator adds it.
 */
export function RateWarnings({ warnings }: { warnings: { table: string; knownThrough: string; regimes: string[] }[] | undefined }) {
  const t = useT();
  const lang = useLang();
  if (!warnings?.length) return null;
  return (
    <div className="banner bad" data-testid="rate-warning">
      {warnings.map((w) => (
        <div key={w.table}>
          <strong>{t('rates.provisional', { table: codeLabel(t, 'ratetable', w.table), date: date(w.knownThrough, lang) })}</strong> {t('rates.provisionalHow')}
        </div>
      ))}
    </div>
  );
}
