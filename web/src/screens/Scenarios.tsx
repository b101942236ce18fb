import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Channel, EscalationOptions, ScenarioDefinition, ScenarioListResponse, ScenarioSaved, ScenarioSimulation, Step, Tone } from '../../../src/http/routes/app/shapes/scenarios.ts';
import { api } from '../api.ts';
import { Code, codeLabel } from '../components/ui.tsx';
import { date, stepLabel, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';
import { toMinor } from './Today.tsx';

type Definition = ScenarioDefinition;
type Escalation = EscalationOptions;
const ESCALATION_DEFAULTS: Escalation = { formalNoticeNeedsReminder: true, handoverNeedsFormalNotice: true, formalNoticeDeadlineDays: 8, postalDelayWorkingDays: 2 };

/** A key from the name the user typed: "Bâtiment — strict" -> "batiment-strict". */
function scenarioKey(name: string): string {
  const slug = name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
  return /^[a-z]/.test(slug) && slug.length > 1 ? slug : `scenario-${slug || 'copie'}`.slice(0, 60);
}

export function Scenarios() {
  const t = useT();
  const me = useMe();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['scenarios'], queryFn: () => api<ScenarioListResponse>('/api/app/scenarios') });
  const [key, setKey] = useState<string | null>(null);
  const current = list.data?.scenarios.find((s) => s.key === key) ?? list.data?.scenarios.find((s) => s.isDefault) ?? list.data?.scenarios[0];
  const [def, setDef] = useState<Definition | null>(null);
  const [name, setName] = useState('');
  useEffect(() => {
    if (current) {
      setDef(structuredClone(current.definition));
      setName(current.name);
    }
  }, [current]);
  const save = useMutation({
    mutationFn: () => api<ScenarioSaved>(`/api/app/scenarios/${current!.key}`, { method: 'PUT', body: { definition: def, name } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['scenarios'] }),
  });
  const [copyName, setCopyName] = useState<string | null>(null);
  const duplicate = useMutation({
    mutationFn: (v: { name: string; from: string }) => api<ScenarioSaved>('/api/app/scenarios', { body: { key: scenarioKey(v.name), name: v.name, from: v.from } }),
    onSuccess: (r) => {
      setCopyName(null);
      setKey(r.key);
      qc.invalidateQueries({ queryKey: ['scenarios'] });
    },
  });
  const makeDefault = useMutation({
    mutationFn: () => api(`/api/app/scenarios/${current!.key}/default`, { body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['scenarios'] }),
  });
  if (list.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (list.isError) return <p className="error">{list.error.message}</p>;
  if (!current || !def) return null;
  const L = list.data;
  const admin = can(me.data, 'admin');
  const esc: Escalation = { ...ESCALATION_DEFAULTS, ...def.options.escalation };
  const setEsc = (patch: Partial<Escalation>) => setDef({ ...def, options: { ...def.options, escalation: { ...esc, ...patch } } });
  const setStep = (i: number, patch: Partial<Step>) => setDef({ ...def, steps: def.steps.map((s, k) => (k === i ? { ...s, ...patch } : s)) });
  return (
    <div className="page" data-testid="scenarios">
      <header className="page-head">
        <h1>{t('nav.scenarios')}</h1>
        <div className="tabs">
          {L.scenarios.map((s) => (
            <button type="button" key={s.key} className={s.key === current.key ? 'on' : ''} onClick={() => setKey(s.key)}>
              {s.name}
              {s.isDefault ? ' ★' : ''}
            </button>
          ))}
          {admin && copyName === null && (
            <button type="button" onClick={() => setCopyName(t('scenario.copyOf', { name: current.name }))} data-testid="scenario-duplicate">
              {t('scenario.duplicate')}
            </button>
          )}
        </div>
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
          {duplicate.error && <p className="error">{duplicate.error.message}</p>}
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
        <section className="card">
          <div className="form">
            <label>
              {t('scenario.name')}
              <input value={name} onChange={(e) => setName(e.target.value)} disabled={!admin} />
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
                // biome-ignore lint/suspicious/noArrayIndexKey: steps are edited in place; the index is their identity while editing
                <tr key={i}>
                  <td>
                    <input type="number" value={s.offset} style={{ width: 64 }} onChange={(e) => setStep(i, { offset: Number(e.target.value) })} aria-label={t('scenario.offset')} />
                  </td>
                  <td>
                    <select value={s.channel} onChange={(e) => setStep(i, { channel: e.target.value as Channel })}>
                      {L.channels.map((c) => (
                        <option key={c} value={c}>
                          {t(`channel.${c}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <select value={s.template} onChange={(e) => setStep(i, { template: e.target.value })}>
                      {L.templates.map((c) => (
                        <option key={c} value={c}>
                          {t(`template.${c}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <select value={s.tone} onChange={(e) => setStep(i, { tone: e.target.value as Tone })}>
                      {L.tones.map((c) => (
                        <option key={c} value={c}>
                          {t(`tone.${c}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <select value={s.fallbackChannel ?? ''} onChange={(e) => setStep(i, { fallbackChannel: (e.target.value || undefined) as Channel | undefined })}>
                      <option value="">—</option>
                      {L.channels.map((c) => (
                        <option key={c} value={c}>
                          {t(`channel.${c}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <select
                      value={s.conditions?.customerKind ?? ''}
                      onChange={(e) => setStep(i, { conditions: { ...s.conditions, customerKind: (e.target.value || undefined) as 'business' | 'consumer' | undefined } })}
                      aria-label={t('col.kind')}
                    >
                      <option value="">{t('scenario.anyCustomer')}</option>
                      <option value="business">{t('kind.business')}</option>
                      <option value="consumer">{t('kind.consumer')}</option>
                    </select>
                    <input
                      placeholder={t('scenario.minOverdue')}
                      style={{ width: 110 }}
                      defaultValue={s.conditions?.minOverdueMinor?.EUR ? (Number(s.conditions.minOverdueMinor.EUR) / 100).toString() : ''}
                      onBlur={(e) => {
                        const m = toMinor(e.target.value);
                        setStep(i, { conditions: { ...s.conditions, minOverdueMinor: m ? { EUR: m } : undefined } });
                      }}
                    />
                  </td>
                  <td>
                    <input type="checkbox" checked={s.requiresApproval ?? s.tone === 'formal_notice'} onChange={(e) => setStep(i, { requiresApproval: e.target.checked })} aria-label={t('scenario.approval')} />
                  </td>
                  <td>
                    <button type="button" className="link" onClick={() => setDef({ ...def, steps: def.steps.filter((_, k) => k !== i) })}>
                      ✕
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
          <div className="actions-row" style={{ marginTop: 10 }}>
            <button type="button" onClick={() => setDef({ ...def, steps: [...def.steps, { offset: (def.steps.at(-1)?.offset ?? 0) + 7, channel: 'email', template: 'reminder', tone: 'reminder' }] })}>
              {t('scenario.addStep')}
            </button>
            <span className="spacer" />
            {admin && (
              <>
                {!current.isDefault && (
                  <button type="button" onClick={() => makeDefault.mutate()}>
                    {t('scenario.makeDefault')}
                  </button>
                )}
                <button type="button" className="primary" onClick={() => save.mutate()} disabled={save.isPending} data-testid="save-scenario">
                  {t('scenario.save', { v: current.version + 1 })}
                </button>
              </>
            )}
          </div>
          {save.error && <p className="error">{save.error.message}</p>}
          {save.isSuccess && <p className="ok">{t('common.saved')}</p>}
          <p className="muted small">{t('scenario.versionNote', { v: current.version, n: current.customers })}</p>
        </section>
        <Simulator def={def} />
      </div>
    </div>
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
  // biome-ignore lint/correctness/useExhaustiveDependencies: sim.mutate is stable; the inputs are the dependencies
  useEffect(() => {
    const h = setTimeout(() => sim.mutate(), 300);
    return () => clearTimeout(h);
  }, [def, dueDate, amount, kind, hasEmail, hasPhone, paidOn]);
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
      {sim.error && <p className="error">{sim.error.message}</p>}
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
    </section>
  );
}
