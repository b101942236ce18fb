/**
 * The setup wizard in a real browser (Debian's chromium, driven by playwright-core), in French and
 * in English, against a real `relance serve` on an empty embedded data folder: the setup code read
 * from the server log, a wrong code refused, the company (a SIREN refused next to its field), the
 * bank account (an IBAN refused), the sender with a test message to a local SMTP server, the first
 * admin (a weak password refused), the first import of a CSV backlog, the scenario, going live or
 * staying in review mode; it ends signed in as the new admin on the new organisation's dashboard.
 * A later `relance serve` on the same folder offers no wizard: sign-in only. Screenshots under
 * artifacts/screenshots/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, todayIn } from '../src/domain/dates.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = `${ROOT}artifacts/screenshots`;

interface Served {
  child: ChildProcess;
  url: string;
  log: () => string;
  stop: () => Promise<number | null>;
}

/** `relance serve` on a data folder; resolves once it listens, with what it printed so far. */
async function serve(dir: string): Promise<Served> {
  const env = { ...process.env, RELANCE_DATA_DIR: dir, DATABASE_URL: '', RELANCE_LANG: 'en', RELANCE_SECRET_KEY: '', HOST: '127.0.0.1' };
  const child = spawn('node', ['bin/relance.mjs', 'serve', '--port', '0', '--no-cycle', '--no-worker'], { env, cwd: ROOT });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /Relance is running at (\S+)/.exec(out);
      // The setup line, when there is one, is printed right after this one.
      if (m) setTimeout(() => resolve(m[1]!), 500);
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`relance serve exited ${code}: ${out}`)));
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  return { child, url, log: () => out, stop };
}

/** A local SMTP server that keeps what it receives (the wizard's test message). */
async function smtpServer(): Promise<{ port: number; received: string[]; close: () => Promise<void> }> {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, done) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      stream.on('end', () => {
        received.push(raw);
        done();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as { port: number }).port;
  return { port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Made-up companies, none of them the demo's. SIREN, VAT and IBAN with valid check digits. */
const COMPANIES = {
  fr: {
    name: 'Atelier Vidal Électricité SAS',
    siren: '418273652',
    vat: 'FR62418273652',
    iban: 'FR76 1027 8073 1000 0204 7160 193',
    bic: 'CMCIFR2A',
    address: '27 avenue Jean Jaurès',
    postalCode: '31000',
    city: 'Toulouse',
    footer: 'SAS au capital de 20 000 € – RCS Toulouse 418 273 652',
    from: 'relances@vidal-elec.example',
    admin: { name: 'Sophie Vidal', email: 'sophie@vidal-elec.example' },
    password: 'tuile rouge sur le canal du midi',
  },
  en: {
    name: 'Brasserie Nortier SARL',
    siren: '830192746',
    vat: 'FR42830192746',
    iban: 'FR76 3000 4013 2800 0123 4567 810',
    bic: 'BNPAFRPP',
    address: '5 quai de la Fosse',
    postalCode: '44000',
    city: 'Nantes',
    footer: 'SARL au capital de 8 000 € – RCS Nantes 830 192 746',
    from: 'accounts@nortier.example',
    admin: { name: 'James Nortier', email: 'james@nortier.example' },
    password: 'hoppy amber pints by the loire',
  },
} as const;

const TEXTS = {
  fr: { wrongCode: 'code de mise en service incorrect', siren: 'n’est pas un SIREN valide', iban: 'n’est pas un IBAN valide', common: 'fait partie des plus courants', testSent: 'Message de test accepté', created: 'est créée, en mode revue', dashboard: 'Tableau de bord', closed: 'La mise en service est terminée' },
  en: { wrongCode: 'wrong setup code', siren: 'is not a valid SIREN', iban: 'is not a valid IBAN', common: 'one of the most common', testSent: 'Test message accepted', created: 'is created, in review mode', dashboard: 'Dashboard', closed: 'Setup is over' },
} as const;

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is not installed at ${CHROMIUM}: the browser tests need it (apt-get install -y chromium; .ci/run installs it)`);
  }
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

describe.each(['fr', 'en'] as const)('setup wizard in chromium (%s)', (lang) => {
  const co = COMPANIES[lang];
  const tx = TEXTS[lang];
  let dir: string;
  let server: Served;
  let smtp: Awaited<ReturnType<typeof smtpServer>>;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}/setup-${lang}-${name}.png`, fullPage: true });
  const step = () => page.getByTestId('setup').getAttribute('data-step');
  const atStep = async (s: string) => {
    await page.locator(`[data-testid=setup][data-step=${s}]`).waitFor();
  };
  const fill = (name: string, value: string) => page.locator(`input[name="${name}"]`).fill(value);
  const next = () => page.getByTestId('setup-next').click();
  /** The web app's API as the page calls it (the browser's own connection and session cookie). */
  const appGet = <T,>(path: string): Promise<T> => page.evaluate(async (p) => (await fetch(p)).json(), path) as Promise<T>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `relance-setup-${lang}-`));
    smtp = await smtpServer();
    server = await serve(dir);
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: lang === 'fr' ? 'fr-FR' : 'en-GB', timezoneId: 'Europe/Paris' });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await page?.context().close();
    await server?.stop();
    await smtp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the wizard instead of the sign-in page, and refuses a wrong setup code', async () => {
    const code = /setup code ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})/.exec(server.log())?.[1];
    expect(code, server.log()).toBeTruthy();
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/setup$/);
    await atStep('code');
    expect(await page.locator('h1').textContent()).toBe(lang === 'fr' ? 'Mise en service de Relance' : 'Setting up Relance');
    await shot('01-code');
    await fill('code', 'ABCD-EFGH-JKLM');
    await next();
    await expect(page.getByTestId('error-code').textContent()).resolves.toContain(tx.wrongCode);
    expect(await step()).toBe('code');
    await shot('02-wrong-code');
    await fill('code', code!.toLowerCase());
    await next();
    await atStep('company');
  });

  it('company: a wrong SIREN is told next to its field; bank: a wrong IBAN likewise', async () => {
    await fill('organisation.legalName', co.name);
    await fill('organisation.siren', `${co.siren.slice(0, 8)}${(Number(co.siren[8]) + 1) % 10}`);
    await fill('organisation.vatNumber', co.vat);
    await fill('organisation.addressLine1', co.address);
    await fill('organisation.postalCode', co.postalCode);
    await fill('organisation.city', co.city);
    await fill('branding.footer', co.footer);
    await fill('branding.signatoryName', co.admin.name);
    await next();
    await expect(page.getByTestId('error-organisation.siren').textContent()).resolves.toContain(tx.siren);
    await shot('03-company-wrong-siren');
    await fill('organisation.siren', co.siren);
    await next();
    await atStep('bank');
    await fill('organisation.iban', co.iban.replace(/3$/, '4').replace(/0$/, '1'));
    await fill('organisation.bic', co.bic);
    await next();
    await expect(page.getByTestId('error-organisation.iban').textContent()).resolves.toContain(tx.iban);
    await fill('organisation.iban', co.iban);
    await shot('04-bank');
    await next();
    await atStep('sender');
  });

  it('sender and SMTP: the test message reaches the SMTP server', async () => {
    await fill('sender.fromAddress', co.from);
    await fill('sender.fromName', co.name);
    await fill('sender.replyTo', co.from);
    await fill('sender.smtp.host', '127.0.0.1');
    await fill('sender.smtp.port', String(smtp.port));
    await page.locator('select[name="sender.smtp.security"]').selectOption('none');
    await fill('to', co.admin.email);
    await page.getByTestId('setup-smtp-test').click();
    await expect(page.getByTestId('setup-message').textContent()).resolves.toContain(tx.testSent);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]).toContain(`Relance`);
    expect(smtp.received[0]).toMatch(new RegExp(`To: ${co.admin.email}`));
    await shot('05-sender-test-sent');
    // This test stops here with SMTP: the organisation keeps the local outbox (nothing leaves).
    await fill('sender.smtp.host', '');
    await next();
    await atStep('admin');
  });

  it('first admin: a weak password refused next to its field, then the organisation is created and its admin signed in', async () => {
    await fill('admin.name', co.admin.name);
    await fill('admin.email', co.admin.email);
    await fill('admin.password', 'azerty123456');
    await fill('admin.confirm', 'azerty123456');
    await next();
    await expect(page.getByTestId('error-admin.password').textContent()).resolves.toContain(tx.common);
    await shot('06-admin-weak-password');
    await fill('admin.password', co.password);
    await fill('admin.confirm', co.password);
    await next();
    await atStep('import');
    await expect(page.getByTestId('setup-message').textContent()).resolves.toContain(tx.created);
    const me = await appGet<Record<string, unknown>>('/api/app/me');
    expect(me).toMatchObject({ user: { email: co.admin.email, role: 'admin', language: lang }, organisation: { legalName: co.name } });
  });

  it('first import: the backlog CSV checked, then imported', async () => {
    const today = todayIn('Europe/Paris', Date.now());
    const fr = (d: string) => `${d.slice(8)}/${d.slice(5, 7)}/${d.slice(0, 4)}`;
    const rows = [
      ['F-101', 'Garage Pujol', 5, '1 250,00'],
      ['F-102', 'Boulangerie Sarda', 40, '480,00'],
      ['F-103', 'Hôtel des Carmes', 120, '3 900,00'],
      ['F-104', 'Cave Lamothe', 400, '720,50'],
    ] as const;
    const csv = join(dir, 'factures.csv');
    writeFileSync(
      csv,
      [
        'N° facture;Client;Email;Date facture;Échéance;Montant TTC',
        ...rows.map(([n, c, age, amount]) => `${n};${c};compta@${c.toLowerCase().replace(/[^a-z]/g, '')}.example;${fr(addDays(today, -age - 30))};${fr(addDays(today, -age))};${amount}`),
      ].join('\n'),
    );
    await page.locator('input[name=file]').setInputFiles(csv);
    await page.getByTestId('setup-import-check').click();
    await page.getByTestId('setup-import-run').waitFor();
    await page.getByTestId('setup-import-run').click();
    await page.locator('[data-testid=import-report]', { hasText: lang === 'fr' ? 'Importé' : 'Imported' }).waitFor();
    await shot('07-import');
    await next();
    await atStep('scenario');
  });

  it('scenario: the choice becomes the organisation’s default', async () => {
    const choice = lang === 'fr' ? 'standard-b2b' : 'weekly';
    await page.getByTestId(`scenario-${choice}`).locator('input[type=radio]').check();
    await shot('08-scenario');
    await next();
    await atStep('live');
    const list = await appGet<{ scenarios: { key: string; isDefault: boolean }[] }>('/api/app/scenarios');
    expect(list.scenarios.find((s) => s.isDefault)?.key).toBe(choice);
  });

  it('going live: no escalation as first contact; French goes live, English stays in review; the dashboard of the new organisation', async () => {
    await expect(page.getByTestId('golive-escalations').textContent()).resolves.toMatch(/: 0$/);
    await page.getByTestId('golive-steps').waitFor();
    await shot('09-golive');
    await page.getByTestId(lang === 'fr' ? 'setup-go-live' : 'setup-review').click();
    await page.getByTestId('dashboard').waitFor();
    expect(await page.locator('.side .org').textContent()).toBe(co.name);
    expect(await page.getByTestId('nav-dashboard').textContent()).toBe(tx.dashboard);
    await shot('10-dashboard');
    const settings = await appGet<{
      organisation: Record<string, unknown>;
      branding: Record<string, unknown>;
      delivery: Record<string, unknown>;
      users: { email: string; role: string }[];
    }>('/api/app/settings');
    expect(settings.organisation).toMatchObject({ legalName: co.name, siren: co.siren, iban: co.iban.replace(/ /g, ''), bic: co.bic, live: lang === 'fr' });
    expect(settings.branding.footer).toBe(co.footer);
    expect(settings.delivery).toMatchObject({ fromAddress: co.from, replyTo: co.from });
    // Issue 15.3: the organisation's only member is its own first admin.
    expect(settings.users.map((u) => [u.email, u.role])).toEqual([[co.admin.email, 'admin']]);
    // Left in review, the organisation goes live later from the settings.
    await page.getByTestId('nav-settings').click();
    await page.locator(`[data-testid=mode-state][data-live=${lang === 'fr'}]`).waitFor();
    if (lang === 'en') {
      expect(await page.getByTestId('mode-state').textContent()).toContain('Review mode');
      await page.getByTestId('switch-live').click();
      await page.locator('[data-testid=mode-state][data-live=true]').waitFor();
      await expect(page.getByTestId('settings-message').textContent()).resolves.toContain('Live.');
      await shot('10b-settings-live');
    }
  });

  it('a later `relance serve` on the same folder offers no wizard: sign-in only, as the new admin', { timeout: 120_000 }, async () => {
    await server.stop();
    server = await serve(dir);
    expect(server.log()).not.toMatch(/setup code/);
    expect(await (await fetch(`${server.url}/api/setup`)).json()).toEqual({ open: false });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: lang === 'fr' ? 'fr-FR' : 'en-GB', timezoneId: 'Europe/Paris' });
    context.setDefaultTimeout(20_000);
    await page.context().close();
    page = await context.newPage();
    await page.goto(`${server.url}/setup`);
    await expect(page.getByTestId('setup-closed').textContent()).resolves.toContain(tx.closed);
    await shot('11-setup-closed');
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/login/);
    await page.locator('input[name=email]').fill(co.admin.email);
    await page.locator('input[name=password]').fill(co.password);
    await page.locator('button[type=submit]').click();
    await page.getByTestId('dashboard').waitFor();
    expect(page.url()).toMatch(/\/dashboard$/);
    expect(await page.locator('.side .org').textContent()).toBe(co.name);
  });
});
