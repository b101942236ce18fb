/**
 * The organisation's logo, printed on every letter and PDF (pdf.ts). An upload is checked before it
 * is stored: a PNG or JPEG of at most 1 MiB that pdfkit embeds. A PNG is decoded here in full and
 * synchronously, because pdfkit decodes one with transparency later in a callback, where a corrupt
 * file would be an uncaught exception in the worker instead of a refusal now.
 */
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import PDFDocument from 'pdfkit';
import type { Queryable } from '../db/driver.ts';
import { validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('logo', {
  too_large: { fr: "le logo dépasse 1 Mo : réduisez l’image", en: "the logo is larger than 1 MB: make the image smaller" },
  not_image: { fr: "le logo doit être une image PNG ou JPEG", en: "the logo must be a PNG or JPEG image" },
  broken: { fr: "ce fichier n’est pas une image PNG ou JPEG lisible (fichier abîmé ou d’un autre format)", en: "this file is not a readable PNG or JPEG image (damaged, or another format)" },
  dimensions: { fr: "le logo doit mesurer au plus {max} pixels de côté", en: "the logo must be at most {max} pixels on each side" },
  sixteen_bits: { fr: "ce PNG a 16 bits par couleur : enregistrez-le en 8 bits", en: "this PNG has 16 bits per colour: save it as 8 bits" },
});

export const LOGO_MAX_BYTES = 1024 * 1024;
const MAX_SIDE = 4000;
const FIELD = { field: 'logo' };

export type LogoType = 'image/png' | 'image/jpeg';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Channels per pixel by PNG colour type. */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const;

const broken = () => validation(E('broken'), FIELD);

function checkPng(b: Buffer): void {
  let at = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | null = null;
  const idat: Buffer[] = [];
  let palette = false;
  let ended = false;
  while (at + 12 <= b.length && !ended) {
    const len = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (len > b.length - at - 12) throw broken();
    const data = b.subarray(at + 8, at + 8 + len);
    if ((b.readUInt32BE(at + 8 + len) >>> 0) !== (crc32(b.subarray(at + 4, at + 8 + len)) >>> 0)) throw broken();
    if (!header && type !== 'IHDR') throw broken();
    if (type === 'IHDR') {
      if (len !== 13 || header) throw broken();
      header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8]!, colour: data[9]!, interlace: data[12]! };
      if (data[10] !== 0 || data[11] !== 0 || header.interlace > 1 || PNG_CHANNELS[header.colour] === undefined) throw broken();
    } else if (type === 'PLTE') palette = true;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    at += 12 + len;
  }
  if (!header || !ended || idat.length === 0 || header.width === 0 || header.height === 0) throw broken();
  const { width, height, depth, colour, interlace } = header;
  if (width > MAX_SIDE || height > MAX_SIDE) throw validation(E('dimensions', { max: MAX_SIDE }), FIELD);
  if (depth === 16) throw validation(E('sixteen_bits'), FIELD);
  const depthOk = colour === 0 || colour === 3 ? [1, 2, 4, 8].includes(depth) : depth === 8;
  if (!depthOk || (colour === 3 && !palette)) throw broken();
  const bitsPerPixel = PNG_CHANNELS[colour]! * depth;
  const passes = interlace ? ADAM7.map(([x, y, dx, dy]) => [Math.ceil((width - x) / dx), Math.ceil((height - y) / dy)] as const) : [[width, height] as const];
  const rows = passes.filter(([w, h]) => w > 0 && h > 0).map(([w, h]) => ({ bytes: 1 + Math.ceil((w * bitsPerPixel) / 8), count: h }));
  const expected = rows.reduce((s, r) => s + r.bytes * r.count, 0);
  let pixels: Buffer;
  try {
    pixels = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    throw broken();
  }
  if (pixels.length !== expected) throw broken();
  // Each row starts with its filter (0 to 4); another value stops pdfkit's decoder.
  let row = 0;
  for (const r of rows) {
    for (let i = 0; i < r.count; i++, row += r.bytes) if (pixels[row]! > 4) throw broken();
  }
}

function checkJpeg(b: Buffer): void {
  // Segments up to the frame header, which gives the size and the colour components.
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw broken();
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const len = b.readUInt16BE(at + 2);
    if (len < 2 || at + 2 + len > b.length) throw broken();
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (len < 8) throw broken();
      const height = b.readUInt16BE(at + 5);
      const width = b.readUInt16BE(at + 7);
      const components = b[at + 9]!;
      if (!width || !height || ![1, 3, 4].includes(components)) throw broken();
      if (width > MAX_SIDE || height > MAX_SIDE) throw validation(E('dimensions', { max: MAX_SIDE }), FIELD);
      if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) throw broken();
      return;
    }
    if (marker === 0xda || marker === 0xd9) break;
    at += 2 + len;
  }
  throw broken();
}

export const logoTooLarge = () => validation(E('too_large'), FIELD);

/** Checks an uploaded logo; the error names the field `logo`. */
export function checkLogo(bytes: Buffer): LogoType {
  if (bytes.length > LOGO_MAX_BYTES) throw logoTooLarge();
  let type: LogoType;
  if (bytes.length > 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    checkPng(bytes);
    type = 'image/png';
  } else if (bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    checkJpeg(bytes);
    type = 'image/jpeg';
  } else {
    throw validation(E('not_image'), FIELD);
  }
  try {
    // What pdfkit reads of it when a letter is drawn (its size, its colour space).
    const doc = new PDFDocument({ autoFirstPage: false }) as unknown as { openImage(src: Buffer): { width: number; height: number } };
    const img = doc.openImage(bytes);
    if (!(img.width > 0 && img.height > 0)) throw broken();
  } catch {
    throw broken();
  }
  return type;
}

/** Stores a checked logo as a document and makes it the letterhead's; the previous one is removed. */
export async function saveLogo(q: Queryable, orgId: string, bytes: Buffer, filename: string): Promise<void> {
  const type = checkLogo(bytes);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const name = (filename.replace(/[^\p{L}\p{N}._ -]/gu, '_').slice(0, 100) || 'logo') as string;
  const [doc] = await q.query<{ id: bigint }>(
    'INSERT INTO documents (organisation_id, filename, content_type, sha256, content) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [orgId, name, type, sha, bytes],
  );
  const [before] = await q.query<{ logo_document_id: bigint | null }>('SELECT logo_document_id FROM document_branding WHERE organisation_id = $1', [orgId]);
  await q.query(
    `INSERT INTO document_branding (organisation_id, logo_document_id) VALUES ($1, $2)
     ON CONFLICT (organisation_id) DO UPDATE SET logo_document_id = EXCLUDED.logo_document_id, updated_at = now()`,
    [orgId, doc!.id],
  );
  if (before?.logo_document_id) await q.query('DELETE FROM documents WHERE organisation_id = $1 AND id = $2', [orgId, before.logo_document_id]);
}

/** Letters go out without a logo again. */
export async function removeLogo(q: Queryable, orgId: string): Promise<void> {
  const [before] = await q.query<{ logo_document_id: bigint | null }>('SELECT logo_document_id FROM document_branding WHERE organisation_id = $1', [orgId]);
  if (!before?.logo_document_id) return;
  await q.query('UPDATE document_branding SET logo_document_id = NULL, updated_at = now() WHERE organisation_id = $1', [orgId]);
  await q.query('DELETE FROM documents WHERE organisation_id = $1 AND id = $2', [orgId, before.logo_document_id]);
}

/** The logo as stored, for the settings screen's preview. */
export async function getLogo(q: Queryable, orgId: string): Promise<{ bytes: Buffer; contentType: string } | null> {
  const [r] = await q.query<{ content: Uint8Array; content_type: string }>(
    `SELECT d.content, d.content_type FROM document_branding b JOIN documents d ON d.organisation_id = b.organisation_id AND d.id = b.logo_document_id
      WHERE b.organisation_id = $1`,
    [orgId],
  );
  return r ? { bytes: Buffer.from(r.content), contentType: r.content_type } : null;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
