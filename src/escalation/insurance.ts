/**
 * Credit insurance: the organisation's policy, the cases of unpaid debt the insurer must hear
 * about, the tasks raised before each of the policy's deadlines, and the declaration's data for
 * the insurer (debtor, SIREN, amounts, due dates, the steps taken).
 *
 * The daily cycle (checkInsuranceDeadlines) opens a case when a debtor's first invoice falls
 * overdue, joins the invoices falling overdue after it until the case is declared, settles the
 * case (and cancels its tasks) once everything in it is paid, and raises the two tasks from
 * `noticeDays` before their deadline: the end of the extension of terms the insured may grant
 * alone, and the last day to declare. Idempotent: a case per customer is a unique index, a task
 * per case and kind is the tasks' unique key.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { type CalendarDate, daysBetween, formatShortDate } from '../domain/dates.ts';
import { type InsurancePolicy, insuranceDeadlines, insuranceTasksDue, policyProblem } from '../domain/escalation/insurance.ts';
import type { Minor } from '../domain/money.ts';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';
import { getCustomer, getOrganisation } from '../ledger/repo.ts';
import { recoveryHistory, type RecoveryHistory } from './history.ts';
import { escalationPdf, fields, heading, longDate, money, para, table, title } from './pdf.ts';

const E = defineErrors('escalation-insurance', {
  insurer: { fr: "indiquez l’assureur-crédit (son nom)", en: 'name the credit insurer' },
  figure: { fr: '{field} doit être un nombre entier de jours de {min} à {max}', en: '{field} must be a whole number of days from {min} to {max}' },
  no_policy: { fr: "aucune police d’assurance-crédit : enregistrez-la d’abord (relance insurance policy set)", en: 'no credit insurance policy: record it first (relance insurance policy set)' },
  not_found_case: { fr: 'dossier d’assurance-crédit {id} introuvable', en: 'credit insurance case {id} not found' },
  not_open: { fr: 'le dossier d’assurance-crédit {id} est déjà {status}', en: 'credit insurance case {id} is already {status}' },
  before_open: { fr: 'la déclaration ne peut pas précéder l’ouverture du dossier ({opened})', en: 'the declaration cannot precede the opening of the case ({opened})' },
});

export interface InsuranceCase {
  id: bigint;
  customerId: bigint;
  customerName: string;
  firstDueDate: CalendarDate;
  extensionEndsOn: CalendarDate;
  declarationDueOn: CalendarDate;
  openedOn: CalendarDate;
  status: 'open' | 'declared' | 'settled';
  declaredOn: CalendarDate | null;
  insurerReference: string | null;
  settledOn: CalendarDate | null;
  invoiceCount: number;
  openMinor: Minor;
}

const s = (v: unknown) => (v === null || v === undefined ? null : String(v));

export async function getInsurancePolicy(q: Queryable, orgId: string): Promise<InsurancePolicy | null> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM credit_insurance_policies WHERE organisation_id = $1', [orgId]);
  if (!r) return null;
  return {
    insurer: String(r.insurer),
    policyNumber: s(r.policy_number),
    declarationDays: Number(r.declaration_days),
    maxExtensionDays: Number(r.max_extension_days),
    noticeDays: Number(r.notice_days),
    active: r.active === true,
  };
}

/** Records (or replaces) the policy. Open cases keep the deadlines they were opened with. */
export async function setInsurancePolicy(q: Queryable, orgId: string, p: Omit<InsurancePolicy, 'active' | 'noticeDays'> & { noticeDays?: number; active?: boolean }): Promise<InsurancePolicy> {
  const policy: InsurancePolicy = { ...p, insurer: p.insurer.trim(), policyNumber: p.policyNumber?.trim() || null, noticeDays: p.noticeDays ?? 10, active: p.active ?? true };
  if (!policy.insurer) throw validation(E('insurer'), { field: 'insurer' });
  const problem = policyProblem(policy);
  if (problem) throw validation(E('figure', { field: problem.field, min: problem.min, max: problem.max }), { field: problem.field });
  await q.query(
    `INSERT INTO credit_insurance_policies (organisation_id, insurer, policy_number, declaration_days, max_extension_days, notice_days, active)
     VALUES ($1,$2,$3,$4,$5,$6,$7)
     ON CONFLICT (organisation_id) DO UPDATE SET insurer = excluded.insurer, policy_number = excluded.policy_number, declaration_days = excluded.declaration_days,
       max_extension_days = excluded.max_extension_days, notice_days = excluded.notice_days, active = excluded.active, updated_at = now()`,
    [orgId, policy.insurer, policy.policyNumber, policy.declarationDays, policy.maxExtensionDays, policy.noticeDays, policy.active],
  );
  return policy;
}

export interface InsuranceCheck {
  opened: number;
  joined: number;
  settled: number;
  tasksRaised: number;
}

const OPEN = 'i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor';

/** The daily cycle's part: cases opened, joined and settled, tasks raised before the deadlines. */
export async function checkInsuranceDeadlines(q: Queryable, orgId: string, today: CalendarDate): Promise<InsuranceCheck> {
  const out: InsuranceCheck = { opened: 0, joined: 0, settled: 0, tasksRaised: 0 };
  const policy = await getInsurancePolicy(q, orgId);
  if (!policy?.active) return out;

  // Everything in the case paid before it was declared: nothing to tell the insurer any more.
  const settled = await q.query<{ id: bigint }>(
    `UPDATE credit_insurance_cases k SET status = 'settled', settled_on = $2
      WHERE k.organisation_id = $1 AND k.status = 'open'
        AND NOT EXISTS (SELECT 1 FROM credit_insurance_case_invoices ci JOIN invoices i ON i.organisation_id = ci.organisation_id AND i.id = ci.invoice_id
                         WHERE ci.organisation_id = k.organisation_id AND ci.case_id = k.id AND ${OPEN})
      RETURNING k.id`,
    [orgId, today],
  );
  out.settled = settled.length;
  if (settled.length) {
    await q.query(
      `UPDATE tasks SET status = 'cancelled' WHERE organisation_id = $1 AND kind IN ('insurance_extension', 'insurance_declaration') AND source_id = ANY($2::bigint[]) AND status = 'open'`,
      [orgId, pgArray(settled.map((r) => r.id))],
    );
  }

  // Invoices overdue and open that no case holds yet: they open their customer's case or join it.
  const fresh = await q.query<{ customer_id: bigint; id: bigint; due_date: CalendarDate }>(
    `SELECT i.customer_id, i.id, i.due_date FROM invoices i
      WHERE i.organisation_id = $1 AND i.due_date < $2 AND ${OPEN}
        AND NOT EXISTS (SELECT 1 FROM credit_insurance_case_invoices ci WHERE ci.organisation_id = i.organisation_id AND ci.invoice_id = i.id)
      ORDER BY i.customer_id, i.due_date, i.id`,
    [orgId, today],
  );
  if (fresh.length) {
    const byCustomer = new Map<bigint, { ids: bigint[]; firstDue: CalendarDate }>();
    for (const r of fresh) {
      const c = byCustomer.get(r.customer_id);
      if (c) c.ids.push(r.id);
      else byCustomer.set(r.customer_id, { ids: [r.id], firstDue: r.due_date });
    }
    const customers = [...byCustomer.keys()];
    const existing = await q.query<{ id: bigint; customer_id: bigint }>(
      `SELECT id, customer_id FROM credit_insurance_cases WHERE organisation_id = $1 AND status = 'open' AND customer_id = ANY($2::bigint[])`,
      [orgId, pgArray(customers)],
    );
    const caseOf = new Map(existing.map((r) => [r.customer_id, r.id]));
    const toOpen = customers.filter((c) => !caseOf.has(c));
    if (toOpen.length) {
      const deadlines = toOpen.map((c) => insuranceDeadlines(policy, byCustomer.get(c)!.firstDue));
      const opened = await q.query<{ id: bigint; customer_id: bigint }>(
        `INSERT INTO credit_insurance_cases (organisation_id, customer_id, first_due_date, extension_ends_on, declaration_due_on, opened_on)
         SELECT $1, c, f, e, d, $6 FROM unnest($2::bigint[], $3::date[], $4::date[], $5::date[]) AS x(c, f, e, d)
         RETURNING id, customer_id`,
        [orgId, pgArray(toOpen), pgArray(toOpen.map((c) => byCustomer.get(c)!.firstDue)), pgArray(deadlines.map((d) => d.extensionEndsOn)), pgArray(deadlines.map((d) => d.declarationDueOn)), today],
      );
      for (const r of opened) caseOf.set(r.customer_id, r.id);
      out.opened = opened.length;
    }
    const invoiceIds: bigint[] = [];
    const caseIds: bigint[] = [];
    for (const [c, v] of byCustomer) {
      for (const id of v.ids) {
        invoiceIds.push(id);
        caseIds.push(caseOf.get(c)!);
      }
    }
    await q.query(
      `INSERT INTO credit_insurance_case_invoices (organisation_id, invoice_id, case_id) SELECT $1, i, k FROM unnest($2::bigint[], $3::bigint[]) AS x(i, k) ON CONFLICT DO NOTHING`,
      [orgId, pgArray(invoiceIds), pgArray(caseIds)],
    );
    out.joined = fresh.length;
  }

  // The tasks whose day has come, each once per case.
  const open = await q.query<{ id: bigint; customer_id: bigint; extension_ends_on: CalendarDate; declaration_due_on: CalendarDate; opened_on: CalendarDate }>(
    `SELECT id, customer_id, extension_ends_on, declaration_due_on, opened_on FROM credit_insurance_cases WHERE organisation_id = $1 AND status = 'open'`,
    [orgId],
  );
  const tasks = open.flatMap((k) =>
    insuranceTasksDue(policy, { extensionEndsOn: k.extension_ends_on, declarationDueOn: k.declaration_due_on, openedOn: k.opened_on }, today).map((x) => ({ ...x, caseId: k.id, customerId: k.customer_id })),
  );
  if (tasks.length) {
    const raised = await q.query(
      `INSERT INTO tasks (organisation_id, customer_id, kind, source_id, due_on)
       SELECT $1, c, k, s, d FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::date[]) AS x(c, k, s, d)
       ON CONFLICT (organisation_id, kind, source_id) DO NOTHING RETURNING id`,
      [orgId, pgArray(tasks.map((x) => x.customerId)), pgArray(tasks.map((x) => x.kind)), pgArray(tasks.map((x) => x.caseId)), pgArray(tasks.map((x) => x.dueOn))],
    );
    out.tasksRaised = raised.length;
  }
  return out;
}

function toCase(r: Record<string, unknown>): InsuranceCase {
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    customerName: String(r.legal_name),
    firstDueDate: r.first_due_date as CalendarDate,
    extensionEndsOn: r.extension_ends_on as CalendarDate,
    declarationDueOn: r.declaration_due_on as CalendarDate,
    openedOn: r.opened_on as CalendarDate,
    status: r.status as InsuranceCase['status'],
    declaredOn: (r.declared_on as CalendarDate | null) ?? null,
    insurerReference: s(r.insurer_reference),
    settledOn: (r.settled_on as CalendarDate | null) ?? null,
    invoiceCount: Number(r.invoice_count ?? 0),
    openMinor: BigInt(String(r.open_minor ?? 0)),
  };
}

const CASE_SELECT = `SELECT k.*, c.legal_name,
    (SELECT count(*) FROM credit_insurance_case_invoices ci WHERE ci.organisation_id = k.organisation_id AND ci.case_id = k.id) AS invoice_count,
    (SELECT coalesce(sum(i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor), 0) FROM credit_insurance_case_invoices ci
       JOIN invoices i ON i.organisation_id = ci.organisation_id AND i.id = ci.invoice_id WHERE ci.organisation_id = k.organisation_id AND ci.case_id = k.id) AS open_minor
  FROM credit_insurance_cases k JOIN customers c ON c.organisation_id = k.organisation_id AND c.id = k.customer_id`;

export async function listInsuranceCases(q: Queryable, orgId: string, opts: { status?: InsuranceCase['status'] | null; customerId?: bigint | null } = {}): Promise<InsuranceCase[]> {
  const rows = await q.query<Record<string, unknown>>(
    `${CASE_SELECT} WHERE k.organisation_id = $1 AND ($2::text IS NULL OR k.status = $2) AND ($3::bigint IS NULL OR k.customer_id = $3) ORDER BY k.declaration_due_on, k.id`,
    [orgId, opts.status ?? null, opts.customerId ?? null],
  );
  return rows.map(toCase);
}

export async function getInsuranceCase(q: Queryable, orgId: string, id: bigint): Promise<InsuranceCase> {
  const [r] = await q.query<Record<string, unknown>>(`${CASE_SELECT} WHERE k.organisation_id = $1 AND k.id = $2`, [orgId, id]);
  if (!r) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('not_found_case', { id: String(id) }), { details: { what: 'credit insurance case', id: String(id) } });
  return toCase(r);
}

/** The debt was declared to the insurer: the case's tasks are done; later overdue invoices open a new case. */
export async function markInsuranceDeclared(q: Queryable, orgId: string, id: bigint, on: CalendarDate, reference: string | null): Promise<InsuranceCase> {
  const k = await getInsuranceCase(q, orgId, id);
  if (k.status !== 'open') throw new RelanceError(ERROR_CODES.CONFLICT, E('not_open', { id: String(id), status: k.status }), { where: { field: 'case' } });
  if (on < k.openedOn) throw validation(E('before_open', { opened: k.openedOn }), { field: 'declaredOn' });
  await q.query(`UPDATE credit_insurance_cases SET status = 'declared', declared_on = $3, insurer_reference = $4 WHERE organisation_id = $1 AND id = $2`, [orgId, id, on, reference?.trim() || null]);
  await q.query(`UPDATE tasks SET status = 'done' WHERE organisation_id = $1 AND kind IN ('insurance_extension', 'insurance_declaration') AND source_id = $2 AND status = 'open'`, [orgId, id]);
  return getInsuranceCase(q, orgId, id);
}

export interface InsuranceDeclaration {
  insurer: string;
  policyNumber: string | null;
  case: { id: string; firstDueDate: CalendarDate; extensionEndsOn: CalendarDate; declarationDueOn: CalendarDate; status: InsuranceCase['status'] };
  creditor: { name: string; siren: string | null };
  debtor: { id: string; name: string; siren: string | null; vatNumber: string | null; country: string | null; address: string | null };
  currency: string;
  invoices: { number: string; issueDate: CalendarDate; dueDate: CalendarDate; amountInclTaxMinor: Minor; paidMinor: Minor; openMinor: Minor; daysOverdue: number; disputed: boolean }[];
  totalOpenMinor: Minor;
  steps: RecoveryHistory;
  asOf: CalendarDate;
}

/** What the insurer's declaration form asks, from the ledger as it stands on `today`. */
export async function insuranceDeclaration(q: Queryable, orgId: string, id: bigint, today: CalendarDate): Promise<InsuranceDeclaration> {
  const policy = await getInsurancePolicy(q, orgId);
  if (!policy) throw new RelanceError(ERROR_CODES.CONFLICT, E('no_policy'), { where: { field: 'policy' } });
  const k = await getInsuranceCase(q, orgId, id);
  const org = await getOrganisation(q, orgId);
  const customer = await getCustomer(q, orgId, k.customerId);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT i.id, i.number, i.issue_date, i.due_date, i.currency, i.amount_incl_tax_minor, i.allocated_minor, i.written_off_minor,
            EXISTS (SELECT 1 FROM disputes d WHERE d.organisation_id = i.organisation_id AND d.customer_id = i.customer_id AND d.resolved_on IS NULL
                      AND (d.invoice_ids IS NULL OR i.id = ANY(d.invoice_ids))) AS disputed
       FROM credit_insurance_case_invoices ci JOIN invoices i ON i.organisation_id = ci.organisation_id AND i.id = ci.invoice_id
      WHERE ci.organisation_id = $1 AND ci.case_id = $2 ORDER BY i.due_date, i.id`,
    [orgId, id],
  );
  const invoices = rows.map((r) => {
    const amount = r.amount_incl_tax_minor as bigint;
    const paid = r.allocated_minor as bigint;
    const open = amount - paid - (r.written_off_minor as bigint);
    const due = r.due_date as CalendarDate;
    return {
      id: r.id as bigint,
      number: String(r.number),
      issueDate: r.issue_date as CalendarDate,
      dueDate: due,
      currency: String(r.currency),
      amountInclTaxMinor: amount,
      paidMinor: paid,
      openMinor: open,
      daysOverdue: Math.max(0, daysBetween(due, today)),
      disputed: r.disputed === true,
    };
  });
  const address = customer.contacts.find((c) => c.addressLine1) ?? null;
  return {
    insurer: policy.insurer,
    policyNumber: policy.policyNumber,
    case: { id: String(k.id), firstDueDate: k.firstDueDate, extensionEndsOn: k.extensionEndsOn, declarationDueOn: k.declarationDueOn, status: k.status },
    creditor: { name: org.legalName, siren: org.siren },
    debtor: {
      id: String(customer.id),
      name: customer.legalName,
      siren: customer.siren,
      vatNumber: customer.vatNumber ?? null,
      country: customer.country ?? null,
      address: address ? [address.addressLine1, address.addressLine2, [address.postalCode, address.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') : null,
    },
    currency: invoices[0]?.currency ?? org.currency,
    invoices: invoices.map(({ id: _id, currency: _c, ...rest }) => rest),
    totalOpenMinor: invoices.reduce((a, i) => a + i.openMinor, 0n),
    steps: await recoveryHistory(q, orgId, k.customerId, invoices.map((i) => i.id)),
    asOf: today,
  };
}

const D = defineMessages({
  title: { fr: 'Déclaration de menace de sinistre — assurance-crédit', en: 'Threatened-loss declaration — credit insurance' },
  insurer: { fr: 'Assureur', en: 'Insurer' },
  policy: { fr: 'Police n°', en: 'Policy no.' },
  creditor: { fr: 'Assuré (créancier)', en: 'Insured (creditor)' },
  debtor: { fr: 'Acheteur (débiteur)', en: 'Buyer (debtor)' },
  siren: { fr: 'SIREN', en: 'SIREN' },
  vat: { fr: 'N° TVA', en: 'VAT no.' },
  address: { fr: 'Adresse', en: 'Address' },
  first_due: { fr: 'Première échéance impayée', en: 'First unpaid due date' },
  extension: { fr: 'Fin de la prorogation possible sans accord', en: 'Last day of extension without approval' },
  deadline: { fr: 'Date limite de déclaration', en: 'Declaration deadline' },
  invoices: { fr: 'Factures impayées', en: 'Unpaid invoices' },
  col_invoice: { fr: 'Facture', en: 'Invoice' },
  col_issue: { fr: 'Émise le', en: 'Issued' },
  col_due: { fr: 'Échéance', en: 'Due' },
  col_amount: { fr: 'Montant TTC', en: 'Amount incl. tax' },
  col_paid: { fr: 'Payé', en: 'Paid' },
  col_open: { fr: 'Reste dû', en: 'Outstanding' },
  col_late: { fr: 'Jours de retard', en: 'Days overdue' },
  total: { fr: 'Total', en: 'Total' },
  disputed: { fr: 'Factures en litige : {list}.', en: 'Invoices under dispute: {list}.' },
  steps: { fr: 'Démarches de recouvrement', en: 'Collection steps taken' },
  reminders: { fr: 'Relances envoyées : {n}{range}.', en: 'Reminders sent: {n}{range}.' },
  range: { fr: ' (du {from} au {to})', en: ' ({from} to {to})' },
  no_reminder: { fr: 'Aucune relance envoyée.', en: 'No reminder sent.' },
  notice: { fr: 'Mise en demeure envoyée le {date}{receipt}.', en: 'Formal notice sent on {date}{receipt}.' },
  receipt: { fr: ', reçue le {date}', en: ', received on {date}' },
  no_notice: { fr: 'Aucune mise en demeure envoyée.', en: 'No formal notice sent.' },
  calls: { fr: 'Appels : {n}.', en: 'Calls: {n}.' },
  promises: { fr: 'Promesses de paiement : {n}.', en: 'Promises to pay: {n}.' },
  as_of: { fr: 'Situation au {date}.', en: 'Position as at {date}.' },
});

/** The declaration's data as a PDF the credit controller sends or copies into the insurer's portal. */
export async function insuranceDeclarationPdf(q: Queryable, orgId: string, id: bigint, today: CalendarDate, lang?: Lang): Promise<{ pdf: Buffer; declaration: InsuranceDeclaration }> {
  const d = await insuranceDeclaration(q, orgId, id, today);
  const L: Lang = lang ?? (await getOrganisation(q, orgId)).language;
  const m = (k: keyof typeof D, v: Record<string, string | number> = {}) => t(D, L, k, v);
  const { doc, bytes } = escalationPdf(`${m('title')} — ${d.debtor.name}`, L, today);
  title(doc, m('title'));
  fields(doc, [[m('insurer'), d.insurer], [m('policy'), d.policyNumber]], L);
  heading(doc, m('creditor'));
  para(doc, d.creditor.name);
  fields(doc, [[m('siren'), d.creditor.siren]], L);
  heading(doc, m('debtor'));
  para(doc, d.debtor.name);
  fields(doc, [[m('siren'), d.debtor.siren], [m('vat'), d.debtor.vatNumber], [m('address'), d.debtor.address]], L);
  fields(
    doc,
    [
      [m('first_due'), longDate(d.case.firstDueDate, L)],
      [m('extension'), longDate(d.case.extensionEndsOn, L)],
      [m('deadline'), longDate(d.case.declarationDueOn, L)],
    ],
    L,
  );
  heading(doc, m('invoices'));
  const cur = d.currency;
  const rows = d.invoices.map((i) => [i.number, formatShortDate(i.issueDate, L), formatShortDate(i.dueDate, L), money(i.amountInclTaxMinor, cur, L), money(i.paidMinor, cur, L), money(i.openMinor, cur, L), String(i.daysOverdue)]);
  rows.push([m('total'), '', '', '', '', money(d.totalOpenMinor, cur, L), '']);
  table(
    doc,
    [
      { header: m('col_invoice'), width: 80 },
      { header: m('col_issue'), width: 58 },
      { header: m('col_due'), width: 58 },
      { header: m('col_amount'), width: 78, align: 'right' },
      { header: m('col_paid'), width: 70, align: 'right' },
      { header: m('col_open'), width: 78, align: 'right' },
      { header: m('col_late'), width: 55, align: 'right' },
    ],
    rows,
    { boldLast: true },
  );
  const disputed = d.invoices.filter((i) => i.disputed).map((i) => i.number);
  if (disputed.length) para(doc, m('disputed', { list: disputed.join(', ') }));
  heading(doc, m('steps'));
  const h = d.steps;
  para(
    doc,
    h.remindersSent
      ? m('reminders', { n: h.remindersSent, range: h.firstReminderOn && h.lastReminderOn ? m('range', { from: formatShortDate(h.firstReminderOn, L), to: formatShortDate(h.lastReminderOn, L) }) : '' })
      : m('no_reminder'),
  );
  if (h.formalNotices.length) {
    for (const n of h.formalNotices) para(doc, m('notice', { date: formatShortDate(n.sentOn, L), receipt: n.receiptOn ? m('receipt', { date: formatShortDate(n.receiptOn, L) }) : '' }));
  } else para(doc, m('no_notice'));
  para(doc, m('calls', { n: h.calls }));
  para(doc, m('promises', { n: h.promises.length }));
  doc.moveDown(0.5);
  para(doc, m('as_of', { date: longDate(today, L) }));
  doc.end();
  return { pdf: await bytes, declaration: d };
}
