/**
 * Which statement format a file is, from its content (never its name: banks name files anything).
 * The checks go from the most specific signature to the least: an ISO 20022 namespace, an OFX
 * header or <OFX> root, CFONB's fixed 120-character records with their record codes, and CSV last
 * because almost any text splits into columns.
 */
import { parseCamt053 } from './camt053.ts';
import { parseCfonb120 } from './cfonb120.ts';
import { type CsvMapping, parseCsvStatement } from './csv.ts';
import { parseOfx } from './ofx.ts';
import { type BankFormat, type ParsedBankFile, parseError } from './types.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('bank-detect', {
  too_large: { fr: "le relevé fait {size} octets, au-delà des {max} admis", en: "the statement file is {size} bytes, beyond the {max} accepted" },
  unknown_format: { fr: "format de relevé non reconnu (camt.053, camt.054, CFONB 120, OFX ou CSV attendu)", en: "unrecognised statement format (expected camt.053, camt.054, CFONB 120, OFX or CSV)" },
});

export function detectBankFormat(input: Buffer | string): BankFormat | null {
  const head = (typeof input === 'string' ? input.slice(0, 8192) : input.subarray(0, 8192).toString('latin1')).replace(/^\uFEFF|^\xEF\xBB\xBF/, '');
  const trimmed = head.trimStart();
  if (/^OFXHEADER\s*:/i.test(trimmed) || /<\?OFX\b/i.test(head) || /^(<\?xml[^>]*>\s*)?<OFX>/i.test(trimmed)) return 'ofx';
  if (trimmed.startsWith('<')) {
    if (/camt\.054\.001|BkToCstmrDbtCdtNtfctn/.test(head)) return 'camt054';
    if (/camt\.\d{3}\.001|BkToCstmrStmt/.test(head)) return 'camt053';
    if (/<OFX>/i.test(head)) return 'ofx';
    return null;
  }
  const first = trimmed.split(/\r\n|\n|\r/)[0] ?? '';
  // CFONB: records start with 01/04/05/07 followed by a 5-digit bank code, at most 120 characters
  // a line, or records glued together without line breaks (bank portals): then every 120th
  // character of the head starts a record.
  if (/^0[1457]\d{5}/.test(first)) {
    if (first.trimEnd().length <= 120) {
      if (/^0[14]/.test(first)) return 'cfonb120';
    } else {
      let glued = true;
      for (let k = 120; k + 7 <= first.length && glued; k += 120) glued = /^0[1457]\d{5}/.test(first.slice(k, k + 7));
      if (glued) return 'cfonb120';
    }
  }
  if (/[;,\t|]/.test(first)) return 'csv';
  return null;
}

/** A statement file of a year of a busy account is a few megabytes; beyond this it is refused. */
export const BANK_FILE_MAX_BYTES = 100 * 1024 * 1024;

export function parseBankFile(input: Buffer | string, opts: { filename?: string; format?: BankFormat; mapping?: CsvMapping } = {}): ParsedBankFile {
  if (input.length > BANK_FILE_MAX_BYTES) throw parseError(E('too_large', { size: input.length, max: BANK_FILE_MAX_BYTES }), { file: opts.filename });
  const format = opts.format ?? (opts.mapping ? 'csv' : detectBankFormat(input));
  switch (format) {
    case 'camt053':
    case 'camt054':
      return parseCamt053(input, opts);
    case 'cfonb120':
      return parseCfonb120(input, opts);
    case 'ofx':
      return parseOfx(input, opts);
    case 'csv':
      return parseCsvStatement(input, opts);
    default:
      throw parseError(E('unknown_format'), { file: opts.filename, line: 1 });
  }
}
