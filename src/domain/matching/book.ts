
import { normaliseIban } from '../identifiers.ts';
import { type Minor, minMinor } from '../money.ts';
import type { KnownCustomer, MatchLine, MatchSettings, OpenInvoice, Proposal, ProposedAmount, ReasonPart } from '../matching.ts';
import { digitKey, invoiceKey, nameTokens } from './text.ts';

export interface FoundRef {
  invoices: OpenInvoice[];
  how: 'rf' | 'number' | 'digits';
  ref: string;
  start: number;
}

export class Book {
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
export function settle(
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

export function notesFor(s: ReturnType<typeof settle>, settings: MatchSettings): ReasonPart[] {
  if (s.kind === 'over') return [{ key: 'note.overpayment', vars: { extraMinor: s.gap.toString() } }];
  if (s.kind === 'partial') return [{ key: 'note.partial', vars: { leftMinor: s.gap.toString() } }];
  if (s.kind === 'charges') {
    return [{ key: settings.bankCharges === 'write_off' ? 'note.charges_written_off' : 'note.charges_left_open', vars: { chargesMinor: s.gap.toString() } }];
  }
  return [];
}

export const numbers = (invs: OpenInvoice[]) => invs.map((i) => i.number).join(', ');
export const clamp = (c: number) => Math.max(0, Math.min(0.99, Math.round(c * 1000) / 1000));
