/**
 * Issue 19, a credit controller's day through /api/app: an imported customer with no contact gets
 * one (edited, removed), an owner, a call nobody planned with its promise on the invoice named, a
 * dispute that only its resolution ends (lifting its pause alone is refused), a note that comes
 * back in Today on its day, the escalation deadlines and the queued call steps in Today, and the
 * debtor portal's visits in the customer's timeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { createCustomer, createInvoice, createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { planSchedule } from '../src/domain/payment-plan.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
// Monday 1 June 2026, 10:00 in Paris.
const NOW = new Date('2026-06-01T08:00:00Z');
const TODAY = '2026-06-01';

describe.each(dbTargets())('a controller’s day on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let headers: Record<string, string>;
  let orgId: string;
  let customerId: string;
  let invoiceIds: string[];

  const call = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await app.request(`http://${HOST}/api/app${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as T };
  };
  type CustomerPage = {
    owner: string | null;
    owners: string[];
    customer: { contacts: { id: string; name: string; email: string | null; phone: string | null; role: string | null }[]; siren: string | null };
    disputes: { id: string; resolvedOn: string | null; resolution: string | null; pauseId: string | null; invoices: string[] | null }[];
    pauses: { id: string; reason: string; active: boolean; invoiceIds: string[] | null }[];
    timeline: { kind: string; data: Record<string, unknown> }[];
  };
  const page = async () => (await call<CustomerPage>('GET', `/customers/${customerId}`)).body;

  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Menuiserie Journée' })).id;
    await db.tx((q) => addUser(q, orgId, { email: 'claire@journee.fr', role: 'collector', password: PASSWORD }));
    await db.tx((q) => addUser(q, orgId, { email: 'admin@journee.fr', role: 'admin', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'claire@journee.fr', PASSWORD, { organisationId: orgId, now: NOW }));
    headers = { cookie: `relance_session=${s.token}`, host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
    app = createApp({ db, now: () => NOW });
    // As an import leaves it: a name and invoices, no contact at all.
    const c = await db.tx((q) => createCustomer(q, orgId, { legalName: 'Boulangerie Sans Contact', externalId: 'C-404' }));
    customerId = String(c.id);
    invoiceIds = [];
    for (const [n, due, amount] of [['F-1', '2026-04-15', 120_000n], ['F-2', '2026-05-10', 80_000n]] as const) {
      const inv = await db.tx((q) => createInvoice(q, orgId, { customerId: c.id, number: n, issueDate: '2026-03-15', dueDate: due, currency: 'EUR', amountExclTaxMinor: amount, amountInclTaxMinor: amount }));
      invoiceIds.push(String(inv.id));
    }
  }, 60_000);
  afterAll(async () => db?.close());

  it('adds, edits and removes a contact of a customer imported without one', async () => {
    expect((await page()).customer.contacts).toEqual([]);
    const bad = await call<{ where: { field: string } }>('POST', `/customers/${customerId}/contacts`, { name: 'Paul', email: 'pas une adresse' });
    expect(bad.status).toBe(400);
    expect(bad.body.where.field).toBe('email');
    const added = await call<{ result: { id: string } }>('POST', `/customers/${customerId}/contacts`, { name: 'Paul Martin', role: 'Comptable', email: 'paul@boulangerie.fr', phone: '01 23 45 67 89', receivesReminders: true });
    expect(added.status).toBe(200);
    const contactId = added.body.result.id;
    expect((await page()).customer.contacts).toMatchObject([{ id: contactId, name: 'Paul Martin', email: 'paul@boulangerie.fr', role: 'Comptable' }]);
    expect((await call('POST', `/customers/${customerId}/contacts/${contactId}`, { name: 'Paul Martin', role: '', email: 'compta@boulangerie.fr', phone: '01 23 45 67 89' })).status).toBe(200);
    expect((await page()).customer.contacts).toMatchObject([{ email: 'compta@boulangerie.fr', role: null }]);
    // Another customer's contact is not reachable through this one.
    const other = await db.tx((q) => createCustomer(q, orgId, { legalName: 'Autre', contacts: [{ name: 'Eve' }] }));
    expect((await call('POST', `/customers/${customerId}/contacts/${other.contacts[0]!.id}/remove`, {})).status).toBe(404);
    expect((await call('POST', `/customers/${customerId}/contacts/${contactId}/remove`, {})).status).toBe(200);
    expect((await page()).customer.contacts).toEqual([]);
    // Back for the calls below.
    await call('POST', `/customers/${customerId}/contacts`, { name: 'Paul Martin', email: 'paul@boulangerie.fr', phone: '01 23 45 67 89', receivesReminders: true });
  });

  it('sets the customer’s owner (a member only) and its SIREN, and lists it under "my accounts"', async () => {
    expect((await page()).owners).toEqual(['admin@journee.fr', 'claire@journee.fr']);
    const stranger = await call<{ where: { field: string } }>('POST', `/customers/${customerId}/profile`, { owner: 'nobody@elsewhere.fr' });
    expect(stranger.status).toBe(400);
    expect(stranger.body.where.field).toBe('owner');
    expect((await call('POST', `/customers/${customerId}/profile`, { owner: 'claire@journee.fr', siren: '552 100 554' })).status).toBe(200);
    const p = await page();
    expect(p.owner).toBe('claire@journee.fr');
    expect(p.customer.siren).toBe('552100554');
    // Before any dashboard was computed, the overdue filter sorted by name still finds the customer (its invoices are overdue).
    const overdue = await call<{ rows: { id: string }[]; total: number }>('GET', '/customers?filter=overdue&sort=name');
    expect([overdue.body.rows.map((r) => r.id), overdue.body.total]).toEqual([[customerId], 1]);
    const mine = await call<{ rows: { id: string; owner: string | null }[]; total: number }>('GET', '/customers?filter=mine');
    expect(mine.body.rows.map((r) => r.id)).toEqual([customerId]);
    expect(mine.body.total).toBe(1);
  });

  it('logs a call nobody planned: a promise on the invoice named pauses that invoice only', async () => {
    const r = await call<{ result: { promiseId: string; outcomeId: string } }>('POST', `/customers/${customerId}/calls`, {
      outcome: 'promise_to_pay',
      promisedOn: '2026-06-10',
      promisedMinor: '120000',
      invoiceIds: [invoiceIds[0]],
      note: 'rappelé par le client',
    });
    expect(r.status).toBe(200);
    const [promise] = await db.query<{ invoice_ids: bigint[]; amount_minor: bigint }>('SELECT invoice_ids, amount_minor FROM promises WHERE organisation_id = $1 AND id = $2', [orgId, BigInt(r.body.result.promiseId)]);
    expect(promise!.invoice_ids.map(String)).toEqual([invoiceIds[0]]);
    expect(promise!.amount_minor).toBe(120_000n);
    const [outcome] = await db.query<{ call_task_id: bigint | null; recorded_by: string }>('SELECT call_task_id, recorded_by FROM call_outcomes WHERE organisation_id = $1 AND id = $2', [orgId, BigInt(r.body.result.outcomeId)]);
    expect(outcome).toEqual({ call_task_id: null, recorded_by: 'claire@journee.fr' });
    const p = await page();
    expect(p.pauses.filter((x) => x.active && x.reason === 'promise_to_pay').map((x) => x.invoiceIds)).toEqual([[invoiceIds[0]]]);
    expect(p.timeline.find((e) => e.kind === 'call')?.data).toMatchObject({ outcome: 'promise_to_pay', note: 'rappelé par le client' });
    // An outcome the call needs is asked for, as on a planned call.
    expect((await call('POST', `/customers/${customerId}/calls`, { outcome: 'dispute' })).status).toBe(400);
  });

  it('records a payment plan with a down payment as the dialog schedules it, shows it, and withdraws it when its reminders are resumed', async () => {
    // The dialog's schedule (src/domain/payment-plan.ts): 200 € down on 30 June, then three months.
    const schedule = planSchedule({ totalMinor: 80_000n, firstDate: '2026-06-30' as CalendarDate, instalments: 3, downPaymentMinor: 20_000n })!;
    const short = await call<{ where: { field: string } }>('POST', `/customers/${customerId}/payment-plan`, {
      invoiceIds: [invoiceIds[1]],
      instalments: schedule.slice(0, 2).map((i) => ({ dueDate: i.dueDate, amountMinor: String(i.amountMinor) })),
    });
    expect(short.status).toBe(400);
    expect(short.body.where.field).toBe('instalments');
    const r = await call('POST', `/customers/${customerId}/payment-plan`, {
      invoiceIds: [invoiceIds[1]],
      instalments: schedule.map((i) => ({ dueDate: i.dueDate, amountMinor: String(i.amountMinor) })),
      acknowledge: false,
    });
    expect(r.status).toBe(200);
    const plan = (await page()).timeline.find((e) => e.kind === 'plan')!.data as { status: string; amountMinor: string; instalments: { seq: number; dueDate: string; amountMinor: string }[] };
    expect(plan.status).toBe('active');
    expect(plan.instalments).toEqual([
      { seq: 1, dueDate: '2026-06-30', amountMinor: '20000' },
      { seq: 2, dueDate: '2026-07-30', amountMinor: '20000' },
      { seq: 3, dueDate: '2026-08-30', amountMinor: '20000' },
      { seq: 4, dueDate: '2026-09-30', amountMinor: '20000' },
    ]);
    // Resuming the reminders of the plan's invoice withdraws the plan: no missed-instalment alarm later.
    const pause = (await page()).pauses.find((x) => x.active && x.reason === 'payment_plan')!;
    expect((await call('POST', `/pauses/${pause.id}/lift`, {})).status).toBe(200);
    const after = (await page()).timeline.find((e) => e.kind === 'plan')!.data as { status: string };
    expect(after.status).toBe('withdrawn');
  });

  it('a dispute ends with its resolution: lifting its pause alone is refused', async () => {
    const opened = await call<{ result: string }>('POST', `/customers/${customerId}/dispute`, { invoiceIds: [invoiceIds[1]], reason: 'livraison incomplète' });
    expect(opened.status).toBe(200);
    let d = (await page()).disputes[0]!;
    expect(d).toMatchObject({ resolvedOn: null, invoices: ['F-2'] });
    const lift = await call<{ where: { field: string } }>('POST', `/pauses/${d.pauseId}/lift`);
    expect(lift.status).toBe(400);
    expect((await page()).pauses.find((x) => x.id === d.pauseId)?.active).toBe(true);
    expect((await call('POST', `/disputes/${d.id}/resolve`, { resolution: ' ' })).status).toBe(400);
    expect((await call('POST', `/disputes/${d.id}/resolve`, { resolution: 'avoir de 20 € accordé' })).status).toBe(200);
    const p = await page();
    d = p.disputes[0]!;
    expect(d).toMatchObject({ resolvedOn: TODAY, resolution: 'avoir de 20 € accordé' });
    expect(p.pauses.find((x) => x.id === d.pauseId)?.active).toBe(false);
  });

  it('a note with a follow-up day comes back in Today from that day until done', async () => {
    const later = await call<{ result: { id: string } }>('POST', `/customers/${customerId}/notes`, { body: 'relancer la comptable', followUpOn: '2026-06-05' });
    const now = await call<{ result: { id: string } }>('POST', `/customers/${customerId}/notes`, { body: 'vérifier le virement', followUpOn: TODAY });
    type T = { noteFollowups: { id: string; body: string; customerName: string }[] };
    let today = (await call<T>('GET', '/today')).body;
    expect(today.noteFollowups.map((n) => n.id)).toEqual([now.body.result.id]);
    expect(today.noteFollowups[0]).toMatchObject({ body: 'vérifier le virement', customerName: 'Boulangerie Sans Contact' });
    expect((await call('POST', `/notes/${now.body.result.id}/done`, {})).status).toBe(200);
    expect((await call('POST', `/notes/${now.body.result.id}/done`, {})).status).toBe(404);
    today = (await call<T>('GET', '/today')).body;
    expect(today.noteFollowups).toEqual([]);
    expect(later.status).toBe(200);
  });

  it('Today lists the escalation deadlines, and the timeline the portal visits', async () => {
    await db.query(`INSERT INTO tasks (organisation_id, customer_id, kind, source_id, due_on, note) VALUES ($1,$2,'insurance_declaration',1,$3,'x'), ($1,$2,'insolvency_declaration',2,$3,'y')`, [orgId, BigInt(customerId), TODAY]);
    const today = (await call<{ otherTasks: { kind: string; customerId: string }[] }>('GET', '/today')).body;
    expect(today.otherTasks.map((t) => t.kind).sort()).toEqual(['insolvency_declaration', 'insurance_declaration']);
    await db.query(`INSERT INTO portal_events (organisation_id, customer_id, kind, invoice_ids) VALUES ($1,$2,'visit',NULL), ($1,$2,'document',$3::bigint[])`, [orgId, BigInt(customerId), `{${invoiceIds[0]}}`]);
    const portal = (await page()).timeline.filter((e) => e.kind === 'portal');
    expect(portal.map((e) => e.data.event).sort()).toEqual(['document', 'visit']);
    expect(portal.find((e) => e.data.event === 'document')?.data.invoices).toEqual(['F-1']);
  });

  it('an invoice page carries its disputes and what was done about it', async () => {
    await call('POST', `/customers/${customerId}/notes`, { body: 'facture renvoyée', invoiceId: invoiceIds[1] });
    type Inv = { disputes: { resolvedOn: string | null; resolution: string | null; wholeCustomer: boolean }[]; history: { kind: string; body?: string; status?: string }[] };
    const f2 = (await call<Inv>('GET', `/invoices/${invoiceIds[1]}`)).body;
    expect(f2.disputes).toMatchObject([{ resolvedOn: TODAY, resolution: 'avoir de 20 € accordé', wholeCustomer: false }]);
    expect(f2.history.filter((h) => h.kind === 'note').map((h) => h.body)).toEqual(['facture renvoyée']);
    expect(f2.history.filter((h) => h.kind === 'dispute')).toHaveLength(1);
    const f1 = (await call<Inv>('GET', `/invoices/${invoiceIds[0]}`)).body;
    expect(f1.disputes).toEqual([]);
    expect(f1.history.filter((h) => h.kind === 'promise').map((h) => h.status)).toEqual(['open']);
  });

  it('the activity across accounts and the outbox’s waiting and failed messages', async () => {
    type A = { items: { kind: string; customerName: string; code: string | null; text: string | null }[] };
    const a = (await call<A>('GET', '/activity?limit=100')).body;
    const kinds = new Set(a.items.map((x) => x.kind));
    for (const k of ['call', 'note', 'promise', 'dispute', 'portal']) expect(kinds, k).toContain(k);
    expect(a.items.find((x) => x.kind === 'call')).toMatchObject({ customerName: 'Boulangerie Sans Contact', code: 'promise_to_pay', text: 'rappelé par le client' });
    expect(a.items.find((x) => x.kind === 'dispute')?.code).toBe('resolved');
    // An action waiting for its window, and one that failed, as the outbox shows them.
    const [step] = await db.query<{ id: bigint }>('SELECT id FROM actions WHERE organisation_id = $1 ORDER BY id LIMIT 1', [orgId]);
    await db.query(`UPDATE actions SET status = 'queued', send_after = '2026-06-02T07:00:00Z' WHERE organisation_id = $1 AND id = $2`, [orgId, step!.id]);
    type O = { pending: { id: string; leavesAt: string; status: string }[]; failed: unknown[] };
    const o = (await call<O>('GET', '/outbox')).body;
    const mine = o.pending.find((x) => x.id === String(step!.id));
    expect(mine?.status).toBe('queued');
    expect(new Date(mine!.leavesAt).toISOString()).toBe('2026-06-02T07:00:00.000Z');
    expect(Array.isArray(o.failed)).toBe(true);
  });

  it('sorts the list on each column and exports what the filters keep as CSV', async () => {
    type L = { rows: { id: string; name: string; status: string; lastAction: unknown; nextAction: unknown }[] };
    for (const sort of ['name', 'id', 'owner', 'status', 'invoices', 'late', 'lastAction', 'nextAction', 'balance', 'overdue']) {
      for (const dir of ['asc', 'desc']) {
        const r = await call<L>('GET', `/customers?sort=${sort}&dir=${dir}`);
        expect(r.status, `${sort} ${dir}`).toBe(200);
        expect(r.body.rows.length, `${sort} ${dir}`).toBe(2);
      }
    }
    const byStatus = (await call<L>('GET', '/customers?sort=status&dir=asc')).body.rows;
    // The promise on F-1 is still running: that comes before a customer with nothing open.
    expect(byStatus.map((r) => [r.name, r.status])).toEqual([['Boulangerie Sans Contact', 'paused'], ['Autre', 'settled']]);
    const res = await app.request(`http://${HOST}/api/app/customers?filter=mine&format=csv`, { headers });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = (await res.text()).replace(/^\ufeff/, '');
    const lines = text.trim().split('\r\n');
    expect(lines[0]).toBe('Client;Code client;SIREN;Responsable;Statut;Ouvert;Échu;Factures ouvertes;Jours de retard;Devise;Dernière action;Prochaine action');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^Boulangerie Sans Contact;C-404;552100554;claire@journee\.fr;En pause;2000,00;2000,00;2;47;EUR;;2026-06-01$/);
  });
});
