/** /api/v1 ledger resources: customers, contacts, invoices, credit notes, payments, allocations. */
import { matchPayments } from '../../bank/match-payments.ts';
import { z } from 'zod';
import type { CalendarDate } from '../../domain/dates.ts';
import { parseAmount } from '../../domain/money.ts';
import { notFound, validation } from '../../errors.ts';
import { OUTSIDE_LEVELS } from '../../domain/engine/planner.ts';
import { recordOutsideReminders } from '../../imports/csv.ts';
import { defineErrors } from '../../i18n/index.ts';
import {
  addContact,
  allocate,
  createCreditNote,
  createCustomer,
  createInvoice,
  getCustomer,
  getInvoice,
  type CustomerPatch,
  getPayment,
  recordPayment,
  reverseAllocation,
  updateCustomer,
} from '../../ledger/repo.ts';
import { formatPercent, parsePercent, RISK_CLASSES, type RiskClass } from '../../domain/credit-policy.ts';
import { checkCreditLimits, customerExposure } from '../../risk/credit.ts';
import type { Queryable } from '../../db/driver.ts';
import { replanCustomer } from '../../engine/events.ts';
import { emitEvent } from '../../webhooks/index.ts';
import { escapeLike } from '../../db/driver.ts';
import { Currency, Cursor, DecimalAmount, decodeCursor, Id, IdParams, IsoDate, Limit, MinorString, page, paged, route, type RouteDef } from './define.ts';

const E = defineErrors('api-ledger', {
  reminder_before_issue: { fr: 'la dernière relance ne peut pas précéder la date de facture', en: 'the last reminder cannot be before the issue date' },
});

const IdOut = z.string();
const ContactIn = z.object({
  name: z.string().min(1).max(200),
  role: z.string().max(100).nullish(),
  email: z.email().nullish(),
  phone: z.string().max(40).nullish(),
  addressLine1: z.string().max(200).nullish(),
  addressLine2: z.string().max(200).nullish(),
  postalCode: z.string().max(20).nullish(),
  city: z.string().max(100).nullish(),
  country: z.string().regex(/^[A-Z]{2}$/).nullish(),
  receivesReminders: z.boolean().optional(),
});
const Contact = z.looseObject({ id: IdOut, customerId: IdOut, name: z.string(), email: z.string().nullable(), receivesReminders: z.boolean() });
const Customer = z.looseObject({
  id: IdOut,
  externalId: z.string().nullable(),
  legalName: z.string(),
  kind: z.enum(['business', 'consumer']),
  siren: z.string().nullable(),
  vatNumber: z.string().nullable(),
  country: z.string(),
  language: z.enum(['fr', 'en']),
  paymentTermsDays: z.number(),
  creditLimitMinor: MinorString.nullable(),
  depositPercent: z.string().nullable(),
  earlyPaymentDiscount: z.object({ percent: z.string(), withinDays: z.number() }).nullable(),
  riskClass: z.enum(RISK_CLASSES).nullable(),
});
const Exposure = z.object({
  openMinor: MinorString,
  ordersMinor: MinorString,
  exposureMinor: MinorString,
  limitMinor: MinorString.nullable(),
  headroomMinor: MinorString.nullable(),
  overLimit: z.boolean(),
});
const CustomerDetail = Customer.extend({ contacts: z.array(Contact), exposure: Exposure });
const Percent = z.union([z.string().max(10), z.number()]).meta({ description: 'percentage as typed: "30", "1.5"', example: '2' });
/** The credit policy, as the API, the CLI and the web app take it. */
export const CreditPolicyIn = {
  creditLimit: DecimalAmount.nullish().meta({ description: 'credit limit in the organisation currency ("5000.00"); null removes it' }),
  depositPercent: Percent.nullish().meta({ description: 'deposit asked on new orders, percent' }),
  earlyPaymentDiscount: z.object({ percent: Percent, withinDays: z.number().int().min(0).max(365) }).nullish(),
  riskClass: z.enum(RISK_CLASSES).nullish(),
};
const CustomerIn = z.object({
  externalId: z.string().min(1).max(100).nullish(),
  legalName: z.string().min(1).max(300),
  kind: z.enum(['business', 'consumer']).optional(),
  siren: z.string().regex(/^\d{9}$/).nullish(),
  siret: z.string().regex(/^\d{14}$/).nullish(),
  vatNumber: z.string().max(20).nullish(),
  country: z.string().regex(/^[A-Z]{2}$/).optional(),
  language: z.enum(['fr', 'en']).optional(),
  paymentTermsDays: z.number().int().min(0).max(365).optional(),
  tags: z.array(z.string().max(50)).max(50).optional(),
  segment: z.string().max(100).nullish(),
  notes: z.string().max(5000).nullish(),
  ...CreditPolicyIn,
  contacts: z.array(ContactIn).max(50).optional(),
});
const CustomerPatchIn = CustomerIn.omit({ contacts: true, externalId: true })
  .partial()
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field to change', path: ['legalName'] });

const Invoice = z.looseObject({
  id: IdOut,
  customerId: IdOut,
  number: z.string(),
  externalId: z.string().nullable(),
  issueDate: z.string(),
  dueDate: z.string(),
  currency: z.string(),
  amountInclTaxMinor: MinorString,
  amountExclTaxMinor: MinorString,
  openMinor: MinorString,
  status: z.enum(['open', 'partially_paid', 'paid', 'written_off']),
  pdfDocumentId: IdOut.nullable(),
});
const InvoiceIn = z.object({
  customerId: Id,
  number: z.string().min(1).max(100),
  externalId: z.string().max(100).nullish(),
  issueDate: IsoDate,
  dueDate: IsoDate,
  currency: Currency.optional(),
  amountInclTax: DecimalAmount,
  amountExclTax: DecimalAmount.optional(),
  /** The last reminder sent before Relance (another tool, by hand): the ladder continues after it. */
  lastReminder: z
    .object({
      level: z.enum(OUTSIDE_LEVELS).describe('reminder, firm, final or formal_notice'),
      sentOn: IsoDate,
    })
    .nullish(),
});

const CreditNote = z.looseObject({ id: IdOut, customerId: IdOut, number: z.string(), issueDate: z.string(), currency: z.string(), amountMinor: MinorString, allocatedMinor: MinorString });
const CreditNoteIn = z.object({
  customerId: Id,
  number: z.string().min(1).max(100),
  externalId: z.string().max(100).nullish(),
  issueDate: IsoDate,
  currency: Currency.optional(),
  amount: DecimalAmount,
  reason: z.string().max(500).nullish(),
});

const Payment = z.looseObject({
  id: IdOut,
  customerId: IdOut.nullable(),
  externalId: z.string().nullable(),
  paymentDate: z.string(),
  currency: z.string(),
  amountMinor: MinorString,
  allocatedMinor: MinorString,
  method: z.string(),
  reference: z.string().nullable(),
});
const PaymentIn = z.object({
  customerId: Id.nullish(),
  externalId: z.string().max(100).nullish(),
  paymentDate: IsoDate,
  currency: Currency.optional(),
  amount: DecimalAmount,
  method: z.enum(['transfer', 'direct_debit', 'card', 'cheque', 'cash', 'lcr', 'other']).optional(),
  reference: z.string().max(300).nullish(),
  payerName: z.string().max(200).nullish(),
  payerIban: z.string().max(40).nullish(),
  /** Applies the payment to these invoices at once, oldest due first, up to what each owes. */
  allocateTo: z.array(Id).max(100).optional(),
});

const Allocation = z.looseObject({ id: IdOut, invoiceId: IdOut, paymentId: IdOut.nullable(), creditNoteId: IdOut.nullable(), amountMinor: MinorString, allocatedOn: z.string() });
const AllocationIn = z
  .object({ invoiceId: Id, paymentId: Id.optional(), creditNoteId: Id.optional(), amount: DecimalAmount, allocatedOn: IsoDate.optional() })
  .refine((a) => (a.paymentId === undefined) !== (a.creditNoteId === undefined), { message: 'give exactly one of paymentId or creditNoteId', path: ['paymentId'] });

type Row = Record<string, unknown>;

/** The credit-policy fields of an API body as the ledger stores them (undefined: not given). */
export function creditPolicyOf(
  b: { creditLimit?: string | null; depositPercent?: string | number | null; earlyPaymentDiscount?: { percent: string | number; withinDays: number } | null; riskClass?: RiskClass | null },
  currency: string,
): Pick<CustomerPatch, 'creditLimitMinor' | 'depositBp' | 'earlyDiscount' | 'riskClass'> {
  const out: Pick<CustomerPatch, 'creditLimitMinor' | 'depositBp' | 'earlyDiscount' | 'riskClass'> = {};
  if (b.creditLimit !== undefined) out.creditLimitMinor = b.creditLimit === null ? null : parseAmount(b.creditLimit, currency, { field: 'creditLimit' });
  if (b.depositPercent !== undefined) out.depositBp = b.depositPercent === null ? null : parsePercent(b.depositPercent, 'depositPercent');
  if (b.earlyPaymentDiscount !== undefined) {
    out.earlyDiscount = b.earlyPaymentDiscount === null ? null : { bp: parsePercent(b.earlyPaymentDiscount.percent, 'earlyPaymentDiscount.percent', 50), withinDays: b.earlyPaymentDiscount.withinDays };
  }
  if (b.riskClass !== undefined) out.riskClass = b.riskClass;
  return out;
}

/** A customer as the API shows it: rates as percentages, with its exposure against its limit. */
export async function apiCustomer(q: Queryable, orgId: string, c: Awaited<ReturnType<typeof getCustomer>>) {
  const { depositBp, earlyDiscount, ...rest } = c;
  return {
    ...rest,
    depositPercent: depositBp === null ? null : formatPercent(depositBp),
    earlyPaymentDiscount: earlyDiscount ? { percent: formatPercent(earlyDiscount.bp), withinDays: earlyDiscount.withinDays } : null,
    exposure: await customerExposure(q, orgId, c.id),
  };
}

const camel = (r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.replace(/_(\w)/g, (_m, ch: string) => ch.toUpperCase()), v]));

export const ledgerRoutes: RouteDef[] = [
  route({
    method: 'get', path: '/api/v1/customers', operationId: 'listCustomers', summary: 'List customers (search by name, external id or SIREN)', tag: 'customers', scope: 'read',
    query: z.object({ search: z.string().max(100).optional(), limit: Limit, cursor: Cursor }),
    response: page(Customer),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<Row>(
        `SELECT id, external_id, legal_name, kind, siren, siret, vat_number, country, language, payment_terms_days, tags, segment, credit_limit_minor,
                deposit_bp, early_discount_bp, early_discount_days, risk_class
           FROM customers WHERE organisation_id = $1
            AND ($2::text IS NULL OR lower(legal_name) LIKE '%' || lower($5) || '%' OR external_id = $2 OR siren = $2)
            AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4`,
        [orgId, query.search ?? null, decodeCursor(query.cursor), query.limit + 1, escapeLike(query.search ?? '')],
      );
      const shown = rows.map(({ deposit_bp, early_discount_bp, early_discount_days, ...r }) => ({
        ...camel(r),
        depositPercent: deposit_bp == null ? null : formatPercent(Number(deposit_bp)),
        earlyPaymentDiscount: early_discount_bp == null ? null : { percent: formatPercent(Number(early_discount_bp)), withinDays: Number(early_discount_days) },
      }));
      return paged(shown as unknown as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/customers', operationId: 'createCustomer', summary: 'Create a customer with its contacts', tag: 'customers', scope: 'write',
    body: CustomerIn, response: CustomerDetail, errors: [409],
    handler: async ({ q, orgId, org, body }) => {
      const { creditLimit: _l, depositPercent: _d, earlyPaymentDiscount: _e, riskClass: _r, ...fields } = body;
      return apiCustomer(q, orgId, await createCustomer(q, orgId, { ...fields, ...creditPolicyOf(body, org.currency) }));
    },
  }),
  route({
    method: 'get', path: '/api/v1/customers/{id}', operationId: 'getCustomer', summary: 'A customer, its contacts, credit policy and exposure', tag: 'customers', scope: 'read',
    params: IdParams, response: CustomerDetail,
    handler: async ({ q, orgId, params }) => apiCustomer(q, orgId, await getCustomer(q, orgId, BigInt(params.id))),
  }),
  route({
    method: 'patch', path: '/api/v1/customers/{id}', operationId: 'updateCustomer',
    summary: 'Change a customer: fields given are set (null clears), others kept; a limit now exceeded raises customer.credit_limit_exceeded', tag: 'customers', scope: 'write',
    params: IdParams, body: CustomerPatchIn, response: CustomerDetail, errors: [404],
    handler: async ({ q, orgId, org, params, body, today }) => {
      const { creditLimit: _l, depositPercent: _d, earlyPaymentDiscount: _e, riskClass: _r, ...fields } = body;
      const id = BigInt(params.id);
      const updated = await updateCustomer(q, orgId, id, { ...fields, ...creditPolicyOf(body, org.currency) });
      await checkCreditLimits(q, orgId, today, [id]);
      return apiCustomer(q, orgId, updated);
    },
  }),
  route({
    method: 'get', path: '/api/v1/customers/{id}/contacts', operationId: 'listContacts', summary: "A customer's contacts", tag: 'contacts', scope: 'read',
    params: IdParams, response: z.object({ data: z.array(Contact) }),
    handler: async ({ q, orgId, params }) => ({ data: (await getCustomer(q, orgId, BigInt(params.id))).contacts }),
  }),
  route({
    method: 'post', path: '/api/v1/customers/{id}/contacts', operationId: 'createContact', summary: 'Add a contact to a customer', tag: 'contacts', scope: 'write',
    params: IdParams, body: ContactIn, response: Contact,
    handler: async ({ q, orgId, params, body }) => {
      await getCustomer(q, orgId, BigInt(params.id));
      return addContact(q, orgId, BigInt(params.id), body);
    },
  }),

  route({
    method: 'get', path: '/api/v1/invoices', operationId: 'listInvoices', summary: 'List invoices, filtered by customer, status, due date', tag: 'invoices', scope: 'read',
    query: z.object({
      customerId: Id.optional(),
      status: z.enum(['open', 'overdue', 'partially_paid', 'paid', 'written_off', 'unpaid']).optional().meta({ description: 'unpaid = open or partially paid; overdue = unpaid and past due' }),
      dueBefore: IsoDate.optional(),
      number: z.string().max(100).optional(),
      limit: Limit,
      cursor: Cursor,
    }),
    response: page(Invoice),
    handler: async ({ q, orgId, query, today }) => {
      const rows = await q.query<Row>(
        `SELECT id, customer_id, number, external_id, issue_date, due_date, currency, amount_excl_tax_minor, amount_incl_tax_minor, allocated_minor,
                written_off_minor, open_minor, status, pdf_document_id
           FROM invoice_balances WHERE organisation_id = $1
            AND ($2::bigint IS NULL OR customer_id = $2)
            AND ($3::text IS NULL OR ($3 = 'unpaid' AND open_minor > 0) OR ($3 = 'overdue' AND open_minor > 0 AND due_date < $4)
                 OR ($3 NOT IN ('unpaid', 'overdue') AND status = $3))
            AND ($5::date IS NULL OR due_date < $5) AND ($6::text IS NULL OR number = $6)
            AND ($7::bigint IS NULL OR id > $7) ORDER BY id LIMIT $8`,
        [orgId, query.customerId ?? null, query.status ?? null, today, query.dueBefore ?? null, query.number ?? null, decodeCursor(query.cursor), query.limit + 1],
      );
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/invoices', operationId: 'createInvoice', summary: 'Create an invoice', tag: 'invoices', scope: 'write',
    body: InvoiceIn, response: Invoice, errors: [409, 404],
    handler: async ({ q, orgId, org, body, today }) => {
      const currency = body.currency ?? org.currency;
      const incl = parseAmount(body.amountInclTax, currency, { field: 'amountInclTax' });
      const invoice = await createInvoice(q, orgId, {
        customerId: BigInt(body.customerId), number: body.number, externalId: body.externalId ?? null, issueDate: body.issueDate, dueDate: body.dueDate, currency,
        amountInclTaxMinor: incl, amountExclTaxMinor: body.amountExclTax ? parseAmount(body.amountExclTax, currency, { field: 'amountExclTax' }) : incl,
      });
      await checkCreditLimits(q, orgId, today, [invoice.customerId]);
      if (body.lastReminder) {
        if (body.lastReminder.sentOn < body.issueDate) throw validation(E('reminder_before_issue'), { field: 'lastReminder.sentOn' });
        await recordOutsideReminders(q, orgId, [{ number: invoice.number, level: body.lastReminder.level, on: body.lastReminder.sentOn as CalendarDate }]);
      }
      return invoice;
    },
  }),
  route({
    method: 'get', path: '/api/v1/invoices/{id}', operationId: 'getInvoice', summary: 'An invoice with its open amount and status', tag: 'invoices', scope: 'read',
    params: IdParams, response: Invoice,
    handler: async ({ q, orgId, params }) => getInvoice(q, orgId, BigInt(params.id)),
  }),

  route({
    method: 'get', path: '/api/v1/credit-notes', operationId: 'listCreditNotes', summary: 'List credit notes', tag: 'credit notes', scope: 'read',
    query: z.object({ customerId: Id.optional(), limit: Limit, cursor: Cursor }), response: page(CreditNote),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<Row>(
        `SELECT id, customer_id, number, external_id, issue_date, currency, amount_minor, allocated_minor, reason FROM credit_notes
          WHERE organisation_id = $1 AND ($2::bigint IS NULL OR customer_id = $2) AND ($3::bigint IS NULL OR id > $3) ORDER BY id LIMIT $4`,
        [orgId, query.customerId ?? null, decodeCursor(query.cursor), query.limit + 1],
      );
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/credit-notes', operationId: 'createCreditNote', summary: 'Create a credit note', tag: 'credit notes', scope: 'write',
    body: CreditNoteIn, response: CreditNote, errors: [409, 404],
    handler: async ({ q, orgId, org, body }) => {
      const currency = body.currency ?? org.currency;
      return createCreditNote(q, orgId, {
        customerId: BigInt(body.customerId), number: body.number, externalId: body.externalId ?? null, issueDate: body.issueDate, currency,
        amountMinor: parseAmount(body.amount, currency, { field: 'amount' }), reason: body.reason ?? null,
      });
    },
  }),
  route({
    method: 'get', path: '/api/v1/credit-notes/{id}', operationId: 'getCreditNote', summary: 'A credit note', tag: 'credit notes', scope: 'read',
    params: IdParams, response: CreditNote,
    handler: async ({ q, orgId, params }) => {
      const [r] = await q.query<Row>(
        'SELECT id, customer_id, number, external_id, issue_date, currency, amount_minor, allocated_minor, reason FROM credit_notes WHERE organisation_id = $1 AND id = $2',
        [orgId, BigInt(params.id)],
      );
      if (!r) throw notFound('credit note', params.id);
      return camel(r);
    },
  }),

  route({
    method: 'get', path: '/api/v1/payments', operationId: 'listPayments', summary: 'List payments', tag: 'payments', scope: 'read',
    query: z.object({ customerId: Id.optional(), unallocated: z.enum(['true', 'false']).optional(), limit: Limit, cursor: Cursor }), response: page(Payment),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<Row>(
        `SELECT id, customer_id, external_id, payment_date, currency, amount_minor, allocated_minor, method, reference, payer_name, payer_iban FROM payments
          WHERE organisation_id = $1 AND ($2::bigint IS NULL OR customer_id = $2) AND (NOT $3::boolean OR allocated_minor < amount_minor)
            AND ($4::bigint IS NULL OR id > $4) ORDER BY id LIMIT $5`,
        [orgId, query.customerId ?? null, query.unallocated === 'true', decodeCursor(query.cursor), query.limit + 1],
      );
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/payments', operationId: 'createPayment', summary: 'Record a payment, optionally applied to invoices', tag: 'payments', scope: 'write',
    body: PaymentIn, response: Payment.extend({ allocations: z.array(Allocation) }), errors: [409, 404, 422],
    handler: async ({ q, orgId, org, body, today }) => {
      const currency = body.currency ?? org.currency;
      const p = await recordPayment(q, orgId, {
        customerId: body.customerId ? BigInt(body.customerId) : null, externalId: body.externalId ?? null, paymentDate: body.paymentDate, currency,
        amountMinor: parseAmount(body.amount, currency, { field: 'amount' }), method: body.method, reference: body.reference ?? null,
        payerName: body.payerName ?? null, payerIban: body.payerIban ?? null,
      });
      const allocations = [];
      let left = p.amountMinor;
      const invoices = await Promise.all((body.allocateTo ?? []).map((id) => getInvoice(q, orgId, BigInt(id))));
      for (const inv of invoices.sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0))) {
        const amount = inv.openMinor < left ? inv.openMinor : left;
        if (amount <= 0n) continue;
        allocations.push(await allocate(q, orgId, { invoiceId: inv.id, paymentId: p.id, amountMinor: amount, allocatedOn: body.paymentDate as CalendarDate }));
        left -= amount;
        if (inv.openMinor === amount) await emitEvent(q, orgId, 'invoice.paid', { invoiceId: inv.id, number: inv.number, customerId: inv.customerId, paymentId: p.id });
      }
      // Not told which invoices it pays: the same matching as bank lines decides, or it stays credit.
      const matched = body.allocateTo?.length ? null : await matchPayments(q, orgId, { paymentIds: [p.id] });
      if (matched) {
        for (const a of await q.query<Record<string, unknown>>('SELECT * FROM allocations WHERE organisation_id = $1 AND payment_id = $2 ORDER BY id', [orgId, p.id])) {
          allocations.push({ id: a.id as bigint, invoiceId: a.invoice_id as bigint, paymentId: p.id, creditNoteId: null, currency: String(a.currency), amountMinor: a.amount_minor as bigint, allocatedOn: a.allocated_on as CalendarDate });
        }
      }
      // Reminders planned for what was just paid are cancelled now, not at the next cycle.
      for (const c of new Set([...invoices.map((i) => i.customerId), ...(matched?.customerIds ?? [])])) await replanCustomer(q, orgId, c, today);
      return { ...(await getPayment(q, orgId, p.id)), allocations };
    },
  }),
  route({
    method: 'get', path: '/api/v1/payments/{id}', operationId: 'getPayment', summary: 'A payment', tag: 'payments', scope: 'read',
    params: IdParams, response: Payment,
    handler: async ({ q, orgId, params }) => getPayment(q, orgId, BigInt(params.id)),
  }),

  route({
    method: 'get', path: '/api/v1/allocations', operationId: 'listAllocations', summary: 'Allocations of an invoice or a payment', tag: 'allocations', scope: 'read',
    query: z.object({ invoiceId: Id.optional(), paymentId: Id.optional(), limit: Limit, cursor: Cursor }), response: page(Allocation),
    handler: async ({ q, orgId, query }) => {
      const rows = await q.query<Row>(
        `SELECT id, invoice_id, payment_id, credit_note_id, currency, amount_minor, allocated_on FROM allocations
          WHERE organisation_id = $1 AND ($2::bigint IS NULL OR invoice_id = $2) AND ($3::bigint IS NULL OR payment_id = $3)
            AND ($4::bigint IS NULL OR id > $4) ORDER BY id LIMIT $5`,
        [orgId, query.invoiceId ?? null, query.paymentId ?? null, decodeCursor(query.cursor), query.limit + 1],
      );
      return paged(rows.map(camel) as { id: bigint }[], query.limit);
    },
  }),
  route({
    method: 'post', path: '/api/v1/allocations', operationId: 'createAllocation', summary: 'Apply part of a payment or credit note to an invoice', tag: 'allocations', scope: 'write',
    body: AllocationIn, response: Allocation, errors: [404, 422],
    handler: async ({ q, orgId, body, today }) => {
      const inv = await getInvoice(q, orgId, BigInt(body.invoiceId));
      const amountMinor = parseAmount(body.amount, inv.currency, { field: 'amount' });
      const a = await allocate(q, orgId, {
        invoiceId: inv.id,
        ...(body.paymentId ? { paymentId: BigInt(body.paymentId) } : {}),
        ...(body.creditNoteId ? { creditNoteId: BigInt(body.creditNoteId) } : {}),
        amountMinor,
        allocatedOn: (body.allocatedOn as CalendarDate | undefined) ?? today,
      });
      if (inv.openMinor === amountMinor) await emitEvent(q, orgId, 'invoice.paid', { invoiceId: inv.id, number: inv.number, customerId: inv.customerId });
      await replanCustomer(q, orgId, inv.customerId, today);
      return a;
    },
  }),
  route({
    method: 'delete', path: '/api/v1/allocations/{id}', operationId: 'reverseAllocation', summary: 'Reverse an allocation (the invoice is open again)', tag: 'allocations', scope: 'write',
    params: IdParams, response: z.object({ reversed: z.literal(true) }),
    handler: async ({ q, orgId, params }) => {
      await reverseAllocation(q, orgId, BigInt(params.id));
      return { reversed: true as const };
    },
  }),
];
