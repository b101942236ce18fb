/**
 * Who is calling an HTTP route: an API key (Authorization: Bearer rlk_..., or X-Api-Key) or a web
 * session cookie; and the sign-in routes /api/auth/login, /logout, /me. Session cookies are
 * HttpOnly, SameSite=Lax, Secure when the request came over https (directly or through a proxy
 * that says so); a state-changing request on a session must come from this origin.
 */
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { apiKeyPrincipal, login, logout, type Principal, sessionPrincipal } from '../auth/index.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { type AppContext, json } from './app.ts';
import { zodError } from './zod-text.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('http-auth', {
  unknown_key: { fr: "cette clé d’API est inconnue ou révoquée", en: "this API key is unknown or revoked" },
  cross_origin: { fr: "requête d’une autre origine refusée", en: "cross-origin request refused" },
  not_json: { fr: "le corps de la requête n’est pas du JSON", en: "the request body is not JSON" },
  not_signed_in: { fr: "vous n’êtes pas connecté", en: "not signed in" },
});

export const SESSION_COOKIE = 'relance_session';

const cache = new WeakMap<Context, Principal | null>();

export async function principalOf(c: Context, ctx: AppContext): Promise<Principal | null> {
  if (cache.has(c)) return cache.get(c)!;
  const now = ctx.now();
  const auth = c.req.header('authorization');
  const key = auth?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? c.req.header('x-api-key');
  let p: Principal | null = null;
  if (key) {
    p = await apiKeyPrincipal(ctx.db, key, now);
    // A wrong key is an error even if a cookie is also there: the caller meant the key.
    if (!p) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('unknown_key'));
  } else {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) p = await sessionPrincipal(ctx.db, token, now);
    if (p && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) checkSameOrigin(c);
  }
  cache.set(c, p);
  return p;
}

/** SameSite=Lax already keeps cross-site POSTs cookie-less in browsers; this refuses the rest. */
function checkSameOrigin(c: Context) {
  const origin = c.req.header('origin');
  if (!origin) return;
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = '';
  }
  if (originHost !== host) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('cross_origin'));
}

const isHttps = (c: Context) => c.req.header('x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:';

export const LoginBody = z.object({
  email: z.string().min(3).max(320),
  password: z.string().min(1).max(1024),
  organisationId: z.uuid().optional(),
});

export const Me = z.object({
  organisationId: z.string(),
  kind: z.enum(['session', 'api_key']),
  scope: z.enum(['read', 'write', 'admin']),
  role: z.enum(['admin', 'collector', 'viewer']).nullable(),
  email: z.string().nullable(),
  language: z.enum(['fr', 'en']),
});

const me = (p: Principal) => ({ organisationId: p.organisationId, kind: p.kind, scope: p.scope, role: p.role, email: p.email, language: p.language });

export function registerAuthRoutes(app: Hono, ctx: AppContext) {
  app.post('/api/auth/login', async (c) => {
    let body: z.infer<typeof LoginBody>;
    try {
      const r = LoginBody.safeParse(await c.req.json(), { reportInput: true });
      if (!r.success) throw zodError(r.error, 'body');
      body = r.data;
    } catch (e) {
      if (e instanceof RelanceError) throw e;
      throw new RelanceError(ERROR_CODES.VALIDATION, E('not_json'), { where: { field: 'body' } });
    }
    const s = await ctx.db.tx((q) => login(q, body.email, body.password, { organisationId: body.organisationId, now: ctx.now() }));
    setCookie(c, SESSION_COOKIE, s.token, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: isHttps(c),
      path: '/',
      expires: s.expiresAt,
    });
    // Through c so the Set-Cookie header set above is part of the response.
    return c.newResponse(JSON.stringify(me(s.principal)), 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  app.post('/api/auth/logout', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await logout(ctx.db, token);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
    return c.newResponse(null, 204);
  });
  app.get('/api/auth/me', async (c) => {
    const p = await principalOf(c, ctx);
    if (!p) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('not_signed_in'));
    return json(me(p));
  });
}
