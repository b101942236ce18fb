import { useQueryClient } from '@tanstack/react-query';
import { useNavigate, useSearch } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { type Lang, translate } from '../i18n.tsx';

const initialLang = (): Lang => {
  const saved = localStorage.getItem('relance.lang');
  if (saved === 'fr' || saved === 'en') return saved;
  return navigator.language.startsWith('fr') ? 'fr' : 'en';
};

export function Login() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const qc = useQueryClient();
  const search = useSearch({ from: '/login' });
  const t = (k: Parameters<typeof translate>[1]) => translate(lang, k);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/api/auth/login', { body: { email, password } });
      qc.clear();
      const next = search.next?.startsWith('/') && !search.next.startsWith('//') ? search.next : '/dashboard';
      navigate({ to: next });
    } catch (err) {
      setError((err as { status?: number }).status === 401 ? t('login.wrong') : (err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const pick = (l: Lang) => {
    localStorage.setItem('relance.lang', l);
    setLang(l);
  };

  return (
    <div className="login">
      <form className="card login-card" onSubmit={submit} lang={lang}>
        <h1>Relance</h1>
        <p className="muted">{t('login.tagline')}</p>
        <label>
          {t('login.email')}
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t('login.password')}
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && <div className="error" role="alert">{error}</div>}
        <button type="submit" className="primary" disabled={busy}>
          {t('login.submit')}
        </button>
        <div className="lang-pick">
          <button type="button" className={lang === 'fr' ? 'link on' : 'link'} onClick={() => pick('fr')}>
            Français
          </button>
          {' · '}
          <button type="button" className={lang === 'en' ? 'link on' : 'link'} onClick={() => pick('en')}>
            English
          </button>
        </div>
      </form>
    </div>
  );
}
