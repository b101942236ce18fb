/**
 * Property-based tests of every file parser (issue 15, "every parser gets limits"): random bytes
 * and mutations of the real fixtures (bytes flipped, cut, repeated, inserted, truncated, the
 * format's own tokens sprinkled in) fed to the bank readers, the delimited reader of the CSV and
 * FEC imports, the FEC line reader, the e-invoice readers and the PDF attachment reader. Each input
 * must end in a result or a RelanceError: never a hang (the test's timeout), never another error
 * (a crash), and within the parsers' own size limits.
 *
 * A few seconds in `npm test`; FUZZ_RUNS=5000 npx vitest run test/fuzz-parsers.test.ts for a long run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RelanceError } from '../src/errors.ts';
import { parseBankFile } from '../src/formats/bank/detect.ts';
import { parseCamt053 } from '../src/formats/bank/camt053.ts';
import { parseCfonb120 } from '../src/formats/bank/cfonb120.ts';
import { parseCsvStatement } from '../src/formats/bank/csv.ts';
import { parseOfx } from '../src/formats/bank/ofx.ts';
import { embeddedFiles } from '../src/formats/einvoice/pdf.ts';
import { parseEInvoice } from '../src/formats/einvoice/index.ts';
import { fecColumns, readFecLine } from '../src/formats/fec.ts';
import { openDelimited } from '../src/imports/source.ts';

const RUNS = Number(process.env.FUZZ_RUNS) || 60;
const dir = (d: string) => fileURLToPath(new URL(`./fixtures/${d}/`, import.meta.url));
const files = (d: string, re = /./) =>
  readdirSync(dir(d))
    .filter((f) => re.test(f))
    .map((f) => readFileSync(`${dir(d)}${f}`));

const TOKENS = ['<', '>', '</', '<<', '>>', '[', ']', '(', ')', '"', ';', ',', '\t', '\r\n', '\n', '\r', '\u0000', 'obj', 'endobj', 'stream', 'endstream', '/Kids', '/Names', ' 0 R', '<!--', '<?xml', '<!DOCTYPE', '&amp;', '&#x0;', '0400000', '01', '07', '<STMTTRN>', '<BANKTRANLIST>', '999999999999999999999', '-', 'é', '\u00e9', '\xff\xfe', '%PDF-1.7'];

type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'cut'; at: number; len: number }
  | { op: 'repeat'; at: number; len: number; times: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'token'; at: number; token: string }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 300 }), times: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ op: fc.constant('token' as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(base: Buffer, ms: Mutation[]): Buffer {
  let b = base;
  for (const m of ms) {
    const at = b.length ? m.at % (b.length + 1) : 0;
    switch (m.op) {
      case 'flip':
        if (b.length) {
          b = Buffer.from(b);
          b[at % b.length] = m.byte;
        }
        break;
      case 'cut':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + m.len);
        b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: m.times }, () => piece), b.subarray(at)]);
        break;
      }
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'token':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.token, 'latin1'), b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** Inputs for a parser: mutations of its real files, and plain random bytes now and then. */
function inputs(bases: Buffer[]): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(fc.nat({ max: bases.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([i, ms]) => mutate(bases[i]!, ms)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((u) => Buffer.from(u)) },
  );
}

/** The property: a result or a RelanceError, nothing else. */
function endsWell(run: () => unknown): true {
  try {
    run();
  } catch (e) {
    if (!(e instanceof RelanceError)) throw new Error(`not a RelanceError: ${(e as Error)?.stack ?? String(e)}`);
  }
  return true;
}

async function endsWellAsync(run: () => Promise<unknown>): Promise<true> {
  try {
    await run();
  } catch (e) {
    if (!(e instanceof RelanceError)) throw new Error(`not a RelanceError: ${(e as Error)?.stack ?? String(e)}`);
  }
  return true;
}

const T = 120_000;

describe('every file parser ends in a result or a RelanceError, on random and mutated real files', () => {
  const camt = [...files('bank/camt053'), ...files('bank/camt054')];
  const cfonb = files('bank/cfonb120');
  const ofx = files('bank/ofx');
  const csv = files('bank/csv');
  const einvXml = files('einvoice', /\.(xml|XML)$/);
  const pdf = files('einvoice', /\.pdf$/);
  const fec = [...files('fec'), ...files('imports', /FEC|fec/)];
  const imports = files('imports', /\.(csv|tsv)$/);

  it('camt.053 / camt.054', () => fc.assert(fc.property(inputs(camt), (b) => endsWell(() => parseCamt053(b, { filename: 'f.xml' }))), { numRuns: RUNS }), T);
  it('CFONB 120', () => fc.assert(fc.property(inputs(cfonb), (b) => endsWell(() => parseCfonb120(b, { filename: 'f.txt' }))), { numRuns: RUNS }), T);
  it('OFX', () => fc.assert(fc.property(inputs(ofx), (b) => endsWell(() => parseOfx(b, { filename: 'f.ofx' }))), { numRuns: RUNS }), T);
  it('bank CSV', () => fc.assert(fc.property(inputs(csv), (b) => endsWell(() => parseCsvStatement(b, { filename: 'f.csv' }))), { numRuns: RUNS }), T);
  it('format detection over every bank file', () =>
    fc.assert(fc.property(inputs([...camt, ...cfonb, ...ofx, ...csv]), (b) => endsWell(() => parseBankFile(b, { filename: 'f' }))), { numRuns: RUNS }), T);
  it('e-invoice XML (CII, ZUGFeRD 1.0, UBL)', () => fc.assert(fc.property(inputs(einvXml), (b) => endsWell(() => parseEInvoice(b, 'f.xml'))), { numRuns: RUNS }), T);
  it('e-invoice PDF and its attachments', () =>
    fc.assert(
      fc.property(inputs(pdf), (b) => {
        endsWell(() => parseEInvoice(b, 'f.pdf'));
        return endsWell(() => embeddedFiles(b));
      }),
      { numRuns: Math.max(10, Math.round(RUNS / 3)) },
    ), T);
  it('the delimited reader of the CSV imports', async () =>
    fc.assert(
      fc.asyncProperty(inputs(imports), (b) =>
        endsWellAsync(async () => {
          const f = await openDelimited({ bytes: b, filename: 'f.csv' });
          for await (const batch of f.batches) expect(Array.isArray(batch)).toBe(true);
        }),
      ),
      { numRuns: RUNS },
    ), T);
  it('FEC: the delimited reader and the line reader', async () =>
    fc.assert(
      fc.asyncProperty(inputs(fec), (b) =>
        endsWellAsync(async () => {
          const f = await openDelimited({ bytes: b, filename: 'FEC.txt' }, { candidates: ['\t', '|', ';'], quoted: false, eightBit: 'iso-8859-15' });
          const cols = fecColumns(f.header, 'FEC.txt');
          for await (const batch of f.batches) for (const r of batch) endsWell(() => readFecLine(cols, r.fields, r.line, 'FEC.txt'));
        }),
      ),
      { numRuns: RUNS },
    ), T);
});
