/**
 * Every real file under test/fixtures (see test/fixtures/SOURCES.md for where each comes from) is
 * read as it is and checked against its own content: for a statement, its entries per currency
 * (count and sum of credits, count and sum of debits); for an e-invoice, its number, dates, total,
 * amount due and buyer. A file the readers refuse is refused with the reason and the place. The
 * sums were checked against the files by an independent reading of their amount elements
 * (camt Ntry/Amt with CdtDbtInd, OFX TRNAMT, CFONB 04 amounts); the e-invoice totals against their
 * GrandTotalAmount/TaxInclusiveAmount and DuePayableAmount/PayableAmount elements.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toDecimalString } from '../src/domain/money.ts';
import { RelanceError } from '../src/errors.ts';
import type { CsvMapping } from '../src/formats/bank/csv.ts';
import { parseBankFile } from '../src/formats/bank/detect.ts';
import { parseEInvoice } from '../src/formats/einvoice/index.ts';

const dir = (d: string) => fileURLToPath(new URL(`./fixtures/${d}/`, import.meta.url));
const read = (d: string, f: string) => readFileSync(`${dir(d)}${f}`);

/** [credits, credit sum, debits, debit sum] per currency, sums as decimals. */
type Sums = Record<string, [number, string, number, string]>;
type BankCase =
  | { file: string; format: string; statements: number; sums: Sums; warnings?: number; mapping?: CsvMapping }
  | { file: string; refused: RegExp; where: { line?: number; path?: string; field?: string }; mapping?: CsvMapping };

const MAPPINGS: Record<string, CsvMapping> = {
  // OCA's headerless export: columns by position.
  'csv/oca-original_currency_no_header.csv': { header: false, dateFormat: 'mm/dd/yyyy', columns: { bookingDate: 1, label: 2, currency: 3, amount: 4, counterpartyName: 6 } },
};

const BANK: BankCase[] = [
  { file: 'camt053/bsp-camt.053.001.02.xml', format: 'camt053', statements: 1, sums: { SEK: [2, '135678.50', 1, '-200000.00'] } },
  { file: 'camt053/bsp-camt053_duplicate_same_day.xml', format: 'camt053', statements: 1, sums: { EUR: [0, '0.00', 2, '-9.00'] } },
  { file: 'camt053/bsp-camt053_garbled_amount.xml', refused: /amount "12\.\.34" is not a decimal number/, where: {"path": "Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt"} },
  { file: 'camt053/bsp-camt053_multicurrency.xml', format: 'camt053', statements: 2, sums: { EUR: [1, '1250.50', 1, '-500.25'], USD: [0, '0.00', 1, '-99.99'] } },
  { file: 'camt053/bsp-camt053_no_namespace.xml', refused: /not an ISO 20022 camt document \(no urn:iso:std:i/, where: {"path": "Document"} },
  { file: 'camt053/camt053.v2.all-balance-types.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v2.five.decimals.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v2.minimal.ultimate.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v2.minimal.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v2.multi.statement.xml', format: 'camt053', statements: 2, sums: { EUR: [1, '8.85', 1, '-7.00'] } },
  { file: 'camt053/camt053.v2.with-account-name.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v2.with-party-ids.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v2.wrong.xml', refused: /no Stmt element: the file holds no statement/, where: {"path": "Document/BkToCstmrStmt"} },
  { file: 'camt053/camt053.v3.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v4.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt053.v8.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '8.85', 0, '0.00'] } },
  { file: 'camt053/camt53.only-Dt-with-DtTm.xml', format: 'camt053', statements: 1, sums: {  } },
  { file: 'camt053/oca-test-camt053-no-ntry.xml', format: 'camt053', statements: 1, sums: {  } },
  { file: 'camt053/oca-test-camt053-txdtls.xml', format: 'camt053', statements: 1, sums: { CHF: [2, '3483.00', 0, '0.00'] } },
  { file: 'camt053/oca-test-camt053.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '1405.31', 3, '-1418.30'] } },
  { file: 'camt053/subite-BE68793230773034-202411.xml', format: 'camt053', statements: 1, sums: { EUR: [4, '180000.00', 264, '-151831.25'] } },
  { file: 'camt053/subite-LT625883379695428516-2024-03-07.xml', format: 'camt053', statements: 2, sums: { EUR: [1, '828531.98', 2, '-5794.17'] }, warnings: 5 },
  { file: 'camt053/subite-LT625883379695428516-2024-03-14.xml', format: 'camt053', statements: 2, sums: { EUR: [4, '928305.49', 10, '-4084748.16'] }, warnings: 5 },
  { file: 'camt053/subite-account_statement.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '789904.40', 2, '-789904.40'] } },
  { file: 'camt053/viafintech-valid_example.xml', format: 'camt053', statements: 1, sums: { EUR: [1, '1.00', 4, '-11.00'] } },
  { file: 'camt053/viafintech-valid_example_v4.xml', format: 'camt053', statements: 1, sums: { CHF: [24, '1810.56', 8, '-1272.95'] } },
  { file: 'camt053/viafintech-valid_example_v8.xml', format: 'camt053', statements: 1, sums: { CHF: [2, '563.25', 0, '0.00'], EUR: [0, '0.00', 1, '-20.97'] } },
  { file: 'camt053/viafintech-valid_example_with_batch.xml', format: 'camt053', statements: 1, sums: { EUR: [2, '7688.00', 1, '-4753.74'] } },
  { file: 'camt053/viafintech-valid_example_with_datetime.xml', format: 'camt053', statements: 1, sums: { USD: [1, '195.86', 0, '0.00'] } },
  { file: 'camt053/viafintech-valid_example_with_instdamt.xml', format: 'camt053', statements: 1, sums: { CHF: [1, '4500.00', 0, '0.00'] } },
  { file: 'camt054/camt054.v2.with-account-name.xml', format: 'camt054', statements: 1, sums: { SEK: [0, '0.00', 1, '-200000.00'] }, warnings: 1 },
  { file: 'camt054/camt054.v2.xml', format: 'camt054', statements: 1, sums: { SEK: [0, '0.00', 1, '-200000.00'] } },
  { file: 'camt054/camt054.v4.xml', format: 'camt054', statements: 1, sums: { SEK: [0, '0.00', 1, '-200000.00'] } },
  { file: 'camt054/camt054.v8-with-UETR.xml', format: 'camt054', statements: 1, sums: { SEK: [0, '0.00', 1, '-200000.00'] }, warnings: 1 },
  { file: 'camt054/camt054.v8-with-financial-institution.xml', format: 'camt054', statements: 1, sums: { SEK: [0, '0.00', 1, '-200000.00'] }, warnings: 1 },
  { file: 'camt054/camt054.v8.xml', format: 'camt054', statements: 1, sums: { SEK: [0, '0.00', 1, '-200000.00'] } },
  { file: 'camt054/jbank-camt_054_credit_notoification_example_finland.xml', format: 'camt054', statements: 1, sums: { EUR: [4, '7048.00', 0, '0.00'] } },
  { file: 'camt054/oca-test-camt054.xml', format: 'camt054', statements: 1, sums: { EUR: [1, '5.00', 0, '0.00'] } },
  { file: 'camt054/subite-LT809872649478701594-2024-03-07.xml', format: 'camt054', statements: 1, sums: {  }, warnings: 1 },
  { file: 'camt054/subite-LT809872649478701594-2024-03-08.xml', format: 'camt054', statements: 1, sums: {  }, warnings: 1 },
  { file: 'camt054/subite-LT809872649478701594-2024-03-11.xml', format: 'camt054', statements: 1, sums: {  }, warnings: 1 },
  { file: 'camt054/subite-LT809872649478701594-2024-03-12.xml', format: 'camt054', statements: 1, sums: {  }, warnings: 1 },
  { file: 'camt054/viafintech-valid_example.xml', format: 'camt054', statements: 1, sums: { CHF: [3, '80.56', 2, '-21.53'] } },
  { file: 'cfonb120/example.txt', format: 'cfonb120', statements: 2, sums: { EUR: [1, '97.49', 5, '-70.81'] } },
  { file: 'cfonb120/invalid_date.txt', refused: /old balance date " {2}CART" is not a date \(JJMMAA /, where: {"line": 1} },
  { file: 'cfonb120/operation_out_of_statement.txt', refused: /movement \(04\) outside a statement: no old-balanc/, where: {"line": 1} },
  { file: 'cfonb120/pennylane-end_of_statement_without_beginning.txt', refused: /new balance -€241\.21 differs from old balance \+ /, where: {"line": 6} },
  { file: 'cfonb120/pennylane-new_statement_without_previous_ended.txt', refused: /new statement \(01\) before the previous one was c/, where: {"line": 6} },
  { file: 'cfonb120/pennylane-operation.txt', refused: /movement \(04\) outside a statement: no old-balanc/, where: {"line": 1} },
  { file: 'cfonb120/pennylane-operation_already_defined.txt', refused: /movement \(04\) outside a statement: no old-balanc/, where: {"line": 1} },
  { file: 'cfonb120/pennylane-operation_detail_without_operation.txt', refused: /complement \(05\) without a movement \(04\) before i/, where: {"line": 3} },
  { file: 'cfonb120/pennylane-operation_unstarted.txt', refused: /unrecognised statement format \(expected camt\.053/, where: {"line": 1} },
  { file: 'cfonb120/silarhi-cfonb.240-complex-test.txt', refused: /unrecognised statement format \(expected camt\.053/, where: {"line": 1} },
  { file: 'cfonb120/silarhi-complex-test.txt', format: 'cfonb120', statements: 8, sums: { EUR: [0, '0.00', 5, '-5210.90'] } },
  { file: 'cfonb120/silarhi-non-strict-test.txt', format: 'cfonb120', statements: 8, sums: { EUR: [0, '0.00', 5, '-5210.90'] } },
  { file: 'cfonb120/silarhi-simple-test.txt', format: 'cfonb120', statements: 1, sums: {  } },
  { file: 'cfonb120/silarhi-test-unused-parts.txt', format: 'cfonb120', statements: 8, sums: {  } },
  { file: 'csv/bsp-csv_european_decimals.csv', format: 'csv', statements: 1, sums: { EUR: [1, '3500.00', 2, '-1239.06'] } },
  { file: 'csv/bsp-csv_french_headers.csv', format: 'csv', statements: 1, sums: { EUR: [1, '3500.00', 2, '-1239.06'] } },
  { file: 'csv/bsp-csv_garbled_amount.csv', refused: /"12\.\.34" is not an amount/, where: {"line": 3, "field": "amount"} },
  { file: 'csv/bsp-csv_spanish_headers.csv', format: 'csv', statements: 1, sums: { EUR: [1, '3500.00', 2, '-1239.06'] } },
  { file: 'csv/bsp-sample_split_amounts.csv', format: 'csv', statements: 1, sums: { EUR: [1, '1250.50', 1, '-200.25'] } },
  { file: 'csv/bsp-sample_statement.csv', format: 'csv', statements: 1, sums: { EUR: [1, '2500.00', 1, '-1200.00'] } },
  { file: 'csv/oca-balance.csv', format: 'csv', statements: 1, sums: { EUR: [1, '1533.50', 1, '-33.50'] }, warnings: 1 },
  { file: 'csv/oca-debit_credit.csv', format: 'csv', statements: 1, sums: { EUR: [1, '1533.50', 1, '-33.50'] }, warnings: 1 },
  { file: 'csv/oca-debit_credit_amount.csv', format: 'csv', statements: 1, sums: { EUR: [2, '33.50', 2, '-1533.50'] }, warnings: 1 },
  { file: 'csv/oca-empty_statement_en.csv', format: 'csv', statements: 1, sums: {  } },
  { file: 'csv/oca-meta_data_separated_credit_debit.csv', refused: /"Balance at start of period" is not a date \(dd\/m/, where: {"line": 10, "field": "bookingDate"} },
  { file: 'csv/oca-multi_currency.csv', format: 'csv', statements: 1, sums: { USD: [0, '0.00', 1, '-33.50'], EUR: [1, '1525.00', 0, '0.00'] }, warnings: 1 },
  { file: 'csv/oca-original_currency.csv', format: 'csv', statements: 1, sums: { EUR: [1, '1525.00', 0, '0.00'] }, warnings: 1 },
  { file: 'csv/oca-original_currency_empty.csv', format: 'csv', statements: 1, sums: { EUR: [1, '1525.00', 0, '0.00'] }, warnings: 1 },
  { file: 'csv/oca-original_currency_no_header.csv', format: 'csv', statements: 1, sums: { EUR: [1, '1525.00', 0, '0.00'] } },
  { file: 'csv/oca-sample_statement_credit_card_inverse_sign_en.csv', format: 'csv', statements: 1, sums: { USD: [1, '33.50', 0, '0.00'], EUR: [0, '0.00', 1, '-1525.00'] }, warnings: 1 },
  { file: 'csv/oca-sample_statement_en.csv', format: 'csv', statements: 1, sums: { USD: [0, '0.00', 1, '-33.50'], EUR: [1, '1525.00', 0, '0.00'] }, warnings: 1 },
  { file: 'ofx/account_listing_aggregation.ofx', refused: /no statement \(STMTRS or CCSTMTRS\) in the file/, where: {"line": 11, "path": "OFX"} },
  { file: 'ofx/anzcc.ofx', format: 'ofx', statements: 1, sums: { AUD: [0, '0.00', 1, '-5.50'] } },
  { file: 'ofx/bank_medium.ofx', format: 'ofx', statements: 1, sums: { CAD: [0, '0.00', 3, '-345.27'] } },
  { file: 'ofx/bank_small.ofx', refused: /no statement \(STMTRS or CCSTMTRS\) in the file/, where: {"line": 11, "path": "OFX"} },
  { file: 'ofx/broken-date_missing.ofx', refused: /DTPOSTED \(booking date\) is missing/, where: {"line": 33, "path": "OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS/BANKTRANLIST/STMTTRN[1]"} },
  { file: 'ofx/broken-decimal_error.ofx', refused: /DTPOSTED \(booking date\) "201120000000" is not a /, where: {"line": 34, "path": "OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS/BANKTRANLIST/STMTTRN[1]"} },
  { file: 'ofx/broken-empty_balance.ofx', format: 'ofx', statements: 1, sums: { CAD: [1, '120.00', 0, '0.00'] }, warnings: 1 },
  { file: 'ofx/bsp-sample.ofx', format: 'ofx', statements: 1, sums: { EUR: [1, '1250.50', 1, '-80.25'] } },
  { file: 'ofx/bsp-sample.qfx', format: 'ofx', statements: 1, sums: { USD: [0, '0.00', 1, '-15.00'] } },
  { file: 'ofx/checking.ofx', format: 'ofx', statements: 1, sums: { USD: [1, '0.01', 2, '-59.51'] } },
  { file: 'ofx/error_message.ofx', refused: /no statement \(STMTRS or CCSTMTRS\) in the file/, where: {"line": 3, "path": "OFX"} },
  { file: 'ofx/investment_medium.ofx', refused: /no statement \(STMTRS or CCSTMTRS\) in the file/, where: {"line": 10, "path": "OFX"} },
  { file: 'ofx/multiple_accounts.ofx', format: 'ofx', statements: 2, sums: {  } },
  { file: 'ofx/multiple_accounts2.ofx', format: 'ofx', statements: 2, sums: {  } },
  { file: 'ofx/oca-test_ofx.ofx', format: 'ofx', statements: 2, sums: { USD: [0, '0.00', 4, '-360.00'] }, warnings: 1 },
  { file: 'ofx/oca-test_ofx_iban.ofx', format: 'ofx', statements: 2, sums: { USD: [0, '0.00', 4, '-360.00'] }, warnings: 1 },
  { file: 'ofx/oca-test_ofx_wrong.ofx', refused: /CURDEF "" is not a currency code/, where: {"line": 21, "path": "OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS"} },
  { file: 'ofx/ofx-v102-empty-tags.ofx', refused: /CURDEF "" is not a currency code/, where: {"line": 23, "path": "OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS"} },
  { file: 'ofx/signon_success.ofx', refused: /no statement \(STMTRS or CCSTMTRS\) in the file/, where: {"line": 11, "path": "OFX"} },
  { file: 'ofx/suncorp.ofx', format: 'ofx', statements: 1, sums: { AUD: [0, '0.00', 1, '-16.85'] } },
];

describe('real bank files, each checked against its own content', () => {
  it('the fixtures hold at least 10 real files of each format beyond the first shared ones', () => {
    for (const f of ['camt053', 'camt054', 'cfonb120', 'ofx', 'csv']) {
      const files = readdirSync(dir(`bank/${f}`));
      expect(files.length, f).toBeGreaterThanOrEqual(f === 'camt053' ? 14 : f === 'cfonb120' ? 13 : f === 'ofx' ? 15 : 10);
    }
    // Every file in the folders is in the table below, and the other way round.
    const listed = new Set(BANK.map((c) => c.file));
    for (const f of ['camt053', 'camt054', 'cfonb120', 'ofx', 'csv']) for (const n of readdirSync(dir(`bank/${f}`))) expect(listed.has(`${f}/${n}`), `${f}/${n}`).toBe(true);
  });

  it.each(BANK)('$file', (c) => {
    const [folder, name] = c.file.split('/') as [string, string];
    const mapping = c.mapping ?? MAPPINGS[c.file];
    const run = () => parseBankFile(read(`bank/${folder}`, name), { filename: name, mapping });
    if ('refused' in c) {
      let err: unknown;
      try {
        run();
      } catch (e) {
        err = e;
      }
      expect(err, 'refused').toBeInstanceOf(RelanceError);
      const e = err as RelanceError;
      expect(e.code).toBe('parse');
      expect(e.message).toMatch(c.refused);
      expect(e.where).toMatchObject({ file: name, ...c.where });
      return;
    }
    const p = run();
    expect(p.format).toBe(c.format);
    expect(p.statements).toHaveLength(c.statements);
    const sums: Sums = {};
    for (const s of p.statements) {
      for (const l of s.lines) {
        const t = (sums[l.currency] ??= [0, '0', 0, '0']);
        const i = l.amountMinor >= 0n ? 0 : 2;
        t[i] = (t[i] as number) + 1;
        t[i + 1] = String(BigInt(t[i + 1] as string) + l.amountMinor);
      }
    }
    for (const [cur, t] of Object.entries(sums)) sums[cur] = [t[0], toDecimalString(BigInt(t[1]), cur), t[2], toDecimalString(BigInt(t[3]), cur)];
    expect(sums).toEqual(c.sums);
    expect(p.warnings.length).toBe(c.warnings ?? 0);
  });
});

interface EInvoiceCase {
  file: string;
  syntax: string;
  kind: 'invoice' | 'credit_note';
  number: string;
  issue: string;
  due: string | null;
  currency: string;
  total: string;
  amountDue: string;
  buyer: string;
}

const EINVOICES: EInvoiceCase[] = [
  { file: 'cen-BIS3_Invoice_negativ.XML', syntax: 'UBL', kind: 'credit_note', number: "12345", issue: '2019-01-25', due: '2019-02-24', currency: 'DKK', total: '782179.43', amountDue: '782179.43', buyer: "Company B" },
  { file: 'cen-CII_business_example_02.xml', syntax: 'CII', kind: 'invoice', number: "INV000013", issue: '2013-08-25', due: '2013-05-10', currency: 'EUR', total: '11.90', amountDue: '11.90', buyer: "Buyercompany ltd" },
  { file: 'cen-CII_example1.xml', syntax: 'CII', kind: 'invoice', number: "12115118", issue: '2015-01-09', due: '2015-01-09', currency: 'EUR', total: '250.33', amountDue: '250.33', buyer: "ODIN 59" },
  { file: 'cen-CII_example5.xml', syntax: 'CII', kind: 'invoice', number: "TOSL110", issue: '2013-04-10', due: '2013-05-10', currency: 'DKK', total: '4675.00', amountDue: '2337.50', buyer: "Buyercompany ltd" },
  { file: 'cen-XRechnung-O.xml', syntax: 'CII', kind: 'invoice', number: "150377292", issue: '2021-01-14', due: '2021-01-01', currency: 'EUR', total: '385544.60', amountDue: '385544.60', buyer: "XX" },
  { file: 'cen-guide-example3.xml', syntax: 'UBL', kind: 'invoice', number: "TOSL108", issue: '2013-04-10', due: '2013-05-10', currency: 'DKK', total: '1125.00', amountDue: '1125.00', buyer: "Buyercompany ltd" },
  { file: 'cen-ubl-tc434-creditnote1.xml', syntax: 'UBL', kind: 'credit_note', number: "018304 / 28865", issue: '2019-09-23', due: null, currency: 'EUR', total: '100.11', amountDue: '100.11', buyer: "My Customer Company" },
  { file: 'cen-ubl-tc434-example1.xml', syntax: 'UBL', kind: 'invoice', number: "12115118", issue: '2015-01-09', due: '2015-01-09', currency: 'EUR', total: '250.33', amountDue: '250.33', buyer: "ODIN 59" },
  { file: 'factur-x-basic.xml', syntax: 'CII', kind: 'invoice', number: "F20260023", issue: '2026-01-31', due: '2026-03-02', currency: 'EUR', total: '104.90', amountDue: '104.90', buyer: "LE CLIENT" },
  { file: 'factur-x-en16931.xml', syntax: 'CII', kind: 'invoice', number: "F20260023", issue: '2026-01-31', due: '2026-03-02', currency: 'EUR', total: '104.90', amountDue: '104.90', buyer: "LE CLIENT" },
  { file: 'factur-x-extended.xml', syntax: 'CII', kind: 'invoice', number: "F20260023", issue: '2026-01-31', due: '2026-03-02', currency: 'EUR', total: '104.90', amountDue: '104.90', buyer: "LE CLIENT" },
  { file: 'factur-x-invoice_EN16931.pdf', syntax: 'CII', kind: 'invoice', number: "F20260023", issue: '2026-01-31', due: '2026-03-02', currency: 'EUR', total: '104.90', amountDue: '104.90', buyer: "LE CLIENT" },
  { file: 'factur-x-minimum.xml', syntax: 'CII', kind: 'invoice', number: "F20260023", issue: '2026-01-31', due: null, currency: 'EUR', total: '104.90', amountDue: '104.90', buyer: "LE CLIENT" },
  { file: 'ferd-EN16931_1_Teilrechnung.cii.xml', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-06-05', due: null, currency: 'EUR', total: '197.65', amountDue: '147.65', buyer: "Kunden AG Mitte" },
  { file: 'ferd-EN16931_Einfach.cii.xml', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '529.87', amountDue: '529.87', buyer: "Kunden AG Mitte" },
  { file: 'ferd-EN16931_Einfach_DueDate.pdf', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-03-05', due: '2019-03-05', currency: 'EUR', total: '529.87', amountDue: '529.87', buyer: "Kunden AG Mitte" },
  { file: 'ferd-EN16931_Einfach_negativePaymentDue.cii.xml', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '529.87', amountDue: '-529.87', buyer: "Kunden AG Mitte" },
  { file: 'ferd-EN16931_Einfach_negativePaymentDue.ubl.xml', syntax: 'UBL', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '529.87', amountDue: '-529.87', buyer: "Kunden AG Mitte" },
  { file: 'ferd-EN16931_Gutschrift.ubl.xml', syntax: 'UBL', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '529.87', amountDue: '529.87', buyer: "Kunden AG Mitte" },
  { file: 'ferd-EN16931_Rechnungskorrektur.cii.xml', syntax: 'CII', kind: 'credit_note', number: "RK21012345", issue: '2018-09-16', due: null, currency: 'EUR', total: '8.79', amountDue: '8.79', buyer: "MUSTER-KUNDE GMBH" },
  { file: 'fnfe-Avoir_FR_type380_BASIC.pdf', syntax: 'CII', kind: 'credit_note', number: "AV-2017-0005", issue: '2017-11-16', due: '2017-11-16', currency: 'EUR', total: '233.47', amountDue: '233.47', buyer: "Ma jolie boutique" },
  { file: 'fnfe-Avoir_FR_type381_BASIC.pdf', syntax: 'CII', kind: 'credit_note', number: "AV-2017-0005", issue: '2017-11-16', due: '2017-11-16', currency: 'EUR', total: '233.47', amountDue: '233.47', buyer: "Ma jolie boutique" },
  { file: 'fnfe-Facture_FR_MINIMUM.pdf', syntax: 'CII', kind: 'invoice', number: "FA-2017-0010", issue: '2017-11-13', due: null, currency: 'EUR', total: '671.15', amountDue: '470.15', buyer: "Ma jolie boutique" },
  { file: 'fnfe-Facture_UE_BASICWL.pdf', syntax: 'CII', kind: 'invoice', number: "FA-2017-0008", issue: '2017-11-03', due: '2017-12-03', currency: 'EUR', total: '2076.76', amountDue: '1453.76', buyer: "Me gusta olive" },
  { file: 'horstoeko-pdf_zf_en16931_1.pdf', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '529.87', amountDue: '529.87', buyer: "Kunden AG Mitte" },
  { file: 'horstoeko-xml_basic_1.xml', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2020-03-05', due: '2020-04-04', currency: 'EUR', total: '235.62', amountDue: '235.62', buyer: "Kunden AG Mitte" },
  { file: 'horstoeko-xml_en16931_1.xml', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '529.87', amountDue: '529.87', buyer: "Kunden AG Mitte" },
  { file: 'horstoeko-xml_extended_1.xml', syntax: 'CII', kind: 'invoice', number: "KR87654321012", issue: '2018-10-06', due: null, currency: 'EUR', total: '480.22', amountDue: '480.22', buyer: "MUSTER-KUNDE GMBH" },
  { file: 'intarsys-ZUGFeRD_1p0_BASIC_Einfach.pdf', syntax: 'CII-1', kind: 'invoice', number: "471102", issue: '2013-03-05', due: null, currency: 'EUR', total: '235.62', amountDue: '235.62', buyer: "Kunden AG Mitte" },
  { file: 'intarsys-ZUGFeRD_1p0_COMFORT_Haftpflichtversicherung_Versicherungssteuer.pdf', syntax: 'CII-1', kind: 'invoice', number: "01.234.567.8-2014-1", issue: '2014-01-24', due: '2013-12-06', currency: 'EUR', total: '59.50', amountDue: '59.50', buyer: "Herrn Max Mustermann" },
  { file: 'intarsys-ZUGFeRD_1p0_COMFORT_Rechnungskorrektur.pdf', syntax: 'CII-1', kind: 'credit_note', number: "RK21012345", issue: '2013-09-16', due: null, currency: 'EUR', total: '8.79', amountDue: '0.00', buyer: "MUSTER-KUNDE GMBH" },
  { file: 'intarsys-zugferd_2p0_MINIMUM.pdf', syntax: 'CII', kind: 'invoice', number: "471102", issue: '2018-03-05', due: null, currency: 'EUR', total: '235.62', amountDue: '235.62', buyer: "Kunden AG Mitte" },
  { file: 'konik-Musterrechnung_Versicherung_Haftpflicht.xml', syntax: 'CII-1', kind: 'invoice', number: "01.234.567.8-2014-1", issue: '2014-01-24', due: '2013-12-06', currency: 'EUR', total: '59.50', amountDue: '59.50', buyer: "Herrn Max Mustermann" },
  { file: 'konik-acme_invoice-42_ZUGFeRD.pdf', syntax: 'CII-1', kind: 'invoice', number: "20131122-42", issue: '2014-11-08', due: null, currency: 'EUR', total: '119.00', amountDue: '119.00', buyer: "Buyer Inc." },
  { file: 'kosit-01.01a-INVOICE_ubl.xml', syntax: 'UBL', kind: 'invoice', number: "123456XX", issue: '2016-04-04', due: null, currency: 'EUR', total: '336.90', amountDue: '336.90', buyer: "[Buyer name]" },
  { file: 'kosit-01.01a-INVOICE_uncefact.xml', syntax: 'CII', kind: 'invoice', number: "123456XX", issue: '2016-04-04', due: null, currency: 'EUR', total: '336.90', amountDue: '336.90', buyer: "[Buyer name]" },
  { file: 'kosit-01.18a-INVOICE_ubl.xml', syntax: 'UBL', kind: 'invoice', number: "PRG1502112", issue: '2015-04-24', due: null, currency: 'EUR', total: '10555.30', amountDue: '10555.30', buyer: "[Buyer name]" },
  { file: 'kosit-01.18a-INVOICE_uncefact.xml', syntax: 'CII', kind: 'invoice', number: "PRG1502112", issue: '2015-04-24', due: null, currency: 'EUR', total: '10555.30', amountDue: '10555.30', buyer: "[Buyer name]" },
  { file: 'kosit-03.03a-INVOICE_uncefact.xml', syntax: 'CII', kind: 'invoice', number: "0000123456", issue: '2017-12-11', due: '2018-01-10', currency: 'EUR', total: '10686.20', amountDue: '10686.20', buyer: "[Buyer name]" },
  { file: 'mustang-facturFrMinimum.xml', syntax: 'CII', kind: 'invoice', number: "FA-2017-0010", issue: '2017-11-13', due: null, currency: 'EUR', total: '671.15', amountDue: '470.15', buyer: "Ma jolie boutique" },
  { file: 'mustang-testout-ZF2PushCorrection.xml', syntax: 'CII', kind: 'credit_note', number: "123", issue: '2020-12-22', due: null, currency: 'EUR', total: '3.57', amountDue: '3.57', buyer: "Franz M\u00fcller" },
  { file: 'mustang-testout-ZF2PushCreditNote.xml', syntax: 'CII', kind: 'credit_note', number: "123", issue: '2020-12-22', due: '2020-12-22', currency: 'EUR', total: '3.57', amountDue: '3.57', buyer: "Franz M\u00fcller" },
  { file: 'mustang-ubl-creditnote.xml', syntax: 'UBL', kind: 'credit_note', number: "TOSL108", issue: '2009-12-15', due: null, currency: 'EUR', total: '1729.00', amountDue: '729.00', buyer: "The buyercompany inc." },
  { file: 'ubl-21-en16931.xml', syntax: 'UBL', kind: 'invoice', number: "F124212", issue: '2026-06-17', due: '2026-07-16', currency: 'EUR', total: '308.03', amountDue: '208.03', buyer: "Ma jolie boutique SARL" },
];

describe('real e-invoices, each checked against its own content', () => {
  it('the fixtures hold at least 30 e-invoices beyond the first shared ones, from at least 5 producers', () => {
    const files = readdirSync(dir('einvoice'));
    const shared = files.filter((f) => /^(factur-x-|ubl-21-)/.test(f));
    expect(files.length - shared.length).toBeGreaterThanOrEqual(30);
    const producers = new Set(files.filter((f) => !shared.includes(f)).map((f) => f.split('-')[0]));
    expect(producers.size).toBeGreaterThanOrEqual(5);
    expect(new Set(EINVOICES.map((c) => c.file))).toEqual(new Set(files));
  });

  it.each(EINVOICES)('$file', (c) => {
    const { invoice: i } = parseEInvoice(read('einvoice', c.file), c.file);
    expect({
      syntax: i.syntax,
      kind: i.kind,
      number: i.number,
      issue: i.issueDate,
      due: i.dueDate,
      currency: i.currency,
      total: toDecimalString(i.inclTaxMinor, i.currency),
      amountDue: toDecimalString(i.dueMinor, i.currency),
      buyer: i.buyer.name,
    }).toEqual({ syntax: c.syntax, kind: c.kind, number: c.number, issue: c.issue, due: c.due, currency: c.currency, total: c.total, amountDue: c.amountDue, buyer: c.buyer });
  });
});
