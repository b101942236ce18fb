/**
 * Issue 19, imports from the web app through /api/app: the first rows of a CSV and the column found
 * for each field before anything is written (a header Relance does not know leaves the required
 * fields to choose), the import with the columns chosen on the mapping screen, errors in the user's
 * language, and the reminders of the imported invoices planned right after the import rather than
 * at the next daily run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
// Monday 1 June 2026, 10:00 in Paris.
const NOW = new Date('2026-06-01T08:00:00Z');

/** Headers an accounting tool of its own might write: none is one Relance knows. */
const CSV = [
  'Réf doc;Tiers;Émis;Exigible;Total à régler;Courriel',
  'X-1;Boulangerie Lune;06/05/2026;06/06/2026;1 200,00;compta@lune.example',
  'X-2;Garage Soleil;01/05/2026;01/06/2026;80,50;compta@soleil.example',
].join('\n');

describe.each(dbTargets())('imports from the web app on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let cookie: string;
  let orgId: string;

  const post = async (path: string, fields: Record<string, string>, file = CSV, lang?: string) => {
    const form = new FormData();
    form.set('file', new Blob([file], { type: 'text/csv' }), 'export.csv');
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    return app.request(`http://${HOST}/api/app${path}`, { method: 'POST', headers: { cookie, host: HOST, origin: `http://${HOST}`, ...(lang ? { 'accept-language': lang } : {}) }, body: form });
  };
  /** The NDJSON answer's last line: the report, or the error. */
  const lastLine = async (res: Response) => JSON.parse((await res.text()).trim().split('\n').pop()!) as { type: string; report?: { outcome: string; counts: Record<string, { inserted: number }>; rowsRead: number }; planned?: { actionsCreated: number } | null; problem?: { detail: string } };

  beforeAll(async () => {
    db = await target.open();
    orgId = (await createOrganisation(db, { legalName: 'Menuiserie Import' })).id;
    await db.tx((q) => addUser(q, orgId, { email: 'claire@import.fr', role: 'collector', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'claire@import.fr', PASSWORD, { organisationId: orgId, now: NOW }));
    cookie = `relance_session=${s.token}`;
    app = createApp({ db, now: () => NOW });
  }, 60_000);
  afterAll(async () => db?.close());

  it('shows the first rows and the columns it could not recognise, without writing anything', async () => {
    const res = await post('/imports/inspect', { kind: 'invoices' });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as { header: string[]; rows: string[][]; columns: Record<string, number>; missing: string[]; fields: { name: string; required: boolean }[]; separator: string };
    expect(seen.header).toEqual(['Réf doc', 'Tiers', 'Émis', 'Exigible', 'Total à régler', 'Courriel']);
    expect(seen.rows[1]).toEqual(['X-2', 'Garage Soleil', '01/05/2026', '01/06/2026', '80,50', 'compta@soleil.example']);
    expect(seen.columns).toEqual({ customerEmail: 5 });
    expect(seen.separator).toBe(';');
    expect(seen.missing).toEqual(['number', 'issueDate', 'amountInclTax', 'customerKey or customerName']);
    expect(seen.fields.filter((f) => f.required).map((f) => f.name)).toEqual(['number', 'issueDate', 'amountInclTax']);
    const [n] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM invoices WHERE organisation_id = $1', [orgId]);
    expect(n!.n).toBe(0n);
  });

  it('refuses the file without a mapping, in the user’s language', async () => {
    const fr = await lastLine(await post('/imports', { kind: 'invoices', dryRun: '1' }, CSV, 'fr'));
    expect(fr.report!.outcome).toBe('rejected');
    expect((fr.report as unknown as { problems: { reason: string }[] }).problems[0]!.reason).toContain('aucune colonne trouvée');
    const bad = await post('/imports', { kind: 'invoices', dryRun: '1', mapping: '{"columns":{"number":"un"}}' });
    expect(bad.status).toBe(400);
  });

  it('imports with the columns chosen on the mapping screen and plans the reminders at once', async () => {
    const mapping = JSON.stringify({ columns: { number: 1, customerName: 2, issueDate: 3, dueDate: 4, amountInclTax: 5, customerEmail: 6 } });
    const dry = await lastLine(await post('/imports', { kind: 'invoices', dryRun: '1', mapping }));
    expect(dry.report!.outcome).toBe('dry_run');
    expect(dry.planned).toBeNull();
    const run = await lastLine(await post('/imports', { kind: 'invoices', dryRun: '0', mapping }));
    expect(run.report!.outcome).toBe('imported');
    expect(run.report!.counts.invoices!.inserted).toBe(2);
    const rows = await db.query<{ number: string; amount_incl_tax_minor: bigint; due_date: string }>(
      'SELECT number, amount_incl_tax_minor, due_date::text AS due_date FROM invoices WHERE organisation_id = $1 ORDER BY number',
      [orgId],
    );
    expect(rows).toEqual([
      { number: 'X-1', amount_incl_tax_minor: 120_000n, due_date: '2026-06-06' },
      { number: 'X-2', amount_incl_tax_minor: 8_050n, due_date: '2026-06-01' },
    ]);
    // A courtesy notice five days before X-1's due date and X-2's due-day reminder: planned now, before any daily run.
    const [planned] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM actions WHERE organisation_id = $1', [orgId]);
    expect(run.planned!.actionsCreated).toBeGreaterThan(0);
    expect(planned!.n).toBe(BigInt(run.planned!.actionsCreated));
    // Importing the same file again plans nothing more.
    const again = await lastLine(await post('/imports', { kind: 'invoices', dryRun: '0', mapping }));
    expect(again.planned!.actionsCreated).toBe(0);
  });
});
