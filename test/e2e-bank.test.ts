/**
 * The bank screen in a real browser (Debian's chromium through playwright-core) on the seeded demo:
 * before any statement it says none was imported and what to do; while its data loads it says so
 * (and so does an invoice's page, which says where an unpaid invoice's payment is matched);
 * a credit that is exactly two open invoices of a customer named in the transfer's text is proposed
 * as those two invoices with their amounts, and one click on Accept settles both. In French and
 * English, at 1440 and 390 px: the page fits its width, no console error, no raw code. Screenshots
 * under artifacts/screenshots/.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../src/domain/dates.ts';
import { formatMoney } from '../src/domain/money.ts';
import { allocate, createCustomer, createInvoice, getInvoice, recordPayment } from '../src/ledger/repo.ts';
import { type E2eServer, fits, launchChromium, SHOTS, signIn, startE2eServer, visibleText } from './e2e-harness.ts';
import { rawCodesIn } from './e2e-raw-codes.ts';

const SIZES = [['fr', 390], ['en', 1440], ['fr', 1440], ['en', 390]] as const;

let server: E2eServer;
let browser: Browser;

const signedIn = (width: number, lang: 'fr' | 'en') => signIn(browser, server, width, lang);


describe('the bank screen in chromium', () => {
  beforeAll(async () => {
    server = await startE2eServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [lang, width] of SIZES) {
    it(`${lang} at ${width} px: while loading it says so; with no statement yet it says what to do`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        // The bank's answer is held until the loading state has been seen.
        let release: () => void = () => {};
        const held = new Promise<void>((r) => {
          release = r;
        });
        await page.route('**/api/app/bank', async (route) => {
          await held;
          await route.continue();
        });
        await page.goto(`${server.url}/bank`);
        const loading = page.getByTestId('bank-loading');
        await loading.waitFor();
        expect(await loading.textContent()).toContain(lang === 'fr' ? 'Chargement' : 'Loading');
        expect(await loading.getAttribute('role')).toBe('status');
        await page.screenshot({ path: `${SHOTS}/bank-${lang}-${width}-loading.png`, fullPage: true });
        release();
        const empty = page.getByTestId('bank-empty');
        await empty.waitFor();
        const said = (await empty.textContent())!;
        expect(said).toContain(lang === 'fr' ? 'Aucun relevé bancaire importé' : 'No bank statement imported yet');
        expect(said).toContain(lang === 'fr' ? 'importez-le ci-dessus' : 'import it above');
        expect(await page.getByTestId('bank-statements').count()).toBe(0);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/bank-${lang}-${width}-empty.png`, fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of SIZES) {
    it(`${lang} at ${width} px: a credit equal to two open invoices is proposed as those two, accepted in one click`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        const tag = `${lang.toUpperCase()}${width}`;
        const name = `Boulangerie Martin ${tag}`;
        const today = server.today;
        const c = await createCustomer(server.db, server.orgId, { legalName: name, contacts: [{ name: 'Compta', email: `compta-${tag.toLowerCase()}@boulangerie.example`, receivesReminders: true }] });
        const add = (number: string, daysAgo: number, amount: bigint) =>
          createInvoice(server.db, server.orgId, { customerId: c.id, number, issueDate: addDays(today, -daysAgo - 30), dueDate: addDays(today, -daysAgo), currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: amount });
        const older = await add(`BM-${tag}-0101`, 60, 54_000n);
        const first = await add(`BM-${tag}-0388`, 20, 141_856n);
        const second = await add(`BM-${tag}-0391`, 18, 26_326n);
        // 500,00 € paid on account earlier: 918,56 € left on the first, and 300,00 € on the older one.
        await server.db.tx(async (q) => {
          const p = await recordPayment(q, server.orgId, { customerId: c.id, paymentDate: addDays(today, -10), currency: 'EUR', amountMinor: 80_000n });
          await allocate(q, server.orgId, { invoiceId: first.id, paymentId: p.id, amountMinor: 50_000n, allocatedOn: addDays(today, -10) });
          await allocate(q, server.orgId, { invoiceId: older.id, paymentId: p.id, amountMinor: 30_000n, allocatedOn: addDays(today, -10) });
        });
        const statement = `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>SUM-${tag}</MsgId></GrpHdr>
<Stmt><Id>SUM-${tag}</Id><Acct><Id><IBAN>FR7630004008210001234567849</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">1181.82</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>${today}</Dt></BookgDt><AcctSvcrRef>SUM-${tag}-1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>VIR SEPA BOULANGERIE MARTIN ${tag} REGLEMENT FACTURES</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`;
        // The invoice page before the payment: while it loads it says so, then that nothing was paid and where payments are matched.
        let release: () => void = () => {};
        const held = new Promise<void>((r) => {
          release = r;
        });
        await page.route(`**/api/app/invoices/${second.id}`, async (route) => {
          await held;
          await route.continue();
        });
        await page.goto(`${server.url}/invoices/${second.id}`);
        await page.getByTestId('invoice-loading').waitFor();
        expect(await page.getByTestId('invoice-loading').textContent()).toContain(lang === 'fr' ? 'Chargement' : 'Loading');
        release();
        await page.getByTestId('invoice-page').waitFor();
        expect(await page.getByTestId('invoice-no-settlement').textContent()).toContain(lang === 'fr' ? 'écran Banque' : 'Bank screen');
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/bank-${lang}-${width}-invoice-unpaid.png`, fullPage: true });

        // Loaded after the language was chosen (the sign-in page was in the previous choice).
        await page.goto(`${server.url}/bank`);
        await page.getByTestId('bank').waitFor();
        await page.getByTestId('bank-file').setInputFiles({ name: `releve-${tag}.xml`, mimeType: 'application/xml', buffer: Buffer.from(statement) });
        await page.getByTestId('bank-upload').click();
        await page.getByTestId('bank-notice').waitFor();
        // What the import did, in words that read right whatever the counts (no "1 lignes").
        expect(await page.getByTestId('bank-notice').textContent()).toContain(lang === 'fr' ? 'Lignes lues : 1 (nouvelles : 1' : 'Lines read: 1 (new: 1');
        expect(await page.getByTestId('bank-notice').textContent()).toContain(lang === 'fr' ? 'À vérifier ci-dessous : 1' : 'To review below: 1');

        const line = page.getByTestId('review-queue').locator('.bank-line', { hasText: `MARTIN ${tag}` });
        const proposal = line.getByTestId('proposal').first();
        await proposal.waitFor();
        expect(await proposal.getAttribute('data-invoices')).toBe(`BM-${tag}-0388, BM-${tag}-0391`);
        expect(await proposal.getByTestId('proposal-invoice').allTextContents()).toEqual([
          `BM-${tag}-0388 ${formatMoney(91_856n, 'EUR', lang)}`,
          `BM-${tag}-0391 ${formatMoney(26_326n, 'EUR', lang)}`,
        ]);
        const reason = (await proposal.textContent())!;
        expect(reason).toContain(name);
        expect(reason).toContain(lang === 'fr' ? 'somme des factures' : 'sum of invoices');
        expect(reason).not.toContain(lang === 'fr' ? 'plus anciennes' : 'oldest');
        const accept = proposal.getByTestId('accept-proposal');
        expect(await accept.isVisible()).toBe(true);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/bank-${lang}-${width}-proposal.png`, fullPage: true });

        await accept.click();
        await page.getByTestId('bank-notice').filter({ hasText: lang === 'fr' ? 'Ligne rapprochée' : 'Line matched' }).waitFor();
        await line.waitFor({ state: 'detached' });
        await page.getByTestId('matched-lines').locator('tr', { hasText: name }).waitFor();
        for (const inv of [first, second]) expect((await getInvoice(server.db, server.orgId, inv.id)).status).toBe('paid');
        expect((await getInvoice(server.db, server.orgId, older.id)).openMinor).toBe(24_000n);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/bank-${lang}-${width}-accepted.png`, fullPage: true });

        // The invoice page: nothing left to pay, the payment on account and the bank's transfer listed.
        await page.goto(`${server.url}/invoices/${first.id}`);
        await page.getByTestId('invoice-page').waitFor();
        expect(await page.getByTestId('invoice-open').textContent()).toBe(formatMoney(0n, 'EUR', lang));
        expect(await page.getByTestId('settlements').locator('tr').count()).toBe(2);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }
});
