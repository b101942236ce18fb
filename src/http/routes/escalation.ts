/**
 * /api/v1 escalation resources: collective proceedings against a customer (the recovery stops, the
 * claim to declare before its deadline, the declaration letter as a PDF), write-offs with a
 * second person's approval and their VAT figures.
 */
import { z } from 'zod';
import { PROCEEDING_KINDS } from '../../domain/escalation/insolvency.ts';
import { parseAmount } from '../../domain/money.ts';
import type { Principal } from '../../auth/index.ts';
import {
  closeProceeding,
  decideWriteOff,
  declarationPdf,
  getProceeding,
  markDeclared,
  proposeWriteOff,
  recordProceeding,
  setPublication,
} from '../../escalation/insolvency.ts';
import { loadRateTables } from '../../law/rates-repo.ts';
import { buildCaseFile } from '../../escalation/casefile.ts';
import { injonctionRequest } from '../../escalation/injonction.ts';
import { getInsurancePolicy, insuranceDeclaration, insuranceDeclarationPdf, listInsuranceCases, markInsuranceDeclared, setInsurancePolicy } from '../../escalation/insurance.ts';
import { AGENT_KINDS, getHandover, HANDOVER_STATUSES, handOver, handoverCsv, handoverExport, listHandovers, reportHandover } from '../../escalation/handover.ts';
import { Cursor, DecimalAmount, decodeCursor, Id, IdParams, IsoDate, Limit, page, paged, route, type RouteDef } from './define.ts';

const Proceeding = z.looseObject({
  id: z.string(),
  customerId: z.string(),
  kind: z.enum(PROCEEDING_KINDS),
  judgmentDate: z.string(),
  publicationDate: z.string().nullable(),
  declarationDeadline: z.string().nullable().meta({ description: 'last day to declare the claim (null until the publication date is known)' }),
  deadlineRule: z.string().nullable(),
  status: z.enum(['open', 'closed']),
});
const WriteOffLine = z.object({ invoiceNumber: z.string(), writtenOffMinor: z.string(), vatMinor: z.string(), exclTaxMinor: z.string(), impliedRateBp: z.number().nullable() });
const WriteOffRequest = z.looseObject({ id: z.string(), customerId: z.string(), amountMinor: z.string(), currency: z.string(), reason: z.string(), status: z.enum(['proposed', 'approved', 'refused']) });
const WriteOffDecision = z.object({
  request: WriteOffRequest,
  lines: z.array(WriteOffLine),
  writtenOffMinor: z.string(),
  vatMinor: z.string(),
  exclTaxMinor: z.string(),
});

const Handover = z.looseObject({
  id: z.string(),
  customerId: z.string(),
  invoiceIds: z.array(z.string()),
  agentKind: z.enum(AGENT_KINDS),
  agentName: z.string(),
  caseFileReference: z.string(),
  handedOverOn: z.string(),
  amountMinor: z.string(),
  recoveredMinor: z.string(),
  feesMinor: z.string(),
  status: z.enum(HANDOVER_STATUSES),
});

/** Who acts, as the write-off's approval records it. */
const actor = (p: Principal) => p.email ?? (p.apiKeyId !== null ? `api key ${p.apiKeyId}` : 'api');
const file = (bytes: Buffer, type: string, name: string) =>
  new Response(new Uint8Array(bytes), { headers: { 'content-type': type, 'content-disposition': `attachment; filename="${name}"` } });

const InsurancePolicyBody = z.object({
  insurer: z.string().trim().min(1).max(200).meta({ example: 'Allianz Trade' }),
  policyNumber: z.string().trim().max(100).nullable().optional(),
  declarationDays: z.number().int().min(1).max(365).meta({ description: 'days after the original due date by which an unpaid debt is declared to the insurer (threatened loss)' }),
  maxExtensionDays: z.number().int().min(0).max(365).meta({ description: 'days after the original due date up to which terms may be extended without the insurer\'s approval' }),
  noticeDays: z.number().int().min(0).max(90).optional().meta({ description: 'days before each deadline at which its task is raised (default 10)' }),
  active: z.boolean().optional(),
});
const InsurancePolicy = InsurancePolicyBody.extend({ policyNumber: z.string().nullable(), noticeDays: z.number(), active: z.boolean() });
const InsuranceCase = z.looseObject({
  id: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  firstDueDate: z.string(),
  extensionEndsOn: z.string().meta({ description: 'last day terms may be extended without approval' }),
  declarationDueOn: z.string().meta({ description: 'last day to declare the debt to the insurer' }),
  status: z.enum(['open', 'declared', 'settled']),
  declaredOn: z.string().nullable(),
  invoiceCount: z.number(),
  openMinor: z.string(),
});

export const escalationRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/credit-insurance/policy', operationId: 'getCreditInsurancePolicy', summary: "The organisation's credit insurance policy (null when none)", tag: 'escalation', scope: 'read',
    response: InsurancePolicy.nullable(),
    handler: async ({ q, orgId }) => getInsurancePolicy(q, orgId),
  }),
  route({
    method: 'put', path: '/api/v1/credit-insurance/policy', operationId: 'setCreditInsurancePolicy',
    summary: "Record the insurer and the policy's deadlines; the daily cycle then opens a case per debtor with overdue invoices and raises a task before each deadline", tag: 'escalation', scope: 'admin',
    body: InsurancePolicyBody, response: InsurancePolicy, status: 200,
    handler: async ({ q, orgId, body }) => setInsurancePolicy(q, orgId, { ...body, policyNumber: body.policyNumber ?? null }),
  }),
  route({
    method: 'get', path: '/api/v1/credit-insurance/cases', operationId: 'listCreditInsuranceCases', summary: 'Unpaid debts the insurer must hear about, with their deadlines', tag: 'escalation', scope: 'read',
    query: z.object({ status: z.enum(['open', 'declared', 'settled']).optional(), customerId: Id.optional() }),
    response: z.object({ data: z.array(InsuranceCase) }),
    handler: async ({ q, orgId, query }) => ({ data: await listInsuranceCases(q, orgId, { status: query.status ?? null, customerId: query.customerId ? BigInt(query.customerId) : null }) }),
  }),
  route({
    method: 'get', path: '/api/v1/credit-insurance/cases/{id}/declaration', operationId: 'getCreditInsuranceDeclaration',
    summary: "The declaration's data for the insurer: debtor with SIREN, invoices with amounts and due dates, the steps taken (reminders, formal notices, calls, promises)", tag: 'escalation', scope: 'read',
    params: IdParams, response: z.looseObject({ insurer: z.string(), debtor: z.looseObject({ name: z.string(), siren: z.string().nullable() }), totalOpenMinor: z.string() }),
    handler: async ({ q, orgId, params, today }) => insuranceDeclaration(q, orgId, BigInt(params.id), today),
  }),
  route({
    method: 'get', path: '/api/v1/credit-insurance/cases/{id}/declaration.pdf', operationId: 'getCreditInsuranceDeclarationPdf', summary: 'The same declaration as a PDF', tag: 'escalation', scope: 'read',
    params: IdParams, query: z.object({ lang: z.enum(['fr', 'en']).optional() }), response: z.unknown(), file: { contentType: 'application/pdf' },
    handler: async ({ q, orgId, params, query, today }) => file((await insuranceDeclarationPdf(q, orgId, BigInt(params.id), today, query.lang)).pdf, 'application/pdf', `declaration-assurance-${params.id}.pdf`),
  }),
  route({
    method: 'post', path: '/api/v1/credit-insurance/cases/{id}/declared', operationId: 'markCreditInsuranceDeclared', summary: 'The debt was declared to the insurer: the case and its tasks are done', tag: 'escalation', scope: 'write',
    params: IdParams, body: z.object({ declaredOn: IsoDate.optional(), reference: z.string().trim().max(100).optional() }), response: InsuranceCase, status: 200,
    handler: async ({ q, orgId, params, body, today }) => markInsuranceDeclared(q, orgId, BigInt(params.id), (body.declaredOn ?? today) as never, body.reference ?? null),
  }),
  route({
    method: 'get', path: '/api/v1/customers/{id}/case-file', operationId: 'getCaseFile',
    summary: 'The recovery case file as a ZIP: cover PDF (claim to the day), statement of account, invoices held, formal notice and proofs, messages sent, history, manifest.json with the SHA-256 of every file; the same ledger on the same day gives the same bytes',
    tag: 'escalation', scope: 'read',
    params: IdParams,
    query: z.object({ invoices: z.string().max(5000).optional().meta({ description: 'only these invoices: numbers, comma-separated' }), lang: z.enum(['fr', 'en']).optional() }),
    response: z.unknown(), file: { contentType: 'application/zip' },
    handler: async ({ q, orgId, params, query, today }) => {
      const f = await buildCaseFile(q, orgId, BigInt(params.id), await loadRateTables(q), today, {
        invoiceNumbers: query.invoices ? query.invoices.split(',').map((x) => x.trim()).filter(Boolean) : null,
        lang: query.lang,
      });
      return file(f.zip, 'application/zip', `${f.reference}.zip`);
    },
  }),
  route({
    method: 'get', path: '/api/v1/customers/{id}/injonction', operationId: 'getInjonctionRequest',
    summary: "The request for an order for payment (injonction de payer) as a PDF, prefilled from the ledger: the commercial court's online filing data (business debtor), the Cerfa form's fields (consumer or civil debt), or the European order for payment form A (debtor in another EU country). Refused (422 legal_rule, the reason in the detail) when an invoice is disputed, time-barred or had no formal notice, or the debtor is under collective proceedings",
    tag: 'escalation', scope: 'read',
    params: IdParams,
    query: z.object({ invoices: z.string().max(5000).optional().meta({ description: 'only these invoices: numbers, comma-separated' }), lang: z.enum(['fr', 'en']).optional() }),
    response: z.unknown(), file: { contentType: 'application/pdf' },
    handler: async ({ q, orgId, params, query, today }) => {
      const r = await injonctionRequest(q, orgId, BigInt(params.id), await loadRateTables(q), today, {
        invoiceNumbers: query.invoices ? query.invoices.split(',').map((x) => x.trim()).filter(Boolean) : null,
        lang: query.lang,
      });
      const res = file(r.pdf, 'application/pdf', `injonction-${params.id}.pdf`);
      res.headers.set('x-relance-procedure', r.procedure);
      return res;
    },
  }),
  route({
    method: 'get', path: '/api/v1/handovers', operationId: 'listHandovers', summary: 'Invoices handed over to an agency, a lawyer or a commissaire de justice', tag: 'escalation', scope: 'read',
    query: z.object({ customerId: Id.optional(), limit: Limit, cursor: Cursor }), response: page(Handover),
    handler: async ({ q, orgId, query }) => paged(await listHandovers(q, orgId, { customerId: query.customerId ? BigInt(query.customerId) : null, afterId: decodeCursor(query.cursor), limit: query.limit + 1 }), query.limit),
  }),
  route({
    method: 'post', path: '/api/v1/handovers', operationId: 'createHandover', summary: 'Hand invoices over: the handover is recorded and the reminders of those invoices stop at once', tag: 'escalation', scope: 'write',
    body: z.object({
      customerId: Id,
      invoiceNumbers: z.array(z.string().min(1).max(100)).min(1).max(500).optional(),
      allOpenInvoices: z.boolean().optional(),
      agentKind: z.enum(AGENT_KINDS).default('agency'),
      agentName: z.string().min(1).max(200),
      agentReference: z.string().max(200).nullish(),
      note: z.string().max(1000).nullish(),
    }),
    response: Handover.extend({ cancelledActions: z.number() }), errors: [404, 409, 422],
    handler: async ({ q, orgId, body, principal, today }) => {
      const r = await handOver(q, orgId, { ...body, customerId: BigInt(body.customerId), by: actor(principal) }, today);
      return { ...r.handover, cancelledActions: r.cancelledActions };
    },
  }),
  route({
    method: 'get', path: '/api/v1/handovers/{id}', operationId: 'getHandover', summary: 'One handover, with what was recovered and the fees', tag: 'escalation', scope: 'read',
    params: IdParams, response: Handover,
    handler: async ({ q, orgId, params }) => getHandover(q, orgId, BigInt(params.id)),
  }),
  route({
    method: 'get', path: '/api/v1/handovers/{id}/export', operationId: 'exportHandover',
    summary: 'The export for the agent (JSON): debtor, contacts, invoices, amounts to the day, history summary, case file reference', tag: 'escalation', scope: 'read',
    params: IdParams, response: z.looseObject({ caseFileReference: z.string(), debtor: z.looseObject({ legalName: z.string() }), invoices: z.array(z.looseObject({ number: z.string(), open: z.string() })) }),
    handler: async ({ q, orgId, params, today }) => handoverExport(q, orgId, BigInt(params.id), await loadRateTables(q), today),
  }),
  route({
    method: 'get', path: '/api/v1/handovers/{id}/export.csv', operationId: 'exportHandoverCsv', summary: 'The same export as CSV, one line per invoice (RFC 4180, UTF-8)', tag: 'escalation', scope: 'read',
    params: IdParams, response: z.unknown(), file: { contentType: 'text/csv; charset=utf-8' },
    handler: async ({ q, orgId, params, today }) => {
      const x = await handoverExport(q, orgId, BigInt(params.id), await loadRateTables(q), today);
      return file(Buffer.from(handoverCsv(x), 'utf8'), 'text/csv; charset=utf-8', `${x.caseFileReference}.csv`);
    },
  }),
  route({
    method: 'post', path: '/api/v1/handovers/{id}/reports', operationId: 'reportHandover',
    summary: "The agent's report: its status (handed_over, recovered, closed), a payment it collected (recorded and allocated to the invoices handed over, which are then settled), its fees. A report whose reference was already received changes nothing",
    tag: 'escalation', scope: 'write',
    params: IdParams,
    body: z.object({
      reference: z.string().min(1).max(200).nullish().meta({ description: "the agent's id for this report: a report sent twice is recorded once" }),
      status: z.enum(HANDOVER_STATUSES).nullish(),
      payment: z.object({ amount: DecimalAmount, paidOn: IsoDate }).nullish(),
      fees: DecimalAmount.nullish(),
      note: z.string().max(1000).nullish(),
    }),
    response: z.object({ handover: Handover, reportId: z.string(), paymentId: z.string().nullable(), replayed: z.boolean() }), errors: [404, 422],
    handler: async ({ q, orgId, params, body, today }) => {
      const h = await getHandover(q, orgId, BigInt(params.id));
      return reportHandover(
        q, orgId, h.id,
        {
          reference: body.reference ?? null, status: body.status ?? null, note: body.note ?? null,
          payment: body.payment ? { amountMinor: parseAmount(body.payment.amount, h.currency, { field: 'payment.amount' }), paidOn: body.payment.paidOn } : null,
          feesMinor: body.fees ? parseAmount(body.fees, h.currency, { field: 'fees' }) : null,
        },
        today,
      );
    },
  }),
  route({
    method: 'get', path: '/api/v1/insolvency-proceedings', operationId: 'listInsolvencyProceedings', summary: 'Collective proceedings recorded against customers', tag: 'escalation', scope: 'read',
    query: z.object({ customerId: Id.optional(), limit: Limit, cursor: Cursor }), response: page(Proceeding),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<{ id: bigint }>(
        `SELECT id FROM insolvency_proceedings WHERE organisation_id = $1 AND ($2::bigint IS NULL OR customer_id = $2) AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4`,
        [orgId, query.customerId ?? null, decodeCursor(query.cursor), query.limit + 1],
      );
      const list = [];
      for (const r of rows) list.push(await getProceeding(q, orgId, r.id));
      return paged(list, query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/insolvency-proceedings', operationId: 'recordInsolvencyProceeding',
    summary: 'Record safeguard, receivership or liquidation proceedings: every reminder and penalty stops for the customer at once; the claim declaration task gets its legal deadline',
    tag: 'escalation', scope: 'write',
    body: z.object({
      customerId: Id,
      kind: z.enum(PROCEEDING_KINDS),
      judgmentDate: IsoDate,
      publicationDate: IsoDate.nullish().meta({ description: 'publication of the judgment in the BODACC: starts the declaration deadline' }),
      court: z.string().max(200).nullish(),
      caseNumber: z.string().max(100).nullish(),
      representativeName: z.string().max(200).nullish(),
      representativeAddress: z.string().max(500).nullish(),
      creditorAbroad: z.boolean().nullish().meta({ description: 'the creditor is outside metropolitan France (longer deadline); default: the organisation is not in France' }),
      privilege: z.string().max(500).nullish(),
      note: z.string().max(1000).nullish(),
    }),
    response: Proceeding.extend({ cancelledActions: z.number() }), errors: [404, 409],
    handler: async ({ q, orgId, body, today }) => {
      const r = await recordProceeding(q, orgId, { ...body, customerId: BigInt(body.customerId) }, today);
      return { ...r.proceeding, cancelledActions: r.cancelledActions };
    },
  }),
  route({
    method: 'get', path: '/api/v1/insolvency-proceedings/{id}', operationId: 'getInsolvencyProceeding', summary: 'One collective proceedings record', tag: 'escalation', scope: 'read',
    params: IdParams, response: Proceeding,
    handler: async ({ q, orgId, params }) => getProceeding(q, orgId, BigInt(params.id)),
  }),
  route({
    method: 'post', path: '/api/v1/insolvency-proceedings/{id}/publication', operationId: 'setInsolvencyPublication', summary: 'The BODACC publication date: the declaration deadline and its task follow', tag: 'escalation', scope: 'write',
    params: IdParams, body: z.object({ publicationDate: IsoDate }), response: Proceeding, status: 200,
    handler: async ({ q, orgId, params, body }) => setPublication(q, orgId, BigInt(params.id), body.publicationDate),
  }),
  route({
    method: 'post', path: '/api/v1/insolvency-proceedings/{id}/declared', operationId: 'markClaimDeclared', summary: 'The claim was declared today: its task is done', tag: 'escalation', scope: 'write',
    params: IdParams, response: Proceeding, status: 200,
    handler: async ({ q, orgId, params, today }) => markDeclared(q, orgId, BigInt(params.id), today),
  }),
  route({
    method: 'post', path: '/api/v1/insolvency-proceedings/{id}/close', operationId: 'closeInsolvencyProceeding', summary: 'The proceedings are over; resume lifts the stop of the reminders', tag: 'escalation', scope: 'write',
    params: IdParams, body: z.object({ resume: z.boolean().optional() }), response: Proceeding, status: 200,
    handler: async ({ q, orgId, params, body, today }) => closeProceeding(q, orgId, BigInt(params.id), today, { resume: body.resume === true }),
  }),
  route({
    method: 'get', path: '/api/v1/insolvency-proceedings/{id}/declaration', operationId: 'getClaimDeclaration',
    summary: 'The declaration of claim as a PDF: amounts to the judgment date, nature of the claim, supporting documents', tag: 'escalation', scope: 'read',
    params: IdParams, query: z.object({ lang: z.enum(['fr', 'en']).optional() }), response: z.unknown(), file: { contentType: 'application/pdf' },
    handler: async ({ q, orgId, params, query, today }) => {
      const r = await declarationPdf(q, orgId, BigInt(params.id), await loadRateTables(q), today, query.lang);
      return file(r.pdf, 'application/pdf', `declaration-${params.id}.pdf`);
    },
  }),
  route({
    method: 'post', path: '/api/v1/write-off-requests', operationId: 'proposeWriteOff',
    summary: "Propose writing off the irrecoverable part (amounts per invoice, or everything open); nothing changes until someone else approves", tag: 'escalation', scope: 'write',
    body: z.object({
      proceedingId: Id.optional(),
      customerId: Id.optional(),
      amounts: z.array(z.object({ invoiceNumber: z.string().min(1).max(100), amount: DecimalAmount })).max(500).optional(),
      reason: z.string().min(1).max(1000),
    }),
    response: WriteOffRequest, errors: [404, 422],
    handler: async ({ q, orgId, org, body, principal, today }) =>
      proposeWriteOff(
        q, orgId,
        {
          proceedingId: body.proceedingId ? BigInt(body.proceedingId) : null,
          customerId: body.customerId ? BigInt(body.customerId) : null,
          amounts: body.amounts?.map((a, k) => ({ invoiceNumber: a.invoiceNumber, amountMinor: parseAmount(a.amount, org.currency, { field: `amounts.${k}.amount` }) })) ?? null,
          reason: body.reason,
          by: actor(principal),
        },
        today,
      ),
  }),
  ...(['approve', 'refuse'] as const).map((verb) =>
    route({
      method: 'post', path: `/api/v1/write-off-requests/{id}/${verb}`, operationId: `${verb}WriteOff`,
      summary: verb === 'approve' ? 'Approve a proposed write-off (not by who proposed it): the ledger writes it off; the VAT figures for the accountant' : 'Refuse a proposed write-off',
      tag: 'escalation', scope: 'admin',
      params: IdParams, response: WriteOffDecision, status: 200, errors: [403, 409],
      handler: async ({ q, orgId, params, principal, today }) => decideWriteOff(q, orgId, BigInt(params.id), { approve: verb === 'approve', by: actor(principal) }, today),
    }),
  ),
];
