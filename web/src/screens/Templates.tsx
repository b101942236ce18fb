import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { smsSegments } from '../../../src/domain/delivery.ts';
import { textFromHtml } from '../../../src/documents/text-from-html.ts';
import type { TemplateListResponse, TemplatePreviewResponse, TemplateSourcesResponse, VarDoc } from '../../../src/http/routes/app/shapes/templates.ts';
import { api } from '../api.ts';
import { Empty, HtmlFrame, LoadFailed, Loading, PdfFrame } from '../components/ui.tsx';
import { type Lang, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';

export function Templates() {
  const t = useT();
  const uiLang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['templates'], queryFn: () => api<TemplateListResponse>('/api/app/templates') });
  const [key, setKey] = useState('reminder');
  const [channel, setChannel] = useState('email');
  const [lang, setLang] = useState<Lang>(uiLang);
  const [sample, setSample] = useState<'business' | 'consumer'>('business');
  const sources = useQuery({ queryKey: ['template', key, channel, lang], queryFn: () => api<TemplateSourcesResponse>(`/api/app/templates/${key}/${channel}/${lang}`) });
  const [draft, setDraft] = useState<Record<string, string>>({});
  // Where a variable chosen from the list goes: the part last edited, at its cursor.
  const areas = useRef<Record<string, HTMLTextAreaElement | null>>({});
  const [lastPart, setLastPart] = useState<string | null>(null);
  /**
   * An e-mail's text part written from its HTML part (src/documents/text-from-html.ts): one version
   * to keep. Shown ticked when the saved text is what the HTML gives, so the choice survives a reload.
   */
  const [textFollows, setTextFollows] = useState(false);
  useEffect(() => {
    if (!sources.data) return;
    const parts = sources.data.parts;
    setDraft(Object.fromEntries(Object.entries(parts).map(([p, v]) => [p, v.source])));
    setTextFollows(parts.html !== undefined && parts.text !== undefined && parts.text.source.trim() === textFromHtml(parts.html.source).trim());
  }, [sources.data]);
  // The last preview stays on screen while the next one is computed (a mutation forgets its data when it starts again).
  const [lastPreview, setLastPreview] = useState<TemplatePreviewResponse | null>(null);
  const preview = useMutation({
    mutationFn: (v: { parts: Record<string, string> }) => api<TemplatePreviewResponse>('/api/app/templates/preview', { body: { key, channel, lang, sample, parts: v.parts } }),
    onSuccess: setLastPreview,
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: another template, channel or language is another preview
  useEffect(() => setLastPreview(null), [key, channel, lang]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: preview.mutate is stable; the draft and its context are the dependencies
  useEffect(() => {
    if (!Object.keys(draft).length) return;
    const h = setTimeout(() => preview.mutate({ parts: draft }), 350);
    return () => clearTimeout(h);
  }, [draft, sample]);
  const save = useMutation({
    mutationFn: () => api(`/api/app/templates/${key}/${channel}/${lang}`, { method: 'PUT', body: { parts: draft } }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['templates'] });
      qc.invalidateQueries({ queryKey: ['template', key, channel, lang] });
    },
  });
  const reset = useMutation({
    mutationFn: () => api(`/api/app/templates/${key}/${channel}/${lang}`, { method: 'DELETE' }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['templates'] });
      qc.invalidateQueries({ queryKey: ['template', key, channel, lang] });
    },
  });
  if (list.isPending) return <Loading testId="templates-loading" />;
  if (list.isError) return <LoadFailed error={list.error} onRetry={() => list.refetch()} />;
  const L = list.data;
  const bothParts = (L.parts[channel] ?? []).includes('html') && (L.parts[channel] ?? []).includes('text');
  const follows = textFollows && bothParts;
  /** A draft edited: the text follows the HTML when chosen, and the last save's message no longer applies. */
  const update = (next: Record<string, string>) => {
    setDraft(follows && next.html !== undefined ? { ...next, text: textFromHtml(next.html) } : next);
    save.reset();
    reset.reset();
  };
  const spec = L.templates.find((x) => x.key === key)!;
  const errors = preview.data?.errors ?? [];
  const admin = can(me.data, 'admin');
  const pick = (k: string) => {
    setKey(k);
    const s = L.templates.find((x) => x.key === k)!;
    if (!s.channels.includes(channel)) setChannel(s.channels[0]!);
  };
  const p = preview.data ?? lastPreview;
  return (
    <div className="page" data-testid="templates">
      <header className="page-head">
        <h1>{t('nav.templates')}</h1>
      </header>
      <div className="toolbar">
        <select value={key} onChange={(e) => pick(e.target.value)} data-testid="template-key">
          {L.templates.map((x) => (
            <option key={x.key} value={x.key}>
              {x.label[uiLang]}
              {x.overridden.length ? ' ✎' : ''}
            </option>
          ))}
        </select>
        <div className="tabs">
          {spec.channels.map((c) => (
            <button type="button" key={c} className={c === channel ? 'on' : ''} onClick={() => setChannel(c)} data-testid={`template-channel-${c}`}>
              {t(`docchannel.${c}` as MessageKey)}
            </button>
          ))}
        </div>
        <div className="tabs">
          {(['fr', 'en'] as const).map((l) => (
            <button type="button" key={l} className={l === lang ? 'on' : ''} onClick={() => setLang(l)} data-testid={`template-lang-${l}`}>
              {l === 'fr' ? 'Français' : 'English'}
            </button>
          ))}
        </div>
        <select value={sample} onChange={(e) => setSample(e.target.value as 'business' | 'consumer')} aria-label={t('templates.sample')}>
          <option value="business">{t('templates.sampleBusiness')}</option>
          <option value="consumer">{t('templates.sampleConsumer')}</option>
        </select>
      </div>
      <div className="split">
        <section className="card">
          {admin && sources.data && (
            <label style={{ marginBottom: 10 }}>
              {t('templates.insertVariable')}
              <select
                value=""
                data-testid="insert-variable"
                onChange={(e) => {
                  const name = e.target.value;
                  if (!name) return;
                  const chosen = lastPart && (L.parts[channel] ?? []).includes(lastPart) ? lastPart : (L.parts[channel] ?? []).at(-1)!;
                  // A text written from the HTML is not edited by hand: the variable goes into the HTML.
                  const part = follows && chosen === 'text' ? 'html' : chosen;
                  const area = areas.current[part];
                  const text = draft[part] ?? '';
                  const at = area ? area.selectionStart : text.length;
                  const end = area ? area.selectionEnd : text.length;
                  const tag = `{{ ${name} }}`;
                  update({ ...draft, [part]: text.slice(0, at) + tag + text.slice(end) });
                  requestAnimationFrame(() => {
                    area?.focus();
                    area?.setSelectionRange(at + tag.length, at + tag.length);
                  });
                }}
              >
                <option value="">{t('templates.chooseVariable')}</option>
                {insertable(L.variables, uiLang).map(([name, label]) => (
                  <option key={name} value={name} title={name}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
          )}
          {sources.isPending && <Loading testId="template-loading" />}
          {sources.isError && <LoadFailed error={sources.error} onRetry={() => sources.refetch()} />}
          {sources.data && bothParts && (
            <label className="inline" style={{ marginBottom: 10 }}>
              <input
                type="checkbox"
                checked={follows}
                disabled={!admin}
                data-testid="text-from-html"
                onChange={(e) => {
                  setTextFollows(e.target.checked);
                  if (e.target.checked && draft.html !== undefined) setDraft({ ...draft, text: textFromHtml(draft.html) });
                  save.reset();
                }}
              />
              {t('templates.textFromHtml')}
            </label>
          )}
          {sources.data && bothParts && <p className="muted small">{follows ? t('templates.textFromHtmlOn') : t('templates.textFromHtmlOff')}</p>}
          {sources.data &&
            (L.parts[channel] ?? []).map((part) => (
              <label key={part} style={{ marginBottom: 10 }}>
                {t(`part.${part}` as MessageKey)}
                {sources.data.parts[part]?.overridden && <span className="pill info">{t('templates.custom')}</span>}
                <textarea
                  ref={(el) => {
                    areas.current[part] = el;
                  }}
                  onFocus={() => setLastPart(part)}
                  data-testid={`part-${part}`}
                  rows={part === 'subject' ? 2 : 16}
                  value={draft[part] ?? ''}
                  spellCheck={false}
                  readOnly={follows && part === 'text'}
                  className={follows && part === 'text' ? 'muted' : undefined}
                  onChange={(e) => update({ ...draft, [part]: e.target.value })}
                />
                {channel === 'sms' && part === 'text' && p?.text && <SmsCounter text={p.text} />}
                {errors
                  .filter((e) => e.part === part)
                  .map((e) => (
                    <span className="error" key={e.message} data-testid="template-error">
                      {e.line ? t('templates.line', { n: e.line }) : ''} {e.message}
                    </span>
                  ))}
              </label>
            ))}
          {admin && (
            <div className="actions-row">
              <button type="button" className="primary" disabled={errors.length > 0 || save.isPending || preview.isPending} onClick={() => save.mutate()} data-testid="save-template">
                {t('common.save')}
              </button>
              <button type="button" onClick={() => reset.mutate()}>
                {t('templates.reset')}
              </button>
              {errors.length > 0 && <span className="error small">{t('templates.cannotSave')}</span>}
              {save.isSuccess && (
                <span className="ok small" role="status" data-testid="template-message">
                  {t('common.saved')}
                </span>
              )}
              {reset.isSuccess && (
                <span className="ok small" role="status" data-testid="template-message">
                  {t('templates.resetDone')}
                </span>
              )}
              {reset.error && <span className="error small">{reset.error.message}</span>}
              {save.error && <span className="error small">{save.error.message}</span>}
            </div>
          )}
          <details style={{ marginTop: 14 }}>
            <summary>{t('templates.variables')}</summary>
            <VarList vars={L.variables} lang={uiLang} />
          </details>
        </section>
        <section className="card" data-testid="template-preview">
          <h2>{t('templates.preview')}</h2>
          {preview.error && <p className="error">{preview.error.message}</p>}
          {p?.subject && (
            <p>
              <strong>{t('part.subject')}:</strong> <span data-testid="preview-subject">{p.subject}</span>
            </p>
          )}
          {!p && preview.isPending && <Loading testId="preview-loading" />}
          {!p && !preview.isPending && !preview.error && <Empty testId="preview-empty">{t('templates.previewEmpty')}</Empty>}
          {p?.html && <HtmlFrame html={p.html} title="email" testId="preview-email" />}
          {p?.html && p.text && (
            <details data-testid="preview-email-text">
              <summary>{t('templates.textVersion')}</summary>
              <pre className="text">{p.text}</pre>
            </details>
          )}
          {p && !p.html && p.text && (
            <pre className="text" data-testid="preview-text">
              {p.text}
            </pre>
          )}
          {p?.pdf && (
            <>
              {p.body && (
                <pre className="text" data-testid="preview-letter-text">
                  {p.body}
                </pre>
              )}
              <PdfFrame base64={p.pdf} title="letter" />
            </>
          )}
        </section>
      </div>
    </div>
  );
}

/** The variables a template can use, with their description: top-level ones and the fields of objects (not list items, which need a loop). */
function insertable(vars: Record<string, VarDoc>, lang: Lang, prefix = ''): [string, string][] {
  return Object.entries(vars).flatMap(([name, v]): [string, string][] =>
    v.type === 'list' ? [] : v.fields ? insertable(v.fields, lang, `${prefix}${name}.`) : [[`${prefix}${name}`, v[lang]]],
  );
}

/** The SMS as rendered for the sample: its length and how many messages it takes (GSM-7 160/153, UCS-2 70/67). */
function SmsCounter({ text }: { text: string }) {
  const t = useT();
  const s = smsSegments(text);
  return (
    <span className={s.segments > 1 ? 'small error' : 'small muted'} data-testid="sms-counter">
      {t(s.encoding === 'GSM-7' ? 'templates.smsCount' : 'templates.smsCountUnicode', { n: s.units, segments: s.segments })}
    </span>
  );
}

function VarList({ vars, lang, prefix = '' }: { vars: Record<string, VarDoc>; lang: Lang; prefix?: string }) {
  return (
    <ul className="vars">
      {Object.entries(vars).map(([name, v]) => (
        <li key={name}>
          <code>
            {prefix}
            {name}
          </code>{' '}
          <span className="muted">
            {v[lang]}
            {v.optional ? ' (?)' : ''}
          </span>
          {v.fields && <VarList vars={v.fields} lang={lang} prefix={v.type === 'list' ? `${name}[].` : `${prefix}${name}.`} />}
        </li>
      ))}
    </ul>
  );
}
