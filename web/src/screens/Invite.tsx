import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { type Lang, translate } from '../i18n.tsx';
import type { MessageKey } from '../messages.ts';

const initialLang = (): Lang => {
  const saved = localStorage.getItem('relance.lang');
  if (saved === 'fr' || saved === 'en') return saved;
  return navigator.language.startsWith('fr') ? 'fr' : 'en';
};

/**
 * An invitation link (/invite#<token>: the token stays in the browser, never in a URL the server
 * sees): who invites, for which address and role; the person enters their Relance password if
 * they have an account on this server, or chooses one.
 */
export function Invite() {
  const [lang] = useState<Lang>(initialLang);
  const t = (k: MessageKey, vars?: Record<string, string>) => translate(lang, k, vars);
  const token = location.hash.replace(/^#/, '');
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const info = useQuery({
    queryKey: ['invitation', token],
    queryFn: () => api<{ organisation: string; email: string; role: string; expiresAt: string }>('/api/auth/invitation', { body: { token } }),
    retry: false,
  });
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await api('/api/auth/invitation/accept', { body: { token, password: String(f.get('password') ?? '') } });
      qc.clear();
      navigate({ to: '/dashboard' });
    } catch (err) {
      setError((err as { status?: number }).status === 401 ? t('login.wrong') : (err as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="login">
      <form className="card login-card" onSubmit={submit} lang={lang} data-testid="invite">
        <h1>Relance</h1>
        {info.isPending && <p className="muted">{t('common.loading')}</p>}
        {info.isError && <div className="error" role="alert">{info.error.message}</div>}
        {info.data && (
          <>
            <p>{t('invite.intro', { organisation: info.data.organisation, role: t(`role.${info.data.role}` as MessageKey) })}</p>
            <label>
              {t('login.email')}
              <input type="email" name="username" autoComplete="username" value={info.data.email} readOnly />
            </label>
            <label>
              {t('login.password')}
              <input type="password" name="password" autoComplete="current-password" required />
            </label>
            <p className="muted small">{t('invite.passwordNote')}</p>
            {error && <div className="error" role="alert">{error}</div>}
            <button type="submit" className="primary" disabled={busy}>
              {t('invite.accept')}
            </button>
          </>
        )}
      </form>
    </div>
  );
}
