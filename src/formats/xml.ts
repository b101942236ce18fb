/**
 * The one XML reader of Relance, and its policy: every XML file read (camt.053/.054 statements,
 * CII/UBL e-invoices, the XML inside a Factur-X PDF) goes through `xmlText` then `readXml`.
 * Elements, attributes, text, CDATA; namespace prefixes dropped (files use a default namespace or
 * any prefix). Well-formedness is checked as it reads (every tag closed in order, one root) and an
 * error names the line. The policy, the same for every format:
 * - no DTD: a DOCTYPE is refused, so no entity expansion (billion laughs) or external entity (XXE);
 * - only the five predefined entities and character references;
 * - elements nested at most XML_MAX_DEPTH deep;
 * - each format bounds the size it reads before calling (e-invoice XML: EINVOICE_XML_MAX_BYTES).
 *
 * It exists because a general-purpose parser plus its validator took most of the time of a
 * 10,000-entry camt.053 import; this one reads the same file several times faster.
 *
 * Output: an element with neither attributes nor children is its text, trimmed (string); otherwise
 * an object with children by local name (an array when the name repeats or is listed in `repeated`),
 * attributes as "@name" and text as "#text".
 */
import { decodeText } from './csv-sniff.ts';

/**
 * The text of an XML file: in the encoding its declaration names when that is Latin-1 or
 * Windows-1252, else UTF-8 by the common rule (a damaged byte refused by line and column).
 */
export function xmlText(bytes: Buffer, file?: string): string {
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.-]+)["']/i.exec(bytes.toString('latin1', 0, 200))?.[1]?.toLowerCase();
  if (declared && /^(iso-?8859-?1|latin-?1)$/.test(declared)) return bytes.toString('latin1');
  if (declared && /^(windows-?1252|cp1252)$/.test(declared)) return new TextDecoder('windows-1252').decode(bytes);
  return decodeText(bytes, { file });
}

export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [k: string]: XmlValue;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** A statement or an invoice nests a dozen levels; hundreds are an attack on the reader. */
export const XML_MAX_DEPTH = 100;
function decode(s: string, line: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;\s]{1,10});/g, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      if (!Number.isInteger(code) || code < 0 || code > 0x10ffff) throw new XmlSyntaxError(`invalid character reference ${m}`, line);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[e];
    if (v === undefined) throw new XmlSyntaxError(`unknown entity ${m}`, line);
    return v;
  });
}

const local = (qname: string) => {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
};

interface Frame {
  name: string;
  qname: string;
  obj: XmlObject;
  text: string;
  hasChildren: boolean;
  hasAttrs: boolean;
  line: number;
}

export function readXml(text: string, repeated: ReadonlySet<string> = new Set()): XmlObject {
  const root: Frame = { name: '#document', qname: '#document', obj: {}, text: '', hasChildren: false, hasAttrs: false, line: 1 };
  const stack: Frame[] = [root];
  let line = 1;
  let pos = 0;
  let roots = 0;
  const n = text.length;
  const advance = (to: number) => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    pos = to;
  };
  const attach = (parent: Frame, name: string, value: XmlValue) => {
    parent.hasChildren = true;
    const prev = parent.obj[name];
    if (prev === undefined) parent.obj[name] = repeated.has(name) ? [value] : value;
    else if (Array.isArray(prev) && (repeated.has(name) || (prev as unknown as { __multi?: boolean }).__multi)) prev.push(value);
    else {
      const arr = [prev, value];
      Object.defineProperty(arr, '__multi', { value: true });
      parent.obj[name] = arr;
    }
  };
  while (pos < n) {
    const lt = text.indexOf('<', pos);
    if (lt < 0) {
      const rest = text.slice(pos);
      if (rest.trim() !== '') throw new XmlSyntaxError('text after the root element', line);
      advance(n);
      break;
    }
    if (lt > pos) {
      const chunk = text.slice(pos, lt);
      const top = stack[stack.length - 1]!;
      if (stack.length === 1) {
        if (chunk.trim() !== '') throw new XmlSyntaxError('text outside the root element', line);
      } else top.text += decode(chunk, line);
      advance(lt);
    }
    const c1 = text.charCodeAt(lt + 1);
    if (c1 === 63 /* ? */) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) throw new XmlSyntaxError('unterminated processing instruction', line);
      advance(end + 2);
      continue;
    }
    if (c1 === 33 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt + 4);
        if (end < 0) throw new XmlSyntaxError('unterminated comment', line);
        advance(end + 3);
        continue;
      }
      if (text.startsWith('<![CDATA[', lt)) {
        const end = text.indexOf(']]>', lt + 9);
        if (end < 0) throw new XmlSyntaxError('unterminated CDATA section', line);
        if (stack.length === 1) throw new XmlSyntaxError('CDATA outside the root element', line);
        stack[stack.length - 1]!.text += text.slice(lt + 9, end);
        advance(end + 3);
        continue;
      }
      throw new XmlSyntaxError('DOCTYPE and declarations are not accepted', line);
    }
    const gt = tagEnd(text, lt + 1);
    if (gt < 0) throw new XmlSyntaxError('unterminated tag', line);
    const tagLine = line;
    const raw = text.slice(lt + 1, gt);
    if (raw.startsWith('/')) {
      const qname = raw.slice(1).trim();
      const top = stack.pop();
      if (!top || top === root) throw new XmlSyntaxError(`closing tag </${qname}> without an open element`, tagLine);
      if (top.qname !== qname) throw new XmlSyntaxError(`expected </${top.qname}> (opened on line ${top.line}), found </${qname}>`, tagLine);
      finish(top, stack[stack.length - 1]!);
      advance(gt + 1);
      continue;
    }
    const selfClosing = raw.endsWith('/');
    const body = selfClosing ? raw.slice(0, -1) : raw;
    const m = /^([A-Za-z_][\w.:-]*)/.exec(body);
    if (!m) throw new XmlSyntaxError(`malformed tag <${raw.slice(0, 30)}>`, tagLine);
    const qname = m[1]!;
    const frame: Frame = { name: local(qname), qname, obj: {}, text: '', hasChildren: false, hasAttrs: false, line: tagLine };
    const attrs = body.slice(qname.length);
    if (attrs.trim() !== '') {
      const re = /\s*([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/gy;
      let am: RegExpExecArray | null;
      let consumed = 0;
      while ((am = re.exec(attrs))) {
        consumed = re.lastIndex;
        const aname = am[1]!;
        if (aname === 'xmlns' || aname.startsWith('xmlns:')) continue;
        frame.obj[`@${local(aname)}`] = decode(am[3] ?? am[4] ?? '', tagLine);
        frame.hasAttrs = true;
      }
      if (attrs.slice(consumed).trim() !== '') throw new XmlSyntaxError(`malformed attributes in <${qname}>`, tagLine);
    }
    const parent = stack[stack.length - 1]!;
    if (parent === root && ++roots > 1) throw new XmlSyntaxError('more than one root element', tagLine);
    if (stack.length > XML_MAX_DEPTH) throw new XmlSyntaxError(`elements nested deeper than ${XML_MAX_DEPTH} levels`, tagLine);
    advance(gt + 1);
    if (selfClosing) finish(frame, parent);
    else stack.push(frame);
  }
  if (stack.length > 1) {
    const top = stack[stack.length - 1]!;
    throw new XmlSyntaxError(`element <${top.qname}> opened on line ${top.line} is never closed`, line);
  }
  if (roots === 0) throw new XmlSyntaxError('no root element', line);
  return root.obj;

  function finish(f: Frame, parent: Frame) {
    const t = f.text.trim();
    if (!f.hasChildren && !f.hasAttrs) attach(parent, f.name, t);
    else {
      if (t !== '') f.obj['#text'] = t;
      attach(parent, f.name, f.obj);
    }
  }
}

/** The `>` that ends a tag: one inside a quoted attribute value (legal XML) does not. */
function tagEnd(text: string, from: number): number {
  const gt = text.indexOf('>', from);
  if (gt < 0) return gt;
  // Most tags hold no quote: looked for within the tag only (a search to the end of the text for
  // each tag would make reading quadratic).
  let quoted = false;
  for (let i = from; i < gt; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39) {
      quoted = true;
      break;
    }
  }
  if (!quoted) return gt;
  let quote = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
  }
  return -1;
}
