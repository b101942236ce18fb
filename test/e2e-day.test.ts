/**
 * A credit controller's day in the web app (issue 19), in chromium, in French and in English, at
 * 1440 and 390 px: a customer imported with no contact gets one (edited, then removed after the
 * app's own confirmation), an owner, then shows in "my accounts"; a call nobody planned with a
 * promise on the invoice named; a promise on the invoice ticked; a dispute resolved with its
 * resolution; a payment plan with a down payment, its schedule shown afterwards; a note with a
 * follow-up day back in Today, marked done; the escalation deadlines in Today in words; the
 * customers list's filter and sort kept in the address across Back, and exported as CSV.
 * Every page checked: it fits the width, logs no console error, shows no raw code.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../src/domain/dates.ts';
import { createCustomer, createInvoice } from '../src/ledger/repo.ts';
import { type E2eServer, startE2eServer } from './e2e-harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = `${ROOT}artifacts/screenshots`;

let server: E2eServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

/** The words each run expects, in its language. */
const WORDS = {
  fr: { noContact: 'Aucun contact', resolved: 'Résolu le', insurance: 'Déclarer la menace de sinistre', mine: 'Mes comptes', promise: 'Promesse de paiement', csvHead: 'Client;Code client', withdraws: 'L’échéancier est retiré', withdrawn: 'Sans suite' },
  en: { noContact: 'No contact', resolved: 'Resolved on', insurance: 'Declare the threatened loss', mine: 'My accounts', promise: 'Promise to pay', csvHead: 'Customer,Customer code', withdraws: 'The payment plan is withdrawn', withdrawn: 'Withdrawn' },
} as const;

const RUNS = [
  { lang: 'fr', width: 1440 },
  { lang: 'fr', width: 390 },
  { lang: 'en', width: 1440 },
  { lang: 'en', width: 390 },
] as const;

/** What every page of the journeys must hold to: fits the width, no console error, no raw code. */
async function checkPage(where: string) {
  await page.waitForLoadState('networkidle').catch(() => {});
  const fit = (await page.evaluate('({ scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth })')) as { scroll: number; inner: number };
  expect(fit.scroll, `${where}: page wider than the window`).toBeLessThanOrEqual(fit.inner);
  const text = (await page.evaluate('document.body.innerText')) as string;
  // Raw codes look like snake_case words (promise_to_pay, insurance_declaration); e-mail addresses excepted.
  const codes = text.replace(/\S+@\S+/g, '').match(/\b[a-z]+_[a-z_]+\b/g) ?? [];
  expect(codes, `${where}: raw codes in the page`).toEqual([]);
  expect(consoleErrors, `${where}: console errors`).toEqual([]);
}

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

describe('a credit controller’s day in chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}: the browser tests need it`);
    mkdirSync(SHOTS, { recursive: true });
    server = await startE2eServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, locale: 'fr-FR', timezoneId: 'Europe/Paris', acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    await page.goto(`${server.url}/login`);
    await page.locator('input[name=email]').fill(server.admin.email);
    await page.locator('input[name=password]').fill(server.admin.password);
    await page.locator('button[type=submit]').click();
    await page.getByTestId('dashboard').waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const run of RUNS) {
    const tag = `${run.lang}-${run.width}`;
    const words = WORDS[run.lang];
    describe(`${run.lang} at ${run.width} px`, () => {
      let customerId: string;
      let numbers: string[];

      beforeAll(async () => {
        await page.setViewportSize({ width: run.width, height: run.width > 800 ? 1000 : 844 });
        const res = await page.request.post(`${server.url}/api/app/me/language`, { data: { language: run.lang }, headers: { origin: server.url } });
        expect(res.status()).toBe(200);
        // As an import leaves a customer: a name, four overdue invoices, no contact at all.
        const c = await server.db.tx((q) => createCustomer(q, server.orgId, { legalName: `Boulangerie Sans Contact ${tag}`, externalId: `DAY-${tag}` }));
        customerId = String(c.id);
        numbers = [];
        for (let k = 1; k <= 4; k++) {
          const number = `DAY-${tag}-${k}`;
          await server.db.tx((q) =>
            createInvoice(q, server.orgId, { customerId: c.id, number, issueDate: addDays(server.today, -60), dueDate: addDays(server.today, -20 - k), currency: 'EUR', amountExclTaxMinor: 100_000n * BigInt(k), amountInclTaxMinor: 120_000n * BigInt(k) }),
          );
          numbers.push(number);
        }
        // Deadlines the escalation areas raise (credit insurance, insolvency) for this customer.
        await server.db.query(
          `INSERT INTO tasks (organisation_id, customer_id, kind, source_id, due_on, note) VALUES ($1,$2,'insurance_declaration',$2,$3,'x'), ($1,$2,'insolvency_declaration',$2,$3,'y')`,
          [server.orgId, c.id, addDays(server.today, 5)],
        );
        consoleErrors.length = 0;
      }, 60_000);

      it('adds, edits and removes a contact, and gives the customer an owner', async () => {
        await page.goto(`${server.url}/customers/${customerId}`);
        await page.getByTestId('customer-page').waitFor();
        expect(await page.getByTestId('no-contact').textContent()).toContain(words.noContact);
        await checkPage(`${tag} customer with no contact`);
        await page.getByTestId('add-contact').click();
        const dialog = page.getByTestId('contact-dialog');
        await dialog.locator('input[name=name]').fill('Paul Martin');
        await dialog.locator('input[name=email]').fill('paul@boulangerie.example');
        await dialog.locator('input[name=phone]').fill('01 23 45 67 89');
        await shot(`day-${tag}-01-contact-add`);
        await checkPage(`${tag} contact dialog`);
        await dialog.locator('button[type=submit]').click();
        await page.getByTestId('contact').filter({ hasText: 'paul@boulangerie.example' }).waitFor();
        await page.getByTestId('edit-contact').click();
        await page.getByTestId('contact-dialog').locator('input[name=email]').fill('compta@boulangerie.example');
        await page.getByTestId('contact-dialog').locator('button[type=submit]').click();
        await page.getByTestId('contact').filter({ hasText: 'compta@boulangerie.example' }).waitFor();
        // Removing asks first, in the app's own dialog.
        await page.getByTestId('remove-contact').click();
        await page.getByTestId('confirm-dialog').waitFor();
        await shot(`day-${tag}-02-contact-remove-confirm`);
        await checkPage(`${tag} remove confirmation`);
        await page.getByTestId('confirm-yes').click();
        await page.getByTestId('no-contact').waitFor();
        // Back with a contact for the rest of the day, and an owner.
        await page.getByTestId('add-contact').click();
        await page.getByTestId('contact-dialog').locator('input[name=name]').fill('Paul Martin');
        await page.getByTestId('contact-dialog').locator('input[name=phone]').fill('01 23 45 67 89');
        await page.getByTestId('contact-dialog').locator('button[type=submit]').click();
        await page.getByTestId('contact').waitFor();
        await page.getByTestId('edit-customer').click();
        await page.getByTestId('owner-select').selectOption(server.admin.email);
        await page.locator('.modal button[type=submit]').click();
        await page.getByTestId('customer-owner').filter({ hasText: server.admin.email }).waitFor();
        await checkPage(`${tag} customer with contact and owner`);
      });

      it('logs a call nobody planned: its promise pauses the invoice named, and only it', async () => {
        await page.getByTestId('log-call').click();
        const call = page.getByTestId('unplanned-call');
        await call.locator(`input[data-number="${numbers[0]}"]`).check();
        await call.getByTestId('call-outcome').selectOption('promise_to_pay');
        await call.locator('input[name=promisedOn]').fill(addDays(server.today, 10));
        await call.locator('textarea[name=note]').fill('Le client a rappelé');
        await shot(`day-${tag}-03-unplanned-call`);
        await checkPage(`${tag} unplanned call dialog`);
        await page.getByTestId('save-call').click();
        await page.getByTestId('paused-badge').filter({ hasText: numbers[0]! }).waitFor();
        expect(await page.locator('[data-testid=timeline] li[data-kind=call]').first().textContent()).toContain(words.promise);
        const [p] = await server.db.query<{ numbers: string[] }>(
          `SELECT array(SELECT i.number FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS numbers
             FROM promises p WHERE p.organisation_id = $1 AND p.customer_id = $2 ORDER BY p.id DESC LIMIT 1`,
          [server.orgId, BigInt(customerId)],
        );
        expect(p!.numbers).toEqual([numbers[0]]);
      });

      it('records a promise on the invoice ticked', async () => {
        await page.getByTestId('promise').click();
        const dialog = page.getByTestId('promise-dialog');
        expect(await dialog.getByTestId('save-promise').isDisabled()).toBe(true);
        await dialog.locator(`input[data-number="${numbers[2]}"]`).check();
        await dialog.getByTestId('promise-total').waitFor();
        await dialog.locator('input[name=promisedOn]').fill(addDays(server.today, 7));
        await shot(`day-${tag}-04-promise-scope`);
        await checkPage(`${tag} promise dialog`);
        await dialog.getByTestId('save-promise').click();
        await page.getByTestId('paused-badge').filter({ hasText: numbers[2]! }).waitFor();
      });

      it('resolves a dispute with its resolution: its pause ends with it', async () => {
        await page.getByTestId('open-dispute').click();
        await page.locator('.modal').getByTestId('invoice-picker').locator(`input[data-number="${numbers[1]}"]`).check();
        await page.locator('.modal input[name=reason]').fill('Livraison incomplète');
        await page.locator('.modal button[type=submit]').click();
        await page.locator('[data-testid=dispute][data-state=open]').waitFor();
        // The disputed invoice says so in the list of open invoices.
        await page.getByTestId('open-items').locator('tr', { hasText: numbers[1]! }).getByTestId('invoice-disputed').waitFor();
        // The pause of a dispute asks how the dispute ended instead of lifting in one click.
        await page.locator('[data-testid=resume][data-reason=dispute]').click();
        const ask = page.getByTestId('resolve-dialog');
        await ask.waitFor();
        await ask.getByTestId('ask-text').fill('Avoir accordé pour la pièce manquante');
        await shot(`day-${tag}-05-dispute-resolve`);
        await checkPage(`${tag} resolve dialog`);
        await ask.getByTestId('ask-submit').click();
        await page.locator('[data-testid=dispute][data-state=resolved]').filter({ hasText: words.resolved }).waitFor();
        expect(await page.locator('[data-testid=resume][data-reason=dispute]').count()).toBe(0);
      });

      it('the invoice page: its dispute and its actions, its history', async () => {
        const [inv] = await server.db.query<{ id: bigint }>('SELECT id FROM invoices WHERE organisation_id = $1 AND number = $2', [server.orgId, numbers[1]]);
        await page.goto(`${server.url}/invoices/${inv!.id}`);
        await page.getByTestId('invoice-page').waitFor();
        await page.locator('[data-testid=invoice-dispute-row][data-state=resolved]').waitFor();
        await page.getByTestId('invoice-dispute').click();
        await page.getByTestId('invoice-dispute-dialog').locator('input[name=reason]').fill('Prix contesté');
        await page.getByTestId('invoice-dispute-dialog').locator('button[type=submit]').click();
        await page.locator('[data-testid=invoice-dispute-row][data-state=open]').waitFor();
        await page.locator('[data-testid=invoice-resume][data-reason=dispute]').click();
        await page.getByTestId('resolve-dialog').getByTestId('ask-text').fill('Prix confirmé par le devis signé');
        await page.getByTestId('resolve-dialog').getByTestId('ask-submit').click();
        await page.locator('[data-testid=invoice-dispute-row][data-state=open]').waitFor({ state: 'detached' });
        expect(await page.locator('[data-testid=invoice-dispute-row][data-state=resolved]').count()).toBe(2);
        await page.getByTestId('invoice-note').click();
        await page.getByTestId('invoice-note-dialog').locator('textarea[name=body]').fill('Devis envoyé au client');
        await page.getByTestId('invoice-note-dialog').locator('button[type=submit]').click();
        await page.locator('[data-testid=invoice-history] li[data-kind=note]').filter({ hasText: 'Devis envoyé au client' }).waitFor();
        expect(await page.locator('[data-testid=invoice-history] li[data-kind=dispute]').count()).toBe(2);
        await shot(`day-${tag}-05b-invoice`);
        await checkPage(`${tag} invoice page`);
      });

      it('sets up a payment plan with a start date and a down payment, shown on the customer page', async () => {
        await page.goto(`${server.url}/customers/${customerId}`);
        await page.getByTestId('plan').click();
        const dialog = page.getByTestId('plan-dialog');
        await dialog.locator(`input[data-number="${numbers[3]}"]`).check();
        await dialog.getByTestId('plan-start').fill(addDays(server.today, 3));
        await dialog.getByTestId('plan-down').fill('800');
        // The down payment, then three monthly instalments.
        expect(await dialog.getByTestId('plan-preview').locator('tr').count()).toBe(4);
        await shot(`day-${tag}-06-plan`);
        await checkPage(`${tag} plan dialog`);
        await dialog.getByTestId('save-plan').click();
        const schedule = page.getByTestId('plan-schedule');
        await schedule.waitFor();
        expect(await schedule.locator('tr').count()).toBe(4);
        await shot(`day-${tag}-07-customer-after`);
        // Resuming the plan's reminders says it withdraws the plan, and the plan shows so.
        await page.locator('[data-testid=resume][data-reason=payment_plan]').click();
        expect(await page.getByTestId('resume-withdraws').textContent()).toContain(words.withdraws);
        await page.getByTestId('confirm-yes').click();
        await page.locator('[data-testid=plan-schedule] [data-status=withdrawn]').waitFor();
        expect(await page.getByTestId('plan-schedule').textContent()).toContain(words.withdrawn);
        await checkPage(`${tag} customer page after the day`);
      });

      it('a note with a follow-up today comes back in Today, with the escalation deadlines in words', async () => {
        await page.getByTestId('add-note').click();
        await page.locator('.modal textarea[name=body]').fill(`Rappeler la comptable ${tag}`);
        await page.getByTestId('note-follow-up').fill(server.today);
        await page.locator('.modal button[type=submit]').click();
        await page.locator('[data-testid=timeline] li[data-kind=note]').first().waitFor();
        await page.goto(`${server.url}/today`);
        await page.getByTestId('today').waitFor();
        const note = page.getByTestId('note-followup').filter({ hasText: `Rappeler la comptable ${tag}` });
        await note.waitFor();
        const task = page.locator('[data-testid=other-task][data-kind=insurance_declaration]').filter({ hasText: `Boulangerie Sans Contact ${tag}` });
        expect(await task.textContent()).toContain(words.insurance);
        await shot(`day-${tag}-08-today`);
        await checkPage(`${tag} today`);
        await note.getByTestId('note-done').click();
        await note.waitFor({ state: 'detached' });
        // The activity across accounts carries this customer's day.
        await page.getByTestId('activity').locator('[data-testid=activity-item][data-kind=call]').filter({ hasText: `Boulangerie Sans Contact ${tag}` }).first().waitFor();
        await checkPage(`${tag} today after the note`);
      });

      it('the outbox: what waits and when it leaves, what failed and why, what went out', async () => {
        await page.goto(`${server.url}/outbox`);
        await page.getByTestId('outbox').waitFor();
        await page.getByTestId('outbox-pending').waitFor();
        await page.getByTestId('outbox-failed').waitFor();
        const leaves = page.getByTestId('leaves-at');
        if ((await leaves.count()) > 0) expect(await leaves.first().textContent()).toMatch(/\d{2}\/\d{2}\/\d{4}/);
        await shot(`day-${tag}-10-outbox`);
        await checkPage(`${tag} outbox`);
      });

      it('keeps the customers list’s filter and sort in the address across Back, and exports it as CSV', async () => {
        await page.goto(`${server.url}/customers`);
        await page.getByTestId('customers').waitFor();
        await page.getByTestId('customer-filter').selectOption('mine');
        await page.waitForURL(/filter=mine/);
        await page.getByTestId('sort-status').click();
        await page.waitForURL(/sort=status/);
        const row = page.getByTestId('customer-row').filter({ hasText: `Boulangerie Sans Contact ${tag}` });
        await row.waitFor();
        await shot(`day-${tag}-09-customers-mine`);
        await checkPage(`${tag} customers list`);
        await row.locator('a').first().click();
        await page.getByTestId('customer-page').waitFor();
        await page.goBack();
        await page.getByTestId('customers').waitFor();
        expect(page.url()).toMatch(/filter=mine/);
        expect(page.url()).toMatch(/sort=status/);
        expect(await page.getByTestId('customer-filter').inputValue()).toBe('mine');
        await row.waitFor();
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
        const chunks: Buffer[] = [];
        for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
        const csv = Buffer.concat(chunks).toString('utf8').replace(/^\ufeff/, '');
        expect(csv.startsWith(words.csvHead)).toBe(true);
        expect(csv).toContain(`Boulangerie Sans Contact ${tag}`);
        await checkPage(`${tag} customers list after Back`);
      });
    });
  }
});
