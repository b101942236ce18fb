/**
 * The Scenarios screen in a real browser (Debian's chromium through playwright-core) on the seeded
 * demo, as a credit controller uses it: a scenario made from scratch (a name, then its steps one by
 * one), a refusal said in the user's words and naming the step, the app's own dialog before
 * leaving with unsaved edits (and the browser's before closing the tab), a save said in the editor,
 * a duplicate. In French on a phone and in English on a desktop, the page fitting its width, no
 * console error, no raw code; at 1440 px the steps table does not run under the preview.
 * The Templates screen next to it: an e-mail's text part written from its HTML part, one version
 * to keep, saved and remembered. Screenshots under artifacts/screenshots/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioDefinition } from '../src/domain/engine/scenario.ts';
import { textFromHtml } from '../src/documents/text-from-html.ts';
import { type E2eServer, fits, launchChromium, SHOTS, signIn, startE2eServer, visibleText } from './e2e-harness.ts';
import { rawCodesIn } from './e2e-raw-codes.ts';

let server: E2eServer;
let browser: Browser;

const signedIn = (width: number, lang: 'fr' | 'en') => signIn(browser, server, width, lang, { reload: true });

/** The browser reports the refusals the test asks for (400) as failed loads; anything else is an error. */
const unexpected = (errors: string[]) => errors.filter((e) => !/status of 400/.test(e));

async function goTo(page: Page, width: number, nav: string) {
  if (width < 800) await page.getByTestId('menu-button').click();
  await page.getByTestId(`nav-${nav}`).click();
}

describe('the Scenarios screen in chromium', () => {
  beforeAll(async () => {
    server = await startE2eServer();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [lang, width] of [['fr', 1440], ['en', 390]] as const) {
    it(`${lang} at ${width} px: the editor fits, says everything in words, and the steps stay clear of the preview`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      try {
        await goTo(page, width, 'scenarios');
        await page.getByTestId('steps').waitFor();
        await page.getByTestId('sim-days').locator('.day.has').first().waitFor();
        expect(await fits(page)).toBe(true);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        // Built-in steps in words: "Registered letter", "Formal notice", never registered_letter.
        const steps = page.getByTestId('steps');
        expect(await steps.locator('select[name=channel] option:checked').allTextContents()).toContain(lang === 'fr' ? 'Recommandé AR' : 'Registered letter');
        if (width >= 1000) {
          const table = (await steps.boundingBox())!;
          const editor = (await page.getByTestId('scenario-editor').boundingBox())!;
          const preview = (await page.getByTestId('simulator').boundingBox())!;
          const overlaps = table.x < preview.x + preview.width && preview.x < table.x + table.width && table.y < preview.y + preview.height && preview.y < table.y + table.height;
          expect(overlaps).toBe(false);
          // The table stays inside its own card (a wider table scrolls there, it does not spill).
          const wrap = (await page.getByTestId('scenario-editor').locator('.table-wrap').boundingBox())!;
          expect(wrap.x + wrap.width).toBeLessThanOrEqual(editor.x + editor.width + 0.5);
        }
        await page.screenshot({ path: `${SHOTS}/scenarios-${lang}-${width}-editor.png`, fullPage: true });
        expect(unexpected(errors)).toEqual([]);
      } finally {
        await close();
      }
    }, 120_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: a scenario from scratch, refusals in words, asked before leaving, saved, duplicated`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      const name = lang === 'fr' ? 'Relance courte (essai)' : 'Short chase (trial)';
      const fr = lang === 'fr';
      try {
        await goTo(page, width, 'scenarios');
        await page.getByTestId('scenario-new').click();
        await page.getByTestId('steps-empty').waitFor();
        await page.getByTestId('preview-empty').waitFor();
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/scenarios-${lang}-${width}-new-empty.png`, fullPage: true });

        // No name: the server's refusal, in the user's language, naming the field in words.
        await page.getByTestId('save-scenario').click();
        const message = page.getByTestId('scenario-editor').getByTestId('scenario-message');
        await message.waitFor();
        expect(await message.getAttribute('role')).toBe('alert');
        expect(await message.textContent()).toContain(fr ? 'Non enregistré. Nom : donnez un nom au scénario' : 'Not saved. Name: give the scenario a name');

        // A name, then the steps one by one.
        await page.getByTestId('scenario-name').fill(name);
        await page.getByTestId('add-step').click();
        const rows = page.getByTestId('step-row');
        await rows.nth(0).locator('input[name=offset]').fill('3');
        await page.getByTestId('add-step').click();
        const second = rows.nth(1);
        expect(await second.locator('input[name=offset]').inputValue()).toBe('10');
        await second.locator('select[name=channel]').selectOption('letter');
        await second.locator('select[name=template]').selectOption('firm');
        await second.locator('select[name=tone]').selectOption('firm');
        await second.locator('select[name=customerKind]').selectOption('business');
        await second.locator('input[name=minOverdue]').fill('500');
        await page.getByTestId('sim-days').locator('.day.has').first().waitFor();
        // A third step on the same day and channel as the second: said in words, the step named and marked.
        await page.getByTestId('add-step').click();
        await rows.nth(2).locator('input[name=offset]').fill('10');
        await rows.nth(2).locator('select[name=channel]').selectOption('letter');
        await page.getByTestId('save-scenario').click();
        await message.filter({ hasText: fr ? 'Étape 3' : 'Step 3' }).waitFor();
        expect(await message.textContent()).toContain(fr ? 'deux étapes le même jour (J+10) sur le même canal (Courrier)' : 'two steps on the same day (day +10) on the same channel (Letter)');
        expect(await rows.nth(2).getAttribute('aria-invalid')).toBe('true');
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/scenarios-${lang}-${width}-same-day.png`, fullPage: true });
        await rows.nth(2).getByTestId('remove-step').click();
        expect(await rows.count()).toBe(2);

        // Leaving with the scenario not created: the app's own dialog; staying keeps everything.
        await goTo(page, width, 'dashboard');
        const leave = page.getByTestId('leave-dialog');
        await leave.waitFor();
        expect(await leave.textContent()).toContain(name);
        await page.screenshot({ path: `${SHOTS}/scenarios-${lang}-${width}-leave.png`, fullPage: true });
        await leave.getByRole('button', { name: fr ? 'Annuler' : 'Cancel' }).click();
        await leave.waitFor({ state: 'detached' });
        // On a phone the drawer closed with the click: nothing covers the page kept.
        expect(await page.locator('.shell.menu-open').count()).toBe(0);
        expect(new URL(page.url()).pathname).toBe('/scenarios');
        expect(await page.getByTestId('scenario-name').inputValue()).toBe(name);
        expect(await rows.nth(1).locator('input[name=minOverdue]').inputValue()).toBe('500');

        await page.getByTestId('save-scenario').click();
        await message.filter({ hasText: fr ? 'créé' : 'created' }).waitFor();
        expect(await message.getAttribute('role')).toBe('status');
        expect(await message.textContent()).toContain(name);
        await page.locator('.tabs button.on', { hasText: name }).waitFor();
        const [row] = await server.db.query<{ key: string; version: number; is_default: boolean; definition: ScenarioDefinition }>(
          'SELECT key, version, is_default, definition FROM scenarios WHERE organisation_id = $1 AND name = $2',
          [server.orgId, name],
        );
        expect(row).toMatchObject({ version: 1, is_default: false });
        expect(row!.definition.steps).toEqual([
          { offset: 3, channel: 'email', template: 'reminder', tone: 'reminder' },
          { offset: 10, channel: 'letter', template: 'firm', tone: 'firm', conditions: { customerKind: 'business', minOverdueMinor: { EUR: '50000' } } },
        ]);
        await page.screenshot({ path: `${SHOTS}/scenarios-${lang}-${width}-created.png`, fullPage: true });

        // An edit not saved: closing the tab asks the browser's question, dismissed here.
        await rows.nth(0).locator('input[name=offset]').fill('4');
        await page.getByTestId('scenario-unsaved').waitFor();
        const asked = new Promise<string>((resolve) => {
          page.once('dialog', (d) => {
            resolve(d.type());
            void d.dismiss();
          });
        });
        await page.close({ runBeforeUnload: true });
        expect(await asked).toBe('beforeunload');
        expect(page.isClosed()).toBe(false);

        // The name cleared: refused by the server in words; then a real save says so in the editor.
        await page.getByTestId('scenario-name').fill('');
        await page.getByTestId('save-scenario').click();
        await message.filter({ hasText: fr ? 'donnez un nom' : 'give the scenario a name' }).waitFor();
        await page.getByTestId('scenario-name').fill(name);
        await page.getByTestId('save-scenario').click();
        await message.filter({ hasText: fr ? 'Enregistré : version 2' : 'Saved: version 2' }).waitFor();
        await page.getByTestId('scenario-unsaved').waitFor({ state: 'detached' });
        const [saved] = await server.db.query<{ version: number; definition: ScenarioDefinition }>('SELECT version, definition FROM scenarios WHERE organisation_id = $1 AND key = $2', [server.orgId, row!.key]);
        expect([saved!.version, saved!.definition.steps[0]!.offset]).toEqual([2, 4]);

        // An edit, then leaving for the dashboard: asked, and leaving drops it.
        await rows.nth(0).locator('input[name=offset]').fill('5');
        await goTo(page, width, 'dashboard');
        await page.getByTestId('leave-dialog').getByTestId('confirm-yes').click();
        await page.getByTestId('dashboard').waitFor();
        const [after] = await server.db.query<{ version: number }>('SELECT version FROM scenarios WHERE organisation_id = $1 AND key = $2', [server.orgId, row!.key]);
        expect(after!.version).toBe(2);

        // Nothing to lose: no question. A duplicate of the new scenario, editable at once.
        await goTo(page, width, 'scenarios');
        await page.locator('.tabs button', { hasText: name }).click();
        await page.getByTestId('scenario-duplicate').click();
        await page.getByTestId('scenario-create').click();
        const copy = fr ? `${name} (copie)` : `${name} (copy)`;
        await page.locator('.tabs button.on', { hasText: copy }).waitFor();
        expect(await page.getByTestId('scenario-name').inputValue()).toBe(copy);
        expect(await rows.count()).toBe(2);
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/scenarios-${lang}-${width}-duplicated.png`, fullPage: true });
        expect(unexpected(errors)).toEqual([]);
      } finally {
        await close();
      }
    }, 180_000);
  }

  for (const [lang, width] of [['fr', 390], ['en', 1440]] as const) {
    it(`${lang} at ${width} px: templates — the e-mail's text written from its HTML, saved, remembered, reset`, async () => {
      const { page, errors, close } = await signedIn(width, lang);
      const fr = lang === 'fr';
      const sentence = fr ? 'Une phrase ajoutée au HTML seulement.' : 'A sentence added to the HTML only.';
      try {
        await goTo(page, width, 'templates');
        await page.getByTestId('template-key').selectOption('reminder');
        await page.getByTestId('template-channel-email').click();
        await page.getByTestId(`template-lang-${lang}`).click();
        const html = page.getByTestId('part-html');
        const text = page.getByTestId('part-text');
        const follows = page.getByTestId('text-from-html');
        await html.waitFor();
        await page.getByTestId('preview-email').waitFor();
        // The built-in reminder's text is exactly what its HTML gives: shown as one version already.
        await expect.poll(() => follows.isChecked()).toBe(true);
        expect(await text.inputValue()).toBe(textFromHtml(await html.inputValue()));
        // The courtesy notice's text differs from its HTML: two parts written separately, and the screen says so.
        await page.getByTestId('template-key').selectOption('courtesy');
        await expect.poll(() => html.inputValue()).toContain(fr ? 'Pour faciliter' : 'As a courtesy');
        expect(await follows.isChecked()).toBe(false);
        expect(await text.getAttribute('readonly')).toBeNull();
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/templates-${lang}-${width}-separate.png`, fullPage: true });

        // One version: the text is the HTML's, read-only, and follows each change of the HTML.
        await follows.check();
        expect(await text.getAttribute('readonly')).not.toBeNull();
        expect(await text.inputValue()).toBe(textFromHtml(await html.inputValue()));
        const edited = (await html.inputValue()).replace('</p>', `</p>\n<p>${sentence} <a href="https://example.org/aide">${fr ? 'Aide' : 'Help'}</a></p>`);
        await html.fill(edited);
        expect(await text.inputValue()).toBe(textFromHtml(edited));
        expect(await text.inputValue()).toContain(`${sentence} ${fr ? 'Aide' : 'Help'} (https://example.org/aide)`);
        const preview = page.getByTestId('preview-email-text');
        await preview.locator('summary').click();
        await preview.filter({ hasText: sentence }).waitFor();
        expect(rawCodesIn(await visibleText(page), lang)).toEqual([]);
        expect(await fits(page)).toBe(true);
        await page.screenshot({ path: `${SHOTS}/templates-${lang}-${width}-text-from-html.png`, fullPage: true });

        await page.getByTestId('save-template').click();
        await page.getByTestId('template-message').filter({ hasText: fr ? 'Enregistré.' : 'Saved.' }).waitFor();
        const parts = Object.fromEntries(
          (
            await server.db.query<{ part: string; source: string }>(
              `SELECT part, source FROM document_templates WHERE organisation_id = $1 AND key = 'courtesy' AND channel = 'email' AND lang = $2`,
              [server.orgId, lang],
            )
          ).map((r) => [r.part, r.source]),
        );
        expect(parts.html).toBe(edited);
        expect(parts.text).toBe(textFromHtml(edited));

        // Opened again, the choice is still there (the saved text is the HTML's).
        await page.goto(`${server.url}/templates`);
        await page.getByTestId('template-key').selectOption('courtesy');
        await page.getByTestId('template-channel-email').click();
        await page.getByTestId(`template-lang-${lang}`).click();
        await html.waitFor();
        await expect.poll(() => html.inputValue()).toContain(sentence);
        expect(await follows.isChecked()).toBe(true);

        // Back to the built-in template: two parts written separately again.
        await page.getByRole('button', { name: fr ? 'Revenir au modèle fourni' : 'Back to the built-in template' }).click();
        await page.getByTestId('template-message').filter({ hasText: fr ? 'Modèle fourni rétabli.' : 'Built-in template restored.' }).waitFor();
        await expect.poll(() => html.inputValue()).not.toContain(sentence);
        expect(await follows.isChecked()).toBe(false);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    }, 180_000);
  }
});
