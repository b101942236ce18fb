/**
 * One import, as the Imports screen and the setup wizard both run it: choose the kind and the file,
 * see its first rows with the column found for each field (and choose the columns the header did not
 * name), check it (nothing written), import it. The result is a table in the user's words, and the
 * reminders the import planned are said at once.
 */
import { type FormEvent, useState } from 'react';
import type { ImportReportJson } from '../../../src/imports/report-shape.ts';
import type { ImportInspection, ImportPlanned } from '../../../src/http/routes/app/shapes/imports.ts';
import { parseAmount } from '../../../src/domain/money.ts';
import { api } from '../api.ts';
import { date, type Lang, money, num, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { codeLabel } from './ui.tsx';

export type Report = ImportReportJson;

export const IMPORT_KINDS = ['invoices', 'customers', 'payments', 'fec', 'einvoice'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];
const CSV_KINDS: readonly ImportKind[] = ['invoices', 'customers', 'payments'];

/** A decimal amount of the report ("1234.56") as people read it. */
const decimal = (v: string, currency: string, lang: Lang) => money(parseAmount(v, currency), currency, lang);

/** Sends the file and reads the NDJSON answer: progress lines, then the report. */
export async function runImport(
  form: FormData,
  onProgress: (p: { phase: 'upload' | 'read'; done: number; total: number }) => void,
  words: { network: string; failed: string },
): Promise<{ report: Report; planned: ImportPlanned | null }> {
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
    x.onload = () => {
      if (x.status < 400) return resolve(x.responseText);
      let detail: string | undefined;
      try {
        detail = (JSON.parse(x.responseText) as { detail?: string }).detail;
      } catch {}
      reject(new Error(detail ?? words.failed));
    };
    x.onerror = () => reject(new Error(words.network));
    x.send(form);
  });
  const last = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; report?: Report; planned?: ImportPlanned | null; problem?: { detail: string } })
    .pop()!;
  if (last.type === 'error') throw new Error(last.problem?.detail ?? words.failed);
  return { report: last.report!, planned: last.planned ?? null };
}

/** The head of the file, cut after its last complete line: enough to read the header and a few rows. */
async function headOf(file: File): Promise<Blob> {
  const head = new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer());
  if (head.length < file.size) {
    const end = head.lastIndexOf(0x0a);
    if (end > 0) return new Blob([head.subarray(0, end + 1)]);
  }
  return new Blob([head]);
}

const columnName = (header: string[], i: number) => `${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''} · ${header[i] ?? ''}`;

export function ImportPanel({ testPrefix, onImported, onError }: { testPrefix: string; onImported?: (r: Report, planned: ImportPlanned | null) => void; onError?: (text: string) => void }) {
  const t = useT();
  const lang = useLang();
  const [kind, setKind] = useState<ImportKind>('invoices');
  const [file, setFile] = useState<File | null>(null);
  const [inspection, setInspection] = useState<ImportInspection | null>(null);
  const [columns, setColumns] = useState<Record<string, number>>({});
  const [report, setReport] = useState<Report | null>(null);
  const [planned, setPlanned] = useState<ImportPlanned | null>(null);
  const [progress, setProgress] = useState<{ phase: string; done: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fail = (e: unknown) => {
    const text = (e as Error).message;
    setError(text);
    onError?.(text);
  };

  const inspect = async (f: File, k: ImportKind) => {
    setInspection(null);
    setReport(null);
    setPlanned(null);
    setError(null);
    if (!CSV_KINDS.includes(k)) return;
    const form = new FormData();
    form.set('file', await headOf(f), f.name);
    form.set('kind', k);
    setBusy(true);
    try {
      const seen = await api<ImportInspection>('/api/app/imports/inspect', { form });
      setInspection(seen);
      setColumns(seen.columns);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  // Which required fields still have no column: "customerKey or customerName" needs either.
  const unmapped = inspection
    ? inspection.fields
        .filter((f) => f.required && columns[f.name] === undefined)
        .map((f) => f.name)
        .concat(inspection.kind === 'invoices' && columns.customerKey === undefined && columns.customerName === undefined ? ['customerKey or customerName'] : [])
    : [];

  const go = async (dryRun: boolean) => {
    if (!file) return;
    const form = new FormData();
    form.set('file', file);
    form.set('kind', kind);
    form.set('dryRun', dryRun ? '1' : '0');
    if (inspection) form.set('mapping', JSON.stringify({ columns: Object.fromEntries(Object.entries(columns).map(([f, i]) => [f, i + 1])) }));
    setBusy(true);
    setError(null);
    setReport(null);
    setPlanned(null);
    try {
      const r = await runImport(form, setProgress, { network: t('import.networkError'), failed: t('import.failed') });
      setReport(r.report);
      setPlanned(r.planned);
      if (r.report.outcome === 'imported') onImported?.(r.report, r.planned);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    go(true);
  };

  return (
    <>
      <form className="card toolbar" onSubmit={submit} data-testid={`${testPrefix}-form`}>
        <select
          name="kind"
          value={kind}
          aria-label={t('import.kind')}
          onChange={(e) => {
            const k = e.target.value as ImportKind;
            setKind(k);
            if (file) inspect(file, k);
          }}
        >
          {IMPORT_KINDS.map((k) => (
            <option key={k} value={k}>
              {t(`import.kind.${k}` as MessageKey)}
            </option>
          ))}
        </select>
        <input
          type="file"
          name="file"
          required
          aria-label={t('import.file')}
          onChange={(e) => {
            const f = e.target.files?.[0] ?? null;
            setFile(f);
            if (f) inspect(f, kind);
          }}
        />
        <button type="submit" disabled={busy || !file || unmapped.length > 0} data-testid={`${testPrefix}-check`}>
          {t('import.check')}
        </button>
        {report?.outcome === 'dry_run' && report.problemCount === 0 && (
          <button type="button" className="primary" disabled={busy} onClick={() => go(false)} data-testid={`${testPrefix}-run`}>
            {t('import.run')}
          </button>
        )}
        {busy && <span className="muted small">{t('common.loading')}</span>}
      </form>
      {progress && busy && (
        <div className="card">
          <div className="small muted">{t(progress.phase === 'upload' ? 'import.uploading' : 'import.reading')}</div>
          <div className="progress">
            <span style={{ width: `${Math.min(100, (progress.done / Math.max(1, progress.total)) * 100)}%` }} />
          </div>
        </div>
      )}
      {error && (
        <div className="banner bad" role="alert" data-testid={`${testPrefix}-error`}>
          {error}
        </div>
      )}
      {inspection && !report && <ImportPreview inspection={inspection} columns={columns} setColumns={setColumns} unmapped={unmapped} />}
      {planned && (
        <div className="banner good" data-testid="import-planned">
          {planned.actionsCreated === 0 ? t('import.plannedNone') : t('import.planned', { n: num(planned.actionsCreated, lang), approval: num(planned.awaitingApproval, lang) })}
        </div>
      )}
      {report && <ImportReport report={report} />}
    </>
  );
}

/** The first rows as read, and a column for each field: the ones found from the header, the others to choose. */
function ImportPreview({ inspection, columns, setColumns, unmapped }: { inspection: ImportInspection; columns: Record<string, number>; setColumns: (c: Record<string, number>) => void; unmapped: string[] }) {
  const t = useT();
  const fieldOf = new Map(Object.entries(columns).map(([f, i]) => [i, f]));
  const fields = [...inspection.fields].sort((a, b) => Number(b.required) - Number(a.required));
  return (
    <section className="card" data-testid="import-preview">
      <h2>{t('import.preview', { n: inspection.rows.length })}</h2>
      {unmapped.length > 0 && (
        <p className="banner bad" data-testid="import-unmapped">
          {t('import.unmapped', { fields: unmapped.map((f) => fieldLabel(t, f)).join(', ') })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table small" data-testid="import-rows">
          <thead>
            <tr>
              {inspection.header.map((h, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions in the file
                <th key={i}>
                  {h}
                  <div>{fieldOf.has(i) ? <span className="pill ok">{fieldLabel(t, fieldOf.get(i)!)}</span> : <span className="pill">{t('import.ignored')}</span>}</div>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {inspection.rows.map((r, k) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in the file
              <tr key={k}>
                {inspection.header.map((_, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions in the file
                  <td key={i}>{r[i] ?? ''}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>{t('import.mapping')}</h3>
      <div className="form" data-testid="import-mapping">
        {fields.map((f) => (
          <label key={f.name}>
            {fieldLabel(t, f.name)}
            {f.required ? ' *' : ''}
            <select
              name={`column-${f.name}`}
              value={columns[f.name] ?? ''}
              aria-invalid={unmapped.includes(f.name) || undefined}
              onChange={(e) => {
                const next = { ...columns };
                delete next[f.name];
                if (e.target.value !== '') {
                  const i = Number(e.target.value);
                  // A column holds one field: choosing it here frees it elsewhere.
                  for (const [g, j] of Object.entries(next)) if (j === i) delete next[g];
                  next[f.name] = i;
                }
                setColumns(next);
              }}
            >
              <option value="">{t('import.noColumn')}</option>
              {inspection.header.map((_, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions in the file
                <option key={i} value={i}>
                  {columnName(inspection.header, i)}
                </option>
              ))}
            </select>
          </label>
        ))}
      </div>
    </section>
  );
}

function fieldLabel(t: (k: MessageKey) => string, field: string): string {
  if (field === 'customerKey or customerName') return t('import.field.customerKeyOrName');
  return codeLabel(t, 'import.field', field);
}

/** What an import read, wrote and refused, in the user's words. */
export function ImportReport({ report }: { report: Report }) {
  const t = useT();
  const lang = useLang();
  const d = report.detected;
  const separator = d.separator === 'tab' ? t('import.sep.tab') : d.separator === ' ' ? t('import.sep.space') : d.separator;
  return (
    <section className="card" data-testid="import-report">
      <h2>
        {t(`import.outcome.${report.outcome}` as MessageKey)} — {report.filename} ({num(report.rowsRead, lang)} {t('import.rows')})
      </h2>
      {(d.encoding || d.separator || d.columns) && (
        <>
          <h3>{t('import.detected')}</h3>
          <p className="small" data-testid="import-detected">
            {t('import.readAs', { encoding: String(d.encoding ?? '—').toUpperCase(), separator: separator ?? '—' })}
          </p>
          {d.columns && (
            <div className="table-wrap">
              <table className="table small">
                <tbody>
                  {Object.entries(d.columns).map(([f, h]) => (
                    <tr key={f}>
                      <td>{fieldLabel(t, f)}</td>
                      <td>← {h}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {Object.keys(report.counts).length > 0 && (
        <>
          <h3>{t('import.counts')}</h3>
          <table className="table" data-testid="import-counts">
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
                  <td>{codeLabel(t, 'import.table', k)}</td>
                  <td className="num">{num(c.inserted, lang)}</td>
                  <td className="num">{num(c.updated, lang)}</td>
                  <td className="num">{num(c.unchanged, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
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
          <div className="table-wrap">
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
                {report.documents.slice(0, 500).map((doc) => (
                  <tr key={`${doc.file ?? ''}-${doc.kind}-${doc.number}`}>
                    <td>
                      {t(`import.doc.kind.${doc.kind}`)} {doc.number}
                    </td>
                    <td>{date(doc.issueDate, lang)}</td>
                    <td>{date(doc.dueDate, lang)}</td>
                    <td>{doc.customerCode ? `${doc.buyer} (${doc.customerCode})` : doc.buyer}</td>
                    <td className="num">{decimal(doc.total, doc.currency, lang)}</td>
                    <td className="num">{decimal(doc.amountDue, doc.currency, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {report.documentCount > Math.min(500, report.documents.length) && (
            <p className="small muted">{t('import.documents.more', { n: num(report.documentCount - Math.min(500, report.documents.length), lang) })}</p>
          )}
        </>
      ) : null}
      {report.problemCount > 0 && (
        <>
          <h3 className="error">{t('import.problems', { n: num(report.problemCount, lang) })}</h3>
          <table className="table" data-testid="import-problems">
            <thead>
              <tr>
                <th className="num">{t('import.line')}</th>
                <th>{t('import.column')}</th>
                <th>{t('import.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {report.problems.slice(0, 500).map((p) => (
                <tr key={`${p.line}-${p.column}-${p.reason}`}>
                  <td className="num">{p.line ?? ''}</td>
                  <td>{p.column ? fieldLabel(t, p.column) : ''}</td>
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
