/**
 * The setup wizard: what `relance serve` opens on a database with no organisation (src/http/setup.ts
 * is its server side). Claimed with the one-time code of the server log, then the company, its bank
 * account, the sender and SMTP (with a test message), the first admin; the organisation is created
 * in one request, which signs that admin in. The last steps run under the new admin's session: the
 * first import, the scenario, and going live (or staying in review mode).
 *
 * Each step is checked in the browser with the same checks the server runs (src/domain/organisation.ts,
 * the password rule), so a bad SIREN is told on its own step; whatever the server still refuses
 * comes back naming its field, and the wizard returns to that field's step and shows it there.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, type ReactNode, useState } from 'react';
import { passwordProblem } from '../../../src/auth/password-policy.ts';
import { checkOrganisation } from '../../../src/domain/organisation.ts';
import { isRelanceError } from '../../../src/errors.ts';
import { renderText } from '../../../src/i18n/index.ts';
import { ApiError, api } from '../api.ts';
import { hasKey, type Lang, LangProvider, money, num, stepLabel, translate } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { ImportPanel } from '../components/imports.tsx';
import { Empty, LoadFailed, Loading } from '../components/ui.tsx';
import type { ScenarioListResponse } from '../../../src/http/routes/app/shapes/scenarios.ts';
import type { GoLiveResponse, SetupCreated, SetupStatus } from '../../../src/http/routes/app/shapes/setup.ts';

const BEFORE = ['code', 'company', 'bank', 'sender', 'admin'] as const;
const AFTER = ['import', 'scenario', 'live'] as const;
const STEPS = [...BEFORE, ...AFTER];
type Step = (typeof STEPS)[number];

const initialLang = (): Lang => {
  const saved = localStorage.getItem('relance.lang');
  if (saved === 'fr' || saved === 'en') return saved;
  return navigator.language.startsWith('fr') ? 'fr' : 'en';
};

/** The server's names of the SMTP fields (saveDeliverySettings) as the wizard's form names them. */
const FIELD_ALIASES: Record<string, string> = {
  'sender.smtpHost': 'sender.smtp.host',
  'sender.smtpPort': 'sender.smtp.port',
  'sender.smtpSecurity': 'sender.smtp.security',
  'sender.smtpUser': 'sender.smtp.user',
  'sender.smtpPassword': 'sender.smtp.password',
};

/** The step that shows a field. */
function stepOf(field: string): Step | null {
  if (field === 'code') return 'code';
  if (field === 'organisation.iban' || field === 'organisation.bic') return 'bank';
  if (field.startsWith('organisation.') || field.startsWith('branding.')) return 'company';
  if (field.startsWith('sender.') || field === 'to') return 'sender';
  if (field.startsWith('admin.')) return 'admin';
  return null;
}

const ORG_FIELDS = ['legalName', 'siren', 'siret', 'vatNumber', 'addressLine1', 'addressLine2', 'postalCode', 'city', 'country'] as const;

export function Setup() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const t = (k: MessageKey, vars?: Record<string, string | number>) => translate(lang, k, vars);
  const qc = useQueryClient();
  const status = useQuery({ queryKey: ['setup'], queryFn: () => api<SetupStatus>('/api/setup'), retry: false, staleTime: Number.POSITIVE_INFINITY });
  const [step, setStep] = useState<Step>('code');
  const [v, setV] = useState<Record<string, string>>({ 'organisation.country': 'FR', 'organisation.language': 'fr', 'sender.smtp.port': '587', 'sender.smtp.security': 'starttls' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [banner, setBanner] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ name: string; email: string } | null>(null);

  const set = (name: string, value: string) => {
    setV((x) => ({ ...x, [name]: value }));
    setErrors(({ [name]: _gone, ...rest }) => rest);
  };
  const pick = (l: Lang) => {
    localStorage.setItem('relance.lang', l);
    setLang(l);
    setErrors({});
    setBanner(null);
  };
  const group = (prefix: string) =>
    Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('.'))
        .map(([k, x]) => [k.slice(prefix.length), x]),
    );
  const smtp = () => ({ host: v['sender.smtp.host'] ?? '', port: v['sender.smtp.port'] || '587', security: v['sender.smtp.security'], user: v['sender.smtp.user'] ?? '', password: v['sender.smtp.password'] ?? '' });
  const setupCall = <T,>(path: string, body: Record<string, unknown>) => api<T>(path, { body: { code: v.code ?? '', ...body }, headers: { 'accept-language': lang } });

  /** A refusal from the server: next to its field, on that field's step; else above the form. */
  const fail = (e: unknown) => {
    const raw = e instanceof ApiError ? (e.where as { field?: string } | undefined)?.field : undefined;
    const field = raw ? (FIELD_ALIASES[raw] ?? raw) : undefined;
    const at = field ? stepOf(field) : null;
    if (field && at && (BEFORE as readonly string[]).includes(step)) {
      setErrors({ [field]: (e as Error).message });
      setStep(at);
    } else {
      setBanner({ ok: false, text: (e as Error).message });
    }
  };

  /** The same checks as the server's, in the browser, for one step. */
  const check = (s: Step): Record<string, string> => {
    const out: Record<string, string> = {};
    const required = (name: string) => {
      if (!(v[name] ?? '').trim()) out[name] = t('setup.required');
    };
    const org = (work: () => void) => {
      try {
        work();
      } catch (e) {
        if (isRelanceError(e) && e.where?.field) out[`organisation.${e.where.field}`] = e.detail(lang);
        else throw e;
      }
    };
    if (s === 'code') required('code');
    if (s === 'company') org(() => checkOrganisation(Object.fromEntries(ORG_FIELDS.map((k) => [k, v[`organisation.${k}`] ?? ''])), null));
    if (s === 'bank') org(() => checkOrganisation({ iban: v['organisation.iban'] ?? '', bic: v['organisation.bic'] ?? '' }, { siren: null }));
    if (s === 'sender') required('sender.fromAddress');
    if (s === 'admin') {
      required('admin.email');
      const why = passwordProblem(v['admin.password'] ?? '', v['admin.email']);
      if (why) out['admin.password'] = renderText(why, lang);
      else if (v['admin.password'] !== v['admin.confirm']) out['admin.confirm'] = t('setup.mismatch');
    }
    return out;
  };

  async function next(e: FormEvent) {
    e.preventDefault();
    setBanner(null);
    const found = check(step);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      if (step === 'code') await setupCall('/api/setup/check', {});
      if (step === 'admin') {
        const r = await setupCall<SetupCreated>('/api/setup', {
          organisation: group('organisation.'),
          branding: group('branding.'),
          sender: { ...group('sender.'), smtp: smtp() },
          admin: { name: v['admin.name'] ?? '', email: v['admin.email'] ?? '', password: v['admin.password'] ?? '', language: lang },
        });
        qc.clear();
        setCreated({ name: r.organisation.name, email: r.admin.email });
        setBanner({ ok: true, text: t('setup.created', { name: r.organisation.name, email: r.admin.email }) });
        setStep('import');
        return;
      }
      setStep(STEPS[STEPS.indexOf(step) + 1]!);
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  async function sendTest() {
    setBanner(null);
    if (!(v['sender.smtp.host'] ?? '').trim()) {
      setErrors({ 'sender.smtp.host': t('setup.testNeedsHost') });
      return;
    }
    setBusy(true);
    try {
      await setupCall('/api/setup/smtp-test', {
        organisation: { legalName: v['organisation.legalName'] ?? '' },
        sender: { fromAddress: v['sender.fromAddress'] ?? '', fromName: v['sender.fromName'] ?? '', smtp: smtp() },
        to: v.to ?? '',
      });
      setErrors({});
      setBanner({ ok: true, text: t('setup.testSent') });
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  const field = (name: string, label: MessageKey, o: { type?: string; autoComplete?: string; wide?: boolean; placeholder?: string } = {}) => (
    <label key={name} className={o.wide ? 'wide' : undefined}>
      {t(label)}
      <input
        name={name}
        type={o.type ?? 'text'}
        autoComplete={o.autoComplete ?? 'off'}
        placeholder={o.placeholder}
        value={v[name] ?? ''}
        onChange={(e) => set(name, e.target.value)}
        aria-invalid={errors[name] ? true : undefined}
      />
      {errors[name] && (
        <span className="error field-error" role="alert" data-testid={`error-${name}`}>
          {errors[name]}
        </span>
      )}
    </label>
  );

  const shell = (children: ReactNode) => (
    <LangProvider lang={lang}>
      <div className="login setup" lang={lang}>
        <div className="card setup-card" data-testid="setup" data-step={created || status.data?.open ? step : 'closed'}>
          <header className="page-head">
            <h1>{t('setup.title')}</h1>
            <span className="spacer" />
            <span className="lang-pick">
              <button type="button" className={lang === 'fr' ? 'link on' : 'link'} onClick={() => pick('fr')}>
                Français
              </button>
              {' · '}
              <button type="button" className={lang === 'en' ? 'link on' : 'link'} onClick={() => pick('en')}>
                English
              </button>
            </span>
          </header>
          {children}
        </div>
      </div>
    </LangProvider>
  );

  if (status.isPending) return shell(<Loading testId="setup-loading" />);
  if (!created && !status.data?.open) {
    return shell(
      <>
        <p data-testid="setup-closed">{t('setup.closed')}</p>
        <Link to="/login" search={{ next: undefined }} data-testid="setup-sign-in">
          {t('setup.signIn')}
        </Link>
      </>,
    );
  }

  const n = STEPS.indexOf(step) + 1;
  const nav = (back: boolean, submit: MessageKey = 'setup.next') => (
    <div className="wide actions-row">
      {back && (
        <button type="button" onClick={() => setStep(STEPS[STEPS.indexOf(step) - 1]!)} disabled={busy}>
          {t('setup.back')}
        </button>
      )}
      <button type="submit" className="primary" disabled={busy} data-testid="setup-next">
        {t(submit)}
      </button>
    </div>
  );

  return shell(
    <>
      <ol className="setup-steps">
        {STEPS.map((s, i) => (
          <li key={s} className={s === step ? 'on' : i < n - 1 ? 'done' : undefined}>
            {t(`setup.step.${s}` as MessageKey)}
          </li>
        ))}
      </ol>
      <h2>
        {t('setup.stepOf', { n, total: STEPS.length })} — {t(`setup.step.${step}` as MessageKey)}
      </h2>
      {banner && (
        <div className={banner.ok ? 'banner good' : 'banner bad'} role="status" data-testid="setup-message">
          {banner.text}
        </div>
      )}
      {step === 'code' && (
        <form className="form" onSubmit={next} noValidate>
          <p className="wide muted">{t('setup.code.intro')}</p>
          {field('code', 'setup.code', { placeholder: 'XXXX-XXXX-XXXX' })}
          {nav(false)}
        </form>
      )}
      {step === 'company' && (
        <form className="form" onSubmit={next} noValidate>
          <p className="wide muted">{t('setup.company.intro')}</p>
          {field('organisation.legalName', 'settings.legalName', { wide: true })}
          {field('organisation.siren', 'settings.siren')}
          {field('organisation.siret', 'settings.siret')}
          {field('organisation.vatNumber', 'settings.vat')}
          {field('organisation.addressLine1', 'settings.address1', { wide: true })}
          {field('organisation.addressLine2', 'settings.address2', { wide: true })}
          {field('organisation.postalCode', 'settings.postalCode')}
          {field('organisation.city', 'settings.city')}
          {field('organisation.country', 'settings.country')}
          <label>
            {t('settings.language')}
            <select name="organisation.language" value={v['organisation.language']} onChange={(e) => set('organisation.language', e.target.value)}>
              <option value="fr">Français</option>
              <option value="en">English</option>
            </select>
          </label>
          {field('branding.footer', 'settings.legalMentions', { wide: true, placeholder: 'SARL au capital de 10 000 € – RCS Lyon 123 456 789' })}
          {field('branding.signatoryName', 'settings.signatory')}
          {field('branding.signatoryTitle', 'settings.signatoryTitle')}
          {field('branding.phone', 'settings.phone')}
          {field('branding.website', 'settings.website')}
          {nav(true)}
        </form>
      )}
      {step === 'bank' && (
        <form className="form" onSubmit={next} noValidate>
          <p className="wide muted">{t('setup.bank.intro')}</p>
          {field('organisation.iban', 'settings.iban', { wide: true, placeholder: 'FR76 …' })}
          {field('organisation.bic', 'settings.bic')}
          {nav(true)}
        </form>
      )}
      {step === 'sender' && (
        <form className="form" onSubmit={next} noValidate>
          <p className="wide muted">{t('setup.sender.intro')}</p>
          {field('sender.fromAddress', 'settings.fromAddress', { type: 'email' })}
          {field('sender.fromName', 'settings.fromName')}
          {field('sender.replyTo', 'settings.replyTo', { type: 'email' })}
          <h3 className="wide">{t('setup.smtp')}</h3>
          {field('sender.smtp.host', 'settings.smtpHost')}
          {field('sender.smtp.port', 'settings.smtpPort')}
          <label>
            {t('settings.smtpSecurity')}
            <select name="sender.smtp.security" value={v['sender.smtp.security']} onChange={(e) => set('sender.smtp.security', e.target.value)}>
              <option value="starttls">STARTTLS</option>
              <option value="tls">TLS</option>
              <option value="none">{t('settings.none')}</option>
            </select>
          </label>
          {field('sender.smtp.user', 'settings.smtpUser')}
          {field('sender.smtp.password', 'settings.smtpPassword', { type: 'password', autoComplete: 'new-password' })}
          <div className="wide toolbar">
            {field('to', 'setup.testTo', { type: 'email' })}
            <button type="button" onClick={sendTest} disabled={busy} data-testid="setup-smtp-test">
              {t('setup.testSend')}
            </button>
          </div>
          {nav(true)}
        </form>
      )}
      {step === 'admin' && (
        <form className="form" onSubmit={next} noValidate>
          <p className="wide muted">{t('setup.admin.intro')}</p>
          {field('admin.name', 'setup.adminName')}
          {field('admin.email', 'setup.adminEmail', { type: 'email', autoComplete: 'username' })}
          {field('admin.password', 'setup.password', { type: 'password', autoComplete: 'new-password' })}
          {field('admin.confirm', 'setup.confirm', { type: 'password', autoComplete: 'new-password' })}
          {nav(true, 'setup.create')}
        </form>
      )}
      {step === 'import' && <ImportStep lang={lang} onNext={() => setStep('scenario')} onError={(text) => setBanner({ ok: false, text })} />}
      {step === 'scenario' && <ScenarioStep lang={lang} onNext={() => setStep('live')} onError={(text) => setBanner({ ok: false, text })} />}
      {step === 'live' && <LiveStep lang={lang} onError={(text) => setBanner({ ok: false, text })} />}
    </>,
  );
}

function ImportStep({ lang, onNext, onError }: { lang: Lang; onNext: () => void; onError: (text: string) => void }) {
  const t = (k: MessageKey, vars?: Record<string, string | number>) => translate(lang, k, vars);
  const [imported, setImported] = useState(0);
  return (
    <div className="page" data-testid="setup-import">
      <p className="muted">{t('setup.import.intro')}</p>
      <ImportPanel testPrefix="setup-import" onImported={() => setImported((n) => n + 1)} onError={onError} />
      <div className="actions-row">
        <button type="button" className={imported ? 'primary' : undefined} onClick={onNext} data-testid="setup-next">
          {t(imported ? 'setup.next' : 'setup.skip')}
        </button>
      </div>
    </div>
  );
}


function ScenarioStep({ lang, onNext, onError }: { lang: Lang; onNext: () => void; onError: (text: string) => void }) {
  const t = (k: MessageKey, vars?: Record<string, string | number>) => translate(lang, k, vars);
  const q = useQuery({ queryKey: ['scenarios'], queryFn: () => api<ScenarioListResponse>('/api/app/scenarios') });
  const [chosen, setChosen] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (q.isPending) return <Loading testId="setup-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const current = q.data.scenarios.find((s) => s.isDefault)?.key ?? q.data.scenarios[0]?.key;
  const selected = chosen ?? current;
  const words = (k: string) => (hasKey(k) ? t(k) : k.split('.').pop()!);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      if (selected && selected !== current) await api(`/api/app/scenarios/${encodeURIComponent(selected)}/default`, { body: {} });
      onNext();
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="page" onSubmit={submit} data-testid="setup-scenario">
      <p className="muted">{t('setup.scenario.intro')}</p>
      {q.data.scenarios.map((s) => (
        <label key={s.key} className="card setup-choice" data-testid={`scenario-${s.key}`}>
          <span className="inline-row">
            <input type="radio" name="scenario" value={s.key} checked={selected === s.key} onChange={() => setChosen(s.key)} />
            <strong>{s.name}</strong>
            <span className="muted small">{t('setup.scenario.steps', { n: s.definition.steps.length })}</span>
          </span>
          <span className="small">
            {s.definition.steps.map((x) => `${stepLabel(x.offset, lang)} ${words(`template.${x.template}`)} (${words(`channel.${x.channel}`)})`).join(' · ')}
          </span>
        </label>
      ))}
      <div className="actions-row">
        <button type="submit" className="primary" disabled={busy} data-testid="setup-next">
          {t('setup.next')}
        </button>
      </div>
    </form>
  );
}


function LiveStep({ lang, onError }: { lang: Lang; onError: (text: string) => void }) {
  const t = (k: MessageKey, vars?: Record<string, string | number>) => translate(lang, k, vars);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['golive'], queryFn: () => api<GoLiveResponse>('/api/app/golive?days=30') });
  const [busy, setBusy] = useState(false);
  if (q.isPending) return <Loading testId="setup-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const g = q.data;
  const amount = (m: Record<string, string>) =>
    Object.entries(m)
      .map(([c, x]) => money(x, c, lang))
      .join(', ') || money('0', 'EUR', lang);
  const words = (k: string) => (hasKey(k) ? t(k) : k.split('.').pop()!);
  const finish = async (live: boolean) => {
    setBusy(true);
    try {
      if (live) await api('/api/app/golive', { body: { live: true } });
      qc.clear();
      navigate({ to: '/dashboard' });
    } catch (err) {
      onError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <div className="page" data-testid="setup-live">
      <p className="muted">{t('setup.live.intro', { days: g.days })}</p>
      <p data-testid="golive-totals">
        <strong>{t('setup.live.totals', { actions: num(g.actions, lang), customers: num(g.customers, lang), invoices: num(g.invoices, lang), amount: amount(g.amountMinor) })}</strong>
      </p>
      <p>{t('setup.live.firstDay', { actions: num(g.firstDay.actions, lang), customers: num(g.firstDay.customers, lang) })}</p>
      <p>{t('setup.live.firstContacts', { n: num(g.firstContacts, lang) })}</p>
      <p data-testid="golive-escalations" className={g.escalationsAsFirstContact ? 'error' : 'ok'}>
        {t('setup.live.escalations', { n: num(g.escalationsAsFirstContact, lang) })}
      </p>
      {g.byStep.length === 0 && <Empty testId="golive-nothing">{t('setup.live.nothing', { days: g.days })}</Empty>}
      {g.byStep.length > 0 && (
        <table className="table" data-testid="golive-steps">
          <thead>
            <tr>
              <th>{t('setup.live.step')}</th>
              <th>{t('scenario.tone')}</th>
              <th className="num">{t('setup.live.count')}</th>
              <th className="num">{t('import.doc.amountDue')}</th>
            </tr>
          </thead>
          <tbody>
            {g.byStep.map((s) => (
              <tr key={`${s.stepOffset}-${s.template}-${s.channel}`}>
                <td>
                  {stepLabel(s.stepOffset, lang)} {words(`template.${s.template}`)} ({words(`channel.${s.channel}`)})
                </td>
                <td>{words(`tone.${s.tone}`)}</td>
                <td className="num">{num(s.actions, lang)}</td>
                <td className="num">{amount(s.amountMinor)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions-row">
        <button type="button" onClick={() => finish(false)} disabled={busy} data-testid="setup-review">
          {t('setup.live.review')}
        </button>
        <button type="button" className="primary" onClick={() => finish(true)} disabled={busy} data-testid="setup-go-live">
          {t('setup.live.go')}
        </button>
      </div>
    </div>
  );
}
