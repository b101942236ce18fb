import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import type { CalendarDate } from '../src/domain/dates.ts';
import { defaultRateTables } from '../src/domain/law/index.ts';
import { RelanceError } from '../src/errors.ts';
import { composeDocument } from '../src/documents/compose.ts';
import { buildEml } from '../src/documents/email.ts';
import { documentFromLedger } from '../src/documents/from-ledger.ts';
import { getBranding, loadTemplateOverrides, resetTemplate, saveBranding, saveTemplate } from '../src/documents/repo.ts';
import { allocate, createCustomer, createInvoice, createOrganisation, recordPayment } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const d = (s: string) => s as CalendarDate;
const rates = defaultRateTables();

describe.each(dbTargets())('documents from the ledger on $name', (target) => {
  let db: Db;
  let org: string;
  beforeAll(async () => {
    db = await target.open();
    org = (
      await createOrganisation(db, {
        legalName: 'Atelier Dupont SAS',
        siren: '732829320',
        addressLine1: '12 rue des Tanneurs',
        postalCode: '69002',
        city: 'Lyon',
        iban: 'FR76 3000 6000 0112 3456 7890 189',
        bic: 'AGRIFRPP',
      })
    ).id;
    const business = await createCustomer(db, org, {
      legalName: 'Boulangerie Lefèvre SARL',
      externalId: 'C-42',
      contacts: [{ name: 'Marie Lefèvre', email: 'marie@lefevre.fr', addressLine1: '3 place du Marché', postalCode: '69003', city: 'Lyon', receivesReminders: true }],
    });
    const pdf = Buffer.from('%PDF-1.4\n% invoice F-100\n%%EOF\n');
    const [doc] = await db.query<{ id: bigint }>(
      'INSERT INTO documents (organisation_id, filename, content_type, sha256, content) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [org, 'F-100.pdf', 'application/pdf', createHash('sha256').update(pdf).digest('hex'), pdf],
    );
    const inv = await createInvoice(db, org, {
      customerId: business.id, number: 'F-100', issueDate: '2025-05-16', dueDate: '2025-06-15', currency: 'EUR', amountExclTaxMinor: 1_000_000n, amountInclTaxMinor: 1_200_000n,
    });
    await db.query('UPDATE invoices SET pdf_document_id = $3 WHERE organisation_id = $1 AND id = $2', [org, inv.id, doc!.id]);
    const second = await createInvoice(db, org, {
      customerId: business.id, number: 'F-101', issueDate: '2025-08-01', dueDate: '2025-08-31', currency: 'EUR', amountExclTaxMinor: 50_000n, amountInclTaxMinor: 60_000n,
    });
    const pay = await recordPayment(db, org, { customerId: business.id, paymentDate: '2025-09-01', currency: 'EUR', amountMinor: 10_000n });
    await allocate(db, org, { invoiceId: second.id, paymentId: pay.id, amountMinor: 10_000n, allocatedOn: d('2025-09-01') });
    const consumer = await createCustomer(db, org, { legalName: 'Élodie Garnier', kind: 'consumer', contacts: [{ name: 'Élodie Garnier', email: 'elodie@example.fr' }] });
    await createInvoice(db, org, {
      customerId: consumer.id, number: 'P-7', issueDate: '2025-05-16', dueDate: '2025-06-15', currency: 'EUR', amountExclTaxMinor: 50_000n, amountInclTaxMinor: 60_000n,
    });
  });
  afterAll(async () => db?.close());

  it('computes the late fees with the law engine: the worked example gives 372,43 € + 40 €', async () => {
    const ld = await documentFromLedger(db, org, { invoiceNumber: 'F-100', key: 'formal_notice', at: d('2025-09-15'), rates });
    const fees = ld.input.fees!.get('F-100')!;
    expect(fees.interestMinor).toBe(37_243n);
    expect(fees.indemnityMinor).toBe(4_000n);
    const doc = await composeDocument({ key: 'formal_notice', channel: 'letter', input: ld.input });
    expect(doc.vars.totals.claimed).toBe('12\u202f412,43\u202f€');
    expect(doc.epcPayload).toContain('EUR12412.43\n\nRF');
  });

  it('a consumer owes no indemnity and no statutory interest before the formal notice', async () => {
    const ld = await documentFromLedger(db, org, { invoiceNumber: 'P-7', key: 'formal_notice', at: d('2025-09-15'), rates });
    const doc = await composeDocument({ key: 'formal_notice', channel: 'letter', input: ld.input });
    expect(doc.vars.penalties.applicable).toBe(false);
    expect(doc.vars.totals.claimed).toBe('600,00\u202f€');
  });

  it('an email is a MIME message with text, HTML and the invoice PDF attached', async () => {
    const ld = await documentFromLedger(db, org, { invoiceNumber: 'F-100', key: 'reminder', lang: 'fr', at: d('2025-06-23'), rates });
    const doc = await composeDocument({ key: 'reminder', channel: 'email', input: ld.input });
    const eml = await buildEml({
      from: '"Atelier Dupont SAS" <compta@atelier-dupont.fr>',
      to: `"${ld.recipient.name}" <${ld.recipient.email}>`,
      subject: doc.subject!,
      html: doc.html!,
      text: doc.text!,
      attachments: ld.attachment ? [ld.attachment] : [],
    });
    const mail = await simpleParser(eml);
    expect(mail.subject).toBe('Rappel\u202f: facture F-100 échue le 15 juin 2025');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toContain('marie@lefevre.fr');
    expect(mail.text).toContain('nous n’avons pas encore reçu le règlement de la facture F-100');
    expect(mail.text).toContain('RF');
    expect(mail.html).toContain('<strong>F-100</strong>');
    expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([['F-100.pdf', 'application/pdf']]);
    expect(mail.attachments[0]!.content.toString()).toContain('invoice F-100');
  });

  it('a statement lists every open invoice of the customer, partly paid ones at their open amount', async () => {
    const ld = await documentFromLedger(db, org, { invoiceNumber: 'F-100', key: 'statement', at: d('2025-09-15'), rates });
    const doc = await composeDocument({ key: 'statement', channel: 'email', input: ld.input });
    expect(doc.vars.invoices.map((i) => [i.number, i.open_amount])).toEqual([
      ['F-100', '12\u202f000,00\u202f€'],
      ['F-101', '500,00\u202f€'],
    ]);
    expect(doc.vars.totals.open_amount).toBe('12\u202f500,00\u202f€');
    expect(doc.vars.payment.reference).toBeNull();
  });

  it('refuses to save a template with an unknown variable, naming the line; saves and uses a valid one', async () => {
    try {
      await saveTemplate(db, org, { key: 'reminder', lang: 'fr', channel: 'sms', part: 'text', source: 'Bonjour\n{{ facture.numero }}' });
      throw new Error('should have been refused');
    } catch (e) {
      expect(e).toBeInstanceOf(RelanceError);
      expect((e as RelanceError).where).toMatchObject({ field: 'source', line: 2 });
    }
    await expect(saveTemplate(db, org, { key: 'reminder', lang: 'fr', channel: 'fax', part: 'text', source: 'x' })).rejects.toThrow(/unknown channel/);
    await saveTemplate(db, org, { key: 'reminder', lang: 'fr', channel: 'sms', part: 'text', source: 'Facture {{ invoice.number }} : {{ invoice.open_amount }} à régler.' });
    const override = await loadTemplateOverrides(db, org);
    const ld = await documentFromLedger(db, org, { invoiceNumber: 'F-100', key: 'reminder', lang: 'fr', at: d('2025-06-23'), rates });
    const doc = await composeDocument({ key: 'reminder', channel: 'sms', input: ld.input, override });
    expect(doc.text).toBe('Facture F-100 : 12 000,00 € à régler.');
    await resetTemplate(db, org, { key: 'reminder', lang: 'fr', channel: 'sms', part: 'text' });
    const builtIn = await composeDocument({ key: 'reminder', channel: 'sms', input: ld.input, override: await loadTemplateOverrides(db, org) });
    expect(builtIn.text).toContain('sauf erreur');
  });

  it('prints the organisation’s branding on its letters', async () => {
    expect((await getBranding(db, org)).colour).toBe('#1F4E79');
    await saveBranding(db, org, { colour: '#8A1C1C', signatoryName: 'Claire Martin', signatoryTitle: 'Gérante', footer: 'SAS au capital de 50 000 €' });
    await expect(saveBranding(db, org, { colour: 'red' })).rejects.toThrow(/colour/);
    const ld = await documentFromLedger(db, org, { invoiceNumber: 'F-100', key: 'firm', at: d('2025-07-01'), rates });
    const doc = await composeDocument({ key: 'firm', channel: 'letter', input: ld.input });
    expect(doc.vars.organisation.signatory_name).toBe('Claire Martin');
    expect(doc.vars.organisation.legal_mentions).toContain('SAS au capital de 50 000 €');
    expect(doc.pdf!.subarray(0, 5).toString()).toBe('%PDF-');
  });
});
