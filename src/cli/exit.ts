/** The one place error codes become CLI exit codes. */
import { type ErrorCode, ERROR_CODES, isRelanceError } from '../errors.ts';

export const EXIT_CODES: Record<ErrorCode, number> = {
  [ERROR_CODES.VALIDATION]: 2,
  [ERROR_CODES.PARSE]: 3,
  [ERROR_CODES.NOT_FOUND]: 4,
  [ERROR_CODES.CONFLICT]: 5,
  [ERROR_CODES.LEDGER_INVARIANT]: 6,
  [ERROR_CODES.LEGAL_RULE]: 7,
  [ERROR_CODES.UNAUTHENTICATED]: 8,
  [ERROR_CODES.FORBIDDEN]: 8,
  [ERROR_CODES.CONFIG]: 9,
  [ERROR_CODES.INTERNAL]: 1,
};

export function exitCodeFor(e: unknown): number {
  return isRelanceError(e) ? EXIT_CODES[e.code] : 1;
}
