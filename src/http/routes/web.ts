/**
 * The web app's own API (`/api/app/*`): what the screens need in one call each — the dashboard,
 * today's worklist, a customer's timeline, previews of exact messages, editors — built on the
 * domain and repository functions of each area (ledger, engine, documents, bank, delivery, law).
 * Every route runs behind the session middleware and checks the role; every query is scoped to the
 * session's organisation.
 */
import type { Context, Hono } from 'hono';
import { type Db, escapeLike, type Queryable, pgArray } from '../../db/driver.ts';
import { jsonReplacer } from '../../db/driver.ts';
import { addDays, addMonths, type CalendarDate, calendarDate, dayOfWeek, daysBetween, maxDate, todayIn } from '../../domain/dates.ts';
import { lateFeesUnder, type ProvisionalRate, ProvisionalRates, RATE_TABLE_NAMES, type RateTables, renderLawNote } from '../../domain/law/index.ts';
import { creditorTerms, type OverdueParty, overdueParties, rateWarnings, regimeBetween } from '../../law/regime.ts';
import { assertAmountInRange, divRoundHalfUp, type Minor } from '../../domain/money.ts';
import { importBankFile } from '../../bank/import.ts';
import { acceptProposal, manualMatch, reconcile, reviewQueue, undoMatch } from '../../bank/reconcile.ts';
import { composeDocument } from '../../documents/compose.ts';
import { renderTemplate, validateTemplate } from '../../documents/engine.ts';
import { assertTemplate, builtInSource, CHANNEL_PARTS, type Channel as DocChannel, type Part, partMode, TEMPLATE_KEYS, TEMPLATE_LABELS, TEMPLATES, type TemplateKey } from '../../documents/registry.ts';
import { sampleInput, sampleVariables } from '../../documents/samples.ts';
import { VARIABLES } from '../../documents/variables.ts';
import { HOLIDAY_CALENDARS } from '../../domain/engine/holidays.ts';
import { type CalendarEntry, invoiceCalendar, NEVER_CHASED, type PlannerCustomer, type PlannerInvoice, scenarioPrerequisites } from '../../domain/engine/planner.ts';
import { escalationOf } from '../../domain/engine/escalation.ts';
import { simulate } from '../../domain/engine/simulate.ts';
import { CHANNELS as SCENARIO_CHANNELS, type ScenarioDefinition, stepKey, TONES, validateScenario } from '../../domain/engine/scenario.ts';
import { importCsv, type CsvKind } from '../../imports/csv.ts';
import { importEInvoices } from '../../imports/einvoice.ts';
import { importFec } from '../../imports/fec.ts';
import type { ImportProgress } from '../../imports/report.ts';
import { documentFromLedger } from '../../documents/from-ledger.ts';
import { staleBankGuard } from '../../engine/cycle.ts';
import {
  createPause,
  createPaymentPlan,
  liftPause,
  openDispute,
  type PauseReason,
  recordPromise,
  replanAfterScenarioChange,
  replanOnPayment,
  resolveDispute,
} from '../../engine/events.ts';
import { acknowledgesAgreements, setAcknowledgeAgreements } from '../../engine/acknowledgements.ts';
import { ACTIVE_PAUSE, COVERS } from '../../engine/planner-input.ts';
import { customerCalendar } from '../../engine/preview.ts';
import { checkCreditLimits, customerExposure, hasOpenCreditAlert, openCreditAlerts } from '../../risk/credit.ts';
import { formatPercent, parseRiskClass } from '../../domain/credit-policy.ts';
import { riskReasonText } from '../../domain/risk.ts';
import { computeRisk } from '../../risk/behaviour.ts';
import { expectedByAction } from '../../risk/recovery.ts';
import { creditPolicyOf } from './ledger.ts';
import { assignScenario, createScenario, ensureBuiltinScenarios, listScenarios, loadAssignments, resolveScenario, updateScenario } from '../../engine/scenarios.ts';
import type { Lang } from '../../i18n/index.ts';
import { PermanentContentError, type RenderedAction, renderAction } from '../../delivery/content.ts';
import { approveActions, cancelActions, confirmSent, listOutbox, type OutboxRow, resolveUncertain } from '../../delivery/outbox.ts';
import { recordCallOutcome } from '../../delivery/calls.ts';
import { customerHistoryPdf } from '../../delivery/proof.ts';
import { sendTestMessage } from '../../delivery/smtp-test.ts';
import { goLivePreview, setLive } from '../../engine/golive.ts';
import { readSecret } from '../../delivery/secrets.ts';
import { describeSettings, loadDeliverySettings, SECRET_FIELDS, type SettingsInput, saveDeliverySettings } from '../../delivery/settings.ts';
import type { CallOutcome, NonPaymentReason } from '../../domain/delivery.ts';
import { createApiKey, inviteUser, listApiKeys, removeMember, type Role as AuthRole, revokeApiKey, type Scope, updateMembership } from '../../auth/index.ts';
import { createSubscription, deleteSubscription, listSubscriptions, WEBHOOK_EVENTS } from '../../webhooks/index.ts';
import { getBranding, loadTemplateOverrides, resetTemplate, saveBranding, saveTemplate } from '../../documents/repo.ts';
import { ERROR_CODES, isRelanceError, notFound, RelanceError, validation } from '../../errors.ts';
import { getContractRate, listRateOverrides, loadRateTables, ratesAreTheOperators, setContractRate } from '../../law/rates-repo.ts';
import { type CustomerPatch, customerLedger, getCustomer, getInvoice, getOrganisation, type Organisation, updateCustomer, updateOrganisation } from '../../ledger/repo.ts';
import { requestLang } from '../auth.ts';
import { type HttpOptions, json } from '../context.ts';
import { computeKpis } from '../../reports/kpis.ts';
import { AGING_BUCKETS } from '../../domain/kpi.ts';
import { principalOf } from '../auth.ts';
import { toProblem } from '../problem.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('web', {
  sign_in: { fr: "connectez-vous d’abord", en: "sign in first" },
  role: { fr: "le rôle {role} ne permet pas de faire ceci", en: "the {role} role may not do this" },
  json: { fr: "le corps de la requête doit être du JSON", en: "the request body must be JSON" },
  days: { fr: "{field} : un nombre de jours entre 0 et 365", en: "{field}: a number of days from 0 to 365" },
  json_object: { fr: "le corps de la requête doit être un objet JSON ({…})", en: "the request body must be a JSON object ({…})" },
  int_query: { fr: "{name} doit être un nombre entier de {min} à {max}", en: "{name} must be a whole number from {min} to {max}" },
  number: { fr: "{name} doit être un nombre", en: "{name} must be a number" },
  uuid: { fr: "{name} doit être un identifiant (UUID)", en: "{name} must be an id (UUID)" },
  minor: { fr: "{field} doit être un montant en centimes (un nombre entier, sous forme de texte)", en: "{field} must be an amount in minor units (a whole number as a string)" },
  multipart: { fr: "envoyez le fichier en multipart/form-data", en: "send the file as multipart/form-data" },
  no_file: { fr: "aucun fichier dans l’envoi (champ « file »)", en: "no file in the upload (field \"file\")" },
  key_language: { fr: "une clé d’API n’a pas d’utilisateur dont on puisse régler la langue", en: "an API key has no user to set a language for" },
  not_letter: { fr: "cette action n’est pas un courrier", en: "this action is not a letter" },
  not_email: { fr: "cette action n’est pas un e-mail", en: "this action is not an email" },
  as: { fr: "as doit valoir « sent » ou « not_sent »", en: "as must be \"sent\" or \"not_sent\"" },
  instalments_list: { fr: "instalments doit être une liste", en: "instalments must be a list" },
  empty_note: { fr: "une note ne peut pas être vide", en: "a note cannot be empty" },
  resolution: { fr: "indiquez comment le litige a été résolu", en: "say how the dispute was resolved" },
  no_open_invoice: { fr: "le client n’a aucune facture ouverte : il n’y a rien à mettre sur un relevé", en: "the customer has no open invoice: there is nothing to put on a statement" },
  empty_template: { fr: "un modèle ne peut pas être vide", en: "a template cannot be empty" },
  allocations_list: { fr: "allocations doit être une liste", en: "allocations must be a list" },
  import_kind: { fr: "kind doit valoir customers, invoices, payments, fec ou einvoice, pas « {kind} »", en: "kind must be customers, invoices, payments, fec or einvoice, not \"{kind}\"" },
  email: { fr: "« {email} » n’est pas une adresse e-mail", en: "\"{email}\" is not an email address" },
  golive_days: { fr: "days est un nombre de jours de 1 à 366", en: "days is a number of days from 1 to 366" },
  golive_live: { fr: "live vaut true ou false", en: "live is true or false" },
  no_smtp: { fr: "aucun serveur SMTP n’est configuré : les messages vont dans la boîte d’envoi locale", en: "no SMTP server is configured: messages go to the local outbox" },
  no_sender: { fr: "pas d’adresse d’expéditeur : renseignez d’abord l’adresse d’envoi", en: "no sender address: set the from address first" },
  stale_bank: { fr: "données bancaires anciennes : de 1 à 60 jours", en: "stale bank data: 1 to 60 days" },
  acknowledge: { fr: "l’accusé de réception des accords est activé (true) ou non (false)", en: "acknowledging agreements is on (true) or off (false)" },
  own_role: { fr: "vous ne pouvez pas modifier votre propre rôle ni vous désactiver", en: "you cannot change your own role or disable yourself" },
  user_role: { fr: "le rôle doit être admin, collector ou viewer", en: "role must be admin, collector or viewer" },
  ids: { fr: "{field} : indiquez au moins un identifiant", en: "{field}: give at least one id" },
  id_number: { fr: "{field}[{i}] doit être un nombre", en: "{field}[{i}] must be a number" },
  lang: { fr: "la langue doit être fr ou en, pas « {lang} »", en: "language must be fr or en, not \"{lang}\"" },
});

// ------------------------------------------------------------------ plumbing

export type Role = 'admin' | 'collector' | 'viewer';

/** Who is calling, as the session middleware established it. */
export interface WebPrincipal {
  orgId: string;
  /** Null when the caller is an API key. */
  userId: string | null;
  email: string;
  role: Role;
}

export interface WebContext {
  db: Db;
  now: () => Date;
  options?: Partial<HttpOptions>;
}

type C = Context;

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);


function principal(c: C): WebPrincipal {
  const p = c.get('webPrincipal' as never) as WebPrincipal | undefined;
  if (!p) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('sign_in'));
  return p;
}

/** Viewers read; collectors also act on customers and messages; admins also change settings. */
function allow(c: C, need: 'read' | 'write' | 'admin'): WebPrincipal {
  const p = principal(c);
  const ok = need === 'read' || (need === 'write' ? p.role !== 'viewer' : p.role === 'admin');
  if (!ok) throw new RelanceError(ERROR_CODES.FORBIDDEN, E('role', { role: p.role }));
  return p;
}

async function body<T = Record<string, unknown>>(c: C): Promise<T> {
  let v: unknown;
  try {
    v = await c.req.json();
  } catch {
    throw validation(E('json'), { field: 'body' });
  }
  // Every route reads fields of an object: null, a list or a number is refused here, not by a crash.
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw validation(E('json_object'), { field: 'body' });
  return v as T;
}

/** A whole-number query parameter within bounds (absent: the default), else 400 naming it. */
function intQuery(c: C, name: string, dflt: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw validation(E('int_query', { name, min, max }), { field: name });
  return n;
}

const idParam = (c: C, name: string): bigint => {
  const v = c.req.param(name) ?? '';
  if (!/^\d{1,18}$/.test(v)) throw validation(E('number', { name }), { field: name });
  return BigInt(v);
};

const pathParam = (c: C, name: string): string => c.req.param(name) ?? '';

const uuidParam = (c: C, name: string): string => {
  const v = pathParam(c, name);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) throw validation(E('uuid', { name }), { field: name });
  return v.toLowerCase();
};

const minorOf = (v: unknown, field: string): Minor => {
  // Bounded like every amount that enters (MAX_AMOUNT_MINOR), refused by field.
  if (typeof v === 'string' && /^-?\d{1,18}$/.test(v)) return assertAmountInRange(BigInt(v), v, 'EUR', { field });
  if (typeof v === 'number' && Number.isSafeInteger(v)) return assertAmountInRange(BigInt(v), String(v), 'EUR', { field });
  throw validation(E('minor', { field }), { field });
};

const wholeDays = (v: unknown, field: string): number => {
  const n = typeof v === 'number' ? v : /^\s*\d{1,3}\s*$/.test(String(v ?? '')) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 365) throw validation(E('days', { field }), { field });
  return n;
};

const dateOf = (v: unknown, field: string): CalendarDate => calendarDate(String(v ?? ''), { field });

async function orgToday(ctx: WebContext, orgId: string): Promise<{ org: Organisation; today: CalendarDate }> {
  const org = await getOrganisation(ctx.db, orgId);
  return { org, today: todayIn(org.timeZone, ctx.now()) };
}

let ratesCache: { at: number; tables: RateTables } | null = null;
async function rates(q: Queryable): Promise<RateTables> {
  if (ratesCache && Date.now() - ratesCache.at < 60_000) return ratesCache.tables;
  ratesCache = { at: Date.now(), tables: await loadRateTables(q) };
  return ratesCache.tables;
}

// ------------------------------------------------------------------ dashboard (KPIs)

export interface DashboardPayload {
  asOf: CalendarDate;
  currency: string;
  computedAt: string;
  totals: { receivablesMinor: string; overdueMinor: string; notDueMinor: string; disputedMinor: string; unallocatedMinor: string; overdueShare: number | null };
  dso: number | null;
  /** The balance is older than the months counted: DSO is at least this. */
  dsoExhausted: boolean;
  bestPossibleDso: number | null;
  add: number | null;
  cei: number | null;
  averageDaysToPay: number | null;
  penalties: { interestMinor: string; indemnityMinor: string; invoices: number; provisionalRates: ProvisionalRate[] };
  aging: { bucket: string; amountMinor: string; count: number }[];
  trends: { month: string; salesMinor: string; collectedMinor: string; receivablesMinor: string; overdueMinor: string }[];
  cashCollectedThisMonthMinor: string;
  expected: { weekStart: CalendarDate; dueMinor: string; promisedMinor: string }[];
  steps: { stepKey: string; channel: string; template: string; actions: number; exported: number; paidWithin7: number; share: number | null }[];
  bank: { held: boolean; message: string | null; lastImportOn: CalendarDate | null };
  conventions: { ceiMonths: number; adpMonths: number };
  /** Not shown: the kinds of customer with overdue invoices, from which the rate warnings are read with the tables of the moment. */
  overdueParties?: OverdueParty[];
}

/** Ratios shown to people: one decimal place, computed from bigints (no float touches money). */
const ratio1 = (num: bigint, den: bigint, scale = 1n): number | null => (den === 0n ? null : Number(divRoundHalfUp(num * scale * 10n, den)) / 10);

const ym = (d: CalendarDate) => d.slice(0, 7);
const monthStart = (d: CalendarDate) => `${d.slice(0, 7)}-01` as CalendarDate;

interface Snapshot {
  payload: DashboardPayload;
  asOf: CalendarDate;
  computedAt: string;
  stale: boolean;
}

const CEI_MONTHS = 3;
const SNAPSHOT_MAX_AGE_MS = 5 * 60_000;
const refreshing = new Map<string, Promise<DashboardPayload>>();

/** Recomputes the organisation's dashboard and customer balances (one at a time per organisation). */
export function refreshDashboard(ctx: WebContext, orgId: string): Promise<DashboardPayload> {
  let p = refreshing.get(orgId);
  if (!p) {
    p = computeAndStore(ctx, orgId).finally(() => refreshing.delete(orgId));
    refreshing.set(orgId, p);
  }
  return p;
}

/** Starts a background refresh when the snapshot is stale or old; never waits for it. */
function refreshIfStale(ctx: WebContext, orgId: string): void {
  if (refreshing.has(orgId)) return;
  ctx.db
    .query<{ stale: boolean; computed_at: string }>('SELECT stale, computed_at FROM dashboard_snapshots WHERE organisation_id = $1', [orgId])
    .then(([row]) => {
      if (!row || row.stale || ctx.now().getTime() - Date.parse(row.computed_at) > SNAPSHOT_MAX_AGE_MS) return refreshDashboard(ctx, orgId);
    })
    .catch((e) => console.error('dashboard refresh failed', e));
}

/** Lower case without accents, as customer_search_text stores names (migrations 0009, 0014). */
export function foldForSearch(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** The app changed the ledger or the plan: the next read recomputes in the background. */
export async function markDashboardStale(q: Queryable, orgId: string): Promise<void> {
  await q.query('UPDATE dashboard_snapshots SET stale = true WHERE organisation_id = $1', [orgId]);
}

/**
 * The dashboard as the last snapshot has it; when it is stale, a fresh one is computed in the
 * background and the stale one is answered (with its date). Only the first read ever waits.
 */
export async function readDashboard(ctx: WebContext, orgId: string, opts: { fresh?: boolean } = {}): Promise<DashboardPayload> {
  const { today } = await orgToday(ctx, orgId);
  const [row] = await ctx.db.query<{ as_of: CalendarDate; computed_at: string; stale: boolean; payload: DashboardPayload | string }>(
    'SELECT as_of, computed_at, stale, payload FROM dashboard_snapshots WHERE organisation_id = $1',
    [orgId],
  );
  if (!row || opts.fresh) return refreshDashboard(ctx, orgId);
  const snap: Snapshot = {
    payload: typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload,
    asOf: row.as_of,
    computedAt: row.computed_at,
    stale: row.stale,
  };
  const old = ctx.now().getTime() - Date.parse(snap.computedAt) > SNAPSHOT_MAX_AGE_MS;
  if (snap.asOf !== today) return refreshDashboard(ctx, orgId);
  if (snap.stale || old) refreshDashboard(ctx, orgId).catch((e) => console.error('dashboard refresh failed', e));
  return snap.payload;
}

async function computeAndStore(ctx: WebContext, orgId: string): Promise<DashboardPayload> {
  const t0 = Date.now();
  const { org, today } = await orgToday(ctx, orgId);
  const payload = await computeDashboard(ctx.db, org, today, ctx.now());
  await ctx.db.tx(async (q) => {
    await q.query(
      `INSERT INTO dashboard_snapshots (organisation_id, as_of, computed_at, stale, compute_ms, payload) VALUES ($1,$2,$3,false,$4,$5::jsonb)
       ON CONFLICT (organisation_id) DO UPDATE SET as_of = EXCLUDED.as_of, computed_at = EXCLUDED.computed_at, stale = false,
         compute_ms = EXCLUDED.compute_ms, payload = EXCLUDED.payload`,
      [orgId, today, payload.computedAt, Date.now() - t0, J(payload)],
    );
    await q.query('DELETE FROM customer_balance_snapshots WHERE organisation_id = $1', [orgId]);
    // Every customer gets a row (zero when nothing is open): the list sorted by amount walks this table.
    await q.query(
      `INSERT INTO customer_balance_snapshots (organisation_id, customer_id, open_minor, overdue_minor, oldest_due)
       SELECT c.organisation_id, c.id, coalesce(b.open, 0), coalesce(b.overdue, 0), b.oldest
         FROM customers c LEFT JOIN (
              SELECT customer_id, sum(amount_incl_tax_minor - allocated_minor - written_off_minor) AS open,
                     sum(amount_incl_tax_minor - allocated_minor - written_off_minor) FILTER (WHERE due_date < $2) AS overdue, min(due_date) AS oldest
                FROM invoices WHERE organisation_id = $1 AND allocated_minor + written_off_minor < amount_incl_tax_minor
               GROUP BY customer_id) b ON b.customer_id = c.id
        WHERE c.organisation_id = $1`,
      [orgId, today],
    );
  });
  // Fresh statistics: the planner walks the new rows by index rather than guessing from the old ones.
  await ctx.db.exec('ANALYZE customer_balance_snapshots');
  return payload;
}

/**
 * Every KPI of docs/product.md (§KPIs) for one organisation in its currency, as of `today`. The headline KPIs
 * (aging, DSO countback, best possible DSO, ADD, CEI, overdue share, average days to pay) are the
 * API's (`computeKpis`, the pure formulas of src/domain/kpi.ts, so the dashboard and /api/v1/kpis
 * never disagree); this adds the 12-month trends, cash collected, expected cash-in, accrued
 * penalties and which steps are followed by payment ("followed" = the invoice was settled within 7
 * days after the step was sent).
 */
export async function computeDashboard(q: Queryable, org: Organisation, today: CalendarDate, now: Date): Promise<DashboardPayload> {
  const cur = org.currency;
  const orgId = org.id;
  const k = await computeKpis(q, orgId, cur, today, CEI_MONTHS);
  const total = k.receivablesMinor;
  const overdue = k.pastDueMinor;

  // Month by month: sales (by issue date), settlements (allocations and write-offs), collections
  // (payments received), and what was due by then, over all history so month-end balances are exact.
  const first13 = monthStart(addMonths(today, -12));
  const sales = await q.query<{ m: string; due_m: string; amount: bigint }>(
    `SELECT to_char(issue_date, 'YYYY-MM') AS m, to_char(due_date, 'YYYY-MM') AS due_m, sum(amount_incl_tax_minor) AS amount
       FROM invoices WHERE organisation_id = $1 AND currency = $2 AND issue_date <= $3 GROUP BY 1, 2`,
    [orgId, cur, today],
  );
  const settled = await q.query<{ m: string; due_m: string; amount: bigint }>(
    `SELECT to_char(s.on_day, 'YYYY-MM') AS m, to_char(i.due_date, 'YYYY-MM') AS due_m, sum(s.amount_minor) AS amount
       FROM (SELECT invoice_id, allocated_on AS on_day, amount_minor FROM allocations WHERE organisation_id = $1 AND currency = $2 AND allocated_on <= $3
             UNION ALL
             SELECT invoice_id, written_off_on, amount_minor FROM write_offs WHERE organisation_id = $1 AND currency = $2 AND written_off_on <= $3) s
       JOIN invoices i ON i.organisation_id = $1 AND i.id = s.invoice_id
      GROUP BY 1, 2`,
    [orgId, cur, today],
  );
  const collected = await q.query<{ m: string; amount: bigint }>(
    `SELECT to_char(payment_date, 'YYYY-MM') AS m, sum(amount_minor) AS amount FROM payments
      WHERE organisation_id = $1 AND currency = $2 AND payment_date >= $3 AND payment_date <= $4 GROUP BY 1`,
    [orgId, cur, first13, today],
  );
  const months: string[] = [];
  for (let back = 12; back >= 0; back--) months.push(ym(addMonths(today, -back)));
  const salesBy = new Map<string, bigint>();
  for (const s of sales) salesBy.set(s.m, (salesBy.get(s.m) ?? 0n) + s.amount);
  const collectedBy = new Map(collected.map((c) => [c.m, c.amount]));
  const balanceAt = (m: string) => {
    let ar = 0n;
    let od = 0n;
    for (const s of sales) {
      if (s.m <= m) ar += s.amount;
      // Due by the end of that month (an invoice due on the month's last day counts as overdue).
      if (s.m <= m && s.due_m <= m) od += s.amount;
    }
    for (const s of settled) {
      if (s.m <= m) ar -= s.amount;
      if (s.m <= m && s.due_m <= m) od -= s.amount;
    }
    return { ar, od };
  };
  const trends = months.map((m) => {
    const b = m === ym(today) ? { ar: total, od: overdue } : balanceAt(m);
    return {
      month: m,
      salesMinor: String(salesBy.get(m) ?? 0n),
      collectedMinor: String(collectedBy.get(m) ?? 0n),
      receivablesMinor: String(b.ar),
      overdueMinor: String(b.od),
    };
  });

  const penalties = await accruedPenalties(q, orgId, cur, today);

  // Expected cash-in, week by week from this week's Monday: open amounts falling due (not yet
  // overdue, not covered by a promise) and open promises.
  const monday = addDays(today, -(dayOfWeek(today) - 1));
  const weeks = 6;
  const horizon = addDays(monday, weeks * 7);
  const dueRows = await q.query<{ w: number; amount: bigint }>(
    `SELECT (i.due_date - $3::date) / 7 AS w, sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor) AS amount
       FROM invoices i
      WHERE i.organisation_id = $1 AND i.currency = $2 AND i.due_date >= $4 AND i.due_date < $5
        AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
        AND NOT EXISTS (SELECT 1 FROM promises p WHERE p.organisation_id = $1 AND p.status = 'open' AND i.id = ANY(p.invoice_ids))
      GROUP BY 1`,
    [orgId, cur, monday, today, horizon],
  );
  const promiseRows = await q.query<{ w: number; amount: bigint }>(
    `SELECT (greatest(promised_on, $4::date) - $3::date) / 7 AS w, sum(amount_minor) AS amount FROM promises
      WHERE organisation_id = $1 AND currency = $2 AND status = 'open' AND promised_on < $5 GROUP BY 1`,
    [orgId, cur, monday, today, horizon],
  );
  const expected = Array.from({ length: weeks }, (_, w) => ({
    weekStart: addDays(monday, w * 7),
    dueMinor: String(dueRows.find((r) => Number(r.w) === w)?.amount ?? 0n),
    promisedMinor: String(promiseRows.find((r) => Number(r.w) === w)?.amount ?? 0n),
  }));

  // Only what was sent counts; messages exported by a local channel and not confirmed sent are
  // counted apart (the debtor may not have them).
  const stepRows = await q.query<{ step_key: string; channel: string; template: string; invoices: bigint; paid: bigint; exported: bigint }>(
    `SELECT sr.step_key, a.channel, a.template, count(*) FILTER (WHERE a.status = 'sent') AS invoices,
            count(*) FILTER (WHERE a.status = 'exported') AS exported,
            count(*) FILTER (WHERE a.status = 'sent' AND i.allocated_minor + i.written_off_minor >= i.amount_incl_tax_minor
              AND (SELECT max(x.d) FROM (SELECT allocated_on AS d FROM allocations al WHERE al.organisation_id = i.organisation_id AND al.invoice_id = i.id
                                          UNION ALL SELECT written_off_on FROM write_offs w WHERE w.organisation_id = i.organisation_id AND w.invoice_id = i.id) x)
                  BETWEEN coalesce((a.sent_at AT TIME ZONE $3)::date, a.planned_on) AND coalesce((a.sent_at AT TIME ZONE $3)::date, a.planned_on) + 7) AS paid
       FROM step_records sr
       JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
       JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
      WHERE sr.organisation_id = $1 AND sr.outcome = 'planned' AND a.status IN ('sent', 'exported') AND a.planned_on > $2
      GROUP BY 1, 2, 3`,
    [orgId, addMonths(today, -12), org.timeZone],
  );
  const steps = stepRows
    .map((r) => ({
      stepKey: r.step_key,
      channel: r.channel,
      template: r.template,
      actions: Number(r.invoices),
      exported: Number(r.exported),
      paidWithin7: Number(r.paid),
      share: ratio1(r.paid, r.invoices, 100n),
    }))
    .sort((a, b) => Number(a.stepKey.split(':')[0]) - Number(b.stepKey.split(':')[0]) || a.channel.localeCompare(b.channel));

  const hold = await staleBankGuard(q, orgId, today, org.timeZone);
  return {
    asOf: today,
    currency: cur,
    computedAt: now.toISOString(),
    totals: {
      receivablesMinor: String(total),
      overdueMinor: String(overdue),
      notDueMinor: String(k.currentMinor),
      disputedMinor: String(k.aging.disputed.amountMinor),
      unallocatedMinor: String(k.aging.unallocatedMinor),
      overdueShare: k.overdueSharePercent,
    },
    dso: k.dso.days,
    dsoExhausted: k.dso.exhausted,
    bestPossibleDso: k.bestPossibleDso,
    add: k.averageDaysDelinquent,
    cei: k.cei.percent,
    averageDaysToPay: k.averageDaysToPay,
    penalties,
    aging: AGING_BUCKETS.map((b) => ({ bucket: b, amountMinor: String(k.aging.buckets[b].amountMinor), count: k.aging.buckets[b].count })),
    trends,
    cashCollectedThisMonthMinor: String(collectedBy.get(ym(today)) ?? 0n),
    expected,
    steps,
    bank: { held: hold.held, message: hold.message, lastImportOn: hold.lastImportOn },
    conventions: { ceiMonths: k.cei.months, adpMonths: 12 },
    overdueParties: await overdueParties(q, orgId, today),
  };
}

/** Late-payment interest and recovery indemnities accrued today on every overdue open invoice. */
async function accruedPenalties(q: Queryable, orgId: string, currency: string, today: CalendarDate): Promise<DashboardPayload['penalties']> {
  const tables = await rates(q);
  const creditor = await creditorTerms(q, orgId);
  const rows = await q.query<{ id: bigint; kind: 'business' | 'consumer'; country: string; due_date: CalendarDate; amount: bigint; pays: string | null }>(
    `SELECT i.id, c.kind, c.country, i.due_date, i.amount_incl_tax_minor AS amount,
            (SELECT string_agg(x.d || '=' || x.a, ',') FROM (
               SELECT allocated_on::text AS d, amount_minor::text AS a FROM allocations al WHERE al.organisation_id = i.organisation_id AND al.invoice_id = i.id AND i.allocated_minor > 0
               UNION ALL SELECT written_off_on::text, amount_minor::text FROM write_offs w WHERE w.organisation_id = i.organisation_id AND w.invoice_id = i.id AND i.written_off_minor > 0) x) AS pays
       FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
      WHERE i.organisation_id = $1 AND i.currency = $2 AND i.due_date < $3 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor`,
    [orgId, currency, today],
  );
  let interest = 0n;
  let indemnity = 0n;
  const provisional = new ProvisionalRates();
  for (const r of rows) {
    const payments = r.pays
      ? r.pays.split(',').map((p) => {
          const [d, a] = p.split('=') as [string, string];
          return { date: d as CalendarDate, amountMinor: BigInt(a) };
        })
      : [];
    const fees = lateFeesUnder(regimeBetween(creditor, r), { currency, amountMinor: r.amount, dueDate: r.due_date, until: today, payments }, tables);
    interest += fees.interestMinor;
    indemnity += fees.indemnityMinor;
    provisional.add(fees);
  }
  return { interestMinor: String(interest), indemnityMinor: String(indemnity), invoices: rows.length, provisionalRates: provisional.list() };
}

// ------------------------------------------------------------------ messages as they went out

export interface ParsedEml {
  subject: string;
  from: string;
  to: string;
  date: string;
  html: string | null;
  text: string | null;
  attachments: { filename: string; contentType: string; size: number }[];
}

/** RFC 2047 encoded words in headers ("=?UTF-8?Q?Relance_n=C2=B01?="). */
function decodeWords(s: string): string {
  return s.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=(\s+(?==\?))?/g, (_m, charset: string, enc: string, text: string) => {
    const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' '));
    return new TextDecoder(charset.toLowerCase() === 'utf-8' ? 'utf-8' : 'latin1').decode(bytes);
  });
}

function qpBytes(s: string): Buffer {
  const out: number[] = [];
  const src = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(ch, 'latin1'));
  }
  return Buffer.from(out);
}

function splitHead(part: string): { headers: Map<string, string>; body: string } {
  const idx = part.search(/\r?\n\r?\n/);
  const head = idx < 0 ? part : part.slice(0, idx);
  const body = idx < 0 ? '' : part.slice(idx).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const c = line.indexOf(':');
    if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return { headers, body };
}

const param = (h: string | undefined, name: string) => {
  const m = new RegExp(`${name}\\*?=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(h ?? '');
  return m ? (m[1] ?? m[2] ?? '') : null;
};

/**
 * Reads back a stored .eml (as src/documents/email.ts wrote it) to show it: headers, the HTML and text parts,
 * the attachments' names. The raw bytes stay the proof; this is only their reading.
 */
export function parseEml(raw: Buffer): ParsedEml {
  const out: ParsedEml = { subject: '', from: '', to: '', date: '', html: null, text: null, attachments: [] };
  const walk = (part: string, top: boolean) => {
    const { headers, body } = splitHead(part);
    if (top) {
      out.subject = decodeWords(headers.get('subject') ?? '');
      out.from = decodeWords(headers.get('from') ?? '');
      out.to = decodeWords(headers.get('to') ?? '');
      out.date = headers.get('date') ?? '';
    }
    const type = (headers.get('content-type') ?? 'text/plain').toLowerCase();
    if (type.startsWith('multipart/')) {
      const boundary = param(headers.get('content-type'), 'boundary');
      if (!boundary) return;
      const pieces = body.split(`--${boundary}`);
      for (const p of pieces.slice(1)) {
        if (p.startsWith('--')) break;
        walk(p.replace(/^\r?\n/, ''), false);
      }
      return;
    }
    const enc = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
    const bytes = enc === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64') : enc === 'quoted-printable' ? qpBytes(body) : Buffer.from(body, 'latin1');
    const disposition = headers.get('content-disposition') ?? '';
    const filename = param(disposition, 'filename') ?? param(headers.get('content-type'), 'name');
    if (filename || disposition.toLowerCase().startsWith('attachment')) {
      out.attachments.push({ filename: decodeWords(filename ?? 'attachment'), contentType: type.split(';')[0]!, size: bytes.length });
      return;
    }
    const charset = (param(headers.get('content-type'), 'charset') ?? 'utf-8').toLowerCase();
    const text = new TextDecoder(charset === 'utf-8' || charset === 'utf8' ? 'utf-8' : 'latin1').decode(bytes);
    if (type.startsWith('text/html') && out.html === null) out.html = text;
    else if (type.startsWith('text/plain') && out.text === null) out.text = text;
  };
  walk(raw.toString('latin1'), true);
  return out;
}

// ------------------------------------------------------------------ routes


/** Lets the requests waiting on the event loop run (between synchronous rendering steps). */
const yieldToOthers = () => new Promise<void>((r) => setImmediate(r));

let templateQueue: Promise<unknown> = Promise.resolve();
/** Template previews one after the other: their CPU work never piles up on the event loop at once. */
function oneTemplateAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = templateQueue.then(yieldToOthers).then(fn);
  templateQueue = run.catch(() => {});
  return run;
}

async function uploaded(c: C): Promise<{ bytes: Buffer; filename: string; fields: Record<string, string> }> {
  const form = await c.req.formData().catch(() => {
    throw validation(E('multipart'), { field: 'file' });
  });
  const file = form.get('file');
  if (!file || typeof file === 'string') throw validation(E('no_file'), { field: 'file' });
  // Its size was bounded while it streamed in (src/http/limits.ts: RELANCE_MAX_UPLOAD_BYTES).
  const fields: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === 'string') fields[k] = v;
  return { bytes: Buffer.from(await file.arrayBuffer()), filename: file.name || 'upload', fields };
}

function download(bytes: Uint8Array, contentType: string, filename: string, inline = false): Response {
  return new Response(new Uint8Array(bytes), {
    headers: {
      'content-type': contentType,
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'x-content-type-options': 'nosniff',
      // A stored message opened in the browser runs no script and loads nothing (PDFs excepted:
      // the browser's viewer refuses to show one in a sandboxed document).
      ...(contentType === 'application/pdf' ? {} : { 'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox" }),
    },
  });
}

export function registerWebRoutes(app: Hono, ctx: WebContext): void {
  const db = ctx.db;
  const r = (path: string) => `/api/app${path}`;

  // ---------------------------------------------------------------- session
  // Sign-in, sign-out and the session cookie are the API's (/api/auth/*, src/http/auth.ts); every
  // /api/app route needs that session (or an API key, read as the role its scope allows).
  app.use('/api/app/*', async (c, next) => {
    const found = await principalOf(c, ctx);
    if (!found) throw new RelanceError(ERROR_CODES.UNAUTHENTICATED, E('sign_in'));
    const role: Role = found.role ?? (found.scope === 'admin' ? 'admin' : found.scope === 'write' ? 'collector' : 'viewer');
    c.set('webPrincipal' as never, {
      orgId: found.organisationId,
      userId: found.userId,
      email: found.email ?? `api-key:${found.apiKeyId}`,
      role,
    } satisfies WebPrincipal as never);
    return next();
  });
  app.get(r('/me'), async (c) => {
    const p = allow(c, 'read');
    const { org, today } = await orgToday(ctx, p.orgId);
    const [u] = p.userId ? await db.query<{ name: string | null; language: Lang }>('SELECT name, language FROM users WHERE id = $1', [p.userId]) : [];
    return json({
      user: { id: p.userId, email: p.email, name: u?.name ?? null, language: u?.language ?? org.language, role: p.role },
      organisation: { id: org.id, legalName: org.legalName, currency: org.currency, timeZone: org.timeZone },
      today,
    });
  });
  app.post(r('/me/language'), async (c) => {
    const p = allow(c, 'read');
    const b = await body<{ language?: string }>(c);
    if (!p.userId) throw validation(E('key_language'), { field: 'language' });
    await db.query('UPDATE users SET language = $2 WHERE id = $1', [p.userId, langParam(b.language)]);
    return json({ ok: true });
  });

  // ---------------------------------------------------------------- dashboard
  app.get(r('/dashboard'), async (c) => {
    const p = allow(c, 'read');
    const { today } = await orgToday(ctx, p.orgId);
    // The customers from the snapshot, the rate tables read now: an operator who adds the missing rate sees the warning go.
    const { overdueParties: parties, ...dashboard } = await readDashboard(ctx, p.orgId, { fresh: c.req.query('fresh') === '1' });
    return json({ ...dashboard, rateWarnings: await rateWarnings(db, p.orgId, today, await loadRateTables(db), parties) });
  });

  // ---------------------------------------------------------------- today's worklist
  app.get(r('/today'), async (c) => {
    const p = allow(c, 'read');
    const { org, today } = await orgToday(ctx, p.orgId);
    const approvals = await listOutbox(db, p.orgId, { status: ['awaiting_approval'], limit: 500 });
    const problems = await listOutbox(db, p.orgId, { status: ['failed', 'uncertain'], limit: 200 });
    const amounts = await actionAmounts(db, p.orgId, [...approvals, ...problems].map((a) => a.id));
    const calls = await db.query<Record<string, unknown>>(
      `SELECT t.id, t.action_id, t.customer_id, c.legal_name, t.kind, t.script, t.phone_numbers, t.invoices, t.due_on, t.attempts, t.assigned_to
         FROM call_tasks t JOIN customers c ON c.organisation_id = t.organisation_id AND c.id = t.customer_id
        WHERE t.organisation_id = $1 AND t.status = 'open' AND t.due_on <= $2 ORDER BY t.due_on, t.id LIMIT 300`,
      [p.orgId, today],
    );
    const tasks = await db.query<Record<string, unknown>>(
      `SELECT t.id, t.kind, t.customer_id, c.legal_name, t.source_id, t.due_on, t.note,
              p.promised_on, p.amount_minor, p.currency
         FROM tasks t JOIN customers c ON c.organisation_id = t.organisation_id AND c.id = t.customer_id
         LEFT JOIN promises p ON t.kind = 'broken_promise' AND p.organisation_id = t.organisation_id AND p.id = t.source_id
        WHERE t.organisation_id = $1 AND t.status = 'open' ORDER BY t.due_on DESC, t.id DESC LIMIT 300`,
      [p.orgId],
    );
    const disputes = await db.query<Record<string, unknown>>(
      `SELECT d.id, d.customer_id, c.legal_name, d.invoice_ids, d.reason, d.opened_on,
              (SELECT string_agg(i.number, ', ' ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS number
         FROM disputes d JOIN customers c ON c.organisation_id = d.organisation_id AND c.id = d.customer_id
        WHERE d.organisation_id = $1 AND d.resolved_on IS NULL AND d.opened_on >= $2 ORDER BY d.opened_on DESC, d.id DESC LIMIT 200`,
      [p.orgId, addDays(today, -14)],
    );
    const followups = await db.query<Record<string, unknown>>(
      `SELECT f.id, f.kind, f.customer_id, c.legal_name, f.note, f.created_at
         FROM call_followups f JOIN customers c ON c.organisation_id = f.organisation_id AND c.id = f.customer_id
        WHERE f.organisation_id = $1 AND f.status = 'open' ORDER BY f.created_at DESC LIMIT 200`,
      [p.orgId],
    );
    const bank = await staleBankGuard(db, p.orgId, today, org.timeZone);
    // The kinds of customer overdue from today's dashboard snapshot when there is one (a scan of every customer otherwise).
    const [snapshot] = await db.query<{ parties: OverdueParty[] | string | null }>(
      "SELECT payload->'overdueParties' AS parties FROM dashboard_snapshots WHERE organisation_id = $1 AND as_of = $2",
      [p.orgId, today],
    );
    const parties = typeof snapshot?.parties === 'string' ? (JSON.parse(snapshot.parties) as OverdueParty[]) : (snapshot?.parties ?? undefined);
    const warnings = await rateWarnings(db, p.orgId, today, await loadRateTables(db), parties);
    const creditAlerts = await openCreditAlerts(db, p.orgId);
    // What each action may bring in: the expected recovery of the invoices it chases (issue 22).
    const expected = await expectedByAction(db, p.orgId, [...approvals.map((a) => a.id), ...calls.map((t) => t.action_id as bigint)], today);
    const byExpected = c.req.query('sort') === 'expected';
    const expectedOf = (id: unknown) => expected.get(String(id)) ?? 0n;
    const ranked = <T>(xs: T[], id: (x: T) => unknown) => (byExpected ? [...xs].sort((a, b) => (expectedOf(id(b)) > expectedOf(id(a)) ? 1 : expectedOf(id(b)) < expectedOf(id(a)) ? -1 : 0)) : xs);
    const withAmount = (a: OutboxRow) => ({
      ...a,
      openMinor: String(amounts.get(String(a.id))?.open ?? 0n),
      expectedMinor: String(expectedOf(a.id)),
      currency: amounts.get(String(a.id))?.currency ?? org.currency,
    });
    return json({
      today,
      bank,
      rateWarnings: warnings,
      sort: byExpected ? 'expected' : 'planned',
      approvals: ranked(approvals, (a) => a.id).map(withAmount),
      problems: problems.map(withAmount),
      calls: ranked(calls, (t) => t.action_id).map((t) => ({
        expectedMinor: String(expectedOf(t.action_id)),
        id: String(t.id),
        actionId: String(t.action_id),
        customerId: String(t.customer_id),
        customerName: t.legal_name,
        kind: t.kind,
        script: t.script,
        phones: t.phone_numbers,
        invoices: typeof t.invoices === 'string' ? JSON.parse(t.invoices) : t.invoices,
        dueOn: t.due_on,
        attempts: Number(t.attempts),
        assignedTo: t.assigned_to,
      })),
      brokenPromises: tasks.filter((t) => t.kind === 'broken_promise').map(taskJson),
      missedInstalments: tasks.filter((t) => t.kind === 'missed_instalment').map(taskJson),
      // Escalation deadlines (a claim to declare, a credit insurer to notify) are shown with the other tasks.
      otherTasks: tasks.filter((t) => t.kind !== 'broken_promise' && t.kind !== 'missed_instalment').map(taskJson),
      disputes: disputes.map((d) => ({ id: String(d.id), customerId: String(d.customer_id), customerName: d.legal_name, invoiceIds: d.invoice_ids === null ? null : (d.invoice_ids as unknown[]).map(String), invoice: d.number, reason: d.reason, openedOn: d.opened_on })),
      creditAlerts: creditAlerts.map((a) => ({
        id: String(a.id),
        customerId: String(a.customerId),
        customerName: a.customerName,
        raisedOn: a.raisedOn,
        exposureMinor: String(a.exposureNowMinor),
        limitMinor: String(a.limitMinor),
        currency: org.currency,
      })),
      followups: followups.map((f) => ({ id: String(f.id), kind: f.kind, customerId: String(f.customer_id), customerName: f.legal_name, note: f.note, createdAt: f.created_at })),
    });
  });

  // ---------------------------------------------------------------- actions: preview, approve, cancel
  app.get(r('/actions/:id/preview'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const rendered = await previewAction(ctx, p.orgId, id);
    if ('error' in rendered) return json(rendered);
    const x = rendered.r;
    const base = { channel: x.channel, subject: x.subject, invoices: x.invoices, recipients: x.recipients };
    switch (x.channel) {
      case 'email': {
        const eml = parseEml(x.raw);
        return json({ ...base, from: eml.from, to: eml.to, html: eml.html, text: eml.text, attachments: eml.attachments, rawUrl: r(`/actions/${id}/preview.eml`) });
      }
      case 'sms':
        return json({ ...base, to: x.to, text: x.text, segments: x.segments });
      case 'letter':
      case 'registered_letter':
        return json({ ...base, address: x.address, pdfUrl: r(`/actions/${id}/preview.pdf`) });
      default:
        return json({ ...base, text: x.script, phones: x.phones });
    }
  });
  app.get(r('/actions/:id/preview.pdf'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const rendered = await previewAction(ctx, p.orgId, id);
    if ('error' in rendered) throw validation(rendered.error, { field: 'action' });
    if (rendered.r.channel !== 'letter' && rendered.r.channel !== 'registered_letter') throw validation(E('not_letter'), { field: 'action' });
    return download(rendered.r.pdf, 'application/pdf', `action-${id}.pdf`, true);
  });
  app.get(r('/actions/:id/preview.eml'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const rendered = await previewAction(ctx, p.orgId, id);
    if ('error' in rendered) throw validation(rendered.error, { field: 'action' });
    if (rendered.r.channel !== 'email') throw validation(E('not_email'), { field: 'action' });
    return download(rendered.r.raw, 'message/rfc822', `action-${id}.eml`);
  });
  app.post(r('/actions/approve'), async (c) => {
    const p = allow(c, 'write');
    const b = await body<{ ids?: unknown[] }>(c);
    const ids = idList(b.ids, 'ids');
    const done = await db.tx((q) => approveActions(q, p.orgId, { ids }, p.email, ctx.now()));
    await markDashboardStale(db, p.orgId);
    return json({ approved: done.map(String) });
  });
  app.post(r('/actions/cancel'), async (c) => {
    const p = allow(c, 'write');
    const b = await body<{ ids?: unknown[]; reason?: string }>(c);
    const ids = idList(b.ids, 'ids');
    const done = await db.tx((q) => cancelActions(q, p.orgId, { ids }, p.email, String(b.reason ?? ''), ctx.now()));
    await markDashboardStale(db, p.orgId);
    return json({ cancelled: done.map(String) });
  });
  app.post(r('/actions/resolve'), async (c) => {
    const p = allow(c, 'write');
    const b = await body<{ ids?: unknown[]; as?: string }>(c);
    if (b.as !== 'sent' && b.as !== 'not_sent') throw validation(E('as'), { field: 'as' });
    const done = await db.tx((q) => resolveUncertain(q, p.orgId, idList(b.ids, 'ids'), b.as as 'sent' | 'not_sent', p.email, ctx.now()));
    return json({ resolved: done.map(String) });
  });
  app.post(r('/actions/confirm'), async (c) => {
    const p = allow(c, 'write');
    const b = await body<{ ids?: unknown[] }>(c);
    const done = await db.tx((q) => confirmSent(q, p.orgId, { ids: idList(b.ids, 'ids') }, p.email, ctx.now()));
    await markDashboardStale(db, p.orgId);
    return json({ confirmed: done.map(String) });
  });

  // ---------------------------------------------------------------- outbox and proof
  app.get(r('/outbox'), async (c) => {
    const p = allow(c, 'read');
    const limit = intQuery(c, 'limit', 200, 1, 500);
    const channel = c.req.query('channel');
    const status = c.req.query('status');
    const rows = await db.query<Record<string, unknown>>(
      `SELECT d.id, d.action_id, d.customer_id, c.legal_name, d.channel, d.provider, d.recipients, d.subject, d.content_type,
              length(d.content) AS bytes, d.handed_over_at, a.template, a.status, a.sent_at,
              (SELECT array_agg(i.number) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS invoices,
              -- Paid since it was written: an exported message is not to be sent any more.
              NOT EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)
                            AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor) AS settled
         FROM deliveries d
         JOIN customers c ON c.organisation_id = d.organisation_id AND c.id = d.customer_id
         JOIN actions a ON a.organisation_id = d.organisation_id AND a.id = d.action_id
        WHERE d.organisation_id = $1 AND ($2::text IS NULL OR d.channel = $2) AND ($4::text IS NULL OR a.status = $4)
        ORDER BY d.handed_over_at DESC, d.id DESC LIMIT $3`,
      [p.orgId, channel || null, limit, status || null],
    );
    const [counts] = await db.query<{ exported: bigint }>(`SELECT count(*) AS exported FROM actions WHERE organisation_id = $1 AND status = 'exported'`, [p.orgId]);
    const settings = await loadDeliverySettings(db, p.orgId);
    return json({
      smtpConfigured: settings.smtp !== null,
      exported: Number(counts?.exported ?? 0),
      rows: rows.map((d) => ({
        id: String(d.id),
        actionId: String(d.action_id),
        customerId: String(d.customer_id),
        customerName: d.legal_name,
        channel: d.channel,
        provider: d.provider,
        local: String(d.provider).startsWith('local') || d.provider === 'print-batch',
        recipients: d.recipients,
        subject: d.subject,
        contentType: d.content_type,
        bytes: Number(d.bytes),
        handedOverAt: d.handed_over_at,
        sentAt: d.sent_at ?? null,
        template: d.template,
        status: d.status,
        settled: Boolean(d.settled),
        invoices: d.invoices ?? [],
      })),
    });
  });
  app.get(r('/deliveries/:id'), async (c) => {
    const p = allow(c, 'read');
    const d = await deliveryRow(db, p.orgId, idParam(c, 'id'));
    const events = await db.query<Record<string, unknown>>(
      'SELECT kind, at, provider_message_id, detail FROM delivery_events WHERE organisation_id = $1 AND action_id = $2 ORDER BY at, id',
      [p.orgId, d.action_id],
    );
    const base = { id: String(d.id), actionId: String(d.action_id), channel: d.channel, provider: d.provider, subject: d.subject, contentType: d.content_type, sha256: d.sha256, handedOverAt: d.handed_over_at, recipients: d.recipients, events, rawUrl: r(`/deliveries/${d.id}/raw`) };
    const content = Buffer.from(d.content as Uint8Array);
    if (String(d.content_type).startsWith('message/rfc822')) return json({ ...base, email: parseEml(content) });
    if (String(d.content_type).startsWith('text/')) return json({ ...base, text: content.toString('utf8') });
    return json(base);
  });
  app.get(r('/deliveries/:id/raw'), async (c) => {
    const p = allow(c, 'read');
    const d = await deliveryRow(db, p.orgId, idParam(c, 'id'));
    const type = String(d.content_type);
    const ext = type.includes('pdf') ? 'pdf' : type.includes('rfc822') ? 'eml' : 'txt';
    return download(d.content as Uint8Array, type, `delivery-${d.id}.${ext}`, ext === 'pdf');
  });

  // ---------------------------------------------------------------- customers
  app.get(r('/customers'), async (c) => {
    const p = allow(c, 'read');
    const { today } = await orgToday(ctx, p.orgId);
    const search = (c.req.query('q') ?? '').trim().slice(0, 100);
    const sort = c.req.query('sort') ?? 'name';
    const dir = c.req.query('dir') === 'desc' ? 'DESC' : 'ASC';
    const filter = c.req.query('filter') ?? '';
    const size = intQuery(c, 'size', 50, 1, 200);
    const page = intQuery(c, 'page', 0, 0, 1_000_000);
    const where = ['c.organisation_id = $1'];
    const params: unknown[] = [p.orgId];
    if (search) {
      // Each typed word must begin a word of the name, SIREN or customer code (accents ignored):
      // a regular expression the trigram index answers (migration 0014). An exact invoice number
      // finds its customer through the invoices' unique index. Never a scan of every customer.
      const words = foldForSearch(search).split(/[^a-z0-9]+/).filter(Boolean).slice(0, 6);
      const conds = words.map((w) => {
        params.push(`(^|[^a-z0-9])${w}`);
        return `customer_search_text(k.legal_name, k.siren, k.external_id) ~ $${params.length}`;
      });
      params.push(search);
      const byInvoice = `SELECT customer_id FROM invoices WHERE organisation_id = $1 AND number = $${params.length}`;
      const byWords = conds.length ? `SELECT k.id FROM customers k WHERE k.organisation_id = $1 AND ${conds.join(' AND ')} UNION ` : '';
      where.push(`c.id IN (${byWords}${byInvoice})`);
    }
    if (filter === 'overdue') where.push('s.overdue_minor > 0');
    if (filter === 'open') where.push('s.open_minor > 0');
    if (filter === 'disputed') where.push('EXISTS (SELECT 1 FROM disputes d WHERE d.organisation_id = c.organisation_id AND d.customer_id = c.id AND d.resolved_on IS NULL)');
    if (filter === 'paused') where.push(`EXISTS (SELECT 1 FROM pauses pa WHERE pa.organisation_id = c.organisation_id AND pa.customer_id = c.id AND ${ACTIVE_PAUSE('pa', `'${today}'::date`)})`);
    const bySnapshot = sort === 'balance' || sort === 'overdue';
    const order = sort === 'balance' ? `s.open_minor ${dir}, s.customer_id` : sort === 'overdue' ? `s.overdue_minor ${dir}, s.customer_id` : sort === 'id' ? `c.id ${dir}` : `lower(c.legal_name) ${dir}, c.id`;
    // Sorted by amount, the list walks the snapshot's index (every customer has a row there after
    // each refresh; one created since appears at the next refresh, a few minutes at most).
    const from = bySnapshot
      ? `customer_balance_snapshots s JOIN customers c ON c.organisation_id = s.organisation_id AND c.id = s.customer_id WHERE s.organisation_id = $1 AND ${where.join(' AND ')}`
      : `customers c LEFT JOIN customer_balance_snapshots s ON s.organisation_id = c.organisation_id AND s.customer_id = c.id WHERE ${where.join(' AND ')}`;
    if (bySnapshot && !(await db.query('SELECT 1 FROM dashboard_snapshots WHERE organisation_id = $1', [p.orgId])).length) await refreshDashboard(ctx, p.orgId);
    const rows = await db.query<Record<string, unknown>>(
      `SELECT c.id, c.legal_name, c.external_id, c.kind, c.siren, c.tags, c.segment FROM ${from} ORDER BY ${order} LIMIT ${size} OFFSET ${page * size}`,
      params,
    );
    // The total needs the snapshot only when a filter reads it; otherwise counting customers is enough.
    const needsSnapshot = filter === 'open' || filter === 'overdue';
    const countFrom = needsSnapshot
      ? `customer_balance_snapshots s JOIN customers c ON c.organisation_id = s.organisation_id AND c.id = s.customer_id WHERE s.organisation_id = $1 AND ${where.join(' AND ')}`
      : `customers c WHERE ${where.join(' AND ')}`;
    const [count] = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${countFrom}`, params);
    refreshIfStale(ctx, p.orgId);
    const ids = rows.map((x) => String(x.id));
    // The rows shown carry their live balances (the snapshot only orders them).
    const live = ids.length
      ? await db.query<{ customer_id: bigint; open: bigint; overdue: bigint; oldest: CalendarDate | null; currency: string; n: bigint }>(
          `SELECT customer_id, sum(amount_incl_tax_minor - allocated_minor - written_off_minor) AS open,
                  coalesce(sum(amount_incl_tax_minor - allocated_minor - written_off_minor) FILTER (WHERE due_date < $3), 0) AS overdue,
                  min(due_date) FILTER (WHERE due_date < $3) AS oldest, min(currency) AS currency, count(*) AS n
             FROM invoices WHERE organisation_id = $1 AND customer_id = ANY($2::bigint[]) AND allocated_minor + written_off_minor < amount_incl_tax_minor
            GROUP BY customer_id`,
          [p.orgId, pgArray(ids), today],
        )
      : [];
    const byId = new Map(live.map((l) => [String(l.customer_id), l]));
    return json({
      total: Number(count!.n),
      page,
      size,
      rows: rows.map((x) => {
        const l = byId.get(String(x.id));
        return {
          id: String(x.id),
          name: x.legal_name,
          externalId: x.external_id,
          kind: x.kind,
          siren: x.siren,
          tags: x.tags,
          segment: x.segment,
          openMinor: String(l?.open ?? 0n),
          overdueMinor: String(l?.overdue ?? 0n),
          openInvoices: Number(l?.n ?? 0n),
          daysPastDue: l?.oldest ? daysBetween(l.oldest, today) : 0,
          currency: l?.currency ?? null,
        };
      }),
    });
  });

  app.get(r('/customers/:id'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const { org, today } = await orgToday(ctx, p.orgId);
    const customer = await getCustomer(db, p.orgId, id);
    const ledger = await customerLedger(db, p.orgId, id, today);
    await db.tx((q) => ensureBuiltinScenarios(q, p.orgId, org.language));
    const calendar = await customerCalendar(db, p.orgId, id, today);
    const assignments = await loadAssignments(db, p.orgId);
    const exposure = await customerExposure(db, p.orgId, id);
    const scenario = resolveScenario(assignments, null, id, customer.tags, customer.segment, { overLimit: await hasOpenCreditAlert(db, p.orgId, id), riskClass: customer.riskClass });
    const pauses = await db.query<Record<string, unknown>>(
      `SELECT p.id, p.invoice_ids, p.reason, p.starts_on, p.ends_on, p.lifted_on, p.note, ${ACTIVE_PAUSE('p', '$3::date')} AS active,
              (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
         FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 ORDER BY p.starts_on DESC, p.id DESC`,
      [p.orgId, id, today],
    );
    const timeline = await customerTimeline(db, p.orgId, id);
    const [risk] = await computeRisk(db, p.orgId, today, [id]);
    return json({
      // Behaviour and risk score, the reasons said in both languages (the page shows the user's).
      risk: {
        score: risk!.score,
        level: risk!.level,
        reasons: risk!.reasons.map((x) => ({ key: x.key, points: x.points, fr: riskReasonText(x, 'fr'), en: riskReasonText(x, 'en') })),
        daysLate: risk!.behaviour.daysLate,
        paidAfterReminders: risk!.behaviour.paidAfterReminders,
        settledCount: risk!.behaviour.settledCount,
      },
      today,
      customer,
      currency: org.currency,
      balances: ledger.balances,
      openItems: ledger.openItems,
      calendar,
      scenario: { key: scenario.key, name: scenario.name, assigned: assignments.byCustomer.get(id) === scenario.id },
      // The credit policy as typed back in its form (percentages), and the exposure against the limit.
      credit: {
        creditLimitMinor: customer.creditLimitMinor === null ? null : String(customer.creditLimitMinor),
        paymentTermsDays: customer.paymentTermsDays,
        depositPercent: customer.depositBp === null ? null : formatPercent(customer.depositBp),
        earlyPaymentDiscount: customer.earlyDiscount ? { percent: formatPercent(customer.earlyDiscount.bp), withinDays: customer.earlyDiscount.withinDays } : null,
        riskClass: customer.riskClass,
        exposure: {
          openMinor: String(exposure.openMinor),
          ordersMinor: String(exposure.ordersMinor),
          exposureMinor: String(exposure.exposureMinor),
          headroomMinor: exposure.headroomMinor === null ? null : String(exposure.headroomMinor),
          overLimit: exposure.overLimit,
        },
      },
      scenarios: [...assignments.scenarios.values()].map((s) => ({ key: s.key, name: s.name })),
      // What each pause covers: its invoices (numbers), or the whole customer (invoices null).
      pauses: pauses.map((x) => ({
        id: String(x.id),
        invoiceIds: x.invoice_ids === null ? null : (x.invoice_ids as unknown[]).map(String),
        invoices: x.invoice_ids === null ? null : ((x.invoices as string[] | null) ?? []),
        reason: x.reason,
        startsOn: x.starts_on,
        endsOn: x.ends_on,
        liftedOn: x.lifted_on,
        note: x.note,
        active: Boolean(x.active),
      })),
      paused: pauses.some((x) => x.active && x.invoice_ids === null),
      timeline,
    });
  });

  const customerWrite = (path: string, fn: (q: Queryable, p: WebPrincipal, customerId: bigint, today: CalendarDate, b: Record<string, unknown>) => Promise<unknown>) =>
    app.post(r(`/customers/:id${path}`), async (c) => {
      const p = allow(c, 'write');
      const id = idParam(c, 'id');
      const { today } = await orgToday(ctx, p.orgId);
      const b = await body(c);
      await getCustomer(db, p.orgId, id);
      const out = await db.tx(async (q) => {
        const res = await fn(q, p, id, today, b);
        await markDashboardStale(q, p.orgId);
        return res;
      });
      return json({ ok: true, result: out });
    });

  customerWrite('/pause', (q, p, id, today, b) =>
    createPause(
      q,
      p.orgId,
      { customerId: id, ...coverageOf(b), reason: (b.reason as PauseReason) ?? 'manual_hold', startsOn: today, endsOn: b.until ? dateOf(b.until, 'until') : null, note: (b.note as string) ?? null },
      today,
    ),
  );
  customerWrite('/resume', async (q, p, id, today) => {
    const active = await q.query<{ id: bigint }>(
      `SELECT p.id FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 AND p.reason IN ('manual_hold', 'other', 'insolvency') AND ${ACTIVE_PAUSE('p', '$3::date')}`,
      [p.orgId, id, today],
    );
    for (const a of active) await liftPause(q, p.orgId, a.id, today);
    return { lifted: active.length };
  });
  customerWrite('/promise', (q, p, id, today, b) =>
    recordPromise(
      q,
      p.orgId,
      { customerId: id, ...coverageOf(b), promisedOn: dateOf(b.promisedOn, 'promisedOn'), amountMinor: minorOf(b.amountMinor, 'amountMinor') },
      today,
      acknowledgeOf(b),
    ),
  );
  customerWrite('/dispute', (q, p, id, today, b) => openDispute(q, p.orgId, { customerId: id, ...coverageOf(b), reason: String(b.reason ?? '') }, today, acknowledgeOf(b)));
  customerWrite('/payment-plan', (q, p, id, today, b) => {
    if (!Array.isArray(b.instalments)) throw validation(E('instalments_list'), { field: 'instalments' });
    return createPaymentPlan(
      q,
      p.orgId,
      {
        customerId: id,
        ...coverageOf(b),
        instalments: (b.instalments as Record<string, unknown>[]).map((x, i) => ({ dueDate: dateOf(x.dueDate, `instalments[${i}].dueDate`), amountMinor: minorOf(x.amountMinor, `instalments[${i}].amountMinor`) })),
      },
      today,
      acknowledgeOf(b),
    );
  });
  customerWrite('/scenario', async (q, p, id, today, b) => {
    await assignScenario(q, p.orgId, String(b.scenario ?? ''), { customerId: id });
    return replanAfterScenarioChange(q, p.orgId, today);
  });
  customerWrite('/credit-policy', async (q, p, id, today, b) => {
    const org = await getOrganisation(q, p.orgId);
    const patch: CustomerPatch = creditPolicyOf(
      {
        creditLimit: b.creditLimit === undefined ? undefined : b.creditLimit === null || b.creditLimit === '' ? null : String(b.creditLimit),
        depositPercent: b.depositPercent === undefined ? undefined : b.depositPercent === null || b.depositPercent === '' ? null : String(b.depositPercent),
        earlyPaymentDiscount:
          b.earlyPaymentDiscount === undefined
            ? undefined
            : b.earlyPaymentDiscount === null
              ? null
              : {
                  percent: String((b.earlyPaymentDiscount as Record<string, unknown>).percent ?? ''),
                  withinDays: wholeDays((b.earlyPaymentDiscount as Record<string, unknown>).withinDays, 'earlyPaymentDiscount.withinDays'),
                },
        riskClass: b.riskClass === undefined ? undefined : parseRiskClass(b.riskClass === null ? null : String(b.riskClass)),
      },
      org.currency,
    );
    if (b.paymentTermsDays !== undefined) patch.paymentTermsDays = wholeDays(b.paymentTermsDays, 'paymentTermsDays');
    await updateCustomer(q, p.orgId, id, patch);
    const raised = await checkCreditLimits(q, p.orgId, today, [id]);
    return { creditLimitExceeded: raised.length > 0 };
  });
  customerWrite('/notes', async (q, p, id, _today, b) => {
    const text = String(b.body ?? '').trim();
    if (!text) throw validation(E('empty_note'), { field: 'body' });
    const [row] = await q.query<{ id: bigint }>('INSERT INTO customer_notes (organisation_id, customer_id, invoice_id, body, author) VALUES ($1,$2,$3,$4,$5) RETURNING id', [
      p.orgId,
      id,
      b.invoiceId ? BigInt(String(b.invoiceId)) : null,
      text,
      p.email,
    ]);
    return { id: String(row!.id) };
  });
  app.post(r('/pauses/:id/lift'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    await db.tx(async (q) => {
      await liftPause(q, p.orgId, idParam(c, 'id'), today);
      await markDashboardStale(q, p.orgId);
    });
    return json({ ok: true });
  });
  app.post(r('/disputes/:id/resolve'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    const b = await body(c);
    const resolution = String(b.resolution ?? '').trim();
    if (!resolution) throw validation(E('resolution'), { field: 'resolution' });
    await db.tx(async (q) => {
      await resolveDispute(q, p.orgId, idParam(c, 'id'), resolution, today);
      await markDashboardStale(q, p.orgId);
    });
    return json({ ok: true });
  });

  app.get(r('/customers/:id/penalties'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const { today } = await orgToday(ctx, p.orgId);
    const lang = (c.req.query('lang') === 'en' ? 'en' : 'fr') as Lang;
    return json(await customerPenalties(db, p.orgId, id, today, lang));
  });
  app.get(r('/customers/:id/statement.pdf'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const { today } = await orgToday(ctx, p.orgId);
    const ledger = await customerLedger(db, p.orgId, id, today);
    if (ledger.openItems.length === 0) throw validation(E('no_open_invoice'), { field: 'customer' });
    const doc = await documentFromLedger(db, p.orgId, { invoiceNumber: ledger.openItems[0]!.number, key: 'statement', at: today, rates: await rates(db) });
    const composed = await composeDocument({ key: 'statement', channel: 'letter', input: doc.input, override: await loadTemplateOverrides(db, p.orgId), creationDate: ctx.now() });
    return download(composed.pdf!, 'application/pdf', `statement-${id}-${today}.pdf`, c.req.query('inline') === '1');
  });
  app.get(r('/customers/:id/evidence'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const { today } = await orgToday(ctx, p.orgId);
    // The delivery area's evidence file: every action, every message as it went out (with its
    // SHA-256, events and the letters themselves), the call outcomes, in one PDF.
    const { pdf } = await customerHistoryPdf(db, p.orgId, id, ctx.now());
    return download(pdf, 'application/pdf', `evidence-customer-${id}-${today}.pdf`);
  });

  // ---------------------------------------------------------------- invoices
  app.get(r('/invoices/search'), async (c) => {
    const p = allow(c, 'read');
    const q = (c.req.query('q') ?? '').trim().slice(0, 100);
    const customerId = c.req.query('customerId');
    const rows = await db.query<Record<string, unknown>>(
      `SELECT i.id, i.number, i.customer_id, c.legal_name, i.due_date, i.currency, i.amount_incl_tax_minor,
              i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor
         FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
        WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
          AND ($2::bigint IS NULL OR i.customer_id = $2)
          AND ($3 = '' OR i.number ILIKE '%' || $3 || '%' OR lower(c.legal_name) LIKE '%' || lower($3) || '%')
        ORDER BY i.due_date, i.id LIMIT 30`,
      [p.orgId, customerId && /^\d+$/.test(customerId) ? BigInt(customerId) : null, escapeLike(q)],
    );
    return json(rows.map((x) => ({ id: String(x.id), number: x.number, customerId: String(x.customer_id), customerName: x.legal_name, dueDate: x.due_date, currency: x.currency, amountMinor: String(x.amount_incl_tax_minor), openMinor: String(x.open_minor) })));
  });
  app.get(r('/invoices/:id'), async (c) => {
    const p = allow(c, 'read');
    const id = idParam(c, 'id');
    const { org, today } = await orgToday(ctx, p.orgId);
    const invoice = await getInvoice(db, p.orgId, id);
    const customer = await getCustomer(db, p.orgId, invoice.customerId);
    await db.tx((q) => ensureBuiltinScenarios(q, p.orgId, org.language));
    const calendar = (await customerCalendar(db, p.orgId, invoice.customerId, today)).filter((l) => l.invoice === invoice.number);
    const settlements = await db.query<Record<string, unknown>>(
      `SELECT 'allocation' AS kind, a.id, a.allocated_on AS on_day, a.amount_minor, a.payment_id, a.credit_note_id, p.method, p.reference, cn.number AS credit_note
         FROM allocations a LEFT JOIN payments p ON p.organisation_id = a.organisation_id AND p.id = a.payment_id
         LEFT JOIN credit_notes cn ON cn.organisation_id = a.organisation_id AND cn.id = a.credit_note_id
        WHERE a.organisation_id = $1 AND a.invoice_id = $2
       UNION ALL
       SELECT 'write_off', w.id, w.written_off_on, w.amount_minor, NULL, NULL, NULL, w.reason, NULL FROM write_offs w WHERE w.organisation_id = $1 AND w.invoice_id = $2
       ORDER BY 3, 2`,
      [p.orgId, id],
    );
    const deliveries = await db.query<Record<string, unknown>>(
      `SELECT d.id, d.channel, d.subject, d.content_type, d.handed_over_at, d.provider, a.template
         FROM deliveries d JOIN actions a ON a.organisation_id = d.organisation_id AND a.id = d.action_id
        WHERE d.organisation_id = $1 AND $2 = ANY(d.invoice_ids) ORDER BY d.handed_over_at`,
      [p.orgId, id],
    );
    const pauses = await db.query<Record<string, unknown>>(
      `SELECT p.id, p.reason, p.ends_on, p.invoice_ids,
              (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
         FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 AND ${COVERS('p', '$3::bigint')} AND ${ACTIVE_PAUSE('p', '$4::date')}
        ORDER BY p.starts_on, p.id`,
      [p.orgId, invoice.customerId, id, today],
    );
    const fees = invoice.openMinor > 0n && invoice.dueDate < today ? (await customerPenalties(db, p.orgId, invoice.customerId, today, 'fr')).invoices.find((x) => x.invoiceId === String(id)) ?? null : null;
    return json({
      today,
      invoice,
      customer: { id: String(customer.id), name: customer.legalName },
      daysPastDue: invoice.dueDate < today ? daysBetween(invoice.dueDate, today) : 0,
      calendar,
      settlements: settlements.map((x) => ({ kind: x.kind, id: String(x.id), on: x.on_day, amountMinor: String(x.amount_minor), paymentId: x.payment_id === null ? null : String(x.payment_id), method: x.method, reference: x.reference, creditNote: x.credit_note })),
      documents: [
        ...(invoice.pdfDocumentId !== null ? [{ kind: 'invoice_pdf', id: String(invoice.pdfDocumentId), url: r(`/documents/${invoice.pdfDocumentId}`) }] : []),
        ...deliveries.map((d) => ({ kind: 'delivery', id: String(d.id), channel: d.channel, subject: d.subject, template: d.template, at: d.handed_over_at, provider: d.provider, url: r(`/deliveries/${d.id}/raw`) })),
      ],
      fees,
      pauses: pauses.map((x) => ({ id: String(x.id), reason: x.reason, endsOn: x.ends_on, invoices: x.invoice_ids === null ? null : ((x.invoices as string[] | null) ?? []) })),
    });
  });
  app.get(r('/documents/:id'), async (c) => {
    const p = allow(c, 'read');
    const [d] = await db.query<{ filename: string; content_type: string; content: Uint8Array }>(
      'SELECT filename, content_type, content FROM documents WHERE organisation_id = $1 AND id = $2',
      [p.orgId, idParam(c, 'id')],
    );
    if (!d) throw notFound('document', c.req.param('id') ?? '');
    return download(d.content, d.content_type, d.filename, d.content_type === 'application/pdf');
  });

  // ---------------------------------------------------------------- scenarios
  app.get(r('/scenarios'), async (c) => {
    const p = allow(c, 'read');
    const { org } = await orgToday(ctx, p.orgId);
    await db.tx((q) => ensureBuiltinScenarios(q, p.orgId, org.language));
    const list = await listScenarios(db, p.orgId);
    const assigned = await db.query<{ scenario_id: bigint; n: bigint; tags: string[] | null }>(
      `SELECT scenario_id, count(customer_id) AS n, array_remove(array_agg(tag), NULL) AS tags FROM scenario_assignments WHERE organisation_id = $1 GROUP BY scenario_id`,
      [p.orgId],
    );
    return json({
      scenarios: list.map((x) => {
        const a = assigned.find((y) => y.scenario_id === x.id);
        return { ...x, id: String(x.id), customers: Number(a?.n ?? 0n), tags: a?.tags ?? [] };
      }),
      channels: SCENARIO_CHANNELS,
      tones: TONES,
      templates: TEMPLATE_KEYS,
      holidayCalendars: Object.entries(HOLIDAY_CALENDARS).map(([key, v]) => ({ key, name: v.name })),
    });
  });
  app.post(r('/scenarios/preview'), async (c) => {
    const p = allow(c, 'read');
    const { today } = await orgToday(ctx, p.orgId);
    const b = await body<{ definition?: ScenarioDefinition; sample?: Record<string, unknown> }>(c);
    const def = validateScenario(b.definition as ScenarioDefinition);
    const sample = b.sample ?? {};
    return json(simulateScenario(def, {
      dueDate: sample.dueDate ? dateOf(sample.dueDate, 'sample.dueDate') : today,
      amountMinor: sample.amountMinor ? minorOf(sample.amountMinor, 'sample.amountMinor') : 120_000n,
      kind: sample.kind === 'consumer' ? 'consumer' : 'business',
      hasEmail: sample.hasEmail !== false,
      hasPhone: sample.hasPhone !== false,
      hasPostalAddress: sample.hasPostalAddress !== false,
      paidOn: sample.paidOn ? dateOf(sample.paidOn, 'sample.paidOn') : null,
      firstRunOn: sample.firstRunOn ? dateOf(sample.firstRunOn, 'sample.firstRunOn') : null,
    }));
  });
  app.post(r('/scenarios'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ key?: string; name?: string; from?: string; definition?: ScenarioDefinition }>(c);
    const row = await db.tx(async (q) => createScenario(q, p.orgId, { key: String(b.key ?? ''), name: String(b.name ?? ''), from: b.from ? String(b.from) : null, definition: b.definition ?? null }));
    return json({ ...row, id: String(row.id) }, 201);
  });
  app.put(r('/scenarios/:key'), async (c) => {
    const p = allow(c, 'admin');
    const { today } = await orgToday(ctx, p.orgId);
    const b = await body<{ definition?: ScenarioDefinition; name?: string }>(c);
    const key = pathParam(c, 'key');
    const row = await db.tx(async (q) => {
      const updated = await updateScenario(q, p.orgId, key, b.definition as ScenarioDefinition);
      if (b.name?.trim()) await q.query('UPDATE scenarios SET name = $3 WHERE organisation_id = $1 AND key = $2', [p.orgId, key, b.name.trim()]);
      await replanAfterScenarioChange(q, p.orgId, today);
      return updated;
    });
    return json({ ...row, id: String(row.id) });
  });
  app.post(r('/scenarios/:key/default'), async (c) => {
    const p = allow(c, 'admin');
    const { today } = await orgToday(ctx, p.orgId);
    await db.tx(async (q) => {
      await assignScenario(q, p.orgId, pathParam(c, 'key'), { organisationDefault: true });
      await replanAfterScenarioChange(q, p.orgId, today);
    });
    return json({ ok: true });
  });

  // ---------------------------------------------------------------- templates
  app.get(r('/templates'), async (c) => {
    const p = allow(c, 'read');
    const rows = await db.query<{ key: string; lang: string; channel: string; part: string; updated_at: string }>(
      'SELECT key, lang, channel, part, updated_at FROM document_templates WHERE organisation_id = $1',
      [p.orgId],
    );
    return json({
      templates: TEMPLATE_KEYS.map((key) => ({
        key,
        label: TEMPLATE_LABELS[key],
        channels: TEMPLATES[key].channels,
        overridden: rows.filter((x) => x.key === key).map((x) => `${x.channel}/${x.lang}/${x.part}`),
      })),
      parts: CHANNEL_PARTS,
      variables: VARIABLES,
    });
  });
  app.get(r('/templates/:key/:channel/:lang'), async (c) => {
    const p = allow(c, 'read');
    const { key, channel } = assertTemplate(pathParam(c, 'key'), pathParam(c, 'channel'), { field: 'key' });
    const lang = langParam(pathParam(c, 'lang'));
    const rows = await db.query<{ part: string; source: string }>(
      'SELECT part, source FROM document_templates WHERE organisation_id = $1 AND key = $2 AND lang = $3 AND channel = $4',
      [p.orgId, key, lang, channel],
    );
    const parts: Record<string, { source: string; builtIn: string; overridden: boolean }> = {};
    for (const part of CHANNEL_PARTS[channel]) {
      const builtIn = builtInSource(lang, key, channel, part).source;
      const own = rows.find((x) => x.part === part);
      parts[part] = { source: own?.source ?? builtIn, builtIn, overridden: Boolean(own) };
    }
    return json({ key, channel, lang, parts });
  });
  app.post(r('/templates/preview'), async (c) => {
    const p = allow(c, 'read');
    const b = await body<{ key?: string; channel?: string; lang?: string; parts?: Record<string, string>; sample?: string }>(c);
    return json(await oneTemplateAtATime(() => previewTemplate(p, b)));
  });
  /**
   * A draft template rendered on the sample documents. Rendering is synchronous work: previews run
   * one at a time, each part bounded by TEMPLATE_LIMITS.validateMs, yielding to other requests
   * between parts, so heavy drafts sent together cannot freeze the server.
   */
  async function previewTemplate(p: WebPrincipal, b: { key?: string; channel?: string; lang?: string; parts?: Record<string, string>; sample?: string }) {
    const { key, channel } = assertTemplate(String(b.key), String(b.channel), { field: 'key' });
    const lang = langParam(String(b.lang));
    const draft = b.parts ?? {};
    const errors: { part: string; message: string; line: number | null }[] = [];
    for (const [part, source] of Object.entries(draft)) {
      if (!CHANNEL_PARTS[channel].includes(part as Part)) continue;
      await yieldToOthers();
      try {
        if (typeof source !== 'string' || !source.trim()) throw validation(E('empty_template'), { field: part });
        validateTemplate(source, { mode: partMode(channel, part as Part), lang, samples: sampleVariables(lang), place: { field: part } });
      } catch (e) {
        if (!isRelanceError(e)) throw e;
        errors.push({ part, message: e.message, line: (e.where as { line?: number } | undefined)?.line ?? null });
      }
    }
    const saved = await loadTemplateOverrides(db, p.orgId);
    // Invalid parts are previewed as saved (or built in): the error says why the draft cannot be used.
    const override = (k: TemplateKey, ch: DocChannel, l: Lang, part: Part) =>
      k === key && ch === channel && l === lang && draft[part] !== undefined && !errors.some((e) => e.part === part) ? draft[part]! : saved(k, ch, l, part);
    const input = sampleInput(b.sample === 'consumer' ? 'consumer' : 'business', lang, key, TEMPLATES[key].allOpenInvoices ? 3 : 1);
    const org = await getOrganisation(db, p.orgId);
    input.organisation = org;
    input.branding = { ...(await getBranding(db, p.orgId)) };
    await yieldToOthers();
    const composed = await composeDocument({ key, channel, input, override, creationDate: new Date(0) });
    const parts = renderTemplate(key, channel, lang, composed.vars, override);
    return {
      errors,
      subject: composed.subject,
      html: composed.html,
      text: composed.text,
      body: parts.body ?? null,
      pdf: composed.pdf ? composed.pdf.toString('base64') : null,
    };
  }
  app.put(r('/templates/:key/:channel/:lang'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ parts?: Record<string, string> }>(c);
    const lang = langParam(pathParam(c, 'lang'));
    await db.tx(async (q) => {
      for (const [part, source] of Object.entries(b.parts ?? {})) {
        await saveTemplate(q, p.orgId, { key: pathParam(c, 'key'), channel: pathParam(c, 'channel'), lang, part, source });
      }
    });
    return json({ ok: true });
  });
  app.delete(r('/templates/:key/:channel/:lang'), async (c) => {
    const p = allow(c, 'admin');
    const lang = langParam(pathParam(c, 'lang'));
    const { key, channel } = assertTemplate(pathParam(c, 'key'), pathParam(c, 'channel'), { field: 'key' });
    await db.tx(async (q) => {
      for (const part of CHANNEL_PARTS[channel]) await resetTemplate(q, p.orgId, { key, channel, lang, part });
    });
    return json({ ok: true });
  });

  // ---------------------------------------------------------------- bank
  app.get(r('/bank'), async (c) => {
    const p = allow(c, 'read');
    const { org, today } = await orgToday(ctx, p.orgId);
    const statements = await db.query<Record<string, unknown>>(
      `SELECT s.id, s.format, s.account_iban, s.account_number, s.statement_ref, s.currency, s.closing_minor, s.closing_date, s.filename, s.imported_at,
              (SELECT count(*) FROM bank_lines l WHERE l.organisation_id = s.organisation_id AND l.statement_id = s.id) AS lines,
              (SELECT count(*) FROM bank_lines l WHERE l.organisation_id = s.organisation_id AND l.statement_id = s.id AND l.status = 'matched') AS matched
         FROM bank_statements s WHERE s.organisation_id = $1 ORDER BY s.imported_at DESC, s.id DESC LIMIT 50`,
      [p.orgId],
    );
    const queue = await reviewQueue(db, p.orgId, { limit: 200 });
    const names = await customerNames(db, p.orgId, queue.flatMap((x) => x.candidates.map((k) => k.customerId)));
    const matched = await db.query<Record<string, unknown>>(
      `SELECT l.id, l.booking_date, l.amount_minor, l.currency, l.counterparty_name, l.label, l.remittance_text, l.matched_by, l.match_reason, l.payment_id,
              c.legal_name, c.id AS customer_id
         FROM bank_lines l LEFT JOIN payments pm ON pm.organisation_id = l.organisation_id AND pm.id = l.payment_id
         LEFT JOIN customers c ON c.organisation_id = l.organisation_id AND c.id = pm.customer_id
        WHERE l.organisation_id = $1 AND l.status = 'matched' ORDER BY l.id DESC LIMIT 100`,
      [p.orgId],
    );
    return json({
      today,
      currency: org.currency,
      hold: await staleBankGuard(db, p.orgId, today, org.timeZone),
      statements: statements.map((x) => ({ ...x, id: String(x.id), lines: Number(x.lines), matched: Number(x.matched), closingMinor: x.closing_minor === null ? null : String(x.closing_minor) })),
      queue: queue.map((x) => ({
        ...x,
        lineId: String(x.lineId),
        amountMinor: String(x.amountMinor),
        candidates: x.candidates.map((k) => ({ ...k, proposalId: String(k.proposalId), customerId: String(k.customerId), customerName: names.get(String(k.customerId)) ?? null })),
      })),
      matched: matched.map((x) => ({
        id: String(x.id),
        bookingDate: x.booking_date,
        amountMinor: String(x.amount_minor),
        currency: x.currency,
        counterpartyName: x.counterparty_name,
        text: [x.label, x.remittance_text].filter(Boolean).join(' / '),
        matchedBy: x.matched_by,
        reason: x.match_reason,
        customerId: x.customer_id === null ? null : String(x.customer_id),
        customerName: x.legal_name,
      })),
    });
  });
  app.post(r('/bank/import'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    const up = await uploaded(c);
    const imported = await importBankFile(db, p.orgId, up.bytes, { filename: up.filename, account: up.fields.account || undefined });
    const lineIds = imported.lines.filter((l) => l.status === 'new' && l.id !== null).map((l) => l.id!);
    const rec = lineIds.length ? await reconcile(db, p.orgId, { lineIds, onCustomersChanged: replanOnPayment(today) }) : null;
    await markDashboardStale(db, p.orgId);
    return json({ format: imported.format, filename: imported.filename, statements: imported.statements, summary: imported.summary, reconcile: rec });
  });
  app.post(r('/bank/lines/:id/match'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    const b = await body<{ customerId?: unknown; allocations?: { invoiceId: unknown; amountMinor: unknown }[] }>(c);
    if (!Array.isArray(b.allocations)) throw validation(E('allocations_list'), { field: 'allocations' });
    const paymentId = await manualMatch(
      db,
      p.orgId,
      idParam(c, 'id'),
      {
        customerId: idList([b.customerId], 'customerId')[0]!,
        allocations: b.allocations.map((a, i) => ({ invoiceId: idList([a.invoiceId], `allocations[${i}].invoiceId`)[0]!, amountMinor: minorOf(a.amountMinor, `allocations[${i}].amountMinor`) })),
      },
      { onCustomersChanged: replanOnPayment(today) },
    );
    await markDashboardStale(db, p.orgId);
    return json({ paymentId: String(paymentId) });
  });
  app.post(r('/bank/proposals/:id/accept'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    const paymentId = await acceptProposal(db, p.orgId, idParam(c, 'id'), { onCustomersChanged: replanOnPayment(today) });
    await markDashboardStale(db, p.orgId);
    return json({ paymentId: String(paymentId) });
  });
  app.post(r('/bank/lines/:id/undo'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    await undoMatch(db, p.orgId, idParam(c, 'id'), { onCustomersChanged: replanOnPayment(today) });
    await markDashboardStale(db, p.orgId);
    return json({ ok: true });
  });

  // ---------------------------------------------------------------- imports
  app.get(r('/imports'), async (c) => {
    const p = allow(c, 'read');
    const rows = await db.query<Record<string, unknown>>(
      'SELECT id, kind, filename, outcome, rows_read, counts, problems, created_at FROM import_runs WHERE organisation_id = $1 ORDER BY id DESC LIMIT 50',
      [p.orgId],
    );
    return json(rows.map((x) => ({ ...x, id: String(x.id) })));
  });
  /** Answers NDJSON: progress lines while the file is read, then the report (a dry run first shows the mapping). */
  app.post(r('/imports'), async (c) => {
    const p = allow(c, 'write');
    const lang = await requestLang(c, ctx);
    const up = await uploaded(c);
    const kind = up.fields.kind ?? '';
    const dryRun = up.fields.dryRun === '1' || up.fields.dryRun === 'true';
    if (!['customers', 'invoices', 'payments', 'fec', 'einvoice'].includes(kind)) throw validation(E('import_kind', { kind }), { field: 'kind' });
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (o: unknown) => controller.enqueue(enc.encode(`${J(o)}\n`));
        let last = 0;
        const onProgress = (pr: ImportProgress) => {
          if (Date.now() - last < 200) return;
          last = Date.now();
          send({ type: 'progress', ...pr });
        };
        try {
          const input = { bytes: up.bytes, filename: up.filename };
          const report =
            kind === 'fec'
              ? await importFec(db, p.orgId, input, { dryRun, onProgress, lang })
              : kind === 'einvoice'
                ? await importEInvoices(db, p.orgId, [input], { dryRun, onProgress, lang })
                : await importCsv(db, p.orgId, kind as CsvKind, input, { dryRun, onProgress, lang });
          if (!dryRun) await markDashboardStale(db, p.orgId);
          send({ type: 'report', report });
        } catch (e) {
          send({ type: 'error', problem: toProblem(e, lang) });
        } finally {
          controller.close();
        }
      },
    });
    return new Response(stream, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache' } });
  });

  // ---------------------------------------------------------------- calls
  app.post(r('/calls/:id/outcome'), async (c) => {
    const p = allow(c, 'write');
    const { today } = await orgToday(ctx, p.orgId);
    const b = await body(c);
    const outcome = await db.tx(async (q) => {
      const res = await recordCallOutcome(
        q,
        p.orgId,
        idParam(c, 'id'),
        {
          outcome: String(b.outcome ?? '') as CallOutcome,
          reason: (b.reason as NonPaymentReason | undefined) || null,
          note: (b.note as string | undefined)?.trim() || null,
          promisedOn: b.promisedOn ? dateOf(b.promisedOn, 'promisedOn') : null,
          promisedMinor: b.promisedMinor !== undefined && b.promisedMinor !== '' ? minorOf(b.promisedMinor, 'promisedMinor') : null,
          disputeReason: (b.disputeReason as string | undefined)?.trim() || null,
          phoneNumber: (b.phoneNumber as string | undefined) || null,
          by: p.email,
        },
        today,
      );
      await markDashboardStale(q, p.orgId);
      return res;
    });
    return json(outcome);
  });

  // ---------------------------------------------------------------- settings
  app.get(r('/settings'), async (c) => {
    const p = allow(c, 'read');
    const admin = p.role === 'admin';
    const org = await getOrganisation(db, p.orgId);
    const branding = await getBranding(db, p.orgId);
    const [engine] = await db.query<{ stale_bank_days: number }>('SELECT stale_bank_days FROM engine_settings WHERE organisation_id = $1', [p.orgId]);
    const scenarios = await listScenarios(db, p.orgId);
    const def = scenarios.find((x) => x.isDefault) ?? scenarios[0];
    // This organisation's view of its people: the membership's role and state, not the account's.
    const users = await db.query<Record<string, unknown>>(
      `SELECT u.id, u.email, u.name, u.language, m.disabled_at, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organisation_id = $1 ORDER BY m.created_at, u.email`,
      [p.orgId],
    );
    const invitations = admin
      ? await db.query<{ id: string; email: string; role: string; expires_at: string }>(
          `SELECT left(token_hash, 16) AS id, email, role, expires_at FROM invitations
            WHERE organisation_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at`,
          [p.orgId, ctx.now()],
        )
      : [];
    const { signaturePng: _s, logoPng: _l, ...brandingText } = branding;
    return json({
      organisation: org,
      branding: brandingText,
      delivery: await describeSettings(db, p.orgId),
      staleBankDays: engine?.stale_bank_days ?? 3,
      acknowledgeAgreements: await acknowledgesAgreements(db, p.orgId),
      sending: def ? { window: def.definition.options.window, holidayCalendar: def.definition.options.holidayCalendar, workingDaysOnly: def.definition.options.workingDaysOnly } : null,
      holidayCalendars: Object.entries(HOLIDAY_CALENDARS).map(([key, v]) => ({ key, name: v.name })),
      users: users.map((u) => ({ id: u.id, email: u.email, name: u.name, language: u.language, role: u.role, disabled: u.disabled_at !== null })),
      invitations: invitations.map((i) => ({ id: i.id, email: i.email, role: i.role, expiresAt: i.expires_at })),
      apiKeys: admin ? (await listApiKeys(db, p.orgId)).map((k) => ({ ...k, id: String(k.id) })) : [],
      webhooks: admin ? (await listSubscriptions(db, p.orgId)).map((w) => ({ ...w, id: String(w.id) })) : [],
      webhookEvents: WEBHOOK_EVENTS,
      rates: (await listRateOverrides(db)).map((x) => ({ ...x })),
      contractRate: await getContractRate(db, p.orgId),
      rateTables: RATE_TABLE_NAMES,
    });
  });
  app.put(r('/settings/organisation'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body(c);
    await db.tx(async (q) => {
      const { live: _live, branding: _branding, ...fields } = b;
      await updateOrganisation(q, p.orgId, fields);
      const br = (b.branding ?? {}) as Record<string, unknown>;
      if (Object.keys(br).length) {
        const cur = await getBranding(q, p.orgId);
        const [ids] = await q.query<{ logo_document_id: bigint | null; signature_document_id: bigint | null }>(
          'SELECT logo_document_id, signature_document_id FROM document_branding WHERE organisation_id = $1',
          [p.orgId],
        );
        const txt = (k: string, v: string | null) => (k in br ? (String(br[k] ?? '').trim() || null) : v);
        await saveBranding(q, p.orgId, {
          colour: typeof br.colour === 'string' ? br.colour : cur.colour,
          logoDocumentId: ids?.logo_document_id ?? null,
          signatureDocumentId: ids?.signature_document_id ?? null,
          signatoryName: txt('signatoryName', cur.signatoryName),
          signatoryTitle: txt('signatoryTitle', cur.signatoryTitle),
          footer: txt('footer', cur.footer),
          email: txt('email', cur.email),
          phone: txt('phone', cur.phone),
          website: txt('website', cur.website),
          place: txt('place', cur.place),
          ...('paymentLink' in br ? { paymentLink: txt('paymentLink', null) } : {}),
        });
      }
    });
    return json({ ok: true });
  });
  app.put(r('/settings/delivery'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<SettingsInput>(c);
    // An empty secret field means "keep the one stored" (the form never receives it back).
    for (const k of SECRET_FIELDS) if (b[k] === '') delete b[k];
    // Not the operator: naming an environment variable (smtpPasswordEnv...) is refused with 403.
    await db.tx((q) => saveDeliverySettings(q, p.orgId, b, { policy: ctx.options?.webhookPolicy }));
    return json({ ok: true });
  });
  app.post(r('/settings/delivery/test'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ to?: string }>(c);
    const to = String(b.to ?? p.email).trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(to)) throw validation(E('email', { email: to }), { field: 'to' });
    const settings = await loadDeliverySettings(db, p.orgId);
    if (!settings.smtp) throw validation(E('no_smtp'), { field: 'smtpHost' });
    const org = await getOrganisation(db, p.orgId);
    const from = settings.fromAddress ?? (await getBranding(db, p.orgId)).email;
    if (!from) throw validation(E('no_sender'), { field: 'fromAddress' });
    const password = settings.smtp.password ? readSecret(settings.smtp.password, 'email', 'smtp_password', process.env) : null;
    const outcome = await sendTestMessage({ smtp: { ...settings.smtp, password }, from, fromName: settings.fromName ?? org.legalName, to, organisation: org.legalName, now: ctx.now() });
    return json({ outcome });
  });
  // Going live: what would go out over the next days, and the switch (review mode until then).
  app.get(r('/golive'), async (c) => {
    const p = allow(c, 'read');
    const { today } = await orgToday(ctx, p.orgId);
    const days = Number(c.req.query('days') ?? 30);
    if (!Number.isInteger(days) || days < 1 || days > 366) throw validation(E('golive_days'), { field: 'days' });
    return json(await db.tx((q) => goLivePreview(q, p.orgId, today, days)));
  });
  app.post(r('/golive'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ live?: unknown }>(c);
    if (typeof b.live !== 'boolean') throw validation(E('golive_live'), { field: 'live' });
    const { today } = await orgToday(ctx, p.orgId);
    const r = await db.tx((q) => setLive(q, p.orgId, b.live as boolean, today));
    return json({ live: r.organisation.live, released: r.released, replanned: r.replanned });
  });
  app.put(r('/settings/engine'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ staleBankDays?: number; window?: { start: string; end: string }; holidayCalendar?: string; workingDaysOnly?: boolean; acknowledgeAgreements?: boolean }>(c);
    const { today } = await orgToday(ctx, p.orgId);
    await db.tx(async (q) => {
      if (b.acknowledgeAgreements !== undefined) {
        if (typeof b.acknowledgeAgreements !== 'boolean') throw validation(E('acknowledge'), { field: 'acknowledgeAgreements' });
        await setAcknowledgeAgreements(q, p.orgId, b.acknowledgeAgreements);
      }
      if (b.staleBankDays !== undefined) {
        const n = Number(b.staleBankDays);
        if (!Number.isInteger(n) || n < 1 || n > 60) throw validation(E('stale_bank'), { field: 'staleBankDays' });
        await q.query(
          `INSERT INTO engine_settings (organisation_id, stale_bank_days) VALUES ($1, $2)
           ON CONFLICT (organisation_id) DO UPDATE SET stale_bank_days = EXCLUDED.stale_bank_days, updated_at = now()`,
          [p.orgId, n],
        );
      }
      if (b.window || b.holidayCalendar || b.workingDaysOnly !== undefined) {
        // The sending window and holidays are options of each scenario: set them on all of them.
        for (const sc of await listScenarios(q, p.orgId)) {
          const options = { ...sc.definition.options };
          if (b.window) options.window = b.window;
          if (b.holidayCalendar) options.holidayCalendar = b.holidayCalendar;
          if (b.workingDaysOnly !== undefined) options.workingDaysOnly = Boolean(b.workingDaysOnly);
          await updateScenario(q, p.orgId, sc.key, { ...sc.definition, options });
        }
        await replanAfterScenarioChange(q, p.orgId, today);
      }
    });
    return json({ ok: true });
  });
  /**
   * Adds a person: an invitation, answered the same whether the address has an account on the
   * instance or not (the admin passes the one-time link on; the person signs in or chooses a password).
   */
  app.post(r('/settings/users'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ email?: string; role?: string; name?: string; language?: string }>(c);
    const inv = await db.tx((q) =>
      inviteUser(q, p.orgId, { email: String(b.email ?? ''), role: String(b.role ?? '') as AuthRole, name: b.name ?? null, language: b.language === 'en' ? 'en' : 'fr', invitedBy: p.userId, now: ctx.now() }),
    );
    return json({ email: inv.email, role: inv.role, invitation: { token: inv.token, path: `/invite#${inv.token}`, expiresAt: inv.expiresAt.toISOString() } });
  });
  /** Role and "may sign in here": the membership in this organisation only, never the person's account. */
  app.put(r('/settings/users/:userId'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ role?: string; disabled?: boolean }>(c);
    const userId = uuidParam(c, 'userId');
    if (userId === p.userId) throw validation(E('own_role'), { field: 'userId' });
    if (b.role !== undefined && !['admin', 'collector', 'viewer'].includes(b.role)) throw validation(E('user_role'), { field: 'role' });
    await db.tx((q) => updateMembership(q, p.orgId, userId, { role: b.role as AuthRole | undefined, disabled: b.disabled === undefined ? undefined : Boolean(b.disabled) }));
    return json({ ok: true });
  });
  /** Removes the person from this organisation; their account and other organisations stay. */
  app.delete(r('/settings/users/:userId'), async (c) => {
    const p = allow(c, 'admin');
    const userId = uuidParam(c, 'userId');
    if (userId === p.userId) throw validation(E('own_role'), { field: 'userId' });
    await db.tx((q) => removeMember(q, p.orgId, userId));
    return json({ ok: true });
  });
  app.delete(r('/settings/invitations/:id'), async (c) => {
    const p = allow(c, 'admin');
    const id = pathParam(c, 'id');
    const rows = await db.query('DELETE FROM invitations WHERE organisation_id = $1 AND left(token_hash, 16) = $2 AND accepted_at IS NULL RETURNING 1', [p.orgId, id]);
    if (!rows.length) throw notFound('invitation', id);
    return json({ ok: true });
  });
  app.post(r('/settings/api-keys'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ name?: string; scope?: string }>(c);
    const k = await db.tx((q) => createApiKey(q, p.orgId, { name: String(b.name ?? ''), scope: String(b.scope ?? '') as Scope }));
    return json({ id: String(k.id), key: k.key, prefix: k.prefix, scope: k.scope });
  });
  app.delete(r('/settings/api-keys/:id'), async (c) => {
    const p = allow(c, 'admin');
    await db.tx((q) => revokeApiKey(q, p.orgId, idParam(c, 'id'), ctx.now()));
    return json({ ok: true });
  });
  app.post(r('/settings/webhooks'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ url?: string; events?: string[]; description?: string }>(c);
    const w = await db.tx((q) =>
      createSubscription(q, p.orgId, { url: String(b.url ?? ''), events: Array.isArray(b.events) ? b.events.map(String) : [], description: b.description ?? null }, { policy: ctx.options?.webhookPolicy }),
    );
    return json({ ...w, id: String(w.id) });
  });
  app.delete(r('/settings/webhooks/:id'), async (c) => {
    const p = allow(c, 'admin');
    await db.tx((q) => deleteSubscription(q, p.orgId, idParam(c, 'id')));
    return json({ ok: true });
  });
  // The official rate tables are instance-wide: only the operator changes them (CLI on the server).
  app.post(r('/settings/rates'), async () => {
    throw ratesAreTheOperators();
  });
  app.delete(r('/settings/rates/:table/:from'), async () => {
    throw ratesAreTheOperators();
  });
  /** The organisation's own contractual rate: its late fees only. */
  app.put(r('/settings/contract-rate'), async (c) => {
    const p = allow(c, 'admin');
    const b = await body<{ ratePercent?: string | null; note?: string | null }>(c);
    const rate = b.ratePercent === null || b.ratePercent === undefined || String(b.ratePercent).trim() === '' ? null : String(b.ratePercent);
    return json({ contractRate: await db.tx((q) => setContractRate(q, p.orgId, rate === null ? null : { ratePercent: rate, note: b.note ?? null })) });
  });
}

const taskJson = (t: Record<string, unknown>) => ({
  id: String(t.id),
  kind: t.kind,
  customerId: String(t.customer_id),
  customerName: t.legal_name,
  sourceId: String(t.source_id),
  dueOn: t.due_on,
  note: t.note,
  promisedOn: t.promised_on ?? null,
  amountMinor: t.amount_minor === null || t.amount_minor === undefined ? null : String(t.amount_minor),
  currency: t.currency ?? null,
});

/** What a pause or an agreement covers, as the customer screen sends it: invoices, or the whole customer when ticked. */
function coverageOf(b: Record<string, unknown>): { invoiceIds?: bigint[]; customerWide?: boolean; allOpenInvoices?: boolean } {
  if (b.customerWide === true) return { customerWide: true };
  if (b.allOpenInvoices === true) return { allOpenInvoices: true };
  return Array.isArray(b.invoiceIds) && b.invoiceIds.length ? { invoiceIds: idList(b.invoiceIds, 'invoiceIds') } : {};
}

const acknowledgeOf = (b: Record<string, unknown>) => (typeof b.acknowledge === 'boolean' ? { acknowledge: b.acknowledge } : {});

function idList(v: unknown, field: string): bigint[] {
  if (!Array.isArray(v) || v.length === 0) throw validation(E('ids', { field }), { field });
  return v.map((x, i) => {
    if (!/^\d{1,18}$/.test(String(x))) throw validation(E('id_number', { field, i }), { field: `${field}[${i}]` });
    return BigInt(String(x));
  });
}

/** The open amount and currency each action asks for (its planned step records' invoices). */
async function actionAmounts(q: Queryable, orgId: string, ids: bigint[]): Promise<Map<string, { open: bigint; currency: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{ action_id: bigint; open: bigint; currency: string }>(
    `SELECT sr.action_id, sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor) AS open, min(i.currency) AS currency
       FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
      WHERE sr.organisation_id = $1 AND sr.action_id = ANY($2::bigint[]) GROUP BY sr.action_id`,
    [orgId, pgArray(ids)],
  );
  return new Map(rows.map((r) => [String(r.action_id), { open: r.open, currency: r.currency }]));
}

/** Renders an action exactly as the worker would send it now (same function, same inputs). */
async function previewAction(ctx: WebContext, orgId: string, id: bigint): Promise<{ r: RenderedAction } | { error: string; channel: string }> {
  const [a] = await ctx.db.query<{ id: bigint; customer_id: bigint; channel: string; template: string }>(
    'SELECT id, customer_id, channel, template FROM actions WHERE organisation_id = $1 AND id = $2',
    [orgId, id],
  );
  if (!a) throw notFound('action', String(id));
  const inv = await ctx.db.query<{ invoice_id: bigint }>(
    `SELECT invoice_id FROM step_records WHERE organisation_id = $1 AND action_id = $2 ORDER BY invoice_id`,
    [orgId, id],
  );
  const org = await getOrganisation(ctx.db, orgId);
  try {
    const r = await renderAction(
      ctx.db,
      { orgId, id, customerId: a.customer_id, channel: a.channel, template: a.template, invoiceIds: inv.map((x) => x.invoice_id) },
      { now: ctx.now(), org, settings: await loadDeliverySettings(ctx.db, orgId), rates: await rates(ctx.db), overrides: await loadTemplateOverrides(ctx.db, orgId) },
    );
    return { r };
  } catch (e) {
    if (e instanceof PermanentContentError || isRelanceError(e)) return { error: (e as Error).message, channel: a.channel };
    throw e;
  }
}

async function deliveryRow(q: Queryable, orgId: string, id: bigint): Promise<Record<string, unknown>> {
  const [d] = await q.query<Record<string, unknown>>('SELECT * FROM deliveries WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!d) throw notFound('delivery', String(id));
  return d;
}

export interface TimelineItem {
  at: string;
  kind: 'invoice' | 'payment' | 'credit_note' | 'reminder' | 'call' | 'promise' | 'dispute' | 'pause' | 'plan' | 'note';
  id: string;
  data: Record<string, unknown>;
}

/** Everything that happened with a customer, newest first, as one list. */
async function customerTimeline(q: Queryable, orgId: string, customerId: bigint): Promise<TimelineItem[]> {
  const P = [orgId, customerId];
  const [invoices, payments, credits, actions, calls, promises, disputes, pauses, plans, notes] = await Promise.all([
    q.query<Record<string, unknown>>(
      `SELECT id, number, issue_date, due_date, currency, amount_incl_tax_minor, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor
         FROM invoices WHERE organisation_id = $1 AND customer_id = $2 ORDER BY issue_date DESC, id DESC LIMIT 500`,
      P,
    ),
    q.query<Record<string, unknown>>(
      'SELECT id, payment_date, currency, amount_minor, allocated_minor, method, reference FROM payments WHERE organisation_id = $1 AND customer_id = $2 ORDER BY payment_date DESC, id DESC LIMIT 500',
      P,
    ),
    q.query<Record<string, unknown>>('SELECT id, number, issue_date, currency, amount_minor, reason FROM credit_notes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY issue_date DESC LIMIT 200', P),
    q.query<Record<string, unknown>>(
      `SELECT a.id, a.channel, a.template, a.tone, a.status, a.status_reason, a.planned_on, a.sent_at, a.step_offset, a.hold_reason,
              (SELECT array_agg(d.id ORDER BY d.id) FROM deliveries d WHERE d.organisation_id = a.organisation_id AND d.action_id = a.id) AS delivery_ids,
              (SELECT array_agg(i.number) FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
                WHERE sr.organisation_id = a.organisation_id AND sr.action_id = a.id) AS invoices
         FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = $2 ORDER BY a.planned_on DESC, a.id DESC LIMIT 300`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT id, outcome, non_payment_reason, note, promised_on, promised_minor, dispute_reason, phone_number, recorded_by, recorded_on, recorded_at
         FROM call_outcomes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY recorded_at DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT p.id, p.promised_on, p.currency, p.amount_minor, p.status, p.closed_on, p.created_at,
              (SELECT array_agg(i.number) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
         FROM promises p WHERE p.organisation_id = $1 AND p.customer_id = $2 ORDER BY p.created_at DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT d.id, d.reason, d.opened_on, d.resolved_on, d.resolution,
              (SELECT string_agg(i.number, ', ' ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS number
         FROM disputes d
        WHERE d.organisation_id = $1 AND d.customer_id = $2 ORDER BY d.opened_on DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT p.id, p.reason, p.starts_on, p.ends_on, p.lifted_on, p.note,
              (SELECT string_agg(i.number, ', ' ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
         FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 AND p.reason IN ('manual_hold', 'insolvency', 'other')
        ORDER BY p.starts_on DESC LIMIT 200`,
      P,
    ),
    q.query<Record<string, unknown>>(
      `SELECT pp.id, pp.started_on, pp.status, pp.currency, pp.open_at_start_minor, pp.closed_on,
              (SELECT json_agg(json_build_object('seq', x.seq, 'dueDate', x.due_date, 'amountMinor', x.amount_minor::text) ORDER BY x.seq)
                 FROM payment_plan_instalments x WHERE x.organisation_id = pp.organisation_id AND x.plan_id = pp.id) AS instalments
         FROM payment_plans pp WHERE pp.organisation_id = $1 AND pp.customer_id = $2 ORDER BY pp.started_on DESC LIMIT 100`,
      P,
    ),
    q.query<Record<string, unknown>>('SELECT id, body, author, created_at FROM customer_notes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY created_at DESC LIMIT 300', P),
  ]);
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const items: TimelineItem[] = [
    ...invoices.map((x) => ({ at: String(x.issue_date), kind: 'invoice' as const, id: String(x.id), data: { number: x.number, dueDate: x.due_date, currency: x.currency, amountMinor: s(x.amount_incl_tax_minor), openMinor: s(x.open_minor) } })),
    ...payments.map((x) => ({ at: String(x.payment_date), kind: 'payment' as const, id: String(x.id), data: { currency: x.currency, amountMinor: s(x.amount_minor), allocatedMinor: s(x.allocated_minor), method: x.method, reference: x.reference } })),
    ...credits.map((x) => ({ at: String(x.issue_date), kind: 'credit_note' as const, id: String(x.id), data: { number: x.number, currency: x.currency, amountMinor: s(x.amount_minor), reason: x.reason } })),
    ...actions.map((x) => ({
      at: x.sent_at ? String(x.sent_at) : String(x.planned_on),
      kind: 'reminder' as const,
      id: String(x.id),
      data: { channel: x.channel, template: x.template, tone: x.tone, status: x.status, statusReason: x.status_reason, plannedOn: x.planned_on, sentAt: x.sent_at, stepOffset: x.step_offset, holdReason: x.hold_reason, deliveryIds: ((x.delivery_ids as bigint[] | null) ?? []).map(String), invoices: x.invoices ?? [] },
    })),
    ...calls.map((x) => ({ at: String(x.recorded_at), kind: 'call' as const, id: String(x.id), data: { outcome: x.outcome, reason: x.non_payment_reason, note: x.note, promisedOn: x.promised_on, promisedMinor: s(x.promised_minor), disputeReason: x.dispute_reason, phone: x.phone_number, by: x.recorded_by } })),
    ...promises.map((x) => ({ at: String(x.created_at), kind: 'promise' as const, id: String(x.id), data: { promisedOn: x.promised_on, currency: x.currency, amountMinor: s(x.amount_minor), status: x.status, closedOn: x.closed_on, invoices: x.invoices ?? [] } })),
    ...disputes.map((x) => ({ at: String(x.opened_on), kind: 'dispute' as const, id: String(x.id), data: { reason: x.reason, resolvedOn: x.resolved_on, resolution: x.resolution, invoice: x.number } })),
    ...pauses.map((x) => ({ at: String(x.starts_on), kind: 'pause' as const, id: String(x.id), data: { reason: x.reason, endsOn: x.ends_on, liftedOn: x.lifted_on, note: x.note } })),
    ...plans.map((x) => ({ at: String(x.started_on), kind: 'plan' as const, id: String(x.id), data: { status: x.status, currency: x.currency, amountMinor: s(x.open_at_start_minor), closedOn: x.closed_on, instalments: typeof x.instalments === 'string' ? JSON.parse(x.instalments) : x.instalments } })),
    ...notes.map((x) => ({ at: String(x.created_at), kind: 'note' as const, id: String(x.id), data: { body: x.body, author: x.author } })),
  ];
  // Dates ("2026-11-22") and instants ("2026-11-22 10:00:00+00") sort together on their first 10 characters, then by the rest.
  return items.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

/** Late-payment interest and indemnity of each overdue open invoice of a customer, with the periods. */
async function customerPenalties(q: Queryable, orgId: string, customerId: bigint, today: CalendarDate, lang: Lang) {
  const customer = await getCustomer(q, orgId, customerId);
  const ledger = await customerLedger(q, orgId, customerId, today);
  const tables = await rates(q);
  const law = regimeBetween(await creditorTerms(q, orgId), customer);
  const provisional = new ProvisionalRates();
  const invoices = [];
  let interest = 0n;
  let indemnity = 0n;
  for (const i of ledger.openItems) {
    if (i.dueDate >= today) continue;
    const pays = await q.query<{ date: CalendarDate; amount: Minor }>(
      `SELECT allocated_on AS date, amount_minor AS amount FROM allocations WHERE organisation_id = $1 AND invoice_id = $2
       UNION ALL SELECT written_off_on, amount_minor FROM write_offs WHERE organisation_id = $1 AND invoice_id = $2`,
      [orgId, i.invoiceId],
    );
    const r = lateFeesUnder(law, { currency: i.currency, amountMinor: i.amountInclTaxMinor, dueDate: i.dueDate, until: today, payments: pays.map((p) => ({ date: p.date, amountMinor: p.amount })) }, tables);
    provisional.add(r);
    interest += r.interestMinor;
    indemnity += r.indemnityMinor;
    invoices.push({
      invoiceId: String(i.invoiceId),
      number: i.number,
      dueDate: i.dueDate,
      currency: i.currency,
      openMinor: String(i.openMinor),
      daysLate: r.daysLate,
      interestMinor: String(r.interestMinor),
      indemnityMinor: String(r.indemnityMinor),
      provisional: r.provisional,
      periods: r.periods.map((x) => ({ from: x.from, to: x.to, days: x.days, ratePercent: x.ratePercent, baseMinor: String(x.baseMinor), interestMinor: String(x.interestMinor) })),
      notes: r.noteDetails.map((n) => renderLawNote(n, lang)),
    });
  }
  return {
    today,
    kind: customer.kind,
    // Which law: the regime decided for this customer, and where the law says so.
    regime: { id: law.regime.id, jurisdiction: law.jurisdiction, reason: law.reason, law: law.regime.basis.law[lang], contractRatePercent: law.contractRatePercent },
    interestMinor: String(interest),
    indemnityMinor: String(indemnity),
    invoices,
    provisionalRates: provisional.list(),
  };
}

function langParam(v: string | undefined): Lang {
  if (v !== 'fr' && v !== 'en') throw validation(E('lang', { lang: String(v) }), { field: 'lang' });
  return v;
}

async function customerNames(q: Queryable, orgId: string, ids: bigint[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{ id: bigint; legal_name: string }>('SELECT id, legal_name FROM customers WHERE organisation_id = $1 AND id = ANY($2::bigint[])', [
    orgId,
    pgArray([...new Set(ids.map(String))]),
  ]);
  return new Map(rows.map((r) => [String(r.id), r.legal_name]));
}

export interface SampleInvoice {
  dueDate: CalendarDate;
  amountMinor: Minor;
  kind: 'business' | 'consumer';
  hasEmail: boolean;
  hasPhone: boolean;
  hasPostalAddress: boolean;
  /** The sample invoice is paid that day: nothing after it. */
  paidOn: CalendarDate | null;
  /**
   * The day the engine first sees the invoice (a first import of a backlog): never chased before,
   * overdue already. Null: from before its first step.
   */
  firstRunOn?: CalendarDate | null;
}

/**
 * What a scenario would do to one invoice, day by day: the planner itself run on each day from
 * before the first step (or the first run on a backlog) to after the last, as if every action
 * went out on its day (simulate.ts) — the same decisions the daily cycle would take, including
 * working days, holidays, fallbacks, catch-up, the first contact and the escalation prerequisites.
 */
export function simulateScenario(def: ScenarioDefinition, s: SampleInvoice) {
  const offsets = def.steps.map((x) => x.offset);
  const from = s.firstRunOn ?? addDays(s.dueDate, Math.min(...offsets, 0) - 1);
  const esc = escalationOf(def.options);
  // Long enough for a compressed ladder and every prerequisite's deadline.
  const to = addDays(maxDate(from, s.dueDate), Math.max(...offsets, 0) + 10 + (def.steps.length + 1) * def.options.minGapDays + esc.formalNoticeDeadlineDays + 2 * esc.postalDelayWorkingDays + 6);
  const customer: PlannerCustomer = { id: 1n, name: 'Sample', kind: s.kind, tags: [], hasEmail: s.hasEmail, hasPhone: s.hasPhone, hasPostalAddress: s.hasPostalAddress, lastMessageOn: null };
  const inv: PlannerInvoice = {
    invoiceId: 1n,
    number: 'F-SAMPLE-001',
    customerId: 1n,
    currency: 'EUR',
    openMinor: s.amountMinor,
    dueDate: s.dueDate,
    scenarioId: 1n,
    scenarioVersion: 1,
    scenario: def,
    paused: false,
    pausedDays: 0,
    done: new Set(),
    maxDoneOffset: null,
    history: NEVER_CHASED,
  };
  const calendar: CalendarEntry[] = invoiceCalendar(inv, from);
  const days: {
    date: CalendarDate;
    relative: number;
    actions: { channel: string; fallbackFrom: string | null; template: string; tone: string; requiresApproval: boolean; stepOffset: number; firstContact: boolean }[];
    skipped: { stepKey: string; reason: string }[];
    held: boolean;
    waitingFor: string | null;
  }[] = [];
  simulate({
    from,
    to,
    customers: new Map([[1n, customer]]),
    invoices: [inv],
    paidOn: s.paidOn ? new Map([[1n, s.paidOn]]) : undefined,
    onDay(date, plan) {
      days.push({
        date,
        relative: daysBetween(s.dueDate, date),
        actions: plan.actions.map((a) => ({
          channel: a.channel, fallbackFrom: a.fallbackFrom, template: a.template, tone: a.tone, requiresApproval: a.requiresApproval, stepOffset: a.stepOffset,
          firstContact: a.invoices.some((i) => i.firstContact),
        })),
        skipped: plan.skipped.map((k) => ({ stepKey: k.stepKey, reason: k.reason })),
        held: plan.held.length > 0,
        waitingFor: plan.held.find((h) => h.waitingFor)?.waitingFor ?? null,
      });
    },
  });
  const prerequisites = scenarioPrerequisites(def);
  return {
    from,
    to,
    dueDate: s.dueDate,
    calendar,
    days,
    escalation: prerequisites.options,
    steps: def.steps.map((x) => ({ ...x, key: stepKey(x), prerequisite: prerequisites.steps.find((p) => p.stepKey === stepKey(x))?.prerequisite ?? null })),
  };
}

