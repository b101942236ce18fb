/**
 * Credit limits over the ledger: each customer's exposure (open receivables + orders announced and
 * not invoiced), the alerts raised when it goes over the limit (told once per crossing by the
 * webhook customer.credit_limit_exceeded, keyed by a unique index), the orders announced through
 * the API, and the stricter scenarios the organisation chose for customers over their limit or in
 * a risk class. Checks are set-based: one statement for any number of customers.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { type Exposure, exposureOf, POLICY_TRIGGERS, type PolicyTrigger } from '../domain/credit-policy.ts';
import type { Minor } from '../domain/money.ts';
import { notFound, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { getScenario } from '../engine/scenarios.ts';
import { eventCtes } from '../webhooks/index.ts';

const E = defineErrors('credit', {
  trigger: { fr: "déclencheur inconnu « {value} » (over_limit, medium ou high)", en: "unknown trigger \"{value}\" (over_limit, medium or high)" },
  order_taken: { fr: "la commande {externalId} est déjà close ou appartient à un autre client", en: "order {externalId} is already closed or belongs to another customer" },
  order_currency: { fr: "la commande est en {currency}, l’organisation tient ses comptes en {orgCurrency}", en: "the order is in {currency}, the organisation keeps its books in {orgCurrency}" },
});

/** Open receivables of a customer (alias i) as SQL. */
const OPEN = 'i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor';

export async function customerExposure(q: Queryable, orgId: string, customerId: bigint): Promise<Exposure> {
  const [r] = await q.query<{ limit_minor: bigint | null; open: bigint; orders: bigint }>(
    `SELECT c.credit_limit_minor AS limit_minor,
            coalesce((SELECT sum(${OPEN}) FROM invoices i WHERE i.organisation_id = c.organisation_id AND i.customer_id = c.id
                        AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor), 0) AS open,
            coalesce((SELECT sum(o.amount_minor) FROM customer_orders o WHERE o.organisation_id = c.organisation_id AND o.customer_id = c.id
                        AND o.closed_on IS NULL), 0) AS orders
       FROM customers c WHERE c.organisation_id = $1 AND c.id = $2`,
    [orgId, customerId],
  );
  if (!r) throw notFound('customer', String(customerId));
  return exposureOf(r.open, r.orders, r.limit_minor);
}

export interface CreditAlert {
  id: bigint;
  customerId: bigint;
  customerName: string;
  raisedOn: CalendarDate;
  exposureMinor: Minor;
  limitMinor: Minor;
}

/** A customer the check is about: one with a limit, or with an alert still open (to clear it). */
const CONCERNED = '(c.credit_limit_minor IS NOT NULL OR EXISTS (SELECT 1 FROM credit_alerts a WHERE a.organisation_id = $1 AND a.customer_id = c.id AND a.cleared_on IS NULL))';

/**
 * Compares exposure with the limit for the customers named (all with a limit when null): raises an
 * alert for each customer newly over it (and tells it by webhook, in the same statement), clears
 * the alerts of those back under it or without a limit any more. A customer that goes over gets
 * its invoices looked at again by the next cycle (its scenario may now be the stricter one).
 * Returns the alerts raised now.
 */
export async function checkCreditLimits(q: Queryable, orgId: string, today: CalendarDate, customerIds: readonly bigint[] | null = null): Promise<CreditAlert[]> {
  const only = customerIds === null ? null : pgArray([...new Set(customerIds)]);
  if (only !== null && customerIds!.length === 0) return [];
  if (only !== null) {
    // Most customers have no limit and no alert: a lookup by key says so without planning the
    // whole statement below (it ran on every invoice written through the API).
    const concerned = await q.query(
      `SELECT 1 FROM customers c WHERE c.organisation_id = $1 AND c.id = ANY($2::bigint[])
          AND ${CONCERNED}
        LIMIT 1`,
      [orgId, only],
    );
    if (concerned.length === 0) return [];
  }
  const scoped = only !== null;
  // Over the whole organisation (the daily cycle) open amounts are summed in one pass grouped by
  // customer; for a few customers (an API write) through the customer index.
  const rows = await q.query<Record<string, unknown>>(
    `WITH scope AS (
       SELECT c.id, c.legal_name, c.credit_limit_minor FROM customers c
        WHERE c.organisation_id = $1 ${scoped ? 'AND c.id = ANY($3::bigint[])' : ''}
          AND ${CONCERNED}),
     open_by_customer AS (
       SELECT i.customer_id, sum(${OPEN}) AS open FROM invoices i
        WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor ${scoped ? 'AND i.customer_id = ANY($3::bigint[])' : ''}
        GROUP BY i.customer_id),
     orders_by_customer AS (
       SELECT o.customer_id, sum(o.amount_minor) AS total FROM customer_orders o
        WHERE o.organisation_id = $1 AND o.closed_on IS NULL ${scoped ? 'AND o.customer_id = ANY($3::bigint[])' : ''}
        GROUP BY o.customer_id),
     exposure AS (
       SELECT s.id, s.legal_name, s.credit_limit_minor, coalesce(ob.open, 0) + coalesce(od.total, 0) AS exposure
         FROM scope s LEFT JOIN open_by_customer ob ON ob.customer_id = s.id LEFT JOIN orders_by_customer od ON od.customer_id = s.id),
     cleared AS (
       UPDATE credit_alerts a SET cleared_on = $2 FROM exposure x
        WHERE a.organisation_id = $1 AND a.customer_id = x.id AND a.cleared_on IS NULL
          AND (x.credit_limit_minor IS NULL OR x.exposure <= x.credit_limit_minor)
       RETURNING a.customer_id),
     raised AS (
       INSERT INTO credit_alerts (organisation_id, customer_id, raised_on, exposure_minor, limit_minor)
       SELECT $1, x.id, $2, x.exposure, x.credit_limit_minor FROM exposure x
        WHERE x.credit_limit_minor IS NOT NULL AND x.exposure > x.credit_limit_minor
       ON CONFLICT (organisation_id, customer_id) WHERE cleared_on IS NULL DO NOTHING
       RETURNING id, customer_id, raised_on, exposure_minor, limit_minor),
     told AS (
       SELECT row_number() OVER (ORDER BY r.customer_id) AS n, $1::uuid AS org, 'customer.credit_limit_exceeded'::text AS type,
              jsonb_build_object('customerId', r.customer_id::text, 'legalName', x.legal_name, 'exposureMinor', r.exposure_minor::text,
                                 'creditLimitMinor', r.limit_minor::text, 'raisedOn', r.raised_on) AS payload
         FROM raised r JOIN exposure x ON x.id = r.customer_id),
     ${eventCtes('told')},
     rescheduled AS (
       DELETE FROM invoice_schedule s USING invoices i, raised r
        WHERE s.organisation_id = $1 AND i.organisation_id = $1 AND i.id = s.invoice_id AND i.customer_id = r.customer_id
       RETURNING 1)
     SELECT r.id, r.customer_id, x.legal_name, r.raised_on, r.exposure_minor, r.limit_minor,
            (SELECT count(*) FROM webhook_d) AS deliveries, (SELECT count(*) FROM rescheduled) AS rescheduled, (SELECT count(*) FROM cleared) AS cleared
       FROM raised r JOIN exposure x ON x.id = r.customer_id ORDER BY r.customer_id`,
    scoped ? [orgId, today, only] : [orgId, today],
  );
  return rows.map((r) => ({
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    customerName: String(r.legal_name),
    raisedOn: r.raised_on as CalendarDate,
    exposureMinor: r.exposure_minor as bigint,
    limitMinor: r.limit_minor as bigint,
  }));
}

export async function hasOpenCreditAlert(q: Queryable, orgId: string, customerId: bigint): Promise<boolean> {
  return (await q.query('SELECT 1 FROM credit_alerts WHERE organisation_id = $1 AND customer_id = $2 AND cleared_on IS NULL', [orgId, customerId])).length > 0;
}

/** The open alerts, with each customer's exposure now (the Today screen). */
export async function openCreditAlerts(q: Queryable, orgId: string, limit = 200): Promise<(CreditAlert & { exposureNowMinor: Minor })[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT a.id, a.customer_id, c.legal_name, a.raised_on, a.exposure_minor, a.limit_minor,
            coalesce((SELECT sum(${OPEN}) FROM invoices i WHERE i.organisation_id = a.organisation_id AND i.customer_id = a.customer_id
                        AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor), 0)
          + coalesce((SELECT sum(o.amount_minor) FROM customer_orders o WHERE o.organisation_id = a.organisation_id AND o.customer_id = a.customer_id AND o.closed_on IS NULL), 0) AS now_minor
       FROM credit_alerts a JOIN customers c ON c.organisation_id = a.organisation_id AND c.id = a.customer_id
      WHERE a.organisation_id = $1 AND a.cleared_on IS NULL ORDER BY a.raised_on DESC, a.id DESC LIMIT $2`,
    [orgId, limit],
  );
  return rows.map((r) => ({
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    customerName: String(r.legal_name),
    raisedOn: r.raised_on as CalendarDate,
    exposureMinor: r.exposure_minor as bigint,
    limitMinor: r.limit_minor as bigint,
    exposureNowMinor: r.now_minor as bigint,
  }));
}

export interface Order {
  id: bigint;
  customerId: bigint;
  externalId: string;
  currency: string;
  amountMinor: Minor;
  announcedOn: CalendarDate;
  closedOn: CalendarDate | null;
}

const toOrder = (r: Record<string, unknown>): Order => ({
  id: r.id as bigint,
  customerId: r.customer_id as bigint,
  externalId: String(r.external_id),
  currency: String(r.currency),
  amountMinor: r.amount_minor as bigint,
  announcedOn: r.announced_on as CalendarDate,
  closedOn: (r.closed_on as CalendarDate | null) ?? null,
});

/**
 * An order the customer placed, not invoiced yet: it counts in the exposure until closed. Announced
 * again under the same external id, it changes its amount (the integrator's retry or correction).
 */
export async function announceOrder(
  q: Queryable,
  orgId: string,
  o: { customerId: bigint; externalId: string; currency: string; amountMinor: Minor; orgCurrency: string },
  today: CalendarDate,
): Promise<{ order: Order; alert: CreditAlert | null }> {
  // Exposure adds amounts: one currency, the organisation's.
  if (o.currency !== o.orgCurrency) throw validation(E('order_currency', { currency: o.currency, orgCurrency: o.orgCurrency }), { field: 'currency' });
  const [c] = await q.query('SELECT 1 FROM customers WHERE organisation_id = $1 AND id = $2', [orgId, o.customerId]);
  if (!c) throw notFound('customer', String(o.customerId));
  const [row] = await q.query<Record<string, unknown>>(
    `INSERT INTO customer_orders (organisation_id, customer_id, external_id, currency, amount_minor, announced_on)
     VALUES ($1,$2,$3,$4,$5,$6)
     ON CONFLICT (organisation_id, external_id) DO UPDATE SET amount_minor = EXCLUDED.amount_minor
       WHERE customer_orders.customer_id = EXCLUDED.customer_id AND customer_orders.closed_on IS NULL
     RETURNING *`,
    [orgId, o.customerId, o.externalId, o.currency, o.amountMinor, today],
  );
  if (!row) throw validation(E('order_taken', { externalId: o.externalId }), { field: 'externalId' });
  const [alert] = await checkCreditLimits(q, orgId, today, [o.customerId]);
  return { order: toOrder(row), alert: alert ?? null };
}

/** The order was invoiced (its invoice now counts) or cancelled: it leaves the exposure. */
export async function closeOrder(q: Queryable, orgId: string, id: bigint, today: CalendarDate): Promise<Order> {
  const [row] = await q.query<Record<string, unknown>>(
    'UPDATE customer_orders SET closed_on = coalesce(closed_on, $3) WHERE organisation_id = $1 AND id = $2 RETURNING *',
    [orgId, id, today],
  );
  if (!row) throw notFound('order', String(id));
  await checkCreditLimits(q, orgId, today, [row.customer_id as bigint]);
  return toOrder(row);
}

export async function listOrders(q: Queryable, orgId: string, customerId: bigint): Promise<Order[]> {
  return (await q.query<Record<string, unknown>>('SELECT * FROM customer_orders WHERE organisation_id = $1 AND customer_id = $2 ORDER BY id', [orgId, customerId])).map(toOrder);
}

export function parseTrigger(v: string, field = 'trigger'): PolicyTrigger {
  if (!(POLICY_TRIGGERS as readonly string[]).includes(v)) throw validation(E('trigger', { value: v }), { field });
  return v as PolicyTrigger;
}

/** The stricter scenario for a trigger (null removes it); invoices in progress follow it from their next step. */
export async function setPolicyScenario(q: Queryable, orgId: string, trigger: PolicyTrigger, scenarioKey: string | null): Promise<void> {
  if (scenarioKey === null) await q.query('DELETE FROM credit_policy_scenarios WHERE organisation_id = $1 AND trigger = $2', [orgId, trigger]);
  else {
    const s = await getScenario(q, orgId, scenarioKey);
    await q.query(
      `INSERT INTO credit_policy_scenarios (organisation_id, trigger, scenario_id) VALUES ($1,$2,$3)
       ON CONFLICT (organisation_id, trigger) DO UPDATE SET scenario_id = EXCLUDED.scenario_id`,
      [orgId, trigger, s.id],
    );
  }
  await q.query('DELETE FROM invoice_schedule WHERE organisation_id = $1', [orgId]);
}

export async function listPolicyScenarios(q: Queryable, orgId: string): Promise<{ trigger: PolicyTrigger; scenarioKey: string; scenarioName: string }[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT p.trigger, s.key, s.name FROM credit_policy_scenarios p JOIN scenarios s ON s.organisation_id = p.organisation_id AND s.id = p.scenario_id
      WHERE p.organisation_id = $1 ORDER BY array_position(ARRAY['over_limit','medium','high'], p.trigger)`,
    [orgId],
  );
  return rows.map((r) => ({ trigger: r.trigger as PolicyTrigger, scenarioKey: String(r.key), scenarioName: String(r.name) }));
}
