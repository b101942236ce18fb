import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { type DelimitedRecord, RecordSplitter } from './delimited.ts';

/** What the imports read with csv-parse before: the reference. */
function reference(text: string, sep: string, quoted: boolean): DelimitedRecord[] {
  const rows = parse(text, {
    delimiter: sep,
    quote: quoted ? '"' : false,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    info: true,
    bom: false,
  }) as unknown as { record: string[]; info: { lines: number } }[];
  return rows.map((r) => ({ line: r.info.lines, fields: r.record }));
}

function split(text: string, sep: string, quoted: boolean, cuts: number[]): DelimitedRecord[] {
  const s = new RecordSplitter(sep, quoted);
  const out: DelimitedRecord[] = [];
  let at = 0;
  for (const c of [...cuts, text.length]) {
    s.push(text.slice(at, c), out);
    at = c;
  }
  s.end(out);
  return out;
}

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RecordSplitter reads like csv-parse', () => {
  const cases: [string, string][] = [
    ['plain', 'a;b;c\n1;2;3\n4;5;6\n'],
    ['no final line break', 'a;b\n1;2'],
    ['CRLF', 'a;b\r\n1;2\r\n\r\n3;4\r\n'],
    ['CR only (old Mac)', 'a;b\r1;2\r3;4'],
    ['empty lines skipped, counted', 'a;b\n\n\n1;2\n\n3;4\n'],
    ['quoted separators and line breaks', 'a;b\n"x;y";"multi\nline"\n"q""uote";z\n'],
    ['quotes inside unquoted fields', 'a;b\nO"Brien;5" screen\n'],
    ['text after a closing quote', 'a;b\n"abc"def;x\n"a" ;b\n'],
    ['quoted empty field is a record', 'a\n""\n\n'],
    ['CRLF inside quotes', 'a;b\r\n"1\r\n2";3\r\n'],
    ['stray CR in a LF file', 'a;b\n1;2\r\n3;4\n'],
    ['only separators', 'a;b\n;;\n'],
  ];
  for (const [name, text] of cases) {
    it(name, () => {
      const ref = reference(text, ';', true);
      for (let cut = 0; cut <= text.length; cut++) expect(split(text, ';', true, [cut]), `cut at ${cut}`).toEqual(ref);
    });
  }

  it('FEC: tabs, no quoting (a quote is a character)', () => {
    const text = 'JournalCode\tEcritureLib\nVT\t"Facture\nVT\tdit "oui"\n';
    const ref = reference(text, '\t', false);
    expect(ref.map((r) => r.fields[1])).toEqual(['EcritureLib', '"Facture', 'dit "oui"']);
    for (let cut = 0; cut <= text.length; cut++) expect(split(text, '\t', false, [cut])).toEqual(ref);
  });

  it('random files cut at random places', () => {
    const r = rng(42);
    const alphabet = ['a', 'b', 'é', ' ', ';', ';', '"', '"', '\n', '\n', '\r\n', '\r', 'x;y', '""'];
    for (let k = 0; k < 3000; k++) {
      let text = '';
      const len = Math.floor(r() * 30);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(r() * alphabet.length)];
      let ref: DelimitedRecord[] | Error;
      try {
        ref = reference(text, ';', true);
      } catch (e) {
        ref = e as Error;
      }
      const cuts = [Math.floor(r() * text.length), Math.floor(r() * text.length)].sort((a, b) => a - b);
      if (ref instanceof Error) {
        // csv-parse refuses an unclosed quote; so must we (other csv-parse errors cannot occur with these options).
        expect(ref.message, JSON.stringify(text)).toMatch(/Quote Not Closed/);
        expect(() => split(text, ';', true, cuts), JSON.stringify(text)).toThrow(/never closed/);
      } else expect(split(text, ';', true, cuts), JSON.stringify(text)).toEqual(ref);
    }
  });
});
