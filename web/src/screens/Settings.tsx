import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useRef, useState } from 'react';
import { api } from '../api.ts';
import { date, dateTime, pct, useLang, useT } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';
import { can, useMe } from '../session.ts';
import { Code, codeLabel, Empty, LoadFailed, Loading } from '../components/ui.tsx';
import type { ProviderEntry, ProviderNow, SettingsResponse } from '../../../src/http/routes/app/shapes/settings.ts';


const formObject = (e: FormEvent<HTMLFormElement>) => {
  e.preventDefault();
  const o: Record<string, string> = {};
  new FormData(e.currentTarget).forEach((v, k) => {
    if (typeof v === 'string') o[k] = v;
  });
  return o;
};

/** A channel's provider and the settings that provider declares (server's catalogue). */
function ProviderFields({ channel, list, current, admin }: { channel: string; list: ProviderEntry[]; current: ProviderNow | undefined; admin: boolean }) {
  const t = useT();
  const lang = useLang();
  const [provider, setProvider] = useState(current?.provider ?? list[0]?.key ?? 'local');
  const def = list.find((p) => p.key === provider);
  const same = current?.provider === provider;
  return (
    <>
      <h3 className="wide">
        <Code prefix="channel" value={channel} />
      </h3>
      <label>
        {t('settings.provider')}
        <select name={`${channel}.provider`} value={provider} onChange={(e) => setProvider(e.target.value)} disabled={!admin} data-testid={`provider-${channel}`}>
          {list.map((p) => (
            <option key={p.key} value={p.key}>
              {p.label[lang]}
            </option>
          ))}
        </select>
      </label>
      {def?.local && <p className="small muted wide">{t('settings.localProvider')}</p>}
      {def?.fields.map((f) => (
        <label key={`${provider}.${f.key}`}>
          {f.label[lang]}
          <input
            name={`${channel}.${f.key}`}
            type={f.secret ? 'password' : 'text'}
            autoComplete={f.secret ? 'new-password' : undefined}
            defaultValue={f.secret || !same ? '' : (current?.options[f.key] ?? '')}
            placeholder={f.secret ? t(same && current?.secretsSet[f.key] ? 'settings.secretSet' : 'settings.secretNotSet') : (f.default ?? '')}
            disabled={!admin}
          />
        </label>
      ))}
    </>
  );
}

type Message = { ok: boolean; text: string; section: string | null };

/** The letterhead's logo: shown as stored, replaced by a PNG or JPEG file, or removed. */
function LogoBox({ hasLogo, admin, onResult }: { hasLogo: boolean; admin: boolean; onResult: (m: { ok: boolean; text: string }) => void }) {
  const t = useT();
  const qc = useQueryClient();
  // A new address after each change: the browser shows the new image, not the one it kept.
  const [version, setVersion] = useState(0);
  const change = useMutation({
    mutationFn: (file: File | null) => {
      if (!file) return api('/api/app/settings/logo', { method: 'DELETE' });
      const form = new FormData();
      form.append('file', file);
      return api('/api/app/settings/logo', { form });
    },
    onSuccess: (_r, file) => {
      // (Not after a removal: the image would be asked for again while the screen still shows it.)
      if (file) setVersion((v) => v + 1);
      onResult({ ok: true, text: t(file ? 'settings.logo.saved' : 'settings.logo.removed') });
      qc.invalidateQueries({ queryKey: ['settings'] });
    },
    onError: (e) => onResult({ ok: false, text: e.message }),
  });
  return (
    <div className="form">
      <div className="wide">
        {hasLogo ? (
          <img src={`/api/app/settings/logo?v=${version}`} alt={t('settings.logo')} className="logo-preview" data-testid="logo-preview" />
        ) : (
          <Empty testId="logo-none">{t('settings.logo.none')}</Empty>
        )}
      </div>
      {admin && (
        <>
          <label className="wide">
            {t('settings.logo.file')}
            <input
              type="file"
              accept="image/png,image/jpeg"
              disabled={change.isPending}
              data-testid="logo-file"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                if (file) change.mutate(file);
                e.currentTarget.value = '';
              }}
            />
          </label>
          {hasLogo && (
            <div className="wide">
              <button type="button" disabled={change.isPending} onClick={() => change.mutate(null)} data-testid="logo-remove">
                {t('settings.logo.remove')}
              </button>
            </div>
          )}
        </>
      )}
    </div>
  );
}

/** The box being used: its result is shown in it, next to what was saved, not at the top of the page. */
const activeSection = () => (document.activeElement as HTMLElement | null)?.closest('section[data-section]')?.getAttribute('data-section') ?? null;

function SectionMessage({ message, section }: { message: Message | null; section: string | null }) {
  if (!message || message.section !== section) return null;
  return (
    <div className={message.ok ? 'banner good' : 'banner bad'} role={message.ok ? 'status' : 'alert'} data-testid="settings-message">
      {message.text}
    </div>
  );
}

function Section({ title, children, testId, message }: { title: string; children: ReactNode; testId?: string; message: Message | null }) {
  return (
    <section className="card" data-testid={testId} data-section={title}>
      <h2>{title}</h2>
      {children}
      <SectionMessage message={message} section={title} />
    </section>
  );
}

export function Settings() {
  const t = useT();
  const lang = useLang();
  const me = useMe();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['settings'], queryFn: () => api<SettingsResponse>('/api/app/settings') });
  const [message, setMessageState] = useState<Message | null>(null);
  const from = useRef<string | null>(null);
  const setMessage = (m: { ok: boolean; text: string }) => setMessageState({ ...m, section: from.current });
  // Review mode (every action waits for approval) or live: the setup wizard's last step, and here afterwards.
  const golive = useMutation({
    onMutate: () => {
      from.current = activeSection();
    },
    mutationFn: (live: boolean) => api<{ live: boolean; released: number }>('/api/app/golive', { body: { live } }),
    onSuccess: (r) => {
      setMessage({ ok: true, text: r.live ? t('settings.mode.nowLive', { n: r.released }) : t('settings.mode.nowReview') });
      qc.invalidateQueries({ queryKey: ['settings'] });
    },
    onError: (e) => setMessage({ ok: false, text: e.message }),
  });
  const call = useMutation({
    onMutate: () => {
      from.current = activeSection();
    },
    mutationFn: (v: { path: string; method?: string; body?: unknown }) => api<Record<string, unknown>>(`/api/app/settings${v.path}`, { method: v.method ?? 'PUT', body: v.body ?? {} }),
    onSuccess: (r) => {
      const secret = (r.key as string | undefined) ?? (r.secret as string | undefined);
      const invitation = r.invitation as { path: string } | undefined;
      setMessage({
        ok: true,
        text: invitation
          ? t('settings.invitationLink', { email: String(r.email), url: `${location.origin}${invitation.path}` })
          : secret
            ? t('settings.shownOnce', { secret })
            : r.outcome
              ? t('settings.testSent')
              : t('common.saved'),
      });
      qc.invalidateQueries({ queryKey: ['settings'] });
      qc.invalidateQueries({ queryKey: ['me'] });
    },
    onError: (e) => setMessage({ ok: false, text: e.message }),
  });
  if (q.isPending) return <Loading testId="settings-loading" />;
  if (q.isError) return <LoadFailed error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  const admin = can(me.data, 'admin');
  const o = d.organisation;
  const b = d.branding;
  const dl = d.delivery;
  const catalogue = dl.catalogue;
  const providersNow: Record<string, ProviderNow | undefined> = dl.providers;
  const field = (name: string, label: MessageKey, value: unknown, extra: Record<string, unknown> = {}) => (
    <label key={name}>
      {t(label)}
      <input name={name} defaultValue={value === null || value === undefined ? '' : String(value)} disabled={!admin} {...extra} />
    </label>
  );
  // A stored secret never comes back: the field says whether one is set; left empty, it is kept.
  const secretField = (name: string, label: MessageKey, isSet: unknown) => (
    <label key={name}>
      {t(label)}
      <input name={name} type="password" autoComplete="new-password" defaultValue="" placeholder={isSet ? t('settings.secretSet') : t('settings.secretNotSet')} disabled={!admin} data-testid={`secret-${name}`} />
    </label>
  );
  return (
    <div className="page" data-testid="settings">
      <header className="page-head">
        <h1>{t('nav.settings')}</h1>
      </header>
      <SectionMessage message={message} section={null} />
      {!admin && <div className="banner">{t('settings.readOnly')}</div>}

      <Section message={message} title={t('settings.mode')} testId="settings-mode">
        <p data-testid="mode-state" data-live={o.live ? 'true' : 'false'}>
          {t(o.live ? 'settings.mode.live' : 'settings.mode.review')}
        </p>
        {admin && (
          <button type="button" className={o.live ? undefined : 'primary'} disabled={golive.isPending} onClick={() => golive.mutate(!o.live)} data-testid="switch-live">
            {t(o.live ? 'settings.mode.toReview' : 'settings.mode.toLive')}
          </button>
        )}
      </Section>

      <Section message={message} title={t('settings.identity')}>
        <form
          className="form"
          onSubmit={(e) => {
            const f = formObject(e);
            const { colour, signatoryName, signatoryTitle, footer, email, phone, website, place, paymentLink, ...org } = f;
            call.mutate({ path: '/organisation', body: { ...org, branding: { colour, signatoryName, signatoryTitle, footer, email, phone, website, place, paymentLink } } });
          }}
        >
          {field('legalName', 'settings.legalName', o.legalName, { required: true })}
          {field('siren', 'settings.siren', o.siren)}
          {field('siret', 'settings.siret', o.siret)}
          {field('vatNumber', 'settings.vat', o.vatNumber)}
          {field('addressLine1', 'settings.address1', o.addressLine1)}
          {field('addressLine2', 'settings.address2', o.addressLine2)}
          {field('postalCode', 'settings.postalCode', o.postalCode)}
          {field('city', 'settings.city', o.city)}
          {field('country', 'settings.country', o.country)}
          {field('timeZone', 'settings.timeZone', o.timeZone)}
          <label>
            {t('settings.language')}
            <select name="language" defaultValue={o.language ?? 'fr'} disabled={!admin}>
              <option value="fr">Français</option>
              <option value="en">English</option>
            </select>
          </label>
          {field('footer', 'settings.legalMentions', b.footer, { className: 'wide' })}
          {field('signatoryName', 'settings.signatory', b.signatoryName)}
          {field('signatoryTitle', 'settings.signatoryTitle', b.signatoryTitle)}
          {field('email', 'settings.contactEmail', b.email)}
          {field('phone', 'settings.phone', b.phone)}
          {field('website', 'settings.website', b.website)}
          {field('place', 'settings.place', b.place)}
          {field('colour', 'settings.colour', b.colour, { type: 'color' })}
          {field('paymentLink', 'settings.paymentLink', b.paymentLink, { className: 'wide', placeholder: 'https://paiement.exemple.fr/?facture={invoice}&montant={amount}', title: t('settings.paymentLink.f') })}
          <h3 className="wide">{t('settings.bankAccount')}</h3>
          {field('iban', 'settings.iban', o.iban)}
          {field('bic', 'settings.bic', o.bic)}
          {admin && (
            <div className="wide">
              <button type="submit" className="primary">
                {t('common.save')}
              </button>
            </div>
          )}
        </form>
      </Section>

      <Section message={message} title={t('settings.logo')} testId="settings-logo">
        <LogoBox hasLogo={b.hasLogo} admin={admin} onResult={(m) => setMessageState({ ...m, section: t('settings.logo') })} />
      </Section>

      <Section message={message} title={t('settings.channels')} testId="settings-delivery">
        <form
          className="form"
          onSubmit={(e) => {
            const f = formObject(e);
            // A secret left empty keeps the one stored; options are sent as they are (empty clears).
            const providers: Record<string, { provider: string; options: Record<string, string | null>; secrets: Record<string, string> }> = {};
            for (const [channel, list] of Object.entries(catalogue)) {
              const provider = f[`${channel}.provider`] ?? 'local';
              const def = list.find((p) => p.key === provider);
              const entry = { provider, options: {} as Record<string, string | null>, secrets: {} as Record<string, string> };
              for (const fd of def?.fields ?? []) {
                const v = f[`${channel}.${fd.key}`] ?? '';
                if (fd.secret) {
                  if (v) entry.secrets[fd.key] = v;
                } else entry.options[fd.key] = v || null;
              }
              providers[channel] = entry;
            }
            call.mutate({
              path: '/delivery',
              body: {
                smtpHost: f.smtpHost || null,
                smtpPort: f.smtpPort ? Number(f.smtpPort) : null,
                smtpSecurity: f.smtpSecurity,
                smtpUser: f.smtpUser || null,
                ...(f.smtpPassword ? { smtpPassword: f.smtpPassword } : {}),
                fromAddress: f.fromAddress || null,
                fromName: f.fromName || null,
                replyTo: f.replyTo || null,
                providers,
                callAssignee: f.callAssignee || undefined,
              },
            });
          }}
        >
          <h3 className="wide">SMTP</h3>
          {field('smtpHost', 'settings.smtpHost', dl.smtpHost)}
          {field('smtpPort', 'settings.smtpPort', dl.smtpPort, { type: 'number' })}
          <label>
            {t('settings.smtpSecurity')}
            <select name="smtpSecurity" defaultValue={String(dl.smtpSecurity ?? 'starttls')} disabled={!admin}>
              <option value="starttls">STARTTLS</option>
              <option value="tls">TLS</option>
              <option value="none">{t('settings.none')}</option>
            </select>
          </label>
          {field('smtpUser', 'settings.smtpUser', dl.smtpUser)}
          {secretField('smtpPassword', 'settings.smtpPassword', dl.smtpPasswordSet)}
          {field('fromAddress', 'settings.fromAddress', dl.fromAddress)}
          {field('fromName', 'settings.fromName', dl.fromName)}
          {field('replyTo', 'settings.replyTo', dl.replyTo)}
          {Object.entries(catalogue).map(([channel, list]) => (
            <ProviderFields key={channel} channel={channel} list={list} current={providersNow[channel]} admin={admin} />
          ))}
          {field('callAssignee', 'settings.callAssignee', dl.callAssignee)}
          {admin && (
            <div className="wide actions-row">
              <button type="submit" className="primary">
                {t('common.save')}
              </button>
            </div>
          )}
        </form>
        {admin && (
          <form
            className="toolbar"
            style={{ marginTop: 12 }}
            onSubmit={(e) => {
              const f = formObject(e);
              // An empty address means the user's own (the placeholder).
              call.mutate({ path: '/delivery/test', method: 'POST', body: { to: f.to || undefined } });
            }}
          >
            <input name="to" type="email" placeholder={me.data?.user.email} />
            <button type="submit" data-testid="send-test-email">
              {t('settings.sendTest')}
            </button>
          </form>
        )}
      </Section>

      <Section message={message} title={t('settings.sending')} testId="settings-sending">
        <form
          className="form"
          onSubmit={(e) => {
            const f = formObject(e);
            call.mutate({
              path: '/engine',
              body: { staleBankDays: Number(f.staleBankDays), window: { start: f.start, end: f.end }, holidayCalendar: f.holidayCalendar, workingDaysOnly: f.workingDaysOnly === 'on', acknowledgeAgreements: f.acknowledgeAgreements === 'on' },
            });
          }}
        >
          <p className="muted small wide">{t('settings.sendingDefault')}</p>
          {field('start', 'settings.windowStart', d.sending.window.start, { type: 'time' })}
          {field('end', 'settings.windowEnd', d.sending.window.end, { type: 'time' })}
          <label>
            {t('scenario.holidays')}
            <select name="holidayCalendar" defaultValue={d.sending.holidayCalendar} disabled={!admin}>
              {d.holidayCalendars.map((h) => (
                <option key={h.key} value={h.key}>
                  {codeLabel(t, 'holidays', h.key)}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            <input type="checkbox" name="workingDaysOnly" defaultChecked={d.sending.workingDaysOnly} disabled={!admin} />
            {t('scenario.workingDays')}
          </label>
          {d.ownSending.length > 0 && (
            <div className="wide small" data-testid="own-sending">
              <p className="muted">{t('settings.ownSending')}</p>
              <ul>
                {d.ownSending.map((x) => (
                  <li key={x.key}>
                    <strong>{x.name}</strong>
                    {' — '}
                    {[
                      x.window && t('settings.ownSending.window', { start: x.window.start, end: x.window.end }),
                      x.holidayCalendar && codeLabel(t, 'holidays', x.holidayCalendar),
                      x.workingDaysOnly !== null && t(x.workingDaysOnly ? 'settings.ownSending.workingDays' : 'settings.ownSending.everyDay'),
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {field('staleBankDays', 'settings.staleBankDays', d.staleBankDays, { type: 'number', min: 1, max: 60 })}
          <label className="inline wide">
            <input type="checkbox" name="acknowledgeAgreements" defaultChecked={d.acknowledgeAgreements} disabled={!admin} data-testid="acknowledge-agreements" />
            {t('settings.acknowledgeAgreements')}
          </label>
          {admin && (
            <div className="wide">
              <button type="submit" className="primary">
                {t('common.save')}
              </button>
            </div>
          )}
        </form>
      </Section>

      <Section message={message} title={t('settings.users')} testId="settings-users">
        <table className="table">
          <tbody>
            {d.users.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.name}</td>
                <td>
                  {admin && u.id !== me.data?.user.id ? (
                    <select defaultValue={u.role} onChange={(e) => call.mutate({ path: `/users/${u.id}`, body: { role: e.target.value } })}>
                      {['admin', 'collector', 'viewer'].map((r) => (
                        <option key={r} value={r}>
                          {t(`role.${r}` as MessageKey)}
                        </option>
                      ))}
                    </select>
                  ) : (
                    t(`role.${u.role}` as MessageKey)
                  )}
                </td>
                <td>{u.disabled ? <span className="pill bad">{t('settings.disabled')}</span> : null}</td>
                <td>
                  {admin && u.id !== me.data?.user.id && (
                    <>
                      <button type="button" className="link" onClick={() => call.mutate({ path: `/users/${u.id}`, body: { disabled: !u.disabled } })}>
                        {u.disabled ? t('settings.enable') : t('settings.disable')}
                      </button>{' '}
                      <button type="button" className="link" onClick={() => call.mutate({ path: `/users/${u.id}`, method: 'DELETE' })}>
                        {t('settings.remove')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
            {(d.invitations ?? []).map((i) => (
              <tr key={i.id} data-testid="invitation-row">
                <td>{i.email}</td>
                <td className="small muted">{t('settings.invited', { date: dateTime(i.expiresAt, lang) })}</td>
                <td>{t(`role.${i.role}` as MessageKey)}</td>
                <td />
                <td>
                  <button type="button" className="link" onClick={() => call.mutate({ path: `/invitations/${i.id}`, method: 'DELETE' })}>
                    {t('settings.cancelInvitation')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {admin && (
          <form className="toolbar" style={{ marginTop: 10 }} onSubmit={(e) => call.mutate({ path: '/users', method: 'POST', body: formObject(e) })}>
            <input name="email" type="email" required placeholder="email" />
            <input name="name" placeholder={t('settings.name')} />
            <select name="role" defaultValue="collector">
              {['admin', 'collector', 'viewer'].map((r) => (
                <option key={r} value={r}>
                  {t(`role.${r}` as MessageKey)}
                </option>
              ))}
            </select>
            <select name="language" defaultValue={lang}>
              <option value="fr">Français</option>
              <option value="en">English</option>
            </select>
            <button type="submit">{t('settings.invite')}</button>
          </form>
        )}
      </Section>

      {admin && (
        <Section message={message} title={t('settings.apiKeys')} testId="settings-api-keys">
          {d.apiKeys.length === 0 && <Empty testId="api-keys-none">{t('settings.apiKeys.none')}</Empty>}
          <table className="table">
            <tbody>
              {d.apiKeys.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}…</code>
                  </td>
                  <td>{codeLabel(t, 'scope', k.scope)}</td>
                  <td className="small">{k.last_used_at ? dateTime(k.last_used_at, lang) : '—'}</td>
                  <td>{k.revoked_at ? <span className="pill bad">{t('settings.revoked')}</span> : <button type="button" className="link" onClick={() => call.mutate({ path: `/api-keys/${k.id}`, method: 'DELETE' })}>{t('settings.revoke')}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <form className="toolbar" style={{ marginTop: 10 }} onSubmit={(e) => call.mutate({ path: '/api-keys', method: 'POST', body: formObject(e) })}>
            <input name="name" required placeholder={t('settings.name')} />
            <select name="scope" defaultValue="read">
              {(['read', 'write', 'admin'] as const).map((scope) => (
                <option key={scope} value={scope}>
                  {codeLabel(t, 'scope', scope)}
                </option>
              ))}
            </select>
            <button type="submit">{t('settings.createKey')}</button>
          </form>
        </Section>
      )}

      {admin && (
        <Section message={message} title={t('settings.webhooks')} testId="settings-webhooks">
          {d.webhooks.length === 0 && <Empty testId="webhooks-none">{t('settings.webhooks.none')}</Empty>}
          <table className="table">
            <tbody>
              {d.webhooks.map((w) => (
                <tr key={w.id}>
                  <td>{w.url}</td>
                  <td className="small">{w.events.map((ev) => codeLabel(t, 'webhook', ev)).join(', ')}</td>
                  <td>
                    <button type="button" className="link" onClick={() => call.mutate({ path: `/webhooks/${w.id}`, method: 'DELETE' })}>
                      {t('settings.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <form
            className="toolbar"
            style={{ marginTop: 10 }}
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.currentTarget);
              call.mutate({ path: '/webhooks', method: 'POST', body: { url: f.get('url'), events: f.getAll('events'), description: f.get('description') } });
            }}
          >
            <input name="url" type="url" required placeholder="https://…" style={{ minWidth: 280 }} />
            <input name="description" placeholder={t('settings.description')} />
            {d.webhookEvents.map((ev) => (
              <label key={ev} className="inline small">
                <input type="checkbox" name="events" value={ev} /> {codeLabel(t, 'webhook', ev)}
              </label>
            ))}
            <button type="submit">{t('settings.addWebhook')}</button>
          </form>
        </Section>
      )}

      <Section message={message} title={t('settings.rates')}>
        <p className="muted small">{t('settings.ratesNote')}</p>
        <table className="table">
          <tbody>
            {d.rates.map((r) => (
              <tr key={`${r.table}-${r.from}`}>
                <td>{codeLabel(t, 'ratetable', r.table)}</td>
                <td>{date(r.from, lang)}</td>
                <td className="num">{pct(r.ratePercent, lang, 2)}</td>
                <td className="small">{r.note}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>{t('settings.contractRate')}</h3>
        <p className="muted small">{t('settings.contractRateNote')}</p>
        <form
          className="toolbar"
          style={{ marginTop: 10 }}
          onSubmit={(e) => {
            const f = formObject(e);
            call.mutate({ path: '/contract-rate', body: { ratePercent: f.ratePercent || null, note: f.note || null } });
          }}
        >
          <input name="ratePercent" placeholder="12.00" defaultValue={d.contractRate?.ratePercent ?? ''} disabled={!admin} style={{ width: 90 }} data-testid="contract-rate" /> %
          <input name="note" placeholder={t('settings.description')} defaultValue={d.contractRate?.note ?? ''} disabled={!admin} />
          {admin && <button type="submit">{t('common.save')}</button>}
        </form>
      </Section>
    </div>
  );
}
