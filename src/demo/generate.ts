/**
 * Deterministic generator of a realistic French receivables ledger: the demo company's customers,
 * their invoices over the last months, and how they paid (most on time, some late, some partially,
 * a few disputed-looking cases). Pure: the seed and "today" are parameters, the output is streamed
 * in batches so the same code seeds the demo and loads a million invoices in the benches.
 */
import { addDays, type CalendarDate } from '../domain/dates.ts';
import { frenchVatFromSiren, ibanFromBban, luhnCheckDigit, ribKey } from '../domain/identifiers.ts';
import type { Minor } from '../domain/money.ts';

// ------------------------------------------------------------------ seeded randomness

/** mulberry32: tiny, fast, good enough for test data, identical on every platform. */
export function prng(seed: number | string): () => number {
  let a = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const digits = (r: Rand, n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');

// ------------------------------------------------------------------ French material

const SURNAMES = [
  'Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Simon', 'Laurent',
  'Lefebvre', 'Michel', 'Garcia', 'David', 'Bertrand', 'Roux', 'Vincent', 'Fournier', 'Morel', 'Girard', 'André', 'Lefèvre',
  'Mercier', 'Dupont', 'Lambert', 'Bonnet', 'François', 'Martinez', 'Legrand', 'Garnier', 'Faure', 'Rousseau', 'Blanc',
  'Guérin', 'Muller', 'Henry', 'Roussel', 'Nicolas', 'Perrin', 'Morin', 'Mathieu', 'Clément', 'Gauthier', 'Dumont', 'Lopez',
  'Fontaine', 'Chevalier', 'Robin', 'Masson', 'Sanchez', 'Gérard', 'Nguyen', 'Boyer', 'Denis', 'Lemaire', 'Duval', 'Joly',
  'Gautier', 'Roger', 'Roche', 'Roy', 'Noël', 'Meyer', 'Lucas', 'Meunier', 'Jean', 'Pérez', 'Marchand', 'Dufour', 'Blanchard',
];
const FIRST_NAMES = [
  'Marie', 'Jean', 'Camille', 'Nicolas', 'Sophie', 'Julien', 'Claire', 'Thomas', 'Isabelle', 'Pierre', 'Élodie', 'Mathieu',
  'Nathalie', 'François', 'Céline', 'Antoine', 'Aurélie', 'Olivier', 'Hélène', 'Stéphane', 'Amélie', 'Laurent', 'Chloé', 'Éric',
];
const TRADES = [
  'Boulangerie', 'Garage', 'Menuiserie', 'Plomberie', 'Transports', 'Imprimerie', 'Cabinet', 'Pharmacie', 'Hôtel', 'Restaurant',
  'Atelier', 'Brasserie', 'Librairie', 'Électricité', 'Peinture', 'Charpente', 'Fromagerie', 'Pépinières', 'Maçonnerie', 'Optique',
  'Clinique vétérinaire', 'Agence', 'Studio', 'Laboratoire', 'Domaine', 'Carrosserie', 'Serrurerie', 'Toiture', 'Traiteur',
];
const FORMS = ['SARL', 'SAS', 'SASU', 'EURL', 'SA', 'SCI', 'EI'];
const STREETS = [
  'rue de la République', 'avenue Jean Jaurès', 'rue Victor Hugo', 'boulevard Gambetta', 'rue Pasteur', 'place de la Mairie',
  'rue du Moulin', 'chemin des Vignes', 'rue de la Gare', 'avenue de la Libération', 'rue Nationale', 'impasse des Lilas',
  'rue du Général de Gaulle', 'quai Saint-Antoine', 'rue des Écoles', 'allée des Tilleuls',
];
const CITIES: ReadonlyArray<readonly [string, string]> = [
  ['75011', 'Paris'], ['69003', 'Lyon'], ['13006', 'Marseille'], ['31000', 'Toulouse'], ['33000', 'Bordeaux'], ['59000', 'Lille'],
  ['44000', 'Nantes'], ['67000', 'Strasbourg'], ['57000', 'Metz'], ['35000', 'Rennes'], ['21000', 'Dijon'], ['38000', 'Grenoble'],
  ['06000', 'Nice'], ['34000', 'Montpellier'], ['37000', 'Tours'], ['63000', 'Clermont-Ferrand'], ['87000', 'Limoges'],
  ['74000', 'Annecy'], ['29200', 'Brest'], ['51100', 'Reims'], ['97400', 'Saint-Denis'], ['68100', 'Mulhouse'], ['64200', 'Biarritz'],
];
const BANKS: ReadonlyArray<readonly [string, string]> = [
  ['30004', 'BNPAFRPP'], ['30003', 'SOGEFRPP'], ['30002', 'CRLYFRPP'], ['10278', 'CMCIFR2A'], ['20041', 'PSSTFRPP'],
  ['16006', 'AGRIFRPP'], ['30066', 'CMCIFRPP'], ['10107', 'BREDFRPP'], ['17515', 'CEPAFRPP'],
];

const slug = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function fakeSiren(r: Rand): string {
  const body = String(int(r, 3, 9)) + digits(r, 7);
  return body + luhnCheckDigit(body);
}

export function fakeFrenchIban(r: Rand): { iban: string; bic: string } {
  const [bank, bic] = pick(r, BANKS);
  const branch = digits(r, 5);
  const account = digits(r, 11);
  return { iban: ibanFromBban('FR', `${bank}${branch}${account}${ribKey(bank, branch, account)}`), bic: `${bic}XXX` };
}

import type { GenContact, GenCustomer, GenPayment, LedgerBatch } from '../ledger/bulk-types.ts';

export interface GenerateOptions {
  customers: number;
  invoices: number;
  seed: number | string;
  today: CalendarDate;
  /** How far back invoices go. */
  months?: number;
  /** Customers per batch (memory stays proportional to this, not to the ledger). */
  batchCustomers?: number;
}

type Behaviour = 'punctual' | 'slow' | 'bad' | 'disputed';

/** Payment behaviour mix of a typical French SME's customer base. */
function behaviour(r: Rand): Behaviour {
  const x = r();
  return x < 0.62 ? 'punctual' : x < 0.86 ? 'slow' : x < 0.95 ? 'bad' : 'disputed';
}

function customer(r: Rand, index: number): GenCustomer & { behaviour: Behaviour } {
  const consumer = r() < 0.08;
  const [postalCode, city] = pick(r, CITIES);
  const street = `${int(r, 1, 148)} ${pick(r, STREETS)}`;
  const first = pick(r, FIRST_NAMES);
  const last = pick(r, SURNAMES);
  const english = !consumer && r() < 0.04;
  let legalName: string;
  if (consumer) legalName = `${first} ${last}`;
  else {
    const trade = pick(r, TRADES);
    const form = pick(r, FORMS);
    legalName = r() < 0.5 ? `${trade} ${last} ${form}` : `${trade} ${last} & ${pick(r, SURNAMES)} ${form}`;
    if (english) legalName = `${last} ${pick(r, ['Trading', 'Logistics', 'Consulting', 'Imports'])} Ltd`;
  }
  const siren = consumer || english ? null : fakeSiren(r);
  const nic = digits(r, 4);
  const siret = siren ? siren + nic + luhnCheckDigit(siren + nic) : null;
  const domain = consumer ? pick(r, ['orange.fr', 'free.fr', 'gmail.com', 'laposte.net', 'sfr.fr']) : `${slug(legalName).slice(0, 24)}.fr`;
  const mail = consumer ? `${slug(first)}.${slug(last)}@${domain}` : `${pick(r, ['compta', 'comptabilite', 'factures', 'contact', 'admin'])}@${domain}`;
  const contacts: GenContact[] = [
    {
      name: consumer ? `${first} ${last}` : `${pick(r, FIRST_NAMES)} ${pick(r, SURNAMES)}`,
      role: consumer ? 'Particulier' : pick(r, ['Comptabilité', 'Service comptable', 'Gérant', 'Direction financière', 'Assistante de direction']),
      email: mail,
      phone: `+33${pick(r, ['1', '4', '5', '6', '7'])}${digits(r, 8)}`,
      addressLine1: street,
      postalCode,
      city,
      country: english ? 'GB' : 'FR',
      receivesReminders: true,
    },
  ];
  if (!consumer && r() < 0.35) {
    contacts.push({
      name: `${pick(r, FIRST_NAMES)} ${pick(r, SURNAMES)}`,
      role: 'Gérant',
      email: `direction@${domain}`,
      phone: `+336${digits(r, 8)}`,
      addressLine1: street,
      postalCode,
      city,
      country: english ? 'GB' : 'FR',
      receivesReminders: false,
    });
  }
  const b = behaviour(r);
  const segment = consumer ? 'particuliers' : pick(r, ['artisans', 'commerces', 'industrie', 'services', 'collectivités']);
  return {
    externalId: `C${String(index + 1).padStart(6, '0')}`,
    legalName,
    kind: consumer ? 'consumer' : 'business',
    siren,
    siret,
    vatNumber: siren ? frenchVatFromSiren(siren) : null,
    country: english ? 'GB' : 'FR',
    language: english ? 'en' : 'fr',
    paymentTermsDays: consumer ? 0 : pick(r, [30, 30, 30, 45, 60, 15]),
    tags: b === 'bad' && r() < 0.5 ? ['à surveiller'] : r() < 0.1 ? ['grand compte'] : [],
    segment,
    creditLimitMinor: consumer ? null : BigInt(pick(r, [5_000, 10_000, 20_000, 50_000])) * 100n,
    iban: fakeFrenchIban(r).iban,
    contacts,
    behaviour: b,
  };
}

/** Amount excluding tax, in cents: log-uniform between 80 € and 25,000 € (most invoices are small). */
function amountExclTax(r: Rand, consumer: boolean): Minor {
  const lo = Math.log(consumer ? 40 : 80);
  const hi = Math.log(consumer ? 3_000 : 25_000);
  const euros = Math.exp(lo + r() * (hi - lo));
  return BigInt(Math.round(euros * 100));
}

/**
 * Streams the ledger in batches. Invoices are spread over customers with uneven weights (a few
 * customers have many invoices), exactly `invoices` in total.
 */
export function* generateLedger(opts: GenerateOptions): Generator<LedgerBatch> {
  const r = prng(opts.seed);
  const months = opts.months ?? 18;
  const spanDays = Math.round(months * 30.44);
  const batchSize = opts.batchCustomers ?? 1000;
  let invoiceSeq = 0;
  let paymentSeq = 0;
  for (let start = 0; start < opts.customers; start += batchSize) {
    const end = Math.min(opts.customers, start + batchSize);
    // Invoices of this batch of customers: an exact share of the total.
    const share = Math.floor((end * opts.invoices) / opts.customers) - Math.floor((start * opts.invoices) / opts.customers);
    const customers = Array.from({ length: end - start }, (_, k) => customer(r, start + k));
    const weights = customers.map(() => 1 / (0.05 + r()) ** 0.8);
    const totalW = weights.reduce((a, b) => a + b, 0);
    const counts = weights.map((w) => Math.floor((w / totalW) * share));
    let left = share - counts.reduce((a, b) => a + b, 0);
    for (let k = 0; left > 0; k = (k + 1) % counts.length, left--) counts[k]!++;
    const batch: LedgerBatch = { customers: [], invoices: [], payments: [], allocations: [] };
    customers.forEach((c, k) => {
      const { behaviour: b, ...row } = c;
      batch.customers.push(row);
      const disputedInvoice = b === 'disputed' ? int(r, 0, Math.max(0, counts[k]! - 1)) : -1;
      for (let n = 0; n < counts[k]!; n++) {
        invoiceSeq++;
        const issueDate = addDays(opts.today, -int(r, 0, spanDays));
        const dueDate = addDays(issueDate, c.paymentTermsDays);
        const ht = amountExclTax(r, c.kind === 'consumer');
        const ttc = (ht * 120n + 50n) / 100n; // VAT 20 %, rounded to the cent
        const number = `FA${issueDate.slice(2, 4)}${issueDate.slice(5, 7)}-${String(invoiceSeq).padStart(6, '0')}`;
        batch.invoices.push({
          customerExternalId: c.externalId,
          number,
          externalId: `inv-${invoiceSeq}`,
          issueDate,
          dueDate,
          currency: 'EUR',
          amountExclTaxMinor: ht,
          amountInclTaxMinor: ttc,
        });
        // When and how much this customer pays for this invoice.
        let delay: number | null;
        let fraction = 1;
        switch (b) {
          case 'punctual':
            delay = r() < 0.97 ? int(r, -6, 2) : int(r, 3, 20);
            break;
          case 'slow':
            delay = int(r, 4, 48);
            if (r() < 0.08) fraction = 0.5;
            break;
          case 'bad':
            delay = r() < 0.45 ? null : int(r, 30, 160);
            if (delay !== null && r() < 0.3) fraction = pick(r, [0.3, 0.5]);
            break;
          case 'disputed':
            delay = n === disputedInvoice ? null : int(r, 2, 35);
            break;
        }
        if (delay === null) continue;
        const paymentDate = addDays(dueDate, delay);
        if (paymentDate > opts.today || paymentDate < issueDate) continue;
        const amount = fraction === 1 ? ttc : (ttc * BigInt(Math.round(fraction * 100))) / 100n;
        paymentSeq++;
        const method = c.kind === 'consumer' ? pick(r, ['card', 'transfer', 'cheque'] as const) : r() < 0.85 ? 'transfer' : pick(r, ['cheque', 'lcr', 'direct_debit'] as const);
        const payment: GenPayment = {
          externalId: `pay-${paymentSeq}`,
          customerExternalId: c.externalId,
          paymentDate,
          currency: 'EUR',
          amountMinor: amount,
          method,
          reference: pick(r, [`VIR SEPA ${number}`, `REGLEMENT FACTURE ${number}`, `FACT ${number.replace('-', ' ')}`, `${number}`, `PAIEMENT ${c.legalName.toUpperCase().slice(0, 20)}`]),
          payerName: c.legalName.toUpperCase(),
          payerIban: method === 'transfer' || method === 'direct_debit' ? c.iban : null,
        };
        batch.payments.push(payment);
        batch.allocations.push({ invoiceNumber: number, paymentExternalId: payment.externalId, currency: 'EUR', amountMinor: amount, allocatedOn: paymentDate });
      }
    });
    yield batch;
  }
}

/** The demo company: a French joinery firm near Lyon. */
export const DEMO_ORGANISATION = {
  legalName: 'Menuiserie Lambert & Fils SAS',
  siren: '518796446',
  siret: '51879644600020',
  vatNumber: frenchVatFromSiren('518796446'),
  addressLine1: '14 rue des Artisans',
  postalCode: '69003',
  city: 'Lyon',
  country: 'FR',
  iban: 'FR7630004008210001234567849',
  bic: 'BNPAFRPPXXX',
  timeZone: 'Europe/Paris',
  currency: 'EUR',
  language: 'fr' as const,
};
