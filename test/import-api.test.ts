import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../src/cli/program.ts';
import type { CliContext } from '../src/cli/context.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { importCsv } from '../src/imports/csv.ts';
import type { ImportProgress } from '../src/imports/report.ts';
import { createOrganisation, getInvoiceByNumber } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const F = (n: string) => join(import.meta.dirname, 'fixtures', 'imports', n);

describe.each(dbTargets())('imports through the API on $name', (target) => {
  let db: Db;
  let org: string;
  let key: string;
  beforeAll(async () => {
    db = await target.open();
    org = (await createOrganisation(db, { legalName: 'LE FOURNISSEUR', siren: '123456782' })).id;
    key = (await createApiKey(db, org, { name: 'erp', scope: 'write' })).key;
  });
  afterAll(async () => db?.close());

  const post = (kind: string, bytes: Buffer, query = '') =>
    createApp({ db, now: () => new Date() }).request(`/api/v1/imports/${kind}${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });

  it('the same implementation as the CLI: dry run, then import, then the run log', async () => {
    const file = readFileSync(F('invoices-fr-1252.csv'));
    const dry = await (await post('invoices', file, '?dryRun=true&filename=factures.csv')).json();
    expect(dry).toMatchObject({ outcome: 'dry_run', rowsRead: 4, detected: { encoding: 'windows-1252', separator: ';' } });
    await expect(getInvoiceByNumber(db, org, 'FA-2026-001')).rejects.toThrow(/not found/);
    const done = await (await post('invoices', file, '?filename=factures.csv')).json();
    expect(done).toMatchObject({ outcome: 'imported', counts: { invoices: { inserted: 4 } } });
    const runs = (await (await createApp({ db, now: () => new Date() }).request('/api/v1/imports', { headers: { authorization: `Bearer ${key}` } })).json()) as {
      data: { outcome: string; filename: string }[];
    };
    expect(runs.data.map((r: { outcome: string; filename: string }) => [r.outcome, r.filename])).toEqual([
      ['imported', 'factures.csv'],
      ['dry_run', 'factures.csv'],
    ]);
  });

  it('a rejected file answers 200 with the report of every bad row, and writes nothing', async () => {
    const r = await post('invoices', readFileSync(F('invoices-bad.tsv')));
    expect(r.status).toBe(200);
    const body = (await r.json()) as { outcome: string; problemCount: number; problems: unknown[] };
    expect(body.outcome).toBe('rejected');
    expect(body.problemCount).toBe(6);
    expect(body.problems[0]).toEqual({ line: 3, column: 'Date facture', reason: expect.stringContaining('31/02/2026') });
  });

  it('a French caller reads the reasons in French, an English one in English (Accept-Language)', async () => {
    const bytes = readFileSync(F('invoices-bad.tsv'));
    const ask = async (lang: string) =>
      (await (
        await createApp({ db, now: () => new Date() }).request('/api/v1/imports/invoices', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream', 'accept-language': lang },
          body: new Uint8Array(bytes),
        })
      ).json()) as { problems: { line: number; reason: string }[] };
    const fr = await ask('fr-FR,fr;q=0.9');
    const en = await ask('en-GB');
    expect(fr.problems.map((p) => p.line)).toEqual(en.problems.map((p) => p.line));
    expect(fr.problems[0]!.reason).toMatch(/« 31\/02\/2026 » n’est pas une date/);
    expect(en.problems[0]!.reason).toMatch(/"31\/02\/2026" is not a date/);
    // every reason differs between the two languages: none left in English for the French reader
    fr.problems.forEach((p, i) => {
      expect(p.reason, p.reason).not.toBe(en.problems[i]!.reason);
    });
    // the warnings too (a FEC whose piece references are "-" and whose file name names another SIREN)
    const fec = readFileSync(F('../fec/123456782FEC20251231.txt'));
    const other = (await createOrganisation(db, { legalName: 'Autre SIREN', siren: '732829320' })).id;
    const k = (await createApiKey(db, other, { name: 'erp', scope: 'write' })).key;
    const r = (await (
      await createApp({ db, now: () => new Date() }).request('/api/v1/imports/fec?dryRun=true&filename=123456782FEC20251231.txt', {
        method: 'POST',
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/octet-stream', 'accept-language': 'fr' },
        body: new Uint8Array(fec),
      })
    ).json()) as { warnings: string[] };
    expect(r.warnings.join('\n')).toMatch(/sans vraie référence de pièce/);
    expect(r.warnings.join('\n')).toMatch(/le nom du fichier annonce le FEC du SIREN 123456782/);
    expect(r.warnings.join('\n')).toMatch(/paiement\(s\) non lettré\(s\) imputé\(s\)/);
  });

  it('imports a Factur-X PDF uploaded as the body', async () => {
    const r = await (await post('einvoice', readFileSync(new URL('./fixtures/einvoice/factur-x-invoice_EN16931.pdf', import.meta.url)), '?filename=F20260023.pdf')).json();
    expect(r).toMatchObject({ outcome: 'imported', counts: { invoices: { inserted: 1 } } });
    expect((await getInvoiceByNumber(db, org, 'F20260023')).pdfDocumentId).not.toBeNull();
  });

  it('17.13 a dry run through the API lists each document read, so it can be checked before anything is written', async () => {
    const pdf = readFileSync(new URL('./fixtures/einvoice/factur-x-invoice_EN16931.pdf', import.meta.url));
    const other = (await createOrganisation(db, { legalName: 'Vendeur du test 17.13' })).id;
    const k = (await createApiKey(db, other, { name: 'erp', scope: 'write' })).key;
    const res = await createApp({ db, now: () => new Date() }).request('/api/v1/imports/einvoice?dryRun=true&filename=F20260023.pdf', {
      method: 'POST',
      headers: { authorization: `Bearer ${k}`, 'content-type': 'application/pdf' },
      body: new Uint8Array(pdf),
    });
    const r = (await res.json()) as { outcome: string; documents: unknown[]; documentCount: number; openTotal: Record<string, string> };
    expect(r.outcome).toBe('dry_run');
    expect(r.documents).toEqual([
      expect.objectContaining({ kind: 'invoice', number: 'F20260023', dueDate: '2026-03-02', currency: 'EUR', total: '104.90', amountDue: '104.90', buyer: expect.any(String) }),
    ]);
    expect(r.documentCount).toBe(1);
    expect(r.openTotal).toEqual({ EUR: '104.90' });
    const fec = readFileSync(F('../fec/123456782FEC20251231.txt'));
    const f = (await (await post('fec', fec, '?dryRun=true&filename=123456782FEC20251231.txt')).json()) as { documents: { number: string; amountDue: string }[]; openTotal: Record<string, string> };
    expect(f.documents.map((d) => [d.number, d.amountDue])).toEqual([
      ['VE-1', '0.00'],
      ['VE-2', '600.00'],
      ['F-0042', '1400.00'],
      ['F-0043', '900.00'],
    ]);
    expect(f.openTotal).toEqual({ EUR: '2900.00' });

    // The CLI prints the same report: as JSON, and as text with each document on its line
    const printed: string[] = [];
    const ctx: CliContext = {
      config: { dataDir: '', port: 0, host: '127.0.0.1' } as unknown as CliContext['config'],
      openDb: async () => Object.assign(Object.create(db) as Db, { close: async () => {} }),
      resolveOrg: async () => other,
      out: (l) => printed.push(l),
    };
    const file = fileURLToPath(new URL('./fixtures/einvoice/factur-x-invoice_EN16931.pdf', import.meta.url));
    await buildProgram(ctx).parseAsync(['node', 'relance', 'import', 'einvoice', file, '--dry-run', '--json']);
    expect(JSON.parse(printed.join('\n'))).toMatchObject({ outcome: 'dry_run', documentCount: 1, documents: [{ number: 'F20260023', amountDue: '104.90' }] });
    printed.length = 0;
    process.env.RELANCE_LANG = 'fr';
    try {
      await buildProgram(ctx).parseAsync(['node', 'relance', 'import', 'einvoice', file, '--dry-run']);
    } finally {
      delete process.env.RELANCE_LANG;
    }
    expect(printed.join('\n')).toMatch(/1 document\(s\) lu\(s\) ; reste dû : 104,90\s€/);
    expect(printed.join('\n')).toMatch(/F20260023/);
  });

  it('reports progress while it reads (what the web app shows)', async () => {
    const header = 'N° facture;Client;Date;Montant TTC\n';
    const rows = Array.from({ length: 12_000 }, (_, i) => `P-${i};Client ${i % 50};01/02/2026;${(i % 900) + 1},50`).join('\n');
    const seen: ImportProgress[] = [];
    const r = await importCsv(db, org, 'invoices', { bytes: Buffer.from(header + rows), filename: 'big.csv' }, { dryRun: true, onProgress: (p) => seen.push(p) });
    expect(r.outcome).toBe('dry_run');
    expect(r.rowsRead).toBe(12_000);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toMatchObject({ rows: 12_000 });
    expect(seen.at(-1)!.bytesRead).toBe(seen.at(-1)!.bytesTotal);
    expect(seen.map((p) => p.rows)).toEqual([...seen.map((p) => p.rows)].sort((a, b) => a - b));
  });
});
