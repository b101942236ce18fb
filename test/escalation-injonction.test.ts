/**
 * Issue 21, injonction de payer: refused with the reason for a disputed debt, a time-barred debt
 * and a debt without a formal notice; otherwise the request's data for the right procedure,
 * read back with pdftotext.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { openDispute } from '../src/engine/events.ts';
import { injonctionProcedure, injonctionRequest } from '../src/escalation/injonction.ts';
import { createApiKey } from '../src/auth/index.ts';
import { isRelanceError } from '../src/errors.ts';
import { createApp } from '../src/http/app.ts';
import { loadRateTables } from '../src/law/rates-repo.ts';
import { createCustomer } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, pdfText } from './debtor-harness.ts';
import { addInvoice, d, sentOutside, setupOrg, sirenFor } from './delivery-fixture.ts';

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!isRelanceError(e)) throw new Error(`expected a refusal, got ${String(e)}`);
  return { code: e.code, field: e.where?.field, fr: e.detail('fr'), en: e.detail('en') };
}

describe('which procedure (pure)', () => {
  it('European order for a debtor in another EU country, the commercial court for a business, the Cerfa form for a consumer', () => {
    expect(injonctionProcedure('FR', 'DE', 'business')).toBe('european_order');
    expect(injonctionProcedure('FR', 'FR', 'business')).toBe('commercial_court');
    expect(injonctionProcedure('FR', 'FR', 'consumer')).toBe('cerfa');
    expect(injonctionProcedure('FR', 'US', 'business')).toBe('commercial_court');
  });
});

describe.each(dbTargets())('injonction de payer, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  let k = 950;
  const customer = async (orgId: string, kind: 'business' | 'consumer' = 'business', country = 'FR') => {
    k++;
    return createCustomer(db, orgId, {
      legalName: kind === 'business' ? `Bâtiments Lenoir ${k} SAS` : `Jeanne Petit ${k}`,
      kind, country, siren: kind === 'business' ? sirenFor(k) : null,
      contacts: [{ name: 'Compta', email: `c${k}@client.test`, addressLine1: '5 allée des Tilleuls', postalCode: '38000', city: 'Grenoble', receivesReminders: true }],
    });
  };

  it('is refused for a debt without formal notice, a disputed debt and a time-barred debt, with the reason', async () => {
    const org = await setupOrg(db);
    const rates = await loadRateTables(db);
    const c = await customer(org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-01-15', { number: 'F-IP-1', amount: 500_000n });
    const none = await refusal(injonctionRequest(db, org.id, c.id, rates, d('2026-04-01')));
    expect(none.code).toBe('legal_rule');
    expect(none.fr).toContain('la facture F-IP-1 n’a fait l’objet d’aucune mise en demeure');
    expect(none.en).toContain('no formal notice was sent for invoice F-IP-1');

    await sentOutside(db, org.id, inv.id, 'formal_notice', '2026-02-20');
    await db.tx((q) => openDispute(q, org.id, { customerId: c.id, invoiceIds: [inv.id], reason: 'quantités contestées' }, d('2026-03-01'), { acknowledge: false }));
    const disputed = await refusal(injonctionRequest(db, org.id, c.id, rates, d('2026-04-01')));
    expect(disputed.fr).toContain('litige en cours (quantités contestées)');
    expect(disputed.en).toContain('under an open dispute');

    // A consumer debt of 2023: the two years of C. conso L218-2 are over.
    const p = await customer(org.id, 'consumer');
    const old = await addInvoice(db, org.id, p.id, '2023-06-01', { number: 'F-IP-OLD' });
    await sentOutside(db, org.id, old.id, 'formal_notice', '2023-07-01');
    const prescribed = await refusal(injonctionRequest(db, org.id, p.id, rates, d('2026-04-01')));
    expect(prescribed.fr).toContain('prescrite depuis le 2025-06-01 (C. conso L218-2)');
    expect(prescribed.en).toContain('time-barred since 2025-06-01');
  });

  it('gives the commercial court data for a business, the Cerfa fields for a consumer, form A for an EU debtor', async () => {
    const org = await setupOrg(db);
    const rates = await loadRateTables(db);
    const b = await customer(org.id);
    const inv = await addInvoice(db, org.id, b.id, '2026-01-15', { number: 'F-IP-B', amount: 500_000n });
    await sentOutside(db, org.id, inv.id, 'formal_notice', '2026-02-20');
    const out = join(mkdtempSync(join(tmpdir(), 'relance-ip-')), 'requete.pdf');
    const said = await cli(db, org.id, ['injonction', '--customer', String(b.id), '--out', out, '--date', '2026-04-01']);
    expect(said).toContain('request for an order for payment (commercial court, online filing)');
    expect(said).not.toMatch(/commercial_court|european_order/);
    const text = pdfText(readFileSync(out));
    expect(text).toContain('Requête en injonction de payer — tribunal de commerce');
    expect(text).toContain(`SIREN : ${b.siren}`);
    expect(text).toContain('Principal : 5 000,00 €');
    expect(text).toContain('Indemnités forfaitaires : 40,00 €');
    expect(text).toMatch(/F-IP-B +16\/12\/2025 +15\/01\/2026 +5 000,00 €/);
    expect(text).toContain('Envoyée le 20/02/2026');

    const c = await customer(org.id, 'consumer');
    const ci = await addInvoice(db, org.id, c.id, '2026-02-01', { number: 'F-IP-C', amount: 80_000n });
    await sentOutside(db, org.id, ci.id, 'formal_notice', '2026-03-01');
    const cerfa = await injonctionRequest(db, org.id, c.id, rates, d('2026-04-01'));
    expect(cerfa.procedure).toBe('cerfa');
    expect(pdfText(cerfa.pdf)).toContain('Cerfa 12948*06');

    const de = await customer(org.id, 'business', 'DE');
    const di = await addInvoice(db, org.id, de.id, '2026-02-01', { number: 'F-IP-DE', amount: 90_000n });
    await sentOutside(db, org.id, di.id, 'formal_notice', '2026-03-01');
    const eu = await injonctionRequest(db, org.id, de.id, rates, d('2026-04-01'), { lang: 'en' });
    expect(eu.procedure).toBe('european_order');
    const en = pdfText(eu.pdf);
    expect(en.replace(/\s+/g, ' ')).toContain('European order for payment — form A (Regulation (EC) No 1896/2006)');
    expect(en).toContain('Cross-border: the claimant is in FR, the defendant in DE.');
  });

  it('is served by the API as a PDF, and refused there with the reason in the caller\'s language', async () => {
    const org = await setupOrg(db);
    const c = await customer(org.id);
    const inv = await addInvoice(db, org.id, c.id, '2026-01-15', { number: 'F-IP-API', amount: 250_000n });
    const { key } = await createApiKey(db, org.id, { name: 'court filing', scope: 'read' });
    const app = createApp({ db, now: () => new Date('2026-04-01T09:00:00Z') });
    const get = (lang: string) => app.request(`/api/v1/customers/${c.id}/injonction?lang=${lang}`, { headers: { authorization: `Bearer ${key}`, 'accept-language': lang } });
    const refused = await get('fr');
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('legal_rule');
    expect(problem.detail).toContain('la facture F-IP-API n’a fait l’objet d’aucune mise en demeure');

    await sentOutside(db, org.id, inv.id, 'formal_notice', '2026-02-20');
    const ok = await get('fr');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect(ok.headers.get('x-relance-procedure')).toBe('commercial_court');
    const text = pdfText(Buffer.from(await ok.arrayBuffer()));
    expect(text).toContain('Requête en injonction de payer — tribunal de commerce');
    expect(text).toContain('Principal : 2 500,00 €');
    // Another organisation's key sees nothing of this customer.
    const other = await setupOrg(db);
    const { key: otherKey } = await createApiKey(db, other.id, { name: 'other', scope: 'read' });
    const foreign = await app.request(`/api/v1/customers/${c.id}/injonction`, { headers: { authorization: `Bearer ${otherKey}` } });
    expect(foreign.status).toBe(404);
  });
});
