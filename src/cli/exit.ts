/** The one place error codes become CLI exit codes. */
import { type ErrorCode, ERROR_CODES, isRelanceError } from '../errors.ts';
import { type Lang, langOf } from '../i18n/index.ts';

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
  [ERROR_CODES.RATE_LIMITED]: 10,
  [ERROR_CODES.TOO_LARGE]: 2,
  [ERROR_CODES.IN_USE]: 11,
  [ERROR_CODES.INTERNAL]: 1,
};

export function exitCodeFor(e: unknown): number {
  return isRelanceError(e) ? EXIT_CODES[e.code] : 1;
}

/** The CLI's language: RELANCE_LANG (fr|en), else LC_ALL, else LANG (fr_* → fr), else English. */
export function cliLang(env: Record<string, string | undefined>): Lang {
  const forced = env.RELANCE_LANG?.trim().toLowerCase();
  if (forced === 'fr' || forced === 'en') return forced;
  return langOf(env.LC_ALL) ?? langOf(env.LANG) ?? 'en';
}

