/** The one place error codes become HTTP statuses, answered as RFC 9457 problem+json. */
import { type ErrorCode, ERROR_CODES, isRelanceError } from '../errors.ts';

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

export function toProblem(e: unknown): Problem {
  if (isRelanceError(e)) {
    const status = HTTP_STATUS[e.code];
    return { type: `https://relance.dev/problems/${e.code}`, title: e.code, status, detail: e.message, code: e.code, ...(e.where ? { where: e.where } : {}) };
  }
  return { type: 'https://relance.dev/problems/internal', title: 'internal', status: 500, detail: 'internal error', code: 'internal' };
}
