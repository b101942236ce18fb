
import { addDays } from '../dates.ts';
import { isValidCreditorReference } from '../identifiers.ts';
import type { Minor } from '../money.ts';
import type { MatchLine, MatchSettings, OpenInvoice, Proposal, ReasonKey, ReasonPart } from '../matching.ts';
import { type Book, clamp, type FoundRef, notesFor, numbers, settle } from './book.ts';
import { digitKey, invoiceKey, joinable, nameInText, nameSimilarity, nameTokens, stripAccents, tokens } from './text.ts';

/** Every RF reference in a text, check digits verified (RF codes are often printed in groups of 4). */
export function rfReferences(text: string): string[] {
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
export function namedInvoices(book: Book, line: MatchLine): FoundRef[] {
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
export function findReferences(book: Book, line: MatchLine, settled: OpenInvoice[] = []): FoundRef[] {
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

export function passReference(book: Book, line: MatchLine, settings: MatchSettings): Proposal[] {
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
    // More than the named invoices, and the surplus is exactly other open invoices of the customer
    // (one, or one combination): the payer most likely settled those too without naming them.
    let alsoSettled: OpenInvoice[] | null = null;
    if (s.kind === 'over' && !several) {
      const named = new Set(g.invoices.map((i) => i.id));
      const others = book.openInvoices(customerId, line.currency).filter((i) => !named.has(i.id));
      const { subsets, complete } = subsetsSumming(book, others, s.gap, settings.maxSubsetSize, 2, settings.maxSubsetSteps);
      const fits = [...others.filter((i) => book.openOf(i) === s.gap).map((i) => [i]), ...subsets];
      if (fits.length === 1 && complete) {
        alsoSettled = fits[0]!;
        c = Math.min(c, 0.8);
        notes.push({ key: 'note.ambiguous', vars: {} });
      }
    }
    if (alsoSettled) {
      const all = [...g.invoices, ...alsoSettled].sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0));
      const st = settle(book, line.amountMinor, all, settings);
      out.push({
        customerId,
        pass: 'reference',
        confidence: clamp((corroborated ? 0.88 : 0.84) - (ibanConflict ? 0.4 : 0)),
        allocations: st.allocations,
        writeOffs: st.writeOffs,
        unallocatedMinor: st.unallocated,
        reason: { key: 'match.number_plus', vars: { invoices: numbers(g.invoices), others: numbers(alsoSettled) } },
        notes: ibanConflict ? [{ key: 'note.iban_conflict', vars: {} }] : [],
      });
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

/** Exact combinations proposed for one customer: beyond a few, a person searches by hand anyway. */
const MAX_COMBINATIONS = 4;

/**
 * Combinations of 2..maxSize of `invs` whose open amounts add up exactly to `target`, fewest
 * invoices first, each listed in the order of `invs` (oldest due first); at most `limit` of them.
 * The search runs over the amounts largest first: the last invoice of a combination is looked up
 * in a table of amounts, and a branch stops as soon as what is left cannot be reached (the next
 * amounts are all too small). Every pair is found in one pass over the invoices; `steps` bounds the
 * larger combinations, and `complete` says whether the search ended within it (when it did not, a
 * single combination found may not be the only one).
 */
export function subsetsSumming(
  book: Book,
  invs: OpenInvoice[],
  target: Minor,
  maxSize: number,
  limit: number,
  steps = 20_000,
): { subsets: OpenInvoice[][]; complete: boolean } {
  const rank = new Map(invs.map((inv, k) => [inv, k]));
  // Plain numbers inside the search (bigint arithmetic is several times slower): amounts are at
  // most MAX_AMOUNT_MINOR (1e13), so a sum of a few of them is exact in a double.
  if (target > BigInt(Number.MAX_SAFE_INTEGER) / BigInt(Math.max(maxSize, 1))) return { subsets: [], complete: true };
  const goal = Number(target);
  const items = invs
    .map((inv) => ({ inv, v: Number(book.openOf(inv)) }))
    .filter((x) => x.v > 0 && x.v < goal)
    .sort((a, b) => b.v - a.v || rank.get(a.inv)! - rank.get(b.inv)!);
  const at = new Map<number, number[]>();
  items.forEach((x, k) => {
    const l = at.get(x.v);
    if (l) l.push(k);
    else at.set(x.v, [k]);
  });
  const subsets: OpenInvoice[][] = [];
  const pick: number[] = [];
  let left = steps;
  let complete = true;
  const done = () => subsets.length >= limit || !complete;
  // `need` more invoices from position `from` on, adding up to `rest`.
  const walk = (from: number, rest: number, need: number): void => {
    if (need === 1) {
      for (const k of at.get(rest) ?? []) {
        if (k < from) continue;
        subsets.push([...pick, k].map((i) => items[i]!.inv).sort((a, b) => rank.get(a)! - rank.get(b)!));
        if (done()) return;
      }
      return;
    }
    for (let k = from; k <= items.length - need; k++) {
      if (--left < 0) {
        complete = false;
        return;
      }
      const v = items[k]!.v;
      // Amounts only get smaller from here: `need` of them cannot reach the rest.
      if (v * need < rest) return;
      if (v >= rest) continue;
      pick.push(k);
      walk(k + 1, rest - v, need - 1);
      pick.pop();
      if (done()) return;
    }
  };
  for (let size = 2; size <= maxSize && !done(); size++) walk(0, goal, size);
  return { subsets, complete };
}

export function passIban(book: Book, line: MatchLine, settings: MatchSettings): Proposal[] {
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
    // Every open invoice of the payer takes part, not only the oldest: a payer often settles this
    // month's invoices while older ones are disputed or waiting.
    const { subsets, complete } = subsetsSumming(book, invs, A, settings.maxSubsetSize, MAX_COMBINATIONS, settings.maxSubsetSteps);
    if (subsets.length === 1) {
      mk(complete ? 0.93 : 0.85, subsets[0]!, 'match.iban_subset', { invoices: numbers(subsets[0]!) });
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

export function passName(book: Book, line: MatchLine, settings: MatchSettings): Proposal[] {
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
      // The amount may be several of this customer's invoices together: those are what the payer
      // meant, not the oldest ones. (A payer known by its IBAN was searched by pass 2 already.)
      const searched = book.customersOfIban(line.counterpartyIban).includes(s.customerId);
      const { subsets, complete } = searched
        ? { subsets: [], complete: true }
        : subsetsSumming(book, invs, line.amountMinor, settings.maxSubsetSize, MAX_COMBINATIONS, settings.maxSubsetSteps);
      if (subsets.length > 0) {
        const alone = subsets.length === 1 && complete;
        for (const sub of subsets) {
          const st = settle(book, line.amountMinor, sub, settings);
          let c = alone ? (s.sim >= 0.9 ? 0.85 : 0.75) : 0.6;
          const notes = notesFor(st, settings);
          if (rivals > 0) c = Math.min(c, 0.5);
          if (!alone || rivals > 0) notes.push({ key: 'note.ambiguous', vars: {} });
          out.push({
            customerId: s.customerId,
            pass: 'name_amount',
            confidence: clamp(c),
            allocations: st.allocations,
            writeOffs: st.writeOffs,
            unallocatedMinor: st.unallocated,
            reason: { key: 'match.name_subset', vars: { payer, customer, similarity: sim, invoices: numbers(sub) } },
            notes,
          });
        }
        continue;
      }
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
