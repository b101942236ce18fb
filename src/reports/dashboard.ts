/**
 * The dashboard of the web app: every KPI of docs/product.md (§KPIs) with trends, expected cash-in,
 * accrued penalties and step effectiveness, kept as a snapshot per organisation (recomputed in the
 * background when the ledger changed or it is older than a few minutes) with the customers'
 * balances the customer list sorts on.
 */
import { type Db, jsonReplacer, type Queryable } from '../db/driver.ts';
import { addDays, addMonths, type CalendarDate, dayOfWeek, todayIn } from '../domain/dates.ts';
import { AGING_BUCKETS } from '../domain/kpi.ts';
import { lateFeesUnder, ProvisionalRates } from '../domain/law/index.ts';
import { divRoundHalfUp } from '../domain/money.ts';
import { staleBankGuard } from '../engine/cycle.ts';
import type { DashboardPayload } from '../http/routes/app/shapes/dashboard.ts';
import { cachedRateTables } from '../law/rates-cache.ts';
import { creditorTerms, overdueParties, regimeBetween } from '../law/regime.ts';
import { getOrganisation, type Organisation } from '../ledger/repo.ts';
import { computeKpis } from './kpis.ts';

export type { DashboardPayload };

/** What the snapshot needs of the application: the pool and the clock. */
export interface DashboardContext {
  db: Db;
  now: () => Date;
}

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);

async function orgToday(ctx: DashboardContext, orgId: string): Promise<{ org: Organisation; today: CalendarDate }> {
  const org = await getOrganisation(ctx.db, orgId);
  return { org, today: todayIn(org.timeZone, ctx.now()) };
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
export function refreshDashboard(ctx: DashboardContext, orgId: string): Promise<DashboardPayload> {
  let p = refreshing.get(orgId);
  if (!p) {
    p = computeAndStore(ctx, orgId).finally(() => refreshing.delete(orgId));
    refreshing.set(orgId, p);
  }
  return p;
}

/** Starts a background refresh when the snapshot is stale or old; never waits for it. */
export function refreshIfStale(ctx: DashboardContext, orgId: string): void {
  if (refreshing.has(orgId)) return;
  ctx.db
    .query<{ stale: boolean; computed_at: string }>('SELECT stale, computed_at FROM dashboard_snapshots WHERE organisation_id = $1', [orgId])
    .then(([row]) => {
      if (!row || row.stale || ctx.now().getTime() - Date.parse(row.computed_at) > SNAPSHOT_MAX_AGE_MS) return refreshDashboard(ctx, orgId);
    })
    .catch((e) => console.error('dashboard refresh failed', e));
}

/** The app changed the ledger or the plan: the next read recomputes in the background. */
export async function markDashboardStale(q: Queryable, orgId: string): Promise<void> {
  await q.query('UPDATE dashboard_snapshots SET stale = true WHERE organisation_id = $1', [orgId]);
}

/**
 * The dashboard as the last snapshot has it; when it is stale, a fresh one is computed in the
 * background and the stale one is answered (with its date). Only the first read ever waits.
 */
export async function readDashboard(ctx: DashboardContext, orgId: string, opts: { fresh?: boolean; today?: CalendarDate } = {}): Promise<DashboardPayload> {
  const today = opts.today ?? (await orgToday(ctx, orgId)).today;
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

async function computeAndStore(ctx: DashboardContext, orgId: string): Promise<DashboardPayload> {
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
  const tables = await cachedRateTables(q);
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

