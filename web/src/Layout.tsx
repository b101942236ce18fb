import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { LangProvider, translate } from './i18n.tsx';
import type { MessageKey } from './messages.ts';
import { useMe } from './session.ts';

const NAV: { to: string; key: MessageKey }[] = [
  { to: '/dashboard', key: 'nav.dashboard' },
  { to: '/today', key: 'nav.today' },
  { to: '/customers', key: 'nav.customers' },
  { to: '/scenarios', key: 'nav.scenarios' },
  { to: '/templates', key: 'nav.templates' },
  { to: '/bank', key: 'nav.bank' },
  { to: '/imports', key: 'nav.imports' },
  { to: '/outbox', key: 'nav.outbox' },
  { to: '/settings', key: 'nav.settings' },
];

export function Layout() {
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const lang = me.data?.user.language ?? 'fr';
  // On a phone the navigation is a drawer behind the menu button; it closes once a screen is chosen.
  const [menuOpen, setMenuOpen] = useState(false);
  const path = useRouterState({ select: (s) => s.location.pathname });
  // biome-ignore lint/correctness/useExhaustiveDependencies: the path changing is what closes the drawer
  useEffect(() => setMenuOpen(false), [path]);
  const t = (k: MessageKey) => translate(lang, k);
  const switchLang = useMutation({
    mutationFn: (language: 'fr' | 'en') => api('/api/app/me/language', { body: { language } }),
    onSuccess: () => qc.invalidateQueries(),
  });
  const logout = useMutation({
    mutationFn: () => api('/api/auth/logout', { body: {} }),
    onSettled: () => {
      qc.clear();
      navigate({ to: '/login', search: { next: undefined } });
    },
  });
  if (me.isPending) return <div className="boot">Relance…</div>;
  if (me.isError) return <div className="boot">{me.error.message}</div>;
  return (
    <LangProvider lang={lang}>
      <div className={menuOpen ? 'shell menu-open' : 'shell'}>
        <header className="topbar">
          <button type="button" className="menu-button" data-testid="menu-button" aria-expanded={menuOpen} aria-controls="side-nav" onClick={() => setMenuOpen((o) => !o)}>
            <span aria-hidden="true">☰</span> {t('nav.menu')}
          </button>
          <span className="brand">Relance</span>
        </header>
        <button type="button" className="scrim" tabIndex={-1} aria-label={t('common.close')} onClick={() => setMenuOpen(false)} />
        <nav className="side" id="side-nav">
          <div className="brand">Relance</div>
          <div className="org" title={me.data.organisation.id}>
            {me.data.organisation.legalName}
          </div>
          {NAV.map((n) => (
            // Closed on the click too: a screen that asks before leaving (unsaved edits) shows its question over the page, not under the drawer.
            <Link key={n.to} to={n.to} className="nav" activeProps={{ className: 'nav active' }} data-testid={`nav-${n.to.slice(1)}`} onClick={() => setMenuOpen(false)}>
              {t(n.key)}
            </Link>
          ))}
          <div className="side-foot">
            <Link to="/account" className="who" data-testid="nav-account" title={t('nav.account')}>
              {me.data.user.name ?? me.data.user.email}
              <span className="role">{t(`role.${me.data.user.role}` as MessageKey)}</span>
            </Link>
            <button type="button" className="link" data-testid="switch-language" onClick={() => switchLang.mutate(lang === 'fr' ? 'en' : 'fr')}>
              {lang === 'fr' ? 'English' : 'Français'}
            </button>
            <button type="button" className="link" onClick={() => logout.mutate()}>
              {t('nav.logout')}
            </button>
          </div>
        </nav>
        <main className="main">
          <Outlet />
        </main>
      </div>
    </LangProvider>
  );
}
