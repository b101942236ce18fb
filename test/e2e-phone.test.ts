/**
 * Issue 19, every screen of the web app at 390 px (a phone) and 1440 px, in French and English, in a
 * real browser (Debian's chromium through playwright-core) against the seeded demo: the page never
 * scrolls sideways (wide tables scroll inside their own box), no console error, no raw code (a
 * status, a message key, an English code word in the French interface) in the visible text, and the
 * navigation reachable on the phone through the menu. Screenshots under artifacts/screenshots/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eServer, fits, launchChromium, SHOTS, signIn, startE2eServer } from './e2e-harness.ts';
import { rawCodesIn } from './e2e-raw-codes.ts';
import { addUser } from '../src/auth/index.ts';
import { createOrganisation } from '../src/ledger/repo.ts';


let server: E2eServer;
let browser: Browser;
let customerId: string;
let invoiceId: string;

const SCREENS: { path: () => string; testId: string; name: string }[] = [
  { name: 'dashboard', path: () => '/dashboard', testId: 'dashboard' },
  { name: 'today', path: () => '/today', testId: 'today' },
  { name: 'customers', path: () => '/customers', testId: 'customers' },
  { name: 'customer', path: () => `/customers/${customerId}`, testId: 'customer-page' },
  { name: 'invoice', path: () => `/invoices/${invoiceId}`, testId: 'invoice-page' },
  { name: 'scenarios', path: () => '/scenarios', testId: 'scenarios' },
  { name: 'templates', path: () => '/templates', testId: 'templates' },
  { name: 'bank', path: () => '/bank', testId: 'bank' },
  { name: 'imports', path: () => '/imports', testId: 'imports' },
  { name: 'outbox', path: () => '/outbox', testId: 'outbox' },
  { name: 'settings', path: () => '/settings', testId: 'settings' },
  { name: 'account', path: () => '/account', testId: 'account' },
];

const signedIn = (width: number, lang: 'fr' | 'en', who?: { email: string; password: string }) => signIn(browser, server, width, lang, { who });

/** Elements wider than the window, to say which one widens the page when it does. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const w = window.innerWidth;
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      const parent = el.parentElement && el.parentElement.getBoundingClientRect();
      if (r.right > w + 1 && r.width > 0 && !(parent && parent.right > w + 1)) {
        out.push(el.tagName.toLowerCase() + '.' + String(el.className).replace(/\\s+/g, '.') + '[' + (el.getAttribute('data-testid') || '') + '] right=' + Math.round(r.right));
      }
    }
    return out.slice(0, 8);
  })()`);
}


describe('every screen on a phone and a desktop, in French and English', () => {
  beforeAll(async () => {
    server = await startE2eServer();
    browser = await launchChromium();
    const [inv] = await server.db.query<{ id: bigint; customer_id: bigint }>(
      `SELECT id, customer_id FROM invoices WHERE organisation_id = $1 AND amount_incl_tax_minor > allocated_minor ORDER BY due_date, id LIMIT 1`,
      [server.orgId],
    );
    invoiceId = String(inv!.id);
    customerId = String(inv!.customer_id);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const lang of ['fr', 'en'] as const) {
    for (const width of [390, 1440]) {
      it(`${lang} at ${width} px: every screen fits, no console error, no raw code`, async () => {
        const { page, errors, close } = await signedIn(width, lang);
        try {
          const problems: string[] = [];
          for (const screen of SCREENS) {
            await page.goto(`${server.url}${screen.path()}`);
            await page.getByTestId(screen.testId).waitFor();
            // Let the screen's queries settle (lists, previews) before reading it.
            await page.waitForLoadState('networkidle');
            await page.locator('text=/^(Chargement…|Loading…)$/').first().waitFor({ state: 'detached' }).catch(() => {});
            if (!(await fits(page))) problems.push(`${screen.name}: wider than ${width} px: ${(await overflowing(page)).join(', ')}`);
            const text = (await page.evaluate('document.body.innerText')) as string;
            const codes = rawCodesIn(text, lang);
            if (codes.length) problems.push(`${screen.name}: raw codes ${JSON.stringify(codes)}`);
            await page.screenshot({ path: `${SHOTS}/phone-${lang}-${width}-${screen.name}.png`, fullPage: width < 800 });
          }
          expect(problems).toEqual([]);
          expect(errors).toEqual([]);
        } finally {
          await close();
        }
      }, 240_000);
    }
  }

  it('a new organisation with nothing in it: each screen says it is empty and what to do, in the user language', async () => {
    const org = await createOrganisation(server.db, { legalName: 'Scierie Vide SAS' });
    const newcomer = { email: 'gerante@scierie-vide.fr', password: 'copeaux-rabot-sapin-77' };
    await server.db.tx((q) => addUser(q, org.id, { ...newcomer, role: 'admin' }));
    const WORDS = { fr: { none: 'Aucun client pour l’instant', dash: 'Rien à mesurer' }, en: { none: 'No customer yet', dash: 'Nothing to measure yet' } } as const;
    for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
      const { page, errors, close } = await signedIn(width, lang, newcomer);
      try {
        const problems: string[] = [];
        const check = async (name: string) => {
          await page.waitForLoadState('networkidle');
          if (!(await fits(page))) problems.push(`${name}: wider than ${width} px: ${(await overflowing(page)).join(', ')}`);
          const codes = rawCodesIn((await page.evaluate('document.body.innerText')) as string, lang);
          if (codes.length) problems.push(`${name}: raw codes ${JSON.stringify(codes)}`);
          await page.screenshot({ path: `${SHOTS}/empty-${lang}-${width}-${name}.png`, fullPage: width < 800 });
        };
        await page.goto(`${server.url}/dashboard`);
        expect(await page.getByTestId('dashboard-empty').textContent()).toContain(WORDS[lang].dash);
        await check('dashboard');
        await page.goto(`${server.url}/customers`);
        expect(await page.getByTestId('customers-empty').textContent()).toContain(WORDS[lang].none);
        await check('customers');
        // A search that finds nothing says so and offers to show everything again.
        await page.getByTestId('customer-search').fill('introuvable');
        await page.getByTestId('customers-none-match').waitFor();
        await page.getByTestId('clear-filters').click();
        await page.getByTestId('customers-empty').waitFor();
        expect(await page.getByTestId('customer-search').inputValue()).toBe('');
        // The way out of the empty list leads to the imports, whose history is empty too.
        await page.getByTestId('customers-empty').getByRole('link').click();
        await page.getByTestId('import-history-empty').waitFor();
        await check('imports');
        await page.goto(`${server.url}/outbox`);
        await page.getByTestId('outbox-empty').waitFor();
        await check('outbox');
        expect(problems).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }
  }, 240_000);

  it('on a phone the navigation opens from the menu button and closes on the chosen screen', async () => {
    const { page, errors, close } = await signedIn(390, 'fr');
    try {
      const offScreen = async () => ((await page.getByTestId('nav-customers').boundingBox())?.x ?? 0) + 1 < 0;
      expect(await offScreen()).toBe(true);
      // The sidebar no longer takes the screen: the dashboard begins at the left edge, below the top bar.
      const main = await page.locator('main.main').boundingBox();
      expect(main!.x).toBe(0);
      await page.getByTestId('menu-button').click();
      await page.getByTestId('nav-customers').waitFor({ state: 'visible' });
      await page.screenshot({ path: `${SHOTS}/phone-fr-390-menu-open.png` });
      await page.getByTestId('nav-customers').click();
      await page.getByTestId('customers').waitFor();
      await page.waitForFunction(`document.querySelector('[data-testid=nav-customers]').getBoundingClientRect().right <= 0`);
      expect(await fits(page)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
