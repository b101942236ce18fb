/**
 * `POST /api/v1/templates/preview` for a letter (issue 16, smaller ones): it used to answer with
 * null bodies. It returns the PDF exactly as it would be printed; its text (read with pdftotext)
 * carries the subject, the invoice and the amount, and nothing meant for the operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';
import { pdfText } from './debtor-harness.ts';

describe.each(dbTargets())('template preview of a letter on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let key: string;
  beforeAll(async () => {
    db = await target.open();
    const org = (await db.tx((q) => createOrganisation(q, { legalName: 'Atelier Roux SAS', siren: '552100554', language: 'fr' }))).id;
    key = (await db.tx((q) => createApiKey(q, org, { name: 'erp', scope: 'read' }))).key;
    app = createApp({ db, now: () => new Date('2026-06-01T08:00:00Z') });
  });
  afterAll(async () => db?.close());

  it.each([
    ['reminder', 'fr', /Rappel/],
    ['formal_notice', 'fr', /MISE EN DEMEURE/i],
    ['firm', 'en', /reminder/i],
  ])('%s in %s: the PDF as printed, not null bodies', async (template, lang, title) => {
    const res = await app.request('/api/v1/templates/preview', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ template, channel: 'letter', lang }),
    });
    expect(res.status).toBe(200);
    const r = (await res.json()) as { subject: string; pdfBase64: string | null; lang: string };
    expect(r.lang).toBe(lang);
    expect(r.pdfBase64).toEqual(expect.any(String));
    const pdf = Buffer.from(r.pdfBase64!, 'base64');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf).replace(/\s+/g, ' ');
    expect(text).toMatch(title);
    expect(text).toContain(r.subject.replace(/\s+/g, ' ').slice(0, 20));
    expect(text).not.toMatch(/relance rates|\{\{|\{%|undefined|NaN/);
  });
});
