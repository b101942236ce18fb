/**
 * The web app's own API (`/api/app/*`): what the screens need in one call each, one module per
 * area, every route declared with route() (define.ts) like /api/v1 — zod params, query and body
 * (a bad one is a 400 naming the field), the role it needs, one transaction per write — and
 * mounted on the session edge ('app': sign-in and CSRF as src/http/auth.ts decides, a 403 that
 * names the role).
 */
import type { Hono } from 'hono';
import { ERROR_CODES, RelanceError } from '../../../errors.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { principalOf } from '../../auth.ts';
import type { AppContext } from '../../context.ts';
import { registerRoutes, type RouteDef } from '../define.ts';
import { bankRoutes } from './bank.ts';
import { customerRoutes } from './customers.ts';
import { dashboardRoutes } from './dashboard.ts';
import { importRoutes } from './imports.ts';
import { invoiceRoutes } from './invoices.ts';
import { outboxRoutes } from './outbox.ts';
import { scenarioRoutes } from './scenarios.ts';
import { sessionRoutes } from './session.ts';
import { settingsRoutes } from './settings.ts';
import { templateRoutes } from './templates.ts';
import { todayRoutes } from './today.ts';
import { userRoutes } from './users.ts';

const E = defineErrors('web', {
  sign_in: { fr: "connectez-vous d’abord", en: "sign in first" },
});

export const APP_ROUTES: RouteDef[] = [
  ...sessionRoutes,
  ...dashboardRoutes,
  ...todayRoutes,
  ...outboxRoutes,
  ...customerRoutes,
  ...invoiceRoutes,
  ...scenarioRoutes,
  ...templateRoutes,
  ...bankRoutes,
  ...importRoutes,
  ...settingsRoutes,
  ...userRoutes,
];

export function registerAppRoutes(app: Hono, ctx: AppContext): void {
  registerRoutes(app, ctx, APP_ROUTES, 'app');
  // Any other /api/app path: signed out, 401 as for the routes; signed in, not found.
  app.all('/api/app/*', async (c) => {
    if (!(await principalOf(c, ctx))) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('sign_in'));
    return c.notFound();
  });
}
