/**
 * OFX bank and credit-card statements: version 1 (SGML: a "KEY:VALUE" header, then tags whose
 * leaf elements are usually not closed) and version 2 (XML). One tolerant tokenizer reads both:
 * a leaf is a tag followed by text, closed or not; an aggregate is a tag followed by other tags
 * and must be closed. A truncated file (an aggregate never closed) is refused.
 */
import iconv from 'iconv-lite';
import { isCalendarDate, type CalendarDate } from '../../domain/dates.ts';
import { parseAmount } from '../../domain/money.ts';
import { isRelanceError } from '../../errors.ts';
import { decodeText } from '../csv-sniff.ts';
import { type BankLine, type BankStatement, cleanText, type ParsedBankFile, type ParseOptions, parseError } from './types.ts';
import { defineErrors, type Text } from '../../i18n/index.ts';

const E = defineErrors('bank-ofx', {
  no_ofx: { fr: "pas d’élément <OFX> : ce n’est pas un fichier OFX", en: "no <OFX> element: not an OFX file" },
  too_deep: { fr: "éléments imbriqués sur plus de {depth} niveaux", en: "elements nested deeper than {depth} levels" },
  unexpected_text: { fr: "texte inattendu « {text} »", en: "unexpected text \"{text}\"" },
  closing_tag: { fr: "la balise fermante </{name}> ne correspond pas à l’élément ouvert <{open}>", en: "closing tag </{name}> does not match the open element <{open}>" },
  never_closed: { fr: "l’élément <{name}> n’est jamais fermé : le fichier est tronqué", en: "element <{name}> is never closed: the file is truncated" },
  missing: { fr: "{what} manquant", en: "{what} is missing" },
  not_ofx_date: { fr: "{what} « {value} » n’est pas une date OFX (AAAAMMJJ[HHMMSS[.XXX]][[fuseau]])", en: "{what} \"{value}\" is not an OFX date (YYYYMMDD[HHMMSS[.XXX]][[tz]])" },
  invalid_date: { fr: "{what} « {value} » n’est pas une date valide", en: "{what} \"{value}\" is not a valid date" },
  no_ofx_element: { fr: "pas d’élément <OFX>", en: "no <OFX> element" },
  no_statement: { fr: "aucun relevé (STMTRS ou CCSTMTRS) dans le fichier", en: "no statement (STMTRS or CCSTMTRS) in the file" },
  curdef: { fr: "CURDEF « {currency} » n’est pas un code devise", en: "CURDEF \"{currency}\" is not a currency code" },
  no_trnamt: { fr: "TRNAMT (montant) manquant", en: "TRNAMT (amount) is missing" },
  trnamt: { fr: "TRNAMT « {value} » : {reason}", en: "TRNAMT \"{value}\": {reason}" },
  balamt: { fr: "BALAMT : {reason}", en: "BALAMT: {reason}" },
  dtposted: { fr: "DTPOSTED (date d’opération)", en: "DTPOSTED (booking date)" },
  dtavail: { fr: "DTAVAIL (date de valeur)", en: "DTAVAIL (value date)" },
  dtasof: { fr: "DTASOF", en: "DTASOF" },
});

const W = defineErrors('bank-ofx-warnings', {
  several_lists: { fr: "{path} contient {count} listes d’opérations (BANKTRANLIST) : toutes sont lues", en: "{path} holds {count} transaction lists (BANKTRANLIST): all are read" },
  empty_balance: { fr: "solde vide dans {path} : ignoré (il ne sert pas au rapprochement)", en: "empty balance in {path}: ignored (it is not used for matching)" },
});

interface OfxNode {
  name: string;
  line: number;
  /** Text of a leaf element (null for an aggregate). */
  value: string | null;
  children: OfxNode[];
  path: string;
  counts?: Map<string, number>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
const decodeEntities = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ENTITIES[e.toLowerCase()] ?? m;
  });

/** Decode bytes with the charset the header declares (CHARSET:1252, encoding="..."), UTF-8 otherwise. */
function decode(input: Buffer | string, file?: string): string {
  if (typeof input === 'string') return input;
  const head = input.subarray(0, 600).toString('latin1');
  const xmlEnc = /encoding\s*=\s*["']([\w-]+)["']/i.exec(head)?.[1];
  const sgmlCharset = /^CHARSET:\s*(\S+)/im.exec(head)?.[1];
  const sgmlEncoding = /^ENCODING:\s*(\S+)/im.exec(head)?.[1];
  let enc = 'utf8';
  if (xmlEnc) enc = xmlEnc;
  else if (sgmlEncoding && /utf-?8/i.test(sgmlEncoding)) enc = 'utf8';
  else if (sgmlCharset && /^\d+$/.test(sgmlCharset)) enc = `windows-${sgmlCharset}`;
  else if (sgmlCharset && /8859-?1|latin/i.test(sgmlCharset)) enc = 'latin1';
  if (/us-?ascii/i.test(enc)) enc = 'latin1';
  if (!iconv.encodingExists(enc)) enc = 'utf8';
  // UTF-8 (declared, or by default) by the common rule: a damaged byte is refused by place.
  if (/^utf-?8$/i.test(enc)) return decodeText(input, { file });
  return iconv.decode(input, enc);
}

/** Parses the tag soup into a tree; `file` only names errors. */
function tree(text: string, file: string | undefined): { root: OfxNode; version: string | null } {
  const start = text.search(/<OFX>/i);
  if (start < 0) throw parseError(E('no_ofx'), { file, line: 1 });
  const headerText = text.slice(0, start);
  // "VERSION:102" in an SGML header, VERSION="203" in the <?OFX ...?> instruction of an XML one.
  const version = (/^VERSION:\s*(\d+)/im.exec(headerText) ?? /<\?OFX[^>]*\bVERSION\s*=\s*"(\d+)"/i.exec(headerText))?.[1] ?? null;
  let line = headerText.split('\n').length;
  const body = text.slice(start);
  const root: OfxNode = { name: '#root', line, value: null, children: [], path: '' };
  const stack: OfxNode[] = [root];
  const tokenRe = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<(\/?)([A-Za-z0-9_.]+)\s*>|([^<]+)/g;
  // An element just opened is a leaf if text follows it, an aggregate if a tag follows: the
  // decision waits for the next token (SGML leaves are usually not closed).
  let undecided: OfxNode | null = null;
  let leafOpen: OfxNode | null = null;
  const asLeaf = (n: OfxNode, text: string) => {
    n.value = (n.value ?? '') + text;
    leafOpen = n;
    undecided = null;
  };
  let m: RegExpExecArray | null;
  while ((m = tokenRe.exec(body))) {
    const tokLine = line;
    for (let i = 0; i < m[0].length; i++) if (m[0].charCodeAt(i) === 10) line++;
    if (m[1] !== undefined || m[4] !== undefined) {
      const textValue = m[1] !== undefined ? m[1] : decodeEntities(m[4]!);
      if (undecided) {
        if (m[1] !== undefined || textValue.trim() !== '') asLeaf(undecided, textValue);
      } else if (leafOpen) (leafOpen as OfxNode).value += textValue;
      else if (textValue.trim() !== '') {
        throw parseError(E('unexpected_text', { text: textValue.trim().slice(0, 30) }), { file, line: tokLine, path: stack.at(-1)!.path });
      }
      continue;
    }
    if (m[3] === undefined) continue; // comment or processing instruction
    const name = m[3].toUpperCase();
    if (m[2] === '/') {
      if (undecided) {
        const u: OfxNode = undecided;
        undecided = null;
        u.value = '';
        if (u.name === name) continue; // <X></X>: an empty leaf
      }
      if (leafOpen) {
        const l: OfxNode = leafOpen;
        leafOpen = null;
        if (l.name === name) continue;
      }
      // Closing an aggregate: leaves in between were never pushed, so the top must match.
      const top = stack.at(-1)!;
      if (top.name !== name) {
        throw parseError(E('closing_tag', { name, open: top.name }), { file, line: tokLine, path: top.path });
      }
      stack.pop();
      continue;
    }
    if (undecided) stack.push(undecided);
    undecided = null;
    leafOpen = null;
    if (stack.length > 100) throw parseError(E('too_deep', { depth: 100 }), { file, line: tokLine });
    const parent = stack.at(-1)!;
    parent.counts ??= new Map();
    const nth = (parent.counts.get(name) ?? 0) + 1;
    parent.counts.set(name, nth);
    const node: OfxNode = {
      name,
      line: tokLine,
      value: null,
      children: [],
      path: `${parent.path ? `${parent.path}/` : ''}${name}${nth > 1 || name === 'STMTTRN' ? `[${nth}]` : ''}`,
    };
    parent.children.push(node);
    undecided = node;
  }
  if (undecided) stack.push(undecided);
  if (stack.length > 1) {
    const open = stack.at(-1)!;
    throw parseError(E('never_closed', { name: open.name }), { file, line: open.line, path: open.path });
  }
  return { root, version };
}

const child = (n: OfxNode, name: string) => n.children.find((c) => c.name === name);
const children = (n: OfxNode, name: string) => n.children.filter((c) => c.name === name);
const leaf = (n: OfxNode, name: string) => {
  const c = child(n, name);
  return c?.value == null ? null : cleanText(c.value);
};

function* findAll(n: OfxNode, name: string): Generator<OfxNode> {
  for (const c of n.children) {
    if (c.name === name) yield c;
    else yield* findAll(c, name);
  }
}

/**
 * DTPOSTED and friends: YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]]. The calendar date is the one the
 * bank wrote, not shifted by the offset: the bank's booking day is what a statement shows.
 */
export function ofxDate(value: string | null, what: string | Text, where: { file?: string; line: number; path: string }): CalendarDate {
  if (value === null || value === '') throw parseError(E('missing', { what }), where);
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2}(\d{2}(\d{2}(\.\d{1,3})?)?)?)?\s*(\[[+-]?\d+(\.\d+)?(:[A-Za-z]+)?\])?$/.exec(value);
  if (!m) throw parseError(E('not_ofx_date', { what, value }), where);
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  if (!isCalendarDate(iso)) throw parseError(E('invalid_date', { what, value: value }), where);
  return iso as CalendarDate;
}

export function parseOfx(input: Buffer | string, opts: ParseOptions = {}): ParsedBankFile {
  const file = opts.filename;
  const text = decode(input, file).replace(/^\uFEFF/, '');
  const { root, version } = tree(text, file);
  const ofx = child(root, 'OFX');
  if (!ofx) throw parseError(E('no_ofx_element'), { file, line: 1 });

  const statements: BankStatement[] = [];
  const warnings: Text[] = [];
  const stmtNodes = [...findAll(ofx, 'STMTRS'), ...findAll(ofx, 'CCSTMTRS')];
  if (stmtNodes.length === 0) throw parseError(E('no_statement'), { file, line: ofx.line, path: ofx.path });
  for (const st of stmtNodes) {
    const currency = leaf(st, 'CURDEF');
    const w = { file, line: st.line, path: st.path };
    if (!currency || !/^[A-Z]{3}$/.test(currency)) throw parseError(E('curdef', { currency: currency ?? '' }), w);
    const acct = child(st, 'BANKACCTFROM') ?? child(st, 'CCACCTFROM');
    const accountNumber = acct ? leaf(acct, 'ACCTID') : null;
    const bankId = acct ? leaf(acct, 'BANKID') : null;
    const branchId = acct ? leaf(acct, 'BRANCHID') : null;
    const accountIban = accountNumber && /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(accountNumber.replace(/\s/g, '')) ? accountNumber.replace(/\s/g, '') : null;
    const fullAccount = accountNumber ? [bankId, branchId, accountNumber].filter(Boolean).join(' ') : null;
    // Some banks split a statement's transactions over several lists: every one is read.
    const lists = children(st, 'BANKTRANLIST');
    if (lists.length > 1) warnings.push(W('several_lists', { count: lists.length, path: st.path }));
    const lines: BankLine[] = [];
    for (const tr of lists.flatMap((list) => children(list, 'STMTTRN'))) {
      const tw = { file, line: tr.line, path: tr.path };
      const bookingDate = ofxDate(leaf(tr, 'DTPOSTED'), E('dtposted'), tw);
      const avail = leaf(tr, 'DTAVAIL');
      const valueDate = avail ? ofxDate(avail, E('dtavail'), tw) : null;
      const amountText = leaf(tr, 'TRNAMT');
      if (!amountText) throw parseError(E('no_trnamt'), tw);
      let amountMinor: bigint;
      try {
        amountMinor = parseAmount(amountText, currency);
      } catch (e) {
        throw parseError(E('trnamt', { value: amountText, reason: isRelanceError(e) ? (e.text ?? e.message) : String(e) }), tw);
      }
      const payee = child(tr, 'PAYEE');
      const name = leaf(tr, 'NAME') ?? (payee ? leaf(payee, 'NAME') : null);
      const to = child(tr, 'BANKACCTTO') ?? child(tr, 'CCACCTTO');
      const toId = to ? leaf(to, 'ACCTID') : null;
      lines.push({
        bookingDate,
        valueDate,
        amountMinor,
        currency: leaf(tr, 'CURRENCY') ?? currency,
        counterpartyName: name,
        counterpartyIban: toId && /^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(toId.replace(/\s/g, '')) ? toId.replace(/\s/g, '') : null,
        remittanceText: leaf(tr, 'MEMO'),
        creditorReference: null,
        label: name,
        entryReference: leaf(tr, 'FITID'),
        endToEndId: null,
        bankReference: cleanText([leaf(tr, 'REFNUM'), leaf(tr, 'CHECKNUM') && leaf(tr, 'CHECKNUM') !== '0' ? `CHECK ${leaf(tr, 'CHECKNUM')}` : null].filter(Boolean).join(' ')),
        transactionCode: leaf(tr, 'TRNTYPE'),
        reversal: false,
        accountIban,
        accountNumber: fullAccount,
        source: { line: tr.line, path: tr.path },
      });
    }
    const bal = child(st, 'LEDGERBAL');
    let closingBalance = null;
    // The balance is not needed to match payments: an empty one is noted, not a reason to refuse.
    if (bal && (!leaf(bal, 'BALAMT') || !leaf(bal, 'DTASOF'))) warnings.push(W('empty_balance', { path: bal.path }));
    if (bal && leaf(bal, 'BALAMT') && leaf(bal, 'DTASOF')) {
      const bw = { file, line: bal.line, path: bal.path };
      try {
        closingBalance = { amountMinor: parseAmount(leaf(bal, 'BALAMT')!, currency), date: ofxDate(leaf(bal, 'DTASOF'), E('dtasof'), bw) };
      } catch (e) {
        throw isRelanceError(e) && e.code === 'parse' ? e : parseError(E('balamt', { reason: isRelanceError(e) ? (e.text ?? e.message) : (e as Error).message }), bw);
      }
    }
    statements.push({ id: null, accountIban, accountNumber: fullAccount, currency, openingBalance: null, closingBalance, lines });
  }
  return { format: 'ofx', version: version ? `OFX ${version}` : null, statements, warnings };
}
