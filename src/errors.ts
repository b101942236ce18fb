import { defineErrors, defineMessages, type Lang, renderText, t, type Text } from './i18n/index.ts';

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
  /** Too many attempts (sign-in): wait `details.retryAfterSeconds` and try again. */
  RATE_LIMITED: 'rate_limited',
  /** The request or its body is larger than the limit for that route. */
  TOO_LARGE: 'too_large',
  /** A resource is held by another process (the embedded database's data folder). */
  IN_USE: 'in_use',
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

/** What an error's code is called, in each language (the problem's `title`, the CLI's heading). */
export const ERROR_TITLES = defineMessages({
  [ERROR_CODES.VALIDATION]: { fr: 'Donnée invalide', en: 'Invalid input' },
  [ERROR_CODES.NOT_FOUND]: { fr: 'Introuvable', en: 'Not found' },
  [ERROR_CODES.CONFLICT]: { fr: 'Conflit', en: 'Conflict' },
  [ERROR_CODES.LEDGER_INVARIANT]: { fr: 'Règle comptable non respectée', en: 'Ledger rule broken' },
  [ERROR_CODES.LEGAL_RULE]: { fr: 'Règle légale non respectée', en: 'Legal rule broken' },
  [ERROR_CODES.PARSE]: { fr: 'Fichier illisible', en: 'Unreadable file' },
  [ERROR_CODES.UNAUTHENTICATED]: { fr: 'Authentification requise', en: 'Authentication required' },
  [ERROR_CODES.FORBIDDEN]: { fr: 'Accès refusé', en: 'Forbidden' },
  [ERROR_CODES.CONFIG]: { fr: 'Configuration incorrecte', en: 'Configuration error' },
  [ERROR_CODES.RATE_LIMITED]: { fr: 'Trop de tentatives', en: 'Too many attempts' },
  [ERROR_CODES.TOO_LARGE]: { fr: 'Trop volumineux', en: 'Too large' },
  [ERROR_CODES.IN_USE]: { fr: 'Déjà utilisé par un autre processus', en: 'In use by another process' },
  [ERROR_CODES.INTERNAL]: { fr: 'Erreur interne', en: 'Internal error' },
} satisfies Record<ErrorCode, { fr: string; en: string }>);

/** The words naming an error's place. */
export const PLACE_WORDS = defineMessages({
  file: { fr: 'fichier', en: 'file' },
  line: { fr: 'ligne', en: 'line' },
  field: { fr: 'champ', en: 'field' },
  path: { fr: 'élément', en: 'element' },
});

/** The things `notFound` can name. */
const NOUNS = defineMessages({
  'API key': { fr: 'clé d’API', en: 'API key' },
  action: { fr: 'action', en: 'action' },
  'active pause': { fr: 'pause active', en: 'active pause' },
  allocation: { fr: 'affectation', en: 'allocation' },
  'bank line': { fr: 'ligne bancaire', en: 'bank line' },
  'call task': { fr: 'appel à passer', en: 'call task' },
  contact: { fr: 'contact', en: 'contact' },
  note: { fr: 'note', en: 'note' },
  'credit note': { fr: 'avoir', en: 'credit note' },
  customer: { fr: 'client', en: 'customer' },
  'default scenario for organisation': { fr: 'scénario par défaut de l’organisation', en: 'default scenario for organisation' },
  delivery: { fr: 'envoi', en: 'delivery' },
  dispute: { fr: 'litige', en: 'dispute' },
  document: { fr: 'document', en: 'document' },
  invitation: { fr: 'invitation', en: 'invitation' },
  invoice: { fr: 'facture', en: 'invoice' },
  'match proposal': { fr: 'proposition de rapprochement', en: 'match proposal' },
  'open dispute': { fr: 'litige en cours', en: 'open dispute' },
  order: { fr: 'commande', en: 'order' },
  organisation: { fr: 'organisation', en: 'organisation' },
  pause: { fr: 'pause', en: 'pause' },
  payment: { fr: 'paiement', en: 'payment' },
  'rate override': { fr: 'taux ajouté', en: 'rate override' },
  'registered letter of action': { fr: 'lettre recommandée de l’action', en: 'registered letter of action' },
  scenario: { fr: 'scénario', en: 'scenario' },
  'sent message': { fr: 'message envoyé', en: 'sent message' },
  template: { fr: 'modèle', en: 'template' },
  user: { fr: 'utilisateur', en: 'user' },
  'webhook delivery': { fr: 'envoi de webhook', en: 'webhook delivery' },
  'webhook subscription': { fr: 'abonnement webhook', en: 'webhook subscription' },
  logo: { fr: 'logo', en: 'logo' },
});
export type NotFoundWhat = keyof typeof NOUNS;

/** Error texts shared by every area. */
export const E = defineErrors('common', {
  not_found: { fr: '{what} {id} introuvable', en: '{what} {id} not found' },
  internal: { fr: 'erreur interne', en: 'internal error' },
});

export class RelanceError extends Error {
  readonly code: ErrorCode;
  readonly where: ErrorPlace | undefined;
  readonly details: unknown;
  /** The message key with its French and English texts; `message` is its English rendering. */
  readonly text: Text | undefined;

  /** `message` is a Text from an area's `defineErrors` table; a plain string is English-only. */
  constructor(code: ErrorCode, message: string | Text, opts: { where?: ErrorPlace; details?: unknown; cause?: unknown } = {}) {
    super(typeof message === 'string' ? message : renderText(message, 'en'), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RelanceError';
    this.code = code;
    this.where = opts.where;
    this.details = opts.details;
    this.text = typeof message === 'string' ? undefined : message;
  }

  /** The detail in a language (English when the error has no message key). */
  detail(lang: Lang = 'en'): string {
    return this.text ? renderText(this.text, lang) : this.message;
  }

  /**
   * "file:line field x: message" — the form printed by the CLI. Without a language, the original
   * compact English form; with one, the place words in that language
   * ("fichier f.csv, ligne 4, champ Montant : …").
   */
  describe(lang?: Lang): string {
    const w = this.where;
    if (lang === undefined) {
      if (!w) return this.message;
      const loc = [w.file, w.line !== undefined ? String(w.line) : undefined].filter(Boolean).join(':');
      const parts = [loc, w.field ? `field ${w.field}` : undefined, w.path].filter(Boolean);
      return parts.length ? `${parts.join(' ')}: ${this.message}` : this.message;
    }
    const place = describePlace(w, lang);
    const detail = this.detail(lang);
    return place ? `${place}${lang === 'fr' ? ' : ' : ': '}${detail}` : detail;
  }
}

/** "fichier f.csv, ligne 4, champ Montant" / "file f.csv, line 4, field Montant" ('' when unknown). */
export function describePlace(w: ErrorPlace | undefined, lang: Lang): string {
  if (!w) return '';
  const parts: string[] = [];
  if (w.file) parts.push(`${t(PLACE_WORDS, lang, 'file')} ${w.file}`);
  if (w.line !== undefined) parts.push(`${t(PLACE_WORDS, lang, 'line')} ${w.line}`);
  if (w.field) parts.push(`${t(PLACE_WORDS, lang, 'field')} ${w.field}`);
  if (w.path) parts.push(`${t(PLACE_WORDS, lang, 'path')} ${w.path}`);
  return parts.join(', ');
}

/** An error as a user reads it in a language: the code's title, the place and the detail. */
export interface RenderedError {
  code: ErrorCode;
  title: string;
  place: string;
  detail: string;
}

export function renderError(e: unknown, lang: Lang): RenderedError {
  if (!isRelanceError(e)) {
    return { code: ERROR_CODES.INTERNAL, title: t(ERROR_TITLES, lang, ERROR_CODES.INTERNAL), place: '', detail: renderText(E('internal'), lang) };
  }
  return { code: e.code, title: t(ERROR_TITLES, lang, e.code), place: describePlace(e.where, lang), detail: e.detail(lang) };
}

export const validation = (message: string | Text, where?: ErrorPlace, details?: unknown) =>
  new RelanceError(ERROR_CODES.VALIDATION, message, { where, details });

export const notFound = (what: NotFoundWhat, id: string) =>
  new RelanceError(
    ERROR_CODES.NOT_FOUND,
    E('not_found', { what: { key: `noun.${what}`, ...NOUNS[what], vars: {} }, id }),
    { details: { what, id } },
  );

export function isRelanceError(e: unknown): e is RelanceError {
  return e instanceof RelanceError;
}
