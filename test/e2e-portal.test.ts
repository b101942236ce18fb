/**
 * Issue 20, the debtor portal in a real browser (Debian's chromium through playwright-core) against
 * a running server: the page at 1440 and 390 px in French and English (no horizontal scroll, no
 * console error, no JavaScript at all on the first page: under the 100 KB gzipped budget), each
 * action end to end through the engine (a promise pauses exactly its invoices, a dispute with its
 * document pauses its invoice, a plan within the rules is accepted with its instalments), the
 * payment link through the Stripe adapter against a local mock of Stripe's documented API, and a
 * tampered link refused with no detail. Screenshots under artifacts/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { openPglite } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';
import { addDays, todayIn } from '../src/domain/dates.ts';
import { startServer, type RunningServer } from '../src/http/server.ts';
import { savePortalSettings } from '../src/portal/links.ts';
import { cli } from './debtor-harness.ts';
import { addCustomer, addInvoice, setupOrg } from './delivery-fixture.ts';
import { type StripeMock, stripeMock } from './provider-mocks.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = `${fileURLToPath(new URL('..', import.meta.url))}artifacts/screenshots`;

let db: Db;
let server: RunningServer;
let browser: Browser;
let stripe: StripeMock;
let orgId: string;
let customerId: bigint;
let link: string;
const invoices: Record<string, bigint> = {};

async function open(width: number, lang: 'fr' | 'en', path = ''): Promise<{ page: Page; errors: string[]; scripts: Buffer[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: lang === 'fr' ? 'fr-FR' : 'en-GB' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const scripts: Buffer[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', async (r) => {
    if (r.request().resourceType() === 'script') scripts.push(await r.body());
  });
  await page.goto(`${link}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
  return { page, errors, scripts };
}

async function fitsWidth(page: Page): Promise<boolean> {
  return (await page.evaluate('document.documentElement.scrollWidth <= document.documentElement.clientWidth')) === true;
}

describe('debtor portal in chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}`);
    mkdirSync(SHOTS, { recursive: true });
    db = await openPglite();
    await migrate(db);
    const org = await setupOrg(db);
    orgId = org.id;
    const today = todayIn('Europe/Paris', Date.now());
    const c = await addCustomer(db, orgId, [{ name: 'Jeanne Martin', email: 'jeanne@client.test' }]);
    customerId = c.id;
    invoices.late = (await addInvoice(db, orgId, c.id, addDays(today, -20), { number: 'F-LATE-1', amount: 240_000n, pdf: Buffer.from('%PDF-1.4 test') })).id;
    invoices.promise = (await addInvoice(db, orgId, c.id, addDays(today, -5), { number: 'F-PROMISE-2', amount: 60_000n })).id;
    invoices.dispute = (await addInvoice(db, orgId, c.id, addDays(today, 10), { number: 'F-DISPUTE-3', amount: 35_050n })).id;
    invoices.plan = (await addInvoice(db, orgId, c.id, addDays(today, -40), { number: 'F-PLAN-4', amount: 600_000n })).id;
    stripe = await stripeMock('sk_test_portal');
    server = await startServer(db, { port: 0, host: '127.0.0.1' });
    await db.tx((q) => savePortalSettings(q, orgId, { publicUrl: server.url }));
    await cli(db, orgId, ['portal', 'payments', '--provider', 'stripe', '--secret-key', 'sk_test_portal', '--api-url', stripe.url]);
    link = (JSON.parse(await cli(db, orgId, ['portal', 'link', '--customer', String(c.id), '--json'])) as { url: string }).url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stripe?.close();
    await db?.close();
  });

  it('shows the open items at 1440 and 390 px, in French and English, with no JavaScript, no console error and no horizontal scroll', async () => {
    for (const width of [1440, 390]) {
      for (const lang of ['fr', 'en'] as const) {
        const { page, errors, scripts } = await open(width, lang);
        await expect(page.locator('h1').textContent()).resolves.toContain(lang === 'fr' ? 'Votre espace client' : 'Your customer area');
        const body = (await page.locator('main').innerText()).replace(/[\u202f\u00a0]/g, ' ');
        expect(body).toContain('F-LATE-1');
        expect(body).toContain(lang === 'fr' ? '2 400,00 €' : '€2,400.00');
        expect(body).toContain(lang === 'fr' ? 'Pénalités de retard' : 'Late-payment interest');
        expect(body).toContain('FR76 3000 6000 0112 3456 7890 189');
        expect(await page.getByRole('img', { name: lang === 'fr' ? /QR code de virement/ : /Transfer QR code/ }).count()).toBe(1);
        expect(await fitsWidth(page)).toBe(true);
        // Every field of every form has its label.
        for (const id of ['paid-date', 'paid-amount', 'promise-date', 'plan-count', 'plan-first', 'dispute-reason', 'dispute-file', 'contact-email']) {
          expect(await page.locator(`label[for="${id}"]`).count(), id).toBe(1);
        }
        const gzipped = scripts.reduce((s, b) => s + gzipSync(b).length, 0);
        expect(gzipped).toBeLessThan(100 * 1024);
        expect(scripts).toEqual([]);
        expect(errors).toEqual([]);
        await page.screenshot({ path: `${SHOTS}/portal-${width}-${lang}.png`, fullPage: true });
        await page.context().close();
      }
    }
  });

  it('each action acts in the engine: a promise pauses exactly its invoice, a dispute with its document pauses its invoice, a plan within the rules is accepted', async () => {
    const { page, errors } = await open(390, 'fr');
    // Promise on F-PROMISE-2.
    await page.locator('#promise summary').click();
    await page.locator('#promise').getByLabel(/F-PROMISE-2/).check();
    const date = addDays(todayIn('Europe/Paris', Date.now()), 10);
    await page.locator('#promise-date').fill(date);
    await page.locator('#promise button[type=submit]').click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('votre date de paiement est enregistrée');
    const [promise] = await db.query<{ invoice_ids: unknown[] }>('SELECT invoice_ids FROM promises WHERE organisation_id = $1', [orgId]);
    expect(promise!.invoice_ids.map(String)).toEqual([String(invoices.promise)]);
    const [pause] = await db.query<{ invoice_ids: unknown[] }>(`SELECT invoice_ids FROM pauses WHERE organisation_id = $1 AND reason = 'promise_to_pay'`, [orgId]);
    expect(pause!.invoice_ids.map(String)).toEqual([String(invoices.promise)]);
    // Dispute on F-DISPUTE-3 with a PDF.
    await page.locator('#dispute summary').click();
    await page.locator('#dispute').getByLabel(/F-DISPUTE-3/).check();
    await page.locator('#dispute-reason').selectOption('wrong_amount');
    await page.locator('#dispute-comment').fill('remise de 5 % non appliquée');
    await page.locator('#dispute-file').setInputFiles({ name: 'devis.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 devis signé') });
    await page.locator('#dispute button[type=submit]').click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Votre contestation est enregistrée');
    const [dispute] = await db.query<{ invoice_ids: unknown[]; reason: string }>('SELECT invoice_ids, reason FROM disputes WHERE organisation_id = $1', [orgId]);
    expect(dispute!.invoice_ids.map(String)).toEqual([String(invoices.dispute)]);
    expect(dispute!.reason).toBe('Montant erroné : remise de 5 % non appliquée');
    // Plan on F-PLAN-4: 3 instalments from next week, within the rules.
    await page.locator('#plan summary').click();
    await page.locator('#plan').getByLabel(/F-PLAN-4/).check();
    await page.locator('#plan-count').selectOption('3');
    await page.locator('#plan-first').fill(addDays(todayIn('Europe/Paris', Date.now()), 7));
    await page.locator('#plan button[type=submit]').click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('Votre échéancier est accepté');
    const instalments = await db.query<{ amount_minor: bigint }>(
      `SELECT x.amount_minor FROM payment_plan_instalments x JOIN payment_plans p ON p.organisation_id = x.organisation_id AND p.id = x.plan_id WHERE p.organisation_id = $1 AND p.status = 'active' ORDER BY x.seq`,
      [orgId],
    );
    expect(instalments.map((i) => i.amount_minor)).toEqual([200_000n, 200_000n, 200_000n]);
    const states = (await page.locator('main').innerText()).replace(/[\u202f\u00a0]/g, ' ');
    expect(states).toContain('contestation en cours d’examen');
    expect(states).toContain('échéancier en cours');
    expect(await fitsWidth(page)).toBe(true);
    expect(errors).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/portal-after-actions.png`, fullPage: true });
    await page.context().close();
  });

  it('pays online through the Stripe adapter (local mock of its documented API), and refuses a tampered link with no detail', async () => {
    const { page } = await open(1440, 'en');
    await page.getByRole('link', { name: /Pay .* online/ }).click();
    await page.waitForURL(/\/pay\/cs_test_/);
    expect(await page.locator('h1').textContent()).toBe('Stripe test checkout');
    const s = stripe.sessions.at(-1)!;
    // Only F-LATE-1 is still free to pay in full: the amount is what the portal shows still open.
    expect(s.form.get('line_items[0][price_data][currency]')).toBe('eur');
    expect(Number(s.form.get('line_items[0][price_data][unit_amount]'))).toBeGreaterThan(0);
    expect(s.form.get('metadata[relance_customer]')).toBe(String(customerId));
    const tampered = link.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
    await page.goto(tampered);
    const text = await page.locator('main').innerText();
    expect(text).toMatch(/not valid|pas ou plus valable/);
    expect(text).not.toMatch(/expired|revoked|signature|F-LATE-1/);
    await page.context().close();
  });
});
