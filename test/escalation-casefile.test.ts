/**
 * Issue 21, the case file: the ZIP holds exactly what its manifest lists and every hash checks, the
 * messages are the bytes that left (their SHA-256 is the proof store's), the invoice PDF is the one
 * held, the cover states the claim to the day (read back with pdftotext), and the same ledger on
 * the same day gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { buildCaseFile } from '../src/escalation/casefile.ts';
import { unzip } from '../src/escalation/zip.ts';
import { openDispute, resolveDispute } from '../src/engine/events.ts';
import { loadRateTables } from '../src/law/rates-repo.ts';
import { allocate, createCustomer, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, pdfText } from './debtor-harness.ts';
import { addInvoice, d, paris, plan, setupOrg, sirenFor, smtpSettings, startSmtp, type TestSmtp, worker } from './delivery-fixture.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const INVOICE_PDF = Buffer.from('%PDF-1.4\n% facture tenue par le créancier\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

describe.each(dbTargets())('the recovery case file, on $name', (target) => {
  let db: Db;
  let smtp: TestSmtp;
  beforeAll(async () => {
    db = await target.open();
    smtp = await startSmtp();
  });
  afterAll(async () => {
    await smtp?.close();
    await db?.close();
  });

  it('contains what its manifest lists, every hash checks, and is reproducible', async () => {
    const org = await setupOrg(db, smtpSettings(smtp.port));
    const c = await createCustomer(db, org.id, {
      legalName: 'Ébénisterie Garnier SARL',
      siren: sirenFor(901),
      contacts: [{ name: 'M. Garnier', email: 'compta@garnier.test', addressLine1: '2 rue des Forges', postalCode: '42000', city: 'Saint-Étienne', receivesReminders: true }],
    });
    const inv = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-CF-1', amount: 1_200_000n, pdf: INVOICE_PDF });
    await addInvoice(db, org.id, c.id, '2026-03-09', { number: 'F-CF-2', amount: 30_000n });
    await plan(db, org.id, '2026-03-02');
    const sent = await worker(db, paris('2026-03-02')).runOnce();
    expect(sent.sent).toBe(1);
    const p = await recordPayment(db, org.id, { customerId: c.id, paymentDate: '2026-03-10', currency: 'EUR', amountMinor: 200_000n, reference: 'VIR GARNIER' });
    await allocate(db, org.id, { invoiceId: inv.id, paymentId: p.id, amountMinor: 200_000n, allocatedOn: d('2026-03-10') });
    const dispute = await db.tx((q) => openDispute(q, org.id, { customerId: c.id, invoiceIds: [inv.id], reason: 'porte livrée rayée' }, d('2026-03-11'), { acknowledge: false }));
    await db.tx((q) => resolveDispute(q, org.id, dispute, 'retouche faite sur place', d('2026-03-13')));

    const f = await buildCaseFile(db, org.id, c.id, await loadRateTables(db), d('2026-04-01'));
    const files = unzip(f.zip);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8')) as { reference: string; files: { path: string; size: number; sha256: string }[] };
    expect(manifest.reference).toBe(`RL-${c.id}-20260401`);
    // Exactly what it lists, and each hash checks.
    expect([...files.keys()].sort()).toEqual([...manifest.files.map((x) => x.path), 'manifest.json'].sort());
    for (const m of manifest.files) {
      expect(sha(files.get(m.path)!), m.path).toBe(m.sha256);
      expect(files.get(m.path)!.length, m.path).toBe(m.size);
    }
    expect(manifest.files.map((x) => x.path)).toEqual(expect.arrayContaining(['cover.pdf', 'statement-of-account.pdf', 'history.pdf', 'case.json', 'invoices/F-CF-1.pdf']));
    // The invoice is the one held; the message is the one that left.
    expect(files.get('invoices/F-CF-1.pdf')!.equals(INVOICE_PDF)).toBe(true);
    const [delivery] = await db.query<{ id: bigint; sha256: string }>('SELECT id, sha256 FROM deliveries WHERE organisation_id = $1', [org.id]);
    const eml = manifest.files.find((x) => x.path.startsWith('messages/'))!;
    expect(eml.path).toBe(`messages/2026-03-02-${delivery!.id}-email.eml`);
    expect(eml.sha256).toBe(delivery!.sha256);

    const cover = pdfText(files.get('cover.pdf')!);
    expect(cover).toContain('Dossier de recouvrement — Ébénisterie Garnier SARL');
    expect(cover).toContain(c.siren!);
    expect(cover).toContain('2 rue des Forges, 42000 Saint-Étienne');
    expect(cover).toMatch(/Principal restant dû : 10 300,00 €/);
    expect(cover).toMatch(/Intérêts de retard au 1er avril 2026 : \d+,\d\d €/);
    expect(cover).toContain('Indemnités forfaitaires de recouvrement : 80,00 €');
    expect(cover).toMatch(/10\/03\/2026 +F-CF-1 +paiement +VIR GARNIER +2 000,00 €/);
    expect(cover).toContain('1 relance(s) envoyée(s) du 02/03/2026 au 02/03/2026.');
    expect(cover).toContain('Aucune mise en demeure envoyée.');
    expect(cover).toContain('Litige ouvert le 11/03/2026 : porte livrée rayée — résolu le 13/03/2026 : retouche faite sur place');
    // The part payment acknowledged the debt: the limitation period runs again from it.
    expect(cover).toMatch(/F-CF-1 +02\/03\/2026 +12 000,00 € +10 000,00 €.*10\/03\/2031/);
    expect(cover).toContain(`invoices/F-CF-1.pdf — ${sha(INVOICE_PDF)}`);
    const statement = pdfText(files.get('statement-of-account.pdf')!);
    expect(statement).toMatch(/Solde dû +12 300,00 € +2 000,00 € +10 300,00 €/);
    const facts = JSON.parse(files.get('case.json')!.toString('utf8'));
    expect(facts.totals.principal).toBe('10300.00');
    expect(facts.history.disputes[0].resolution).toBe('retouche faite sur place');

    // Same ledger, same day: same bytes. Through the CLI too.
    const again = await buildCaseFile(db, org.id, c.id, await loadRateTables(db), d('2026-04-01'));
    expect(again.zip.equals(f.zip)).toBe(true);
    const out = join(mkdtempSync(join(tmpdir(), 'relance-casefile-')), 'dossier.zip');
    const said = await cli(db, org.id, ['case-file', '--customer', String(c.id), '--out', out, '--date', '2026-04-01']);
    expect(said).toContain(`case file RL-${c.id}-20260401`);
    expect(readFileSync(out).equals(f.zip)).toBe(true);

    // Only the invoices asked for.
    const one = unzip((await buildCaseFile(db, org.id, c.id, await loadRateTables(db), d('2026-04-01'), { invoiceNumbers: ['F-CF-2'], lang: 'en' })).zip);
    expect([...one.keys()].some((k) => k.startsWith('invoices/'))).toBe(false);
    expect(pdfText(one.get('cover.pdf')!)).toContain('Principal still owed: €300.00');
  });
});
