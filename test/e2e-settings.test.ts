/**
 * The settings screen in a real browser (Debian's chromium through playwright-core) on the seeded
 * demo: the letterhead's logo uploaded from a file, shown, refused when it is not an image,
 * removed; the organisation's sending window, with the scenarios that keep their own, and the
 * Scenarios editor saying which options a scenario follows; a settings answer that fails says so
 * with a retry. In French and in English at 390 and 1440 px: the page fits its width, no console
 * error, no raw code. Screenshots under artifacts/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2eServer, fits, launchChromium, SHOTS, signIn, startE2eServer, visibleText } from './e2e-harness.ts';
import { rawCodesIn } from './e2e-raw-codes.ts';

const LOGO = readFileSync(new URL('./fixtures/branding/logo.png', import.meta.url));

let server: E2eServer;
let browser: Browser;

// The refused upload is a 400 the screen explains; the browser logs the status of any failed request.
const signedIn = (width: number, lang: 'fr' | 'en') => signIn(browser, server, width, lang, { ignoreConsole: /status of 400/ });


describe('the settings screen in chromium', () => {
  beforeAll(async () => {
    server = await startE2eServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [lang, width] of [['fr', 390], ['en', 1440], ['fr', 1440], ['en', 390]] as const) {
    it(`${lang} at ${width} px: a logo is uploaded from a file and shown, a text file is refused in words, the logo is removed`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        await page.goto(`${server.url}/settings`);
        const box = page.getByTestId('settings-logo');
        await box.getByTestId('logo-none').waitFor();
        await box.getByTestId('logo-file').setInputFiles(fileURLToPath(new URL('./fixtures/branding/logo.png', import.meta.url)));
        await box.getByTestId('settings-message').filter({ hasText: lang === 'fr' ? 'Logo enregistré' : 'Logo saved' }).waitFor();
        const img = box.getByTestId('logo-preview');
        await img.waitFor();
        // The image the browser decoded: the logo's own 240 pixels.
        type Img = { complete: boolean; naturalWidth: number };
        await page.waitForFunction((el) => (el as unknown as Img).complete && (el as unknown as Img).naturalWidth > 0, await img.elementHandle());
        expect(await img.evaluate((el) => (el as unknown as Img).naturalWidth)).toBe(240);
        // What the letters draw (test/settings-logo.test.ts reads it back from their PDF).
        const [stored] = await server.db.query<{ content: Uint8Array }>(
          'SELECT d.content FROM document_branding b JOIN documents d ON d.organisation_id = b.organisation_id AND d.id = b.logo_document_id WHERE b.organisation_id = $1',
          [server.orgId],
        );
        expect(Buffer.from(stored!.content).equals(LOGO)).toBe(true);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/settings-${lang}-${width}-logo.png`, fullPage: true });

        await box.getByTestId('logo-file').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') });
        const refused = box.getByTestId('settings-message').filter({ hasText: lang === 'fr' ? 'PNG ou JPEG' : 'PNG or JPEG' });
        await refused.waitFor();
        expect(await refused.getAttribute('role')).toBe('alert');
        await img.waitFor();

        await box.getByTestId('logo-remove').click();
        await box.getByTestId('logo-none').waitFor();
        const text = await visibleText(page);
        expect(rawCodesIn(text, lang)).toEqual([]);
        expect(text).not.toMatch(/\blogo\.(png|jpg)\b|image\/png|hasLogo/);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['en', 1440], ['fr', 390]] as const) {
    it(`${lang} at ${width} px: the organisation's window is saved; the scenarios with their own are listed, and the Scenarios editor says what a scenario follows`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        await page.goto(`${server.url}/settings`);
        const box = page.getByTestId('settings-sending');
        await box.waitFor();
        // The consumer scenario keeps its own 10:00-19:00 window.
        const own = box.getByTestId('own-sending');
        expect(await own.textContent()).toContain(lang === 'fr' ? 'de 10:00 à 19:00' : '10:00 to 19:00');
        const start = width === 1440 ? '08:30' : '09:15';
        await box.locator('input[name=start]').fill(start);
        await box.locator('button[type=submit]').click();
        await box.getByTestId('settings-message').waitFor();
        const settings = (await (await page.request.get(`${server.url}/api/app/settings`)).json()) as { sending: { window: { start: string } } };
        expect(settings.sending.window.start).toBe(start);
        expect(await fits(page)).toBe(true);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        await page.screenshot({ path: `${SHOTS}/settings-${lang}-${width}-sending.png`, fullPage: true });

        await page.goto(`${server.url}/scenarios`);
        const note = page.getByTestId('scenario-sending-source');
        await note.waitFor();
        // The default scenario follows all three options; the Scenarios editor shows the organisation's window.
        expect(await note.textContent()).toMatch(lang === 'fr' ? /Suit les réglages de l’organisation/ : /Follows the organisation’s settings/);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: settings that cannot be read say so in words, with a retry that works; an empty box says what it is for`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        let fail = true;
        await page.route('**/api/app/settings', (route) =>
          fail ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ status: 503, code: 'unavailable', detail: lang === 'fr' ? 'Service indisponible' : 'Service unavailable' }) }) : route.continue(),
        );
        await page.goto(`${server.url}/settings`);
        const failed = page.getByTestId('load-failed');
        await failed.waitFor();
        expect(await failed.textContent()).toContain(lang === 'fr' ? 'Service indisponible' : 'Service unavailable');
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/settings-${lang}-${width}-load-failed.png`, fullPage: true });
        fail = false;
        await failed.getByRole('button').click();
        await page.getByTestId('settings-logo').waitFor();
        // The demo has no API key and no webhook: each box says so and what it is for; a key's scope in words.
        await page.getByTestId('api-keys-none').waitFor();
        await page.getByTestId('webhooks-none').waitFor();
        expect(await page.getByTestId('settings-api-keys').locator('select[name=scope] option').allTextContents()).toEqual(
          lang === 'fr' ? ['Lecture', 'Lecture et écriture', 'Administration'] : ['Read', 'Read and write', 'Administration'],
        );
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/settings-${lang}-${width}-page.png`, fullPage: true });
        expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }
});
