/**
 * Generates test/golden/bank-reconciliation.json, the labelled dataset the matching is measured
 * against. Run once (`npx tsx test/golden/generate-bank-golden.ts`) and commit the output: the test
 * reads the data, not this script, so a change here is a deliberate, reviewed change of the data.
 * Deterministic: a seeded PRNG, no clock.
 *
 * Each statement line carries the right answer a credit controller would give (`expected`): the
 * customer and the invoices the payment settles, or null (not a customer payment / nobody can tell).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addDays, type CalendarDate } from '../../src/domain/dates.ts';
import { creditorReference, ibanFromBban, ribKey } from '../../src/domain/identifiers.ts';

let seed = 20260322;
function rnd(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (a: number, b: number) => a + Math.floor(rnd() * (b - a + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const chance = (p: number) => rnd() < p;

const SURNAMES = ['MARTIN', 'BERNARD', 'DUBOIS', 'THOMAS', 'ROBERT', 'RICHARD', 'PETIT', 'DURAND', 'LEROY', 'MOREAU', 'SIMON', 'LAURENT', 'LEFEBVRE', 'MICHEL', 'GARCIA', 'DAVID', 'BERTRAND', 'ROUX', 'VINCENT', 'FOURNIER', 'MOREL', 'GIRARD', 'ANDRE', 'MERCIER', 'DUPONT', 'LAMBERT', 'BONNET', 'FRANCOIS', 'MARTINEZ', 'LEGRAND', 'GARNIER', 'FAURE', 'ROUSSEAU', 'BLANC', 'GUERIN', 'MULLER', 'HENRY', 'ROUSSEL', 'NICOLAS', 'PERRIN', 'MORIN', 'MATHIEU', 'CLEMENT', 'GAUTHIER', 'DUMONT', 'LOPEZ', 'FONTAINE', 'CHEVALIER', 'ROBIN', 'MASSON'];
const TRADES = ['PLOMBERIE', 'MENUISERIE', 'TRANSPORTS', 'BOULANGERIE', 'INFORMATIQUE', 'CONSEIL', 'BATIMENT', 'ELECTRICITE', 'PAYSAGES', 'OPTIQUE', 'IMPRIMERIE', 'TRAITEUR', 'GARAGE', 'PHARMACIE', 'ARCHITECTURE', 'CARRELAGE', 'COUVERTURE', 'NETTOYAGE', 'SECURITE', 'LOGISTIQUE'];
const FORMS = ['SARL', 'SAS', 'SA', 'EURL', 'SASU', 'ETS'];

interface Customer {
  key: string;
  name: string;
  ibans: string[];
  /** Only one statement line may touch this customer (balance and combination cases). */
  exclusive: boolean;
}
interface Invoice {
  number: string;
  customer: string;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  amountMinor: bigint;
  taken: boolean;
}

function randomIban(): string {
  const bank = String(int(10000, 39999));
  const branch = String(int(10000, 99999));
  const account = String(int(10000000, 99999999)).padStart(11, '0');
  return ibanFromBban('FR', `${bank}${branch}${account}${ribKey(bank, branch, account)}`);
}

// ---------------------------------------------------------------- ledger

const customers: Customer[] = [];
const usedNames = new Set<string>();
for (let i = 0; i < 320; i++) {
  let name: string;
  do name = `${pick(FORMS)} ${pick(SURNAMES)} ${pick(TRADES)}`;
  while (usedNames.has(name));
  usedNames.add(name);
  customers.push({ key: `C${String(i + 1).padStart(4, '0')}`, name, ibans: chance(0.65) ? [randomIban()] : [], exclusive: false });
}
// Homonyms: same legal name, another city, another bank account.
const homonymPairs: [Customer, Customer][] = [];
for (let i = 0; i < 8; i++) {
  const original = customers[i * 7]!;
  const twin: Customer = { key: `C${String(customers.length + 1).padStart(4, '0')}`, name: original.name, ibans: [randomIban()], exclusive: false };
  customers.push(twin);
  homonymPairs.push([original, twin]);
}

const invoices: Invoice[] = [];
let seq = 0;
const START = '2025-10-01' as CalendarDate;
for (const c of customers) {
  const n = int(3, 7);
  // Some customers are billed a fixed subscription: several invoices of the same amount.
  const subscription = chance(0.15) ? BigInt(int(50, 400)) * 100n : null;
  for (let k = 0; k < n; k++) {
    seq++;
    const issueDate = addDays(START, int(0, 150));
    const amountMinor = subscription ?? BigInt(int(4000, 1_500_000));
    const old = chance(0.1);
    invoices.push({
      number: old ? `FA25-${String(seq).padStart(4, '0')}` : `F-2026-${String(seq).padStart(5, '0')}`,
      customer: c.key,
      issueDate,
      dueDate: addDays(issueDate, pick([30, 45, 60])),
      amountMinor,
      taken: false,
    });
  }
}
// Homonym twins share a subscription amount with their namesake half of the time.
homonymPairs.forEach(([a, b], i) => {
  if (i % 2 === 0) {
    const ia = invoices.find((x) => x.customer === a.key)!;
    const ib = invoices.find((x) => x.customer === b.key)!;
    ib.amountMinor = ia.amountMinor;
  }
});

const byCustomer = (key: string) => invoices.filter((i) => i.customer === key).sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0));
const custOf = (inv: Invoice) => customers.find((c) => c.key === inv.customer)!;

// ---------------------------------------------------------------- how people write things

function writeNumber(n: string): string {
  return pick([
    () => n,
    () => n.replace(/-/g, ''),
    () => n.replace(/-/g, ' '),
    () => n.toLowerCase(),
    () => n.replace(/-/g, '/'),
    () => n.replace(/^F-/, 'F'),
  ])();
}

function payerName(c: Customer): string {
  const words = c.name.split(' ');
  const bare = words.slice(1).join(' ');
  return pick([
    () => c.name,
    () => bare,
    () => `${bare} ${words[0]}`,
    () => `STE ${bare}`,
    () => c.name.slice(0, 18).trim(),
    () => bare.charAt(0) + bare.slice(1).toLowerCase(),
  ])();
}

function label(name: string): string {
  return pick([`VIR SEPA RECU /DE ${name}`, `VIREMENT DE ${name}`, `VIR INST ${name}`, `VIR ${name}`.slice(0, 31), `VIR SEPA ${name}`]);
}

interface Line {
  id: string;
  category: string;
  bookingDate: CalendarDate;
  amountMinor: string;
  currency: 'EUR';
  counterpartyName: string | null;
  counterpartyIban: string | null;
  remittanceText: string | null;
  creditorReference: string | null;
  label: string | null;
  reversal: boolean;
  expected: { customer: string; invoices: string[] } | null;
}

const lines: Line[] = [];
function push(category: string, l: Omit<Line, 'id' | 'category' | 'currency' | 'reversal' | 'amountMinor'> & { amountMinor: bigint }) {
  lines.push({ id: `L${String(lines.length + 1).padStart(4, '0')}`, category, currency: 'EUR', reversal: false, ...l, amountMinor: l.amountMinor.toString() });
}

function payDate(inv: Invoice): CalendarDate {
  return addDays(inv.dueDate, int(-20, 40));
}

/** A free invoice of a customer that may take part in several lines, with a unique amount there. */
function freeInvoice(filter: (i: Invoice, c: Customer) => boolean = () => true): Invoice {
  for (let tries = 0; tries < 10_000; tries++) {
    const inv = pick(invoices);
    const c = custOf(inv);
    if (inv.taken || c.exclusive || !filter(inv, c)) continue;
    inv.taken = true;
    return inv;
  }
  throw new Error('no free invoice left');
}

const payerIbanFor = (c: Customer, known: boolean) => (known && c.ibans.length ? c.ibans[0]! : randomIban());

// 1. Structured RF reference, amount as due.
for (let i = 0; i < 60; i++) {
  const inv = freeInvoice();
  const c = custOf(inv);
  const name = payerName(c);
  push('rf_exact', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: name,
    counterpartyIban: payerIbanFor(c, chance(0.5)),
    remittanceText: chance(0.3) ? `FACTURE ${inv.number}` : null,
    creditorReference: creditorReference(inv.number),
    label: label(name),
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 2. RF reference printed in the free text, in groups of four, partial payment.
for (let i = 0; i < 15; i++) {
  const inv = freeInvoice((x) => x.amountMinor > 20000n);
  const c = custOf(inv);
  const rf = creditorReference(inv.number).replace(/(.{4})/g, '$1 ').trim();
  push('rf_partial', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor / 2n,
    counterpartyName: payerName(c),
    counterpartyIban: payerIbanFor(c, chance(0.5)),
    remittanceText: `ACOMPTE ${rf}`,
    creditorReference: null,
    label: 'VIR SEPA RECU',
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 3. Invoice number in the text, written every way people write it.
const TEMPLATES = [
  (n: string) => `REGLEMENT FACT ${n}`,
  (n: string) => `FACTURE ${n}`,
  (n: string) => `Fact. ${n}`,
  (n: string) => `PAIEMENT FACTURE N° ${n}`,
  (n: string) => `REF ${n} MERCI`,
  (n: string) => `${n}`,
  (n: string) => `/INV/${n}/`,
  (n: string) => `Votre facture ${n} du mois`,
];
for (let i = 0; i < 90; i++) {
  const inv = freeInvoice();
  const c = custOf(inv);
  const name = payerName(c);
  push('number_exact', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: chance(0.85) ? name : null,
    counterpartyIban: payerIbanFor(c, chance(0.5)),
    remittanceText: pick(TEMPLATES)(writeNumber(inv.number)),
    creditorReference: null,
    label: label(name),
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 4. The number with another prefix, or glued to one.
for (let i = 0; i < 25; i++) {
  const inv = freeInvoice((x) => x.number.startsWith('F-'));
  const c = custOf(inv);
  const digits = inv.number.slice(2);
  push('number_prefix', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: payerName(c),
    counterpartyIban: payerIbanFor(c, chance(0.4)),
    remittanceText: pick([`FACT ${digits}`, `FA${digits.replace('-', '')}`, `FACTURE NO ${digits}`, `Fac ${digits.replace('-', ' ')}`]),
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 5. One transfer for several invoices.
for (let i = 0; i < 40; i++) {
  const first = freeInvoice();
  const c = custOf(first);
  const others = byCustomer(c.key).filter((x) => !x.taken).slice(0, int(1, 2));
  if (others.length === 0) {
    first.taken = false;
    continue;
  }
  for (const o of others) o.taken = true;
  const all = [first, ...others];
  const total = all.reduce((s, x) => s + x.amountMinor, 0n);
  const name = payerName(c);
  push('multi_invoice', {
    bookingDate: payDate(all.at(-1)!),
    amountMinor: total,
    counterpartyName: name,
    counterpartyIban: payerIbanFor(c, chance(0.5)),
    remittanceText: pick([`FACTURES ${all.map((x) => x.number).join(' ET ')}`, `REGL ${all.map((x) => writeNumber(x.number)).join(' ')}`, `FACT ${all.map((x) => x.number).join(', ')}`]),
    creditorReference: null,
    label: label(name),
    expected: { customer: c.key, invoices: all.map((x) => x.number) },
  });
}
// 6. No reference, a known IBAN, the amount of one invoice (unique among the customer's).
for (let i = 0; i < 70; i++) {
  const inv = freeInvoice((x, c) => c.ibans.length > 0 && byCustomer(c.key).filter((y) => y.amountMinor === x.amountMinor).length === 1);
  const c = custOf(inv);
  const name = payerName(c);
  push('iban_single', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: name,
    counterpartyIban: c.ibans[0]!,
    remittanceText: pick([null, 'PAIEMENT', 'REGLEMENT', 'VIREMENT FOURNISSEUR', `REF CLIENT ${int(1000, 9999)}`, 'ECHEANCE']),
    creditorReference: null,
    label: label(name),
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 6b. Several invoices of the same amount (subscription): the oldest is the answer.
for (let i = 0; i < 10; i++) {
  const c = customers.find((x) => !x.exclusive && x.ibans.length > 0 && byCustomer(x.key).every((y) => !y.taken) && new Set(byCustomer(x.key).map((y) => y.amountMinor)).size === 1);
  if (!c) break;
  c.exclusive = true;
  const inv = byCustomer(c.key)[0]!;
  push('iban_equal_amounts', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: payerName(c),
    counterpartyIban: c.ibans[0]!,
    remittanceText: 'ABONNEMENT',
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}

function exclusiveCustomer(test: (invs: Invoice[], c: Customer) => boolean): Customer | null {
  for (let tries = 0; tries < 5000; tries++) {
    const c = pick(customers);
    const invs = byCustomer(c.key);
    if (c.exclusive || c.ibans.length === 0 || invs.some((x) => x.taken) || !test(invs, c)) continue;
    c.exclusive = true;
    for (const x of invs) x.taken = true;
    return c;
  }
  return null;
}

// 7. Known IBAN, the sum of some of the customer's invoices.
for (let i = 0; i < 25; i++) {
  let chosen: Invoice[] = [];
  const c = exclusiveCustomer((invs) => {
    if (invs.length < 4 || new Set(invs.map((x) => x.amountMinor)).size !== invs.length) return false;
    chosen = invs.slice(0, 2 + (i % 2));
    const sum = chosen.reduce((s, x) => s + x.amountMinor, 0n);
    return !invs.some((x) => x.amountMinor === sum) && invs.reduce((s, x) => s + x.amountMinor, 0n) !== sum;
  });
  if (!c) break;
  push('iban_combination', {
    bookingDate: payDate(chosen.at(-1)!),
    amountMinor: chosen.reduce((s, x) => s + x.amountMinor, 0n),
    counterpartyName: payerName(c),
    counterpartyIban: c.ibans[0]!,
    remittanceText: pick([null, 'REGLEMENT FACTURES', 'PAIEMENT RELEVE']),
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: chosen.map((x) => x.number) },
  });
}
// 8. Known IBAN, the whole balance.
for (let i = 0; i < 20; i++) {
  const c = exclusiveCustomer((invs) => invs.length >= 2 && new Set(invs.map((x) => x.amountMinor)).size === invs.length);
  if (!c) break;
  const invs = byCustomer(c.key);
  push('iban_balance', {
    bookingDate: payDate(invs.at(-1)!),
    amountMinor: invs.reduce((s, x) => s + x.amountMinor, 0n),
    counterpartyName: payerName(c),
    counterpartyIban: c.ibans[0]!,
    remittanceText: pick(['SOLDE DE TOUT COMPTE', 'REGLEMENT RELEVE', null]),
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: invs.map((x) => x.number) },
  });
}
// 9. Bank charges deducted by the payer (a foreign transfer): 1.50 to 15.00 short.
for (let i = 0; i < 20; i++) {
  const withRef = i % 2 === 0;
  const inv = freeInvoice((x, c) => x.amountMinor > 10000n && (withRef || c.ibans.length > 0) && byCustomer(c.key).every((y) => y === x || y.amountMinor > x.amountMinor || x.amountMinor - y.amountMinor > 1500n));
  const c = custOf(inv);
  push('bank_charges', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor - BigInt(int(150, 1500)),
    counterpartyName: `${c.name.split(' ').slice(1).join(' ')} GMBH`,
    counterpartyIban: withRef ? randomIban() : c.ibans[0]!,
    remittanceText: withRef ? `INVOICE ${inv.number}` : 'PAYMENT',
    creditorReference: null,
    label: 'VIR SEPA RECU',
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 10. Partial payment with the number. 11. Overpayment with the number.
for (let i = 0; i < 27; i++) {
  const over = i >= 15;
  const inv = freeInvoice((x) => x.amountMinor > 30000n);
  const c = custOf(inv);
  const amount = over ? inv.amountMinor + BigInt(int(100, 5000)) * 100n : (inv.amountMinor * BigInt(int(20, 70))) / 100n;
  push(over ? 'overpayment' : 'partial', {
    bookingDate: payDate(inv),
    amountMinor: amount,
    counterpartyName: payerName(c),
    counterpartyIban: payerIbanFor(c, chance(0.5)),
    remittanceText: over ? `FACT ${inv.number} + PENALITES` : `ACOMPTE FACTURE ${inv.number}`,
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 12. No reference, unknown IBAN: the payer's name and the amount.
for (let i = 0; i < 40; i++) {
  const inv = freeInvoice((x, c) => !homonymPairs.some((p) => p.includes(c)) && invoices.filter((y) => y.amountMinor === x.amountMinor).length === 1);
  const c = custOf(inv);
  const name = payerName(c);
  const inLabelOnly = chance(0.3);
  push('name_amount', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: inLabelOnly ? null : name,
    counterpartyIban: inLabelOnly ? null : randomIban(),
    remittanceText: null,
    creditorReference: null,
    label: label(c.name.split(' ').slice(1).join(' ')),
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 13. Homonyms: the name cannot tell which of the two customers paid.
homonymPairs.forEach(([a, b], i) => {
  const who = i % 4 < 2 ? a : b;
  const inv = byCustomer(who.key).find((x) => !x.taken);
  if (!inv) return;
  inv.taken = true;
  push('homonym', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: who.name,
    counterpartyIban: randomIban(),
    remittanceText: null,
    creditorReference: null,
    label: label(who.name),
    expected: { customer: who.key, invoices: [inv.number] },
  });
});
// 14. Truncated labels: the bank cut the reference; a known IBAN and the amount remain.
for (let i = 0; i < 20; i++) {
  const inv = freeInvoice((x, c) => c.ibans.length > 0 && x.number.startsWith('F-') && byCustomer(c.key).filter((y) => y.amountMinor === x.amountMinor).length === 1);
  const c = custOf(inv);
  const text = `VIR SEPA ${c.name} REGLEMENT FACT ${inv.number}`.slice(0, 40 + int(0, 4));
  push('truncated', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: null,
    counterpartyIban: c.ibans[0]!,
    remittanceText: null,
    creditorReference: null,
    label: text,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 15. Typos in the number (two digits swapped), known IBAN, amount as due.
for (let i = 0; i < 15; i++) {
  const inv = freeInvoice((x, c) => c.ibans.length > 0 && x.number.startsWith('F-') && byCustomer(c.key).filter((y) => y.amountMinor === x.amountMinor).length === 1);
  const c = custOf(inv);
  const n = inv.number;
  const typo = n.slice(0, -2) + n.at(-1)! + n.at(-2)!;
  push('typo', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: payerName(c),
    counterpartyIban: c.ibans[0]!,
    remittanceText: `REGLEMENT FACTURE ${typo}`,
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 16. Wrong amount, no reference, known IBAN: the customer is sure, the invoice is not.
for (let i = 0; i < 15; i++) {
  const inv = freeInvoice((_x, c) => c.ibans.length > 0);
  const c = custOf(inv);
  push('wrong_amount', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor - BigInt(int(2000, 9000)),
    counterpartyName: payerName(c),
    counterpartyIban: c.ibans[0]!,
    remittanceText: 'PAIEMENT',
    creditorReference: null,
    label: null,
    // The payer meant the oldest open invoice: that is what the reviewer will confirm.
    expected: { customer: c.key, invoices: [byCustomer(c.key).find((x) => x === inv || !x.taken)!.number] },
  });
}
// 16b. A typo that lands on another customer's invoice, from a payer whose IBAN is unknown.
for (let i = 0; i < 10; i++) {
  const inv = freeInvoice((x) => x.number.startsWith('F-') && x.number.at(-1) !== x.number.at(-2));
  const c = custOf(inv);
  const n = inv.number;
  const typo = n.slice(0, -2) + n.at(-1)! + n.at(-2)!;
  push('typo_unknown_payer', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: payerName(c),
    counterpartyIban: randomIban(),
    remittanceText: `FACT ${typo}`,
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 16c. An accounting firm pays for its client, quoting the invoice.
for (let i = 0; i < 10; i++) {
  const inv = freeInvoice();
  const c = custOf(inv);
  push('third_party_payer', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: pick(['CABINET FIDUCIAIRE DU CENTRE', 'EXPERTISE COMPTABLE AUDIT SA', 'GROUPE HOLDING INVEST']),
    counterpartyIban: randomIban(),
    remittanceText: `POUR COMPTE ${c.name.split(' ').slice(1).join(' ')} FACT ${writeNumber(inv.number)}`,
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 16d. The payer's name misspelt, no reference, IBAN unknown.
for (let i = 0; i < 10; i++) {
  const inv = freeInvoice((x, c) => !homonymPairs.some((p) => p.includes(c)) && invoices.filter((y) => y.amountMinor === x.amountMinor).length === 1);
  const c = custOf(inv);
  const bare = c.name.split(' ').slice(1).join(' ');
  const k = int(1, bare.length - 2);
  push('name_typo', {
    bookingDate: payDate(inv),
    amountMinor: inv.amountMinor,
    counterpartyName: bare.slice(0, k) + bare.slice(k + 1),
    counterpartyIban: randomIban(),
    remittanceText: null,
    creditorReference: null,
    label: null,
    expected: { customer: c.key, invoices: [inv.number] },
  });
}
// 16e. An invoice paid twice: the second transfer settles nothing (it is customer credit), so no
// invoice is the right answer.
for (let i = 0; i < 6; i++) {
  const line = lines.find((l, k) => l.category === 'number_exact' && k % 6 === i && l.counterpartyIban && customers.some((c) => c.ibans.includes(l.counterpartyIban!)));
  if (!line) continue;
  push('paid_twice', {
    bookingDate: addDays(line.bookingDate, 5),
    amountMinor: BigInt(line.amountMinor),
    counterpartyName: line.counterpartyName,
    counterpartyIban: line.counterpartyIban,
    remittanceText: line.remittanceText,
    creditorReference: null,
    label: line.label,
    expected: null,
  });
}
// 17. Money in that is no customer's payment.
const OTHERS = ['CPAM', 'URSSAF REMBOURSEMENT', 'ORANGE SA', 'DGFIP REMBT TVA', 'AXA FRANCE IARD', 'BNP PARIBAS', 'VIREMENT INTERNE', 'SNCF VOYAGEURS', 'EDF REMBOURSEMENT'];
for (let i = 0; i < 35; i++) {
  const name = pick(OTHERS);
  push('not_a_customer', {
    bookingDate: addDays('2026-02-01' as CalendarDate, int(0, 80)),
    amountMinor: BigInt(int(500, 300_000)),
    counterpartyName: name,
    counterpartyIban: randomIban(),
    remittanceText: pick(['REMBOURSEMENT', 'TROP PERCU', `DOSSIER ${int(100000, 999999)}`, 'INDEMNITE SINISTRE', null]),
    creditorReference: null,
    label: `VIR SEPA ${name}`,
    expected: null,
  });
}
// 18. Debits: never receivables.
const DEBITS = ['PRLV SEPA URSSAF', 'CB CARREFOUR 12/03', 'FRAIS BANCAIRES', 'PRLV SEPA EDF', 'VIR SEPA EMIS LOYER', 'COMMISSION INTERVENTION'];
for (let i = 0; i < 30; i++) {
  push('debit', {
    bookingDate: addDays('2026-02-01' as CalendarDate, int(0, 80)),
    amountMinor: -BigInt(int(100, 500_000)),
    counterpartyName: null,
    counterpartyIban: null,
    remittanceText: null,
    creditorReference: null,
    label: pick(DEBITS),
    expected: null,
  });
}

const out = {
  description:
    'Golden dataset for bank reconciliation: an open-items ledger and statement lines, each labelled with the customer and invoices it settles (null: not a customer payment). Generated by generate-bank-golden.ts; amounts in minor units (EUR cents) as strings.',
  settings: { autoThreshold: 0.9, bankChargesToleranceMinor: '1500', bankCharges: 'write_off' },
  customers: customers.map((c) => ({ key: c.key, name: c.name, ibans: c.ibans })),
  invoices: invoices.map((i) => ({ number: i.number, customer: i.customer, issueDate: i.issueDate, dueDate: i.dueDate, amountMinor: i.amountMinor.toString() })),
  lines,
};
const file = join(dirname(fileURLToPath(import.meta.url)), 'bank-reconciliation.json');
// One record a line: readable in a diff, and a change to one line shows as one line.
const body = Object.entries(out)
  .map(([k, v]) => `"${k}": ${Array.isArray(v) ? `[\n${v.map((x) => `  ${JSON.stringify(x)}`).join(',\n')}\n]` : JSON.stringify(v)}`)
  .join(',\n');
writeFileSync(file, `{\n${body}\n}\n`);
process.stdout.write(`${lines.length} lines, ${invoices.length} invoices, ${customers.length} customers -> ${file}\n`);
