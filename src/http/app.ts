/**
 * The HTTP application (Hono). Routes are plain functions of the app context, so tests call
 * app.request() without opening a socket.
 */
import { Hono } from 'hono';
import type { Db } from '../db/driver.ts';
import { jsonReplacer } from '../db/driver.ts';
import { toProblem } from './problem.ts';
import { registerApi } from './routes/api.ts';
import { registerWebRoutes } from './routes/web.ts';
import { registerStatic } from './static.ts';

export interface AppContext {
  db: Db;
  /** The clock is a parameter: tests fix it. */
  now: () => Date;
}

/** JSON with bigint as decimal strings (money and ids never lose precision). */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body, jsonReplacer), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

export function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  app.onError((err) => {
    const p = toProblem(err);
    if (p.status >= 500) console.error(err);
    return new Response(JSON.stringify(p), { status: p.status, headers: { 'content-type': 'application/problem+json' } });
  });
  app.get('/api/health', async () => {
    await ctx.db.query('SELECT 1');
    return json({ status: 'ok', database: ctx.db.kind });
  });
  // REST API: sign-in, /api/v1 (API key or session), /api/openapi.json, /api/docs.
  registerApi(app, ctx);
  registerWebRoutes(app, ctx);
  // Last: every other GET outside /api gets the web app (static files, then index.html).
  registerStatic(app);
  return app;
}
