import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { useT } from '../i18n.tsx';
import { useMe } from '../session.ts';

/** The signed-in person's account: change the password (every other session ends), sign out everywhere. */
export function Account() {
  const t = useT();
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const change = useMutation({
    mutationFn: (b: { currentPassword: string; newPassword: string }) => api('/api/auth/password', { body: b }),
    onSuccess: () => setMessage({ ok: true, text: t('account.changed') }),
    onError: (e) => setMessage({ ok: false, text: e.message }),
  });
  const everywhere = useMutation({
    mutationFn: () => api('/api/auth/logout-everywhere', { body: {} }),
    onSettled: () => {
      qc.clear();
      navigate({ to: '/login', search: { next: undefined } });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const next = String(f.get('newPassword') ?? '');
    if (next !== String(f.get('confirm') ?? '')) {
      setMessage({ ok: false, text: t('account.mismatch') });
      return;
    }
    change.mutate({ currentPassword: String(f.get('currentPassword') ?? ''), newPassword: next });
    e.currentTarget.reset();
  };
  return (
    <div className="page" data-testid="account">
      <header className="page-head">
        <h1>{t('nav.account')}</h1>
      </header>
      {message && (
        <div className={message.ok ? 'banner good' : 'banner bad'} data-testid="account-message" role="status">
          {message.text}
        </div>
      )}
      <section className="card">
        <h2>{t('account.password')}</h2>
        <p className="muted small">{t('account.rule')}</p>
        <form className="form" onSubmit={submit}>
          <input type="email" name="username" autoComplete="username" value={me.data?.user.email ?? ''} readOnly hidden />
          <label>
            {t('account.current')}
            <input type="password" name="currentPassword" autoComplete="current-password" required />
          </label>
          <label>
            {t('account.new')}
            <input type="password" name="newPassword" autoComplete="new-password" required minLength={12} />
          </label>
          <label>
            {t('account.confirm')}
            <input type="password" name="confirm" autoComplete="new-password" required minLength={12} />
          </label>
          <div className="wide">
            <button type="submit" className="primary" disabled={change.isPending}>
              {t('account.change')}
            </button>
          </div>
        </form>
      </section>
      <section className="card">
        <h2>{t('account.sessions')}</h2>
        <p className="muted small">{t('account.everywhereNote')}</p>
        <button type="button" onClick={() => everywhere.mutate()} data-testid="logout-everywhere">
          {t('account.everywhere')}
        </button>
      </section>
    </div>
  );
}
