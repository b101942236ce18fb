import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useBlocker } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import type { Channel, EscalationOptions, ScenarioDefinition, ScenarioListResponse, ScenarioSaved, ScenarioSimulation, Step, Tone } from '../../../src/http/routes/app/shapes/scenarios.ts';
import { ApiError, api } from '../api.ts';
import { Confirm } from '../components/confirm.tsx';
import { Code, codeLabel, Empty, LoadFailed, Loading } from '../components/ui.tsx';
import { date, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';
import { toMinor } from './Today.tsx';

type Definition = ScenarioDefinition;
type Escalation = EscalationOptions;
const ESCALATION_DEFAULTS: Escalation = { formalNoticeNeedsReminder: true, handoverNeedsFormalNotice: true, formalNoticeDeadlineDays: 8, postalDelayWorkingDays: 2 };

/** A key from the name the user typed: "Bâtiment — strict" -> "batiment-strict"; one already taken gets a number. */
function scenarioKey(name: string, taken: readonly string[] = []): string {
  const slug = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
  const base = /^[a-z]/.test(slug) && slug.length > 1 ? slug : `scenario-${slug || 'copie'}`.slice(0, 60);
  let key = base;
  for (let n = 2; taken.includes(key); n++) key = `${base}-${n}`;
  return key;
}

/** A step without its empty parts: an emptied condition is no condition (and no unsaved change). */
function cleanStep(s: Step): Step {
  const c = s.conditions ?? {};
  const conditions = {
    ...(c.customerKind ? { customerKind: c.customerKind } : {}),
    ...(c.minOverdueMinor && Object.keys(c.minOverdueMinor).length ? { minOverdueMinor: c.minOverdueMinor } : {}),
    ...(c.tags?.length ? { tags: c.tags } : {}),
  };
  const { conditions: _, fallbackChannel, requiresApproval, ...rest } = s;
  return { ...rest, ...(fallbackChannel ? { fallbackChannel } : {}), ...(requiresApproval !== undefined ? { requiresApproval } : {}), ...(Object.keys(conditions).length ? { conditions } : {}) };
}
const cleanDef = (d: Definition): Definition => ({ ...d, steps: d.steps.map(cleanStep) });
const same = (a: { name: string; def: Definition }, b: { name: string; def: Definition }) => a.name === b.name && JSON.stringify(cleanDef(a.def)) === JSON.stringify(cleanDef(b.def));

/** The words for a field the server names ("steps[2].channel" -> "Step 3 · Channel"). */
const FIELD_LABELS: Record<string, MessageKey> = {
  name: 'scenario.name',
  key: 'scenario.name',
  steps: 'scenario.steps',
  definition: 'scenario.steps',
  offset: 'scenario.offset',
  channel: 'col.channel',
  template: 'col.template',
  tone: 'scenario.tone',
  fallbackChannel: 'scenario.fallback',
  requiresApproval: 'scenario.approval',
  'conditions.customerKind': 'col.kind',
  'conditions.minOverdueMinor': 'scenario.minOverdue',
  'conditions.tags': 'scenario.conditions',
  conditions: 'scenario.conditions',
  'options.window': 'scenario.window',
  'options.minGapDays': 'scenario.minGap',
  'options.grouping': 'scenario.grouping',
  'options.holidayCalendar': 'scenario.holidays',
  'options.escalation.formalNoticeDeadlineDays': 'scenario.esc.deadline',
  'options.escalation.postalDelayWorkingDays': 'scenario.esc.postal',
};
function placeOf(t: ReturnType<typeof useT>, field: string | undefined): { text: string; step: number | null } {
  if (!field) return { text: '', step: null };
  const m = /^steps\[(\d+)\](?:\.(.+))?$/.exec(field);
  if (m) {
    const part = m[2] && FIELD_LABELS[m[2]];
    return { text: `${t('scenario.stepN', { n: Number(m[1]) + 1 })}${part ? ` · ${t(part)}` : ''}`, step: Number(m[1]) };
  }
  const label = FIELD_LABELS[field];
  return { text: label ? t(label) : '', step: null };
}

/** Two steps on the same day and channel are one step twice: said before the server refuses it with its codes. */
function sameDayStep(def: Definition): { index: number; offset: number; channel: Channel } | null {
  const seen = new Set<string>();
  for (const [index, s] of def.steps.entries()) {
    const k = `${s.offset}:${s.channel}`;
    if (seen.has(k)) return { index, offset: s.offset, channel: s.channel };
    seen.add(k);
  }
  return null;
}

type Draft = { name: string; def: Definition };
type Message = { ok: boolean; text: string; step: number | null };
const SENDING_FIELD_LABEL = { window: 'scenario.window', holidayCalendar: 'scenario.holidays', workingDaysOnly: 'scenario.workingDays' } as const;

export function Scenarios() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['scenarios'], queryFn: () => api<ScenarioListResponse>('/api/app/scenarios') });
  const [key, setKey] = useState<string | null>(null);
  /** A scenario made from scratch, not created yet: the editor shows it instead of a saved one. */
  const [creating, setCreating] = useState(false);
  const current = list.data?.scenarios.find((s) => s.key === key) ?? list.data?.scenarios.find((s) => s.isDefault) ?? list.data?.scenarios[0];
  const [draft, setDraft] = useState<Draft | null>(null);
  /** What the draft started from: the saved scenario, or the empty new one. */
  const [base, setBase] = useState<Draft | null>(null);
  /** Rows keep their identity while steps are added and removed (an amount being typed stays in its row). */
  const [ids, setIds] = useState<number[]>([]);
  const [nextId, setNextId] = useState(0);
  const [message, setMessage] = useState<Message | null>(null);
  const [asking, setAsking] = useState<(() => void) | null>(null);
  const load = (d: Draft) => {
    setDraft(structuredClone(d));
    setBase(structuredClone(d));
    setIds(d.def.steps.map((_, i) => nextId + i));
    setNextId(nextId + d.def.steps.length);
  };
  const loadedKey = current ? `${current.key}@${current.version}` : null;
  // A saved scenario is loaded when another one is chosen or a new version arrives, not on every refetch (edits stay).
  // biome-ignore lint/correctness/useExhaustiveDependencies: loadedKey stands for current's identity and version
  useEffect(() => {
    if (current && !creating) load({ name: current.name, def: current.definition });
  }, [loadedKey, creating]);
  const admin = can(me.data, 'admin');
  const dirty = admin && draft !== null && base !== null && !same(draft, base);
  const blocker = useBlocker({ shouldBlockFn: () => true, enableBeforeUnload: true, disabled: !dirty, withResolver: true });
  /** Something that would drop the edits (another scenario, a new one) asks first. */
  const guarded = (fn: () => void) => (dirty ? setAsking(() => fn) : fn());
  const failed = (e: Error) => {
    const where = e instanceof ApiError ? (e.where as { field?: string } | undefined) : undefined;
    const place = placeOf(t, where?.field);
    setMessage({ ok: false, text: t('scenario.notSaved', { why: place.text ? t('scenario.placed', { place: place.text, detail: e.message }) : e.message }), step: place.step });
  };
  const check = (): boolean => {
    const twice = draft && sameDayStep(draft.def);
    if (!twice) return true;
    const why = t('scenario.sameDay', { day: stepLabel(twice.offset, lang), channel: codeLabel(t, 'channel', twice.channel) });
    setMessage({ ok: false, text: t('scenario.notSaved', { why: t('scenario.placed', { place: t('scenario.stepN', { n: twice.index + 1 }), detail: why }) }), step: twice.index });
    return false;
  };
  const save = useMutation({
    mutationFn: (d: Draft) => api<ScenarioSaved>(`/api/app/scenarios/${current!.key}`, { method: 'PUT', body: { definition: cleanDef(d.def), name: d.name } }),
    onSuccess: (r) => {
      load({ name: r.name, def: r.definition });
      setMessage({ ok: true, text: t('scenario.savedVersion', { v: r.version }), step: null });
      qc.invalidateQueries({ queryKey: ['scenarios'] });
    },
    onError: failed,
  });
  const create = useMutation({
    mutationFn: (d: Draft) =>
      api<ScenarioSaved>('/api/app/scenarios', { body: { key: scenarioKey(d.name, list.data?.scenarios.map((s) => s.key)), name: d.name, definition: cleanDef(d.def) } }),
    onSuccess: async (r) => {
      await qc.invalidateQueries({ queryKey: ['scenarios'] });
      setBase(draft);
      setCreating(false);
      setKey(r.key);
      setMessage({ ok: true, text: t('scenario.created', { name: r.name }), step: null });
    },
    onError: failed,
  });
  const [copyName, setCopyName] = useState<string | null>(null);
  const duplicate = useMutation({
    mutationFn: (v: { name: string; from: string }) => api<ScenarioSaved>('/api/app/scenarios', { body: { key: scenarioKey(v.name, list.data?.scenarios.map((s) => s.key)), name: v.name, from: v.from } }),
    onSuccess: async (r) => {
      await qc.invalidateQueries({ queryKey: ['scenarios'] });
      setCopyName(null);
      setKey(r.key);
      setMessage({ ok: true, text: t('scenario.created', { name: r.name }), step: null });
    },
  });
  const makeDefault = useMutation({
    mutationFn: () => api(`/api/app/scenarios/${current!.key}/default`, { body: {} }),
    onSuccess: () => {
      setMessage({ ok: true, text: t('scenario.madeDefault'), step: null });
      qc.invalidateQueries({ queryKey: ['scenarios'] });
    },
    onError: failed,
  });
  if (list.isPending) return <Loading testId="scenarios-loading" />;
  if (list.isError) return <LoadFailed error={list.error} onRetry={() => list.refetch()} />;
  if (!current || !draft) return <Loading testId="scenarios-loading" />;
  const L = list.data;
  const def = draft.def;
  const edit = (d: Partial<Draft>) => {
    setDraft({ ...draft, ...d });
    setMessage(null);
  };
  const setDef = (d: Definition) => edit({ def: d });
  const esc: Escalation = { ...ESCALATION_DEFAULTS, ...def.options.escalation };
  const setEsc = (patch: Partial<Escalation>) => setDef({ ...def, options: { ...def.options, escalation: { ...esc, ...patch } } });
  const setStep = (i: number, patch: Partial<Step>) => setDef({ ...def, steps: def.steps.map((s, k) => (k === i ? { ...s, ...patch } : s)) });
  const addStep = () => {
    setDef({ ...def, steps: [...def.steps, { offset: def.steps.length ? def.steps.at(-1)!.offset + 7 : 0, channel: 'email', template: 'reminder', tone: 'reminder' }] });
    setIds([...ids, nextId]);
    setNextId(nextId + 1);
  };
  const removeStep = (i: number) => {
    setDef({ ...def, steps: def.steps.filter((_, k) => k !== i) });
    setIds(ids.filter((_, k) => k !== i));
  };
  const startNew = () =>
    guarded(() => {
      setCopyName(null);
      setCreating(true);
      load({ name: '', def: { options: structuredClone(current.definition.options), steps: [] } });
      setMessage(null);
    });
  const submit = () => {
    if (!check()) return;
    if (creating) create.mutate(draft);
    else save.mutate(draft);
  };
  return (
    <div className="page" data-testid="scenarios">
      <header className="page-head">
        <h1>{t('nav.scenarios')}</h1>
        <div className="tabs">
          {L.scenarios.map((s) => (
            <button
              type="button"
              key={s.key}
              className={!creating && s.key === current.key ? 'on' : ''}
              onClick={() =>
                guarded(() => {
                  setCreating(false);
                  setKey(s.key);
                  setMessage(null);
                  if (s.key === current.key) load({ name: s.name, def: s.definition });
                })
              }
            >
              {s.name}
              {s.isDefault && <span title={t('scenario.isDefault')}> ★</span>}
            </button>
          ))}
          {creating && (
            <button type="button" className="on">
              {t('scenario.new')}
            </button>
          )}
        </div>
        {admin && !creating && copyName === null && (
          <span className="toolbar">
            <button type="button" onClick={startNew} data-testid="scenario-new">
              {t('scenario.new')}
            </button>
            <button type="button" onClick={() => guarded(() => setCopyName(t('scenario.copyOf', { name: current.name })))} data-testid="scenario-duplicate">
              {t('scenario.duplicate')}
            </button>
          </span>
        )}
      </header>
      {copyName !== null && (
        <form
          className="card form"
          data-testid="scenario-copy-form"
          onSubmit={(e) => {
            e.preventDefault();
            duplicate.mutate({ name: copyName, from: current.key });
          }}
        >
          <label>
            {t('scenario.newName')}
            <input name="scenarioName" value={copyName} onChange={(e) => setCopyName(e.target.value)} required maxLength={200} />
          </label>
          <p className="muted">{t('scenario.createdHint')}</p>
          {duplicate.error && (
            <p className="error" role="alert">
              {duplicate.error.message}
            </p>
          )}
          <span className="toolbar">
            <button type="submit" className="primary" disabled={duplicate.isPending} data-testid="scenario-create">
              {t('scenario.create')}
            </button>
            <button type="button" onClick={() => setCopyName(null)}>
              {t('common.cancel')}
            </button>
          </span>
        </form>
      )}
      <div className="split scenario-split">
        <section className="card" data-testid="scenario-editor">
          {creating && (
            <>
              <h2>{t('scenario.newTitle')}</h2>
              <p className="muted">{t('scenario.newHint')}</p>
            </>
          )}
          <div className="form">
            <label>
              {t('scenario.name')}
              <input name="name" value={draft.name} onChange={(e) => edit({ name: e.target.value })} disabled={!admin} maxLength={200} required data-testid="scenario-name" />
            </label>
            <label>
              {t('scenario.window')}
              <span className="toolbar">
                <input type="time" value={def.options.window.start} onChange={(e) => setDef({ ...def, options: { ...def.options, window: { ...def.options.window, start: e.target.value } } })} />
                <input type="time" value={def.options.window.end} onChange={(e) => setDef({ ...def, options: { ...def.options, window: { ...def.options.window, end: e.target.value } } })} />
              </span>
            </label>
            <label>
              {t('scenario.minGap')}
              <input type="number" min={0} max={60} value={def.options.minGapDays} onChange={(e) => setDef({ ...def, options: { ...def.options, minGapDays: Number(e.target.value) } })} />
            </label>
            <label>
              {t('scenario.grouping')}
              <select value={def.options.grouping} onChange={(e) => setDef({ ...def, options: { ...def.options, grouping: e.target.value as Definition['options']['grouping'] } })}>
                <option value="per_customer">{t('scenario.perCustomer')}</option>
                <option value="per_invoice">{t('scenario.perInvoice')}</option>
              </select>
            </label>
            <label>
              {t('scenario.holidays')}
              <select value={def.options.holidayCalendar} onChange={(e) => setDef({ ...def, options: { ...def.options, holidayCalendar: e.target.value } })}>
                {L.holidayCalendars.map((h) => (
                  <option key={h.key} value={h.key}>
                    {codeLabel(t, 'holidays', h.key)}
                  </option>
                ))}
              </select>
            </label>
            <label className="inline">
              <input type="checkbox" checked={def.options.workingDaysOnly} onChange={(e) => setDef({ ...def, options: { ...def.options, workingDaysOnly: e.target.checked } })} />
              {t('scenario.workingDays')}
            </label>
            {!creating && (
              <p className="muted small wide" data-testid="scenario-sending-source">
                {current.follows.length
                  ? t('scenario.followsOrganisation', { what: current.follows.map((f) => t(SENDING_FIELD_LABEL[f])).join(', ') })
                  : t('scenario.ownSending')}
              </p>
            )}
          </div>
          <h3>{t('scenario.escalation')}</h3>
          <div className="form" data-testid="escalation-options">
            <label className="inline wide">
              <input type="checkbox" name="formalNoticeNeedsReminder" checked={esc.formalNoticeNeedsReminder} onChange={(e) => setEsc({ formalNoticeNeedsReminder: e.target.checked })} />
              {t('scenario.esc.needsReminder')}
            </label>
            <label className="inline wide">
              <input type="checkbox" name="handoverNeedsFormalNotice" checked={esc.handoverNeedsFormalNotice} onChange={(e) => setEsc({ handoverNeedsFormalNotice: e.target.checked })} />
              {t('scenario.esc.needsNotice')}
            </label>
            <label>
              {t('scenario.esc.deadline')}
              <input type="number" name="formalNoticeDeadlineDays" min={1} max={60} value={esc.formalNoticeDeadlineDays} onChange={(e) => setEsc({ formalNoticeDeadlineDays: Number(e.target.value) })} />
            </label>
            <label>
              {t('scenario.esc.postal')}
              <input type="number" name="postalDelayWorkingDays" min={0} max={10} value={esc.postalDelayWorkingDays} onChange={(e) => setEsc({ postalDelayWorkingDays: Number(e.target.value) })} />
            </label>
          </div>
          <h3>{t('scenario.steps')}</h3>
          {def.steps.length === 0 ? (
            <Empty testId="steps-empty">{t('scenario.noSteps')}</Empty>
          ) : (
            <div className="table-wrap">
              <table className="table" data-testid="steps">
                <thead>
                  <tr>
                    <th>{t('scenario.offset')}</th>
                    <th>{t('col.channel')}</th>
                    <th>{t('col.template')}</th>
                    <th>{t('scenario.tone')}</th>
                    <th>{t('scenario.fallback')}</th>
                    <th>{t('scenario.conditions')}</th>
                    <th>{t('scenario.approval')}</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {def.steps.map((s, i) => (
                    <StepRow
                      key={ids[i] ?? `extra-${i}`}
                      step={s}
                      n={i + 1}
                      invalid={message?.ok === false && message.step === i}
                      lists={L}
                      onChange={(patch) => setStep(i, patch)}
                      onRemove={() => removeStep(i)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="actions-row" style={{ marginTop: 10 }}>
            <button type="button" onClick={addStep} data-testid="add-step">
              {t('scenario.addStep')}
            </button>
            <span className="spacer" />
            {admin && (
              <>
                {dirty && <span className="pill warn" data-testid="scenario-unsaved">{t('scenario.unsaved')}</span>}
                {creating ? (
                  <>
                    <button
                      type="button"
                      onClick={() => {
                        setCreating(false);
                        setMessage(null);
                        load({ name: current.name, def: current.definition });
                      }}
                    >
                      {t('scenario.discard')}
                    </button>
                    <button type="button" className="primary" onClick={submit} disabled={create.isPending} data-testid="save-scenario">
                      {t('scenario.createNew')}
                    </button>
                  </>
                ) : (
                  <>
                    {!current.isDefault && (
                      <button type="button" onClick={() => makeDefault.mutate()} disabled={makeDefault.isPending}>
                        {t('scenario.makeDefault')}
                      </button>
                    )}
                    <button type="button" className="primary" onClick={submit} disabled={save.isPending} data-testid="save-scenario">
                      {t('scenario.save', { v: current.version + 1 })}
                    </button>
                  </>
                )}
              </>
            )}
          </div>
          {message && (
            <div className={message.ok ? 'banner good' : 'banner bad'} role={message.ok ? 'status' : 'alert'} data-testid="scenario-message" style={{ marginTop: 10 }}>
              {message.text}
            </div>
          )}
          {!creating && <p className="muted small">{t('scenario.versionNote', { v: current.version, n: current.customers })}</p>}
        </section>
        <Simulator def={def} />
      </div>
      {blocker.status === 'blocked' && (
        <Confirm title={t('scenario.unsaved')} confirm={t('scenario.leave')} danger onConfirm={() => blocker.proceed()} onClose={() => blocker.reset()} testId="leave-dialog">
          {t('scenario.leaveBody', { name: draft.name || t('scenario.new') })}
        </Confirm>
      )}
      {asking && (
        <Confirm
          title={t('scenario.unsaved')}
          confirm={t('scenario.leave')}
          danger
          onConfirm={() => {
            const go = asking;
            setAsking(null);
            go();
          }}
          onClose={() => setAsking(null)}
          testId="leave-dialog"
        >
          {t('scenario.leaveBody', { name: draft.name || t('scenario.new') })}
        </Confirm>
      )}
    </div>
  );
}

/** One step of the editor: its day, channel, template, tone, fallback, conditions and approval, in words. */
function StepRow({ step: s, n, invalid, lists: L, onChange, onRemove }: { step: Step; n: number; invalid: boolean; lists: ScenarioListResponse; onChange: (patch: Partial<Step>) => void; onRemove: () => void }) {
  const t = useT();
  const lang = useLang();
  const [amount, setAmount] = useState(() => (s.conditions?.minOverdueMinor?.EUR ? (Number(s.conditions.minOverdueMinor.EUR) / 100).toString() : ''));
  return (
    <tr className={invalid ? 'invalid' : undefined} data-testid="step-row" aria-invalid={invalid || undefined}>
      <td>
        <input type="number" name="offset" value={s.offset} min={-60} max={730} style={{ width: 70 }} onChange={(e) => onChange({ offset: Number(e.target.value) })} aria-label={`${t('scenario.stepN', { n })} · ${t('scenario.offset')}`} />
        <div className="muted small">{stepLabel(s.offset, lang)}</div>
      </td>
      <td>
        <select name="channel" value={s.channel} onChange={(e) => onChange({ channel: e.target.value as Channel })} aria-label={t('col.channel')}>
          {L.channels.map((c) => (
            <option key={c} value={c}>
              {codeLabel(t, 'channel', c)}
            </option>
          ))}
        </select>
      </td>
      <td>
        <select name="template" value={s.template} onChange={(e) => onChange({ template: e.target.value })} aria-label={t('col.template')}>
          {L.templates.map((c) => (
            <option key={c} value={c}>
              {codeLabel(t, 'template', c)}
            </option>
          ))}
        </select>
      </td>
      <td>
        <select name="tone" value={s.tone} onChange={(e) => onChange({ tone: e.target.value as Tone })} aria-label={t('scenario.tone')}>
          {L.tones.map((c) => (
            <option key={c} value={c}>
              {codeLabel(t, 'tone', c)}
            </option>
          ))}
        </select>
      </td>
      <td>
        <select name="fallbackChannel" value={s.fallbackChannel ?? ''} onChange={(e) => onChange({ fallbackChannel: (e.target.value || undefined) as Channel | undefined })} aria-label={t('scenario.fallback')}>
          <option value="">—</option>
          {L.channels.map((c) => (
            <option key={c} value={c}>
              {codeLabel(t, 'channel', c)}
            </option>
          ))}
        </select>
      </td>
      <td>
        <select
          name="customerKind"
          value={s.conditions?.customerKind ?? ''}
          onChange={(e) => onChange({ conditions: { ...s.conditions, customerKind: (e.target.value || undefined) as 'business' | 'consumer' | undefined } })}
          aria-label={t('col.kind')}
        >
          <option value="">{t('scenario.anyCustomer')}</option>
          <option value="business">{t('kind.business')}</option>
          <option value="consumer">{t('kind.consumer')}</option>
        </select>
        <input
          name="minOverdue"
          placeholder={t('scenario.minOverdue')}
          aria-label={t('scenario.minOverdue')}
          style={{ width: 110 }}
          value={amount}
          onChange={(e) => {
            setAmount(e.target.value);
            const m = toMinor(e.target.value);
            const { EUR: _, ...others } = s.conditions?.minOverdueMinor ?? {};
            onChange({ conditions: { ...s.conditions, minOverdueMinor: m ? { ...others, EUR: m } : others } });
          }}
        />
        {s.conditions?.tags?.length ? <div className="muted small">{t('scenario.tags', { tags: s.conditions.tags.join(', ') })}</div> : null}
      </td>
      <td>
        <input type="checkbox" name="requiresApproval" checked={s.requiresApproval ?? s.tone === 'formal_notice'} onChange={(e) => onChange({ requiresApproval: e.target.checked })} aria-label={t('scenario.approval')} />
      </td>
      <td>
        <button type="button" className="link" onClick={onRemove} aria-label={t('scenario.removeStep', { n })} title={t('scenario.removeStep', { n })} data-testid="remove-step">
          ✕
        </button>
      </td>
    </tr>
  );
}

function Simulator({ def }: { def: Definition }) {
  const t = useT();
  const lang = useLang();
  const [dueDate, setDueDate] = useState(() => new Date().toISOString().slice(0, 10));
  const [amount, setAmount] = useState('1200');
  const [kind, setKind] = useState<'business' | 'consumer'>('business');
  const [hasEmail, setHasEmail] = useState(true);
  const [hasPhone, setHasPhone] = useState(true);
  const [paidOn, setPaidOn] = useState('');
  const sim = useMutation({
    mutationFn: () =>
      api<ScenarioSimulation>('/api/app/scenarios/preview', { body: { definition: def, sample: { dueDate, amountMinor: toMinor(amount) ?? '120000', kind, hasEmail, hasPhone, paidOn: paidOn || undefined } } }),
  });
  // Previews follow the edits (debounced) so the timeline always shows the draft.
  const twice = sameDayStep(def);
  const previewable = def.steps.length > 0 && !twice;
  // biome-ignore lint/correctness/useExhaustiveDependencies: sim.mutate is stable; the inputs are the dependencies
  useEffect(() => {
    if (!previewable) return;
    const h = setTimeout(() => sim.mutate(), 300);
    return () => clearTimeout(h);
  }, [previewable, def, dueDate, amount, kind, hasEmail, hasPhone, paidOn]);
  const days = sim.data?.days.filter((d) => d.actions.length || d.skipped.length || d.relative === 0) ?? [];
  return (
    <section className="card" data-testid="simulator">
      <h2>{t('scenario.preview')}</h2>
      <div className="form">
        <label>
          {t('col.due')}
          <input type="date" value={dueDate} onChange={(e) => setDueDate(e.target.value)} />
        </label>
        <label>
          {t('col.amount')}
          <input value={amount} onChange={(e) => setAmount(e.target.value)} />
        </label>
        <label>
          {t('col.kind')}
          <select value={kind} onChange={(e) => setKind(e.target.value as 'business' | 'consumer')}>
            <option value="business">{t('kind.business')}</option>
            <option value="consumer">{t('kind.consumer')}</option>
          </select>
        </label>
        <label>
          {t('scenario.paidOn')}
          <input type="date" value={paidOn} onChange={(e) => setPaidOn(e.target.value)} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={hasEmail} onChange={(e) => setHasEmail(e.target.checked)} /> {t('scenario.hasEmail')}
        </label>
        <label className="inline">
          <input type="checkbox" checked={hasPhone} onChange={(e) => setHasPhone(e.target.checked)} /> {t('scenario.hasPhone')}
        </label>
      </div>
      {def.steps.length === 0 && <Empty testId="preview-empty">{t('scenario.previewEmpty')}</Empty>}
      {twice && (
        <p className="error">
          {t('scenario.placed', { place: t('scenario.stepN', { n: twice.index + 1 }), detail: t('scenario.sameDay', { day: stepLabel(twice.offset, lang), channel: codeLabel(t, 'channel', twice.channel) }) })}
        </p>
      )}
      {previewable && sim.error && <p className="error">{sim.error.message}</p>}
      {previewable && sim.isPending && !sim.data && <Loading testId="preview-loading" />}
      {previewable && (
      <div className="days" style={{ marginTop: 12 }} data-testid="sim-days">
        {days.map((d) => (
          <div key={d.date} className={`day ${d.actions.length ? 'has' : ''} ${d.relative === 0 ? 'due' : ''}`}>
            <div className="d">
              {date(d.date, lang)} · {stepLabel(d.relative, lang)}
            </div>
            {d.actions.map((a) => (
              <div key={`${a.channel}-${a.template}`}>
                {/* A call's template already says "Call, day 8": the channel is not repeated before it. */}
                {!codeLabel(t, 'template', a.template).startsWith(codeLabel(t, 'channel', a.channel)) && (
                  <>
                    <strong>
                      <Code prefix="channel" value={a.channel} />
                    </strong>{' '}
                  </>
                )}
                <Code prefix="template" value={a.template} />
                {a.fallbackFrom && (
                  <span className="muted">
                    {' '}
                    ({t('scenario.insteadOf')} <Code prefix="channel" value={a.fallbackFrom} />)
                  </span>
                )}
                {a.requiresApproval && <span className="pill warn">{t('scenario.approval')}</span>}
              </div>
            ))}
            {d.skipped.map((s) => (
              <div key={s.stepKey} className="muted">
                {stepLabel(Number(s.stepKey.split(':')[0]), lang)} · <Code prefix="channel" value={s.stepKey.split(':')[1]} /> : <Code prefix="skip" value={s.reason} />
              </div>
            ))}
          </div>
        ))}
      </div>
      )}
    </section>
  );
}
