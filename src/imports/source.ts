/**
 * Reads a delimited file as a stream of records with their line numbers, in constant memory:
 * bytes -> decoded text (encoding sniffed from the first 64 KiB) -> records (src/formats/delimited.ts). The
 * same reader serves the CLI (a path), the API and the web app (an uploaded body).
 */
import { createReadStream, statSync } from 'node:fs';
import iconv from 'iconv-lite';
import { ERROR_CODES, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { badUtf8, type Separator, type Sniffed, sniffEncoding, sniffSeparator, type TextEncoding, utf8Census } from '../formats/csv-sniff.ts';
import { type DelimitedRecord, RecordSplitter } from '../formats/delimited.ts';

const E = defineErrors('imports-source', {
  empty: { fr: 'le fichier est vide', en: 'the file is empty' },
  no_header: { fr: 'le fichier n’a pas de ligne d’en-tête', en: 'the file has no header line' },
  not_utf8: { fr: 'le fichier n’est plus de l’UTF-8 valide à partir d’ici : indiquez son encodage (--encoding windows-1252)', en: 'the file is not valid UTF-8 past this point: give its encoding (--encoding windows-1252)' },
});

/** Where an import reads from: a file path, or bytes already in memory (an upload). */
export type ImportInput = { path: string; filename?: string } | { bytes: Uint8Array; filename?: string };

export function inputName(input: ImportInput): string | undefined {
  return input.filename ?? ('path' in input ? input.path : undefined);
}

export function inputSize(input: ImportInput): number {
  return 'path' in input ? statSync(input.path).size : input.bytes.length;
}

export async function readAllBytes(input: ImportInput): Promise<Buffer> {
  if ('bytes' in input) return Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  const { readFile } = await import('node:fs/promises');
  return readFile(input.path);
}

/**
 * 16 KiB at a time: each chunk is parsed in one synchronous stretch, and while it runs the
 * database's replies wait; small chunks keep the database fed while Node parses (imports overlap
 * parsing with writing).
 */
const CHUNK = 1 << 14;

function byteChunks(input: ImportInput): AsyncIterable<Buffer> {
  if ('path' in input) return createReadStream(input.path, { highWaterMark: CHUNK });
  const b = input.bytes;
  return (async function* () {
    for (let i = 0; i < b.length; i += CHUNK) yield Buffer.from(b.buffer, b.byteOffset + i, Math.min(CHUNK, b.length - i));
  })();
}

export interface DelimitedOptions {
  encoding?: string;
  separator?: Separator;
  candidates?: readonly Separator[];
  /** false for formats that never quote (FEC): a stray " in a label is then just a character. */
  quoted?: boolean;
  /** The 8-bit encoding assumed when the file is not UTF-8 (FEC: ISO 8859-15, whose 0xA4 is €). */
  eightBit?: TextEncoding;
  /** Every chunk of bytes as it is read (progress, checksum). */
  onChunk?: (chunk: Buffer, readSoFar: number) => void;
}

export interface DelimitedFile extends Sniffed {
  separator: Separator;
  header: string[];
  /**
   * Records after the header, a chunk's worth at a time (no promise per record), each with the
   * line where it ends (csv-parse's info.lines; a quoted line break is rare in exports).
   */
  batches: AsyncGenerator<DelimitedRecord[]>;
}

/**
 * Opens the file, reads its header and returns the rest as an async generator. Invalid UTF-8 in a
 * file sniffed as UTF-8 is an error naming the line, not a silent replacement character.
 */
export async function openDelimited(input: ImportInput, opts: DelimitedOptions = {}): Promise<DelimitedFile> {
  const file = inputName(input);
  const it = byteChunks(input)[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 65536) {
    const n = await it.next();
    if (n.done) {
      done = true;
      break;
    }
    headChunks.push(n.value);
    headLen += n.value.length;
  }
  const head = Buffer.concat(headChunks);
  if (head.length === 0) throw validation(E('empty'), { file });
  const sniffed = sniffEncoding(head, opts.encoding, opts.eightBit, file);
  const decode = decoderFor(sniffed.encoding, file);
  let bytesRead = 0;
  async function* text(): AsyncGenerator<string> {
    for (const c of headChunks) {
      bytesRead += c.length;
      opts.onChunk?.(c, bytesRead);
    }
    yield decode.write(sniffed.bomLength ? head.subarray(sniffed.bomLength) : head);
    while (!done) {
      const n = await it.next();
      if (n.done) break;
      bytesRead += n.value.length;
      opts.onChunk?.(n.value, bytesRead);
      yield decode.write(n.value);
    }
    const tail = decode.end();
    if (tail) yield tail;
  }
  const firstText = decoderFor(sniffed.encoding, file).write(sniffed.bomLength ? head.subarray(sniffed.bomLength) : head);
  const headerLine = firstText.split(/\r?\n/, 1)[0] ?? '';
  const separator = opts.separator ?? sniffSeparator(headerLine, opts.candidates);
  const splitter = new RecordSplitter(separator, opts.quoted !== false, file);
  const chunks = text();
  // Records of the text read so far and not yet handed out (the header's chunk holds more).
  let pending: DelimitedRecord[] = [];
  let ended = false;
  const fill = async () => {
    while (pending.length === 0 && !ended) {
      const n = await chunks.next();
      if (n.done) {
        splitter.end(pending);
        ended = true;
      } else splitter.push(n.value, pending);
    }
  };
  await fill();
  const first = pending.shift();
  if (!first) throw validation(E('no_header'), { file });
  const header = first.fields.map((h) => h.trim());
  async function* batches(): AsyncGenerator<DelimitedRecord[]> {
    try {
      for (;;) {
        await fill();
        if (pending.length === 0) return;
        const out = pending;
        pending = [];
        yield out;
      }
    } finally {
      await chunks.return(undefined);
    }
  }
  return { ...sniffed, separator, header, batches: batches() };
}

interface Decoder {
  write(b: Buffer): string;
  end(): string;
}

function decoderFor(enc: TextEncoding, file?: string): Decoder {
  if (enc === 'utf-8') {
    const d = new TextDecoder('utf-8', { fatal: true });
    let line = 1;
    return {
      write(b) {
        try {
          const s = d.decode(b, { stream: true });
          for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) line++;
          return s;
        } catch {
          // The damaged byte by line and column: the chunk read from its first whole character.
          let from = 0;
          while (from < 3 && from < b.length && (b[from]! & 0xc0) === 0x80) from++;
          const rest = b.subarray(from);
          const at = utf8Census(rest, true).firstInvalid;
          if (at < 0) throw new RelanceError(ERROR_CODES.PARSE, E('not_utf8'), { where: { file, line } });
          throw badUtf8(rest, at, file, line);
        }
      },
      end: () => {
        try {
          return d.decode();
        } catch {
          // The file ends in the middle of a character: cut short.
          throw new RelanceError(ERROR_CODES.PARSE, E('not_utf8'), { where: { file, line } });
        }
      },
    };
  }
  if (enc === 'iso-8859-15') {
    // The platform's decoder gives the same characters as iconv-lite (0xA4 is €), 2.5x faster.
    const d = new TextDecoder('iso-8859-15');
    return { write: (b) => d.decode(b, { stream: true }), end: () => d.decode() };
  }
  const d = iconv.getDecoder('win1252');
  return { write: (b) => d.write(b), end: () => d.end() ?? '' };
}
