/**
 * Issue 21, insolvency: collective proceedings stop the engine for the debtor at once (planner and
 * outbox), the declaration task carries the legal deadline, the declaration letter states the claim
 * at the judgment date (read back with pdftotext), penalties cannot be booked any more, and a
 * write-off needs a second person and gives the VAT figures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { claimDeclarationDeadline } from '../src/domain/escalation/insolvency.ts';
import { recordPromise } from '../src/engine/events.ts';
import { decideWriteOff, declarationPdf, proposeWriteOff, recordProceeding, setPublication } from '../src/escalation/insolvency.ts';
import { isRelanceError } from '../src/errors.ts';
import { bookPenaltyStatement, ledgerPenaltyStatement } from '../src/law/ledger-law.ts';
import { loadRateTables } from '../src/law/rates-repo.ts';
import { createCustomer, createInvoice, getInvoice } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { cli, pdfText } from './debtor-harness.ts';
import { actions, addInvoice, d, paris, plan, setupOrg, sirenFor, worker } from './delivery-fixture.ts';

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!isRelanceError(e)) throw new Error(`expected a refusal, got ${String(e)}`);
  return { code: e.code, field: e.where?.field, fr: e.detail('fr'), en: e.detail('en') };
}

let k = 500;
async function debtor(db: Db, orgId: string, name = 'Atelier Dubois SARL') {
  k++;
  return createCustomer(db, orgId, {
    legalName: name,
    siren: sirenFor(k),
    contacts: [{ name: 'Compta', email: `compta${k}@dubois.test`, phone: '+33612345678', addressLine1: '4 rue du Bois', postalCode: '69007', city: 'Lyon', receivesReminders: true }],
  });
}

describe('the declaration deadline (pure)', () => {
  it('is two months after the BODACC publication, four for a creditor outside metropolitan France, same day of the month', () => {
    expect(claimDeclarationDeadline(d('2026-03-10'), false)).toBe('2026-05-10');
    expect(claimDeclarationDeadline(d('2026-03-10'), true)).toBe('2026-07-10');
    expect(claimDeclarationDeadline(d('2026-12-31'), false)).toBe('2027-02-28');
  });
});

describe.each(dbTargets())('insolvency proceedings, on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('stop every reminder for the debtor at once, and raise the declaration task with its deadline', async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id);
    const a = await addInvoice(db, org.id, c.id, '2026-03-02', { number: 'F-INS-A', amount: 120_000n });
    await addInvoice(db, org.id, c.id, '2026-03-09', { number: 'F-INS-B', amount: 60_000n });
    await plan(db, org.id, '2026-03-02');
    const before = (await actions(db, org.id)).filter((x) => ['planned', 'queued', 'awaiting_approval'].includes(x.status));
    expect(before.length).toBe(1);

    const r = await db.tx((q) =>
      recordProceeding(q, org.id, { customerId: c.id, kind: 'receivership', judgmentDate: '2026-03-03', publicationDate: '2026-03-12', representativeName: 'Me Martin, mandataire judiciaire' }, d('2026-03-04')),
    );
    expect(r.cancelledActions).toBe(1);
    const after = await actions(db, org.id);
    expect(after.map((x) => [x.status, x.status_reason])).toEqual([['cancelled', 'insolvency']]);
    // The deadline: two months from publication (the organisation is in France).
    expect(r.proceeding.declarationDeadline).toBe('2026-05-12');
    const [task] = await db.query<{ kind: string; due_on: string; status: string; note: string }>('SELECT kind, due_on, status, note FROM tasks WHERE organisation_id = $1', [org.id]);
    expect(task).toMatchObject({ kind: 'insolvency_declaration', due_on: '2026-05-12', status: 'open' });
    expect(task!.note).toContain('Me Martin');

    // Nothing more is planned for this debtor, B's due date included, and nothing leaves.
    const later = await plan(db, org.id, '2026-03-09');
    expect(later.actionsCreated).toBe(0);
    expect((await plan(db, org.id, '2026-04-20')).actionsCreated).toBe(0);
    const sent = await worker(db, paris('2026-03-09')).runOnce();
    expect(sent.exported + sent.sent).toBe(0);

    // Not even the acknowledgement of a promise recorded afterwards goes out.
    await db.tx((q) => recordPromise(q, org.id, { customerId: c.id, invoiceIds: [a.id], promisedOn: d('2026-03-20'), amountMinor: 10_000n }, d('2026-03-10'), { acknowledge: true }));
    const w = await worker(db, paris('2026-03-10')).runOnce();
    expect(w.exported + w.sent).toBe(0);
    const ack = (await actions(db, org.id)).at(-1)!;
    expect([ack.status, ack.status_reason]).toEqual(['cancelled', 'insolvency']);

    // Penalties are no longer booked for this debtor.
    const { statement } = await ledgerPenaltyStatement(db, org.id, { customerId: c.id }, d('2026-03-20'), await loadRateTables(db));
    const no = await refusal(db.tx((q) => bookPenaltyStatement(q, org.id, c.id, statement, { issueDate: d('2026-03-20') })));
    expect(no.code).toBe('legal_rule');
    expect(no.fr).toContain('procédure collective');
    expect(no.en).toContain('collective proceedings');

    // One open proceeding per debtor.
    const twice = await refusal(db.tx((q) => recordProceeding(q, org.id, { customerId: c.id, kind: 'liquidation', judgmentDate: '2026-03-20' }, d('2026-03-21'))));
    expect(twice.code).toBe('conflict');
  });

  it('gives a creditor abroad two more months, and sets the deadline once the publication is known', async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-02-02');
    const r = await db.tx((q) => recordProceeding(q, org.id, { customerId: c.id, kind: 'liquidation', judgmentDate: '2026-02-10', creditorAbroad: true }, d('2026-02-11')));
    expect(r.proceeding.declarationDeadline).toBeNull();
    expect(await db.query('SELECT 1 FROM tasks WHERE organisation_id = $1', [org.id])).toEqual([]);
    const p = await db.tx((q) => setPublication(q, org.id, r.proceeding.id, '2026-02-20'));
    expect(p.declarationDeadline).toBe('2026-06-20');
    expect(p.deadlineRule).toContain('R622-24');
    const [task] = await db.query<{ due_on: string }>(`SELECT due_on FROM tasks WHERE organisation_id = $1 AND kind = 'insolvency_declaration'`, [org.id]);
    expect(task!.due_on).toBe('2026-06-20');
  });

  it('prefills the declaration letter with the claim at the judgment date (read back with pdftotext)', async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id, 'Charpentes Morel SAS');
    // 12,000.00 due 15 June 2025: the worked example of docs/law.md §1 up to the judgment of 15 September 2025.
    await createInvoice(db, org.id, { customerId: c.id, number: 'F-2025-061', issueDate: '2025-05-16', dueDate: '2025-06-15', currency: 'EUR', amountExclTaxMinor: 1_000_000n, amountInclTaxMinor: 1_200_000n });
    // Not yet due at the judgment: declared "à échoir", no interest.
    await createInvoice(db, org.id, { customerId: c.id, number: 'F-2025-090', issueDate: '2025-09-01', dueDate: '2025-10-01', currency: 'EUR', amountExclTaxMinor: 50_000n, amountInclTaxMinor: 60_000n });
    const r = await db.tx((q) =>
      recordProceeding(q, org.id, { customerId: c.id, kind: 'receivership', judgmentDate: '2025-09-15', publicationDate: '2025-09-25', court: 'Tribunal de commerce de Lyon', representativeName: 'SELARL Martin', representativeAddress: '1 quai de Saône, 69002 Lyon' }, d('2025-09-26')),
    );
    const decl = await declarationPdf(db, org.id, r.proceeding.id, await loadRateTables(db), d('2025-09-29'));
    expect(decl.claim.interestMinor).toBe(37_243n);
    expect(decl.claim.indemnityMinor).toBe(4_000n);
    expect(decl.claim.principalMinor).toBe(1_260_000n);
    const text = pdfText(decl.pdf);
    expect(text).toContain('Déclaration de créance');
    expect(text).toContain('SELARL Martin');
    expect(text).toContain('Charpentes Morel SAS');
    expect(text).toContain(c.siren!);
    expect(text).toContain('redressement judiciaire');
    expect(text).toContain('15 septembre 2025');
    expect(text).toContain('25 novembre 2025'); // the deadline
    expect(text).toMatch(/F-2025-061.*échue.*12 000,00 €.*372,43 €.*40,00 €.*12 412,43 €/);
    expect(text).toMatch(/F-2025-090.*à échoir.*600,00 €/);
    expect(text).toMatch(/Total.*12 600,00 €.*372,43 €.*40,00 €.*13 012,43 €/);
    expect(text).toContain('chirographaire');
    expect(text).toContain('Facture F-2025-090 du 01/09/2025 (copie à joindre)');
    expect(text).toContain('sincère et véritable');
    // Same inputs, same bytes.
    const again = await declarationPdf(db, org.id, r.proceeding.id, await loadRateTables(db), d('2025-09-29'));
    expect(again.pdf.equals(decl.pdf)).toBe(true);
    // In English when asked.
    const en = pdfText((await declarationPdf(db, org.id, r.proceeding.id, await loadRateTables(db), d('2025-09-29'), 'en')).pdf);
    expect(en).toContain('Declaration of claim');
    expect(en).toContain('not yet due');
  });

  it('writes off the irrecoverable part only with a second person, and gives the VAT figures', async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id);
    const inv = await createInvoice(db, org.id, { customerId: c.id, number: 'F-WO-1', issueDate: '2026-01-05', dueDate: '2026-02-04', currency: 'EUR', amountExclTaxMinor: 100_000n, amountInclTaxMinor: 120_000n });
    const r = await db.tx((q) => recordProceeding(q, org.id, { customerId: c.id, kind: 'liquidation', judgmentDate: '2026-03-01', publicationDate: '2026-03-10' }, d('2026-03-11')));
    const req = await db.tx((q) => proposeWriteOff(q, org.id, { proceedingId: r.proceeding.id, reason: 'liquidation closed for lack of assets', by: 'alice' }, d('2026-09-01')));
    expect(req.amountMinor).toBe(120_000n);
    expect((await getInvoice(db, org.id, inv.id)).openMinor).toBe(120_000n);
    const self = await refusal(db.tx((q) => decideWriteOff(q, org.id, req.id, { approve: true, by: 'Alice' }, d('2026-09-02'))));
    expect(self.code).toBe('forbidden');
    expect(self.fr).toContain('autre personne');
    const v = await db.tx((q) => decideWriteOff(q, org.id, req.id, { approve: true, by: 'bob' }, d('2026-09-02')));
    expect(v.vatMinor).toBe(20_000n);
    expect(v.exclTaxMinor).toBe(100_000n);
    expect(v.lines[0]!.impliedRateBp).toBe(2000);
    const after = await getInvoice(db, org.id, inv.id);
    expect([after.openMinor, after.status]).toEqual([0n, 'written_off']);
    const [wo] = await db.query<{ reason: string; request_id: bigint }>('SELECT reason, request_id FROM write_offs WHERE organisation_id = $1', [org.id]);
    expect(wo!.reason).toContain('approved by bob');
    expect(wo!.request_id).toBe(req.id);
    const twice = await refusal(db.tx((q) => decideWriteOff(q, org.id, req.id, { approve: true, by: 'carol' }, d('2026-09-02'))));
    expect(twice.code).toBe('conflict');
  });

  it('is recorded and listed from the command line, in French', async () => {
    const org = await setupOrg(db);
    const c = await debtor(db, org.id);
    await addInvoice(db, org.id, c.id, '2026-02-02');
    const out = await cli(db, org.id, ['insolvency', 'record', '--customer', String(c.id), '--kind', 'safeguard', '--judgment', '2026-02-10', '--publication', '2026-02-18', '--date', '2026-02-19'], 'fr');
    expect(out).toContain('relances et pénalités arrêtées pour ce client');
    expect(out).toContain('Déclaration de créance à faire au plus tard le 18 avril 2026');
    const list = await cli(db, org.id, ['insolvency', 'list'], 'en');
    expect(list).toContain('safeguard, judgment of 10 February 2026, publication 18 February 2026, declare by 18 April 2026 — open');
    const rule = await cli(db, org.id, ['insolvency', 'settings'], 'en');
    expect(rule).toContain('2 months after publication, +2 months');
    expect(rule).toContain('rule to verify');
  });
});
