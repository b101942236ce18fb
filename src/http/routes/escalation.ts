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

/** Who acts, as the write-off's approval records it. */
const actor = (p: Principal) => p.email ?? (p.apiKeyId !== null ? `api key ${p.apiKeyId}` : 'api');
const file = (bytes: Buffer, type: string, name: string) =>
  new Response(new Uint8Array(bytes), { headers: { 'content-type': type, 'content-disposition': `attachment; filename="${name}"` } });

export const escalationRoutes: RouteDef[] = [
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
