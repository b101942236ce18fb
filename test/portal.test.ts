/**
 * Issue 20, the debtor portal, through its HTTP routes on both databases: the link (CLI link and
 * revoke, signature, expiry, revocation, one customer of one organisation only, rate limits), and
 * each action acting in the engine at once: a promise pauses exactly its invoices, a dispute pauses
 * its invoice and shows in Today, a plan within the rules is accepted with its instalments planned
 * (outside them it waits for a person), "I have paid" holds the reminders and asks for a
 * reconciliation, the pre-due check's "no" stops the due-day reminder. What the customer receives
 * is read back (.eml parsed, pages as text): no raw code, no operator text.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { assignScenario, createScenario } from '../src/engine/scenarios.ts';
import { createApp } from '../src/http/app.ts';
import { savePortalSettings } from '../src/portal/links.ts';
import { dbTargets } from './db.ts';
import { cli, mailText, outboxMails, plain, subject, webSession } from './debtor-harness.ts';
import { addCustomer, addInvoice, paris, plan, setupOrg, worker } from './delivery-fixture.ts';

const URL_BASE = 'https://portail.menuiserie.test';
const tmp = () => mkdtempSync(join(tmpdir(), 'relance-portal-'));
let keys = 0;
const formKey = () => `testformkey${String(++keys).padStart(8, '0')}`;

/** The page as a reader reads it: tags out, entities and spaces made plain. */
const text = (html: string) =>
  plain(
    html
      .replace(/<style[\s\S]*?<\/style>/g, '')
      .replace(/<svg[\s\S]*?<\/svg>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/\s+/g, ' '),
  );

function portal(db: Db, now: Date, address = '198.51.100.7') {
  const app = createApp({ db, now: () => now, options: { trustProxy: true } });
  const headers = { 'x-forwarded-for': address };
  return {
    get: (path: string) => app.request(path, { headers }),
    post(path: string, fields: Record<string, string | string[] | File>) {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
      return app.request(path, { method: 'POST', body: form, headers });
    },
  };
}

const pathOf = (url: string) => new URL(url).pathname;

describe.each(dbTargets())('debtor portal, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  async function orgWithPortal(scenario?: ScenarioDefinition) {
    const org = await setupOrg(db);
    if (scenario) {
      await db.tx(async (q) => {
        await createScenario(q, org.id, { key: 'portal', name: 'Portail', definition: scenario });
        await assignScenario(q, org.id, 'portal', { organisationDefault: true });
      });
    }
    await db.tx((q) => savePortalSettings(q, org.id, { publicUrl: URL_BASE }));
    return org;
  }

  const expiries = new Map<string, Date>();
  /** The customer's link as `relance portal link` prints it (made on the real clock: tests run before its expiry). */
  async function linkOf(orgId: string, customerId: bigint, extra: string[] = []): Promise<string> {
    const out = JSON.parse(await cli(db, orgId, ['portal', 'link', '--customer', String(customerId), '--json', ...extra])) as { url: string; expiresAt: string };
    expect(out.url.startsWith(`${URL_BASE}/portal/`)).toBe(true);
    expiries.set(pathOf(out.url), new Date(out.expiresAt));
    return pathOf(out.url);
  }

  it('20.1 a link opens its customer’s open items only; tampered, expired and revoked links get one page saying nothing', async () => {
    const org = await orgWithPortal();
    const c = await addCustomer(db, org.id);
    const other = await addCustomer(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-MINE-1', amount: 150_000n, pdf: Buffer.from('%PDF-1.4 mine') });
    await addInvoice(db, org.id, other.id, '2026-03-02', { number: 'F-THEIRS-1' });
    // Another organisation with a customer and an invoice numbered like ours.
    const org2 = await orgWithPortal();
    const c2 = await addCustomer(db, org2.id);
    await addInvoice(db, org2.id, c2.id, '2026-03-02', { number: 'F-OTHER-ORG' });

    const path = await linkOf(org.id, c.id);
    const now = paris('2026-03-20');
    const p = portal(db, now);
    const res = await p.get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = text(await res.text());
    expect(page).toContain('F-MINE-1');
    expect(page).toContain('1 500,00 €');
    expect(page).toContain(org.legalName);
    expect(page).toContain('IBAN');
    expect(page).toContain('FR76 3000 6000 0112 3456 7890 189');
    // Past due: the interest and compensation of the law that governs the debt, named.
    expect(page).toContain('article L441-10 du Code de commerce');
    expect(page).toContain('40,00 €');
    expect(page).not.toContain('F-THEIRS-1');
    expect(page).not.toContain('F-OTHER-ORG');
    // No raw code or internal word reaches the customer.
    expect(page).not.toMatch(/promise_to_pay|manual_hold|undefined|null|\{[a-z_]+\}/);
    // The English page, asked for.
    const en = text(await (await p.get(`${path}?lang=en`)).text());
    expect(en).toContain('Invoices to pay');
    expect(en).toContain('€1,500.00');
    // The invoice's own PDF, and another customer's invoice id gets the refusal.
    const [mine] = await db.query<{ id: bigint }>(`SELECT id FROM invoices WHERE organisation_id = $1 AND number = 'F-MINE-1'`, [org.id]);
    const [theirs] = await db.query<{ id: bigint }>(`SELECT id FROM invoices WHERE organisation_id = $1 AND number = 'F-THEIRS-1'`, [org.id]);
    const pdf = await p.get(`${path}/invoices/${mine!.id}/pdf`);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await pdf.arrayBuffer()).toString()).toBe('%PDF-1.4 mine');
    expect((await p.get(`${path}/invoices/${theirs!.id}/pdf`)).status).toBe(404);
    const statement = await p.get(`${path}/statement/EUR/pdf`);
    expect(statement.headers.get('content-type')).toBe('application/pdf');
    // Visits are recorded.
    const visits = await db.query(`SELECT 1 FROM portal_events WHERE organisation_id = $1 AND customer_id = $2 AND kind = 'visit'`, [org.id, c.id]);
    expect(visits.length).toBeGreaterThanOrEqual(2);

    // Tampered: one character of the signature changed.
    const token = path.split('/').at(-1)!;
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    const tampered = await p.get(`/portal/${token.slice(0, -1)}${last}`);
    const refused = await tampered.text();
    expect(tampered.status).toBe(404);
    // Expired: a day after its 60 days, the link no longer opens.
    const later = portal(db, new Date(expiries.get(path)!.getTime() + 86_400_000), '198.51.100.8');
    const expired = await later.get(path);
    expect(expired.status).toBe(404);
    expect(await expired.text()).toBe(refused);
    // Revoked.
    expect(await cli(db, org.id, ['portal', 'revoke', '--customer', String(c.id)])).toContain('revoked');
    const revoked = await portal(db, now, '198.51.100.9').get(path);
    expect(revoked.status).toBe(404);
    expect(await revoked.text()).toBe(refused);
    expect(text(refused)).toContain('Ce lien n’est pas ou plus valable');
    expect(text(refused)).not.toMatch(/expir|révoqu|revoked|signature/i);
    // A new link works; the old stays refused.
    const fresh = await linkOf(org.id, c.id, ['--days', '5']);
    expect(fresh).not.toBe(path);
    expect((await portal(db, now, '198.51.100.10').get(fresh)).status).toBe(200);
    // The organisation switches the portal off: every link stops opening, with the same page.
    await cli(db, org.id, ['portal', 'settings', '--off']);
    const off = await portal(db, now, '198.51.100.11').get(fresh);
    expect(off.status).toBe(404);
    expect(await off.text()).toBe(refused);
    await cli(db, org.id, ['portal', 'settings', '--on']);

    // The other organisation's link shows its own customer only.
    const path2 = await linkOf(org2.id, c2.id);
    const page2 = text(await (await portal(db, now, '198.51.100.12').get(path2)).text());
    expect(page2).toContain('F-OTHER-ORG');
    expect(page2).not.toContain('F-MINE-1');
    // Posting another organisation's invoice through this link is refused as any unknown invoice.
    const [foreign] = await db.query<{ id: bigint }>(`SELECT id FROM invoices WHERE organisation_id = $1 AND number = 'F-MINE-1'`, [org.id]);
    const cross = await portal(db, now, '198.51.100.12').post(`${path2}/promise`, { key: formKey(), invoices: String(foreign!.id), date: '2026-03-25' });
    expect(cross.status).toBe(422);
    expect(text(await cross.text())).toContain('Choisissez au moins une facture de la liste');
    expect(await db.query('SELECT 1 FROM promises WHERE organisation_id = $1', [org.id])).toEqual([]);
  });

  it('20.2 wrong links from one address are rate-limited', async () => {
    const p = portal(db, paris('2026-04-01'), '203.0.113.66');
    const statuses: number[] = [];
    for (let k = 0; k < 12; k++) statuses.push((await p.get(`/portal/${'A'.repeat(22)}.${String(k).padStart(22, 'B')}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Another address is not affected.
    expect((await portal(db, paris('2026-04-01'), '203.0.113.67').get(`/portal/${'A'.repeat(22)}.${'C'.repeat(22)}`)).status).toBe(404);
  });

  it('20.3 a promise pauses exactly its invoices; a dispute pauses its invoice, shows in Today and is acknowledged; actions are idempotent', async () => {
    const org = await orgWithPortal();
    const c = await addCustomer(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-PROM-A', amount: 120_000n });
    const b = await addInvoice(db, org.id, c.id, '2026-03-16', { number: 'F-PROM-B', amount: 80_000n });
    const path = await linkOf(org.id, c.id);
    const now = paris('2026-03-04');
    const p = portal(db, now, '198.51.100.20');
    // Outside the organisation's limit (30 days): refused with the latest date allowed.
    const late = await p.post(`${path}/promise`, { key: formKey(), invoices: String(a.id), date: '2026-05-30' });
    expect(late.status).toBe(422);
    expect(text(await late.text())).toContain('au plus tard le 3 avril 2026');
    const key = formKey();
    const ok = await p.post(`${path}/promise`, { key, invoices: String(a.id), date: '2026-03-20', lang: 'en' });
    expect(ok.status).toBe(303);
    const after = ok.headers.get('location')!;
    expect(after).toContain('done=promise');
    expect(text(await (await p.get(after)).text())).toContain('Thank you, your payment date is recorded');
    // Sent twice (a reload): nothing more.
    expect((await p.post(`${path}/promise`, { key, invoices: String(a.id), date: '2026-03-20' })).status).toBe(303);
    const promises = await db.query<{ invoice_ids: unknown[]; amount_minor: bigint; promised_on: string }>('SELECT invoice_ids, amount_minor, promised_on FROM promises WHERE organisation_id = $1', [org.id]);
    expect(promises.map((r) => [r.invoice_ids.map(String), r.amount_minor, r.promised_on])).toEqual([[[String(a.id)], 120_000n, '2026-03-20']]);
    // B's due day comes: its reminder is planned, A's is not.
    await plan(db, org.id, '2026-03-16');
    const planned = await db.query<{ number: string }>(
      `SELECT i.number FROM step_records sr JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE sr.organisation_id = $1 AND sr.outcome = 'planned' AND sr.step_key NOT LIKE 'ack:%' ORDER BY 1`,
      [org.id],
    );
    expect(planned.map((r) => r.number)).toEqual(['F-PROM-B']);
    // The customer gets the promise's acknowledgement (the organisation's setting aside), with the portal link.
    const dataDir = tmp();
    await worker(db, paris('2026-03-04', '11:00'), { dataDir }).runOnce();
    const mails = await outboxMails(dataDir, org.id);
    const ack = mails.find((m) => subject(m).includes('engagement de paiement'))!;
    expect(mailText(ack)).toContain('1 200,00 € le 20 mars 2026');
    expect(mailText(ack)).toContain(`${URL_BASE}/portal/`);

    // A dispute on B with a PDF: B paused, Today shows it, the acknowledgement quotes the reason.
    const bad = await p.post(`${path}/dispute`, { key: formKey(), invoices: String(b.id), reason: 'not_conform', comment: 'x', attachment: new File([Buffer.from('MZ not a pdf')], 'virus.exe') });
    expect(bad.status).toBe(422);
    expect(text(await bad.text())).toContain('Le justificatif doit être un PDF, une image PNG ou JPEG');
    expect(await db.query('SELECT 1 FROM disputes WHERE organisation_id = $1', [org.id])).toEqual([]);
    const disputed = await p.post(`${path}/dispute`, {
      key: formKey(),
      invoices: String(b.id),
      reason: 'not_conform',
      comment: 'deux cartons manquants',
      attachment: new File([Buffer.from('%PDF-1.4 bon de livraison')], 'bon de livraison.pdf', { type: 'application/pdf' }),
    });
    expect(disputed.status).toBe(303);
    const [dispute] = await db.query<{ invoice_ids: unknown[]; reason: string }>('SELECT invoice_ids, reason FROM disputes WHERE organisation_id = $1', [org.id]);
    expect(dispute!.invoice_ids.map(String)).toEqual([String(b.id)]);
    expect(dispute!.reason).toBe('Marchandise ou prestation non conforme : deux cartons manquants');
    const [stored] = await db.query<{ content_type: string; filename: string }>(`SELECT content_type, filename FROM documents WHERE organisation_id = $1 AND filename LIKE 'bon%'`, [org.id]);
    expect(stored).toEqual({ content_type: 'application/pdf', filename: 'bon_de_livraison.pdf' });
    const web = await webSession(db, org.id, paris('2026-03-04'));
    const today = await web.get<{ disputes: { invoice: string }[]; followups: { kind: string; note: string }[] }>('/today');
    expect(today.disputes.map((x) => x.invoice)).toEqual(['F-PROM-B']);
    expect(today.followups.map((f) => f.kind)).toEqual(['dispute_document']);
    // The pending due-day reminder of B is cancelled by the dispute.
    const pending = await db.query(`SELECT 1 FROM actions WHERE organisation_id = $1 AND status IN ('planned', 'queued', 'awaiting_approval') AND template = 'due'`, [org.id]);
    expect(pending).toEqual([]);
    const page = text(await (await p.get(path)).text());
    expect(page).toContain('contestation en cours d’examen');
    expect(page).toContain('date de paiement annoncée');
  });

  it('20.4 a plan within the rules is accepted with its instalments planned; outside them it waits for a person; "I have paid" holds reminders and asks for a reconciliation', async () => {
    const org = await orgWithPortal();
    const c = await addCustomer(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-PLAN-A', amount: 300_000n });
    const b = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-PLAN-B', amount: 900_001n });
    const e = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-PAID-E', amount: 50_000n });
    const path = await linkOf(org.id, c.id);
    const p = portal(db, paris('2026-03-10'), '198.51.100.30');
    // Too many instalments, and instalments under the minimum (50 €), are refused.
    expect(text(await (await p.post(`${path}/plan`, { key: formKey(), invoices: String(a.id), count: '9', firstDate: '2026-03-15' })).text())).toContain('Choisissez entre 2 et 6 mensualités');
    await cli(db, org.id, ['portal', 'settings', '--plan-min', '1000']);
    expect(text(await (await p.post(`${path}/plan`, { key: formKey(), invoices: String(a.id), count: '4', firstDate: '2026-03-15' })).text())).toContain('Chaque mensualité doit être d’au moins 1 000,00 €');
    // 3 × 1 000 € from 15 March: within the rules, accepted.
    const ok = await p.post(`${path}/plan`, { key: formKey(), invoices: String(a.id), count: '3', firstDate: '2026-03-15' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toContain('done=plan&');
    const instalments = await db.query<{ seq: number; due_date: string; amount_minor: bigint }>(
      `SELECT x.seq, x.due_date, x.amount_minor FROM payment_plan_instalments x JOIN payment_plans pp ON pp.organisation_id = x.organisation_id AND pp.id = x.plan_id
        WHERE pp.organisation_id = $1 AND pp.status = 'active' ORDER BY x.seq`,
      [org.id],
    );
    expect(instalments.map((i) => [i.due_date, i.amount_minor])).toEqual([
      ['2026-03-15', 100_000n],
      ['2026-04-15', 100_000n],
      ['2026-05-15', 100_000n],
    ]);
    // A plan whose last instalment is past the automatic limit (120 days) waits for a person.
    const waits = await p.post(`${path}/plan`, { key: formKey(), invoices: String(b.id), count: '6', firstDate: '2026-04-09' });
    expect(waits.headers.get('location')).toContain('done=plan_request');
    const waiting = text(await (await p.get(waits.headers.get('location')!)).text());
    expect(waiting).toContain('une personne vous répond rapidement');
    expect(waiting).toContain('jusqu’au 15 mars 2026');
    expect(await db.query(`SELECT 1 FROM payment_plans WHERE organisation_id = $1 AND $2 = ANY(invoice_ids)`, [org.id, b.id])).toEqual([]);
    // "I have paid" on E.
    const future = await p.post(`${path}/paid`, { key: formKey(), invoices: String(e.id), paidOn: '2026-03-20', amount: '500' });
    expect(text(await future.text())).toContain('La date du paiement ne peut pas être à venir');
    const paid = await p.post(`${path}/paid`, { key: formKey(), invoices: String(e.id), paidOn: '2026-03-09', amount: '500,00', reference: 'VIR 0309' });
    expect(paid.status).toBe(303);
    const pauses = await db.query<{ invoice_ids: unknown[]; ends_on: string }>(`SELECT invoice_ids, ends_on FROM pauses WHERE organisation_id = $1 AND reason = 'other' ORDER BY id`, [org.id]);
    expect(pauses.map((x) => [x.invoice_ids.map(String), x.ends_on])).toEqual([
      [[String(b.id)], '2026-03-15'],
      [[String(e.id)], '2026-03-15'],
    ]);
    const web = await webSession(db, org.id, paris('2026-03-10'));
    const today = await web.get<{ followups: { kind: string; note: string }[] }>('/today');
    expect(today.followups.map((f) => f.kind).sort()).toEqual(['payment_plan_request', 'reconciliation']);
    expect(plain(today.followups.find((f) => f.kind === 'reconciliation')!.note)).toContain('500,00 € le 9 mars 2026 (référence VIR 0309) pour F-PAID-E');
    // The customer's confirmations: the plan's, the proposal's receipt, the payment's receipt.
    const dataDir = tmp();
    await worker(db, paris('2026-03-10', '11:00'), { dataDir }).runOnce();
    const mails = await outboxMails(dataDir, org.id);
    const subjects = mails.map(subject).sort();
    expect(subjects).toEqual(expect.arrayContaining(['Votre paiement signalé a bien été reçu', 'Votre proposition d’échéancier a bien été reçue']));
    const receipt = mails.find((m) => subject(m) === 'Votre paiement signalé a bien été reçu')!;
    expect(mailText(receipt)).toContain('un paiement de 500,00 € le 9 mars 2026 (référence « VIR 0309 ») pour la facture F-PAID-E');
    expect(mailText(receipt)).toContain('ne vous relancerons pas pour ces factures d’ici le 15 mars 2026');
    const proposal = mails.find((m) => subject(m) === 'Votre proposition d’échéancier a bien été reçue')!;
    expect(mailText(proposal)).toContain('en 6 mensualités');
    for (const m of mails) expect(mailText(m)).not.toMatch(/portal:|payment_plan_request|reconciliation|\{\{|undefined/);
    // The history on the portal.
    const page = text(await (await p.get(path)).text());
    expect(page).toContain('Échéancier accepté : 3 mensualités à partir du 15 mars 2026 (F-PLAN-A)');
    expect(page).toContain('Paiement signalé : 500,00 € le 9 mars 2026 (F-PAID-E)');
  });

  it('20.5 the pre-due check: "no" opens a dispute and stops the due-day reminder, "yes" is kept as acceptance; the contact is updated', async () => {
    const scenario: ScenarioDefinition = {
      options: { workingDaysOnly: true, holidayCalendar: 'FR', window: { start: '09:00', end: '18:00' }, minGapDays: 0, grouping: 'per_invoice' },
      steps: [
        { offset: -5, channel: 'email', template: 'courtesy', tone: 'courtesy' },
        { offset: 0, channel: 'email', template: 'due', tone: 'reminder' },
      ],
    };
    const org = await orgWithPortal(scenario);
    const c = await addCustomer(db, org.id);
    const no = await addInvoice(db, org.id, c.id, '2026-03-16', { number: 'F-CHECK-NO' });
    await addInvoice(db, org.id, c.id, '2026-03-16', { number: 'F-CHECK-YES' });
    // J-5: the courtesy messages ask the question, with the answers on the portal.
    await plan(db, org.id, '2026-03-11');
    const dataDir = tmp();
    await worker(db, paris('2026-03-11'), { dataDir }).runOnce();
    const mails = await outboxMails(dataDir, org.id);
    const forNo = mails.find((m) => subject(m).includes('F-CHECK-NO'))!;
    const body = mailText(forNo);
    expect(body).toContain('Tout s’est-il bien passé avec cette commande ?');
    const noLink = /Non, il y a un problème : (\S+)/.exec(body)![1]!;
    expect(noLink).toMatch(new RegExp(`^${URL_BASE}/portal/[^/]+/check/${no.id}\\?answer=no$`));
    const yesLink = /Oui, tout est en ordre : (\S+)/.exec(mailText(mails.find((m) => subject(m).includes('F-CHECK-YES'))!))![1]!;
    const p = portal(db, paris('2026-03-11', '15:00'), '198.51.100.40');
    const checkPage = text(await (await p.get(new URL(noLink).pathname)).text());
    expect(checkPage).toContain('Tout est-il en ordre avec la facture F-CHECK-NO ?');
    const base = new URL(noLink).pathname.replace(/\/check\/.*$/, '');
    const noAnswer = await p.post(`${base}/check`, { key: formKey(), invoice: String(no.id), answer: 'no', comment: 'livraison incomplète' });
    expect(noAnswer.status).toBe(303);
    const yesAnswer = await p.post(`${base}/check`, { key: formKey(), invoice: new URL(yesLink).pathname.split('/').at(-1)!, answer: 'yes' });
    expect(yesAnswer.status).toBe(303);
    const [dispute] = await db.query<{ invoice_ids: unknown[]; reason: string }>('SELECT invoice_ids, reason FROM disputes WHERE organisation_id = $1', [org.id]);
    expect(dispute!.invoice_ids.map(String)).toEqual([String(no.id)]);
    expect(dispute!.reason).toContain('livraison incomplète');
    // The due day: only the invoice whose delivery was confirmed is reminded.
    await plan(db, org.id, '2026-03-16');
    const due = await db.query<{ number: string }>(
      `SELECT i.number FROM actions a JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE a.organisation_id = $1 AND a.template = 'due' AND a.status <> 'cancelled'`,
      [org.id],
    );
    expect(due.map((r) => r.number)).toEqual(['F-CHECK-YES']);
    const page = text(await (await p.get(base)).text());
    expect(page).toContain('Livraison confirmée conforme (F-CHECK-YES)');
    expect(page).toContain('Problème signalé avant l’échéance (F-CHECK-NO)');

    // The billing contact, updated by the customer: the next messages go there.
    const badEmail = await p.post(`${base}/contact`, { key: formKey(), name: 'Jeanne Martin', email: 'pas une adresse', phone: '' });
    expect(text(await badEmail.text())).toContain('Indiquez une adresse e-mail valide');
    expect((await p.post(`${base}/contact`, { key: formKey(), name: 'Jeanne Martin', email: 'Compta@Client.test', phone: '06 12 34 56 78' })).status).toBe(303);
    const contacts = await db.query<{ name: string; email: string; phone: string }>('SELECT name, email, phone FROM contacts WHERE organisation_id = $1 AND customer_id = $2 AND receives_reminders', [org.id, c.id]);
    expect(contacts).toEqual([{ name: 'Jeanne Martin', email: 'compta@client.test', phone: '+33612345678' }]);
  });
});
