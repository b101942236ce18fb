/** Imports of customers, invoices, payments, FEC and e-invoices: the history, and a file read with its progress. */
import { jsonReplacer } from '../../../db/driver.ts';
import { importCsv, type CsvKind } from '../../../imports/csv.ts';
import { importEInvoices } from '../../../imports/einvoice.ts';
import { importFec } from '../../../imports/fec.ts';
import type { ImportProgress } from '../../../imports/report.ts';
import { validation } from '../../../errors.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { markDashboardStale } from '../../../reports/dashboard.ts';
import { requestLang } from '../../auth.ts';
import { toProblem } from '../../problem.ts';
import { appRoute, uploaded } from './common.ts';

const E = defineErrors('web-imports', {
  import_kind: { fr: "kind doit valoir customers, invoices, payments, fec ou einvoice, pas « {kind} »", en: "kind must be customers, invoices, payments, fec or einvoice, not \"{kind}\"" },
});

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);

export const importRoutes = [
  appRoute({
    method: 'get',
    path: '/imports',
    scope: 'read',
    handler: async ({ q, orgId }) => {
      const rows = await q.query<Record<string, unknown>>(
        'SELECT id, kind, filename, outcome, rows_read, counts, problems, created_at FROM import_runs WHERE organisation_id = $1 ORDER BY id DESC LIMIT 50',
        [orgId],
      );
      return rows.map((x) => ({ ...x, id: String(x.id) }));
    },
  }),
  /** Answers NDJSON: progress lines while the file is read, then the report (a dry run first shows the mapping). */
  appRoute({
    method: 'post',
    path: '/imports',
    scope: 'write',
    ownTransaction: true,
    handler: async ({ db, orgId, c, ctx }) => {
      const lang = await requestLang(c, ctx);
      const up = await uploaded(c);
      const kind = up.fields.kind ?? '';
      const dryRun = up.fields.dryRun === '1' || up.fields.dryRun === 'true';
      if (!['customers', 'invoices', 'payments', 'fec', 'einvoice'].includes(kind)) throw validation(E('import_kind', { kind }), { field: 'kind' });
      const enc = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = (o: unknown) => controller.enqueue(enc.encode(`${J(o)}\n`));
          let last = 0;
          const onProgress = (pr: ImportProgress) => {
            if (Date.now() - last < 200) return;
            last = Date.now();
            send({ type: 'progress', ...pr });
          };
          try {
            const input = { bytes: up.bytes, filename: up.filename };
            const report =
              kind === 'fec'
                ? await importFec(db, orgId, input, { dryRun, onProgress, lang })
                : kind === 'einvoice'
                  ? await importEInvoices(db, orgId, [input], { dryRun, onProgress, lang })
                  : await importCsv(db, orgId, kind as CsvKind, input, { dryRun, onProgress, lang });
            if (!dryRun) await markDashboardStale(db, orgId);
            send({ type: 'report', report });
          } catch (e) {
            send({ type: 'error', problem: toProblem(e, lang) });
          } finally {
            controller.close();
          }
        },
      });
      return new Response(stream, { headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache' } });
    },
  }),
];
