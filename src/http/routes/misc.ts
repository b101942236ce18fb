/**
 * /api/v1: template preview, late-fee computation, file imports, bank statements, KPIs, webhooks,
 * API keys.
 */
import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../auth/index.ts';
import { importBankFile } from '../../bank/import.ts';
import { composeDocument } from '../../documents/compose.ts';
import { documentFromLedger } from '../../documents/from-ledger.ts';
import { CHANNELS, TEMPLATE_KEYS } from '../../documents/registry.ts';
import { loadTemplateOverrides } from '../../documents/repo.ts';
import { sampleInput } from '../../documents/samples.ts';
import { type CalendarDate, } from '../../domain/dates.ts';
import { computeKpis } from '../../reports/kpis.ts';
import { computeLateFees, decideRegime, type Jurisdiction, JURISDICTIONS, RATE_TABLE_NAMES } from '../../domain/law/index.ts';
import { creditorTerms } from '../../law/regime.ts';
import { parseAmount } from '../../domain/money.ts';
import { type ColumnMapping, importCsv } from '../../imports/csv.ts';
import { importEInvoices } from '../../imports/einvoice.ts';
import { importFec } from '../../imports/fec.ts';
import { IMPORT_KINDS } from '../../imports/report.ts';
import { getContractRate, loadRateTables, setContractRate } from '../../law/rates-repo.ts';
import { validation } from '../../errors.ts';
import { problemLang } from '../problem.ts';
import {
  createSubscription,
  deleteSubscription,
  listDeliveries,
  listSubscriptions,
  replayDelivery,
  WEBHOOK_EVENTS,
} from '../../webhooks/index.ts';
import { Cursor, DecimalAmount, decodeCursor, Id, IdParams, IsoDate, Limit, MinorString, page, paged, route, type RouteDef } from './define.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('http-misc', {
  invoice_not_found: { fr: "facture {id} introuvable", en: "invoice {id} not found" },
  invoice_or_amount: { fr: "indiquez un invoiceId, ou un montant et une date d’échéance", en: "give an invoiceId, or an amount and a due date" },
  due_date: { fr: "dueDate est obligatoire avec un montant", en: "dueDate is required with an amount" },
  body_file: { fr: "envoyez le fichier comme corps de la requête", en: "send the file as the request body" },
  mapping: { fr: "mapping n’est pas du JSON", en: "mapping is not JSON" },
  body_statement: { fr: "envoyez le fichier de relevé comme corps de la requête", en: "send the statement file as the request body" },
});

type Row = Record<string, unknown>;
const camel = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/_(\w)/g, (_m, ch: string) => ch.toUpperCase()), v]));
const D = (s: string) => s as CalendarDate;

const ImportReport = z.looseObject({
  kind: z.enum(IMPORT_KINDS as [string, ...string[]]),
  outcome: z.enum(['imported', 'rejected', 'dry_run']),
  rowsRead: z.number(),
  counts: z.record(z.string(), z.object({ inserted: z.number(), updated: z.number(), unchanged: z.number() })),
  problems: z.array(z.object({ line: z.number().nullable(), column: z.string().nullable(), reason: z.string() })),
  problemCount: z.number(),
  warnings: z.array(z.string()),
  detected: z.record(z.string(), z.unknown()),
  documents: z
    .array(
      z.object({
        file: z.string().optional(),
        kind: z.enum(['invoice', 'credit_note']),
        number: z.string(),
        issueDate: z.string().nullable(),
        dueDate: z.string().nullable(),
        currency: z.string(),
        total: z.string().meta({ description: 'decimal amount' }),
        amountDue: z.string().meta({ description: 'decimal amount left open once the file is applied' }),
        buyer: z.string(),
        customerCode: z.string().optional(),
      }),
    )
    .meta({ description: 'each document read (the first 10,000); a dry run shows what would be written' }),
  documentCount: z.number(),
  openTotal: z.record(z.string(), z.string()).meta({ description: 'sum of amountDue per currency over all documents (credit notes negative)' }),
});

const Amounts = z.object({ amountMinor: MinorString, count: z.number() });
const Kpis = z.object({
  currency: z.string(),
  asOf: z.string(),
  receivablesMinor: MinorString,
  currentMinor: MinorString,
  pastDueMinor: MinorString,
  overdueSharePercent: z.number(),
  aging: z.object({ buckets: z.record(z.string(), Amounts), disputed: Amounts, unallocatedMinor: MinorString, totalMinor: MinorString }),
  dso: z.object({ days: z.number(), exhausted: z.boolean(), method: z.literal('countback') }),
  bestPossibleDso: z.number(),
  averageDaysDelinquent: z.number(),
  cei: z.object({ percent: z.number().nullable(), months: z.number() }),
  averageDaysToPay: z.number().nullable(),
  monthlySales: z.array(z.object({ month: z.string(), salesMinor: MinorString, days: z.number() })),
  formulas: z.record(z.string(), z.string()),
});


const RateTableName = z.enum(RATE_TABLE_NAMES as unknown as [string, ...string[]]);
const RatePercent = z
  .string()
  .regex(/^-?\d{1,3}([.,]\d{1,4})?$/, 'a rate is a percentage like "2.15"')
  .meta({ description: 'rate in percent as a decimal string', example: '2.15' });
const RateTable = z.object({
  name: RateTableName,
  description: z.string(),
  kind: z.enum(['semester', 'changes']).meta({ description: 'semester: one rate per half-year (1 January, 1 July); changes: a policy rate that changes on any date' }),
  knownThrough: IsoDate.meta({ description: 'last day for which the table is known to give the rate in force; later days use the latest rate, flagged provisional' }),
  entries: z.array(
    z.object({ from: IsoDate, ratePercent: z.string(), source: z.string(), origin: z.enum(['shipped', 'operator']) }),
  ),
});
const ContractRateBody = z.object({ ratePercent: z.string(), note: z.string().nullable(), updatedAt: z.string() });

const Subscription = z.looseObject({ id: z.string(), url: z.string(), events: z.array(z.string()), active: z.boolean() });
const Delivery = z.looseObject({ id: z.string(), eventId: z.string(), type: z.string(), status: z.enum(['pending', 'delivered', 'dead']), attempts: z.number() });
const ApiKey = z.looseObject({ id: z.string(), name: z.string(), prefix: z.string(), scope: z.enum(['read', 'write', 'admin']) });

export const miscRoutes: RouteDef[] = [
  route({
    method: 'post', path: '/api/v1/templates/preview', operationId: 'previewTemplate', summary: 'Render a template (email, SMS, letter, call script) for an invoice or sample data', tag: 'templates', scope: 'read',
    body: z.object({
      template: z.enum(TEMPLATE_KEYS),
      channel: z.enum(CHANNELS),
      invoiceNumber: z.string().max(100).optional(),
      lang: z.enum(['fr', 'en']).optional(),
    }),
    response: z.object({
      subject: z.string().nullable(),
      html: z.string().nullable(),
      text: z.string().nullable(),
      pdfBase64: z.string().nullable().meta({ description: 'a letter: the PDF exactly as it would be printed, base64' }),
      epcPayload: z.string().nullable(),
      lang: z.string(),
    }),
    status: 200,
    handler: async ({ q, orgId, body, today, org }) => {
      const input = body.invoiceNumber
        ? (await documentFromLedger(q, orgId, { invoiceNumber: body.invoiceNumber, key: body.template, lang: body.lang, at: today, rates: await loadRateTables(q) })).input
        : sampleInput('business', body.lang ?? org.language, body.template);
      const doc = await composeDocument({ key: body.template, channel: body.channel, input, override: await loadTemplateOverrides(q, orgId) });
      return { subject: doc.subject, html: doc.html, text: doc.text, pdfBase64: doc.pdf ? doc.pdf.toString('base64') : null, epcPayload: doc.epcPayload, lang: doc.lang };
    },
  }),
  route({
    method: 'post', path: '/api/v1/late-fees', operationId: 'computeLateFees', summary: 'Late-payment interest and fixed compensation for an amount or an invoice', tag: 'late fees', scope: 'read',
    body: z.object({
      invoiceId: Id.optional(),
      amount: DecimalAmount.optional(),
      currency: z.string().regex(/^[A-Z]{3}$/).optional(),
      dueDate: IsoDate.optional(),
      until: IsoDate.optional(),
      jurisdiction: z.enum(JURISDICTIONS as unknown as [string, ...string[]]).optional(),
      debtor: z.enum(['business', 'consumer']).optional(),
      contractRatePercent: z.string().regex(/^\d{1,3}(\.\d{1,4})?$/).optional(),
    }),
    response: z.looseObject({ interestMinor: MinorString, indemnityMinor: MinorString, totalMinor: MinorString, currency: z.string(), daysLate: z.number() }),
    status: 200,
    handler: async ({ q, orgId, body, today, org }) => {
      let amountMinor: bigint;
      let currency = body.currency ?? org.currency;
      let dueDate = body.dueDate ? D(body.dueDate) : null;
      let debtor = body.debtor ?? 'business';
      let debtorCountry: string | null = null;
      let payments: { date: CalendarDate; amountMinor: bigint }[] = [];
      if (body.invoiceId) {
        const [i] = await q.query<Row>(
          `SELECT i.amount_incl_tax_minor, i.currency, i.due_date, c.kind, c.country FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
            WHERE i.organisation_id = $1 AND i.id = $2`,
          [orgId, BigInt(body.invoiceId)],
        );
        if (!i) throw validation(E('invoice_not_found', { id: String(body.invoiceId) }), { field: 'invoiceId' });
        amountMinor = i.amount_incl_tax_minor as bigint;
        currency = String(i.currency);
        dueDate = i.due_date as CalendarDate;
        debtor = body.debtor ?? (i.kind as 'business' | 'consumer');
        debtorCountry = (i.country as string | null) ?? null;
        payments = (
          await q.query<{ date: CalendarDate; amount: bigint }>(
            'SELECT allocated_on AS date, amount_minor AS amount FROM allocations WHERE organisation_id = $1 AND invoice_id = $2',
            [orgId, BigInt(body.invoiceId)],
          )
        ).map((p) => ({ date: p.date, amountMinor: p.amount }));
      } else {
        if (!body.amount) throw validation(E('invoice_or_amount'), { field: 'amount' });
        if (!dueDate) throw validation(E('due_date'), { field: 'dueDate' });
        amountMinor = parseAmount(body.amount, currency, { field: 'amount' });
      }
      // The regime the law module decides for these parties, unless the caller names a jurisdiction;
      // the organisation's contractual rate applies where the regime lets it.
      const creditor = await creditorTerms(q, orgId);
      const law = decideRegime({
        creditorCountry: creditor.creditorCountry,
        debtorCountry,
        debtorKind: debtor,
        contractRatePercent: body.contractRatePercent ?? creditor.contractRatePercent,
        chosenJurisdiction: (body.jurisdiction as Jurisdiction | undefined) ?? null,
      });
      return computeLateFees(
        {
          jurisdiction: law.jurisdiction,
          debtor,
          currency,
          amountMinor,
          dueDate: dueDate!,
          until: body.until ? D(body.until) : today,
          payments,
          ...(law.contractRatePercent ? { contractRatePercent: law.contractRatePercent } : {}),
        },
        await loadRateTables(q),
      );
    },
  }),

  route({
    method: 'get', path: '/api/v1/rates', operationId: 'listRates', summary: 'The dated legal rate tables (ECB MRO, French taux légal, Basiszinssatz, Bank Rate): shipped and operator-set rates, and how far each is known', tag: 'late fees', scope: 'read',
    query: z.object({ table: RateTableName.optional() }),
    response: z.object({ data: z.array(RateTable) }),
    handler: async ({ q, query }) => {
      const tables = await loadRateTables(q);
      const names = query.table ? [query.table as (typeof RATE_TABLE_NAMES)[number]] : RATE_TABLE_NAMES;
      return { data: names.map((n) => tables[n]) };
    },
  }),
  route({
    method: 'get', path: '/api/v1/contract-rate', operationId: 'getContractRate', summary: "The organisation's contractual late-payment rate (null when its terms state none)", tag: 'late fees', scope: 'read',
    response: z.object({ data: ContractRateBody.nullable() }),
    handler: async ({ q, orgId }) => ({ data: await getContractRate(q, orgId) }),
  }),
  route({
    method: 'put', path: '/api/v1/contract-rate', operationId: 'setContractRate', summary: "Set the organisation's contractual late-payment rate, used for its own late fees (null removes it). The official tables (ECB, taux légal) are the instance operator's: `relance rates set` on the server", tag: 'late fees', scope: 'admin',
    body: z.object({
      ratePercent: RatePercent.nullable(),
      note: z.string().max(500).nullish().meta({ description: 'where the rate comes from (terms of sale, contract)' }),
    }),
    response: z.object({ data: ContractRateBody.nullable() }),
    status: 200,
    handler: async ({ q, orgId, body }) => ({ data: await setContractRate(q, orgId, body.ratePercent === null ? null : { ratePercent: body.ratePercent, note: body.note ?? null }) }),
  }),

  route({
    method: 'post', path: '/api/v1/imports/{kind}', operationId: 'importFile', summary: 'Import a file: customers, invoices or payments CSV, a FEC, or an e-invoice (PDF, CII, UBL)', tag: 'imports', scope: 'write',
    params: z.object({ kind: z.enum(IMPORT_KINDS as [string, ...string[]]) }),
    query: z.object({
      dryRun: z.enum(['true', 'false']).optional(),
      filename: z.string().max(255).optional(),
      mapping: z.string().max(10_000).optional().meta({ description: 'CSV column mapping as JSON, e.g. {"columns":{"number":"Num"}}' }),
    }),
    rawBody: { contentTypes: ['text/csv', 'text/plain', 'application/pdf', 'application/xml', 'application/octet-stream'] },
    response: ImportReport, status: 200, ownTransaction: true,
    handler: async ({ db, orgId, params, query, raw, c }) => {
      if (raw.length === 0) throw validation(E('body_file'), { field: 'body' });
      const input = { bytes: raw, filename: query.filename ?? `upload.${params.kind}` };
      // Reasons in the caller's language (Accept-Language), as the errors are.
      const opts = { dryRun: query.dryRun === 'true', lang: problemLang(undefined, c.req.header('accept-language')) };
      if (params.kind === 'fec') return importFec(db, orgId, input, opts);
      if (params.kind === 'einvoice') return importEInvoices(db, orgId, [input], opts);
      let mapping: ColumnMapping | undefined;
      if (query.mapping) {
        try {
          mapping = JSON.parse(query.mapping) as ColumnMapping;
        } catch {
          throw validation(E('mapping'), { field: 'mapping' });
        }
      }
      return importCsv(db, orgId, params.kind as 'customers', input, { ...opts, mapping });
    },
  }),
  route({
    method: 'get', path: '/api/v1/imports', operationId: 'listImports', summary: 'Past imports with their outcome', tag: 'imports', scope: 'read',
    query: z.object({ limit: Limit, cursor: Cursor }),
    response: page(z.looseObject({ id: z.string(), kind: z.string(), outcome: z.string(), rowsRead: z.number() })),
    handler: async ({ q, orgId, query }) => {
      const c = decodeCursor(query.cursor);
      const rows = await q.query<Row>(
        `SELECT id, kind, filename, sha256, outcome, rows_read, counts, problems, created_at FROM import_runs
          WHERE organisation_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
        [orgId, c, query.limit + 1],
      );
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),

  route({
    method: 'post', path: '/api/v1/bank-statements', operationId: 'importBankStatement', summary: 'Import a bank statement (camt.053, camt.054, CFONB 120, OFX, CSV)', tag: 'bank statements', scope: 'write',
    query: z.object({ account: z.string().max(40).optional(), filename: z.string().max(255).optional(), dryRun: z.enum(['true', 'false']).optional() }),
    rawBody: { contentTypes: ['application/xml', 'text/plain', 'text/csv', 'application/octet-stream'] },
    response: z.looseObject({ format: z.string(), statements: z.number(), summary: z.looseObject({ read: z.number(), new: z.number(), duplicates: z.number() }), warnings: z.array(z.string()) }),
    status: 200, ownTransaction: true,
    handler: async ({ db, orgId, query, raw }) => {
      if (raw.length === 0) throw validation(E('body_statement'), { field: 'body' });
      const r = await importBankFile(db, orgId, raw, { filename: query.filename, account: query.account, dryRun: query.dryRun === 'true' });
      return { format: r.format, version: r.version, statements: r.statements, statementIds: r.statementIds, summary: r.summary, sha256: r.sha256, warnings: r.warnings };
    },
  }),
  route({
    method: 'get', path: '/api/v1/bank-statements', operationId: 'listBankStatements', summary: 'Imported bank statements', tag: 'bank statements', scope: 'read',
    query: z.object({ limit: Limit, cursor: Cursor }),
    response: page(z.looseObject({ id: z.string(), format: z.string() })),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<Row>(
        `SELECT * FROM bank_statements WHERE organisation_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
        [orgId, decodeCursor(query.cursor), query.limit + 1],
      );
      return paged(rows.map(camel).map(({ organisationId: _o, ...r }) => r) as { id: bigint }[], query.limit);
    },
  }),

  route({
    method: 'get', path: '/api/v1/kpis', operationId: 'getKpis', summary: 'Aging, DSO (countback), best possible DSO, ADD, CEI, overdue share, average days to pay', tag: 'KPIs', scope: 'read',
    query: z.object({ currency: z.string().regex(/^[A-Z]{3}$/).optional(), ceiMonths: z.coerce.number().int().min(1).max(12).default(3) }),
    response: Kpis,
    handler: async ({ q, orgId, org, query, today }) => computeKpis(q, orgId, query.currency ?? org.currency, today, query.ceiMonths),
  }),

  route({
    method: 'get', path: '/api/v1/webhooks', operationId: 'listWebhooks', summary: 'Webhook subscriptions', tag: 'webhooks', scope: 'admin',
    response: z.object({ data: z.array(Subscription) }),
    handler: async ({ q, orgId }) => ({ data: await listSubscriptions(q, orgId) }),
  }),
  route({
    method: 'post', path: '/api/v1/webhooks', operationId: 'createWebhook', summary: 'Subscribe a URL to events; the signing secret is returned once', tag: 'webhooks', scope: 'admin',
    body: z.object({ url: z.url(), events: z.array(z.enum([...WEBHOOK_EVENTS, '*'])).min(1), description: z.string().max(300).nullish() }),
    response: Subscription.extend({ secret: z.string() }),
    handler: async ({ q, orgId, body, options }) => createSubscription(q, orgId, body, { policy: options.webhookPolicy }),
  }),
  route({
    method: 'delete', path: '/api/v1/webhooks/{id}', operationId: 'deleteWebhook', summary: 'Remove a subscription', tag: 'webhooks', scope: 'admin',
    params: IdParams, response: z.object({ deleted: z.literal(true) }),
    handler: async ({ q, orgId, params }) => {
      await deleteSubscription(q, orgId, BigInt(params.id));
      return { deleted: true as const };
    },
  }),
  route({
    method: 'get', path: '/api/v1/webhooks/deliveries', operationId: 'listWebhookDeliveries', summary: 'Delivery log, most recent first', tag: 'webhooks', scope: 'admin',
    query: z.object({ subscriptionId: Id.optional(), limit: Limit, cursor: Cursor }), response: page(Delivery),
    handler: async ({ q, orgId, query }) => {
      const rows = await listDeliveries(q, orgId, { subscriptionId: query.subscriptionId ? BigInt(query.subscriptionId) : undefined, afterId: decodeCursor(query.cursor) ?? undefined, limit: query.limit + 1 });
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/webhooks/deliveries/{id}/replay', operationId: 'replayWebhookDelivery', summary: 'Send a delivery again (a new delivery of the same event)', tag: 'webhooks', scope: 'admin',
    params: IdParams, response: z.object({ deliveryId: z.string() }),
    handler: async ({ q, orgId, params, now }) => ({ deliveryId: await replayDelivery(q, orgId, BigInt(params.id), now) }),
  }),

  route({
    method: 'get', path: '/api/v1/api-keys', operationId: 'listApiKeys', summary: 'API keys of the organisation (never the keys themselves)', tag: 'API keys', scope: 'admin',
    response: z.object({ data: z.array(ApiKey) }),
    handler: async ({ q, orgId }) => ({ data: (await listApiKeys(q, orgId)).map(camel) }),
  }),
  route({
    method: 'post', path: '/api/v1/api-keys', operationId: 'createApiKey', summary: 'Create an API key: shown once in this response, stored hashed', tag: 'API keys', scope: 'admin',
    body: z.object({ name: z.string().min(1).max(100), scope: z.enum(['read', 'write', 'admin']) }),
    response: z.object({ id: z.string(), key: z.string(), prefix: z.string(), scope: z.enum(['read', 'write', 'admin']) }),
    handler: async ({ q, orgId, body }) => createApiKey(q, orgId, body),
  }),
  route({
    method: 'delete', path: '/api/v1/api-keys/{id}', operationId: 'revokeApiKey', summary: 'Revoke an API key', tag: 'API keys', scope: 'admin',
    params: IdParams, response: z.object({ revoked: z.literal(true) }),
    handler: async ({ q, orgId, params, now }) => {
      await revokeApiKey(q, orgId, BigInt(params.id), now);
      return { revoked: true as const };
    },
  }),
];
