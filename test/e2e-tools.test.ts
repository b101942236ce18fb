/**
 * Issue 19, the tools of a credit controller's day in a real browser (Debian's chromium through
 * playwright-core) on the seeded demo: an import whose headers Relance does not know shows its
 * first rows and asks for the columns, is checked and imported, says the reminders it planned at
 * once, and reports in a table in the user's words; in French on a phone and in English on a
 * desktop, the page fitting its width, no console error, no raw code. Screenshots under
 * artifacts/screenshots/.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../src/domain/dates.ts';
import { formatMoney } from '../src/domain/money.ts';
import { type E2eServer, fits, launchChromium, SHOTS, signIn, startE2eServer, visibleText } from './e2e-harness.ts';
import { rawCodesIn } from './e2e-raw-codes.ts';


let server: E2eServer;
let browser: Browser;

const signedIn = (width: number, lang: 'fr' | 'en') => signIn(browser, server, width, lang);

const fr = (d: string) => `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;

describe('imports and the bank review in chromium', () => {
  beforeAll(async () => {
    server = await startE2eServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: unknown headers are mapped by hand, the import plans its reminders at once`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        // Due today: the scenario's due-day reminder is for today, planned by the import rather than tomorrow's run.
        const due = server.today;
        const csv = [
          'Réf doc;Tiers;Émis;Exigible;Total à régler;Courriel',
          `IMP-${lang}-1;Atelier Import ${lang};${fr(addDays(due, -30))};${fr(due)};1 181,82;compta@atelier-${lang}.example`,
          `IMP-${lang}-2;Atelier Import ${lang};${fr(addDays(due, -20))};${fr(addDays(due, 10))};263,26;compta@atelier-${lang}.example`,
        ].join('\n');
        const receivables = async () => ((await (await page.request.get(`${server.url}/api/app/dashboard?fresh=1`)).json()) as { totals: { receivablesMinor: string } }).totals.receivablesMinor;
        const before = BigInt(await receivables());
        // To the Imports screen as a person goes: through the navigation (the menu on a phone), no reload.
        if (width < 800) await page.getByTestId('menu-button').click();
        await page.getByTestId('nav-imports').click();
        await page.getByTestId('imports').waitFor();
        await page.locator('input[name=file]').setInputFiles({ name: 'export-compta.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
        await page.getByTestId('import-preview').waitFor();
        expect(await page.getByTestId('import-rows').locator('tbody tr').count()).toBe(2);
        await page.getByTestId('import-unmapped').waitFor();
        expect(await page.getByTestId('import-check').isDisabled()).toBe(true);
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-import-mapping.png`, fullPage: true });
        expect(await fits(page)).toBe(true);
        const mapping = page.getByTestId('import-mapping');
        for (const [field, column] of [['number', 0], ['customerName', 1], ['issueDate', 2], ['dueDate', 3], ['amountInclTax', 4]] as const) {
          await mapping.locator(`select[name=column-${field}]`).selectOption(String(column));
        }
        await page.getByTestId('import-unmapped').waitFor({ state: 'detached' });
        await page.getByTestId('import-check').click();
        await page.getByTestId('import-run').click();
        await page.getByTestId('import-planned').waitFor();
        const report = page.getByTestId('import-report');
        expect(await report.textContent()).toContain(lang === 'fr' ? 'Importé' : 'Imported');
        // The result is a table in words: no JSON, no field names.
        const text = await visibleText(page);
        expect(text).not.toContain('{');
        expect(text).not.toContain('amountInclTax');
        expect(await page.getByTestId('import-counts').textContent()).toContain(lang === 'fr' ? 'Factures' : 'Invoices');
        expect(await page.getByTestId('import-planned').textContent()).toMatch(lang === 'fr' ? /relance\(s\) planifiée/ : /reminder\(s\) planned/);
        expect(rawCodesIn(text, lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-import-done.png`, fullPage: true });
        const [n] = await server.db.query<{ n: bigint }>(
          `SELECT count(*) AS n FROM actions a JOIN invoices i ON i.organisation_id = a.organisation_id AND i.customer_id = a.customer_id
            WHERE a.organisation_id = $1 AND i.number = $2`,
          [server.orgId, `IMP-${lang}-1`],
        );
        expect(n!.n).toBeGreaterThan(0n);
        // Back on the dashboard without a reload: the receivables include the two invoices imported.
        if (width < 800) await page.getByTestId('menu-button').click();
        await page.getByTestId('nav-dashboard').click();
        await page.getByTestId('kpi-receivables-value').filter({ hasText: formatMoney(before + 118_182n + 26_326n, 'EUR', lang) }).waitFor();
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: the trends have an axis and the month in progress is marked; an aging bar opens its customers; the time of the figures`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        await page.goto(`${server.url}/dashboard`);
        const trends = page.getByTestId('trends-chart');
        await trends.waitFor();
        // The axis: five round values in the currency, from zero.
        const ticks = await trends.locator('svg text[text-anchor=end]').allTextContents();
        expect(ticks).toHaveLength(5);
        expect(ticks[0]).toMatch(/^(0\s?€|€0)$/u);
        const asOf = server.today;
        const monthOver = addDays(asOf, 1).slice(5, 7) !== asOf.slice(5, 7);
        const legend = (await trends.locator('.legend').textContent())!;
        if (!monthOver) expect(legend).toContain(lang === 'fr' ? `mois en cours, arrêté au ${fr(asOf)}` : `current month, up to ${fr(asOf)}`);
        expect(await page.locator('text=/(Calculé le|Computed on) \\d{2}\\/\\d{2}\\/\\d{4},? \\d{2}:\\d{2}/').count()).toBe(1);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-dashboard.png`, fullPage: true });
        // The second bar, 1 to 30 days late: the customers with overdue invoices, the latest payers first.
        await page.getByTestId('aging-legend').locator('button').nth(1).click();
        await page.getByTestId('customers').waitFor();
        expect(new URL(page.url()).searchParams.get('filter')).toBe('overdue');
        expect(new URL(page.url()).searchParams.get('sort')).toBe('late');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: a credit that is not a payment is set aside and put back; an undo asks first and the screen follows`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        const payer = `CAISSE RETRAITE ${lang.toUpperCase()}`;
        // A payment that names its invoice and its exact open amount: matched automatically, to undo below.
        const [inv] = await server.db.query<{ number: string; open: bigint; legal_name: string }>(
          `SELECT i.number, i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open, c.legal_name
             FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
            WHERE i.organisation_id = $1 AND i.allocated_minor = 0 AND i.written_off_minor = 0 AND i.currency = 'EUR'
            ORDER BY i.due_date, i.id OFFSET $2 LIMIT 1`,
          [server.orgId, lang === 'fr' ? 3 : 4],
        );
        const paid = `${inv!.open / 100n}.${String(inv!.open % 100n).padStart(2, '0')}`;
        const statement = `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>TOOLS-${lang}</MsgId></GrpHdr>
<Stmt><Id>TOOLS-${lang}</Id><Acct><Id><IBAN>FR7630004008210001234567849</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">1234.56</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>${server.today}</Dt></BookgDt><AcctSvcrRef>TOOLS-${lang}-1</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>${payer}</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>REMBOURSEMENT TROP PERCU</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">${paid}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>${server.today}</Dt></BookgDt><AcctSvcrRef>TOOLS-${lang}-2</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>${inv!.legal_name}</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>FACTURE ${inv!.number}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
        await page.goto(`${server.url}/bank`);
        await page.getByTestId('bank').waitFor();
        await page.getByTestId('bank-file').setInputFiles({ name: 'releve.xml', mimeType: 'application/xml', buffer: Buffer.from(statement) });
        await page.getByTestId('bank-upload').click();
        await page.getByTestId('bank-notice').waitFor();
        const line = page.getByTestId('review-queue').locator('.bank-line', { hasText: payer });
        await line.getByTestId('ignore-line').click();
        await page.getByTestId('confirm-dialog').waitFor();
        expect(await page.getByTestId('confirm-dialog').textContent()).toContain(lang === 'fr' ? '1\u202f234,56\u202f€' : '€1,234.56');
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-bank-ignore.png`, fullPage: true });
        await page.getByTestId('confirm-yes').click();
        await page.getByTestId('ignored-lines').locator('tr', { hasText: payer }).waitFor();
        await line.waitFor({ state: 'detached' });
        await page.getByTestId('ignored-lines').locator('tr', { hasText: payer }).getByTestId('restore-line').click();
        await page.getByTestId('review-queue').locator('.bank-line', { hasText: payer }).waitFor();
        // An undo asks first; cancelling leaves the match, confirming sends the line back to the queue.
        const matched = page.getByTestId('matched-lines').locator('tr', { hasText: inv!.number });
        await matched.waitFor();
        const before = 1;
        const who = inv!.number;
        await matched.first().getByTestId('undo-match').click();
        await page.getByTestId('confirm-dialog').waitFor();
        await page.getByTestId('confirm-dialog').getByRole('button', { name: lang === 'fr' ? 'Annuler' : 'Cancel', exact: true }).click();
        await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
        expect(await matched.count()).toBe(before);
        await matched.first().getByTestId('undo-match').click();
        await page.getByTestId('confirm-yes').click();
        await page.getByTestId('bank-notice').filter({ hasText: lang === 'fr' ? 'Rapprochement annulé' : 'Match undone' }).waitFor();
        await page.getByTestId('review-queue').locator('.bank-line', { hasText: who }).first().waitFor();
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-bank-undone.png`, fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: a setting saved or a test sent says its result in its own box, in words`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        await page.goto(`${server.url}/settings`);
        await page.getByTestId('settings').waitFor();
        // The demo has no SMTP server: the test says so in the sending box (a refusal, not a server error).
        const delivery = page.getByTestId('settings-delivery');
        const test = page.waitForResponse((r) => r.url().endsWith('/api/app/settings/delivery/test'));
        await delivery.getByTestId('send-test-email').click();
        expect((await test).status()).toBe(400);
        await delivery.getByTestId('settings-message').waitFor();
        expect(await delivery.getByTestId('settings-message').textContent()).toContain(lang === 'fr' ? 'aucun serveur SMTP' : 'no SMTP server');
        expect(await page.getByTestId('settings-message').count()).toBe(1);
        await delivery.getByTestId('settings-message').scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-settings-test.png` });
        // Saving the identity: the confirmation is under its Save button, and the other box's message is gone.
        const identity = page.locator(`section[data-section="${lang === 'fr' ? 'Identité et mentions légales' : 'Identity and legal mentions'}"]`);
        await identity.locator('button[type=submit]').click();
        await identity.getByTestId('settings-message').filter({ hasText: lang === 'fr' ? 'Enregistré' : 'Saved' }).waitFor();
        expect(await delivery.getByTestId('settings-message').count()).toBe(0);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: a variable is inserted from the list where the cursor is; an SMS says its length`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        await page.goto(`${server.url}/templates`);
        await page.getByTestId('templates').waitFor();
        await page.getByTestId('template-key').selectOption('reminder');
        await page.getByTestId('template-channel-sms').click();
        const text = page.getByTestId('part-text');
        await text.waitFor();
        await page.getByTestId('sms-counter').waitFor();
        expect(await page.getByTestId('sms-counter').textContent()).toMatch(/\d+ (caractères|characters).*\d SMS$/);
        await text.fill('Bonjour ');
        await text.press('End');
        const name = await page.getByTestId('insert-variable').locator('option').nth(1).getAttribute('value');
        await page.getByTestId('insert-variable').selectOption(name!);
        expect(await text.inputValue()).toBe(`Bonjour {{ ${name} }}`);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/tools-${lang}-${width}-template-variable.png`, fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }
});
