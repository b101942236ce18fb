/**
 * Routes of the app. The first page (dashboard) ships in the main bundle; every other screen is a
 * separate chunk loaded when it is opened, which keeps the first page's JavaScript small.
 */
import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, lazyRouteComponent, redirect } from '@tanstack/react-router';
import { Layout } from './Layout.tsx';
import { Dashboard } from './screens/Dashboard.tsx';
import { Login } from './screens/Login.tsx';

const root = createRootRouteWithContext<{ queryClient: QueryClient }>()({});

const login = createRoute({
  getParentRoute: () => root,
  path: '/login',
  validateSearch: (s: Record<string, unknown>) => ({ next: typeof s.next === 'string' ? s.next : undefined }),
  // A server with no organisation yet has nobody to sign in: it offers the setup wizard instead.
  beforeLoad: async () => {
    const setup = await fetch('/api/setup')
      .then((r) => (r.ok ? (r.json() as Promise<{ open?: boolean }>) : null))
      .catch(() => null);
    if (setup?.open) throw redirect({ to: '/setup' });
  },
  component: Login,
});

const setup = createRoute({ getParentRoute: () => root, path: '/setup', component: lazyRouteComponent(() => import('./screens/Setup.tsx'), 'Setup') });

const invite = createRoute({ getParentRoute: () => root, path: '/invite', component: lazyRouteComponent(() => import('./screens/Invite.tsx'), 'Invite') });

const app = createRoute({ getParentRoute: () => root, id: 'app', component: Layout });

const index = createRoute({
  getParentRoute: () => app,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/dashboard' });
  },
});
const dashboard = createRoute({ getParentRoute: () => app, path: '/dashboard', component: Dashboard });
const today = createRoute({ getParentRoute: () => app, path: '/today', component: lazyRouteComponent(() => import('./screens/Today.tsx'), 'Today') });
/** The customers list keeps its search, filter, sort and page in the address: Back comes back to the same list. */
export interface CustomersSearch {
  q?: string;
  filter?: string;
  sort?: string;
  dir?: 'asc' | 'desc';
  page?: number;
}
const customers = createRoute({
  getParentRoute: () => app,
  path: '/customers',
  validateSearch: (s: Record<string, unknown>): CustomersSearch => ({
    q: typeof s.q === 'string' && s.q ? s.q : undefined,
    filter: typeof s.filter === 'string' && s.filter ? s.filter : undefined,
    sort: typeof s.sort === 'string' && s.sort ? s.sort : undefined,
    dir: s.dir === 'asc' || s.dir === 'desc' ? s.dir : undefined,
    page: Number.isInteger(Number(s.page)) && Number(s.page) > 0 ? Number(s.page) : undefined,
  }),
  component: lazyRouteComponent(() => import('./screens/Customers.tsx'), 'Customers'),
});
const customer = createRoute({ getParentRoute: () => app, path: '/customers/$customerId', component: lazyRouteComponent(() => import('./screens/Customer.tsx'), 'Customer') });
const invoice = createRoute({ getParentRoute: () => app, path: '/invoices/$invoiceId', component: lazyRouteComponent(() => import('./screens/Invoice.tsx'), 'InvoicePage') });
const scenarios = createRoute({ getParentRoute: () => app, path: '/scenarios', component: lazyRouteComponent(() => import('./screens/Scenarios.tsx'), 'Scenarios') });
const templates = createRoute({ getParentRoute: () => app, path: '/templates', component: lazyRouteComponent(() => import('./screens/Templates.tsx'), 'Templates') });
const bank = createRoute({ getParentRoute: () => app, path: '/bank', component: lazyRouteComponent(() => import('./screens/Bank.tsx'), 'Bank') });
const imports = createRoute({ getParentRoute: () => app, path: '/imports', component: lazyRouteComponent(() => import('./screens/Imports.tsx'), 'Imports') });
const settings = createRoute({ getParentRoute: () => app, path: '/settings', component: lazyRouteComponent(() => import('./screens/Settings.tsx'), 'Settings') });
const account = createRoute({ getParentRoute: () => app, path: '/account', component: lazyRouteComponent(() => import('./screens/Account.tsx'), 'Account') });
const outbox = createRoute({ getParentRoute: () => app, path: '/outbox', component: lazyRouteComponent(() => import('./screens/Outbox.tsx'), 'Outbox') });

const routeTree = root.addChildren([
  login,
  setup,
  invite,
  app.addChildren([index, dashboard, today, customers, customer, invoice, scenarios, templates, bank, imports, settings, outbox, account]),
]);

export const router = createRouter({ routeTree, context: { queryClient: undefined! }, defaultPreload: 'intent', scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
