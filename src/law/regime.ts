/**
 * The late-payment regime of a customer's debts, from the ledger: the organisation's country and
 * contractual rate (organisation_contract_rates), the customer's country and kind, handed to the
 * one decision of the law module (decideRegime). Every surface that shows or claims late fees
 * reads the regime here: documents, the dashboard, the customer screen, `relance penalties`.
 */
import { type Queryable, pgArray } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { decideRegime, provisionalToday, type RateTableName, type RateTables, type RateWarning, type RegimeDecision } from '../domain/law/index.ts';

export type { RateWarning };
import { notFound } from '../errors.ts';
import { defineMessages, type Lang, t } from '../i18n/index.ts';

/** What the organisation brings to the decision: its country and its contractual rate. */
export interface CreditorTerms {
  creditorCountry: string | null;
  contractRatePercent: string | null;
}

export async function creditorTerms(q: Queryable, orgId: string): Promise<CreditorTerms> {
  const [r] = await q.query<{ country: string | null; rate_percent: string | null }>(
    `SELECT o.country, r.rate_percent FROM organisations o LEFT JOIN organisation_contract_rates r ON r.organisation_id = o.id WHERE o.id = $1`,
    [orgId],
  );
  if (!r) throw notFound('organisation', orgId);
  return { creditorCountry: r.country, contractRatePercent: r.rate_percent };
}

/** The regime between the organisation and one customer (its country and kind as the ledger has them). */
export function regimeBetween(creditor: CreditorTerms, customer: { country: string | null; kind: 'business' | 'consumer' }): RegimeDecision {
  return decideRegime({ creditorCountry: creditor.creditorCountry, debtorCountry: customer.country, debtorKind: customer.kind, contractRatePercent: creditor.contractRatePercent });
}

/** The regime of each customer, read in one query. */
export async function customerRegimes(q: Queryable, orgId: string, customerIds: readonly bigint[]): Promise<Map<bigint, RegimeDecision>> {
  const creditor = await creditorTerms(q, orgId);
  const rows = customerIds.length
    ? await q.query<{ id: bigint; country: string | null; kind: 'business' | 'consumer' }>(
        'SELECT id, country, kind FROM customers WHERE organisation_id = $1 AND id = ANY($2::bigint[])',
        [orgId, pgArray([...new Set(customerIds)])],
      )
    : [];
  return new Map(rows.map((r) => [r.id, regimeBetween(creditor, r)]));
}

export async function customerRegime(q: Queryable, orgId: string, customerId: bigint): Promise<RegimeDecision> {
  const r = (await customerRegimes(q, orgId, [customerId])).get(customerId);
  if (!r) throw notFound('customer', String(customerId));
  return r;
}

/** A (country, kind) of customer with at least one overdue open invoice: what decides which rate tables matter. */
export interface OverdueParty {
  country: string | null;
  kind: 'business' | 'consumer';
}

/**
 * The kinds of customer with an overdue open invoice. A scan of every customer (tens of ms on a large
 * ledger): the dashboard snapshot keeps its result, and the screens read the warnings from it with
 * the rate tables of the moment.
 */
export async function overdueParties(q: Queryable, orgId: string, today: CalendarDate): Promise<OverdueParty[]> {
  return q.query<OverdueParty>(
    `SELECT DISTINCT c.country, c.kind FROM customers c
      WHERE c.organisation_id = $1 AND EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = c.organisation_id AND i.customer_id = c.id
                                                 AND i.due_date < $2 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor)`,
    [orgId, today],
  );
}

/**
 * The rate tables this organisation's overdue debts need today and that are not known that far:
 * what the operator must add (`relance rates set`) before formal notices can go. Shown on the
 * Today screen, the dashboard and by the CLI; never in a debtor's document. Without `parties`,
 * the kinds of overdue customer are read from the ledger now.
 */
export async function rateWarnings(q: Queryable, orgId: string, today: CalendarDate, tables: RateTables, parties?: readonly OverdueParty[]): Promise<RateWarning[]> {
  const creditor = await creditorTerms(q, orgId);
  const byTable = new Map<RateTableName, RateWarning>();
  for (const p of parties ?? (await overdueParties(q, orgId, today))) {
    const law = regimeBetween(creditor, p);
    const missing = provisionalToday(law.regime, tables, today);
    if (!missing) continue;
    const w = byTable.get(missing.table) ?? { table: missing.table, knownThrough: missing.knownThrough, regimes: [] };
    if (!w.regimes.includes(law.regime.id)) w.regimes.push(law.regime.id);
    byTable.set(missing.table, w);
  }
  return [...byTable.values()].sort((a, b) => (a.table < b.table ? -1 : 1));
}

/** The templates that claim interest and compensation (formal notice, handover): TEMPLATES[key].claimPenalties. */
export type ClaimsPenalties = (template: string) => boolean;

/**
 * Of these actions, the ones that claim late fees (a formal notice, a handover) while the rate
 * their customer's regime needs today is not known: they wait for a human until the rate is
 * confirmed. Returns "org/action id" → the table missing.
 */
export async function heldForProvisionalRate(
  q: Queryable,
  actions: ReadonlyArray<{ orgId: string; id: bigint; customerId: bigint; template: string }>,
  todayOf: (orgId: string) => CalendarDate,
  tables: RateTables,
  claims: ClaimsPenalties,
): Promise<Map<string, { table: RateTableName; knownThrough: CalendarDate }>> {
  const held = new Map<string, { table: RateTableName; knownThrough: CalendarDate }>();
  const byOrg = new Map<string, typeof actions[number][]>();
  for (const a of actions) if (claims(a.template)) byOrg.set(a.orgId, [...(byOrg.get(a.orgId) ?? []), a]);
  for (const [orgId, list] of byOrg) {
    const regimes = await customerRegimes(q, orgId, list.map((a) => a.customerId));
    for (const a of list) {
      const law = regimes.get(a.customerId);
      const missing = law ? provisionalToday(law.regime, tables, todayOf(orgId)) : null;
      if (missing) held.set(`${orgId}/${a.id}`, missing);
    }
  }
  return held;
}

const M = defineMessages({
  rate_warning: {
    fr: 'TAUX PROVISOIRE : la table {table} n’est connue que jusqu’au {knownThrough} ; les pénalités utilisent le dernier taux connu et les mises en demeure ({held} en attente) attendent que l’exploitant ajoute le taux officiel : relance rates set --table {table} --from <date> --rate <taux>',
    en: 'PROVISIONAL RATE: table {table} is only known through {knownThrough}; interest uses the latest known rate and formal notices ({held} held) wait until the operator adds the official rate: relance rates set --table {table} --from <date> --rate <rate>',
  },
});

/** The operator's warning for a rate table not known far enough (CLI). */
export function rateWarningText(w: RateWarning, lang: Lang, held: number): string {
  return t(M, lang, 'rate_warning', { table: w.table, knownThrough: w.knownThrough, held });
}
