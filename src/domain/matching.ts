/**
 * Bank reconciliation, as a pure function: statement lines + open invoices + what is known of the
 * customers (names, IBANs) in, proposals out. No database and no clock: the caller loads the open
 * items and applies what comes back (src/bank/reconcile.ts).
 *
 * Matching runs in passes, most reliable first, over all the lines of a batch. A line matched with
 * a confidence at or above `autoThreshold` claims its invoices at once, so a later, weaker pass
 * cannot hand the same open amount to another line. Lines below the threshold keep every candidate
 * found, best first, for a person to choose (the review queue).
 *
 * Convention shared with the documents issue: the structured creditor reference printed on an
 * invoice is `creditorReference(invoice.number)` (ISO 11649 "RF" + check digits + the number's
 * letters and digits, upper case). Pass 1 reads it back by stripping "RFnn".
 */
import { type Lang, defineMessages, t } from '../i18n/index.ts';
import type { CalendarDate } from './dates.ts';
import { formatMoney, type Minor } from './money.ts';
import { Book, clamp, numbers } from './matching/book.ts';
import { findReferences, passIban, passName, passReference } from './matching/passes.ts';
// The name comparison is part of the matching's public face (tests, callers comparing names).
export { invoiceKey, nameSimilarity, nameTokens } from './matching/text.ts';

export interface MatchLine {
  /** The caller's id for the line (a bank line id, an index). */
  id: string;
  bookingDate: CalendarDate;
  /** Signed: credits are positive. */
  amountMinor: Minor;
  currency: string;
  counterpartyName: string | null;
  counterpartyIban: string | null;
  remittanceText: string | null;
  creditorReference: string | null;
  label: string | null;
  reversal: boolean;
}

export interface OpenInvoice {
  id: bigint;
  customerId: bigint;
  number: string;
  currency: string;
  openMinor: Minor;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
}

export interface KnownCustomer {
  id: bigint;
  name: string;
  ibans: readonly string[];
}

export interface MatchSettings {
  /** Proposals at or above this confidence are applied without a person (0..1). */
  autoThreshold: number;
  /**
   * A payer who pays up to this much less than what it settles is taken to have had bank charges
   * deducted. 0 turns the rule off: the shortfall is then an ordinary partial payment.
   */
  bankChargesToleranceMinor: Minor;
  /** What happens to deducted charges: written off (reason bank charges), or left open on the invoice. */
  bankCharges: 'write_off' | 'leave_open';
  /** Pass 3 only considers invoices due no more than this many days before the payment. */
  dateWindowDays: number;
  /**
   * Search for the invoices one payment settles together: at most this many invoices, and this many
   * steps of the search per customer (pairs are always all tried; see subsetsSumming).
   */
  maxSubsetSize: number;
  maxSubsetSteps: number;
}

export const DEFAULT_MATCH_SETTINGS: MatchSettings = {
  autoThreshold: 0.9,
  bankChargesToleranceMinor: 0n,
  bankCharges: 'write_off',
  dateWindowDays: 180,
  maxSubsetSize: 5,
  maxSubsetSteps: 20_000,
};

export type MatchPass = 'reference' | 'iban_amount' | 'name_amount' | 'customer_only';

export interface ProposedAmount {
  invoiceId: bigint;
  number: string;
  amountMinor: Minor;
}

export interface ReasonPart {
  key: ReasonKey;
  vars: Record<string, string | number>;
}

export interface Proposal {
  customerId: bigint;
  pass: MatchPass;
  confidence: number;
  allocations: ProposedAmount[];
  /** Bank charges written off (only with bankCharges = 'write_off'). */
  writeOffs: ProposedAmount[];
  /** What stays unallocated on the payment: an overpayment becomes customer credit. */
  unallocatedMinor: Minor;
  reason: ReasonPart;
  notes: ReasonPart[];
}

export type LineOutcome =
  | { lineId: string; kind: 'ignored'; why: 'debit' | 'zero' | 'credit_reversal' }
  | { lineId: string; kind: 'reversal' }
  | { lineId: string; kind: 'auto'; proposal: Proposal; alternatives: Proposal[] }
  | { lineId: string; kind: 'review'; candidates: Proposal[] }
  | { lineId: string; kind: 'unmatched' };

// ------------------------------------------------------------------ messages

export const MATCH_MESSAGES = defineMessages({
  'match.rf': {
    fr: 'Référence structurée {ref} de la facture {invoices}',
    en: 'Structured creditor reference {ref} of invoice {invoices}',
  },
  'match.number': {
    fr: 'Numéro de facture {invoices} dans le libellé du virement',
    en: 'Invoice number {invoices} in the remittance text',
  },
  'match.number_plus': {
    fr: 'Facture {invoices} citée dans le libellé ; le surplus est exactement ce que le même client doit sur {others}',
    en: 'Invoice {invoices} named in the remittance text; the surplus is exactly what the same customer owes on {others}',
  },
  'match.digits': {
    fr: 'Numéro de facture {invoices} reconnu dans le libellé (préfixe différent)',
    en: 'Invoice number {invoices} recognised in the remittance text (different prefix)',
  },
  'match.iban_single': {
    fr: 'IBAN connu de {customer} et montant égal à la facture {invoices}',
    en: 'Known IBAN of {customer} and amount equal to invoice {invoices}',
  },
  'match.iban_subset': {
    fr: 'IBAN connu de {customer} et montant égal à la somme des factures {invoices}',
    en: 'Known IBAN of {customer} and amount equal to the sum of invoices {invoices}',
  },
  'match.iban_balance': {
    fr: 'IBAN connu de {customer} et montant égal à tout son solde ({count} factures)',
    en: 'Known IBAN of {customer} and amount equal to its whole balance ({count} invoices)',
  },
  'match.iban_other': {
    fr: "IBAN connu de {customer}, mais le montant ne correspond à aucune combinaison de factures : imputé sur les plus anciennes",
    en: 'Known IBAN of {customer}, but the amount matches no combination of invoices: applied to the oldest',
  },
  'match.name_amount': {
    fr: 'Payeur « {payer} » proche de {customer} ({similarity} %) et montant égal à {target}',
    en: 'Payer "{payer}" close to {customer} ({similarity}%) and amount equal to {target}',
  },
  'match.name_subset': {
    fr: 'Payeur « {payer} » proche de {customer} ({similarity} %) et montant égal à la somme des factures {invoices}',
    en: 'Payer "{payer}" close to {customer} ({similarity}%) and amount equal to the sum of invoices {invoices}',
  },
  'match.name_only': {
    fr: 'Payeur « {payer} » proche de {customer} ({similarity} %), montant sans correspondance : imputé sur les plus anciennes',
    en: 'Payer "{payer}" close to {customer} ({similarity}%), amount matches nothing: applied to the oldest',
  },
  'note.partial': { fr: 'paiement partiel : il reste {leftMinor} dû', en: 'partial payment: {leftMinor} still due' },
  'note.overpayment': { fr: 'trop-perçu de {extraMinor} laissé en crédit du client', en: 'overpayment of {extraMinor} kept as customer credit' },
  'note.charges_written_off': { fr: '{chargesMinor} de frais bancaires déduits par le payeur, passés en perte', en: '{chargesMinor} of bank charges deducted by the payer, written off' },
  'note.charges_left_open': { fr: '{chargesMinor} de frais bancaires déduits par le payeur, laissés dus', en: '{chargesMinor} of bank charges deducted by the payer, left open' },
  'note.iban_conflict': { fr: "l'IBAN du payeur est connu pour un autre client", en: "the payer's IBAN is known for another customer" },
  'note.amount_differs': { fr: 'le montant diffère de celui des factures', en: 'the amount differs from the invoices' },
  'note.already_settled': { fr: 'le libellé cite la facture {invoices}, déjà réglée (paiement en double ?)', en: 'the text names invoice {invoices}, already settled (paid twice?)' },
  'note.ambiguous': { fr: 'autres candidats possibles', en: 'other candidates are possible' },
  'note.several_equal': { fr: 'plusieurs factures de ce montant : la plus ancienne est choisie', en: 'several invoices of this amount: the oldest is chosen' },
  'note.target_invoice': { fr: 'la facture {invoices}', en: 'invoice {invoices}' },
  'note.target_balance': { fr: 'son solde', en: 'its balance' },
});
export type ReasonKey = keyof typeof MATCH_MESSAGES;

/** A proposal's reason in words, in French or English, amounts formatted for that language. */
export function describeProposal(p: Pick<Proposal, 'reason' | 'notes'>, lang: Lang, currency: string): string {
  const render = (r: ReasonPart) => {
    const vars: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(r.vars)) vars[k] = k.endsWith('Minor') ? formatMoney(BigInt(v), currency, lang) : v;
    if (r.key === 'match.name_amount' && typeof vars.target === 'string' && (vars.target === 'balance' || vars.target.startsWith('invoice:'))) {
      vars.target =
        vars.target === 'balance'
          ? t(MATCH_MESSAGES, lang, 'note.target_balance')
          : t(MATCH_MESSAGES, lang, 'note.target_invoice', { invoices: vars.target.slice('invoice:'.length) });
    }
    return t(MATCH_MESSAGES, lang, r.key, vars);
  };
  return [render(p.reason), ...p.notes.map(render)].join(' ; ');
}

// ------------------------------------------------------------------ the passes together

const sameTarget = (a: Proposal, b: Proposal) =>
  a.customerId === b.customerId &&
  a.allocations.length === b.allocations.length &&
  a.allocations.every((x, i) => x.invoiceId === b.allocations[i]!.invoiceId);

function rank(cands: Proposal[]): Proposal[] {
  const sorted = [...cands].sort((a, b) => b.confidence - a.confidence);
  const out: Proposal[] = [];
  for (const p of sorted) if (!out.some((o) => sameTarget(o, p))) out.push(p);
  // Two credible, different answers: neither is sure enough to apply without a person.
  if (out.length > 1 && out[1]!.confidence >= 0.55 && out[0]!.customerId !== out[1]!.customerId) {
    out[0] = { ...out[0]!, confidence: clamp(out[0]!.confidence - 0.1), notes: [...out[0]!.notes, { key: 'note.ambiguous', vars: {} }] };
  }
  return out.slice(0, 5);
}

export function matchLines(
  lines: readonly MatchLine[],
  invoices: readonly OpenInvoice[],
  customers: readonly KnownCustomer[],
  settingsIn: Partial<MatchSettings> = {},
): LineOutcome[] {
  const settings = { ...DEFAULT_MATCH_SETTINGS, ...settingsIn };
  const book = new Book(invoices, customers);
  const outcomes = new Map<string, LineOutcome>();
  const pending: MatchLine[] = [];
  for (const l of [...lines].sort((a, b) => (a.bookingDate < b.bookingDate ? -1 : a.bookingDate > b.bookingDate ? 1 : 0))) {
    // Receivables are money in: a debit is a supplier payment, a fee, a refund, never a customer
    // paying. A reversal is the bank taking back an earlier credit: the caller undoes its match.
    if (l.amountMinor < 0n) outcomes.set(l.id, l.reversal ? { lineId: l.id, kind: 'reversal' } : { lineId: l.id, kind: 'ignored', why: 'debit' });
    else if (l.amountMinor === 0n) outcomes.set(l.id, { lineId: l.id, kind: 'ignored', why: 'zero' });
    else if (l.reversal) outcomes.set(l.id, { lineId: l.id, kind: 'ignored', why: 'credit_reversal' });
    else pending.push(l);
  }
  const candidates = new Map<string, Proposal[]>();
  // Pass 1 (references) first: the payer named the invoice, or an RF reference carries check digits;
  // nothing else is as reliable, so these lines claim their invoices before any guess is made.
  // Pass 2 (known IBAN + amount): the payer is identified for sure, the amount picks the invoices;
  // weaker than a reference because equal amounts and combinations can coincide.
  // Pass 3 (name + amount in a date window): names are typed by people and truncated by banks, and
  // homonyms exist, so it only decides when it is unambiguous, and runs last on what is left.
  const passes = [passReference, passIban, passName];
  let remaining = pending;
  for (const pass of passes) {
    const next: MatchLine[] = [];
    for (const l of remaining) {
      const previous = (candidates.get(l.id) ?? []).filter((p) => book.fits(p));
      let all = rank([...previous, ...pass(book, l, settings)]);
      const settled: OpenInvoice[] = [];
      // The payer names an invoice that is already settled and nothing open: most likely the same
      // invoice paid twice. Whatever else the amount fits, a person should look.
      if (findReferences(book, l, settled).length === 0 && settled.length > 0) {
        all = all.map((p) =>
          p.confidence > 0.7 ? { ...p, confidence: 0.7, notes: [...p.notes, { key: 'note.already_settled' as const, vars: { invoices: numbers(settled) } }] } : p,
        );
      }
      candidates.set(l.id, all);
      const best = all[0];
      if (best && best.confidence >= settings.autoThreshold && book.fits(best)) {
        book.consume(best);
        outcomes.set(l.id, { lineId: l.id, kind: 'auto', proposal: best, alternatives: all.slice(1) });
      } else next.push(l);
    }
    remaining = next;
  }
  for (const l of remaining) {
    const c = (candidates.get(l.id) ?? []).filter((p) => book.fits(p));
    outcomes.set(l.id, c.length ? { lineId: l.id, kind: 'review', candidates: c } : { lineId: l.id, kind: 'unmatched' });
  }
  return lines.map((l) => outcomes.get(l.id)!);
}
