import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { RelanceError } from '../src/errors.ts';
import { embeddedFiles } from '../src/formats/einvoice/pdf.ts';
import { parseEInvoice } from '../src/formats/einvoice/index.ts';
import { importEInvoices } from '../src/imports/einvoice.ts';
import { createOrganisation, getCustomer, getInvoiceByNumber } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const E = (n: string) => fileURLToPath(new URL(`./fixtures/einvoice/${n}`, import.meta.url));

describe('e-invoice parsing (fixtures as they are)', () => {
  it('extracts factur-x.xml from the PDF/A-3 and reads it like the XML', () => {
    const pdf = readFileSync(E('factur-x-invoice_EN16931.pdf'));
    expect(embeddedFiles(pdf).map((f) => f.name)).toEqual(['Bon_de_livraison.pdf', 'factur-x.xml']);
    const { invoice, source } = parseEInvoice(pdf);
    expect(source).toEqual({ kind: 'pdf', embeddedName: 'factur-x.xml' });
    expect(invoice).toMatchObject({
      syntax: 'CII',
      profile: 'urn:cen.eu:en16931:2017',
      number: 'F20260023',
      issueDate: '2026-01-31',
      dueDate: '2026-03-02',
      inclTaxMinor: 10490n,
      exclTaxMinor: 10000n,
      dueMinor: 10490n,
      paymentReference: 'F20260023BUYER',
      payeeIban: 'FR2012542547256985425874698',
      seller: { siren: '123456782', vatNumber: 'FR11123456782' },
      buyer: { name: 'LE CLIENT', siren: '987654321', vatNumber: 'FR05987654321', email: 'me@buyer.com', city: 'MA VILLE' },
    });
  });

  it.each([
    ['factur-x-minimum.xml', 'urn:factur-x.eu:1p0:minimum', null],
    ['factur-x-basic.xml', 'urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic', '2026-03-02'],
    ['factur-x-en16931.xml', 'urn:cen.eu:en16931:2017', '2026-03-02'],
    ['factur-x-extended.xml', 'urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended', '2026-03-02'],
  ])('reads the CII profile %s', (file, profile, due) => {
    const { invoice } = parseEInvoice(readFileSync(E(file)));
    expect(invoice).toMatchObject({ profile, number: 'F20260023', dueDate: due, inclTaxMinor: 10490n, currency: 'EUR' });
  });

  it('reads UBL 2.1 with its prepaid amount, payment id and payee account', () => {
    const { invoice } = parseEInvoice(readFileSync(E('ubl-21-en16931.xml')));
    expect(invoice).toMatchObject({
      syntax: 'UBL',
      number: 'F124212',
      issueDate: '2026-06-17',
      dueDate: '2026-07-16',
      inclTaxMinor: 30803n,
      exclTaxMinor: 27300n,
      prepaidMinor: 10000n,
      dueMinor: 20803n,
      payeeIban: 'FR2012421242124212421242124',
      payeeBic: 'QNTOFRP1XXX',
      seller: { siren: '999999998' },
      buyer: { name: 'Ma jolie boutique SARL', siren: '787878784', vatNumber: 'FR19787878784' },
    });
  });

  it('says what is wrong with a file that is not an e-invoice', () => {
    expect(() => parseEInvoice(Buffer.from('<html/>'))).toThrow(/not an e-invoice/);
    expect(() => parseEInvoice(Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n'))).toThrow(/no factur-x.xml/);
  });

  // One reader, one policy: the e-invoice XML goes through the same reader as bank statements.
  it('reads an e-invoice with the statements\' policy: refusals by line, entities, > inside an attribute', () => {
    const good = readFileSync(E('factur-x-basic.xml'), 'utf8');
    const withNote = good.replace('<rsm:ExchangedDocument>', '<rsm:ExchangedDocument>\n<ram:IncludedNote><ram:Content lang="a>b">A &amp; B &#233;</ram:Content></ram:IncludedNote>');
    expect(parseEInvoice(Buffer.from(withNote)).invoice.number).toBe(parseEInvoice(Buffer.from(good)).invoice.number);
    const lineOf = (needle: string) => good.slice(0, good.indexOf(needle)).split('\n').length;
    const broken = good.replace('</rsm:ExchangedDocument>', '</rsm:Exchanged>');
    let e: RelanceError | undefined;
    try {
      parseEInvoice(Buffer.from(broken), 'x.xml');
    } catch (x) {
      e = x as RelanceError;
    }
    expect(e).toBeInstanceOf(RelanceError);
    expect(e!.where).toMatchObject({ file: 'x.xml', line: lineOf('</rsm:ExchangedDocument>') });
    expect(() => parseEInvoice(Buffer.from(good.replace('<rsm:ExchangedDocument>', '<rsm:ExchangedDocument>' + '<x>'.repeat(150) + '</x>'.repeat(150))))).toThrow(/nested deeper than 100/);
    expect(() => parseEInvoice(Buffer.from(good.replace('<rsm:ExchangedDocument>', '<rsm:ExchangedDocument><y>&nbsp;</y>')))).toThrow(/unknown entity/);
  });
});

describe.each(dbTargets())('e-invoice import on $name', (target) => {
  let db: Db;
  let seller: string;
  let other: string;
  beforeAll(async () => {
    db = await target.open();
    seller = (await createOrganisation(db, { legalName: 'LE FOURNISSEUR', siren: '123456782' })).id;
    other = (await createOrganisation(db, { legalName: 'Au bon moulin', siren: '999999998' })).id;
  });
  afterAll(async () => db?.close());

  it('imports the Factur-X PDF: buyer as customer, invoice, payment details, original PDF attached', async () => {
    const r = await importEInvoices(db, seller, [{ path: E('factur-x-invoice_EN16931.pdf') }]);
    expect(r.problems).toEqual([]);
    expect(r.outcome).toBe('imported');
    expect(r.counts.invoices).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    const inv = await getInvoiceByNumber(db, seller, 'F20260023');
    expect(inv).toMatchObject({ dueDate: '2026-03-02', amountInclTaxMinor: 10490n, openMinor: 10490n });
    expect(inv.pdfDocumentId).not.toBeNull();
    const [doc] = await db.query<{ content_type: string; content: Uint8Array; filename: string }>(
      'SELECT content_type, content, filename FROM documents WHERE organisation_id = $1 AND id = $2',
      [seller, inv.pdfDocumentId],
    );
    expect(doc!.content_type).toBe('application/pdf');
    expect(Buffer.from(doc!.content).equals(readFileSync(E('factur-x-invoice_EN16931.pdf')))).toBe(true);
    const [details] = await db.query('SELECT payment_reference, payee_iban FROM invoice_payment_details WHERE organisation_id = $1 AND invoice_id = $2', [seller, inv.id]);
    expect(details).toEqual({ payment_reference: 'F20260023BUYER', payee_iban: 'FR2012542547256985425874698' });
    const customer = await getCustomer(db, seller, inv.customerId);
    expect(customer).toMatchObject({ legalName: 'LE CLIENT', vatNumber: 'FR05987654321' });
    expect(customer.contacts[0]).toMatchObject({ email: 'me@buyer.com', city: 'MA VILLE', postalCode: '06000' });
  });

  it('re-importing the PDF and its XML twin duplicates nothing', async () => {
    const r = await importEInvoices(db, seller, [{ path: E('factur-x-invoice_EN16931.pdf') }, { path: E('factur-x-en16931.xml') }]);
    expect(r.problems).toEqual([]);
    expect(r.counts.invoices).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
    const [{ n }] = (await db.query<{ n: bigint }>('SELECT count(*) AS n FROM customers WHERE organisation_id = $1', [seller])) as [{ n: bigint }];
    expect(n).toBe(1n);
    // The XML twin does not take the PDF away from the invoice.
    expect((await getInvoiceByNumber(db, seller, 'F20260023')).pdfDocumentId).not.toBeNull();
  });

  it('a MINIMUM profile without due date gets the customer terms, and says so', async () => {
    const org = (await createOrganisation(db, { legalName: 'LE FOURNISSEUR bis', vatNumber: 'FR11123456782' })).id;
    const r = await importEInvoices(db, org, [{ path: E('factur-x-minimum.xml') }]);
    expect(r.problems).toEqual([]);
    expect((await getInvoiceByNumber(db, org, 'F20260023')).dueDate).toBe('2026-03-02');
    expect(r.warnings.join()).toMatch(/no due date/);
  });

  it('refuses an invoice whose seller is another company, and writes nothing', async () => {
    const r = await importEInvoices(db, other, [{ path: E('factur-x-basic.xml') }]);
    expect(r.outcome).toBe('rejected');
    expect(r.problems[0]!.reason).toMatch(/seller LE FOURNISSEUR .* is not this organisation/);
    await expect(getInvoiceByNumber(db, other, 'F20260023')).rejects.toThrow(/not found/);
  });

  it('UBL with a prepaid amount: the invoice is left with what is payable', async () => {
    const r = await importEInvoices(db, other, [{ path: E('ubl-21-en16931.xml') }]);
    expect(r.problems).toEqual([]);
    const inv = await getInvoiceByNumber(db, other, 'F124212');
    expect(inv).toMatchObject({ amountInclTaxMinor: 30803n, openMinor: 20803n, status: 'partially_paid', pdfDocumentId: null });
    const again = await importEInvoices(db, other, [{ path: E('ubl-21-en16931.xml') }]);
    expect(again.counts.allocations?.inserted).toBe(0);
    expect((await getInvoiceByNumber(db, other, 'F124212')).openMinor).toBe(20803n);
  });
});
