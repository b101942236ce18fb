/** Imports of customers, invoices, payments, FEC and e-invoices: the history, and a file read with its progress. */
import { jsonReplacer } from '../../../db/driver.ts';
import { z } from 'zod';
import { FIELDS, importCsv, inspectCsv, type CsvKind } from '../../../imports/csv.ts';
import { runCycle } from '../../../engine/cycle.ts';
import { importEInvoices } from '../../../imports/einvoice.ts';
import { importFec } from '../../../imports/fec.ts';
import type { ImportProgress } from '../../../imports/report.ts';
import { validation } from '../../../errors.ts';
import { defineErrors } from '../../../i18n/index.ts';
import { markDashboardStale } from '../../../reports/dashboard.ts';
import { requestLang } from '../../auth.ts';
import { toProblem } from '../../problem.ts';
import { appRoute, uploaded } from './common.ts';
import { ImportMapping, type ImportInspection, type ImportPlanned, type ImportRunRow } from './shapes/imports.ts';

const E = defineErrors('web-imports', {
  import_mapping: { fr: 'la correspondance des colonnes est illisible', en: 'the column mapping cannot be read' },
  inspect_kind: { fr: 'l’aperçu lit les fichiers de clients, de factures ou de paiements, pas « {kind} »', en: 'the preview reads customer, invoice or payment files, not "{kind}"' },
  import_kind: { fr: "kind doit valoir customers, invoices, payments, fec ou einvoice, pas « {kind} »", en: "kind must be customers, invoices, payments, fec or einvoice, not \"{kind}\"" },
});

const J = (v: unknown) => JSON.stringify(v, jsonReplacer);

export const importRoutes = [
  appRoute({
    method: 'get',
    path: '/imports',
    scope: 'read',
    response: z.custom<ImportRunRow[]>(),
    handler: async ({ q, orgId }) => {
      const rows = await q.query<Omit<ImportRunRow, 'id'> & { id: bigint }>(
        'SELECT id, kind, filename, outcome, rows_read, counts, problems, created_at FROM import_runs WHERE organisation_id = $1 ORDER BY id DESC LIMIT 50',
        [orgId],
      );
      return rows.map((x) => ({ ...x, id: String(x.id) }));
    },
  }),
  /** The first rows of a CSV file and the column found for each field, before anything is written. */
  appRoute({
    method: 'post',
    path: '/imports/inspect',
    scope: 'write',
    response: z.custom<ImportInspection>(),
    handler: async ({ c }) => {
      const up = await uploaded(c);
      const kind = up.fields.kind ?? '';
      if (!['customers', 'invoices', 'payments'].includes(kind)) throw validation(E('inspect_kind', { kind }), { field: 'kind' });
      const k = kind as CsvKind;
      const seen = await inspectCsv(k, { bytes: up.bytes, filename: up.filename });
      return { kind: k, ...seen, fields: Object.entries(FIELDS[k]).map(([name, d]) => ({ name, required: d.required === true })) };
    },
  }),
  /** Answers NDJSON: progress lines while the file is read, then the report (a dry run first shows the mapping). */
  appRoute({
    method: 'post',
    path: '/imports',
    scope: 'write',
    ownTransaction: true,
    handler: async ({ db, orgId, c, ctx, today }) => {
      const lang = await requestLang(c, ctx);
      const up = await uploaded(c);
      const kind = up.fields.kind ?? '';
      const dryRun = up.fields.dryRun === '1' || up.fields.dryRun === 'true';
      if (!['customers', 'invoices', 'payments', 'fec', 'einvoice'].includes(kind)) throw validation(E('import_kind', { kind }), { field: 'kind' });
      let mapping: ImportMapping | undefined;
      if (up.fields.mapping) {
        const parsed = ImportMapping.safeParse((() => {
          try {
            return JSON.parse(up.fields.mapping);
          } catch {
            return null;
          }
        })());
        if (!parsed.success) throw validation(E('import_mapping'), { field: 'mapping' });
        mapping = parsed.data;
      }
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
                  : await importCsv(db, orgId, kind as CsvKind, input, { dryRun, onProgress, lang, mapping });
            let planned: ImportPlanned | null = null;
            if (!dryRun && report.outcome === 'imported') {
              await markDashboardStale(db, orgId);
              // The new invoices get their reminders now, not at the next daily run: the cycle is
              // idempotent (what is already planned stays), so running it again today plans only
              // what the import brought.
              const cycle = await runCycle(db, orgId, { today });
              planned = { actionsCreated: cycle.actionsCreated, awaitingApproval: cycle.awaitingApproval };
            }
            send({ type: 'report', report, planned });
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
