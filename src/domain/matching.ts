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
import { addDays } from './dates.ts';
import { isValidCreditorReference, normaliseIban } from './identifiers.ts';
import { formatMoney, type Minor, minMinor } from './money.ts';

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
  /** Subset search: how many of a customer's oldest open invoices, and how many in one payment. */
  maxSubsetInvoices: number;
  maxSubsetSize: number;
}

export const DEFAULT_MATCH_SETTINGS: MatchSettings = {
  autoThreshold: 0.9,
  bankChargesToleranceMinor: 0n,
  bankCharges: 'write_off',
  dateWindowDays: 180,
  maxSubsetInvoices: 14,
  maxSubsetSize: 5,
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

// ------------------------------------------------------------------ text helpers

// Most texts are plain ASCII: skip the (costly) Unicode normalisation for them.
const stripAccents = (s: string) => (/[^\x00-\x7f]/.test(s) ? s.normalize('NFD').replace(/[\u0300-\u036f]/g, '') : s);
export const invoiceKey = (number: string) => stripAccents(number).toUpperCase().replace(/[^A-Z0-9]/g, '');
const digitKey = (s: string) => s.replace(/\D/g, '').replace(/^0+/, '');

interface Token {
  text: string;
  start: number;
  end: number;
}

/** Runs of letters or of digits: "FACT.F2026-00123" -> FACT, F, 2026, 00123. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  const re = /[A-Z]+|\d+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

/** Tokens belong to one written identifier when nothing or a single separator lies between them. */
const joinable = (text: string, a: Token, b: Token) => b.start - a.end <= 1 && (b.start === a.end || /[-/._ ]/.test(text[a.end]!));

const LEGAL_NOISE = new Set(
  'SARL SAS SASU SA EURL SCI SNC SCP SELARL SELAS STE SOCIETE ETS ETABLISSEMENTS CIE ET DE DU DES LA LE LES L D M MR MME MLLE MONSIEUR MADAME LTD GMBH INC SRL BV VIR SEPA RECU VIREMENT INST DE PAR'.split(' '),
);

export function nameTokens(name: string): string[] {
  return stripAccents(name)
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w.length > 0 && !LEGAL_NOISE.has(w));
}

function bigrams(s: string): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < s.length - 1; i++) {
    const g = s.slice(i, i + 2);
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

function dice(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const ga = bigrams(a);
  const gb = bigrams(b);
  let inter = 0;
  for (const [g, n] of ga) inter += Math.min(n, gb.get(g) ?? 0);
  return (2 * inter) / (a.length - 1 + (b.length - 1));
}

/**
 * How alike a payer's name is to a customer's, 0..1: legal forms and civilities dropped, word
 * order ignored, and a bank's truncation of a long name ("ETABLISSEMENTS BERNARD ET FI") forgiven.
 */
export function nameSimilarity(payer: string, customer: string): number {
  const a = nameTokens(payer);
  const b = nameTokens(customer);
  if (a.length === 0 || b.length === 0) return 0;
  const sa = [...a].sort().join(' ');
  const sb = [...b].sort().join(' ');
  const ja = a.join(' ');
  const jb = b.join(' ');
  let best = Math.max(dice(sa, sb), dice(ja, jb));
  // Truncated by the bank: the payer's text is a long-enough prefix of the customer's name.
  if (ja.length >= 8 && jb.startsWith(ja)) best = Math.max(best, 0.92);
  if (jb.length >= 8 && ja.startsWith(jb)) best = Math.max(best, 0.92);
  return best;
}

/** Share of the customer's name words found in a free text (a label that embeds the payer name). */
function nameInText(textTokens: Set<string>, customer: string): number {
  const b = nameTokens(customer);
  if (b.length === 0) return 0;
  const hits = b.filter((w) => textTokens.has(w)).length;
  return hits / b.length;
}

// ------------------------------------------------------------------ the ledger view the passes share

class Book {
  /** Open amounts as the batch consumes them, keyed by the invoice object (fast identity hashing). */
  readonly open = new Map<OpenInvoice, Minor>();
  readonly byId = new Map<bigint, OpenInvoice>();
  readonly byKey = new Map<string, OpenInvoice[]>();
  readonly byDigits = new Map<string, OpenInvoice[]>();
  readonly byCustomer = new Map<bigint, OpenInvoice[]>();
  readonly byAmount = new Map<string, OpenInvoice[]>();
  readonly customers = new Map<bigint, KnownCustomer>();
  readonly byIban = new Map<string, bigint[]>();
  readonly byNameToken = new Map<string, bigint[]>();
  readonly refCache = new Map<MatchLine, FoundRef[]>();

  constructor(invoices: readonly OpenInvoice[], customers: readonly KnownCustomer[]) {
    const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
      const l = m.get(k);
      if (l) l.push(v);
      else m.set(k, [v]);
    };
    for (const c of customers) {
      this.customers.set(c.id, c);
      for (const iban of c.ibans) push(this.byIban, normaliseIban(iban), c.id);
      for (const w of new Set(nameTokens(c.name))) push(this.byNameToken, w, c.id);
    }
    for (const inv of invoices) {
      // Settled invoices (open 0) are indexed by number only: a payment naming one is doubtful.
      this.open.set(inv, inv.openMinor > 0n ? inv.openMinor : 0n);
      this.byId.set(inv.id, inv);
      const key = invoiceKey(inv.number);
      // Very short numbers ("42") would be found in any text: they are matched by the other passes.
      if (key.length >= 4 && /\d{3}/.test(key)) push(this.byKey, key, inv);
      const dk = digitKey(inv.number);
      if (dk.length >= 4) push(this.byDigits, dk, inv);
      if (inv.openMinor <= 0n) continue;
      push(this.byCustomer, inv.customerId, inv);
      push(this.byAmount, `${inv.currency}:${inv.openMinor}`, inv);
    }
    const byDue = (a: OpenInvoice, b: OpenInvoice) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    for (const l of this.byCustomer.values()) l.sort(byDue);
  }

  openOf(inv: OpenInvoice): Minor {
    return this.open.get(inv) ?? 0n;
  }

  /** The customer's invoices still open in this currency, oldest due first. */
  openInvoices(customerId: bigint, currency: string): OpenInvoice[] {
    return (this.byCustomer.get(customerId) ?? []).filter((i) => i.currency === currency && this.openOf(i) > 0n);
  }

  customersOfIban(iban: string | null): bigint[] {
    return iban ? (this.byIban.get(normaliseIban(iban)) ?? []) : [];
  }

  name(customerId: bigint): string {
    return this.customers.get(customerId)?.name ?? String(customerId);
  }

  /** Whether a proposal's amounts are all still available. */
  fits(p: Proposal): boolean {
    const need = new Map<bigint, Minor>();
    for (const a of [...p.allocations, ...p.writeOffs]) need.set(a.invoiceId, (need.get(a.invoiceId) ?? 0n) + a.amountMinor);
    for (const [id, n] of need) {
      const inv = this.byId.get(id);
      if (!inv || this.openOf(inv) < n) return false;
    }
    return true;
  }

  consume(p: Proposal): void {
    for (const a of [...p.allocations, ...p.writeOffs]) {
      const inv = this.byId.get(a.invoiceId)!;
      this.open.set(inv, this.openOf(inv) - a.amountMinor);
    }
  }
}

// ------------------------------------------------------------------ settling an amount against invoices

/**
 * How an amount settles a list of invoices the payer meant, in the given order: each fully while
 * the money lasts; a shortfall within the charges tolerance is bank charges; more money than owed
 * stays unallocated (customer credit).
 */
function settle(
  book: Book,
  amount: Minor,
  invoices: OpenInvoice[],
  settings: MatchSettings,
): { allocations: ProposedAmount[]; writeOffs: ProposedAmount[]; unallocated: Minor; kind: 'exact' | 'charges' | 'partial' | 'over'; gap: Minor } {
  const total = invoices.reduce((s, i) => s + book.openOf(i), 0n);
  const allocations: ProposedAmount[] = [];
  const writeOffs: ProposedAmount[] = [];
  let left = amount;
  for (const inv of invoices) {
    if (left <= 0n) break;
    const take = minMinor(book.openOf(inv), left);
    allocations.push({ invoiceId: inv.id, number: inv.number, amountMinor: take });
    left -= take;
  }
  if (amount === total) return { allocations, writeOffs, unallocated: 0n, kind: 'exact', gap: 0n };
  if (amount > total) return { allocations, writeOffs, unallocated: amount - total, kind: 'over', gap: amount - total };
  const gap = total - amount;
  if (settings.bankChargesToleranceMinor > 0n && gap <= settings.bankChargesToleranceMinor) {
    if (settings.bankCharges === 'write_off') {
      // The charges are written off on the last invoice, the one the money ran out on.
      // Written off where the money ran out, and on any invoice it did not reach.
      invoices.forEach((inv, k) => {
        const rest = book.openOf(inv) - (allocations[k]?.amountMinor ?? 0n);
        if (rest > 0n) writeOffs.push({ invoiceId: inv.id, number: inv.number, amountMinor: rest });
      });
    }
    return { allocations, writeOffs, unallocated: 0n, kind: 'charges', gap };
  }
  return { allocations, writeOffs, unallocated: 0n, kind: 'partial', gap };
}

function notesFor(s: ReturnType<typeof settle>, settings: MatchSettings): ReasonPart[] {
  if (s.kind === 'over') return [{ key: 'note.overpayment', vars: { extraMinor: s.gap.toString() } }];
  if (s.kind === 'partial') return [{ key: 'note.partial', vars: { leftMinor: s.gap.toString() } }];
  if (s.kind === 'charges') {
    return [{ key: settings.bankCharges === 'write_off' ? 'note.charges_written_off' : 'note.charges_left_open', vars: { chargesMinor: s.gap.toString() } }];
  }
  return [];
}

const numbers = (invs: OpenInvoice[]) => invs.map((i) => i.number).join(', ');
const clamp = (c: number) => Math.max(0, Math.min(0.99, Math.round(c * 1000) / 1000));

// ------------------------------------------------------------------ pass 1: references

interface FoundRef {
  invoices: OpenInvoice[];
  how: 'rf' | 'number' | 'digits';
  ref: string;
  start: number;
}

/** Every RF reference in a text, check digits verified (RF codes are often printed in groups of 4). */
function rfReferences(text: string): string[] {
  const out: string[] = [];
  const re = /RF\s?\d\s?\d(?:\s?[A-Z0-9]){1,21}/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const compact = m[0].replace(/\s/g, '');
    for (let len = compact.length; len >= 5; len--) {
      if (isValidCreditorReference(compact.slice(0, len))) {
        out.push(compact.slice(0, len));
        break;
      }
    }
  }
  return out;
}

/**
 * The invoices a line names, open or not. What a text names does not change while the batch is
 * matched, so it is read once per line; `findReferences` then keeps those still open.
 */
function namedInvoices(book: Book, line: MatchLine): FoundRef[] {
  const cached = book.refCache.get(line);
  if (cached) return cached;
  const found: FoundRef[] = [];
  const add = (f: FoundRef) => {
    found.push(f);
  };
  const structured = line.creditorReference ? stripAccents(line.creditorReference).toUpperCase().replace(/\s/g, '') : null;
  const text = stripAccents([line.remittanceText, line.label].filter(Boolean).join(' ')).toUpperCase();
  // An ISO 11649 reference carries check digits: a typo cannot land on another invoice.
  for (const rf of [...(structured && isValidCreditorReference(structured) ? [structured] : []), ...rfReferences(text)]) {
    const invs = book.byKey.get(rf.slice(4));
    if (invs) add({ invoices: invs, how: 'rf', ref: rf, start: -1 });
  }
  // A structured reference in another scheme may still be the invoice number itself.
  if (structured && !isValidCreditorReference(structured)) {
    const invs = book.byKey.get(invoiceKey(structured));
    if (invs) add({ invoices: invs, how: 'number', ref: structured, start: -1 });
  }
  const toks = tokens(text);
  // Longest windows first, so "F-2026-00123" wins over its piece "2026".
  const claimed: boolean[] = new Array(toks.length).fill(false);
  for (let size = 6; size >= 1; size--) {
    for (let i = 0; i + size <= toks.length; i++) {
      let ok = true;
      for (let k = i; k < i + size; k++) if (claimed[k]) ok = false;
      for (let k = i; ok && k < i + size - 1; k++) if (!joinable(text, toks[k]!, toks[k + 1]!)) ok = false;
      if (!ok) continue;
      const win = toks.slice(i, i + size);
      const key = win.map((x) => x.text).join('');
      let invs = book.byKey.get(key);
      let how: FoundRef['how'] = 'number';
      if (!invs && /\d$/.test(key)) {
        // Prefixes differ ("FACT 2026-00123" for "F2026-00123"): the digits still identify it.
        const dk = digitKey(win.filter((x) => /^\d/.test(x.text)).map((x) => x.text).join(''));
        if (dk.length >= 5 && /^\d/.test(win[0]!.text)) {
          invs = book.byDigits.get(dk);
          how = 'digits';
        }
      }
      if (invs && invs.length > 0) {
        for (let k = i; k < i + size; k++) claimed[k] = true;
        add({ invoices: invs, how, ref: key, start: win[0]!.start });
      }
    }
  }
  found.sort((a, b) => a.start - b.start);
  book.refCache.set(line, found);
  return found;
}

/** The open invoices a line names; `settled` receives the named ones already settled. */
function findReferences(book: Book, line: MatchLine, settled: OpenInvoice[] = []): FoundRef[] {
  const out: FoundRef[] = [];
  const seen = new Set<bigint>();
  for (const f of namedInvoices(book, line)) {
    for (const i of f.invoices) if (book.openOf(i) <= 0n && !settled.includes(i)) settled.push(i);
    const fresh = f.invoices.filter((i) => !seen.has(i.id) && i.currency === line.currency && book.openOf(i) > 0n);
    if (fresh.length === 0) continue;
    for (const i of fresh) seen.add(i.id);
    out.push({ ...f, invoices: fresh });
  }
  return out;
}

function passReference(book: Book, line: MatchLine, settings: MatchSettings): Proposal[] {
  const refs = findReferences(book, line);
  if (refs.length === 0) return [];
  const ibanCustomers = book.customersOfIban(line.counterpartyIban);
  const byCustomer = new Map<bigint, { invoices: OpenInvoice[]; hows: Set<FoundRef['how']>; rf: string | null }>();
  for (const r of refs) {
    for (const inv of r.invoices) {
      let g = byCustomer.get(inv.customerId);
      if (!g) {
        g = { invoices: [], hows: new Set(), rf: null };
        byCustomer.set(inv.customerId, g);
      }
      g.invoices.push(inv);
      g.hows.add(r.how);
      if (r.how === 'rf') g.rf = r.ref;
    }
  }
  const several = byCustomer.size > 1;
  const out: Proposal[] = [];
  for (const [customerId, g] of byCustomer) {
    // Oldest due first: a partial payment settles the oldest debt, as French practice imputes it.
    g.invoices.sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0));
    const s = settle(book, line.amountMinor, g.invoices, settings);
    const strongest = g.hows.has('rf') ? 'rf' : g.hows.has('number') ? 'number' : 'digits';
    const ibanOk = ibanCustomers.includes(customerId);
    const ibanConflict = ibanCustomers.length > 0 && !ibanOk;
    const nameOk = line.counterpartyName ? nameSimilarity(line.counterpartyName, book.name(customerId)) >= 0.8 : false;
    const corroborated = ibanOk || nameOk;
    let c: number;
    const single = g.invoices.length === 1;
    if (strongest === 'rf') c = s.kind === 'exact' ? 0.99 : s.kind === 'charges' ? 0.97 : 0.95;
    else if (strongest === 'number') {
      if (s.kind === 'exact') c = 0.98;
      else if (s.kind === 'charges') c = 0.96;
      // The amount does not confirm the number: only the payer's identity can.
      else if (s.kind === 'over') c = corroborated ? 0.94 : 0.86;
      // A partial payment of several referenced invoices: which one stays open is a guess.
      else c = single ? (corroborated ? 0.93 : 0.85) : 0.85;
    } else {
      if (s.kind === 'exact') c = 0.95;
      else if (s.kind === 'charges') c = 0.93;
      else c = corroborated ? 0.9 : 0.7;
    }
    const notes = notesFor(s, settings);
    if (corroborated) c += 0.01;
    if (s.kind === 'partial' || s.kind === 'over') {
      // A mistyped number often lands on another invoice of the same customer: when the amount is
      // exactly that of an invoice the payer did not name, the reference is doubtful.
      const named = new Set(g.invoices.map((i) => i.id));
      if (book.openInvoices(customerId, line.currency).some((i) => !named.has(i.id) && book.openOf(i) === line.amountMinor)) {
        c = Math.min(c, 0.8);
        notes.push({ key: 'note.amount_differs', vars: {} });
      }
    }
    if (ibanConflict) {
      c = Math.min(c, s.kind === 'exact' ? 0.6 : 0.4);
      notes.push({ key: 'note.iban_conflict', vars: {} });
    }
    if (several) {
      c = Math.min(c, corroborated ? 0.85 : 0.5);
      notes.push({ key: 'note.ambiguous', vars: {} });
    }
    out.push({
      customerId,
      pass: 'reference',
      confidence: clamp(c),
      allocations: s.allocations,
      writeOffs: s.writeOffs,
      unallocatedMinor: s.unallocated,
      reason:
        strongest === 'rf'
          ? { key: 'match.rf', vars: { ref: g.rf!, invoices: numbers(g.invoices) } }
          : { key: strongest === 'number' ? 'match.number' : 'match.digits', vars: { invoices: numbers(g.invoices) } },
      notes,
    });
  }
  return out;
}

// ------------------------------------------------------------------ pass 2: known IBAN + amount

/** Subsets of `invs` (2..maxSize invoices) whose open amounts add up to `target`; stops at `limit`. */
function subsetsSumming(book: Book, invs: OpenInvoice[], target: Minor, maxSize: number, limit: number): OpenInvoice[][] {
  const items = invs.filter((i) => book.openOf(i) <= target);
  const out: OpenInvoice[][] = [];
  const pick: OpenInvoice[] = [];
  let visits = 0;
  const walk = (from: number, left: Minor) => {
    if (out.length >= limit || ++visits > 50_000) return;
    if (left === 0n) {
      if (pick.length >= 2) out.push([...pick]);
      return;
    }
    if (pick.length === maxSize) return;
    for (let k = from; k < items.length; k++) {
      const v = book.openOf(items[k]!);
      if (v > left) continue;
      pick.push(items[k]!);
      walk(k + 1, left - v);
      pick.pop();
      if (out.length >= limit) return;
    }
  };
  walk(0, target);
  return out;
}

function passIban(book: Book, line: MatchLine, settings: MatchSettings): Proposal[] {
  const customers = book.customersOfIban(line.counterpartyIban);
  if (customers.length === 0) return [];
  const out: Proposal[] = [];
  // An IBAN shared by several customers (a group paying for its subsidiaries) proves less.
  const shared = customers.length > 1 ? 0.1 : 0;
  const A = line.amountMinor;
  const tol = settings.bankChargesToleranceMinor;
  for (const customerId of customers) {
    const invs = book.openInvoices(customerId, line.currency);
    if (invs.length === 0) continue;
    const customer = book.name(customerId);
    const mk = (confidence: number, chosen: OpenInvoice[], key: ReasonKey, vars: Record<string, string | number>, extra: ReasonPart[] = []) => {
      const s = settle(book, A, chosen, settings);
      out.push({
        customerId,
        pass: 'iban_amount',
        confidence: clamp(confidence - shared),
        allocations: s.allocations,
        writeOffs: s.writeOffs,
        unallocatedMinor: s.unallocated,
        reason: { key, vars: { customer, ...vars } },
        notes: [...extra, ...notesFor(s, settings)],
      });
    };
    const equal = invs.filter((i) => book.openOf(i) === A);
    if (equal.length >= 1) {
      // Several invoices of the same amount: the oldest is settled first, as an accountant would.
      mk(equal.length === 1 ? 0.95 : 0.9, [equal[0]!], 'match.iban_single', { invoices: equal[0]!.number }, equal.length > 1 ? [{ key: 'note.several_equal', vars: {} }] : []);
      continue;
    }
    const total = invs.reduce((s, i) => s + book.openOf(i), 0n);
    if (invs.length > 1 && total === A) {
      mk(0.95, invs, 'match.iban_balance', { count: invs.length });
      continue;
    }
    const oldest = invs.slice(0, settings.maxSubsetInvoices);
    const subsets = subsetsSumming(book, oldest, A, settings.maxSubsetSize, 2);
    if (subsets.length === 1) {
      mk(0.93, subsets[0]!, 'match.iban_subset', { invoices: numbers(subsets[0]!) });
      continue;
    }
    if (subsets.length > 1) {
      for (const sub of subsets) mk(0.7, sub, 'match.iban_subset', { invoices: numbers(sub) }, [{ key: 'note.ambiguous', vars: {} }]);
      continue;
    }
    if (tol > 0n) {
      const short = invs.filter((i) => book.openOf(i) > A && book.openOf(i) - A <= tol);
      if (short.length === 1) {
        mk(0.91, short, 'match.iban_single', { invoices: short[0]!.number });
        continue;
      }
      if (invs.length > 1 && total > A && total - A <= tol) {
        mk(0.91, invs, 'match.iban_balance', { count: invs.length });
        continue;
      }
    }
    // A known payer, an amount that fits nothing: a partial payment or a payment on account.
    mk(A > total ? 0.75 : 0.6, invs, 'match.iban_other', {}, [{ key: 'note.amount_differs', vars: {} }]);
  }
  return out;
}

// ------------------------------------------------------------------ pass 3: payer name + amount

function passName(book: Book, line: MatchLine, settings: MatchSettings): Proposal[] {
  const payer = line.counterpartyName ?? line.label ?? line.remittanceText;
  if (!payer) return [];
  const textTokens = new Set(nameTokens([line.counterpartyName, line.label, line.remittanceText].filter(Boolean).join(' ')));
  const similarity = (customerId: bigint) => {
    const name = book.name(customerId);
    const direct = line.counterpartyName ? nameSimilarity(line.counterpartyName, name) : 0;
    // Without a name field, the payer's name is somewhere in the label: all its words must be there.
    const inText = nameInText(textTokens, name);
    return Math.max(direct, inText === 1 ? 0.9 : inText * 0.7);
  };
  const earliestDue = addDays(line.bookingDate, -settings.dateWindowDays);
  const latestIssue = addDays(line.bookingDate, 3);
  const inWindow = (i: OpenInvoice) => i.dueDate >= earliestDue && i.issueDate <= latestIssue;
  const out: Proposal[] = [];
  const byCustomer = new Map<bigint, OpenInvoice[]>();
  for (const inv of book.byAmount.get(`${line.currency}:${line.amountMinor}`) ?? []) {
    if (book.openOf(inv) !== line.amountMinor || !inWindow(inv)) continue;
    const l = byCustomer.get(inv.customerId) ?? [];
    l.push(inv);
    byCustomer.set(inv.customerId, l);
  }
  // Customers whose name shares a word with the payer: for the whole-balance and name-only checks.
  const named = new Set<bigint>();
  for (const w of textTokens) {
    const ids = book.byNameToken.get(w);
    // A word shared by hundreds of customers ("FRANCE", "SERVICES") does not point at anyone.
    if (w.length >= 3 && ids && ids.length <= 50) for (const id of ids) named.add(id);
  }
  const scored: { customerId: bigint; sim: number; invs: OpenInvoice[] | null }[] = [];
  for (const [customerId, invs] of byCustomer) scored.push({ customerId, sim: similarity(customerId), invs });
  for (const customerId of named) {
    if (byCustomer.has(customerId)) continue;
    const invs = book.openInvoices(customerId, line.currency);
    if (invs.length === 0) continue;
    const total = invs.reduce((s, i) => s + book.openOf(i), 0n);
    scored.push({ customerId, sim: similarity(customerId), invs: total === line.amountMinor && invs.length > 1 ? invs : null });
  }
  const plausible = scored.filter((s) => s.sim >= 0.6);
  for (const s of plausible) {
    // Homonyms and look-alikes: another plausible customer makes the name alone inconclusive.
    // A rival with an invoice of this amount counts when its name is nearly as close; one without
    // counts only when its name is as close (a namesake), since the amount speaks against it.
    const rivals = plausible.filter((o) => o.customerId !== s.customerId && o.sim >= s.sim - (o.invs ? 0.15 : 0.02)).length;
    const customer = book.name(s.customerId);
    const sim = Math.round(s.sim * 100);
    if (s.invs) {
      const balance = s.invs.length > 1 && byCustomer.get(s.customerId) === undefined;
      const chosen = balance ? s.invs : [s.invs[0]!];
      const st = settle(book, line.amountMinor, chosen, settings);
      let c = s.sim >= 0.9 ? 0.9 : s.sim >= 0.75 ? 0.82 : 0.65;
      if (balance) c -= 0.05;
      if (!balance && s.invs.length > 1) c -= 0.05;
      const notes = notesFor(st, settings);
      if (rivals > 0) {
        c = Math.min(c, 0.5);
        notes.push({ key: 'note.ambiguous', vars: {} });
      }
      out.push({
        customerId: s.customerId,
        pass: 'name_amount',
        confidence: clamp(c),
        allocations: st.allocations,
        writeOffs: st.writeOffs,
        unallocatedMinor: st.unallocated,
        reason: { key: 'match.name_amount', vars: { payer, customer, similarity: sim, target: balance ? 'balance' : `invoice:${chosen[0]!.number}` } },
        notes,
      });
    } else if (s.sim >= 0.75) {
      const invs = book.openInvoices(s.customerId, line.currency);
      const st = settle(book, line.amountMinor, invs, settings);
      out.push({
        customerId: s.customerId,
        pass: 'customer_only',
        confidence: clamp(rivals > 0 ? 0.3 : 0.45),
        allocations: st.allocations,
        writeOffs: st.writeOffs,
        unallocatedMinor: st.unallocated,
        reason: { key: 'match.name_only', vars: { payer, customer, similarity: sim } },
        notes: notesFor(st, settings),
      });
    }
  }
  return out;
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
