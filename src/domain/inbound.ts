/**
 * Mail that comes back, read (pure: bytes in, facts out). A small MIME walker (nested multiparts,
 * base64 and quoted-printable bodies), delivery status notifications (RFC 3464 multipart/report,
 * RFC 6533 global variants, and Exim's X-Failed-Recipients bounces), their recipients' outcomes,
 * the headers of the returned original message, and automatic replies (RFC 3834 Auto-Submitted and
 * the usual out-of-office markers).
 */

export interface MimePart {
  /** Lower-case header names; a repeated header keeps every value, in order. */
  headers: Map<string, string[]>;
  /** Lower-case "type/subtype" (text/plain when absent). */
  type: string;
  params: Record<string, string>;
  /** The body, transfer-decoded (for a multipart: what follows its headers, undecoded). */
  body: Buffer;
  parts: MimePart[];
}

const latin1 = (b: Buffer) => b.toString('latin1');

/** Unfolded header fields of a header block ("Name: value" lines, continuation lines joined). */
export function parseHeaderBlock(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let current: { name: string; value: string } | null = null;
  const flush = () => {
    if (!current) return;
    const list = headers.get(current.name) ?? [];
    list.push(current.value.trim());
    headers.set(current.name, list);
    current = null;
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && current) {
      current.value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const m = /^([!-9;-~]+):(.*)$/.exec(line);
    if (m) current = { name: m[1]!.toLowerCase(), value: m[2]! };
  }
  flush();
  return headers;
}

export function firstHeader(headers: Map<string, string[]>, name: string): string | null {
  return headers.get(name.toLowerCase())?.[0] ?? null;
}

/** "multipart/report; report-type=delivery-status; boundary="x"" -> type and parameters. */
export function parseContentType(value: string | null): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [head, ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { type: (head ?? '').trim().toLowerCase() || 'text/plain', params };
}

/** Splits at semicolons outside quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted) {
      cur += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function decodeQuotedPrintable(b: Buffer): Buffer {
  const s = latin1(b).replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(out);
}

function indexOfHeaderEnd(raw: Buffer): { at: number; length: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return { at: raw.length, length: 0 };
}

/** A message (or a part) as a tree of parts; bodies of leaves are transfer-decoded. */
export function parseMime(raw: Buffer, depth = 0): MimePart {
  const end = indexOfHeaderEnd(raw);
  const headers = parseHeaderBlock(latin1(raw.subarray(0, end.at)));
  const body = raw.subarray(Math.min(raw.length, end.at + end.length));
  const { type, params } = parseContentType(firstHeader(headers, 'content-type'));
  const part: MimePart = { headers, type, params, body, parts: [] };
  if (type.startsWith('multipart/') && params.boundary && depth < 10) {
    for (const chunk of splitMultipart(body, params.boundary)) part.parts.push(parseMime(chunk, depth + 1));
    return part;
  }
  const encoding = (firstHeader(headers, 'content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'base64') part.body = Buffer.from(latin1(body).replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (encoding === 'quoted-printable') part.body = decodeQuotedPrintable(body);
  return part;
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = latin1(body);
  const delimiter = `--${boundary}`;
  const chunks: Buffer[] = [];
  let pos = text.startsWith(delimiter) ? 0 : text.indexOf(`\n${delimiter}`);
  if (pos < 0) return chunks;
  if (pos > 0) pos += 1;
  for (;;) {
    const lineEnd = text.indexOf('\n', pos);
    if (text.startsWith(`${delimiter}--`, pos) || lineEnd < 0) break;
    const start = lineEnd + 1;
    let next = text.indexOf(`\n${delimiter}`, start);
    if (next < 0) next = text.length;
    let stop = next;
    if (stop > start && text[stop - 1] === '\r') stop--;
    chunks.push(body.subarray(start, stop));
    if (next >= text.length) break;
    pos = next + 1;
  }
  return chunks;
}

export function* walkParts(p: MimePart): Generator<MimePart> {
  yield p;
  for (const c of p.parts) yield* walkParts(c);
}

// ------------------------------------------------------------------ delivery status notifications

export interface DsnRecipient {
  /** The address the report is about (Final-Recipient, else Original-Recipient), lower-case. */
  address: string;
  /** failed, delayed, delivered, relayed, expanded. */
  action: string;
  /** The enhanced status code, e.g. 5.1.1 (null when the report gives none). */
  status: string | null;
  diagnostic: string | null;
}

export type RecipientOutcome = 'hard' | 'soft' | 'delivered';

/**
 * What a recipient's report means: failed with a 5.x.x status is a hard bounce (the address
 * refuses mail for good); failed with 4.x.x (the server gave up retrying) or delayed is a soft one;
 * delivered, relayed and expanded mean the message got through.
 */
export function recipientOutcome(r: Pick<DsnRecipient, 'action' | 'status'>): RecipientOutcome {
  const action = r.action.toLowerCase();
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return 'delivered';
  if (action === 'failed') return r.status?.startsWith('4.') ? 'soft' : 'hard';
  return 'soft';
}

export interface DeliveryReport {
  /** rfc3464 (multipart/report), or exim (X-Failed-Recipients). */
  format: 'rfc3464' | 'exim';
  reportingMta: string | null;
  recipients: DsnRecipient[];
  /** Message-ID of the message that bounced, from the returned copy or its headers. */
  originalMessageId: string | null;
  /** X-Relance-Action of the returned copy: "<organisation id>/<action id>". */
  originalAction: string | null;
  /** The overall outcome: hard when any recipient bounced for good, else soft, else delivered. */
  outcome: RecipientOutcome;
}

const addressOf = (field: string | null): string | null => {
  if (!field) return null;
  // "rfc822; marie@client.test" or "utf-8; ..." (RFC 6533); the address type is before the semicolon.
  const v = field.includes(';') ? field.slice(field.indexOf(';') + 1) : field;
  const a = v.trim().replace(/^<|>$/g, '').trim();
  return a ? a.toLowerCase() : null;
};

const statusOf = (field: string | null): string | null => /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(field ?? '')?.[1] ?? null;

/** The per-recipient blocks of a message/delivery-status body. */
export function parseDeliveryStatus(text: string): { reportingMta: string | null; recipients: DsnRecipient[] } {
  const blocks = text
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((b) => b.trim())
    .filter(Boolean)
    .map(parseHeaderBlock);
  const first = blocks[0];
  const reportingMta = first ? addressOf(firstHeader(first, 'reporting-mta')) : null;
  const recipients: DsnRecipient[] = [];
  for (const b of blocks) {
    const address = addressOf(firstHeader(b, 'final-recipient')) ?? addressOf(firstHeader(b, 'original-recipient'));
    const action = firstHeader(b, 'action');
    if (!address || !action) continue;
    recipients.push({ address, action: action.toLowerCase(), status: statusOf(firstHeader(b, 'status')), diagnostic: firstHeader(b, 'diagnostic-code') });
  }
  return { reportingMta, recipients };
}

const ORIGINAL_TYPES = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers']);

function originalHeaders(root: MimePart): Map<string, string[]> | null {
  for (const p of walkParts(root)) {
    if (p === root || !ORIGINAL_TYPES.has(p.type)) continue;
    const end = indexOfHeaderEnd(p.body);
    return parseHeaderBlock(latin1(p.body.subarray(0, end.at)));
  }
  return null;
}

function overall(recipients: DsnRecipient[]): RecipientOutcome {
  const outcomes = recipients.map(recipientOutcome);
  if (outcomes.includes('hard')) return 'hard';
  if (outcomes.includes('soft') || outcomes.length === 0) return 'soft';
  return 'delivered';
}

/** The delivery report a message is, or null when it is not one. */
export function readDeliveryReport(raw: Buffer): DeliveryReport | null {
  const root = parseMime(raw);
  const report = root.type === 'multipart/report' ? root : [...walkParts(root)].find((p) => p.type === 'multipart/report');
  const kind = report?.params['report-type']?.toLowerCase();
  if (report && (kind === 'delivery-status' || kind === 'global-delivery-status')) {
    const status = [...walkParts(report)].find((p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status');
    const parsed = status ? parseDeliveryStatus(status.body.toString('utf8')) : { reportingMta: null, recipients: [] };
    const original = originalHeaders(report);
    return {
      format: 'rfc3464',
      reportingMta: parsed.reportingMta,
      recipients: parsed.recipients,
      originalMessageId: original ? (firstHeader(original, 'message-id')?.match(/<[^>]+>/)?.[0] ?? null) : null,
      originalAction: original ? firstHeader(original, 'x-relance-action') : null,
      outcome: overall(parsed.recipients),
    };
  }
  // Exim (and a few others) bounce without a report: the failed addresses in a header, the
  // returned message in the body after its own headers.
  const failed = firstHeader(root.headers, 'x-failed-recipients');
  if (failed) {
    const text = [...walkParts(root)].filter((p) => p.parts.length === 0).map((p) => latin1(p.body)).join('\n');
    const status = statusOf(text) ?? '5.0.0';
    const diagnostic = /^\s*([45]\d\d[ -][^\r\n]+)/m.exec(text)?.[1]?.trim() ?? null;
    const recipients = failed
      .split(',')
      .map((a) => a.trim().replace(/^<|>$/g, '').toLowerCase())
      .filter(Boolean)
      .map((address) => ({ address, action: 'failed', status, diagnostic }));
    const copy = /^Message-ID:\s*(<[^>]+>)/im.exec(text)?.[1] ?? null;
    return {
      format: 'exim',
      reportingMta: null,
      recipients,
      originalMessageId: copy,
      originalAction: /^X-Relance-Action:\s*(\S+)/im.exec(text)?.[1] ?? null,
      outcome: overall(recipients),
    };
  }
  return null;
}

// ------------------------------------------------------------------ automatic replies

const AUTO_SUBJECT = /^(auto(matic)?[ -]?(reply|response)|r[ée]ponse automatique|out of (the )?office|absence|abwesenheit|automatische antwort|respuesta autom[áa]tica|fuori sede)\b/i;

/**
 * Whether a message was written by a machine on someone's behalf (RFC 3834 Auto-Submitted and the
 * usual out-of-office markers); `subject` is the decoded subject.
 */
export function isAutoReply(headers: Map<string, string[]>, subject: string): boolean {
  const submitted = firstHeader(headers, 'auto-submitted')?.toLowerCase();
  if (submitted && !submitted.startsWith('no')) return true;
  if (headers.has('x-autoreply') || headers.has('x-autorespond') || headers.has('x-autoreply-from')) return true;
  if (firstHeader(headers, 'precedence')?.toLowerCase() === 'auto_reply') return true;
  return AUTO_SUBJECT.test(subject.trim());
}
