/**
 * Customers: the list (search, filters, sort on the balance snapshot), a customer's page (ledger,
 * calendar, risk, credit policy, pauses, timeline), what a collector records on it (pause, promise,
 * dispute, payment plan, scenario, credit policy, notes) and its documents.
 */
import { z } from 'zod';
import { type CalendarDate, daysBetween } from '../../../domain/dates.ts';
import { pgArray, type Queryable } from '../../../db/driver.ts';
import { composeDocument } from '../../../documents/compose.ts';
import { documentFromLedger } from '../../../documents/from-ledger.ts';
import { loadTemplateOverrides } from '../../../documents/repo.ts';
import { customerHistoryPdf } from '../../../delivery/proof.ts';
import { buildCaseFile } from '../../../escalation/casefile.ts';
import { injonctionRequest } from '../../../escalation/injonction.ts';
import { formatPercent, parseRiskClass } from '../../../domain/credit-policy.ts';
import { riskReasonText } from '../../../domain/risk.ts';
import { createPause, createPaymentPlan, liftPause, openDispute, PAUSE_REASONS, recordPromise, replanAfterScenarioChange, resolveDispute } from '../../../engine/events.ts';
import { ACTIVE_PAUSE } from '../../../engine/planner-input.ts';
import { customerCalendar } from '../../../engine/preview.ts';
import { assignScenario, ensureBuiltinScenarios, loadAssignments, resolveScenario } from '../../../engine/scenarios.ts';
import { notFound, validation } from '../../../errors.ts';
import { defineErrors, type Lang } from '../../../i18n/index.ts';
import { customerPenalties } from '../../../law/customer-penalties.ts';
import { cachedRateTables } from '../../../law/rates-cache.ts';
import { addContact, type CustomerPatch, customerLedger, getCustomer, removeContact, updateContact, updateCustomer } from '../../../ledger/repo.ts';
import { recordUnplannedCall } from '../../../delivery/calls.ts';
import type { CallOutcome, NonPaymentReason } from '../../../domain/delivery.ts';
import { customerTimeline } from '../../../ledger/timeline.ts';
import { markDashboardStale, refreshDashboard, refreshIfStale } from '../../../reports/dashboard.ts';
import { computeRisk } from '../../../risk/behaviour.ts';
import { checkCreditLimits, customerExposure, hasOpenCreditAlert } from '../../../risk/credit.ts';
import { IdParams } from '../schemas.ts';
import { creditPolicyOf } from '../ledger.ts';
import type { HandlerArgs } from '../define.ts';
import { appRoute, download, minorIn } from './common.ts';
import { AnyId, AnyMinor, blankAsAbsent, Coverage, Day, intQuery, WholeDays } from './shapes/common.ts';
import type { CustomerListResponse, CustomerListRow, CustomerPageResponse, CustomerPenaltiesResponse, CustomerStatus } from './shapes/customers.ts';

const E = defineErrors('web-customers', {
  empty_note: { fr: "une note ne peut pas être vide", en: "a note cannot be empty" },
  resolution: { fr: "indiquez comment le litige a été résolu", en: "say how the dispute was resolved" },
  owner_not_member: { fr: "le responsable d’un compte doit être un membre de l’organisation", en: "an account's owner must be a member of the organisation" },
  no_open_invoice: { fr: "le client n’a aucune facture ouverte : il n’y a rien à mettre sur un relevé", en: "the customer has no open invoice: there is nothing to put on a statement" },
});

/** Lower case without accents, as customer_search_text stores names (migrations 0009, 0014). */
export function foldForSearch(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

type CoverageIn = { customerWide?: boolean; allOpenInvoices?: boolean; invoiceIds?: bigint[] };
/** What a pause or an agreement covers, as the customer screen sends it: invoices, or the whole customer when ticked. */
function coverageOf(b: CoverageIn): { invoiceIds?: bigint[]; customerWide?: boolean; allOpenInvoices?: boolean } {
  if (b.customerWide === true) return { customerWide: true };
  if (b.allOpenInvoices === true) return { allOpenInvoices: true };
  return b.invoiceIds?.length ? { invoiceIds: b.invoiceIds } : {};
}

const acknowledgeOf = (b: { acknowledge?: boolean }) => (b.acknowledge !== undefined ? { acknowledge: b.acknowledge } : {});
const Acknowledge = { acknowledge: z.boolean().optional() };
const Instalment = z.object({ dueDate: Day, amountMinor: AnyMinor });
const Percent = z.union([z.string(), z.number()]).nullish();

const Text = z.string().max(500).nullish();
const ContactBody = z.object({ name: z.string().max(200), role: Text, email: Text, phone: Text, city: Text, receivesReminders: z.boolean().optional() });
const ContactParams = z.object({ id: IdParams.shape.id, contactId: IdParams.shape.id });

/** The organisation's members who may own an account (collectors and admins). */
async function possibleOwners(q: Queryable, orgId: string): Promise<string[]> {
  const rows = await q.query<{ email: string }>(
    "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = $1 AND m.role IN ('admin', 'collector') AND m.disabled_at IS NULL AND u.disabled_at IS NULL ORDER BY u.email",
    [orgId],
  );
  return rows.map((r) => r.email);
}

/** A change a collector records on a customer: the customer must exist; the dashboard recomputes after it. */
function customerWrite<B extends z.ZodType>(path: string, body: B, fn: (a: { q: Queryable; orgId: string; currency: string; email: string; id: bigint; today: CalendarDate; b: z.output<B> }) => Promise<unknown>) {
  return appRoute({
    method: 'post',
    path: `/customers/:id${path}`,
    scope: 'write',
    params: IdParams,
    body,
    handler: async ({ q, orgId, org, user, today, params, body: b }) => {
      const id = BigInt(params.id);
      await getCustomer(q, orgId, id);
      const result = await fn({ q, orgId, currency: org.currency, email: user.email, id, today, b: b as z.output<B> });
      await markDashboardStale(q, orgId);
      return { ok: true, result };
    },
  });
}

/** A customer's state in the list, most pressing first (the list sorts on this order). */
export const CUSTOMER_STATUSES: readonly CustomerStatus[] = ['disputed', 'paused', 'promised', 'overdue', 'open', 'settled'];
const statusSql = (today: CalendarDate) => `CASE
  WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.organisation_id = c.organisation_id AND d.customer_id = c.id AND d.resolved_on IS NULL) THEN 0
  WHEN EXISTS (SELECT 1 FROM pauses pa WHERE pa.organisation_id = c.organisation_id AND pa.customer_id = c.id AND ${ACTIVE_PAUSE('pa', `'${today}'::date`)}) THEN 1
  WHEN EXISTS (SELECT 1 FROM promises pr WHERE pr.organisation_id = c.organisation_id AND pr.customer_id = c.id AND pr.status = 'open') THEN 2
  WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = c.organisation_id AND i.customer_id = c.id AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor AND i.due_date < '${today}'::date) THEN 3
  WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = c.organisation_id AND i.customer_id = c.id AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor) THEN 4
  ELSE 5 END`;
const LAST_ACTION = `(SELECT max(a.sent_at) FROM actions a WHERE a.organisation_id = c.organisation_id AND a.customer_id = c.id AND a.status IN ('sent', 'exported'))`;
const NEXT_ACTION = `(SELECT min(a.planned_on) FROM actions a WHERE a.organisation_id = c.organisation_id AND a.customer_id = c.id AND a.status IN ('planned', 'awaiting_approval', 'queued'))`;
const OPEN_COUNT = `(SELECT count(*) FROM invoices i WHERE i.organisation_id = c.organisation_id AND i.customer_id = c.id AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor)`;

const ListQuery = z.object({ q: z.string().optional(), sort: z.string().optional(), dir: z.string().optional(), filter: z.string().optional(), size: intQuery(50, 1, 200), page: intQuery(0, 0, 1_000_000), format: z.string().optional(), lang: z.string().optional() });
type ListArgs = Pick<HandlerArgs<unknown, z.output<typeof ListQuery>, unknown>, 'ctx' | 'q' | 'orgId' | 'user' | 'today' | 'query'>;

/**
 * The customers list: search, filters (the user's own accounts among them), sort on every column,
 * one page of it; for the CSV export, every row the filters keep (up to 10,000).
 */
async function customerList({ ctx, q, orgId, user, today, query }: ListArgs): Promise<CustomerListResponse> {
  const search = (query.q ?? '').trim().slice(0, 100);
  const sort = query.sort ?? 'name';
  const dir = query.dir === 'desc' ? 'DESC' : 'ASC';
  const filter = query.filter ?? '';
  const csv = query.format === 'csv';
  const size = csv ? 10_000 : query.size;
  const page = csv ? 0 : query.page;
  const where = ['c.organisation_id = $1'];
  const params: unknown[] = [orgId];
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
  if (filter === 'mine') {
    params.push(user.email);
    where.push(`c.owner = $${params.length}`);
  }
  const bySnapshot = sort === 'balance' || sort === 'overdue';
  const nulls = dir === 'ASC' ? 'NULLS LAST' : 'NULLS FIRST';
  const orders: Record<string, string> = {
    balance: `s.open_minor ${dir}, s.customer_id`,
    overdue: `s.overdue_minor ${dir}, s.customer_id`,
    id: `coalesce(c.external_id, c.id::text) ${dir}, c.id`,
    owner: `lower(c.owner) ${dir} ${nulls}, lower(c.legal_name), c.id`,
    status: `${statusSql(today)} ${dir}, lower(c.legal_name), c.id`,
    invoices: `${OPEN_COUNT} ${dir}, c.id`,
    // Days late: the oldest overdue invoice first when descending.
    late: `s.oldest_due ${dir === 'DESC' ? 'ASC' : 'DESC'} ${nulls}, c.id`,
    lastAction: `${LAST_ACTION} ${dir} ${nulls}, c.id`,
    nextAction: `${NEXT_ACTION} ${dir} ${nulls}, c.id`,
    name: `lower(c.legal_name) ${dir}, c.id`,
  };
  const order = orders[sort] ?? orders.name!;
  // Sorted by amount, the list walks the snapshot's index (every customer has a row there after
  // each refresh; one created since appears at the next refresh, a few minutes at most).
  const from = bySnapshot
    ? `customer_balance_snapshots s JOIN customers c ON c.organisation_id = s.organisation_id AND c.id = s.customer_id WHERE s.organisation_id = $1 AND ${where.join(' AND ')}`
    : `customers c LEFT JOIN customer_balance_snapshots s ON s.organisation_id = c.organisation_id AND s.customer_id = c.id WHERE ${where.join(' AND ')}`;
  // The filters on amounts read the snapshot too: before the first one (a new organisation, a first start) it is made now.
  const readsSnapshot = bySnapshot || filter === 'open' || filter === 'overdue';
  if (readsSnapshot && !(await q.query('SELECT 1 FROM dashboard_snapshots WHERE organisation_id = $1', [orgId])).length) await refreshDashboard(ctx, orgId);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT c.id, c.legal_name, c.external_id, c.kind, c.siren, c.tags, c.segment, c.owner, ${statusSql(today)} AS status_rank FROM ${from} ORDER BY ${order} LIMIT ${size} OFFSET ${page * size}`,
    params,
  );
  // The total needs the snapshot only when a filter reads it; otherwise counting customers is enough.
  const countFrom = filter === 'open' || filter === 'overdue'
    ? `customer_balance_snapshots s JOIN customers c ON c.organisation_id = s.organisation_id AND c.id = s.customer_id WHERE s.organisation_id = $1 AND ${where.join(' AND ')}`
    : `customers c WHERE ${where.join(' AND ')}`;
  const [count] = await q.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${countFrom}`, params);
  refreshIfStale(ctx, orgId);
  const ids = rows.map((x) => String(x.id));
  // The rows shown carry their live balances (the snapshot only orders them).
  const live = ids.length
    ? await q.query<{ customer_id: bigint; open: bigint; overdue: bigint; oldest: CalendarDate | null; currency: string; n: bigint }>(
        `SELECT customer_id, sum(amount_incl_tax_minor - allocated_minor - written_off_minor) AS open,
                coalesce(sum(amount_incl_tax_minor - allocated_minor - written_off_minor) FILTER (WHERE due_date < $3), 0) AS overdue,
                min(due_date) FILTER (WHERE due_date < $3) AS oldest, min(currency) AS currency, count(*) AS n
           FROM invoices WHERE organisation_id = $1 AND customer_id = ANY($2::bigint[]) AND allocated_minor + written_off_minor < amount_incl_tax_minor
          GROUP BY customer_id`,
        [orgId, pgArray(ids), today],
      )
    : [];
  // The last message that went out and the next step planned, for the rows shown.
  const acts = ids.length
    ? await q.query<{ customer_id: bigint; which: 'last' | 'next'; channel: string; template: string; at: string | null; planned_on: CalendarDate; status: string }>(
        `SELECT * FROM (SELECT DISTINCT ON (a.customer_id) a.customer_id, 'last' AS which, a.channel, a.template, a.sent_at AS at, a.planned_on, a.status
                          FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = ANY($2::bigint[]) AND a.status IN ('sent', 'exported')
                         ORDER BY a.customer_id, a.sent_at DESC NULLS LAST, a.id DESC) l
         UNION ALL
         SELECT * FROM (SELECT DISTINCT ON (a.customer_id) a.customer_id, 'next' AS which, a.channel, a.template, NULL::timestamptz AS at, a.planned_on, a.status
                          FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = ANY($2::bigint[]) AND a.status IN ('planned', 'awaiting_approval', 'queued')
                         ORDER BY a.customer_id, a.planned_on, a.id) n`,
        [orgId, pgArray(ids)],
      )
    : [];
  const actOf = (id: string, which: 'last' | 'next') => acts.find((x) => String(x.customer_id) === id && x.which === which);
  const byId = new Map(live.map((l) => [String(l.customer_id), l]));
  return {
    total: Number(count!.n),
    page,
    size,
    rows: rows.map((x) => {
      const id = String(x.id);
      const l = byId.get(id);
      const last = actOf(id, 'last');
      const next = actOf(id, 'next');
      return {
        id,
        name: String(x.legal_name),
        externalId: (x.external_id as string | null) ?? null,
        kind: x.kind as CustomerListRow['kind'],
        siren: (x.siren as string | null) ?? null,
        tags: (x.tags as string[]) ?? [],
        segment: (x.segment as string | null) ?? null,
        owner: (x.owner as string | null) ?? null,
        status: CUSTOMER_STATUSES[Number(x.status_rank)] ?? 'settled',
        openMinor: String(l?.open ?? 0n),
        overdueMinor: String(l?.overdue ?? 0n),
        openInvoices: Number(l?.n ?? 0n),
        daysPastDue: l?.oldest ? daysBetween(l.oldest, today) : 0,
        currency: l?.currency ?? null,
        lastAction: last ? { channel: last.channel, template: last.template, at: last.at === null ? null : String(last.at), on: last.planned_on } : null,
        nextAction: next ? { channel: next.channel, template: next.template, on: next.planned_on, status: next.status } : null,
      };
    }),
  };
}

const CSV_HEAD = {
  fr: ['Client', 'Code client', 'SIREN', 'Responsable', 'Statut', 'Ouvert', 'Échu', 'Factures ouvertes', 'Jours de retard', 'Devise', 'Dernière action', 'Prochaine action'],
  en: ['Customer', 'Customer code', 'SIREN', 'Owner', 'Status', 'Open', 'Overdue', 'Open invoices', 'Days late', 'Currency', 'Last action', 'Next action'],
} as const;
const CSV_STATUS = {
  fr: { disputed: 'En litige', paused: 'En pause', promised: 'Promesse', overdue: 'En retard', open: 'À échoir', settled: 'Soldé' },
  en: { disputed: 'Disputed', paused: 'Paused', promised: 'Promised', overdue: 'Overdue', open: 'Not yet due', settled: 'Settled' },
} as const;

/** The list as a spreadsheet opens it (semicolons and decimal commas in French, commas and points in English). */
export function customersCsv(rows: CustomerListRow[], lang: Lang): string {
  const sep = lang === 'fr' ? ';' : ',';
  // A cell that starts like a formula is read as text (a customer's name is not a command to a spreadsheet).
  const cell = (v: string) => {
    const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
    return safe.includes(sep) || /["\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const amount = (minor: string) => {
    const neg = minor.startsWith('-');
    const digits = (neg ? minor.slice(1) : minor).padStart(3, '0');
    return `${neg ? '-' : ''}${digits.slice(0, -2)}${lang === 'fr' ? ',' : '.'}${digits.slice(-2)}`;
  };
  const lines = [CSV_HEAD[lang].join(sep)];
  for (const r of rows) {
    lines.push(
      [
        r.name, r.externalId ?? '', r.siren ?? '', r.owner ?? '', CSV_STATUS[lang][r.status], amount(r.openMinor), amount(r.overdueMinor), String(r.openInvoices), String(r.daysPastDue),
        r.currency ?? '', (r.lastAction?.at?.slice(0, 10) ?? r.lastAction?.on) ?? '', r.nextAction?.on ?? '',
      ].map(cell).join(sep),
    );
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

export const customerRoutes = [
  appRoute({
    method: 'get',
    path: '/customers',
    scope: 'read',
    response: z.custom<CustomerListResponse>(),
    query: ListQuery,
    handler: async (a) => {
      const list = await customerList(a);
      if (a.query.format !== 'csv') return list;
      return download(new TextEncoder().encode(customersCsv(list.rows, (a.query.lang ?? a.org.language) === 'en' ? 'en' : 'fr')), 'text/csv; charset=utf-8', `customers-${a.today}.csv`);
    },
  }),
  appRoute({
    method: 'get',
    path: '/customers/:id',
    scope: 'read',
    params: IdParams,
    response: z.custom<CustomerPageResponse>(),
    handler: async ({ q, db, orgId, org, today, params }) => {
      const id = BigInt(params.id);
      const customer = await getCustomer(q, orgId, id);
      const ledger = await customerLedger(q, orgId, id, today);
      await db.tx((t) => ensureBuiltinScenarios(t, orgId, org.language));
      const calendar = await customerCalendar(q, orgId, id, today);
      const assignments = await loadAssignments(q, orgId);
      const exposure = await customerExposure(q, orgId, id);
      const scenario = resolveScenario(assignments, null, id, customer.tags, customer.segment, { overLimit: await hasOpenCreditAlert(q, orgId, id), riskClass: customer.riskClass });
      const pauses = await q.query<{ id: bigint; invoice_ids: bigint[] | null; reason: string; starts_on: CalendarDate; ends_on: CalendarDate | null; lifted_on: CalendarDate | null; note: string | null; active: boolean; invoices: string[] | null }>(
        `SELECT p.id, p.invoice_ids, p.reason, p.starts_on, p.ends_on, p.lifted_on, p.note, ${ACTIVE_PAUSE('p', '$3::date')} AS active,
                (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
           FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 ORDER BY p.starts_on DESC, p.id DESC`,
        [orgId, id, today],
      );
      const timeline = await customerTimeline(q, orgId, id);
      const [risk] = await computeRisk(q, orgId, today, [id]);
      const [own] = await q.query<{ owner: string | null }>('SELECT owner FROM customers WHERE organisation_id = $1 AND id = $2', [orgId, id]);
      const disputes = await q.query<{ id: bigint; reason: string; opened_on: CalendarDate; resolved_on: CalendarDate | null; resolution: string | null; pause_id: bigint | null; invoice_ids: bigint[] | null; numbers: string[] | null }>(
        `SELECT d.id, d.reason, d.opened_on, d.resolved_on, d.resolution, d.pause_id, d.invoice_ids,
                (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS numbers
           FROM disputes d WHERE d.organisation_id = $1 AND d.customer_id = $2 ORDER BY d.resolved_on IS NULL DESC, d.opened_on DESC, d.id DESC LIMIT 100`,
        [orgId, id],
      );
      return {
        owner: own?.owner ?? null,
        owners: await possibleOwners(q, orgId),
        // Its disputes, the open ones first: what each is about, and how it was resolved.
        disputes: disputes.map((x) => ({
          id: String(x.id),
          reason: x.reason,
          openedOn: x.opened_on,
          resolvedOn: x.resolved_on,
          resolution: x.resolution,
          pauseId: x.pause_id === null ? null : String(x.pause_id),
          invoiceIds: x.invoice_ids === null ? null : x.invoice_ids.map(String),
          invoices: x.invoice_ids === null ? null : (x.numbers ?? []),
        })),
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
          invoiceIds: x.invoice_ids === null ? null : x.invoice_ids.map(String),
          invoices: x.invoice_ids === null ? null : (x.invoices ?? []),
          reason: x.reason,
          startsOn: x.starts_on,
          endsOn: x.ends_on,
          liftedOn: x.lifted_on,
          note: x.note,
          active: Boolean(x.active),
        })),
        paused: pauses.some((x) => x.active && x.invoice_ids === null),
        timeline,
      };
    },
  }),
  customerWrite(
    '/pause',
    z.object({ ...Coverage, reason: z.enum(PAUSE_REASONS).optional(), until: z.preprocess((v) => (v === '' || v === null ? undefined : v), Day.optional()), note: z.string().nullish() }),
    ({ q, orgId, id, today, b }) =>
      createPause(q, orgId, { customerId: id, ...coverageOf(b), reason: b.reason ?? 'manual_hold', startsOn: today, endsOn: b.until ?? null, note: b.note ?? null }, today),
  ),
  customerWrite('/resume', z.object({}), async ({ q, orgId, id, today }) => {
    const active = await q.query<{ id: bigint }>(
      `SELECT p.id FROM pauses p WHERE p.organisation_id = $1 AND p.customer_id = $2 AND p.reason IN ('manual_hold', 'other', 'insolvency') AND ${ACTIVE_PAUSE('p', '$3::date')}`,
      [orgId, id, today],
    );
    for (const a of active) await liftPause(q, orgId, a.id, today);
    return { lifted: active.length };
  }),
  customerWrite('/promise', z.object({ ...Coverage, ...Acknowledge, promisedOn: Day, amountMinor: AnyMinor }), ({ q, orgId, id, today, b }) =>
    recordPromise(q, orgId, { customerId: id, ...coverageOf(b), promisedOn: b.promisedOn, amountMinor: minorIn(b.amountMinor, 'amountMinor') }, today, acknowledgeOf(b)),
  ),
  customerWrite('/dispute', z.object({ ...Coverage, ...Acknowledge, reason: z.string().nullish() }), ({ q, orgId, id, today, b }) =>
    openDispute(q, orgId, { customerId: id, ...coverageOf(b), reason: b.reason ?? '' }, today, acknowledgeOf(b)),
  ),
  customerWrite('/payment-plan', z.object({ ...Coverage, ...Acknowledge, instalments: z.array(Instalment) }), ({ q, orgId, id, today, b }) =>
    createPaymentPlan(
      q,
      orgId,
      { customerId: id, ...coverageOf(b), instalments: b.instalments.map((x, i) => ({ dueDate: x.dueDate, amountMinor: minorIn(x.amountMinor, `instalments.${i}.amountMinor`) })) },
      today,
      acknowledgeOf(b),
    ),
  ),
  customerWrite('/scenario', z.object({ scenario: z.string() }), async ({ q, orgId, id, today, b }) => {
    await assignScenario(q, orgId, b.scenario, { customerId: id });
    return replanAfterScenarioChange(q, orgId, today);
  }),
  customerWrite(
    '/credit-policy',
    z.object({
      creditLimit: Percent,
      depositPercent: Percent,
      earlyPaymentDiscount: z.object({ percent: z.union([z.string(), z.number()]).nullish(), withinDays: WholeDays }).nullish(),
      riskClass: z.string().nullish(),
      paymentTermsDays: WholeDays.optional(),
    }),
    async ({ q, orgId, currency, id, today, b }) => {
      const blank = (v: string | number | null | undefined) => (v === undefined ? undefined : v === null || v === '' ? null : String(v));
      const patch: CustomerPatch = creditPolicyOf(
        {
          creditLimit: blank(b.creditLimit),
          depositPercent: blank(b.depositPercent),
          earlyPaymentDiscount: b.earlyPaymentDiscount === undefined ? undefined : b.earlyPaymentDiscount === null ? null : { percent: String(b.earlyPaymentDiscount.percent ?? ''), withinDays: b.earlyPaymentDiscount.withinDays },
          riskClass: b.riskClass === undefined ? undefined : parseRiskClass(b.riskClass),
        },
        currency,
      );
      if (b.paymentTermsDays !== undefined) patch.paymentTermsDays = b.paymentTermsDays;
      await updateCustomer(q, orgId, id, patch);
      const raised = await checkCreditLimits(q, orgId, today, [id]);
      return { creditLimitExceeded: raised.length > 0 };
    },
  ),
  customerWrite(
    '/notes',
    z.object({ body: z.string().nullish(), invoiceId: z.preprocess((v) => (v === '' || v === null ? undefined : v), AnyId.optional()), followUpOn: blankAsAbsent(Day) }),
    async ({ q, orgId, email, id, b }) => {
      const text = (b.body ?? '').trim();
      if (!text) throw validation(E('empty_note'), { field: 'body' });
      const [row] = await q.query<{ id: bigint }>(
        'INSERT INTO customer_notes (organisation_id, customer_id, invoice_id, body, author, follow_up_on) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id',
        [orgId, id, b.invoiceId ?? null, text, email, b.followUpOn ?? null],
      );
      return { id: String(row!.id) };
    },
  ),
  // Who looks after the account, and what identifies the customer (an import may have left it bare).
  customerWrite(
    '/profile',
    z.object({ legalName: z.string().max(300).optional(), siren: Text, vatNumber: Text, language: z.enum(['fr', 'en']).optional(), owner: Text }),
    async ({ q, orgId, id, b }) => {
      const blank = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === '' ? null : v.trim());
      const patch: CustomerPatch = {};
      if (b.legalName !== undefined) patch.legalName = b.legalName;
      if (b.siren !== undefined) patch.siren = blank(b.siren);
      if (b.vatNumber !== undefined) patch.vatNumber = blank(b.vatNumber);
      if (b.language !== undefined) patch.language = b.language;
      await updateCustomer(q, orgId, id, patch);
      if (b.owner !== undefined) {
        const owner = blank(b.owner)?.toLowerCase() ?? null;
        if (owner !== null && !(await possibleOwners(q, orgId)).includes(owner)) throw validation(E('owner_not_member'), { field: 'owner' });
        await q.query('UPDATE customers SET owner = $3, updated_at = now() WHERE organisation_id = $1 AND id = $2', [orgId, id, owner]);
      }
      return { id: String(id) };
    },
  ),
  customerWrite('/contacts', ContactBody, async ({ q, orgId, id, b }) => ({ id: String((await addContact(q, orgId, id, b)).id) })),
  appRoute({
    method: 'post',
    path: '/customers/:id/contacts/:contactId',
    scope: 'write',
    params: ContactParams,
    body: ContactBody,
    handler: async ({ q, orgId, params, body }) => {
      await updateContact(q, orgId, BigInt(params.id), BigInt(params.contactId), body);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/customers/:id/contacts/:contactId/remove',
    scope: 'write',
    params: ContactParams,
    body: z.object({}),
    handler: async ({ q, orgId, params }) => {
      await removeContact(q, orgId, BigInt(params.id), BigInt(params.contactId));
      return { ok: true };
    },
  }),
  // A call nobody planned: the customer rang, or the controller called from the customer page.
  customerWrite(
    '/calls',
    z.object({
      outcome: z.string(),
      reason: blankAsAbsent(z.string()),
      note: z.string().nullish(),
      promisedOn: blankAsAbsent(Day),
      promisedMinor: blankAsAbsent(AnyMinor),
      disputeReason: z.string().nullish(),
      phoneNumber: z.string().nullish(),
      invoiceIds: z.array(AnyId).optional(),
    }),
    ({ q, orgId, email, id, today, b }) =>
      recordUnplannedCall(
        q,
        orgId,
        id,
        b.invoiceIds ?? [],
        {
          outcome: b.outcome as CallOutcome,
          reason: (b.reason as NonPaymentReason | undefined) ?? null,
          note: b.note?.trim() || null,
          promisedOn: b.promisedOn ?? null,
          promisedMinor: b.promisedMinor !== undefined ? minorIn(b.promisedMinor, 'promisedMinor') : null,
          disputeReason: b.disputeReason?.trim() || null,
          phoneNumber: b.phoneNumber?.trim() || null,
          by: email,
        },
        today,
      ),
  ),
  appRoute({
    method: 'post',
    path: '/notes/:id/done',
    scope: 'write',
    params: IdParams,
    body: z.object({}),
    handler: async ({ q, orgId, params }) => {
      const rows = await q.query('UPDATE customer_notes SET follow_up_done_at = now() WHERE organisation_id = $1 AND id = $2 AND follow_up_on IS NOT NULL AND follow_up_done_at IS NULL RETURNING id', [orgId, BigInt(params.id)]);
      if (rows.length === 0) throw notFound('note', params.id);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/pauses/:id/lift',
    scope: 'write',
    params: IdParams,
    handler: async ({ q, orgId, today, params }) => {
      await liftPause(q, orgId, BigInt(params.id), today);
      await markDashboardStale(q, orgId);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'post',
    path: '/disputes/:id/resolve',
    scope: 'write',
    params: IdParams,
    body: z.object({ resolution: z.string().nullish() }),
    handler: async ({ q, orgId, today, params, body }) => {
      const resolution = (body.resolution ?? '').trim();
      if (!resolution) throw validation(E('resolution'), { field: 'resolution' });
      await resolveDispute(q, orgId, BigInt(params.id), resolution, today);
      await markDashboardStale(q, orgId);
      return { ok: true };
    },
  }),
  appRoute({
    method: 'get',
    path: '/customers/:id/penalties',
    scope: 'read',
    params: IdParams,
    query: z.object({ lang: z.string().optional() }),
    response: z.custom<CustomerPenaltiesResponse>(),
    handler: async ({ q, orgId, today, params, query }) => {
      const lang: Lang = query.lang === 'en' ? 'en' : 'fr';
      return await customerPenalties(q, orgId, BigInt(params.id), today, lang);
    },
  }),
  appRoute({
    method: 'get',
    path: '/customers/:id/statement.pdf',
    scope: 'read',
    params: IdParams,
    query: z.object({ inline: z.string().optional() }),
    handler: async ({ q, orgId, today, now, params, query }) => {
      const id = BigInt(params.id);
      const ledger = await customerLedger(q, orgId, id, today);
      if (ledger.openItems.length === 0) throw validation(E('no_open_invoice'), { field: 'customer' });
      const doc = await documentFromLedger(q, orgId, { invoiceNumber: ledger.openItems[0]!.number, key: 'statement', at: today, rates: await cachedRateTables(q) });
      const composed = await composeDocument({ key: 'statement', channel: 'letter', input: doc.input, override: await loadTemplateOverrides(q, orgId), creationDate: now });
      return download(composed.pdf!, 'application/pdf', `statement-${id}-${today}.pdf`, query.inline === '1');
    },
  }),
  appRoute({
    method: 'get',
    path: '/customers/:id/evidence',
    scope: 'read',
    params: IdParams,
    handler: async ({ q, orgId, today, now, params }) => {
      const id = BigInt(params.id);
      // The delivery area's evidence file: every action, every message as it went out (with its
      // SHA-256, events and the letters themselves), the call outcomes, in one PDF.
      const { pdf } = await customerHistoryPdf(q, orgId, id, now);
      return download(pdf, 'application/pdf', `evidence-customer-${id}-${today}.pdf`);
    },
  }),
  // The escalation files of issue 21, from the customer page: the recovery case file (ZIP) and the
  // request for an order for payment (PDF), refused with its reason (422) as the API refuses it.
  appRoute({
    method: 'get',
    path: '/customers/:id/case-file',
    scope: 'read',
    params: IdParams,
    handler: async ({ q, orgId, today, params, principal }) => {
      const f = await buildCaseFile(q, orgId, BigInt(params.id), await cachedRateTables(q), today, { lang: principal.language });
      return download(f.zip, 'application/zip', `${f.reference}.zip`);
    },
  }),
  appRoute({
    method: 'get',
    path: '/customers/:id/injonction',
    scope: 'read',
    params: IdParams,
    handler: async ({ q, orgId, today, params, principal }) => {
      const r = await injonctionRequest(q, orgId, BigInt(params.id), await cachedRateTables(q), today, { lang: principal.language });
      return download(r.pdf, 'application/pdf', `injonction-${params.id}-${today}.pdf`);
    },
  }),
];
