/**
 * What every HTTP route needs and nothing more: the application context, the operator's options of
 * the HTTP edge, and the JSON response. It imports no route, so any module of src/http can import
 * it first (the routes, auth and setup import it; app.ts assembles them).
 */
import type { Config } from '../config.ts';
import { type Db, jsonReplacer } from '../db/driver.ts';
import { type NetworkPolicy, networkPolicy } from '../net/guard.ts';
import type { SetupGate } from './setup.ts';

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
