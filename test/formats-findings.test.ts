/**
 * Issue 17, "Formats: what real files showed": each numbered cause, on the real file that showed it
 * (test/fixtures, see SOURCES.md), and the two readers beyond the usual scope (camt.054, ZUGFeRD 1.0).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBankFile } from '../src/bank/import.ts';
import type { Db } from '../src/db/driver.ts';
import { parseCfonb120 } from '../src/formats/bank/cfonb120.ts';
import { parseCsvStatement } from '../src/formats/bank/csv.ts';
import { detectBankFormat, parseBankFile } from '../src/formats/bank/detect.ts';
import { parseOfx } from '../src/formats/bank/ofx.ts';
import { detectEInvoice, parseEInvoice } from '../src/formats/einvoice/index.ts';
import { renderText } from '../src/i18n/index.ts';
import { importEInvoices, settlementOf } from '../src/imports/einvoice.ts';
import { importFec } from '../src/imports/fec.ts';
import { createOrganisation, getInvoiceByNumber } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const path = (p: string) => fileURLToPath(new URL(`./fixtures/${p}`, import.meta.url));
const fixture = (p: string) => readFileSync(path(p));

describe('issue 17 findings, file by file', () => {
  it('17.1 an e-invoice opening with a 6 KB licence comment is found by its root element', () => {
    const bytes = fixture('einvoice/ferd-EN16931_Einfach.cii.xml');
    expect(bytes.indexOf('<rsm:CrossIndustryInvoice')).toBeGreaterThan(4096);
    expect(detectEInvoice(bytes)).toBe('cii');
    expect(parseEInvoice(bytes).invoice).toMatchObject({ number: '471102', inclTaxMinor: 52987n });
    // The same inside a PDF/A-3: the embedded XML opens with the comment too.
    expect(parseEInvoice(fixture('einvoice/ferd-EN16931_Einfach_DueDate.pdf')).invoice.dueDate).toBe('2019-03-05');
    // A DTD is refused, by name, rather than skipped.
    expect(() => parseEInvoice(Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><rsm:CrossIndustryInvoice/>'))).toThrow(/DOCTYPE/);
    expect(() => parseEInvoice(Buffer.from('<!-- a comment --><html/>'))).toThrow(/root element is <html>/);
  });

  it('17.2 a negative UBL invoice, a CII corrective invoice (384) and a French avoir sent as 380 read as credit notes', () => {
    for (const [file, number, amount] of [
      ['einvoice/cen-BIS3_Invoice_negativ.XML', '12345', 78217943n],
      ['einvoice/ferd-EN16931_Rechnungskorrektur.cii.xml', 'RK21012345', 879n],
      ['einvoice/fnfe-Avoir_FR_type380_BASIC.pdf', 'AV-2017-0005', 23347n],
      ['einvoice/intarsys-ZUGFeRD_1p0_COMFORT_Rechnungskorrektur.pdf', 'RK21012345', 879n],
    ] as const) {
      const { invoice } = parseEInvoice(fixture(file), file);
      expect(invoice, file).toMatchObject({ kind: 'credit_note', number, inclTaxMinor: amount, negated: true });
      expect(invoice.warnings.join(), file).toMatch(/negative total .*: read as a credit note of/);
    }
    // A corrective invoice (384) with a positive total stays an invoice.
    expect(parseEInvoice(fixture('einvoice/kosit-01.18a-INVOICE_uncefact.xml')).invoice).toMatchObject({ kind: 'invoice', typeCode: '384', inclTaxMinor: 1055530n });
  });

  it('17.3 / 17.4 what an e-invoice leaves open is its amount due: prepaid, implied prepaid, rounding, a refund due', () => {
    const base = { currency: 'EUR', prepaidMinor: 0n, prepaidStated: false, roundingMinor: 0n };
    // BASIC WL with a prepaid amount.
    expect(settlementOf({ ...base, inclTaxMinor: 207676n, prepaidMinor: 62300n, prepaidStated: true, dueMinor: 145376n })).toMatchObject({ invoiceAmountMinor: 207676n, paidMinor: 62300n, allocatedMinor: 62300n, openMinor: 145376n, writeOffMinor: 0n, warnings: [] });
    // MINIMUM: amount due below the total, no prepaid element.
    const min = settlementOf({ ...base, inclTaxMinor: 67115n, dueMinor: 47015n });
    expect(min).toMatchObject({ paidMinor: 20100n, openMinor: 47015n });
    expect(renderText(min.warnings[0]!, 'en')).toBe('the amount due €470.15 is lower than the total €671.15 with no prepaid amount stated: the difference of €201.00 is recorded as already paid');
    // Rounding down (BT-114 -0.04) is written off; rounding up is claimed.
    expect(settlementOf({ ...base, inclTaxMinor: 10004n, roundingMinor: -4n, dueMinor: 10000n })).toMatchObject({ invoiceAmountMinor: 10004n, writeOffMinor: 4n, paidMinor: 0n, openMinor: 10000n });
    expect(settlementOf({ ...base, inclTaxMinor: 9998n, roundingMinor: 2n, dueMinor: 10000n })).toMatchObject({ invoiceAmountMinor: 10000n, writeOffMinor: 0n, openMinor: 10000n });
    // More paid than the total: settled, the surplus is the customer's credit (no minor units in words).
    const refund = settlementOf({ ...base, inclTaxMinor: 52987n, prepaidMinor: 105974n, prepaidStated: true, dueMinor: -52987n });
    expect(refund).toMatchObject({ paidMinor: 105974n, allocatedMinor: 52987n, openMinor: 0n });
    expect(refund.warnings.map((w) => renderText(w, 'fr')).join()).toBe('le montant déjà payé (1\u202f059,74\u202f€) dépasse le total (529,87\u202f€) : la facture est soldée et 529,87\u202f€ restent au crédit du client');
  });

  it('17.5 an OFX statement with several transaction lists: every list is read', () => {
    const p = parseOfx(fixture('bank/ofx/oca-test_ofx.ofx'), { filename: 'oca-test_ofx.ofx' });
    const [first] = p.statements;
    expect(first!.lines.map((l) => l.amountMinor)).toEqual([-8000n, -9000n, -10000n, -9000n]);
    expect(renderText(p.warnings[0]!, 'en')).toMatch(/holds 4 transaction lists \(BANKTRANLIST\): all are read/);
  });

  it('17.6 CFONB 120 without line breaks, longer than the detection window and with its last record trimmed, is recognised', () => {
    // A month of the portal's days: the same real day file three times over, records back to back.
    const text = fixture('bank/cfonb120/silarhi-complex-test.txt').toString('latin1').repeat(3);
    const records = text.split(/\r?\n/).filter((l) => l.trim());
    const glued = records.map((l) => l.padEnd(120)).join('').trimEnd();
    expect(glued.length).toBeGreaterThan(8192);
    expect(detectBankFormat(Buffer.from(glued, 'latin1'))).toBe('cfonb120');
    const a = parseCfonb120(text);
    const b = parseBankFile(Buffer.from(glued, 'latin1'));
    expect(b.statements.map((s) => s.lines.map((l) => l.amountMinor))).toEqual(a.statements.map((s) => s.lines.map((l) => l.amountMinor)));
    expect(b.statements.map((s) => s.closingBalance)).toEqual(a.statements.map((s) => s.closingBalance));
  });

  it('17.7 camt.053.001.08 entries without a booking date take the value date, then the statement date, with a warning', () => {
    const p = parseBankFile(fixture('bank/camt053/subite-LT625883379695428516-2024-03-07.xml'));
    expect(p.version).toBe('camt.053.001.08');
    expect(p.statements[0]!.lines.map((l) => [l.bookingDate, l.valueDate, l.amountMinor])).toEqual([
      ['2024-03-07', null, 82853198n],
      ['2024-03-07', null, -20n],
      ['2024-03-07', null, -579397n],
    ]);
    expect(p.warnings.map((w) => renderText(w, 'en'))).toContain('entries with neither booking nor value date (BookgDt, ValDt): 3, dated 2024-03-07, the date of statement MSG66141212-AUHHDI');
  });

  it('17.8 an empty balance amount in an OFX balance block is noted, the transactions are read', () => {
    const p = parseOfx(fixture('bank/ofx/broken-empty_balance.ofx'));
    expect(p.statements[0]!.lines).toHaveLength(1);
    expect(p.statements[0]!.closingBalance).toBeNull();
    expect(renderText(p.warnings[0]!, 'fr')).toMatch(/^solde vide dans OFX\/BANKMSGSRSV1\/STMTTRNRS\/STMTRS\/LEDGERBAL/);
  });

  it('17.10 a bank CSV with a debit/credit indicator column gets its signs from it', () => {
    const p = parseCsvStatement(fixture('bank/csv/oca-debit_credit.csv'));
    // "33.50","D" is money out; "-1,533.50","C" is money in, whatever the sign written.
    expect(p.statements[0]!.lines.map((l) => [l.bookingDate, l.amountMinor])).toEqual([
      ['2018-12-15', -3350n],
      ['2018-12-15', 153350n],
    ]);
    // The same through a mapping naming the column and its values.
    const mapped = parseCsvStatement(fixture('bank/csv/oca-debit_credit.csv'), { mapping: { dateFormat: 'mm/dd/yyyy', debitValues: ['D'], creditValues: ['C'], columns: { bookingDate: 'Date', amount: 'Amount', direction: 'D/C', label: 'Label' } } });
    expect(mapped.statements[0]!.lines.map((l) => l.amountMinor)).toEqual([-3350n, 153350n]);
    const bad = Buffer.from('Date;Montant;Sens\n01/02/2026;10,00;X\n');
    expect(() => parseCsvStatement(bad, { filename: 'b.csv' })).toThrow(/"X" is neither a debit .* nor a credit/);
  });
});

describe.each(dbTargets())('issue 17 findings through the importers on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  const einvoices = (org: string, files: string[], dryRun = false) => importEInvoices(db, org, files.map((f) => ({ path: path(`einvoice/${f}`) })), { dryRun });

  it('17.2 a French avoir sent as a negative 380 becomes a credit note applied to the invoice it corrects', async () => {
    const org = (await createOrganisation(db, { legalName: 'LE FOURNISSEUR' })).id;
    const r = await einvoices(org, ['fnfe-Facture_FR_MINIMUM.pdf', 'fnfe-Avoir_FR_type380_BASIC.pdf']);
    expect(r.problems).toEqual([]);
    expect(r.counts.credit_notes).toEqual({ inserted: 1, updated: 0, unchanged: 0 });
    expect(r.warnings.join('\n')).toMatch(/credit note AV-2017-0005 applied to invoice FA-2017-0010, which it corrects \(€233\.47\)/);
    // 671.15 total, 201.00 paid before (MINIMUM), 233.47 credited: 236.68 open.
    expect(await getInvoiceByNumber(db, org, 'FA-2017-0010')).toMatchObject({ amountInclTaxMinor: 67115n, openMinor: 23668n });
    const again = await einvoices(org, ['fnfe-Facture_FR_MINIMUM.pdf', 'fnfe-Avoir_FR_type380_BASIC.pdf']);
    expect(again.counts.allocations?.inserted ?? 0).toBe(0);
    expect((await getInvoiceByNumber(db, org, 'FA-2017-0010')).openMinor).toBe(23668n);
  });

  it('17.3 more prepaid than the total: the invoice is settled and the surplus stays as the customer credit', async () => {
    const org = (await createOrganisation(db, { legalName: 'Lieferant GmbH' })).id;
    const r = await einvoices(org, ['ferd-EN16931_Einfach_negativePaymentDue.cii.xml']);
    expect(r.problems).toEqual([]);
    expect(r.warnings.join('\n')).toMatch(/the amount already paid \(€1,059\.74\) exceeds the total \(€529\.87\): the invoice is settled and €529\.87 is kept as the customer’s credit/);
    expect(r.warnings.join('\n')).not.toMatch(/minor units/);
    const inv = await getInvoiceByNumber(db, org, '471102');
    expect(inv).toMatchObject({ amountInclTaxMinor: 52987n, openMinor: 0n, status: 'paid' });
    const [p] = await db.query<{ amount_minor: bigint; allocated_minor: bigint }>('SELECT amount_minor, allocated_minor FROM payments WHERE organisation_id = $1', [org]);
    expect(p).toEqual({ amount_minor: 105974n, allocated_minor: 52987n });
    expect(r.documents[0]).toMatchObject({ number: '471102', total: '529.87', amountDue: '0.00' });
  });

  it('17.4 a MINIMUM invoice whose amount due is below its total stays open for the amount due', async () => {
    const org = (await createOrganisation(db, { legalName: 'LE FOURNISSEUR' })).id;
    const r = await einvoices(org, ['mustang-facturFrMinimum.xml']);
    expect(r.problems).toEqual([]);
    expect(await getInvoiceByNumber(db, org, 'FA-2017-0010')).toMatchObject({ amountInclTaxMinor: 67115n, openMinor: 47015n });
    expect(r.warnings.join('\n')).toMatch(/the difference of €201\.00 is recorded as already paid/);
  });

  it('17.11 a due date before the issue date (two CEN examples) is kept with a warning, not refused', async () => {
    const org = (await createOrganisation(db, { legalName: 'Seller' })).id;
    const r = await einvoices(org, ['cen-CII_business_example_02.xml', 'cen-XRechnung-O.xml']);
    expect(r.problems).toEqual([]);
    expect(r.outcome).toBe('imported');
    // The ledger keeps an invoice due no earlier than it is issued: it is due at once.
    expect(await getInvoiceByNumber(db, org, 'INV000013')).toMatchObject({ issueDate: '2013-08-25', dueDate: '2013-08-25' });
    expect(r.warnings.join('\n')).toMatch(/due date 2013-05-10 is before issue date 2013-08-25 \(allowed by EN 16931\): the invoice is due from its issue date/);
    expect(r.documents.find((d) => d.number === 'INV000013')).toMatchObject({ dueDate: '2013-08-25' });
  });

  it('17.13 an e-invoice dry run lists each document read: number, dates, currency, total, amount due, buyer', async () => {
    const org = (await createOrganisation(db, { legalName: 'LE FOURNISSEUR' })).id;
    const r = await einvoices(org, ['fnfe-Facture_FR_MINIMUM.pdf', 'fnfe-Facture_UE_BASICWL.pdf', 'fnfe-Avoir_FR_type381_BASIC.pdf'], true);
    expect(r.outcome).toBe('dry_run');
    expect(r.documents).toEqual([
      { file: path('einvoice/fnfe-Facture_FR_MINIMUM.pdf'), kind: 'invoice', number: 'FA-2017-0010', issueDate: '2017-11-13', dueDate: '2017-12-13', currency: 'EUR', total: '671.15', amountDue: '470.15', buyer: 'Ma jolie boutique' },
      { file: path('einvoice/fnfe-Facture_UE_BASICWL.pdf'), kind: 'invoice', number: 'FA-2017-0008', issueDate: '2017-11-03', dueDate: '2017-12-03', currency: 'EUR', total: '2076.76', amountDue: '1453.76', buyer: 'Me gusta olive' },
      { file: path('einvoice/fnfe-Avoir_FR_type381_BASIC.pdf'), kind: 'credit_note', number: 'AV-2017-0005', issueDate: '2017-11-16', dueDate: null, currency: 'EUR', total: '233.47', amountDue: '0.00', buyer: 'Ma jolie boutique' },
    ]);
    expect(r.documentCount).toBe(3);
    expect(r.openTotal).toEqual({ EUR: '1923.91' });
    await expect(getInvoiceByNumber(db, org, 'FA-2017-0010')).rejects.toThrow(/not found/);
  });

  it('ZUGFeRD 1.0 PDFs import as invoices and credit notes', async () => {
    const org = (await createOrganisation(db, { legalName: 'MUSTERLIEFERANT GMBH' })).id;
    const r = await einvoices(org, ['intarsys-ZUGFeRD_1p0_BASIC_Einfach.pdf', 'intarsys-ZUGFeRD_1p0_COMFORT_Rechnungskorrektur.pdf', 'konik-acme_invoice-42_ZUGFeRD.pdf']);
    expect(r.problems).toEqual([]);
    expect(r.detected.files).toEqual([
      expect.objectContaining({ syntax: 'CII-1', kind: 'invoice', number: '471102', embedded: 'ZUGFeRD-invoice.xml' }),
      expect.objectContaining({ syntax: 'CII-1', kind: 'credit_note', number: 'RK21012345' }),
      expect.objectContaining({ syntax: 'CII-1', kind: 'invoice', number: '20131122-42' }),
    ]);
    expect(await getInvoiceByNumber(db, org, '471102')).toMatchObject({ amountInclTaxMinor: 23562n, openMinor: 23562n });
  });

  it('17.9 / 17.12 / 17.13 a FEC with "-" piece references, an unlettered deposit naming its invoice, and the report of what stays open', async () => {
    const org = (await createOrganisation(db, { legalName: 'Atelier', siren: '732829320' })).id;
    const r = await importFec(db, org, { path: path('fec/123456782FEC20251231.txt') });
    expect(r.problems).toEqual([]);
    // Five invoices would have become one invoice "-": each piece is keyed by its journal and entry.
    expect(r.counts.invoices?.inserted).toBe(4);
    expect(r.warnings.join('\n')).toMatch(/5 customer line\(s\) without a real piece reference \(PieceRef "-"\): the invoice is keyed by its journal and entry number \(e\.g\. VE-1\)/);
    expect(r.warnings.join('\n')).toMatch(/the file name says this is the FEC of SIREN 123456782, but the organisation's SIREN is 732829320/);
    expect(await getInvoiceByNumber(db, org, 'VE-1')).toMatchObject({ amountInclTaxMinor: 120000n, status: 'paid' });
    expect(await getInvoiceByNumber(db, org, 'VE-2')).toMatchObject({ amountInclTaxMinor: 60000n, openMinor: 60000n });
    // "VIR ACOMPTE F-0042", not lettered: a partial payment of F-0042, as the bank matching reads it.
    expect(await getInvoiceByNumber(db, org, 'F-0042')).toMatchObject({ openMinor: 140000n, status: 'partially_paid' });
    expect(await getInvoiceByNumber(db, org, 'F-0043')).toMatchObject({ openMinor: 90000n });
    // "VIR GARAGE BERNARD" names nothing: it stays as the customer's credit.
    const [credit] = await db.query<{ left: bigint }>('SELECT sum(amount_minor - allocated_minor) AS left FROM payments WHERE organisation_id = $1', [org]);
    expect(credit!.left).toBe(15000n);
    expect(r.warnings.join('\n')).toMatch(/1 unlettered payment\(s\) applied to the invoice they name .*; 1 left as the customer's credit/);
    expect(r.documents.map((d) => [d.number, d.customerCode, d.buyer, d.amountDue])).toEqual([
      ['VE-1', 'CLA', 'Boulangerie Arnaud', '0.00'],
      ['VE-2', 'CLA', 'Boulangerie Arnaud', '600.00'],
      ['F-0042', 'CLB', 'Garage Bernard', '1400.00'],
      ['F-0043', 'CLB', 'Garage Bernard', '900.00'],
    ]);
    expect(r.openTotal).toEqual({ EUR: '2900.00' });
  });

  it('17.10 a CSV statement that does not name its account is of the organisation’s only account', async () => {
    const csv = fixture('bank/csv/bsp-csv_french_headers.csv');
    const none = (await createOrganisation(db, { legalName: 'Sans IBAN' })).id;
    await expect(importBankFile(db, none, csv, { filename: 'releve.csv' })).rejects.toThrow(/has no IBAN on record: give the IBAN of the statement's account \(or record it in the settings\)/);
    const one = (await createOrganisation(db, { legalName: 'Un compte', iban: 'FR7630006000011234567890189' })).id;
    const r = await importBankFile(db, one, csv, { filename: 'releve.csv' });
    expect(r.summary.new).toBe(3);
    expect(r.lines[0]!.accountIban).toBe('FR7630006000011234567890189');
    expect(r.warnings).toEqual(["the file does not say its account: FR7630006000011234567890189, the organisation's only account, is used"]);
    // Once the organisation has statements of two accounts, the file must say which.
    await importBankFile(db, one, fixture('bank/csv/bsp-csv_european_decimals.csv'), { filename: 'other.csv', account: 'DE89370400440532013000' });
    await expect(importBankFile(db, one, csv, { filename: 'third.csv' })).rejects.toThrow(/several accounts \(DE89370400440532013000, FR7630006000011234567890189\)/);
  });

  it('camt.054 notifications are stored as statement lines; the end-of-day camt.053 repeating them adds nothing', async () => {
    const org = (await createOrganisation(db, { legalName: 'Notifiée' })).id;
    const n = await importBankFile(db, org, fixture('bank/camt054/jbank-camt_054_credit_notoification_example_finland.xml'), { filename: 'n.xml' });
    expect(n.format).toBe('camt054');
    expect(n.summary.newByCurrency).toEqual({ EUR: { credits: { count: 4, totalMinor: 704800n }, debits: { count: 0, totalMinor: 0n } } });
    const [s] = await db.query<{ format: string }>('SELECT format FROM bank_statements WHERE organisation_id = $1', [org]);
    expect(s!.format).toBe('camt054');
    // The statement of the same day: the same entries under the same bank references.
    const ntf = fixture('bank/camt054/jbank-camt_054_credit_notoification_example_finland.xml').toString('utf8');
    const stmt = ntf.replace(/camt\.054\.001\.02/g, 'camt.053.001.02').replace(/BkToCstmrDbtCdtNtfctn/g, 'BkToCstmrStmt').replace(/<(\/?)Ntfctn>/g, '<$1Stmt>');
    const again = await importBankFile(db, org, Buffer.from(stmt), { filename: 's.xml' });
    expect(again.format).toBe('camt053');
    expect(again.summary).toMatchObject({ read: 4, new: 0, duplicates: 4 });
  });
});
