/**
 * Replay: what a scenario would have done on last year's invoices. The invoices due in the 365
 * days before `today` are run through the planner day by day (src/domain/engine/simulate.ts) under
 * the scenario asked, as if never chased and every action sent the day it was planned, each
 * invoice leaving the run on the day it was actually paid. Beside it, what was actually sent over
 * the same invoices. The payments are the real ones: the replay counts the actions a scenario
 * costs, not the money it would have changed.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { NEVER_CHASED, type PlannerInvoice } from '../domain/engine/planner.ts';
import { simulate } from '../domain/engine/simulate.ts';
import { loadPlannerInput } from '../engine/planner-input.ts';
import { getScenario, loadAssignments } from '../engine/scenarios.ts';

export interface Replay {
  scenario: string;
  from: CalendarDate;
  to: CalendarDate;
  invoices: number;
  /** What the scenario would have done: actions by channel and by tone, and the invoices it would have chased. */
  wouldHave: { actions: number; byChannel: Record<string, number>; byTone: Record<string, number>; invoicesChased: number };
  /** What was actually sent (or exported) for the same invoices. */
  actually: { actions: number; byChannel: Record<string, number> };
}

export async function replayScenario(q: Queryable, orgId: string, scenarioKey: string, today: CalendarDate): Promise<Replay> {
  const scenario = await getScenario(q, orgId, scenarioKey);
  const from = addDays(today, -365);
  const to = addDays(today, -1);
  const rows = await q.query<Record<string, unknown>>(
    `WITH paid AS (SELECT invoice_id, max(allocated_on) AS paid_on FROM allocations WHERE organisation_id = $1 GROUP BY invoice_id)
     SELECT i.id, i.number, i.customer_id, i.currency, i.amount_incl_tax_minor AS amount, i.due_date,
            CASE WHEN i.allocated_minor >= i.amount_incl_tax_minor THEN p.paid_on END AS paid_on
       FROM invoices i LEFT JOIN paid p ON p.invoice_id = i.id
      WHERE i.organisation_id = $1 AND i.due_date BETWEEN $2 AND $3 ORDER BY i.customer_id, i.id`,
    [orgId, from, to],
  );
  const input = await loadPlannerInput(q, orgId, today, { fromExclusive: -1n, toInclusive: 9_223_372_036_854_775_807n }, await loadAssignments(q, orgId));
  const customers = new Map([...input.customers].map(([id, c]) => [id, { ...c, lastMessageOn: null }]));
  const invoices: PlannerInvoice[] = rows
    .filter((r) => customers.has(r.customer_id as bigint))
    .map((r) => ({
      invoiceId: r.id as bigint,
      number: String(r.number),
      customerId: r.customer_id as bigint,
      currency: String(r.currency),
      openMinor: r.amount as bigint,
      dueDate: r.due_date as CalendarDate,
      scenarioId: scenario.id,
      scenarioVersion: scenario.version,
      scenario: scenario.definition,
      paused: false,
      pausedUntil: null,
      pausedDays: 0,
      done: new Set<string>(),
      maxDoneOffset: null,
      history: { ...NEVER_CHASED },
    }));
  const paidOn = new Map(rows.filter((r) => r.paid_on).map((r) => [r.id as bigint, r.paid_on as CalendarDate]));
  const byChannel: Record<string, number> = {};
  const byTone: Record<string, number> = {};
  const chased = new Set<bigint>();
  let actions = 0;
  simulate({
    from: addDays(from, -30),
    to,
    customers,
    invoices,
    paidOn,
    onDay(_day, plan) {
      for (const a of plan.actions) {
        actions++;
        byChannel[a.channel] = (byChannel[a.channel] ?? 0) + 1;
        byTone[a.tone] = (byTone[a.tone] ?? 0) + 1;
        for (const i of a.invoices) chased.add(i.invoiceId);
      }
    },
  });
  const real = await q.query<{ channel: string; n: bigint }>(
    `SELECT a.channel, count(DISTINCT a.id) AS n FROM actions a JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id
      WHERE a.organisation_id = $1 AND a.status IN ('sent', 'exported') AND sr.invoice_id = ANY($2::bigint[]) GROUP BY a.channel`,
    [orgId, pgArray(invoices.map((i) => i.invoiceId))],
  );
  const actualByChannel = Object.fromEntries(real.map((r) => [r.channel, Number(r.n)]));
  return {
    scenario: scenario.key,
    from,
    to,
    invoices: invoices.length,
    wouldHave: { actions, byChannel, byTone, invoicesChased: chased.size },
    actually: { actions: Object.values(actualByChannel).reduce((s, n) => s + n, 0), byChannel: actualByChannel },
  };
}
