/**
 * Today's worklist (approvals, problems, calls, promises, disputes, credit alerts), the actions'
 * previews and decisions, and call outcomes.
 */
import { z } from 'zod';
import { type Queryable, pgArray } from '../../../db/driver.ts';
import { addDays, type CalendarDate } from '../../../domain/dates.ts';
import type { CallOutcome, NonPaymentReason } from '../../../domain/delivery.ts';
import { recordCallOutcome } from '../../../delivery/calls.ts';
import { parseEml } from '../../../delivery/eml.ts';
import { approveActions, cancelActions, confirmSent, listOutbox, type OutboxRow, resolveUncertain } from '../../../delivery/outbox.ts';
import { previewAction } from '../../../delivery/preview.ts';
import { staleBankGuard } from '../../../engine/cycle.ts';
import { validation } from '../../../errors.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { loadRateTables } from '../../../law/rates-repo.ts';
import { type OverdueParty, rateWarnings } from '../../../law/regime.ts';
import { markDashboardStale } from '../../../reports/dashboard.ts';
import { openCreditAlerts } from '../../../risk/credit.ts';
import { expectedByAction } from '../../../risk/recovery.ts';
import { IdParams } from '../schemas.ts';
import { appRoute, download, minorIn } from './common.ts';
import { AnyMinor, blankAsAbsent, Day, Ids, intQuery } from './shapes/common.ts';
import type { ActivityItem, ActivityResponse, ApproveResponse, CallRow, CancelResponse, TaskRow, TodayResponse } from './shapes/today.ts';

const E = defineErrors('web-today', {
  not_letter: { fr: "cette action n’est pas un courrier", en: "this action is not a letter" },
  not_email: { fr: "cette action n’est pas un e-mail", en: "this action is not an email" },
});

const actionFile = (id: string, f: string) => `/api/app/actions/${id}/${f}`;

export const todayRoutes = [
  appRoute({
    method: 'get',
    path: '/today',
    scope: 'read',
    query: z.object({ sort: z.string().optional() }),
    response: z.custom<TodayResponse>(),
    handler: async ({ q, orgId, org, today, query }) => {
      // Independent reads, sent together: the pool answers them on several connections at once.
      const approvalsP = listOutbox(q, orgId, { status: ['awaiting_approval'], limit: 500 });
      const problemsP = listOutbox(q, orgId, { status: ['failed', 'uncertain'], limit: 200 });
      const callsP = q.query<{
        id: bigint;
        action_id: bigint;
        customer_id: bigint;
        legal_name: string;
        kind: CallRow['kind'];
        script: string | null;
        template: string | null;
        phone_numbers: string[];
        invoices: CallRow['invoices'] | string;
        due_on: CalendarDate;
        attempts: number;
        assigned_to: string | null;
      }>(
        `SELECT t.id, t.action_id, t.customer_id, c.legal_name, t.kind, t.script, a.template, t.phone_numbers, t.invoices, t.due_on, t.attempts, t.assigned_to
           FROM call_tasks t JOIN customers c ON c.organisation_id = t.organisation_id AND c.id = t.customer_id
           LEFT JOIN actions a ON a.organisation_id = t.organisation_id AND a.id = t.action_id
          WHERE t.organisation_id = $1 AND t.status = 'open' AND t.due_on <= $2 ORDER BY t.due_on, t.id LIMIT 300`,
        [orgId, today],
      );
      const tasksP = q.query<TaskSql>(
        `SELECT t.id, t.kind, t.customer_id, c.legal_name, t.source_id, t.due_on, t.note,
                p.promised_on, p.amount_minor, p.currency
           FROM tasks t JOIN customers c ON c.organisation_id = t.organisation_id AND c.id = t.customer_id
           LEFT JOIN promises p ON t.kind = 'broken_promise' AND p.organisation_id = t.organisation_id AND p.id = t.source_id
          WHERE t.organisation_id = $1 AND t.status = 'open' ORDER BY t.due_on DESC, t.id DESC LIMIT 300`,
        [orgId],
      );
      const disputesP = q.query<{ id: bigint; customer_id: bigint; legal_name: string; invoice_ids: bigint[] | null; reason: string; opened_on: CalendarDate; number: string | null }>(
        `SELECT d.id, d.customer_id, c.legal_name, d.invoice_ids, d.reason, d.opened_on,
                (SELECT string_agg(i.number, ', ' ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = d.organisation_id AND i.id = ANY(d.invoice_ids)) AS number
           FROM disputes d JOIN customers c ON c.organisation_id = d.organisation_id AND c.id = d.customer_id
          WHERE d.organisation_id = $1 AND d.resolved_on IS NULL AND d.opened_on >= $2 ORDER BY d.opened_on DESC, d.id DESC LIMIT 200`,
        [orgId, addDays(today, -14)],
      );
      // A call step waits in the queue until the calling window opens: shown with the time it becomes a call to make.
      const queuedCallsP = listOutbox(q, orgId, { status: ['queued', 'awaiting_approval'], channel: ['call_task'], limit: 200 });
      // Notes that asked to come back to the account: from their day until marked done.
      const notesP = q.query<{ id: bigint; customer_id: bigint; legal_name: string; body: string; author: string; follow_up_on: CalendarDate }>(
        `SELECT n.id, n.customer_id, c.legal_name, n.body, n.author, n.follow_up_on
           FROM customer_notes n JOIN customers c ON c.organisation_id = n.organisation_id AND c.id = n.customer_id
          WHERE n.organisation_id = $1 AND n.follow_up_on IS NOT NULL AND n.follow_up_done_at IS NULL AND n.follow_up_on <= $2
          ORDER BY n.follow_up_on, n.id LIMIT 200`,
        [orgId, today],
      );
      const followupsP = q.query<{ id: bigint; kind: string; customer_id: bigint; legal_name: string; note: string | null; created_at: string }>(
        `SELECT f.id, f.kind, f.customer_id, c.legal_name, f.note, f.created_at
           FROM call_followups f JOIN customers c ON c.organisation_id = f.organisation_id AND c.id = f.customer_id
          WHERE f.organisation_id = $1 AND f.status = 'open' ORDER BY f.created_at DESC LIMIT 200`,
        [orgId],
      );
      const bankP = staleBankGuard(q, orgId, today, org.timeZone);
      // The kinds of customer overdue from today's dashboard snapshot when there is one (a scan of every customer otherwise).
      const snapshotP = q.query<{ parties: OverdueParty[] | string | null }>(
        "SELECT payload->'overdueParties' AS parties FROM dashboard_snapshots WHERE organisation_id = $1 AND as_of = $2",
        [orgId, today],
      );
      const [approvals, problems, calls, tasks, disputes, followups, bank, [snapshot], tables, creditAlerts, queuedCalls, notes] = await Promise.all([
        approvalsP, problemsP, callsP, tasksP, disputesP, followupsP, bankP, snapshotP, loadRateTables(q), openCreditAlerts(q, orgId), queuedCallsP, notesP,
      ]);
      const amounts = await actionAmounts(q, orgId, [...approvals, ...problems, ...queuedCalls].map((a) => a.id));
      const parties = typeof snapshot?.parties === 'string' ? (JSON.parse(snapshot.parties) as OverdueParty[]) : (snapshot?.parties ?? undefined);
      const warnings = await rateWarnings(q, orgId, today, tables, parties);
      // What each action may bring in: the expected recovery of the invoices it chases (issue 22).
      const expected = await expectedByAction(q, orgId, [...approvals.map((a) => a.id), ...calls.map((t) => t.action_id)], today);
      const byExpected = query.sort === 'expected';
      const expectedOf = (id: unknown) => expected.get(String(id)) ?? 0n;
      const ranked = <T>(xs: T[], id: (x: T) => unknown) => (byExpected ? [...xs].sort((a, b) => (expectedOf(id(b)) > expectedOf(id(a)) ? 1 : expectedOf(id(b)) < expectedOf(id(a)) ? -1 : 0)) : xs);
      const withAmount = (a: OutboxRow) => ({
        ...a,
        openMinor: String(amounts.get(String(a.id))?.open ?? 0n),
        expectedMinor: String(expectedOf(a.id)),
        currency: amounts.get(String(a.id))?.currency ?? org.currency,
      });
      return {
        today,
        bank,
        rateWarnings: warnings,
        sort: byExpected ? ('expected' as const) : ('planned' as const),
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
          template: t.template,
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
        disputes: disputes.map((d) => ({ id: String(d.id), customerId: String(d.customer_id), customerName: d.legal_name, invoiceIds: d.invoice_ids === null ? null : d.invoice_ids.map(String), invoice: d.number, reason: d.reason, openedOn: d.opened_on })),
        creditAlerts: creditAlerts.map((a) => ({
          id: String(a.id),
          customerId: String(a.customerId),
          customerName: a.customerName,
          raisedOn: a.raisedOn,
          exposureMinor: String(a.exposureNowMinor),
          limitMinor: String(a.limitMinor),
          currency: org.currency,
        })),
        queuedCalls: queuedCalls.sort((a, b) => (a.sendAfter < b.sendAfter ? -1 : a.sendAfter > b.sendAfter ? 1 : 0)).map(withAmount),
        noteFollowups: notes.map((n) => ({ id: String(n.id), customerId: String(n.customer_id), customerName: n.legal_name, body: n.body, author: n.author, followUpOn: n.follow_up_on })),
        followups: followups.map((f) => ({ id: String(f.id), kind: f.kind, customerId: String(f.customer_id), customerName: f.legal_name, note: f.note, createdAt: f.created_at })),
      };
    },
  }),
  // What happened across the accounts lately (calls, notes, promises, disputes, payments, portal visits), newest first.
  appRoute({
    method: 'get',
    path: '/activity',
    scope: 'read',
    query: z.object({ limit: intQuery(50, 1, 200) }),
    response: z.custom<ActivityResponse>(),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<{ kind: ActivityItem['kind']; id: bigint; at: string; customer_id: bigint; legal_name: string; code: string | null; text: string | null; by: string | null; amount_minor: bigint | null; currency: string | null }>(
        `SELECT x.kind, x.id, x.at, x.customer_id, c.legal_name, x.code, x.text, x.by, x.amount_minor, x.currency FROM (
           (SELECT 'call' AS kind, id, recorded_at AS at, customer_id, outcome AS code, note AS text, recorded_by AS by, promised_minor AS amount_minor, NULL::text AS currency
              FROM call_outcomes WHERE organisation_id = $1 ORDER BY recorded_at DESC LIMIT $2)
           UNION ALL
           (SELECT 'note', id, created_at, customer_id, NULL, body, author, NULL, NULL FROM customer_notes WHERE organisation_id = $1 ORDER BY created_at DESC LIMIT $2)
           UNION ALL
           (SELECT 'promise', id, created_at, customer_id, status, NULL, NULL, amount_minor, currency FROM promises WHERE organisation_id = $1 ORDER BY created_at DESC LIMIT $2)
           UNION ALL
           (SELECT 'dispute', id, opened_on::timestamptz, customer_id, CASE WHEN resolved_on IS NULL THEN 'open' ELSE 'resolved' END, reason, NULL, NULL, NULL FROM disputes WHERE organisation_id = $1 ORDER BY opened_on DESC LIMIT $2)
           UNION ALL
           (SELECT 'payment', id, payment_date::timestamptz, customer_id, method, reference, NULL, amount_minor, currency FROM payments WHERE organisation_id = $1 AND customer_id IS NOT NULL ORDER BY payment_date DESC, id DESC LIMIT $2)
           UNION ALL
           (SELECT 'portal', id, created_at, customer_id, kind, NULL, NULL, NULL, NULL FROM portal_events WHERE organisation_id = $1 ORDER BY created_at DESC LIMIT $2)
         ) x JOIN customers c ON c.organisation_id = $1 AND c.id = x.customer_id
         ORDER BY x.at DESC, x.kind, x.id DESC LIMIT $2`,
        [orgId, query.limit],
      );
      return {
        items: rows.map((r) => ({
          kind: r.kind,
          id: String(r.id),
          at: String(r.at),
          customerId: String(r.customer_id),
          customerName: r.legal_name,
          code: r.code,
          text: r.text,
          by: r.by,
          amountMinor: r.amount_minor === null ? null : String(r.amount_minor),
          currency: r.currency,
        })),
      };
    },
  }),
  appRoute({
    method: 'get',
    path: '/actions/:id/preview',
    scope: 'read',
    params: IdParams,
    handler: async ({ db, now, orgId, params }) => {
      const rendered = await previewAction(db, now, orgId, BigInt(params.id));
      if ('error' in rendered) return rendered;
      const x = rendered.r;
      const base = { channel: x.channel, subject: x.subject, invoices: x.invoices, recipients: x.recipients };
      switch (x.channel) {
        case 'email': {
          const eml = await parseEml(x.raw);
          return { ...base, from: eml.from, to: eml.to, html: eml.html, text: eml.text, attachments: eml.attachments, rawUrl: actionFile(params.id, 'preview.eml') };
        }
        case 'sms':
          return { ...base, to: x.to, text: x.text, segments: x.segments };
        case 'letter':
        case 'registered_letter':
          return { ...base, address: x.address, pdfUrl: actionFile(params.id, 'preview.pdf') };
        default:
          return { ...base, text: x.script, phones: x.phones };
      }
    },
  }),
  appRoute({
    method: 'get',
    path: '/actions/:id/preview.pdf',
    scope: 'read',
    params: IdParams,
    handler: async ({ db, now, orgId, params }) => {
      const rendered = await previewAction(db, now, orgId, BigInt(params.id));
      if ('error' in rendered) throw validation(rendered.error, { field: 'action' });
      if (rendered.r.channel !== 'letter' && rendered.r.channel !== 'registered_letter') throw validation(E('not_letter'), { field: 'action' });
      return download(rendered.r.pdf, 'application/pdf', `action-${params.id}.pdf`, true);
    },
  }),
  appRoute({
    method: 'get',
    path: '/actions/:id/preview.eml',
    scope: 'read',
    params: IdParams,
    handler: async ({ db, now, orgId, params }) => {
      const rendered = await previewAction(db, now, orgId, BigInt(params.id));
      if ('error' in rendered) throw validation(rendered.error, { field: 'action' });
      if (rendered.r.channel !== 'email') throw validation(E('not_email'), { field: 'action' });
      return download(rendered.r.raw, 'message/rfc822', `action-${params.id}.eml`);
    },
  }),
  appRoute({
    method: 'post',
    path: '/actions/approve',
    scope: 'write',
    response: z.custom<ApproveResponse>(),
    body: z.object({ ids: Ids }),
    handler: async ({ q, orgId, user, now, body }) => {
      const done = await approveActions(q, orgId, { ids: body.ids }, user.email, now);
      await markDashboardStale(q, orgId);
      return { approved: done.map(String) };
    },
  }),
  appRoute({
    method: 'post',
    path: '/actions/cancel',
    scope: 'write',
    response: z.custom<CancelResponse>(),
    body: z.object({ ids: Ids, reason: z.string().nullish() }),
    handler: async ({ q, orgId, user, now, body }) => {
      const done = await cancelActions(q, orgId, { ids: body.ids }, user.email, body.reason ?? '', now);
      await markDashboardStale(q, orgId);
      return { cancelled: done.map(String) };
    },
  }),
  appRoute({
    method: 'post',
    path: '/actions/resolve',
    scope: 'write',
    body: z.object({ as: z.enum(['sent', 'not_sent']), ids: Ids }),
    handler: async ({ q, orgId, user, now, body }) => ({ resolved: (await resolveUncertain(q, orgId, body.ids, body.as, user.email, now)).map(String) }),
  }),
  appRoute({
    method: 'post',
    path: '/actions/confirm',
    scope: 'write',
    body: z.object({ ids: Ids }),
    handler: async ({ q, orgId, user, now, body }) => {
      const done = await confirmSent(q, orgId, { ids: body.ids }, user.email, now);
      await markDashboardStale(q, orgId);
      return { confirmed: done.map(String) };
    },
  }),
  appRoute({
    method: 'post',
    path: '/calls/:id/outcome',
    scope: 'write',
    params: IdParams,
    body: z.object({
      outcome: z.string(),
      reason: blankAsAbsent(z.string()),
      note: z.string().nullish(),
      promisedOn: blankAsAbsent(Day),
      promisedMinor: blankAsAbsent(AnyMinor),
      disputeReason: z.string().nullish(),
      phoneNumber: z.string().nullish(),
    }),
    handler: async ({ q, orgId, user, today, params, body: b }) => {
      const res = await recordCallOutcome(
        q,
        orgId,
        BigInt(params.id),
        {
          outcome: b.outcome as CallOutcome,
          reason: (b.reason as NonPaymentReason | undefined) ?? null,
          note: b.note?.trim() || null,
          promisedOn: b.promisedOn ?? null,
          promisedMinor: b.promisedMinor !== undefined ? minorIn(b.promisedMinor, 'promisedMinor') : null,
          disputeReason: b.disputeReason?.trim() || null,
          phoneNumber: b.phoneNumber || null,
          by: user.email,
        },
        today,
      );
      await markDashboardStale(q, orgId);
      return res;
    },
  }),
];

interface TaskSql {
  id: bigint;
  kind: string;
  customer_id: bigint;
  legal_name: string;
  source_id: bigint;
  due_on: CalendarDate;
  note: string | null;
  promised_on: CalendarDate | null;
  amount_minor: bigint | null;
  currency: string | null;
}

const taskJson = (t: TaskSql): TaskRow => ({
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

