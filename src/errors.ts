/**
 * The one error type of Relance. Every failure a user can see carries a stable code from
 * ERROR_CODES, a message key (translated in src/i18n) and the place it happened (file, line, field).
 * HTTP statuses are mapped in src/http/problem.ts, CLI exit codes in src/cli/exit.ts: nowhere else.
 */
export const ERROR_CODES = {
  /** Input failed validation (a field, a file line, a CLI option). */
  VALIDATION: 'validation',
  /** The thing asked for does not exist in this organisation. */
  NOT_FOUND: 'not_found',
  /** A unique key already holds this value (invoice number, external id...). */
  CONFLICT: 'conflict',
  /** A ledger invariant would break: over-allocation, currency mismatch, negative amount. */
  LEDGER_INVARIANT: 'ledger_invariant',
  /** A legal rule refuses the input (e.g. contractual rate under the statutory floor). */
  LEGAL_RULE: 'legal_rule',
  /** A file could not be parsed; `where` names the line or element. */
  PARSE: 'parse',
  /** Authentication missing or wrong. */
  UNAUTHENTICATED: 'unauthenticated',
  /** Authenticated, but this role or organisation may not do this. */
  FORBIDDEN: 'forbidden',
  /** Configuration is missing or wrong (environment variable, settings). */
  CONFIG: 'config',
  /** A bug or an unexpected failure of a dependency. */
  INTERNAL: 'internal',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Where an error happened, as precisely as known. */
export interface ErrorPlace {
  file?: string;
  line?: number;
  field?: string;
  /** XML element path, JSON pointer, etc. */
  path?: string;
}

export class RelanceError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorPlace | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, opts: { where?: ErrorPlace; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RelanceError';
    this.code = code;
    this.where = opts.where;
    this.details = opts.details;
  }

  /** "file:line field: message" — the form printed by the CLI. */
  describe(): string {
    const w = this.where;
    if (!w) return this.message;
    const loc = [w.file, w.line !== undefined ? String(w.line) : undefined].filter(Boolean).join(':');
    const parts = [loc, w.field ? `field ${w.field}` : undefined, w.path].filter(Boolean);
    return parts.length ? `${parts.join(' ')}: ${this.message}` : this.message;
  }
}

export const validation = (message: string, where?: ErrorPlace, details?: unknown) =>
  new RelanceError(ERROR_CODES.VALIDATION, message, { where, details });

export const notFound = (what: string, id: string) =>
  new RelanceError(ERROR_CODES.NOT_FOUND, `${what} ${id} not found`, { details: { what, id } });

export function isRelanceError(e: unknown): e is RelanceError {
  return e instanceof RelanceError;
}
