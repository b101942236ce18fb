/**
 * Reads what the planner needs for a range of customers, in a handful of set-based queries: the
 * customers and how they can be reached, their open invoices, pauses, step records and the
 * scenario each invoice follows. The same reader serves the daily cycle (in chunks), a customer's
 * re-plan and the previews.
 */
import { type Queryable, pgArray } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { type InvoiceHistory, NEVER_CHASED, type OutsideLevel, type PlannerCustomer, type PlannerInvoice, pausedDaysBetween, withOutsideReminder } from '../domain/engine/planner.ts';
import { MESSAGE_CHANNELS, REMINDER_TONES } from '../domain/engine/escalation.ts';
import { ACK_STEP_PREFIX, type Channel, INSTALMENT_STEP_PREFIX, type Tone } from '../domain/engine/scenario.ts';
import { MESSAGE_CHANNEL_KEYS } from '../domain/channels.ts';
import { type Assignments, type CreditStanding, resolveScenario } from './scenarios.ts';
import type { RiskClass } from '../domain/credit-policy.ts';

export const MESSAGE_CHANNELS_SQL = `(${MESSAGE_CHANNEL_KEYS.map((k) => `'${k}'`).join(',')})`;

/** Action statuses that mean the message actually left (a prerequisite is met by those only). */
export const SENT_STATUSES: ReadonlySet<string> = new Set(['sent']);
/**
 * Action statuses of a message on its way: a prerequisite waiting for it waits for the sending
 * (an exported message waits for a human to send it and confirm it).
 */
export const PENDING_STATUSES: ReadonlySet<string> = new Set(['planned', 'awaiting_approval', 'queued', 'sending', 'exported', 'uncertain']);

/** SQL predicate: step record `alias` is a payment-plan instalment's reminder, not a scenario step. */
export const INSTALMENT_STEP = (alias: string) => `${alias}.step_key LIKE '${INSTALMENT_STEP_PREFIX}%'`;

/**
 * SQL predicate: step record `alias` is not a scenario step but a payment-plan instalment's
 * reminder or the acknowledgement of an agreement: the planner leaves them out of an invoice's
 * history, and the pauses that agreement made let them through.
 */
export const OUTSIDE_SCENARIO_STEP = (alias: string) => `(${INSTALMENT_STEP(alias)} OR ${ACK_STEP(alias)})`;

/** SQL predicate: step record `alias` acknowledges a promise, a dispute or a payment plan. */
export const ACK_STEP = (alias: string) => `${alias}.step_key LIKE '${ACK_STEP_PREFIX}%'`;

/** SQL predicate: pause (or dispute) p covers invoice `invoice` (an id expression). */
export const COVERS = (p: string, invoice: string) => `(${p}.invoice_ids IS NULL OR ${invoice} = ANY (${p}.invoice_ids))`;

/**
 * Pauses that end the amicable recovery rather than suspend it: collective proceedings against the
 * debtor, a handover to an agency or a lawyer. Nothing goes to the debtor while one holds, not even
 * the acknowledgement of an agreement; the cancelled actions carry the pause's reason.
 */
export const STOPPING_PAUSE_REASONS = ['insolvency', 'handover'] as const;
export const STOPPING_PAUSE = (p: string) => `${p}.reason IN (${STOPPING_PAUSE_REASONS.map((r) => `'${r}'`).join(', ')})`;

/** SQL predicate: pause p is active on date $today. */
export const ACTIVE_PAUSE = (p: string, today: string) =>
  `${p}.starts_on <= ${today} AND (${p}.ends_on IS NULL OR ${p}.ends_on > ${today}) AND (${p}.lifted_on IS NULL OR ${p}.lifted_on > ${today})`;

export interface PlannerInput {
  customers: Map<bigint, PlannerCustomer>;
  invoices: PlannerInvoice[];
  /** Overdue per customer and currency over all open invoices (the conditions need it). */
  overdue: Map<bigint, Map<string, bigint>>;
}

export type CustomerRange = { fromExclusive: bigint; toInclusive: bigint } | { customerId: bigint };

function rangeSql(r: CustomerRange, col: string, first: number): { sql: string; params: bigint[] } {
  if ('customerId' in r) return { sql: `${col} = $${first}`, params: [r.customerId] };
  return { sql: `${col} > $${first} AND ${col} <= $${first + 1}`, params: [r.fromExclusive, r.toInclusive] };
}

/**
 * What the planner reads of a customer (alias c; $1 organisation, $2 today): how it can be reached
 * and when it was last written to. Needs "GROUP BY c.organisation_id, c.id".
 */
const CUSTOMER_SELECT = `SELECT c.id, c.legal_name, c.kind, c.tags, c.segment, c.risk_class,
            EXISTS (SELECT 1 FROM credit_alerts ca WHERE ca.organisation_id = c.organisation_id AND ca.customer_id = c.id AND ca.cleared_on IS NULL) AS over_limit,
            -- an address that bounced (or a wrong number) is no way to reach the customer
            coalesce(bool_or(ct.email IS NOT NULL AND ct.email <> '' AND NOT EXISTS (SELECT 1 FROM contact_address_status x
                 WHERE x.organisation_id = ct.organisation_id AND x.contact_id = ct.id AND x.kind = 'email' AND x.value = ct.email)), false) AS has_email,
            coalesce(bool_or(ct.phone IS NOT NULL AND ct.phone <> '' AND NOT EXISTS (SELECT 1 FROM contact_address_status x
                 WHERE x.organisation_id = ct.organisation_id AND x.contact_id = ct.id AND x.kind = 'phone' AND x.value = ct.phone)), false) AS has_phone,
            coalesce(bool_or(ct.address_line1 IS NOT NULL AND ct.postal_code IS NOT NULL), false) AS has_postal,
            (SELECT max(a.planned_on) FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = c.id
                AND a.channel IN ${MESSAGE_CHANNELS_SQL} AND a.status <> 'cancelled' AND a.planned_on < $2
                -- an acknowledgement answers the customer: it holds no reminder back
                AND a.dedupe_key NOT LIKE '${ACK_STEP_PREFIX}:%') AS last_message_on
       FROM customers c
       LEFT JOIN contacts ct ON ct.organisation_id = c.organisation_id AND ct.customer_id = c.id
            AND (ct.receives_reminders OR NOT EXISTS (SELECT 1 FROM contacts x WHERE x.organisation_id = c.organisation_id AND x.customer_id = c.id AND x.receives_reminders))`;

/** What the planner reads of an open invoice (alias i, scenario assignment sa). */
const INVOICE_COLUMNS = `i.id, i.number, i.customer_id, i.currency, i.due_date, i.issue_date,
            i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor,
            sa.scenario_id AS assigned_scenario, orm.level AS outside_level, orm.sent_on AS outside_on`;
const ASSIGNMENT_JOIN = `LEFT JOIN scenario_assignments sa ON sa.organisation_id = i.organisation_id AND sa.invoice_id = i.id
         LEFT JOIN outside_reminders orm ON orm.organisation_id = i.organisation_id AND orm.invoice_id = i.id`;

/**
 * What a step record says of an invoice's history (alias sr, its action a, organisation o): the
 * action's channel, tone and status, and the organisation's calendar day it was sent.
 */
const RECORD_COLUMNS = `sr.invoice_id, sr.step_key, sr.step_offset, sr.outcome, sr.superseded, sr.recorded_on,
            a.channel AS action_channel, a.tone AS action_tone, a.status AS action_status,
            (a.sent_at AT TIME ZONE o.time_zone)::date AS sent_on`;
const RECORD_JOINS = `LEFT JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
         JOIN organisations o ON o.id = sr.organisation_id`;

/**
 * The daily cycle's candidates, gathered once per run into temporary tables ordered by customer:
 * the open invoices whose scheduled day has come (or that were never scheduled), with what was
 * already done for them, and their customers. Two sequential passes with hash joins instead of a
 * lookup per invoice and chunk: over a million invoices those lookups were most of the run.
 * The tables go at the end of the transaction.
 */
export async function gatherCycleCandidates(q: Queryable, orgId: string, today: CalendarDate): Promise<void> {
  await q.exec('DROP TABLE IF EXISTS cycle_invoices, cycle_records, cycle_candidates, cycle_customers');
  await q.query(
    `CREATE TEMP TABLE cycle_invoices ON COMMIT DROP AS
       SELECT ${INVOICE_COLUMNS}
         FROM invoices i
         ${ASSIGNMENT_JOIN}
         LEFT JOIN invoice_schedule s ON s.organisation_id = i.organisation_id AND s.invoice_id = i.id
        WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
          AND (s.next_step_on IS NULL OR s.next_step_on <= $2)
        ORDER BY i.customer_id`,
    [orgId, today],
  );
  await q.exec('CREATE INDEX ON cycle_invoices (customer_id); ANALYZE cycle_invoices');
  await q.query(
    `CREATE TEMP TABLE cycle_records ON COMMIT DROP AS
       SELECT i.customer_id, ${RECORD_COLUMNS}
         FROM cycle_invoices i JOIN step_records sr ON sr.organisation_id = $1 AND sr.invoice_id = i.id
         ${RECORD_JOINS}
        WHERE NOT ${OUTSIDE_SCENARIO_STEP('sr')}
        ORDER BY i.customer_id`,
    [orgId],
  );
  await q.exec('CREATE INDEX ON cycle_records (customer_id)');
  await q.exec('CREATE TEMP TABLE cycle_candidates ON COMMIT DROP AS SELECT DISTINCT customer_id FROM cycle_invoices; CREATE INDEX ON cycle_candidates (customer_id)');
  await q.query(
    `CREATE TEMP TABLE cycle_customers ON COMMIT DROP AS
       ${CUSTOMER_SELECT}
         JOIN cycle_candidates k ON k.customer_id = c.id
        WHERE c.organisation_id = $1
        GROUP BY c.organisation_id, c.id
        ORDER BY c.id`,
    [orgId, today],
  );
  await q.exec('CREATE INDEX ON cycle_customers (id)');
}

/**
 * `fromCycleCandidates`: only the invoices gathered by gatherCycleCandidates (the daily cycle);
 * previews and re-plans read every open invoice of the customer.
 */
export async function loadPlannerInput(
  q: Queryable,
  orgId: string,
  today: CalendarDate,
  range: CustomerRange,
  assignments: Assignments,
  /**
   * `unsentAsUndone`: steps whose action has not left yet (awaiting approval, queued) count as not
   * done, as if the organisation went live now (`relance golive`).
   */
  opts: { fromCycleCandidates?: boolean; unsentAsUndone?: boolean } = {},
): Promise<PlannerInput> {
  // Every read is sent at once: none depends on another (but the live step records, on the
  // invoices), so the database answers them back to back, and the cycle can have them under way
  // while it plans the previous chunk.
  type Rows = Record<string, unknown>[];
  const cycle = Boolean(opts.fromCycleCandidates);
  const rc = rangeSql(range, 'c.id', 3);
  const customersRead = cycle
    ? q.query<Record<string, unknown>>(`SELECT * FROM cycle_customers c WHERE ${rangeSql(range, 'c.id', 1).sql}`, rc.params)
    : q.query<Record<string, unknown>>(
        `${CUSTOMER_SELECT}
          WHERE c.organisation_id = $1 AND ${rc.sql}
          GROUP BY c.organisation_id, c.id`,
        [orgId, today, ...rc.params],
      );
  const ri = rangeSql(range, 'i.customer_id', 2);
  const n = ri.params.length;
  // The daily cycle reads only the invoices whose day has come; the rest count through the
  // overdue totals below, which the step conditions need.
  const invoicesRead = cycle
    ? q.query<Record<string, unknown>>(`SELECT * FROM cycle_invoices i WHERE ${rangeSql(range, 'i.customer_id', 1).sql}`, ri.params)
    : q.query<Record<string, unknown>>(
        `SELECT ${INVOICE_COLUMNS} FROM invoices i ${ASSIGNMENT_JOIN}
          WHERE i.organisation_id = $1 AND ${ri.sql} AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor`,
        [orgId, ...ri.params],
      );
  const overdueRead = q.query<Record<string, unknown>>(
    `SELECT i.customer_id, i.currency, sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor) AS overdue
       FROM invoices i
      WHERE i.organisation_id = $1 AND ${ri.sql} AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor AND i.due_date < $${n + 2}::date
      GROUP BY 1, 2`,
    [orgId, ...ri.params, today],
  );
  const rr = rangeSql(range, 'sr.customer_id', 1);
  const recordsRead: Promise<Rows> = cycle
    ? q.query<Record<string, unknown>>(`SELECT * FROM cycle_records sr WHERE ${rr.sql}`, rr.params)
    : invoicesRead.then((rows) =>
        rows.length
          ? q.query<Record<string, unknown>>(
              `SELECT ${RECORD_COLUMNS}
                 FROM step_records sr
                 ${RECORD_JOINS}
                WHERE sr.organisation_id = $1 AND sr.invoice_id = ANY($2::bigint[]) AND NOT ${OUTSIDE_SCENARIO_STEP('sr')}`,
              [orgId, pgArray(rows.map((r) => r.id as bigint))],
            )
          : [],
      );
  const rp = rangeSql(range, 'p.customer_id', 2);
  const pausesRead = q.query<Record<string, unknown>>(
    `SELECT p.customer_id, p.invoice_ids, p.starts_on, p.ends_on, p.lifted_on FROM pauses p WHERE p.organisation_id = $1 AND ${rp.sql}`,
    [orgId, ...rp.params],
  );
  const [customerRows, invoiceRows, overdueRows, records, pauseRows] = await Promise.all([customersRead, invoicesRead, overdueRead, recordsRead, pausesRead]);

  const customers = new Map<bigint, PlannerCustomer>();
  const customerMeta = new Map<bigint, { tags: string[]; segment: string | null; credit: CreditStanding }>();
  for (const r of customerRows) {
    const id = r.id as bigint;
    customers.set(id, {
      id,
      name: String(r.legal_name),
      kind: r.kind as PlannerCustomer['kind'],
      tags: (r.tags as string[]) ?? [],
      hasEmail: Boolean(r.has_email),
      hasPhone: Boolean(r.has_phone),
      hasPostalAddress: Boolean(r.has_postal),
      lastMessageOn: (r.last_message_on as CalendarDate | null) ?? null,
    });
    customerMeta.set(id, {
      tags: (r.tags as string[]) ?? [],
      segment: (r.segment as string | null) ?? null,
      credit: { overLimit: Boolean(r.over_limit), riskClass: (r.risk_class as RiskClass | null) ?? null },
    });
  }
  const overdue = new Map<bigint, Map<string, bigint>>();
  for (const r of overdueRows) {
    const cid = r.customer_id as bigint;
    let m = overdue.get(cid);
    if (!m) overdue.set(cid, (m = new Map()));
    m.set(String(r.currency), r.overdue as bigint);
  }
  const done = new Map<bigint, { keys: Set<string>; max: number | null; history: InvoiceHistory }>();
  for (const r of records) {
    if (opts.unsentAsUndone && r.outcome === 'planned' && PENDING_STATUSES.has(String(r.action_status)) && r.action_status !== 'sending') continue;
    const id = r.invoice_id as bigint;
    let d = done.get(id);
    if (!d) done.set(id, (d = { keys: new Set(), max: null, history: { ...NEVER_CHASED } }));
    // A cancelled step (payment, pause) was never sent: it may be planned again. The steps it
    // superseded stay done: they were legitimately passed over.
    const offsets: number[] = [];
    if (r.outcome !== 'cancelled') {
      d.keys.add(String(r.step_key));
      offsets.push(Number(r.step_offset));
    }
    if (r.outcome === 'planned') addToHistory(d.history, r);
    for (const k of (r.superseded as string[]) ?? []) {
      d.keys.add(k);
      offsets.push(Number.parseInt(k, 10));
    }
    for (const off of offsets) d.max = d.max === null ? off : Math.max(d.max, off);
  }
  const pausesByCustomer = new Map<bigint, { invoiceIds: Set<bigint> | null; start: CalendarDate; end: CalendarDate | null }[]>();
  for (const p of pauseRows) {
    const list = pausesByCustomer.get(p.customer_id as bigint) ?? [];
    const ends = [p.ends_on, p.lifted_on].filter(Boolean) as CalendarDate[];
    const ids = p.invoice_ids as (bigint | string)[] | null;
    list.push({ invoiceIds: ids ? new Set(ids.map((x) => BigInt(x))) : null, start: p.starts_on as CalendarDate, end: ends.length ? (ends.sort()[0] as CalendarDate) : null });
    pausesByCustomer.set(p.customer_id as bigint, list);
  }
  const invoices: PlannerInvoice[] = [];
  for (const r of invoiceRows) {
    const customerId = r.customer_id as bigint;
    const meta = customerMeta.get(customerId);
    if (!meta) continue;
    const id = r.id as bigint;
    const scenario = resolveScenario(assignments, (r.assigned_scenario as bigint | null) ?? null, customerId, meta.tags, meta.segment, meta.credit);
    // Only the pauses that cover this invoice: a promise on another invoice leaves it on its calendar.
    const pauses = (pausesByCustomer.get(customerId) ?? []).filter((p) => p.invoiceIds === null || p.invoiceIds.has(id));
    const active = pauses.filter((p) => p.start <= today && (p.end === null || p.end > today));
    const paused = active.length > 0;
    const pausedUntil = paused && active.every((p) => p.end !== null) ? (active.map((p) => p.end!).sort().at(-1) as CalendarDate) : null;
    const d = done.get(id);
    const history = r.outside_level ? withOutsideReminder(d?.history ?? NEVER_CHASED, r.outside_level as OutsideLevel, r.outside_on as CalendarDate) : (d?.history ?? NEVER_CHASED);
    invoices.push({
      invoiceId: id,
      number: String(r.number),
      customerId,
      currency: String(r.currency),
      openMinor: r.open_minor as bigint,
      dueDate: r.due_date as CalendarDate,
      scenarioId: scenario.id,
      scenarioVersion: scenario.version,
      scenario: scenario.definition,
      paused,
      pausedUntil,
      // The clock of the steps from the due date on stops while paused; a pause before the due date
      // moves nothing (the steps before it keep the date they announce).
      pausedDays: pauses.length ? pausedDaysBetween(pauses, r.due_date as CalendarDate, today) : 0,
      done: d?.keys ?? new Set(),
      maxDoneOffset: d?.max ?? null,
      history,
    });
  }
  return { customers, invoices, overdue };
}

/** What one planned step record adds to its invoice's history (a contact, a reminder or notice sent or on its way). */
function addToHistory(h: InvoiceHistory, r: Record<string, unknown>): void {
  const on = r.recorded_on as CalendarDate;
  if (h.lastContactOn === null || on > h.lastContactOn) h.lastContactOn = on;
  // From the due day on, a step is a reminder of an unpaid invoice: the engine is chasing it.
  if (Number(r.step_offset) >= 0) h.chased = true;
  const channel = r.action_channel as Channel | null;
  const tone = r.action_tone as Tone | null;
  const status = r.action_status as string | null;
  if (!channel || !tone || !status) return;
  const reminder = REMINDER_TONES.has(tone) && MESSAGE_CHANNELS.has(channel);
  const notice = tone === 'formal_notice' && MESSAGE_CHANNELS.has(channel);
  if (SENT_STATUSES.has(status) && r.sent_on) {
    const sentOn = r.sent_on as CalendarDate;
    if (reminder && (h.lastReminderSentOn === null || sentOn > h.lastReminderSentOn)) h.lastReminderSentOn = sentOn;
    if (notice && (!h.formalNotice || sentOn > h.formalNotice.sentOn)) h.formalNotice = { sentOn, channel };
  } else if (PENDING_STATUSES.has(status)) {
    if (reminder) h.reminderPending = true;
    if (notice) h.formalNoticePending = true;
  }
}
