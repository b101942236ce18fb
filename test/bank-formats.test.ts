import { fileURLToPath } from 'node:url';
import { parse as csvParse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { creditorReference } from '../src/domain/identifiers.ts';
import { RelanceError } from '../src/errors.ts';
import { parseCamt053 } from '../src/formats/bank/camt053.ts';
import { parseCfonb120 } from '../src/formats/bank/cfonb120.ts';
import { parseCsvStatement } from '../src/formats/bank/csv.ts';
import { detectBankFormat, parseBankFile } from '../src/formats/bank/detect.ts';
import { parseOfx } from '../src/formats/bank/ofx.ts';

const FIX = fileURLToPath(new URL('./fixtures/bank', import.meta.url));
const fixture = (p: string) => readFileSync(join(FIX, p));

function rejection(fn: () => unknown): RelanceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RelanceError);
    expect((e as RelanceError).code).toBe('parse');
    return e as RelanceError;
  }
  throw new Error('expected the file to be rejected');
}

describe('format detection', () => {
  it.each([
    ['camt053/camt053.v2.minimal.xml', 'camt053'],
    ['camt053/camt053.v8.xml', 'camt053'],
    ['camt053/camt053.v2.wrong.xml', 'camt053'],
    ['cfonb120/example.txt', 'cfonb120'],
    ['cfonb120/operation_out_of_statement.txt', 'cfonb120'],
    ['ofx/anzcc.ofx', 'ofx'],
    ['ofx/bank_medium.ofx', 'ofx'],
    ['ofx/checking.ofx', 'ofx'],
    ['ofx/suncorp.ofx', 'ofx'],
    ['ofx/broken-date_missing.ofx', 'ofx'],
  ])('%s is %s', (file, format) => {
    expect(detectBankFormat(fixture(file))).toBe(format);
  });

  it('recognises CSV and refuses what it cannot name', () => {
    expect(detectBankFormat('Date;Libellé;Montant\n01/02/2026;VIR;12,00\n')).toBe('csv');
    const e = rejection(() => parseBankFile(Buffer.from('hello world'), { filename: 'x.bin' }));
    expect(e.message).toMatch(/unrecognised statement format/);
  });
});

describe('camt.053', () => {
  it('reads the v2 minimal statement: amount, sign, dates, debtor, structured reference', () => {
    const r = parseCamt053(fixture('camt053/camt053.v2.minimal.xml'));
    expect(r.version).toBe('camt.053.001.02');
    expect(r.statements).toHaveLength(1);
    const s = r.statements[0]!;
    expect(s.id).toBe('253EURNL26VAYB8060476890');
    expect(s.accountIban).toBe('NL26VAYB8060476890');
    expect(s.openingBalance).toEqual({ amountMinor: 1815n, date: '2014-12-30' });
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({
      bookingDate: '2014-12-31',
      valueDate: '2015-01-02',
      amountMinor: 885n,
      currency: 'EUR',
      counterpartyName: 'NAME NAME',
      counterpartyIban: 'NL56AGDH9619008421',
      creditorReference: '4654654654654654',
      remittanceText: null,
      reversal: false,
    });
  });

  it('reads several statements in one file, with credit and debit signs and texts', () => {
    const r = parseCamt053(fixture('camt053/camt053.v2.multi.statement.xml'));
    expect(r.statements.map((s) => s.id)).toEqual(['253EURNL26VAYB8060476890', '254EURNL26VAYB8060476890']);
    const [a, b] = r.statements.map((s) => s.lines[0]!);
    expect(a).toMatchObject({ amountMinor: 885n, remittanceText: 'Transaction Description 1', endToEndId: '000000001' });
    // A debit: the counterparty is the creditor.
    expect(b).toMatchObject({ amountMinor: -700n, remittanceText: 'Transaction Description 2', counterpartyName: 'Company Name 2' });
  });

  it('reads v8: Sts/Cd, BookgDt/DtTm, Dbtr/Pty/Nm, Acct/Id/Othr, AcctSvcrRef', () => {
    const r = parseCamt053(fixture('camt053/camt053.v8.xml'));
    expect(r.version).toBe('camt.053.001.08');
    const l = r.statements[0]!.lines[0]!;
    expect(l).toMatchObject({
      bookingDate: '2014-12-31',
      amountMinor: 885n,
      counterpartyName: 'NAME NAME',
      entryReference: 'AAAASESS-FP-CN_98765/01',
      endToEndId: 'MUELL/FINP/RA12345',
      transactionCode: 'PMNT-RCDT-BOOK',
      accountIban: 'NL26VAYB8060476890',
    });
  });

  it('rejects the file without a statement, naming the element', () => {
    const e = rejection(() => parseCamt053(fixture('camt053/camt053.v2.wrong.xml'), { filename: 'camt053.v2.wrong.xml' }));
    expect(e.where?.path).toBe('Document/BkToCstmrStmt');
    expect(e.message).toMatch(/no Stmt/);
  });

  const v13 = (entries: string) => `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.13"><BkToCstmrStmt><GrpHdr><MsgId>1</MsgId></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>${entries}</Stmt></BkToCstmrStmt></Document>`;

  it('reads v13: a batch entry split into its transactions, RF reference, reversal', () => {
    const rf = creditorReference('F-2026-00042');
    const xml = v13(`
      <Ntry><NtryRef>N1</NtryRef><Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>BATCH-9</AcctSvcrRef>
        <NtryDtls>
          <TxDtls><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>ACME SARL</Nm></Pty></Dbtr>
            <DbtrAcct><Id><IBAN>DE89 3704 0044 0532 0130 00</IBAN></Id></DbtrAcct></RltdPties>
            <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>${rf}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
          <TxDtls><Amt Ccy="EUR">200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>BETA SAS</Nm></Pty></Dbtr></RltdPties>
            <RmtInf><Ustrd>FACT F-2026-00043</Ustrd><Ustrd>ET F-2026-00044</Ustrd></RmtInf></TxDtls>
        </NtryDtls></Ntry>
      <Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-03-05</Dt></BookgDt><AcctSvcrRef>REV-1</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>ACME SARL</Nm></Pty></Dbtr></RltdPties></TxDtls></NtryDtls></Ntry>
      <Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2026-03-06</Dt></BookgDt></Ntry>`);
    const r = parseCamt053(xml);
    expect(r.version).toBe('camt.053.001.13');
    const lines = r.statements[0]!.lines;
    expect(lines).toHaveLength(3); // the pending entry is not booked money
    expect(lines[0]).toMatchObject({ amountMinor: 10000n, counterpartyName: 'ACME SARL', counterpartyIban: 'DE89370400440532013000', creditorReference: rf, entryReference: 'BATCH-9/1' });
    expect(lines[1]).toMatchObject({ amountMinor: 20000n, counterpartyName: 'BETA SAS', remittanceText: 'FACT F-2026-00043 ET F-2026-00044', entryReference: 'BATCH-9/2' });
    expect(lines[2]).toMatchObject({ amountMinor: -10000n, reversal: true, counterpartyName: 'ACME SARL' });
  });

  it('names the element of a bad amount or date, and refuses other camt messages', () => {
    const bad = v13('<Ntry><Amt Ccy="EUR">1O.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-02</Dt></BookgDt></Ntry>');
    expect(rejection(() => parseCamt053(bad)).where?.path).toBe('Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt');
    const badDate = v13('<Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-02-30</Dt></BookgDt></Ntry>');
    expect(rejection(() => parseCamt053(badDate)).where?.path).toBe('Document/BkToCstmrStmt/Stmt[1]/Ntry[1]/BookgDt/Dt');
    expect(rejection(() => parseCamt053(v13('').replace('camt.053.001.13', 'camt.052.001.08'))).message).toMatch(/camt\.053 or camt\.054 expected/);
    expect(rejection(() => parseCamt053('<Document><BkToCstmrStmt>')).message).toMatch(/malformed XML/);
  });
});

describe('strict XML reader', () => {
  it('reports the line of a mismatched tag, refuses DTDs, decodes entities', async () => {
    const { readXml, XmlSyntaxError } = await import('../src/formats/xml.ts');
    expect(() => readXml('<a>\n<b>\n</a>')).toThrow(XmlSyntaxError);
    try {
      readXml('<a>\n<b>\n</a>');
    } catch (e) {
      expect((e as InstanceType<typeof XmlSyntaxError>).line).toBe(3);
    }
    expect(() => readXml('<!DOCTYPE a [<!ENTITY x "y">]><a/>')).toThrow(/DOCTYPE/);
    expect(readXml('<p:a xmlns:p="urn:x"><p:b k="1">A &amp; B</p:b><c>&#233;</c><c/></p:a>')).toEqual({ a: { b: { '@k': '1', '#text': 'A & B' }, c: ['é', ''] } });
  });
});

describe('CFONB 120', () => {
  it('reads example.txt: two statements, signed amounts, 05 complements, balances', () => {
    const r = parseCfonb120(fixture('cfonb120/example.txt'));
    expect(r.statements).toHaveLength(2);
    const [s1, s2] = r.statements;
    expect(s1!.accountNumber).toBe('98765432100');
    expect(s1!.accountIban).toBe('FR7615589000009876543210088');
    expect(s1!.openingBalance).toEqual({ amountMinor: -19040n, date: '2019-05-15' });
    expect(s1!.closingBalance).toEqual({ amountMinor: -24121n, date: '2019-05-16' });
    expect(s1!.lines.map((l) => l.amountMinor)).toEqual([-3221n, -1070n, -790n]);
    expect(s1!.lines[0]).toMatchObject({
      bookingDate: '2019-05-16',
      valueDate: '2019-05-16',
      label: 'PRLV SEPA TEST CABINET',
      remittanceText: 'MENSUEAUHTR13133 MENSUEAUHTR13DUP PURPOSE',
      counterpartyName: 'INTERNET SFR',
      endToEndId: 'OTHER REFERENCE',
    });
    expect(s1!.lines[1]).toMatchObject({ label: 'VIR SEPA DEMONSTRATION', counterpartyName: 'ELEC ERDF', bankReference: 'REFERENCE' });
    expect(s2!.lines.map((l) => [l.bookingDate, l.amountMinor, l.label])).toEqual([
      ['2019-05-17', 9749n, 'PRLV SEPA GROUPAMA CEN'],
      ['2019-05-15', -1210n, 'F FRAIS PRLV IMP 97 49EUR'],
      ['2019-05-16', -790n, 'F COMMISSION D INTERVENTION'],
    ]);
    expect(s2!.lines[0]!.remittanceText).toBe('P051928612 22793301700040');
  });

  it('reads the same records without line breaks', () => {
    const text = fixture('cfonb120/example.txt').toString('latin1');
    const glued = text.split(/\r?\n/).filter((l) => l.trim()).map((l) => l.padEnd(120)).join('');
    const a = parseCfonb120(text);
    const b = parseCfonb120(glued);
    expect(b).toEqual({ ...a, statements: a.statements.map((s) => ({ ...s, lines: s.lines.map((l) => ({ ...l, source: { line: 1 } })) })) });
  });

  it('rejects an invalid date, naming the line', () => {
    const e = rejection(() => parseCfonb120(fixture('cfonb120/invalid_date.txt'), { filename: 'invalid_date.txt' }));
    expect(e.where).toEqual({ file: 'invalid_date.txt', line: 1 });
    expect(e.message).toMatch(/date " {2}CART"/);
  });

  it('rejects a movement outside a statement', () => {
    const e = rejection(() => parseCfonb120(fixture('cfonb120/operation_out_of_statement.txt')));
    expect(e.where?.line).toBe(1);
    expect(e.message).toMatch(/outside a statement/);
  });

  it('rejects a statement whose movements do not add up to the new balance', () => {
    const text = fixture('cfonb120/example.txt').toString('latin1').replace('0000000000000000000322J', '0000000000000000000323J');
    const e = rejection(() => parseCfonb120(text));
    expect(e.where?.line).toBe(21);
    expect(e.message).toMatch(/incomplete/);
  });
});

describe('OFX', () => {
  it('reads OFX 1 SGML with unclosed tags and DTPOSTED with time zone', () => {
    const r = parseOfx(fixture('ofx/bank_medium.ofx'));
    expect(r.version).toBe('OFX 102');
    const s = r.statements[0]!;
    expect(s.currency).toBe('CAD');
    expect(s.lines.map((l) => [l.bookingDate, l.amountMinor, l.entryReference, l.counterpartyName])).toEqual([
      ['2009-04-01', -660n, '0000123456782009040100001', "MCDONALD'S #112"],
      ['2009-04-02', -31667n, '0000123456782009040200004', "Joe's Bald Hairstyles"],
      ['2009-04-03', -2200n, '0000123456782009040300005', "CONNIE'S HAIR D"],
    ]);
    expect(s.lines[0]!.remittanceText).toBe("POS MERCHANDISE;MCDONALD'S #112");
    expect(s.closingBalance).toEqual({ amountMinor: 38234n, date: '2009-05-23' });
  });

  it('reads checking.ofx: a credit, debits, memo text', () => {
    const s = parseOfx(fixture('ofx/checking.ofx')).statements[0]!;
    expect(s.lines.map((l) => l.amountMinor)).toEqual([1n, -3451n, -2500n]);
    expect(s.lines[0]!.remittanceText).toBe('DIVIDEND EARNED FOR PERIOD OF 03/01/2011 THROUGH 03/31/2011 ANNUAL PERCENTAGE YIELD EARNED IS 0.05%');
    expect(s.lines[2]!.bankReference).toBe('CHECK 319');
  });

  it('reads OFX 2 XML (credit card, CDATA)', () => {
    const cc = parseOfx(fixture('ofx/anzcc.ofx'));
    expect(cc.version).toBe('OFX 203');
    expect(cc.statements[0]!.lines[0]).toMatchObject({ bookingDate: '2017-05-08', amountMinor: -550n, currency: 'AUD', entryReference: '201705080001', remittanceText: 'SOME MEMO' });
    const sun = parseOfx(fixture('ofx/suncorp.ofx')).statements[0]!.lines[0]!;
    expect(sun).toMatchObject({ bookingDate: '2013-12-15', amountMinor: -1685n, counterpartyName: 'EFTPOS WDL HANDYWAY ALDI STORE', remittanceText: 'EFTPOS WDL HANDYWAY ALDI STORE GEELONG WEST VICAU' });
  });

  it('rejects the file with a missing DTPOSTED, naming line and element', () => {
    const e = rejection(() => parseOfx(fixture('ofx/broken-date_missing.ofx'), { filename: 'broken-date_missing.ofx' }));
    expect(e.where).toMatchObject({ file: 'broken-date_missing.ofx', line: 33, path: 'OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS/BANKTRANLIST/STMTTRN[1]' });
    expect(e.message).toMatch(/DTPOSTED/);
  });

  it('rejects an impossible date and a truncated file', () => {
    const text = fixture('ofx/bank_medium.ofx').toString('latin1');
    expect(rejection(() => parseOfx(text.replace('20090402122017.000[-5:EST]', '20090231'))).message).toMatch(/"20090231" is not a valid date/);
    expect(rejection(() => parseOfx(text.slice(0, text.indexOf('</BANKTRANLIST>')))).message).toMatch(/never closed/);
  });
});

describe('CSV', () => {
  it('reads a French export: semicolons, decimal comma, dd/mm/yyyy, debit and credit columns, Latin-1', () => {
    const csv = 'Compte courant n° 123\n\nDate opération;Date valeur;Libellé;Débit;Crédit\n' +
      '02/03/2026;03/03/2026;VIR SEPA ACME SARL FACT F-2026-00042;;1 234,56\n' +
      '04/03/2026;04/03/2026;PRLV URSSAF;-560,00;\n';
    const r = parseCsvStatement(Buffer.from(csv, 'latin1'));
    const lines = r.statements[0]!.lines;
    expect(lines.map((l) => [l.bookingDate, l.valueDate, l.amountMinor, l.label])).toEqual([
      ['2026-03-02', '2026-03-03', 123456n, 'VIR SEPA ACME SARL FACT F-2026-00042'],
      ['2026-03-04', '2026-03-04', -56000n, 'PRLV URSSAF'],
    ]);
    expect(lines[1]!.source.line).toBe(5);
  });

  it('follows a column mapping', () => {
    const csv = 'when,who,what,how much,iban\n2026-03-02,Acme,"Invoice 42, thanks",1234.50,FR76 3000 6000 0112 3456 7890 189\n';
    const r = parseCsvStatement(csv, {
      mapping: { columns: { bookingDate: 'when', counterpartyName: 'who', remittanceText: 'what', amount: 'how much', counterpartyIban: 5 } },
    });
    expect(r.statements[0]!.lines[0]).toMatchObject({ amountMinor: 123450n, counterpartyName: 'Acme', remittanceText: 'Invoice 42, thanks', counterpartyIban: 'FR7630006000011234567890189' });
  });

  // Bank CSVs go through the imports' record splitter (src/formats/delimited.ts); they used to go
  // through csv-parse, which stays the reference for what a record and its line are.
  it('reads quoted line breaks, quoted separators and Latin-1 as csv-parse did, with the lines of the file', () => {
    const body =
      'Date;Libellé;Montant\r\n' +
      '02/03/2026;"VIR ACME\r\nFACT F-42";100,00\r\n' +
      '03/03/2026;"Société Générale; remise ""chèque""";-20,50\r\n' +
      '\r\n' +
      '04/03/2026;PRLV EDF;-7,00\r\n';
    const text = 'Relevé du compte 0001\r\n\r\n' + body;
    const r = parseCsvStatement(Buffer.from(text, 'latin1'), { filename: 'b.csv' });
    const lines = r.statements[0]!.lines;
    expect(lines.map((l) => [l.label, l.amountMinor, l.source.line])).toEqual([
      ['VIR ACME FACT F-42', 10000n, 5],
      ['Société Générale; remise "chèque"', -2050n, 6],
      ['PRLV EDF', -700n, 8],
    ]);
    // The same lines as csv-parse with the options the bank CSV reader had (header on line 3).
    const reference = (
      csvParse(body.replace(/\r\n/g, '\n'), { delimiter: ';', relax_quotes: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as {
        record: string[];
        info: { lines: number };
      }[]
    ).slice(1);
    expect(lines.map((l) => l.source.line)).toEqual(reference.map((x) => x.info.lines + 2));
    expect(reference.map((x) => x.record[1])).toEqual(['VIR ACME\nFACT F-42', 'Société Générale; remise "chèque"', 'PRLV EDF']);
  });

  it('names the line of the file for a refusal after a quoted line break, and for an unclosed quote', () => {
    const csv = 'Compte 0001\nDate;Libellé;Montant\n01/02/2026;"A\nsuite";10,00\n99/02/2026;B;12,00\n';
    expect(rejection(() => parseCsvStatement(csv, { filename: 'r.csv' })).where).toMatchObject({ file: 'r.csv', line: 5, field: 'bookingDate' });
    const open = 'Compte 0001\nDate;Libellé;Montant\n01/02/2026;A;10,00\n02/02/2026;"B;12,00\n03/02/2026;C;1,00\n';
    expect(rejection(() => parseCsvStatement(open, { filename: 'q.csv' })).where).toMatchObject({ file: 'q.csv', line: 4 });
  });

  it('rejects a bad date or amount with its line', () => {
    const e = rejection(() => parseCsvStatement('Date;Libellé;Montant\n01/02/2026;A;10,00\n31/02/2026;B;12,00\n', { filename: 'r.csv' }));
    expect(e.where).toMatchObject({ file: 'r.csv', line: 3, field: 'bookingDate' });
    const e2 = rejection(() => parseCsvStatement('Date;Libellé;Montant\n01/02/2026;A;dix\n'));
    expect(e2.where).toMatchObject({ line: 2, field: 'amount' });
  });
});
