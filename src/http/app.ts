/**
 * The HTTP application (Hono). Routes are plain functions of the app context, so tests call
 * app.request() without opening a socket.
 */
import { Hono } from 'hono';
import { bodyLimits } from './limits.ts';
import { operatorTokenMatches } from '../db/backup.ts';
import { ERROR_CODES, isRelanceError, RelanceError } from '../errors.ts';
import { defineErrors, } from '../i18n/index.ts';
import { requestLang } from './auth.ts';
import { type AppContext, json } from './context.ts';
import { toProblem } from './problem.ts';
import { registerApi } from './routes/api.ts';
import { registerAppRoutes } from './routes/app/index.ts';
import { registerPortalRoutes } from './routes/portal.ts';
import { registerStatic } from './static.ts';
import { registerSetupRoutes } from './setup.ts';

const E = defineErrors('http-app', {
  operator: { fr: "jeton d’exploitant inconnu", en: "unknown operator token" },
});

export function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  app.onError(async (err, c) => {
    const p = toProblem(err, await requestLang(c, ctx));
    if (p.status >= 500) console.error(err);
    const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
    const retry = isRelanceError(err) ? (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
    if (retry !== undefined) headers['retry-after'] = String(retry);
    return new Response(JSON.stringify(p), { status: p.status, headers });
  });
  // Before every route: a body over its route's limit is refused while it streams in (413).
  app.use('/api/*', bodyLimits(ctx.options ?? {}));
  app.get('/api/health', async () => {
    await ctx.db.query('SELECT 1');
    return json({ status: 'ok', database: ctx.db.kind });
  });
  // The operator's backup of the embedded database while the server runs (src/db/backup.ts): the
  // token is in the data folder, readable only by the account running the server.
  const operatorToken = ctx.options?.operatorToken;
  if (operatorToken && ctx.db.dumpDataDir) {
    app.get('/api/operator/backup', async (c) => {
      const given = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!operatorTokenMatches(operatorToken, given)) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('operator'));
      const blob = await ctx.db.dumpDataDir!();
      return new Response(blob.stream(), { headers: { 'content-type': 'application/gzip', 'content-length': String(blob.size) } });
    });
  }
  // REST API: sign-in, /api/v1 (API key or session), /api/openapi.json, /api/docs.
  registerApi(app, ctx);
  registerSetupRoutes(app, ctx);
  registerAppRoutes(app, ctx);
  // The debtor portal: /portal/<link>, no account (src/portal).
  registerPortalRoutes(app, ctx);
  // Last: every other GET outside /api gets the web app (static files, then index.html).
  registerStatic(app);
  return app;
}
