/**
 * Issue 16, points 5 and 6: one decision of the late-payment regime (decideRegime) behind every
 * surface — the documents a debtor receives, `relance penalties`, the customer screen, the
 * dashboard, the late-fee API — and a rate table that ends before the period: the amount uses the
 * latest known rate, the operator is told (Today, dashboard, CLI), formal notices wait for the
 * rate, and nothing meant for the operator reaches the debtor (read back with pdftotext and
 * mailparser).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { renderAction } from '../src/delivery/content.ts';
import { loadDeliverySettings } from '../src/delivery/settings.ts';
import { decideRegime, EU_DIRECTIVE_COUNTRIES, REGIMES, regimeOf } from '../src/domain/law/index.ts';
import { createApp } from '../src/http/app.ts';
import { loadRateTables, setRateOverride } from '../src/law/rates-repo.ts';
import { createCustomer, createInvoice, getOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, mailText, pdfText, webSession } from './debtor-harness.ts';
import { paris, plan, setupOrg } from './delivery-fixture.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'relance-law-'));
const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('16.5 jurisdictions are data', () => {
  it('16.5 a table of regimes: each with its countries, debtor kind, rate table and margin, fixed indemnity and citations in French and English', () => {
    for (const r of REGIMES) {
      expect(r.countries.length, r.id).toBeGreaterThan(0);
      expect(r.basis.law.fr && r.basis.law.en, r.id).toBeTruthy();
      if (r.interest) expect(r.interest.marginPoints >= 0n, r.id).toBe(true);
    }
    expect(regimeOf('GB', 'business')!.indemnity!.bands.map((b) => b.amountMinor)).toEqual([4000n, 7000n, 10_000n]);
    // Reachable from the ledger's data: the customer's country and kind.
    const of = (country: string | null, kind: 'business' | 'consumer' = 'business') => decideRegime({ creditorCountry: 'FR', debtorCountry: country, debtorKind: kind }).regime.id;
    expect(['FR', 'RE', 'DE', 'BE', 'ES', 'IT', 'GB', 'NL', 'PL', 'CH', null].map((c) => of(c))).toEqual([
      'fr-business', 'fr-business', 'de-business', 'be-business', 'es-business', 'it-business', 'gb-business', 'eu-business', 'eu-business', 'fr-business', 'fr-business',
    ]);
    expect(['FR', 'DE', 'NL'].map((c) => of(c, 'consumer'))).toEqual(['fr-consumer', 'de-consumer', 'eu-consumer']);
    expect(EU_DIRECTIVE_COUNTRIES).not.toContain('FR');
    // The organisation's contractual rate applies where the regime lets it, never to a consumer.
    expect(decideRegime({ creditorCountry: 'FR', debtorCountry: 'FR', debtorKind: 'business', contractRatePercent: '15.00' }).contractRatePercent).toBe('15.00');
    expect(decideRegime({ creditorCountry: 'FR', debtorCountry: 'FR', debtorKind: 'consumer', contractRatePercent: '15.00' }).contractRatePercent).toBeNull();
  });
});

describe.each(dbTargets())('the law applied once, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it("16.5 a German customer's formal notice cites the German Civil Code, and every surface computes the same interest", async () => {
    const org = await setupOrg(db);
    const berlin = await createCustomer(db, org.id, {
      legalName: 'Tischlerei Becker GmbH',
      kind: 'business',
      country: 'DE',
      language: 'fr',
      contacts: [{ name: 'Frau Becker', email: 'buchhaltung@becker.test', addressLine1: 'Friedrichstraße 12', postalCode: '10117', city: 'Berlin', country: 'DE', receivesReminders: true }],
    });
    const inv = await createInvoice(db, org.id, { customerId: berlin.id, number: 'F-DE-1', issueDate: '2025-12-15', dueDate: '2026-01-15', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 1_000_000n });
    // The final reminder went out on 2 February (before Relance); J+30 (test scenario): the
    // registered formal notice on 16 February 2026.
    await db.query(`INSERT INTO outside_reminders (organisation_id, invoice_id, level, sent_on) VALUES ($1, $2, 'final', '2026-02-02')`, [org.id, inv.id]);
    await plan(db, org.id, '2026-02-16');
    const [notice] = await db.query<{ id: bigint; status: string }>(`SELECT id, status FROM actions WHERE organisation_id = $1 AND template = 'formal_notice'`, [org.id]);
    expect(notice!.status).toBe('awaiting_approval');
    const rendered = await renderAction(
      db,
      { orgId: org.id, id: notice!.id, customerId: berlin.id, channel: 'registered_letter', template: 'formal_notice', invoiceIds: [inv.id] },
      { now: paris('2026-02-16'), org: await getOrganisation(db, org.id), settings: await loadDeliverySettings(db, org.id), rates: await loadRateTables(db), overrides: () => null },
    );
    const letter = flat(pdfText((rendered as { pdf: Buffer }).pdf));
    // Basiszinssatz 1.27 % (2026-H1) + 9 points = 10.27 % on 10 000 € for 32 days: 90.04 €.
    expect(letter).toContain('dues selon le § 288 du Code civil allemand : taux de base publié par la Bundesbank majoré de 9 points');
    expect(letter).toContain('Pénalités de retard au 16 février 2026 90,04 €');
    expect(letter).not.toMatch(/L441-10|Code de commerce|Code civil \(|directive/);
    // The e-mail of the same notice (the single-document path, `relance render`), read as the debtor reads it.
    const out = join(tmp(), 'notice.eml');
    await cli(db, org.id, ['render', '--invoice', 'F-DE-1', '--template', 'formal_notice', '--channel', 'email', '--lang', 'en', '--date', '2026-02-16', '--out', out]);
    const mail = await simpleParser(readFileSync(out));
    expect(flat(mailText(mail))).toContain('owed under section 288 of the German Civil Code: base rate published by the Bundesbank plus 9 percentage points');
    expect(mailText(mail)).not.toMatch(/L441-10|French Commercial Code/);

    // The same regime and amount everywhere the operator looks.
    const penalties = await cli(db, org.id, ['penalties', '--invoice', 'F-DE-1', '--date', '2026-02-16', '--lang', 'fr']);
    expect(penalties).toContain('Loi applicable : le § 288 du Code civil allemand (DE, pays du client)');
    expect(penalties).toMatch(/intérêts 90,04\s€ \+ indemnité 40,00\s€/);
    const web = await webSession(db, org.id, paris('2026-02-16'));
    const screen = await web.get<{ regime: { id: string }; interestMinor: string; indemnityMinor: string }>(`/customers/${berlin.id}/penalties?lang=fr`);
    expect(screen).toMatchObject({ regime: { id: 'de-business' }, interestMinor: '9004', indemnityMinor: '4000' });
    const dashboard = await web.get<{ penalties: { interestMinor: string; indemnityMinor: string } }>('/dashboard?fresh=1');
    expect(dashboard.penalties).toMatchObject({ interestMinor: '9004', indemnityMinor: '4000' });
    const key = await db.tx((q) => createApiKey(q, org.id, { name: 'erp', scope: 'read' }));
    const api = await createApp({ db, now: () => paris('2026-02-16') }).request('/api/v1/late-fees', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ invoiceId: String(inv.id), until: '2026-02-16' }),
    });
    expect(await api.json()).toMatchObject({ interestMinor: '9004', indemnityMinor: '4000' });
  });

  it('16.6 past the last known rate: the latest known rate is used, the operator is told, the formal notice waits, and the debtor reads no operator text', async () => {
    const org = await setupOrg(db);
    const c = await createCustomer(db, org.id, {
      legalName: 'Scierie Morel SARL',
      kind: 'business',
      contacts: [{ name: 'M. Morel', email: 'compta@morel.test', addressLine1: '4 route du Bois', postalCode: '39000', city: 'Lons-le-Saunier', receivesReminders: true }],
    });
    const inv = await createInvoice(db, org.id, { customerId: c.id, number: 'F-H2-1', issueDate: '2026-05-15', dueDate: '2026-06-15', currency: 'EUR', amountExclTaxMinor: 0n, amountInclTaxMinor: 1_200_000n });
    // 15 July 2026: the ECB rate of 1 July 2026 is not in the shipped table (known through 1 January
    // 2026). The final reminder went out on 1 July.
    await db.query(`INSERT INTO outside_reminders (organisation_id, invoice_id, level, sent_on) VALUES ($1, $2, 'final', '2026-07-01')`, [org.id, inv.id]);
    const today = '2026-07-15';
    const run = await cli(db, org.id, ['run', '--date', today], 'fr');
    expect(run).toContain('TAUX PROVISOIRE : la table ecb-mro n’est connue que jusqu’au 2026-01-01');
    const [notice] = await db.query<{ id: bigint; status: string; status_reason: string }>(`SELECT id, status, status_reason FROM actions WHERE organisation_id = $1 AND template = 'formal_notice'`, [org.id]);
    expect(notice).toMatchObject({ status: 'awaiting_approval', status_reason: 'provisional_rate' });
    // Approving it is refused until the rate is known, with what to do.
    const web = await webSession(db, org.id, paris(today));
    const refused = await web.send('POST', '/actions/approve', { ids: [String(notice!.id)] });
    expect(refused.status).toBe(409);
    expect(String(refused.body.detail)).toContain('relance rates set --table ecb-mro');
    // Today and the dashboard say which table and since when.
    expect((await web.get<{ rateWarnings: unknown[] }>('/today')).rateWarnings).toEqual([{ table: 'ecb-mro', knownThrough: '2026-01-01', regimes: ['fr-business'] }]);
    expect((await web.get<{ rateWarnings: unknown[] }>('/dashboard')).rateWarnings).toEqual([{ table: 'ecb-mro', knownThrough: '2026-01-01', regimes: ['fr-business'] }]);
    expect(await web.get<Record<string, unknown>>('/dashboard')).not.toHaveProperty('overdueParties');

    // The debtor's letter uses the latest known rate (2.15 + 10 = 12.15 % for 16 June – 15 July,
    // 30 days on 12 000 €: 119.84 €) and says nothing meant for the operator.
    const settings = await loadDeliverySettings(db, org.id);
    const ctx = { now: paris(today), org: await getOrganisation(db, org.id), settings, rates: await loadRateTables(db), overrides: () => null };
    const letter = await renderAction(db, { orgId: org.id, id: notice!.id, customerId: c.id, channel: 'registered_letter', template: 'formal_notice', invoiceIds: [inv.id] }, ctx);
    const text = flat(pdfText((letter as { pdf: Buffer }).pdf));
    expect(text).toContain('Pénalités de retard au 15 juillet 2026 119,84 €');
    expect(text).toContain('12,15 % du 16 juin 2026 au 30 juin 2026');
    const email = await renderAction(db, { orgId: org.id, id: notice!.id, customerId: c.id, channel: 'email', template: 'formal_notice', invoiceIds: [inv.id] }, ctx);
    const mail = await simpleParser((email as { raw: Buffer }).raw);
    for (const debtorText of [text, flat(mailText(mail)), flat(mail.html || '')]) {
      expect(debtorText).not.toMatch(/relance rates|provisoire|provisional|Ajoutez|taux officiel|ecb-mro|known through|connue jusqu/i);
    }
    const attached = mail.attachments.find((a) => a.contentType === 'application/pdf');
    expect(flat(pdfText(attached!.content))).not.toMatch(/relance rates|provisoire|ecb-mro/i);

    // The operator adds the official rate (an instance operator's act: rates are instance-wide):
    // the warning goes and the notice can be approved.
    await db.tx((q) => setRateOverride(q, { table: 'ecb-mro', from: '2026-07-01', ratePercent: '2.15', note: 'test: confirmed by the operator' }));
    expect((await web.get<{ rateWarnings: unknown[] }>('/today')).rateWarnings).toEqual([]);
    expect((await web.send('POST', '/actions/approve', { ids: [String(notice!.id)] })).status).toBe(200);
    // The shipped tables say how far they are known.
    expect(await cli(db, org.id, ['rates', 'list', '--table', 'fr-taux-legal-autres', '--lang', 'en'])).toContain('known through 2026-06-30');
  });
});
