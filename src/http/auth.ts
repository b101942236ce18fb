/**
 * Who is calling an HTTP route: an API key (Authorization: Bearer rlk_..., or X-Api-Key) or a web
 * session cookie; and the account routes under /api/auth: login, logout, logout everywhere, me,
 * password change, invitations. Session cookies are HttpOnly, SameSite=Lax, Secure when the
 * request came over https (directly or through a proxy that says so); a state-changing request on
 * a session must come from this origin, and so must every account route (no sign-in CSRF). Sign-in,
 * password checks and invitation acceptance are throttled per account and per client address
 * (src/auth/throttle.ts): 429 with Retry-After.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import {
  acceptInvitation,
  apiKeyPrincipal,
  changePassword,
  invitationEmail,
  invitationInfo,
  login,
  logout,
  type Principal,
  revokeSessions,
  sessionPrincipal,
} from '../auth/index.ts';
import { ACCOUNT_POLICY, ADDRESS_POLICY, accountKey, addressKey, type ThrottleKey, throttled } from '../auth/throttle.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { type AppContext, json } from './context.ts';
import { problemLang } from './problem.ts';
import type { Lang } from '../i18n/index.ts';
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
export function checkSameOrigin(c: Context) {
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

/**
 * The client's address: the socket's peer, or the first X-Forwarded-For hop when the operator says
 * a reverse proxy sets it (RELANCE_TRUST_PROXY=1); "unknown" without a socket (in-process tests).
 */
export function clientAddress(c: Context, ctx: AppContext): string {
  if (ctx.options?.trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const attemptKeys = (c: Context, ctx: AppContext, email: string): ThrottleKey[] => [
  { key: accountKey(email), policy: ACCOUNT_POLICY },
  { key: addressKey(clientAddress(c, ctx)), policy: ADDRESS_POLICY },
];

async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (e) {
    if (e instanceof RelanceError) throw e;
    throw new RelanceError(ERROR_CODES.VALIDATION, E('not_json'), { where: { field: 'body' } });
  }
  const r = schema.safeParse(raw, { reportInput: true });
  if (!r.success) throw zodError(r.error, 'body');
  return r.data;
}

function sessionCookie(c: Context, s: { token: string; expiresAt: Date }) {
  setCookie(c, SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'Lax', secure: isHttps(c), path: '/', expires: s.expiresAt });
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

export const PasswordBody = z.object({
  currentPassword: z.string().min(1).max(1024),
  newPassword: z.string().min(1).max(1024),
});
export const InvitationBody = z.object({ token: z.string().min(20).max(200) });
export const AcceptInvitationBody = z.object({ token: z.string().min(20).max(200), password: z.string().min(1).max(1024) });

const me = (p: Principal) => ({ organisationId: p.organisationId, kind: p.kind, scope: p.scope, role: p.role, email: p.email, language: p.language });

export function registerAuthRoutes(app: Hono, ctx: AppContext) {
  // Every account route changes state or reads a secret: same origin only, signed in or not.
  app.use('/api/auth/*', async (c, next) => {
    if (c.req.method !== 'GET') checkSameOrigin(c);
    return next();
  });
  app.post('/api/auth/login', async (c) => {
    const body = await readBody(c, LoginBody);
    const s = await throttled(ctx.db, attemptKeys(c, ctx, body.email), ctx.now(), () =>
      ctx.db.tx((q) => login(q, body.email, body.password, { organisationId: body.organisationId, now: ctx.now() })),
    );
    sessionCookie(c, s);
    // Through c so the Set-Cookie header set above is part of the response.
    return c.newResponse(JSON.stringify(me(s.principal)), 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  app.post('/api/auth/logout', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (token) await logout(ctx.db, token);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
    return c.newResponse(null, 204);
  });
  /** Ends every session of the signed-in person, in every organisation, this one included. */
  app.post('/api/auth/logout-everywhere', async (c) => {
    const p = await signedIn(c, ctx);
    const revoked = await ctx.db.tx((q) => revokeSessions(q, p.userId!));
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
    return c.newResponse(JSON.stringify({ revoked }), 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  /** The signed-in person changes their password; every session ends, this browser gets a new one. */
  app.post('/api/auth/password', async (c) => {
    const p = await signedIn(c, ctx);
    const body = await readBody(c, PasswordBody);
    const s = await throttled(ctx.db, attemptKeys(c, ctx, p.email!), ctx.now(), () =>
      ctx.db.tx((q) => changePassword(q, { userId: p.userId!, organisationId: p.organisationId }, body.currentPassword, body.newPassword, ctx.now())),
    );
    sessionCookie(c, s);
    return c.newResponse(JSON.stringify(me(s.principal)), 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  /** What an invitation is for (organisation, address, role): the page asks for a password. */
  app.post('/api/auth/invitation', async (c) => {
    const body = await readBody(c, InvitationBody);
    return json(await invitationInfo(ctx.db, body.token, ctx.now()));
  });
  app.post('/api/auth/invitation/accept', async (c) => {
    const body = await readBody(c, AcceptInvitationBody);
    const email = await invitationEmail(ctx.db, body.token, ctx.now());
    const s = await throttled(ctx.db, attemptKeys(c, ctx, email), ctx.now(), () => ctx.db.tx((q) => acceptInvitation(q, body.token, body.password, ctx.now())));
    sessionCookie(c, s);
    return c.newResponse(JSON.stringify(me(s.principal)), 200, { 'content-type': 'application/json; charset=utf-8' });
  });
  app.get('/api/auth/me', async (c) => {
    const p = await principalOf(c, ctx);
    if (!p) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('not_signed_in'));
    return json(me(p));
  });
}

/** A web session (not an API key): the account routes act on a person. */
async function signedIn(c: Context, ctx: AppContext): Promise<Principal & { userId: string; email: string }> {
  const p = await principalOf(c, ctx);
  if (!p || p.kind !== 'session' || !p.userId || !p.email) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('not_signed_in'));
  return p as Principal & { userId: string; email: string };
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
