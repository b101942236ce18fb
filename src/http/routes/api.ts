/**
 * The public REST API: sign-in routes, /api/v1 resources, the OpenAPI 3.1 document at
 * /api/openapi.json and a self-contained reference page at /api/docs (no CDN: the page renders the
 * document with a few lines of inline script).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { json } from '../context.ts';
import { LoginBody, Me, principalOf, registerAuthRoutes } from '../auth.ts';
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';
import { ratesAreTheOperators } from '../../law/rates-repo.ts';
import { openApiDocument, registerRoutes, type RouteDef } from './define.ts';
import { engineRoutes } from './engine.ts';
import { escalationRoutes } from './escalation.ts';
import { ledgerRoutes } from './ledger.ts';
import { inboundRoutes } from './inbound.ts';
import { miscRoutes } from './misc.ts';
import { riskRoutes } from './risk.ts';

const E = defineErrors('http-api-rates', {
  sign_in: { fr: "connectez-vous, ou envoyez une clé d’API", en: "sign in, or send an API key" },
});

export const API_ROUTES: RouteDef[] = [...ledgerRoutes, ...engineRoutes, ...miscRoutes, ...inboundRoutes, ...escalationRoutes, ...riskRoutes];

/** The sign-in routes, described for the OpenAPI document (mounted by registerAuthRoutes). */
function authPaths() {
  const schema = (s: z.ZodType, io: 'input' | 'output') => {
    const j = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
    delete j.$schema;
    return j;
  };
  const problem = (d: string) => ({ description: d, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
  return {
    '/api/auth/login': {
      post: {
        operationId: 'login',
        summary: 'Sign in with email and password; sets the HttpOnly session cookie',
        tags: ['auth'],
        security: [],
        requestBody: { required: true, content: { 'application/json': { schema: schema(LoginBody, 'input') } } },
        responses: { '200': { description: 'signed in', content: { 'application/json': { schema: schema(Me, 'output') } } }, '400': problem('validation error'), '401': problem('wrong email or password') },
      },
    },
    '/api/auth/logout': {
      post: { operationId: 'logout', summary: 'Sign out (the session is deleted)', tags: ['auth'], security: [], responses: { '204': { description: 'signed out' } } },
    },
    '/api/auth/me': {
      get: {
        operationId: 'me',
        summary: 'Who is calling: organisation, scope, role',
        tags: ['auth'],
        responses: { '200': { description: 'the caller', content: { 'application/json': { schema: schema(Me, 'output') } } }, '401': problem('not signed in') },
      },
    },
  };
}

let cached: unknown;
export function apiDocument() {
  if (!cached) {
    const doc = openApiDocument(API_ROUTES, { title: 'Relance API', version: '1.0.0' });
    doc.paths = { ...authPaths(), ...doc.paths };
    cached = doc;
  }
  return cached as ReturnType<typeof openApiDocument>;
}

export function registerApi(app: Hono, ctx: AppContext) {
  registerAuthRoutes(app, ctx);
  registerRoutes(app, ctx, API_ROUTES);
  // The official rate tables are the instance operator's (CLI on the server): any caller of the
  // API, an organisation's admin key included, is refused. Not an operation of the document.
  app.on(['POST', 'PUT', 'DELETE'], ['/api/v1/rates', '/api/v1/rates/*'], async (c) => {
    if (!(await principalOf(c, ctx))) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('sign_in'));
    throw ratesAreTheOperators();
  });
  app.get('/api/openapi.json', () => json(apiDocument()));
  app.get('/api/docs', () => new Response(DOCS_HTML, { headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" } }));
}

const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Relance API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#1d3557;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{display:flex}nav{width:260px;padding:16px;border-right:1px solid #dde;position:sticky;top:0;height:100vh;overflow:auto;font-size:13px}
nav a{display:block;color:#1d3557;text-decoration:none;padding:2px 0}nav h3{margin:12px 0 4px;font-size:13px;text-transform:uppercase;color:#667}
section{flex:1;padding:16px 32px;max-width:980px}.op{background:#fff;border:1px solid #dde;border-radius:6px;margin:14px 0;padding:12px 16px}
.m{display:inline-block;min-width:58px;font-weight:700;font-family:monospace;text-transform:uppercase}.get{color:#2a7a2a}.post{color:#1d57a8}.put,.patch{color:#a86b00}.delete{color:#b3261e}
code,pre{font-family:ui-monospace,monospace;font-size:12.5px}pre{background:#f3f4f7;padding:8px;border-radius:4px;overflow:auto;max-height:320px}
.scope{float:right;font-size:12px;background:#eef;border-radius:10px;padding:1px 8px}table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}
details summary{cursor:pointer;color:#445}
</style></head>
<body><header><h1>Relance API reference</h1><div id="desc"></div></header>
<main><nav id="nav"></nav><section id="ops">Loading /api/openapi.json…</section></main>
<script>
(async function () {
  const doc = await (await fetch('/api/openapi.json')).json();
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  document.getElementById('desc').textContent = doc.info.description;
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(ops)) (byTag[(op.tags || ['other'])[0]] ||= []).push({ path, m, op });
  let nav = '', html = '';
  for (const [tag, list] of Object.entries(byTag)) {
    nav += '<h3>' + esc(tag) + '</h3>';
    html += '<h2>' + esc(tag) + '</h2>';
    for (const { path, m, op } of list) {
      nav += '<a href="#' + op.operationId + '"><span class="m ' + m + '">' + m + '</span> ' + esc(path.replace('/api/v1', '')) + '</a>';
      const params = (op.parameters || []).map((p) => '<tr><td><code>' + esc(p.name) + '</code></td><td>' + p.in + '</td><td>' + (p.required ? 'required' : '') + '</td><td>' + esc(p.description || p.schema?.description || p.schema?.type || '') + '</td></tr>').join('');
      const body = op.requestBody ? Object.entries(op.requestBody.content).map(([ct, c]) => '<details><summary>request body ' + esc(ct) + '</summary><pre>' + esc(JSON.stringify(c.schema, null, 2)) + '</pre></details>').join('') : '';
      const res = Object.entries(op.responses).map(([s, r]) => '<details><summary>' + s + ' ' + esc(r.description) + '</summary><pre>' + esc(JSON.stringify(Object.values(r.content || {})[0]?.schema || {}, null, 2)) + '</pre></details>').join('');
      html += '<div class="op" id="' + op.operationId + '"><span class="scope">' + esc(op['x-required-scope'] || 'public') + '</span><span class="m ' + m + '">' + m + '</span> <code>' + esc(path) + '</code><p>' + esc(op.summary) + '</p>' + (params ? '<table>' + params + '</table>' : '') + body + res + '</div>';
    }
  }
  document.getElementById('nav').innerHTML = nav;
  document.getElementById('ops').innerHTML = html;
})();
</script></body></html>`;
