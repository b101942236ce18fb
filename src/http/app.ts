/**
 * The HTTP application (Hono). Routes are plain functions of the app context, so tests call
 * app.request() without opening a socket.
 */
import { type Context, Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Db } from '../db/driver.ts';
import { type NetworkPolicy, networkPolicy } from '../net/guard.ts';
import { bodyLimits } from './limits.ts';
import { jsonReplacer } from '../db/driver.ts';
import { operatorTokenMatches } from '../db/backup.ts';
import { ERROR_CODES, isRelanceError, RelanceError } from '../errors.ts';
import { defineErrors, type Lang } from '../i18n/index.ts';
import { principalOf } from './auth.ts';
import { problemLang, toProblem } from './problem.ts';
import { registerApi } from './routes/api.ts';
import { registerWebRoutes } from './routes/web.ts';
import { registerStatic } from './static.ts';
import { registerSetupRoutes, type SetupGate } from './setup.ts';

const E = defineErrors('http-app', {
  operator: { fr: "jeton d’exploitant inconnu", en: "unknown operator token" },
});

export interface AppContext {
  db: Db;
  /** The clock is a parameter: tests fix it. */
  now: () => Date;
  /** The operator's settings of the HTTP edge (from the environment, see src/config.ts). */
  options?: Partial<HttpOptions>;
  /** Set when the server started with no organisation: the setup wizard's one-time code (setup.ts). */
  setup?: SetupGate;
}

export interface HttpOptions {
  /** A reverse proxy sets X-Forwarded-For: the client's address is its first hop. */
  trustProxy: boolean;
  /** Largest JSON body and largest file upload, in bytes (src/http/limits.ts). */
  maxBodyBytes: number;
  maxUploadBytes: number;
  /** Networks webhooks may reach besides public ones (src/net/guard.ts). */
  webhookPolicy: NetworkPolicy;
  /** Embedded database: the token of the operator's routes (`relance backup` while serving). */
  operatorToken?: string;
}

/** The HTTP edge's options from the configuration. */
export function httpOptions(config: Pick<Config, 'trustProxy' | 'maxBodyBytes' | 'maxUploadBytes' | 'webhookAllowNetworks'>): HttpOptions {
  return { trustProxy: config.trustProxy, maxBodyBytes: config.maxBodyBytes, maxUploadBytes: config.maxUploadBytes, webhookPolicy: networkPolicy(config.webhookAllowNetworks) };
}

/** JSON with bigint as decimal strings (money and ids never lose precision). */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body, jsonReplacer), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
}

/** The language of what a request gets back: the session user's, else Accept-Language. */
export async function requestLang(c: Context, ctx: AppContext): Promise<Lang> {
  let session: Lang | undefined;
  try {
    const who = await principalOf(c, ctx);
    if (who?.kind === 'session') session = who.language;
  } catch {
    // No usable principal (wrong key, database down...): the header decides.
  }
  return problemLang(session, c.req.header('accept-language'));
}

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
  registerWebRoutes(app, ctx);
  // Last: every other GET outside /api gets the web app (static files, then index.html).
  registerStatic(app);
  return app;
}
