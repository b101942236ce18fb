import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { api } from '../api.ts';
import { parseAmount } from '../../../src/domain/money.ts';
import { date, dateTime, type Lang, money, num, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';

export interface Report {
  kind: string;
  filename: string | null;
  outcome: 'imported' | 'rejected' | 'dry_run';
  rowsRead: number;
  detected: Record<string, unknown>;
  counts: Record<string, { inserted: number; updated: number; unchanged: number }>;
  problems: { line: number | null; column: string | null; reason: string }[];
  problemCount: number;
  warnings: string[];
  documents?: { file?: string; kind: 'invoice' | 'credit_note'; number: string; issueDate: string | null; dueDate: string | null; currency: string; total: string; amountDue: string; buyer: string; customerCode?: string }[];
  documentCount?: number;
  openTotal?: Record<string, string>;
}

/** A decimal amount of the report ("1234.56") as people read it. */
const decimal = (v: string, currency: string, lang: Lang) => money(parseAmount(v, currency), currency, lang);

const KINDS = ['invoices', 'customers', 'payments', 'fec', 'einvoice'] as const;

/** Sends the file and reads the NDJSON answer: progress lines, then the report. */
export async function runImport(form: FormData, onProgress: (p: { phase: 'upload' | 'read'; done: number; total: number }) => void): Promise<Report> {
  const text = await new Promise<string>((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', '/api/app/imports');
    x.upload.onprogress = (e) => onProgress({ phase: 'upload', done: e.loaded, total: e.total });
    let seen = 0;
    x.onprogress = () => {
      const lines = x.responseText.slice(seen).split('\n');
      for (const l of lines.slice(0, -1)) {
        seen += l.length + 1;
        const o = JSON.parse(l) as { type: string; bytesRead?: number; bytesTotal?: number };
        if (o.type === 'progress') onProgress({ phase: 'read', done: o.bytesRead ?? 0, total: o.bytesTotal ?? 1 });
      }
    };
    x.onload = () => (x.status >= 400 ? reject(new Error(JSON.parse(x.responseText).detail ?? x.statusText)) : resolve(x.responseText));
    x.onerror = () => reject(new Error('network error'));
    x.send(form);
  });
  const last = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; report?: Report; problem?: { detail: string } }).pop()!;
  if (last.type === 'error') throw new Error(last.problem?.detail ?? 'import failed');
  return last.report!;
}

export function Imports() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const history = useQuery({ queryKey: ['imports'], queryFn: () => api<{ id: string; kind: string; filename: string; outcome: string; rows_read: number; created_at: string }[]>('/api/app/imports') });
  const fileRef = useRef<HTMLInputElement>(null);
  const [kind, setKind] = useState<(typeof KINDS)[number]>('invoices');
  const [progress, setProgress] = useState<{ phase: string; done: number; total: number } | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const go = async (dryRun: boolean) => {
    const file = fileRef.current?.files?.[0];
    if (!file) return;
    const form = new FormData();
    form.set('file', file);
    form.set('kind', kind);
    form.set('dryRun', dryRun ? '1' : '0');
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      setReport(await runImport(form, setProgress));
      qc.invalidateQueries({ queryKey: ['imports'] });
      if (!dryRun) qc.invalidateQueries({ queryKey: ['dashboard'] });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(true);
  };
  return (
    <div className="page" data-testid="imports">
      <header className="page-head">
        <h1>{t('nav.imports')}</h1>
      </header>
      {can(me.data, 'write') && (
        <form className="card toolbar" onSubmit={submit}>
          <select value={kind} onChange={(e) => setKind(e.target.value as (typeof KINDS)[number])}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`import.kind.${k}` as MessageKey)}
              </option>
            ))}
          </select>
          <input type="file" ref={fileRef} required />
          <button type="submit" disabled={busy}>
            {t('import.check')}
          </button>
          {report?.outcome === 'dry_run' && report.problemCount === 0 && (
            <button type="button" className="primary" disabled={busy} onClick={() => go(false)}>
              {t('import.run')}
            </button>
          )}
        </form>
      )}
      {progress && busy && (
        <div className="card">
          <div className="small muted">{t(progress.phase === 'upload' ? 'import.uploading' : 'import.reading')}</div>
          <div className="progress">
            <span style={{ width: `${Math.min(100, (progress.done / Math.max(1, progress.total)) * 100)}%` }} />
          </div>
        </div>
      )}
      {error && <div className="banner bad">{error}</div>}
      {report && <ImportReport report={report} />}
      <section className="card">
        <h2>{t('import.history')}</h2>
        <table className="table">
          <tbody>
            {history.data?.map((h) => (
              <tr key={h.id}>
                <td>{dateTime(h.created_at, lang)}</td>
                <td>{t(`import.kind.${h.kind}` as MessageKey)}</td>
                <td>{h.filename}</td>
                <td>{t(`import.outcome.${h.outcome}` as MessageKey)}</td>
                <td className="num">{num(h.rows_read, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

/** What an import read, wrote and refused (the Imports screen and the setup wizard's first import). */
export function ImportReport({ report }: { report: Report }) {
  const t = useT();
  const lang = useLang();
  return (
    <section className="card" data-testid="import-report">
      <h2>
        {t(`import.outcome.${report.outcome}` as MessageKey)} — {report.filename} ({num(report.rowsRead, lang)} {t('import.rows')})
      </h2>
      <h3>{t('import.detected')}</h3>
      <pre className="text">{JSON.stringify(report.detected, null, 2)}</pre>
      <h3>{t('import.counts')}</h3>
      <table className="table">
        <thead>
          <tr>
            <th />
            <th className="num">{t('import.inserted')}</th>
            <th className="num">{t('import.updated')}</th>
            <th className="num">{t('import.unchanged')}</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(report.counts).map(([k, c]) => (
            <tr key={k}>
              <td>{k}</td>
              <td className="num">{num(c.inserted, lang)}</td>
              <td className="num">{num(c.updated, lang)}</td>
              <td className="num">{num(c.unchanged, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {report.documents && report.documentCount ? (
        <>
          <h3>
            {t('import.documents', {
              n: num(report.documentCount, lang),
              total: Object.entries(report.openTotal ?? {})
                .map(([c, v]) => decimal(v, c, lang))
                .join(', '),
            })}
          </h3>
          <table className="table" data-testid="import-documents">
            <thead>
              <tr>
                <th>{t('import.doc.number')}</th>
                <th>{t('import.doc.issue')}</th>
                <th>{t('import.doc.due')}</th>
                <th>{t('import.doc.buyer')}</th>
                <th className="num">{t('import.doc.total')}</th>
                <th className="num">{t('import.doc.amountDue')}</th>
              </tr>
            </thead>
            <tbody>
              {report.documents.slice(0, 500).map((d) => (
                <tr key={`${d.file ?? ''}-${d.kind}-${d.number}`}>
                  <td>
                    {t(`import.doc.kind.${d.kind}`)} {d.number}
                  </td>
                  <td>{date(d.issueDate, lang)}</td>
                  <td>{date(d.dueDate, lang)}</td>
                  <td>{d.customerCode ? `${d.buyer} (${d.customerCode})` : d.buyer}</td>
                  <td className="num">{decimal(d.total, d.currency, lang)}</td>
                  <td className="num">{decimal(d.amountDue, d.currency, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.documentCount > Math.min(500, report.documents.length) && (
            <p className="small muted">{t('import.documents.more', { n: num(report.documentCount - Math.min(500, report.documents.length), lang) })}</p>
          )}
        </>
      ) : null}
      {report.problemCount > 0 && (
        <>
          <h3 className="error">{t('import.problems', { n: num(report.problemCount, lang) })}</h3>
          <table className="table">
            <tbody>
              {report.problems.slice(0, 500).map((p) => (
                <tr key={`${p.line}-${p.column}-${p.reason}`}>
                  <td className="num">{p.line ?? ''}</td>
                  <td>{p.column}</td>
                  <td>{p.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {report.warnings.map((w) => (
        <p key={w} className="small muted">
          {w}
        </p>
      ))}
    </section>
  );
}
