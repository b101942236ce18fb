/**
 * The REST API's route table. Each route declares its method, path, required scope and zod
 * schemas for parameters, query, body and response; registerRoutes() mounts them on Hono with
 * authentication, scope and organisation checks, validation that names the field, one
 * transaction per write, and Idempotency-Key on POST; openApiDocument() turns the same table into
 * OpenAPI 3.1 (zod 4's JSON Schema output is draft 2020-12, the dialect of OpenAPI 3.1).
 */
import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { zodError } from '../zod-text.ts';
import type { Db, Queryable } from '../../db/driver.ts';
import { type CalendarDate, todayIn } from '../../domain/dates.ts';
import { type Principal, type Role, type Scope, scopeAllows } from '../../auth/index.ts';
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import { getOrganisation, type Organisation } from '../../ledger/repo.ts';
import { type AppContext, type HttpOptions, json } from '../context.ts';
import { principalOf } from '../auth.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('http-api', {
  cursor: { fr: "ce curseur n’a pas été donné par cette API", en: "cursor is not one this API gave" },
  sign_in: { fr: "connectez-vous, ou envoyez une clé d’API dans l’en-tête « Authorization: Bearer rlk_... »", en: "sign in, or send an API key as \"Authorization: Bearer rlk_...\"" },
  scope_key: { fr: "il faut le droit {needed} ; la clé a le droit {has}", en: "this needs the {needed} scope; the key has {has}" },
  scope_role: { fr: "il faut le droit {needed} ; votre rôle donne le droit {has}", en: "this needs the {needed} scope; your role gives {has}" },
  not_json: { fr: "le corps de la requête n’est pas du JSON", en: "the request body is not JSON" },
  idempotency_length: { fr: "Idempotency-Key doit faire de 1 à 255 caractères", en: "Idempotency-Key must be 1 to 255 characters" },
  idempotency_reused: { fr: "cette Idempotency-Key a déjà servi pour une autre requête", en: "this Idempotency-Key was already used for a different request" },
  app_sign_in: { fr: "connectez-vous d’abord", en: "sign in first" },
  app_role: { fr: "le rôle {role} ne permet pas de faire ceci", en: "the {role} role may not do this" },
});

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who calls a web app route: an API key is read as the role its scope allows. */
export interface AppUser {
  /** Null when the caller is an API key. */
  userId: string | null;
  email: string;
  role: Role;
}

export interface HandlerArgs<P, Q, B> {
  principal: Principal;
  user: AppUser;
  orgId: string;
  org: Organisation;
  params: P;
  query: Q;
  body: B;
  /** Raw request bytes, for file uploads (rawBody routes). */
  raw: Buffer;
  /** The database: for a write, this transaction; for a read, the pool. */
  q: Queryable;
  /** A Db whose tx() runs inside the request's transaction (for functions that take a Db). */
  db: Db;
  now: Date;
  today: CalendarDate;
  c: Context;
  /** The operator's settings of the HTTP edge. */
  options: Partial<HttpOptions>;
  /** The application context (the clock, the pool), for work that outlives the request. */
  ctx: AppContext;
}

export interface RouteDef<P = any, Q = any, B = any> {
  method: Method;
  /** OpenAPI path, e.g. /api/v1/customers/{id}. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  scope: Scope;
  params?: z.ZodObject<any>;
  query?: z.ZodObject<any>;
  body?: z.ZodType;
  /** The response is a file of this type (GET only; the handler returns a Response). */
  file?: { contentType: string };
  /** The body is a file (CSV, FEC, XML, PDF...), read as bytes. */
  rawBody?: { contentTypes: string[] };
  response: z.ZodType;
  /**
   * The handler runs its own transactions (file imports: all or nothing, rejected files logged);
   * it is not wrapped in the request's, and takes no Idempotency-Key: re-sending the same file
   * changes nothing anyway.
   */
  ownTransaction?: boolean;
  /** A POST that changes nothing (a preview): no transaction held while it renders. */
  readOnly?: boolean;
  status?: number;
  /** Statuses besides the success one that this route answers on purpose (OpenAPI). */
  errors?: number[];
  handler: (a: HandlerArgs<P, Q, B>) => Promise<unknown>;
}

/** Declares a route with its types inferred from its schemas. */
export function route<P extends z.ZodObject<any> | undefined, Q extends z.ZodObject<any> | undefined, B extends z.ZodType | undefined>(
  r: Omit<RouteDef, 'handler' | 'params' | 'query' | 'body'> & {
    params?: P;
    query?: Q;
    body?: B;
    handler: (a: HandlerArgs<P extends z.ZodType ? z.output<P> : undefined, Q extends z.ZodType ? z.output<Q> : undefined, B extends z.ZodType ? z.output<B> : undefined>) => Promise<unknown>;
  },
): RouteDef {
  return r as RouteDef;
}

// ------------------------------------------------------------------ shared schemas

export { Currency, Cursor, DecimalAmount, Id, IdParams, IsoDate, Limit, MinorString, PageQuery, Problem, page } from './schemas.ts';
import { Problem } from './schemas.ts';

/** Cursors are opaque to clients; inside, the last id of the page. */
export const encodeCursor = (id: bigint | string) => Buffer.from(`id:${id}`).toString('base64url');
export function decodeCursor(c: string | undefined): bigint | null {
  if (!c) return null;
  const s = Buffer.from(c, 'base64url').toString();
  if (!/^id:\d{1,18}$/.test(s)) throw new RelanceError(ERROR_CODES.VALIDATION, E('cursor'), { where: { field: 'cursor' } });
  return BigInt(s.slice(3));
}
export function paged<T extends { id: bigint }>(rows: T[], limit: number): { data: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  return { data, nextCursor: more ? encodeCursor(data[data.length - 1]!.id) : null };
}

// ------------------------------------------------------------------ registration

function zodProblem(e: z.ZodError, part: string): RelanceError {
  return zodError(
    e,
    part,
    e.issues.map((i) => ({ field: i.path.join('.') || part, message: i.message })),
  );
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, part: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw zodProblem(r.error, part);
  return r.data;
}

const honoPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

/** A Db handle whose transactions are the request's own (nested tx flattened). */
function dbInTx(q: Queryable, base: Db): Db {
  return { kind: base.kind, query: (s, p) => q.query(s, p), exec: (s) => q.exec(s), tx: (fn) => fn(q), close: async () => {} };
}

/**
 * The two edges mounted from route tables: the REST API (/api/v1: API key or session, a 401/403
 * that speaks of keys and scopes, Idempotency-Key on POST, 201 on creation) and the web app's own
 * API (/api/app: the session, a 403 that names the role, 200 unless the route says otherwise).
 */
export type Edge = 'api' | 'app';

const roleOf = (p: Principal): Role => p.role ?? (p.scope === 'admin' ? 'admin' : p.scope === 'write' ? 'collector' : 'viewer');

export function registerRoutes(app: Hono, ctx: AppContext, routes: RouteDef[], edge: Edge = 'api') {
  for (const r of routes) {
    app.on(r.method.toUpperCase(), honoPath(r.path), async (c) => {
      const principal = await principalOf(c, ctx);
      if (!principal) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, edge === 'app' ? E('app_sign_in') : E('sign_in'));
      const user: AppUser = { userId: principal.userId, email: principal.email ?? `api-key:${principal.apiKeyId}`, role: roleOf(principal) };
      if (!scopeAllows(principal.scope, r.scope)) {
        if (edge === 'app') throw new RelanceError(ERROR_CODES.FORBIDDEN, E('app_role', { role: user.role }));
        throw new RelanceError(ERROR_CODES.FORBIDDEN, E(principal.kind === 'api_key' ? 'scope_key' : 'scope_role', { needed: r.scope, has: principal.scope }));
      }
      const params = parse(r.params, c.req.param(), 'path');
      const query = parse(r.query, c.req.query(), 'query');
      let raw = Buffer.alloc(0);
      let body: unknown;
      if (r.rawBody) raw = Buffer.from(await c.req.arrayBuffer());
      else if (r.body) {
        let parsed: unknown;
        try {
          parsed = await c.req.json();
        } catch (e) {
          if (e instanceof RelanceError) throw e;
          throw new RelanceError(ERROR_CODES.VALIDATION, E('not_json'), { where: { field: 'body' } });
        }
        body = parse(r.body, parsed, 'body');
      }
      const now = ctx.now();
      const org = await getOrganisation(ctx.db, principal.organisationId);
      const base = { principal, user, orgId: principal.organisationId, org, params, query, body, raw, now, today: todayIn(org.timeZone, now), c, options: ctx.options ?? {}, ctx };
      const status = r.status ?? (r.method === 'post' && edge === 'api' ? 201 : 200);
      if (r.method === 'get' || r.ownTransaction || r.readOnly) {
        const result = await r.handler({ ...base, q: ctx.db, db: ctx.db });
        // A file (a PDF, a ZIP) goes out as it is.
        return result instanceof Response ? result : json(result, status);
      }
      if (edge === 'app') {
        const text = await ctx.db.tx(async (q) => json(await r.handler({ ...base, q, db: dbInTx(q, ctx.db) }), status).text());
        return new Response(text, { status, headers: { 'content-type': 'application/json; charset=utf-8' } });
      }

      const key = r.method === 'post' ? c.req.header('idempotency-key') : undefined;
      if (key !== undefined && (key.length < 1 || key.length > 255)) {
        throw new RelanceError(ERROR_CODES.VALIDATION, E('idempotency_length'), { where: { field: 'Idempotency-Key' } });
      }
      const requestHash = createHash('sha256')
        .update(`${r.method} ${c.req.path}\n${JSON.stringify(c.req.query())}\n`)
        .update(r.rawBody ? raw : JSON.stringify(body ?? null))
        .digest('hex');
      const out = await ctx.db.tx(async (q) => {
        if (key !== undefined) {
          // The key row is written first, in this transaction: a concurrent twin waits on the
          // unique index and then finds the stored response; a failure removes the key with the rest.
          const fresh = await q.query(
            `INSERT INTO idempotency_keys (organisation_id, key, method, path, request_sha256, status_code, response_body)
             VALUES ($1, $2, $3, $4, $5, 0, '') ON CONFLICT (organisation_id, key) DO NOTHING RETURNING 1`,
            [principal.organisationId, key, r.method, c.req.path, requestHash],
          );
          if (!fresh.length) {
            const [prev] = await q.query<{ request_sha256: string; status_code: number; response_body: string }>(
              'SELECT request_sha256, status_code, response_body FROM idempotency_keys WHERE organisation_id = $1 AND key = $2',
              [principal.organisationId, key],
            );
            if (prev!.request_sha256 !== requestHash) {
              throw new RelanceError(ERROR_CODES.CONFLICT, E('idempotency_reused'), { where: { field: 'Idempotency-Key' } });
            }
            return { replayed: true, status: prev!.status_code, text: prev!.response_body };
          }
        }
        const result = await r.handler({ ...base, q, db: dbInTx(q, ctx.db) });
        const text = await json(result, status).text();
        if (key !== undefined) {
          await q.query('UPDATE idempotency_keys SET status_code = $3, response_body = $4 WHERE organisation_id = $1 AND key = $2', [
            principal.organisationId,
            key,
            status,
            text,
          ]);
        }
        return { replayed: false, status, text };
      });
      return new Response(out.text, {
        status: out.status,
        headers: { 'content-type': 'application/json; charset=utf-8', ...(out.replayed ? { 'idempotent-replayed': 'true' } : {}) },
      });
    });
  }
}

// ------------------------------------------------------------------ OpenAPI

const schemaOf = (s: z.ZodType, io: 'input' | 'output') => {
  const j = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete j.$schema;
  return j;
};

const ERROR_TEXT: Record<number, string> = {
  400: 'validation error (the field is named in `where.field`)',
  401: 'no valid API key or session',
  403: 'the key or role lacks the scope, or the organisation differs',
  404: 'not found in this organisation',
  409: 'conflict (unique key, reused Idempotency-Key)',
  422: 'a ledger invariant or a legal rule refuses it',
};

export function openApiDocument(routes: RouteDef[], extra: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const obj = schemaOf(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(obj.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (obj.required ?? []).includes(name), schema: s });
      }
    }
    if (r.method === 'post' && !r.ownTransaction) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 255 },
        description: 'a retried request with the same key creates nothing twice and gets the first response back',
      });
    }
    const status = String(r.status ?? (r.method === 'post' ? 201 : 200));
    const errors = new Set([400, 401, 403, ...(r.params ? [404] : []), ...(r.errors ?? [])]);
    const responses: Record<string, unknown> = {
      [status]: r.file
        ? { description: 'the file', content: { [r.file.contentType]: { schema: { type: 'string', contentMediaType: r.file.contentType } } } }
        : { description: 'success', content: { 'application/json': { schema: schemaOf(r.response, 'output') } } },
    };
    for (const e of [...errors].sort()) {
      responses[String(e)] = { description: ERROR_TEXT[e] ?? 'error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
    }
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      'x-required-scope': r.scope,
      security: [{ apiKey: [] }, { session: [] }],
      parameters,
      responses,
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } };
    if (r.rawBody) {
      op.requestBody = {
        required: true,
        content: Object.fromEntries(r.rawBody.contentTypes.map((ct) => [ct, { schema: { type: 'string', contentMediaType: ct } }])),
      };
    }
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: extra.title,
      version: extra.version,
      description:
        'Relance REST API. Every /api/v1 route needs an API key (`Authorization: Bearer rlk_...`, scopes read < write < admin) or a web session cookie, and only ever sees its own organisation. Amounts are integer minor units as strings in responses ("…Minor") and decimal strings in requests; dates are YYYY-MM-DD. Errors are RFC 9457 problem+json with a stable `code`. Lists are cursor-paginated (`limit`, `cursor` -> `nextCursor`).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key created with `relance api-keys create` or in the settings' },
        session: { type: 'apiKey', in: 'cookie', name: 'relance_session' },
      },
      schemas: { Problem: schemaOf(Problem, 'output') },
    },
    paths,
  };
}
