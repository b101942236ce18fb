/**
 * The one place error codes become HTTP statuses, answered as RFC 9457 problem+json, and the one
 * place the HTTP API picks the language of an error: the web session user's language, else
 * Accept-Language (fr → French, anything else → English). `code` never changes with the language.
 */
import { type ErrorCode, ERROR_CODES, isRelanceError, renderError } from '../errors.ts';
import { type Lang, langOf } from '../i18n/index.ts';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  [ERROR_CODES.VALIDATION]: 400,
  [ERROR_CODES.PARSE]: 400,
  [ERROR_CODES.NOT_FOUND]: 404,
  [ERROR_CODES.CONFLICT]: 409,
  [ERROR_CODES.LEDGER_INVARIANT]: 422,
  [ERROR_CODES.LEGAL_RULE]: 422,
  [ERROR_CODES.UNAUTHENTICATED]: 401,
  [ERROR_CODES.FORBIDDEN]: 403,
  [ERROR_CODES.CONFIG]: 500,
  [ERROR_CODES.RATE_LIMITED]: 429,
  [ERROR_CODES.TOO_LARGE]: 413,
  [ERROR_CODES.IN_USE]: 503,
  [ERROR_CODES.INTERNAL]: 500,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  where?: unknown;
}

/** The language of a problem: the session user's, else the first Accept-Language, else English. */
export function problemLang(sessionLanguage: Lang | null | undefined, acceptLanguage: string | null | undefined): Lang {
  if (sessionLanguage) return sessionLanguage;
  return langOf(acceptLanguage?.split(',')[0]?.split(';')[0]) ?? 'en';
}

export function toProblem(e: unknown, lang: Lang = 'en'): Problem {
  const r = renderError(e, lang);
  if (isRelanceError(e)) {
    const status = HTTP_STATUS[e.code];
    return { type: `https://relance.dev/problems/${e.code}`, title: r.title, status, detail: r.detail, code: e.code, ...(e.where ? { where: e.where } : {}) };
  }
  return { type: 'https://relance.dev/problems/internal', title: r.title, status: 500, detail: r.detail, code: 'internal' };
}
