/**
 * The web app in a real browser (Debian's chromium, driven by playwright-core) against a server on
 * the seeded demo: sign in, the dashboard's KPIs, approving a formal notice, logging a call with a
 * promise, matching a bank line by hand, editing a template, switching to English. Each test saves
 * a screenshot under artifacts/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../src/domain/dates.ts';
import { formatMoney } from '../src/domain/money.ts';
import { computeKpis } from '../src/reports/kpis.ts';
import { type E2eServer, startE2eServer } from './e2e-harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = `${ROOT}artifacts/screenshots`;

let server: E2eServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
/** French figures as the app prints them: "1 234,5" with a narrow no-break space. */
const frNumber = (n: number) => new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n);

describe('web app in chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`chromium is not installed at ${CHROMIUM}: the browser tests need it (apt-get install -y chromium; .ci/run installs it)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    // The web app is built from the current code by test/global-setup.ts, once for every browser test.
    server = await startE2eServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
  }, 180_000);

  // A failed test must not leave a dialog over the next one's page.
  afterEach(async () => {
    if (page && (await page.locator('.modal-back').count())) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('refuses a wrong password, then signs in and lands on the dashboard', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/login/);
    await page.locator('input[name=email]').fill(server.admin.email);
    await page.locator('input[name=password]').fill('not the password');
    await page.locator('button[type=submit]').click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('incorrect');
    await page.locator('input[name=password]').fill(server.admin.password);
    await page.locator('button[type=submit]').click();
    await page.getByTestId('dashboard').waitFor();
    expect(await page.getByTestId('nav-dashboard').textContent()).toBe('Tableau de bord');
    await shot('01-signed-in-dashboard');
  });

  it('shows the KPIs the KPI functions compute on the same database, in French formats', async () => {
    const k = await computeKpis(server.db, server.orgId, 'EUR', server.today, 3);
    const text = async (id: string) => (await page.getByTestId(`${id}-value`).textContent())?.trim();
    expect(await text('kpi-receivables')).toBe(formatMoney(k.receivablesMinor, 'EUR', 'fr'));
    expect(await text('kpi-overdue')).toBe(formatMoney(k.pastDueMinor, 'EUR', 'fr'));
    expect(await text('kpi-overdue-share')).toBe(`${frNumber(k.overdueSharePercent)}\u202f%`);
    expect(await text('kpi-dso')).toBe(`${k.dso.exhausted ? '≥ ' : ''}${frNumber(k.dso.days)} jours`);
    expect(await text('kpi-best-dso')).toBe(`${frNumber(k.bestPossibleDso)} jours`);
    expect(await text('kpi-add')).toBe(`${frNumber(k.averageDaysDelinquent)} jours`);
    expect(await text('kpi-cei')).toBe(`${frNumber(k.cei.percent!)}\u202f%`);
    expect(await text('kpi-adp')).toBe(`${frNumber(k.averageDaysToPay!)} jours`);
    // "1 234,56 €": narrow no-break spaces, decimal comma.
    expect(await text('kpi-receivables')).toMatch(/^\d{1,3}(\u202f\d{3})*,\d{2}\u202f€$/);
    // The formula is there on hover.
    await page.getByTestId('kpi-dso').hover();
    expect(await page.getByTestId('kpi-dso').getAttribute('title')).toContain('épuisement');
    expect(await page.getByTestId('aging-chart').locator('rect').count()).toBe(5);
    await shot('02-dashboard-kpis');
  });

  it('approves a formal notice after previewing its letter, and finds it in the outbox', async () => {
    await page.getByTestId('nav-today').click();
    const notice = page.locator('[data-testid^=approval-][data-template=formal_notice]').first();
    await notice.waitFor();
    const customer = (await notice.locator('td').nth(1).textContent())!.trim();
    await notice.getByTestId('open-preview').click();
    await page.getByTestId('action-preview').waitFor();
    expect(await page.getByTestId('preview-pdf-link').getAttribute('href')).toMatch(/\/api\/app\/actions\/\d+\/preview\.pdf$/);
    const pdf = await page.request.get(`${server.url}${await page.getByTestId('preview-pdf-link').getAttribute('href')}`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await shot('03-formal-notice-preview');
    await page.getByTestId('approve-one').click();
    await page.getByTestId('today-notice').waitFor();
    // The in-process worker sends it at its next pass: look in the outbox until it is there.
    await page.getByTestId('nav-outbox').click();
    const row = page.locator(`[data-testid=outbox-row][data-template=formal_notice]`, { hasText: customer });
    for (let i = 0; i < 40 && (await row.count()) === 0; i++) {
      await page.waitForTimeout(500);
      await page.reload();
      await page.getByTestId('outbox').waitFor();
    }
    await row.first().waitFor();
    expect(await row.first().getAttribute('data-channel')).toBe('registered_letter');
    await row.first().getByTestId('open-message').click();
    await page.getByTestId('message-modal').waitFor();
    await shot('04-formal-notice-in-outbox');
    await page.keyboard.press('Escape');
  });

  it('logs a call with a promise to pay, and the customer’s reminders are paused', async () => {
    await page.getByTestId('nav-today').click();
    const call = page.locator('[data-testid^=call-]').first();
    await call.waitFor();
    const customer = (await call.locator('td').first().textContent())!.trim();
    await call.getByTestId('log-call').click();
    const form = page.getByTestId('call-form');
    await form.locator('select[name=outcome]').selectOption('promise_to_pay');
    await form.locator('select[name=reason]').selectOption('cash_difficulty');
    await form.locator('input[name=promisedOn]').fill(addDays(server.today, 10));
    await form.locator('textarea[name=note]').fill('Paiement promis au téléphone');
    await shot('05-call-outcome-form');
    await page.getByTestId('save-call').click();
    await page.getByTestId('today-notice').waitFor();
    // The call left today's list: find the customer as she would, by the Customers search.
    await page.getByTestId('nav-customers').click();
    await page.getByTestId('customer-search').fill(customer);
    await page.getByTestId('customer-row').locator('td:first-child a', { hasText: customer }).first().click();
    await page.getByTestId('customer-page').waitFor();
    await page.getByTestId('paused-badge').waitFor();
    // The promise covers the invoices of the call, and the badge names them: their steps to come
    // are held, the customer's other invoices keep their calendar.
    const badge = (await page.getByTestId('paused-badge').first().textContent())!;
    const covered = badge.slice(badge.indexOf(':') + 1).split(',').map((x) => x.trim());
    expect(covered.length).toBeGreaterThan(0);
    const steps = page.getByTestId('next-step');
    expect(await steps.count()).toBeGreaterThan(0);
    for (const row of await steps.all()) {
      const invoice = (await row.locator('td').nth(4).textContent())!.trim();
      expect(await row.getAttribute('data-paused'), invoice).toBe(covered.includes(invoice) ? 'yes' : 'no');
    }
    expect(await page.locator('[data-testid=timeline] li[data-kind=call]').first().textContent()).toContain('Promesse de paiement');
    await shot('06-customer-paused-by-promise');
  });

  it('matches a bank line by hand and the invoice is paid', async () => {
    const [inv] = await server.db.query<{ id: bigint; number: string; open: bigint }>(
      `SELECT id, number, amount_incl_tax_minor - allocated_minor - written_off_minor AS open FROM invoices
        WHERE organisation_id = $1 AND allocated_minor = 0 AND written_off_minor = 0 ORDER BY due_date DESC, id LIMIT 1`,
      [server.orgId],
    );
    const amount = `${inv!.open / 100n}.${String(inv!.open % 100n).padStart(2, '0')}`;
    const statement = `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>E2E-1</MsgId></GrpHdr>
<Stmt><Id>E2E</Id><Acct><Id><IBAN>FR7630004008210001234567849</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>${server.today}</Dt></BookgDt><AcctSvcrRef>E2E-LINE-1</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>M OU MME INCONNU</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>VIREMENT DIVERS</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
    await page.getByTestId('nav-bank').click();
    await page.getByTestId('bank-file').setInputFiles({ name: 'releve.xml', mimeType: 'application/xml', buffer: Buffer.from(statement) });
    await page.getByTestId('bank-upload').click();
    await page.getByTestId('bank-notice').waitFor();
    const line = page.getByTestId('review-queue').locator('.bank-line', { hasText: 'VIREMENT DIVERS' });
    await line.getByTestId('match-by-hand').click();
    await page.getByTestId('invoice-search').fill(inv!.number);
    const found = page.locator(`[data-testid=found-invoice][data-number="${inv!.number}"]`);
    await found.locator('input[type=checkbox]').check();
    await shot('07-manual-match');
    await page.getByTestId('confirm-match').click();
    await page.getByTestId('bank-notice').filter({ hasText: 'rapprochée' }).waitFor();
    await page.goto(`${server.url}/invoices/${inv!.id}`);
    await page.getByTestId('invoice-page').waitFor();
    expect(await page.getByTestId('invoice-status').textContent()).toBe('Payée');
    expect(await page.getByTestId('invoice-open').textContent()).toBe(formatMoney(0n, 'EUR', 'fr'));
    await shot('08-invoice-paid');
  });

  it('edits a template: the preview follows, and an invalid template cannot be saved', async () => {
    await page.getByTestId('nav-templates').click();
    await page.getByTestId('template-key').selectOption('reminder');
    await page.getByTestId('template-channel-email').click();
    const subject = page.getByTestId('part-subject');
    await subject.waitFor();
    await page.getByTestId('preview-subject').waitFor();
    const before = await page.getByTestId('preview-subject').textContent();
    await subject.fill(`${await subject.inputValue()} — merci de votre retour`);
    await page.getByTestId('preview-subject').filter({ hasText: 'merci de votre retour' }).waitFor();
    expect(await page.getByTestId('preview-subject').textContent()).not.toBe(before);
    await shot('09-template-preview-changed');
    await subject.fill('Relance {{ facture_inconnue }}');
    await page.getByTestId('template-error').waitFor();
    expect(await page.getByTestId('save-template').isDisabled()).toBe(true);
    await shot('10-template-invalid');
  });

  it('duplicates a scenario under a name of its own; the copy is not the default', async () => {
    await page.getByTestId('nav-scenarios').click();
    await page.getByTestId('scenarios').waitFor();
    await page.getByTestId('scenario-duplicate').click();
    const form = page.getByTestId('scenario-copy-form');
    await form.locator('input[name=scenarioName]').fill('Bâtiment — strict');
    await page.getByTestId('scenario-create').click();
    await page.locator('.tabs button.on', { hasText: 'Bâtiment — strict' }).waitFor();
    expect(await page.locator('.tabs button', { hasText: 'Bâtiment — strict' }).textContent()).not.toContain('★');
    const [row] = await server.db.query<{ key: string; is_default: boolean }>('SELECT key, is_default FROM scenarios WHERE organisation_id = $1 AND name = $2', [server.orgId, 'Bâtiment — strict']);
    expect(row).toEqual({ key: 'batiment-strict', is_default: false });
    await shot('10b-scenario-duplicated');
  });

  it('shows the escalation prerequisites with their defaults in the scenario editor, and saves a longer formal-notice deadline', async () => {
    const opts = page.getByTestId('escalation-options');
    expect(await opts.locator('input[name=formalNoticeNeedsReminder]').isChecked()).toBe(true);
    expect(await opts.locator('input[name=handoverNeedsFormalNotice]').isChecked()).toBe(true);
    expect(await opts.locator('input[name=formalNoticeDeadlineDays]').inputValue()).toBe('8');
    expect(await opts.locator('input[name=postalDelayWorkingDays]').inputValue()).toBe('2');
    expect(await opts.textContent()).toContain('Une mise en demeure exige une relance effectivement envoyée');
    await opts.locator('input[name=formalNoticeDeadlineDays]').fill('15');
    await page.getByTestId('save-scenario').click();
    await page.getByTestId('save-scenario').filter({ hasText: '3' }).waitFor();
    const [row] = await server.db.query<{ definition: { options: { escalation: Record<string, unknown> } } }>(
      `SELECT definition FROM scenarios WHERE organisation_id = $1 AND key = 'batiment-strict'`,
      [server.orgId],
    );
    expect(row!.definition.options.escalation).toEqual({ formalNoticeNeedsReminder: true, handoverNeedsFormalNotice: true, formalNoticeDeadlineDays: 15, postalDelayWorkingDays: 2 });
    await shot('10c-scenario-escalation');
  });

  it('finds customers by the beginning of a word of their name, accents or not', async () => {
    const [c] = await server.db.query<{ id: bigint; legal_name: string }>(
      `SELECT id, legal_name FROM customers WHERE organisation_id = $1 AND legal_name ~ '[éèàç]' ORDER BY id LIMIT 1`,
      [server.orgId],
    );
    const word = c!.legal_name.split(/\s+/).find((w) => /[éèàç]/.test(w))!;
    const typed = word.slice(0, Math.max(4, word.search(/[éèàç]/) + 2)).normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    await page.getByTestId('nav-customers').click();
    await page.getByTestId('customer-search').fill(typed);
    const matches = (n: string) => new RegExp(`(^|[^a-z0-9])${typed.toLowerCase()}`).test(n.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase());
    // The list asks the server once typing pauses: wait for the filtered page.
    let names: string[] = [];
    for (let i = 0; i < 50; i++) {
      names = await page.getByTestId('customer-row').locator('td:first-child a').allTextContents();
      if (names.length > 0 && names.every(matches)) break;
      await page.waitForTimeout(100);
    }
    expect(names).toContain(c!.legal_name);
    expect(names.every(matches)).toBe(true);
    await shot('11-customer-search');
  });

  it('gives the recovery case file from the customer page, and shows why an injonction is refused', async () => {
    // A customer owing overdue invoices that never had a formal notice sent.
    const [c] = await server.db.query<{ id: bigint }>(
      `SELECT c.id FROM customers c WHERE c.organisation_id = $1
          AND EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = c.organisation_id AND i.customer_id = c.id AND i.due_date < $2
                        AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor)
          AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.organisation_id = c.organisation_id AND a.customer_id = c.id AND a.tone = 'formal_notice' AND a.status = 'sent')
          AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.organisation_id = c.organisation_id AND d.customer_id = c.id AND d.resolved_on IS NULL)
        ORDER BY c.id LIMIT 1`,
      [server.orgId, server.today],
    );
    await page.goto(`${server.url}/customers/${c!.id}`);
    await page.getByTestId('injonction').click();
    const refused = page.getByTestId('file-refused');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('aucune mise en demeure');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('case-file').click()]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    const zip = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of zip) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).subarray(0, 2).toString()).toBe('PK');
    await shot('11b-customer-escalation-files');
  });

  it('switches to English: texts, amounts and dates follow the user', async () => {
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('switch-language').click();
    await page.getByTestId('nav-dashboard').filter({ hasText: 'Dashboard' }).waitFor();
    expect(await page.getByTestId('nav-customers').textContent()).toBe('Customers');
    // Amounts in the English form (the figure itself may be a background refresh away after the match above).
    expect((await page.getByTestId('kpi-receivables-value').textContent())?.trim()).toMatch(/^€\d{1,3}(,\d{3})*\.\d{2}$/);
    expect(await page.getByTestId('kpi-dso').getAttribute('title')).toContain('Countback');
    // The choice is the user's: it survives a reload.
    await page.reload();
    await page.getByTestId('nav-dashboard').filter({ hasText: 'Dashboard' }).waitFor();
    await shot('12-english');
  });

  it('15.2 invites a person from the settings; they accept the link with a password of their own', async () => {
    await page.getByTestId('nav-settings').click();
    const users = page.getByTestId('settings-users');
    await users.locator('input[name=email]').fill('nouvelle.recrue@example.fr');
    await users.locator('button[type=submit]').click();
    const banner = page.getByTestId('settings-message');
    await banner.waitFor();
    const link = /(https?:\/\/\S+\/invite#[A-Za-z0-9_-]+)/.exec((await banner.textContent()) ?? '')?.[1];
    expect(link).toBeDefined();
    await users.getByTestId('invitation-row').filter({ hasText: 'nouvelle.recrue@example.fr' }).waitFor();
    await shot('13-invitation');
    // The invited person, in their own browser.
    const theirs = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'fr-FR' });
    try {
      const p2 = await theirs.newPage();
      await p2.goto(link!);
      await p2.getByTestId('invite').locator('input[name=password]').waitFor();
      expect(await p2.getByTestId('invite').textContent()).toContain('Menuiserie');
      await p2.locator('input[name=password]').fill('            ');
      await p2.locator('button[type=submit]').click();
      await p2.locator('[role=alert]').waitFor();
      await p2.locator('input[name=password]').fill('quatre saisons sous la pluie');
      await p2.locator('button[type=submit]').click();
      await p2.getByTestId('nav-dashboard').waitFor();
    } finally {
      await theirs.close();
    }
  });

  it('15.5 changes the password on the Account screen, then signs out everywhere and signs in with the new one', async () => {
    await page.getByTestId('nav-account').click();
    await page.getByTestId('account').waitFor();
    await page.locator('input[name=currentPassword]').fill(server.admin.password);
    await page.locator('input[name=newPassword]').fill('un nouveau secret bien long');
    await page.locator('input[name=confirm]').fill('un nouveau secret bien long');
    await page.locator('button[type=submit]').click();
    const message = page.getByTestId('account-message');
    await message.waitFor();
    expect(await message.getAttribute('class')).toContain('good');
    await shot('14-account');
    await page.getByTestId('logout-everywhere').click();
    await page.waitForURL(/\/login/);
    await page.locator('input[name=email]').fill(server.admin.email);
    await page.locator('input[name=password]').fill('un nouveau secret bien long');
    await page.locator('button[type=submit]').click();
    await page.getByTestId('nav-dashboard').waitFor();
  });
});
