/**
 * Going live with a real company, end to end on both databases (issue 14, "Done when"): the
 * company's own organisation from the command line, its Factur-X invoice and a CSV backlog overdue
 * by 5, 40, 120 and 400 days (and one chased before Relance), `relance golive`, then going live and
 * 60 simulated days of the daily cycle and the worker, a human approving the formal notices, and
 * a payment mid-way. What the debtors receive is read back: the .eml by mailparser, the registered
 * letters by pdftotext.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { addDays, type CalendarDate } from '../src/domain/dates.ts';
import { formalNoticeDeadline } from '../src/domain/engine/escalation.ts';
import { workingDays } from '../src/domain/engine/holidays.ts';
import { BUILTIN_SCENARIOS } from '../src/domain/engine/scenario.ts';
import { approveActions, confirmSent } from '../src/delivery/outbox.ts';
import { runCycle } from '../src/engine/cycle.ts';
import { createApiKey } from '../src/auth/index.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, mailText, outboxMails, pdfText, plain } from './debtor-harness.ts';
import { d, paris, worker } from './delivery-fixture.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'einvoice', 'factur-x-invoice_EN16931.pdf');
const TODAY = d('2026-06-01'); // a Monday
const B2B = BUILTIN_SCENARIOS['standard-b2b']!.definition;

describe.each(dbTargets())('going live with a real company on $name', (target) => {
  let db: Db;
  let dir: string;
  beforeAll(async () => {
    db = await target.open();
    dir = mkdtempSync(join(tmpdir(), 'relance-golive-'));
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('org create → e-invoice and CSV backlog → golive → first run without escalation → 60 days climbing one prerequisite at a time → a payment stops it', { timeout: 600_000 }, async () => {
    // ------------------------------------------------------------ the company's own organisation
    const created = JSON.parse(
      await cli(db, '', [
        'org', 'create', '--name', 'Le Fournisseur SAS', '--siren', '123456782', '--vat', 'FR11123456782', '--iban', 'FR7630006000011234567890189', '--bic', 'AGRIFRPP',
        '--address-line1', '12 rue des Tanneurs', '--postal-code', '69002', '--city', 'Lyon', '--email', 'relances@fournisseur.example', '--admin-email', 'claire@fournisseur.example', '--json',
      ]),
    );
    const org: string = created.id;
    const run = (args: string[], lang: 'fr' | 'en' = 'en') => cli(db, org, args, lang);

    // ------------------------------------------------------------ its e-invoice: seller SIREN 123456782
    const einvoice = await run(['import', 'einvoice', FIXTURE, '--json']);
    expect(JSON.parse(einvoice).outcome).toBe('imported');
    const [fx] = await db.query<{ number: string; amount_incl_tax_minor: bigint; due_date: string; customer_id: bigint }>(
      'SELECT number, amount_incl_tax_minor, due_date, customer_id FROM invoices WHERE organisation_id = $1',
      [org],
    );
    expect(fx).toMatchObject({ number: 'F20260023', amount_incl_tax_minor: 10_490n, due_date: '2026-03-02' });

    // ------------------------------------------------------------ the backlog, from the invoicing tool
    const customers = join(dir, 'clients.csv');
    writeFileSync(
      customers,
      [
        'Code client;Raison sociale;Email;Téléphone;Adresse;Code postal;Ville',
        ...['C5', 'C40', 'C120', 'C400', 'CHIST'].map((c) => `${c};Client ${c} SARL;compta@${c.toLowerCase()}.example;+33612345678;3 place du Marché;69003;Lyon`),
      ].join('\n'),
    );
    expect(JSON.parse(await run(['import', 'customers', customers, '--json'])).outcome).toBe('imported');
    const due = (age: number) => addDays(TODAY, -age);
    const fr = (x: CalendarDate) => `${x.slice(8)}/${x.slice(5, 7)}/${x.slice(0, 4)}`;
    const line = (n: string, code: string, age: number, amount: string, level = '', on = '') =>
      `${n};${code};${fr(addDays(due(age), -30))};${fr(due(age))};${amount};${level};${on ? fr(d(on)) : ''}`;
    const header = 'N° facture;Code client;Date facture;Échéance;Montant TTC;Niveau de relance;Date dernière relance';
    // A bad level: the whole file is refused, naming the line and the column, nothing written.
    const bad = join(dir, 'factures-ko.csv');
    writeFileSync(bad, [header, line('F-5', 'C5', 5, '1200,00'), line('F-HIST', 'CHIST', 61, '2400,00', 'très ferme', '2026-05-10')].join('\n'));
    const refused = JSON.parse(await run(['import', 'invoices', bad, '--json']));
    process.exitCode = 0; // the command says "rejected" with exit code 2: expected here
    expect(refused.outcome).toBe('rejected');
    expect(refused.problems[0]).toMatchObject({ line: 3, column: 'Niveau de relance' });
    expect((await db.query('SELECT 1 FROM invoices WHERE organisation_id = $1', [org])).length).toBe(1);
    const good = join(dir, 'factures.csv');
    writeFileSync(
      good,
      [
        header,
        line('F-5', 'C5', 5, '1200,00'),
        line('F-40', 'C40', 40, '3600,00'),
        line('F-120', 'C120', 120, '980,50'),
        line('F-400', 'C400', 400, '15000,00'),
        // chased before Relance: a second reminder sent on 10 May, in the old tool
        line('F-HIST', 'CHIST', 61, '2400,00', 'deuxième relance', '2026-05-10'),
      ].join('\n'),
    );
    expect(JSON.parse(await run(['import', 'invoices', good, '--json'])).outcome).toBe('imported');
    const preview = await run(['preview', '--invoice', 'F-HIST', '--date', TODAY], 'fr');
    expect(preview).toMatch(/F-HIST\s+2026-05-10 .*firm\s+envoyée hors Relance/);

    // ------------------------------------------------------------ what would go out: never an escalation as first contact
    const golive = JSON.parse(await run(['golive', '--days', '60', '--date', TODAY, '--json']));
    expect(golive).toMatchObject({ live: false, escalationsAsFirstContact: 0 });
    expect(golive.firstContacts).toBe(5); // F20260023, F-5, F-40, F-120, F-400 start at their first post-due step
    expect(golive.byTone.formal_notice).toBeGreaterThan(0);
    const text = await run(['golive', '--days', '60', '--date', TODAY], 'fr');
    expect(text).toMatch(/escalades \(mise en demeure, transmission\) en premier contact : 0/);

    // ------------------------------------------------------------ live, then 60 days
    expect(await run(['org', 'update', '--live'])).toMatch(/is live/);
    const outbox = join(dir, 'data');
    const cal = workingDays('FR');
    const invoiceId = async (n: string) => (await db.query<{ id: bigint }>('SELECT id FROM invoices WHERE organisation_id = $1 AND number = $2', [org, n]))[0]!.id;
    const paidOn = addDays(TODAY, 20);
    for (let k = 0; k < 60; k++) {
      const day = addDays(TODAY, k);
      if (day === paidOn) {
        // F-120 is paid in full (by the CSV of payments): its pending reminders go, nothing more after.
        const pay = join(dir, `reglements-${k}.csv`);
        writeFileSync(pay, `Date;Montant;N° facture;Code client\n${fr(day)};980,50;F-120;C120\n`);
        expect(JSON.parse(await run(['import', 'payments', pay, '--json'])).outcome).toBe('imported');
      }
      if (!cal.isWorkingDay(day)) continue;
      const summary = await runCycle(db, org, { today: day });
      if (k === 0) {
        // The first run: first contacts only, and the ladder of the invoice chased before continues.
        const first = await db.query<{ tone: string; channel: string; step_offset: number; number: string }>(
          `SELECT a.tone, a.channel, a.step_offset, i.number FROM actions a JOIN step_records sr ON sr.organisation_id = a.organisation_id AND sr.action_id = a.id
             JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id WHERE a.organisation_id = $1 ORDER BY i.number`,
          [org],
        );
        expect(summary.actionsCreated).toBeGreaterThan(0);
        for (const f of first.filter((x) => x.number !== 'F-HIST')) expect([f.number, f.tone, f.step_offset]).toEqual([f.number, 'reminder', 8]);
        expect(first.map((f) => f.number)).not.toContain('F-5'); // 5 days overdue: its J+8 comes in 3 days
      }
      // The credit controller approves what waits for a human (the formal notices), then the worker sends.
      await db.tx((q) => approveActions(q, org, { status: ['awaiting_approval'] }, 'claire@fournisseur.example', paris(day, '09:30')));
      await worker(db, paris(day, '10:30'), { dataDir: outbox }).runOnce();
      // No provider is configured: the e-mails are .eml files and the letters a print batch, so
      // nothing counts as sent until she confirms she sent and posted them (a reminder that was only
      // written must not open the way to a formal notice).
      await db.tx((q) => confirmSent(q, org, { status: ['exported'] }, 'claire@fournisseur.example', paris(day, '17:00')));
    }

    // ------------------------------------------------------------ the ladder, invoice by invoice
    const steps = await db.query<{ number: string; step_offset: number; tone: string; channel: string; planned_on: CalendarDate; sent_on: CalendarDate | null; status: string }>(
      `SELECT i.number, sr.step_offset, a.tone, a.channel, a.planned_on, (a.sent_at AT TIME ZONE 'Europe/Paris')::date AS sent_on, a.status
         FROM step_records sr JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id
         JOIN invoices i ON i.organisation_id = sr.organisation_id AND i.id = sr.invoice_id
        WHERE sr.organisation_id = $1 AND sr.outcome = 'planned' ORDER BY i.number, a.planned_on, sr.step_offset`,
      [org],
    );
    const of = (n: string) => steps.filter((s) => s.number === n);
    for (const n of ['F20260023', 'F-40', 'F-400', 'F-5']) {
      const ladder = of(n);
      // one rung at a time, none skipped after the first contact
      expect([...new Set(ladder.map((s) => s.step_offset))], n).toEqual([8, 20, 25, 30, 45]);
      const sentReminders = ladder.filter((s) => ['email', 'letter'].includes(s.channel) && ['reminder', 'firm', 'final'].includes(s.tone) && s.status === 'sent');
      const notice = ladder.find((s) => s.tone === 'formal_notice')!;
      const handover = ladder.find((s) => s.tone === 'handover')!;
      // a formal notice only after a reminder actually sent, and the minimum gap since
      expect(sentReminders.length, n).toBeGreaterThan(0);
      expect(addDays(sentReminders[0]!.sent_on!, B2B.options.minGapDays) <= notice.planned_on, n).toBe(true);
      expect(notice).toMatchObject({ channel: 'registered_letter', status: 'sent' });
      // a handover only after the deadline the notice stated
      expect(handover.planned_on > formalNoticeDeadline(notice.sent_on!, 'registered_letter', B2B.options).deadline, n).toBe(true);
    }
    // F-HIST continued where the old tool left it (a second reminder on 10 May, day 39): no first
    // reminder again; its J+25 call and J+30 notice were both past, so only the most advanced goes,
    // the notice (the reminder sent outside Relance meets its prerequisite), then the handover
    expect([...new Set(of('F-HIST').map((s) => s.step_offset))]).toEqual([30, 45]);
    const [hist] = await db.query<{ superseded: string[] }>(`SELECT superseded FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND step_key = '30:registered_letter'`, [org, await invoiceId('F-HIST')]);
    expect(hist!.superseded).toEqual(['25:call_task']);
    // F-120, paid on day 20 after its formal notice: nothing planned for it from that day on, no handover
    const paid = of('F-120');
    expect(paid.filter((s) => s.planned_on >= paidOn)).toEqual([]);
    expect(paid.map((s) => s.tone)).toContain('formal_notice');
    expect(paid.map((s) => s.tone)).not.toContain('handover');
    const cancelled = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM step_records WHERE organisation_id = $1 AND invoice_id = $2 AND recorded_on >= $3 AND outcome <> 'cancelled'`, [org, await invoiceId('F-120'), paidOn]);
    expect(cancelled[0]!.n).toBe(0n);

    // ------------------------------------------------------------ what the debtors read
    const mails = await outboxMails(outbox, org);
    const ids = mails.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    // F-40's first written reminder (the J+20 e-mail: only a call before it) claims no earlier reminder
    const firm40 = mails.find((m) => plain(m.subject).startsWith('Deuxième relance') && mailText(m).includes('F-40'))!;
    expect(mailText(firm40)).toMatch(/Sauf erreur de notre part, la facture F-40/);
    expect(mailText(firm40)).not.toMatch(/Malgré/);
    // F-40's formal notice lists the reminders that were sent (the J+20 e-mail and letter), with the
    // deadline counted from the letter's expected presentation
    const notice40 = of('F-40').find((s) => s.tone === 'formal_notice')!;
    const [letter] = await db.query<{ content: Buffer }>(
      `SELECT d.content FROM deliveries d JOIN step_records sr ON sr.organisation_id = d.organisation_id AND sr.action_id = d.action_id
        WHERE d.organisation_id = $1 AND d.channel = 'registered_letter' AND sr.invoice_id = $2`,
      [org, await invoiceId('F-40')],
    );
    const pdf = pdfText(letter!.content).replace(/\s+/g, ' ');
    const firmOn = of('F-40').find((s) => s.tone === 'firm')!.sent_on!;
    const long = (x: CalendarDate) => new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${x}T00:00:00Z`));
    expect(pdf).toContain(`Malgré nos relances restées sans effet (deuxième relance du ${long(firmOn)} par e-mail ; deuxième relance du ${long(firmOn)} par courrier)`);
    const deadline = formalNoticeDeadline(notice40.sent_on!, 'registered_letter', B2B.options).deadline;
    expect(pdf).toContain(`au plus tard le ${long(deadline).replace(/^1 /, '1er ')}`);
    expect(pdf).not.toMatch(/relance\s+(--|Relance)/); // nothing meant for the operator
  });

  it('the API takes the last reminder sent outside Relance with an invoice (field lastReminder), checked', async () => {
    const org = (await createOrganisation(db, { legalName: 'API SAS', siren: '552100554' })).id;
    const key = await db.tx((q) => createApiKey(q, org, { name: 'erp', scope: 'write' }));
    const app = createApp({ db, now: () => new Date('2026-06-01T08:00:00Z') });
    const post = (path: string, body: unknown) =>
      app.request(path, { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const customer = (await (await post('/api/v1/customers', { legalName: 'Client API', contacts: [{ name: 'AP', email: 'ap@client.example' }] })).json()) as { id: string };
    const body = { customerId: customer.id, number: 'API-1', issueDate: '2026-03-01', dueDate: '2026-03-31', amountInclTax: '500.00' };
    const badLevel = await post('/api/v1/invoices', { ...body, lastReminder: { level: 'very firm', sentOn: '2026-05-02' } });
    expect(badLevel.status).toBe(400);
    expect(JSON.stringify(await badLevel.json())).toMatch(/lastReminder/);
    expect((await post('/api/v1/invoices', { ...body, lastReminder: { level: 'final', sentOn: '2026-02-01' } })).status).toBe(400); // before the invoice
    expect((await db.query('SELECT 1 FROM invoices WHERE organisation_id = $1', [org])).length).toBe(0);
    expect((await post('/api/v1/invoices', { ...body, lastReminder: { level: 'final', sentOn: '2026-05-02' } })).status).toBe(201);
    expect(await db.query('SELECT level, sent_on FROM outside_reminders WHERE organisation_id = $1', [org])).toEqual([{ level: 'final', sent_on: '2026-05-02' }]);
  });
});
