/**
 * The server the browser tests drive: the seeded demo on an embedded database in a temporary data
 * folder, the daily cycle run once, the delivery worker in the process (as `relance serve` does),
 * and a clock fixed to a working day inside the sending window, so what is due and what may be
 * sent does not depend on when the suite runs.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../src/db/driver.ts';
import { openDatabase } from '../src/db/open.ts';
import { defaultRateTables } from '../src/domain/law/rates.ts';
import { setRateOverride } from '../src/law/rates-repo.ts';
import { addDays, type CalendarDate, dayOfWeek, todayIn } from '../src/domain/dates.ts';
import { workingDays } from '../src/domain/engine/holidays.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { DeliveryWorker, startInProcessWorker } from '../src/delivery/worker.ts';
import { runDueCycles } from '../src/engine/scheduler.ts';
import { startServer } from '../src/http/server.ts';

export interface E2eServer {
  url: string;
  db: Db;
  orgId: string;
  today: CalendarDate;
  now: () => Date;
  admin: { email: string; password: string };
  dataDir: string;
  close(): Promise<void>;
}

/** 10:30 in Paris on the next working day (today if it is one): inside every scenario's window. */
function fixedClock(): () => Date {
  const cal = workingDays('FR');
  let day = todayIn('Europe/Paris', Date.now());
  while (cal.nextWorkingDay(day) !== day || dayOfWeek(day) > 5) day = addDays(day, 1);
  // 10:30 Paris is 08:30 or 09:30 UTC; 09:00 UTC is inside the window in both seasons.
  const start = Date.parse(`${day}T09:00:00Z`);
  const t0 = Date.now();
  return () => new Date(start + (Date.now() - t0));
}

export async function startE2eServer(opts: { customers?: number; invoices?: number } = {}): Promise<E2eServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relance-e2e-'));
  const now = fixedClock();
  const db = await openDatabase({ databaseUrl: undefined, dataDir });
  const today = todayIn('Europe/Paris', now());
  // The demo comes with its admin and its sender address: with no SMTP server, e-mails land in the local outbox.
  const { organisation, admin } = await seedDemo(db, { today, customers: opts.customers, invoices: opts.invoices });
  if (!admin.password) throw new Error('the demo organisation already had an admin');
  // The instance operator's job: the official rates published after the shipped tables. These tests
  // run on the real date, so they confirm the last known rates up to today (a test's assumption, not
  // a published figure); without it formal notices rightly wait for the operator.
  const tables = defaultRateTables();
  for (const name of ['ecb-mro', 'fr-taux-legal-autres', 'fr-taux-legal-particulier'] as const) {
    const t = tables[name];
    if (t.knownThrough >= today) continue;
    const from = t.kind === 'semester' ? `${today.slice(0, 4)}-${today.slice(5, 7) >= '07' ? '07' : '01'}-01` : today;
    await setRateOverride(db, { table: name, from, ratePercent: t.entries.at(-1)!.ratePercent, note: 'browser tests: last known rate assumed' });
  }
  await runDueCycles(db, now().getTime(), () => {});
  await new DeliveryWorker(db, { dataDir, clock: now, concurrency: 4 }).runOnce({ waitForLeasesMs: 0 });
  const server = await startServer(db, { port: 0, host: '127.0.0.1', now });
  const worker = startInProcessWorker(db, { dataDir }, { clock: now, pollMs: 300 });
  return {
    url: server.url,
    db,
    orgId: organisation.id,
    today,
    now,
    admin: { email: admin.email, password: admin.password! },
    dataDir,
    async close() {
      await worker.stop();
      await server.close();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ the browser

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = `${fileURLToPath(new URL('..', import.meta.url))}artifacts/screenshots`;

/** Debian's chromium, headless, with the screenshots folder ready. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is not installed at ${CHROMIUM}`);
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

export interface SignedIn {
  page: Page;
  /** Console errors and page errors seen since sign-in. */
  errors: string[];
  close: () => Promise<void>;
}

/**
 * A fresh browser context of that width and locale, signed in (as the demo admin unless told),
 * the user's language set through the API the language switch uses. `ignoreConsole`: console
 * errors a test provokes on purpose (a refusal the screen explains); `reload`: open the dashboard
 * again so the page starts in the new language.
 */
export async function signIn(
  browser: Browser,
  server: E2eServer,
  width: number,
  lang: 'fr' | 'en',
  opts: { who?: { email: string; password: string }; ignoreConsole?: RegExp; reload?: boolean } = {},
): Promise<SignedIn> {
  const who = opts.who ?? server.admin;
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: lang === 'fr' ? 'fr-FR' : 'en-GB', timezoneId: 'Europe/Paris' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !opts.ignoreConsole?.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/login`);
  await page.locator('input[name=email]').fill(who.email);
  await page.locator('input[name=password]').fill(who.password);
  await page.locator('button[type=submit]').click();
  await page.getByTestId('dashboard').waitFor();
  expect((await page.request.post(`${server.url}/api/app/me/language`, { data: { language: lang } })).ok()).toBe(true);
  if (opts.reload) {
    await page.goto(`${server.url}/dashboard`);
    await page.getByTestId('dashboard').waitFor();
  }
  return { page, errors, close: () => context.close() };
}

/** The page does not scroll sideways. */
export const fits = async (page: Page) => (await page.evaluate('document.scrollingElement.scrollWidth <= window.innerWidth')) === true;
export const visibleText = async (page: Page) => (await page.evaluate('document.body.innerText')) as string;
