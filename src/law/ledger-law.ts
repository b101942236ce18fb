/**
 * The late-payment law applied to the ledger: payment-term warnings and limitation flags over the
 * open invoices, and the penalty statement of a customer (or one invoice), which the organisation
 * may book as a new receivable. The rules are the pure ones of src/domain/law; this file only
 * reads the ledger and writes the booked receivable.
 */
import type { Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { addDays } from '../domain/dates.ts';
import {
  buildPenaltyStatement,
  checkPaymentTerms,
  type FortyFiveEndOfMonthMethod,
  type PaymentTermsSettings,
  type PenaltyStatement,
  penaltyReceivable,
  prescriptionStatus,
  type RateTables,
  type RegimeDecision,
  type TermsWarning,
} from '../domain/law/index.ts';
import { customerRegime } from './regime.ts';
import type { Minor } from '../domain/money.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { createInvoice, getInvoiceByNumber, type Invoice } from './../ledger/repo.ts';
import { defineErrors } from '../i18n/index.ts';
import { refuseUnderProceedings } from '../escalation/insolvency.ts';

const E = defineErrors('law-ledger', {
  currencies: { fr: "les factures en retard du client sont dans plusieurs devises ({currencies}) : demandez une seule facture", en: "the customer's late invoices are in several currencies ({currencies}): ask for one invoice" },
  already_booked: { fr: "les pénalités de ce client ont déjà été facturées le {date} sur la facture {number}", en: "penalties of this customer were already booked on {date} as invoice {number}" },
});

export interface LedgerLawFinding {
  invoice: string;
  customerId: bigint;
  customer: string;
  dueDate: CalendarDate;
  openMinor: Minor;
  currency: string;
  /** Terms longer than the law allows under the organisation's regime. */
  terms: TermsWarning[];
  /** Limitation: running, approaching (within warnWithinDays) or prescribed. */
  prescription: { status: 'approaching' | 'prescribed'; deadline: CalendarDate; daysLeft: number; legalBasis: string } | null;
}

/**
 * Open invoices whose terms exceed L441-10's limits, or whose limitation period ends soon (or has
 * ended): a payment on account restarts the period (an acknowledgment of the debt).
 */
export async function ledgerLawFindings(
  q: Queryable,
  orgId: string,
  today: CalendarDate,
  opts: { terms?: Partial<PaymentTermsSettings>; warnWithinDays?: number; limit?: number } = {},
): Promise<LedgerLawFinding[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT i.number, i.customer_id, c.legal_name, c.kind, i.issue_date, i.due_date, i.currency,
            i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor,
            (SELECT max(a.allocated_on) FROM allocations a WHERE a.organisation_id = i.organisation_id AND a.invoice_id = i.id) AS last_payment
       FROM invoices i JOIN customers c ON c.organisation_id = i.organisation_id AND c.id = i.customer_id
      WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor
      ORDER BY i.due_date, i.id`,
    [orgId],
  );
  const out: LedgerLawFinding[] = [];
  for (const r of rows) {
    const kind = r.kind as 'business' | 'consumer';
    // The L441-10 limits bind commercial terms between businesses.
    const terms = kind === 'business' ? checkPaymentTerms({ issueDate: r.issue_date as CalendarDate, dueDate: r.due_date as CalendarDate }, opts.terms).warnings : [];
    const p = prescriptionStatus({
      debtor: kind,
      from: r.due_date as CalendarDate,
      today,
      ...(r.last_payment ? { interruptedOn: r.last_payment as CalendarDate } : {}),
      warnWithinDays: opts.warnWithinDays ?? 90,
    });
    const prescription = p.status === 'running' ? null : { status: p.status, deadline: p.deadline, daysLeft: p.daysLeft, legalBasis: p.legalBasis };
    if (terms.length === 0 && !prescription) continue;
    out.push({
      invoice: String(r.number),
      customerId: r.customer_id as bigint,
      customer: String(r.legal_name),
      dueDate: r.due_date as CalendarDate,
      openMinor: r.open_minor as bigint,
      currency: String(r.currency),
      terms,
      prescription,
    });
    if (opts.limit && out.length >= opts.limit) break;
  }
  return out;
}

/**
 * The penalty statement of a customer's late invoices (open ones up to `asOf`, settled ones up to
 * the day they were settled), or of one invoice: a separate document, the invoices untouched.
 */
export async function ledgerPenaltyStatement(
  q: Queryable,
  orgId: string,
  target: { customerId: bigint } | { invoiceNumber: string },
  asOf: CalendarDate,
  rates: RateTables,
  opts: { sinceDays?: number } = {},
): Promise<{ statement: PenaltyStatement; customerId: bigint; customerKind: 'business' | 'consumer'; regime: RegimeDecision }> {
  let customerId: bigint;
  let only: Invoice | null = null;
  if ('invoiceNumber' in target) {
    only = await getInvoiceByNumber(q, orgId, target.invoiceNumber);
    customerId = only.customerId;
  } else customerId = target.customerId;
  const law = await customerRegime(q, orgId, customerId);
  const since = addDays(asOf, -(opts.sinceDays ?? 365));
  const invoices = await q.query<Record<string, unknown>>(
    `SELECT i.id, i.number, i.issue_date, i.due_date, i.currency, i.amount_incl_tax_minor,
            i.allocated_minor + i.written_off_minor >= i.amount_incl_tax_minor AS settled,
            coalesce(json_agg(json_build_object('date', a.allocated_on, 'amount', a.amount_minor::text) ORDER BY a.allocated_on)
                     FILTER (WHERE a.id IS NOT NULL), '[]') AS payments
       FROM invoices i LEFT JOIN allocations a ON a.organisation_id = i.organisation_id AND a.invoice_id = i.id
      WHERE i.organisation_id = $1 AND i.customer_id = $2 AND i.due_date < $3 AND ($4::text IS NULL OR i.number = $4)
        AND (i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor OR i.due_date >= $5)
      GROUP BY i.organisation_id, i.id ORDER BY i.due_date, i.id`,
    [orgId, customerId, asOf, only?.number ?? null, since],
  );
  const currencies = new Set(invoices.map((i) => String(i.currency)));
  if (currencies.size > 1) {
    throw new RelanceError(ERROR_CODES.VALIDATION, E('currencies', { currencies: [...currencies].join(', ') }), {
      where: { field: '--invoice' },
    });
  }
  const statement = buildPenaltyStatement(
    {
      jurisdiction: law.jurisdiction,
      debtor: law.debtor,
      ...(law.contractRatePercent ? { contractRatePercent: law.contractRatePercent } : {}),
      currency: invoices[0] ? String(invoices[0].currency) : 'EUR',
      asOf,
      invoices: invoices.map((i) => {
        const payments = (typeof i.payments === 'string' ? JSON.parse(i.payments) : i.payments) as { date: CalendarDate; amount: string }[];
        return {
          number: String(i.number),
          issueDate: i.issue_date as CalendarDate,
          dueDate: i.due_date as CalendarDate,
          amountMinor: i.amount_incl_tax_minor as bigint,
          currency: String(i.currency),
          payments: payments.map((p) => ({ date: p.date, amountMinor: BigInt(p.amount) })),
          ...(i.settled && payments.length ? { paidOn: payments[payments.length - 1]!.date } : {}),
        };
      }),
    },
    rates,
  );
  return { statement, customerId, customerKind: law.debtor, regime: law };
}

/**
 * Books the statement as a new receivable of the customer (no VAT: compensation, not a supply).
 * Its number is derived from the customer and the date, so booking the same statement twice is
 * refused by the invoice number's unique key.
 */
export async function bookPenaltyStatement(
  q: Queryable,
  orgId: string,
  customerId: bigint,
  statement: PenaltyStatement,
  opts: { issueDate: CalendarDate; paymentTermsDays?: number; number?: string },
): Promise<Invoice> {
  // Collective proceedings stop interest and penalties: the claim goes to the representative instead.
  await refuseUnderProceedings(q, orgId, customerId, '--book');
  const number = opts.number ?? `PEN-${customerId}-${opts.issueDate.replaceAll('-', '')}`;
  const r = penaltyReceivable(statement, { number, issueDate: opts.issueDate, dueDate: addDays(opts.issueDate, opts.paymentTermsDays ?? 30) });
  try {
    return await createInvoice(q, orgId, {
      customerId,
      number: r.number,
      externalId: null,
      issueDate: r.issueDate,
      dueDate: r.dueDate,
      currency: r.currency,
      amountExclTaxMinor: r.amountExclTaxMinor,
      amountInclTaxMinor: r.amountInclTaxMinor,
    });
  } catch (e) {
    if (e instanceof RelanceError && e.code === ERROR_CODES.CONFLICT) {
      throw new RelanceError(ERROR_CODES.CONFLICT, E('already_booked', { date: opts.issueDate, number }), { where: { field: '--book' } });
    }
    throw e;
  }
}

export type { FortyFiveEndOfMonthMethod };
