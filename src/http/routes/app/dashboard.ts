/** The dashboard: the KPI snapshot (src/reports/dashboard.ts) and the rate warnings of the day. */
import { z } from 'zod';
import { rateWarnings } from '../../../law/regime.ts';
import { loadRateTables } from '../../../law/rates-repo.ts';
import { readDashboard } from '../../../reports/dashboard.ts';
import { appRoute } from './common.ts';
import type { DashboardResponse } from './shapes/dashboard.ts';

export const dashboardRoutes = [
  appRoute({
    method: 'get',
    path: '/dashboard',
    scope: 'read',
    query: z.object({ fresh: z.string().optional() }),
    response: z.custom<DashboardResponse>(),
    handler: async ({ ctx, q, orgId, today, query }) => {
      // The customers from the snapshot, the rate tables read now: an operator who adds the missing rate sees the warning go.
      const [{ overdueParties: parties, ...dashboard }, tables] = await Promise.all([readDashboard(ctx, orgId, { fresh: query.fresh === '1', today }), loadRateTables(q)]);
      return { ...dashboard, rateWarnings: await rateWarnings(q, orgId, today, tables, parties) };
    },
  }),
];
