/**
 * The letterhead's logo from the settings: a PNG or JPEG uploaded, replaced, removed; a wrong or
 * hostile file is a 400 naming the field, never a 500; the letters then carry the image.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { previewTemplate } from '../src/documents/preview.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
const PNG = readFileSync(new URL('./fixtures/branding/logo.png', import.meta.url));
const JPEG = readFileSync(new URL('./fixtures/branding/logo.jpg', import.meta.url));

/** A PNG made of the chunks given, each with its right CRC (so only what is inside is wrong). */
function png(chunks: [string, Buffer][]): Buffer {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = table[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const parts = chunks.map(([type, data]) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([head, body, sum]);
  });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...parts]);
}
const ihdr = (w: number, h: number, depth = 8, colour = 6) => {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(w, 0);
  b.writeUInt32BE(h, 4);
  b.set([depth, colour, 0, 0, 0], 8);
  return b;
};

describe.each(dbTargets())('the logo in the settings on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let cookie: string;
  let orgId: string;
  const headers = () => ({ cookie, host: HOST, origin: `http://${HOST}` });
  const upload = async (bytes: Buffer, name: string, type: string) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
    const r = await app.request(`http://${HOST}/api/app/settings/logo`, { method: 'POST', headers: headers(), body: form });
    return { status: r.status, body: (await r.json()) as { where?: { field?: string }; detail?: string; ok?: boolean } };
  };
  const settings = async () => (await (await app.request(`http://${HOST}/api/app/settings`, { headers: headers() })).json()) as { branding: { hasLogo: boolean } };
  const documents = async () => Number((await db.query<{ n: bigint }>('SELECT count(*) AS n FROM documents WHERE organisation_id = $1', [orgId]))[0]!.n);

  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Imprimerie Logo', city: 'Lyon' })).id;
    await db.tx((q) => addUser(q, orgId, { email: 'admin@logo.fr', role: 'admin', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'admin@logo.fr', PASSWORD, { organisationId: orgId, now: new Date() }));
    cookie = `relance_session=${s.token}`;
    app = createApp({ db, now: () => new Date() });
  });
  afterAll(async () => db?.close());

  it('a PNG is stored, shown back, replaced by a JPEG (the PNG goes), then removed', async () => {
    expect((await settings()).branding.hasLogo).toBe(false);
    expect((await upload(PNG, 'logo.png', 'image/png')).status).toBe(200);
    expect((await settings()).branding.hasLogo).toBe(true);
    let back = await app.request(`http://${HOST}/api/app/settings/logo`, { headers: headers() });
    expect(back.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await back.arrayBuffer()).equals(PNG)).toBe(true);

    expect((await upload(JPEG, 'logo.jpg', 'image/jpeg')).status).toBe(200);
    back = await app.request(`http://${HOST}/api/app/settings/logo`, { headers: headers() });
    expect(back.headers.get('content-type')).toBe('image/jpeg');
    expect(await documents()).toBe(1);

    const del = await app.request(`http://${HOST}/api/app/settings/logo`, { method: 'DELETE', headers: headers() });
    expect(del.status).toBe(200);
    expect((await settings()).branding.hasLogo).toBe(false);
    expect(await documents()).toBe(0);
    expect((await app.request(`http://${HOST}/api/app/settings/logo`, { headers: headers() })).status).toBe(404);
  });

  it('a wrong or hostile file is a 400 naming the logo, and the stored logo stays', async () => {
    expect((await upload(PNG, 'logo.png', 'image/png')).status).toBe(200);
    const truncated = PNG.subarray(0, 60);
    const flipped = Buffer.from(PNG);
    flipped[PNG.length - 20] = flipped[PNG.length - 20]! ^ 0xff; // inside the image data: its CRC no longer matches
    const rows = Buffer.alloc(2 * (1 + 2 * 4));
    rows[0] = 9; // a row filter that does not exist: pdfkit's decoder would throw later, in a callback
    const badFilter = png([['IHDR', ihdr(2, 2)], ['IDAT', deflateSync(rows)], ['IEND', Buffer.alloc(0)]]);
    // 4000 x 4000 pixels announced, a few bytes given: no decompression bomb, no half image.
    const short = png([['IHDR', ihdr(4000, 4000)], ['IDAT', deflateSync(Buffer.alloc(100))], ['IEND', Buffer.alloc(0)]]);
    const huge = png([['IHDR', ihdr(20000, 20000)], ['IDAT', deflateSync(Buffer.alloc(100))], ['IEND', Buffer.alloc(0)]]);
    const sixteen = png([['IHDR', ihdr(1, 1, 16, 6)], ['IDAT', deflateSync(Buffer.alloc(9))], ['IEND', Buffer.alloc(0)]]);
    const jpegCut = JPEG.subarray(0, 200);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    const big = Buffer.concat([PNG, Buffer.alloc(1024 * 1024)]);
    for (const [name, bytes] of [
      ['truncated.png', truncated], ['flipped.png', flipped], ['filter.png', badFilter], ['short.png', short], ['huge.png', huge],
      ['sixteen.png', sixteen], ['cut.jpg', jpegCut], ['logo.svg', svg], ['logo.gif', gif], ['big.png', big], ['empty.png', Buffer.alloc(0)],
    ] as const) {
      const r = await upload(bytes, name, 'image/png');
      expect(r.status, name).toBe(400);
      expect(r.body.where?.field, name).toBe('logo');
      expect(r.body.detail, name).toBeTruthy();
    }
    const back = await app.request(`http://${HOST}/api/app/settings/logo`, { headers: headers() });
    expect(Buffer.from(await back.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('the letter carries the logo: an image XObject of its size in the PDF (PNG, then JPEG)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relance-logo-'));
    try {
      for (const [bytes, type] of [[PNG, 'image/png'], [JPEG, 'image/jpeg']] as const) {
        expect((await upload(bytes, 'logo', type)).status).toBe(200);
        const r = await db.tx((q) => previewTemplate(q, orgId, { key: 'formal_notice', channel: 'letter', lang: 'fr' }));
        const pdf = Buffer.from(r.pdf!, 'base64');
        expect(pdf.toString('latin1')).toMatch(/\/Subtype \/Image/);
        const file = join(dir, 'letter.pdf');
        writeFileSync(file, pdf);
        const list = execFileSync('pdfimages', ['-list', file], { encoding: 'utf8' });
        // page num type width height ...: the 240 x 80 logo is on the first page.
        expect(list.split('\n').some((l) => /^\s*1\s+\d+\s+image\s+240\s+80\b/.test(l)), list).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
