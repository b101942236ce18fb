/**
 * Statutory late-payment interest and fixed recovery compensation, by jurisdiction and date.
 *
 * Rules (LAW-AND-FORMATS.md §1–4):
 * - FR, business debtor (C. com. L441-10, D441-5): ECB MRO rate in force on 1 January (days in
 *   January–June) or 1 July (July–December) + 10 points; a contractual rate replaces it but must be
 *   at least 3 × the taux d'intérêt légal "autres cas" of each half-year, else it is refused; 40 EUR
 *   per invoice from the first day late, even if partly paid.
 * - FR, consumer debtor (C. civ. 1231-6, 1344-1): taux légal (category by who the creditor is) from
 *   the formal notice only; no indemnity (CPCE L111-8).
 * - EU default (Dir. 2011/7/EU), BE, ES, IT: ECB rate of the half-year + 8 points, 40 EUR, business only.
 * - DE (BGB §288): Basiszinssatz + 9 points (no consumer party) or + 5 (consumer); 40 EUR business only.
 * - GB (Late Payment of Commercial Debts (Interest) Act 1998, SI 2002/1675): Bank Rate on the
 *   30 June / 31 December before interest starts + 8 points, fixed for the debt; £40 / £70 / £100.
 *
 * Interest is simple, from the day after the due date to `until` inclusive, actual days / 365 (also in
 * leap years: French practice, the law is silent; configurable), each period rounded half up to the
 * cent. A payment or credit note dated P still bears interest on day P and reduces the base from P + 1
 * (the creditor has the funds at the end of day P, as for a full payment on P).
 */
import type { CalendarDate } from '../dates.ts';
import { divRoundHalfUp, toDecimalString } from '../money.ts';
import { ERROR_CODES, RelanceError, validation } from '../../errors.ts';
import { defineErrors, t } from '../../i18n/index.ts';
import { civilToDay, dayToCivil, daysInYear, fromDay, semesterEnd, semesterLabel, semesterOfDay, semesterStart, semesterStartDay, toDay } from './calendar.ts';
import { LAW_MESSAGES, type LawNote, renderLawNote } from './messages.ts';
import { formatRatePercent, parseRatePercent, RATE_SCALE, type RateLookup, rateOnDay, type RateTableName, type RateTables } from './rates.ts';

const E = defineErrors('law-interest', {
  currency: { fr: '« {currency} » n’est pas un code devise ISO 4217', en: '"{currency}" is not an ISO 4217 currency code' },
  jurisdiction: { fr: "juridiction inconnue « {jurisdiction} » ; valeurs possibles : {known}", en: "unknown jurisdiction \"{jurisdiction}\"; expected one of {known}" },
  debtor: { fr: "le débiteur doit être « business » ou « consumer », pas « {debtor} »", en: "debtor must be \"business\" or \"consumer\", not \"{debtor}\"" },
  amount: { fr: "le montant doit être positif ou nul, en centimes (bigint)", en: "amount must be zero or more minor units (bigint)" },
  creditor_kind: { fr: "le type de créancier doit être « professional » ou « individual », pas « {kind} »", en: "creditor kind must be \"professional\" or \"individual\", not \"{kind}\"" },
  day_count: { fr: "le décompte des jours doit être « 365 » ou « actual »", en: "day count must be \"365\" or \"actual\"" },
  payment_positive: { fr: "un paiement ou un avoir doit être un nombre positif de centimes", en: "a payment or credit note must be a positive number of minor units" },
  contract_negative: { fr: "un taux contractuel ne peut pas être négatif", en: "a contractual rate cannot be negative" },
  below_floor: { fr: "le taux contractuel de {rate} % est inférieur au plancher légal de {floor} % pour {semester} ({source} ; C. com. L441-10 : au moins trois fois le taux d’intérêt légal){provisional}", en: "the contractual rate {rate}% is below the legal floor of {floor}% for {semester} ({source}; C. com. L441-10: at least three times the taux d'intérêt légal){provisional}" },
  floor_provisional: { fr: " [plancher provisoire]", en: " [floor provisional]" },
});

export const JURISDICTIONS = ['FR', 'EU', 'DE', 'BE', 'ES', 'IT', 'GB'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];
export type DebtorKind = 'business' | 'consumer';
export type CreditorKind = 'professional' | 'individual';

/** Choices the law leaves open ([U] in LAW-AND-FORMATS.md); the defaults follow French practice. */
export interface LateFeeRules {
  /** '365': every year counts 365 days (default); 'actual': 366 in leap years. */
  dayCount: '365' | 'actual';
  /** true (default): each half-year at its own rate; false: the rate of the half-year the delay starts in. */
  semesterSplit: boolean;
}

export const DEFAULT_LATE_FEE_RULES: LateFeeRules = { dayCount: '365', semesterSplit: true };

export interface LateFeeInput {
  jurisdiction: Jurisdiction;
  debtor: DebtorKind;
  currency: string;
  /** The amount due, tax included (CJEU C-585/20), in minor units. */
  amountMinor: bigint;
  dueDate: CalendarDate;
  /** Payment date, or the date of computation. */
  until: CalendarDate;
  /** Partial payments and credit notes reduce the base from the day after their date. */
  payments?: { date: CalendarDate; amountMinor: bigint }[];
  /** Contractual rate in percent, decimal string ("15", "12.5"). Business debtors only. */
  contractRatePercent?: string;
  /** Formal notice (mise en demeure); consumers' interest runs from it (FR). */
  noticeDate?: CalendarDate;
  /** Who the creditor is: chooses the French taux légal category for consumer debts. Default professional. */
  creditorKind?: CreditorKind;
  rules?: Partial<LateFeeRules>;
}

export interface LateFeePeriod {
  from: CalendarDate;
  to: CalendarDate;
  days: number;
  ratePercent: string;
  baseMinor: bigint;
  interestMinor: bigint;
  /** English text; `rateSourceDetail` renders it in French or English. */
  rateSource: string;
  rateSourceDetail: LawNote;
  provisional: boolean;
}

export interface LateFeeResult {
  interestMinor: bigint;
  indemnityMinor: bigint;
  totalMinor: bigint;
  currency: string;
  periods: LateFeePeriod[];
  provisional: boolean;
  /** English texts; `noteDetails` holds the same as message keys to render in French. */
  notes: string[];
  noteDetails: LawNote[];
  roundingRule: string;
  /** Days late at `until` (0 when not late). */
  daysLate: number;
}

/** How a half-year's (or a debt's) rate was found. Cached per rate-table object. */
interface Resolved {
  scaled: bigint;
  percent: string;
  source: string;
  sourceNote: LawNote;
  provisional: boolean;
  /** Set when the rate is provisional: names the period and the rate assumed. */
  note: LawNote | undefined;
  /** Explains a fixed rate (UK). */
  info?: LawNote;
}

const LAW_LABEL: Record<Jurisdiction, string> = {
  FR: 'C. com. L441-10',
  EU: 'Directive 2011/7/EU art. 2(6)',
  BE: 'loi du 2 août 2002',
  ES: 'Ley 3/2004',
  IT: 'D.Lgs. 231/2002',
  DE: 'BGB §288',
  GB: 'Late Payment of Commercial Debts (Interest) Act 1998',
};

const EUR_INDEMNITY = 4000n;
/** s.5A LPCDIA 1998: fixed sum by size of the debt, in pence. */
export function ukFixedSum(amountMinor: bigint): bigint {
  if (amountMinor < 100_000n) return 4000n;
  if (amountMinor < 1_000_000n) return 7000n;
  return 10_000n;
}

/**
 * Resolved rates per rate-table object, keyed by regime × 100,000 + half-year index: a million
 * invoices share a few dozen half-years, so each is looked up and described once.
 */
const cache = new WeakMap<RateTables, Map<number, Resolved>>();

function cacheFor(tables: RateTables): Map<number, Resolved> {
  let m = cache.get(tables);
  if (!m) {
    m = new Map();
    cache.set(tables, m);
  }
  return m;
}

/** Regimes that take a reference rate per half-year plus a margin. */
interface Regime {
  table: RateTableName;
  margin: bigint;
  law: string;
}
const REGIMES: readonly Regime[] = [
  { table: 'ecb-mro', margin: 10n, law: 'C. com. L441-10' },
  { table: 'fr-taux-legal-autres', margin: 0n, law: 'C. civ. 1231-6' },
  { table: 'fr-taux-legal-particulier', margin: 0n, law: 'C. civ. 1231-6' },
  { table: 'ecb-mro', margin: 8n, law: 'Directive 2011/7/EU art. 2(6)' },
  { table: 'ecb-mro', margin: 8n, law: 'loi du 2 août 2002' },
  { table: 'ecb-mro', margin: 8n, law: 'Ley 3/2004' },
  { table: 'ecb-mro', margin: 8n, law: 'D.Lgs. 231/2002' },
  { table: 'de-basiszinssatz', margin: 9n, law: 'BGB §288(2)' },
  { table: 'de-basiszinssatz', margin: 5n, law: 'BGB §288(1)' },
];
const REGIME_GB = 20;
const REGIME_FLOOR = 21;

function regimeOf(jurisdiction: Jurisdiction, consumer: boolean, creditorKind: CreditorKind): number {
  switch (jurisdiction) {
    case 'FR':
      return consumer ? (creditorKind === 'individual' ? 2 : 1) : 0;
    case 'EU':
      return 3;
    case 'BE':
      return 4;
    case 'ES':
      return 5;
    case 'IT':
      return 6;
    case 'DE':
      return consumer ? 8 : 7;
    default:
      return REGIME_GB;
  }
}

function provisionalNote(l: RateLookup, period: string, applied: bigint): LawNote | undefined {
  if (!l.provisional) return undefined;
  return {
    key: 'provisional_rate',
    vars: { table: l.table, on: l.on, knownThrough: l.knownThrough, period, assumed: l.ratePercent, since: l.entry.from, applied: formatRatePercent(applied) },
  };
}

const semesterPeriod = (sem: number) => `${semesterLabel(sem)} (${semesterStart(sem)} – ${semesterEnd(sem)})`;

/** Reference rate of a half-year plus a margin: FR/EU/BE/ES/IT (ECB), DE (Basiszinssatz), FR consumers (taux légal). */
function semesterRate(c: Map<number, Resolved>, tables: RateTables, regime: number, sem: number): Resolved {
  const key = regime * 100_000 + sem;
  const hit = c.get(key);
  if (hit) return hit;
  const { table, margin, law } = REGIMES[regime]!;
  const l = rateOnDay(tables, table, semesterStartDay(sem));
  const scaled = l.scaled + margin * RATE_SCALE;
  const vars = { rate: l.ratePercent, on: l.on, margin: String(margin), law, semester: semesterLabel(sem) };
  const sourceNote: LawNote =
    table === 'ecb-mro'
      ? { key: 'source_ecb', vars }
      : table === 'de-basiszinssatz'
        ? { key: 'source_basiszins', vars }
        : { key: 'source_taux_legal', vars: { ...vars, category: table === 'fr-taux-legal-autres' ? 'autres cas' : 'créancier particulier' } };
  const r = resolved(scaled, sourceNote, l.provisional, provisionalNote(l, semesterPeriod(sem), scaled));
  c.set(key, r);
  return r;
}

function resolved(scaled: bigint, sourceNote: LawNote, provisional: boolean, note: LawNote | undefined): Resolved {
  return { scaled, percent: formatRatePercent(scaled), source: renderLawNote(sourceNote, 'en'), sourceNote, provisional, note };
}

/** GB: Bank Rate on 31 December (interest starting January–June) or 30 June (July–December), + 8. */
function ukRate(c: Map<number, Resolved>, tables: RateTables, startSem: number): Resolved {
  const key = REGIME_GB * 100_000 + startSem;
  const hit = c.get(key);
  if (hit) return hit;
  const year = Math.floor(startSem / 2);
  const refDay = startSem % 2 === 0 ? civilToDay(year - 1, 12, 31) : civilToDay(year, 6, 30);
  const l = rateOnDay(tables, 'boe-bank-rate', refDay);
  const scaled = l.scaled + 8n * RATE_SCALE;
  const sourceNote: LawNote = { key: 'source_boe', vars: { rate: l.ratePercent, on: l.on } };
  const r = resolved(scaled, sourceNote, l.provisional, provisionalNote(l, semesterPeriod(startSem), scaled));
  r.info = { key: 'gb_fixed_rate', vars: { refDate: fromDay(refDay) } };
  c.set(key, r);
  return r;
}

/** FR: a contractual rate must be at least 3 × the taux légal "autres cas" of the half-year (L441-10). */
function frenchFloor(c: Map<number, Resolved>, tables: RateTables, sem: number): Resolved {
  const key = REGIME_FLOOR * 100_000 + sem;
  const hit = c.get(key);
  if (hit) return hit;
  const l = rateOnDay(tables, 'fr-taux-legal-autres', semesterStartDay(sem));
  const sourceNote: LawNote = { key: 'source_floor', vars: { rate: l.ratePercent, semester: semesterLabel(sem) } };
  const r = resolved(l.scaled * 3n, sourceNote, l.provisional, provisionalNote(l, semesterPeriod(sem), l.scaled));
  c.set(key, r);
  return r;
}

const roundingRules = new Map<string, string>();
function roundingRule(dayCount: LateFeeRules['dayCount']): string {
  let r = roundingRules.get(dayCount);
  if (!r) {
    r = t(LAW_MESSAGES, 'en', 'rounding_rule', { basis: dayCount === '365' ? '365' : '365 or 366 (leap year)' });
    roundingRules.set(dayCount, r);
  }
  return r;
}

const CURRENCY_RE = /^[A-Z]{3}$/;
const NOTE_NEEDS_NOTICE: LawNote = { key: 'consumer_needs_notice', vars: {} };
const NOTE_DE_CONSUMER: LawNote = { key: 'de_consumer_from_due', vars: {} };
const NOTE_NO_INDEMNITY: LawNote = { key: 'consumer_no_indemnity', vars: {} };
const NOT_COVERED: Partial<Record<Jurisdiction, LawNote>> = {};
for (const j of JURISDICTIONS) NOT_COVERED[j] = { key: 'consumer_not_covered', vars: { law: LAW_LABEL[j] } };

const english = new WeakMap<LawNote, string>();
function inEnglish(n: LawNote): string {
  let s = english.get(n);
  if (s === undefined) {
    s = renderLawNote(n, 'en');
    english.set(n, s);
  }
  return s;
}

function addNote(notes: LawNote[], n: LawNote | undefined): void {
  if (n && !notes.includes(n)) notes.push(n);
}

interface DatedAmount {
  day: number;
  amount: bigint;
}
const byDay = (a: DatedAmount, b: DatedAmount) => a.day - b.day;

/** Late-payment interest and fixed compensation for one invoice. Pure: the rates are a parameter. */
export function computeLateFees(input: LateFeeInput, rates: RateTables): LateFeeResult {
  const { jurisdiction, debtor, currency, amountMinor } = input;
  if (!Object.hasOwn(LAW_LABEL, jurisdiction)) {
    throw validation(E('jurisdiction', { jurisdiction: String(jurisdiction), known: JURISDICTIONS.join(', ') }), { field: 'jurisdiction' });
  }
  if (debtor !== 'business' && debtor !== 'consumer') throw validation(E('debtor', { debtor: String(debtor) }), { field: 'debtor' });
  if (typeof currency !== 'string' || !CURRENCY_RE.test(currency)) throw validation(E('currency', { currency: String(currency) }), { field: 'currency' });
  if (typeof amountMinor !== 'bigint' || amountMinor < 0n) throw validation(E('amount'), { field: 'amountMinor' });
  const creditorKind = input.creditorKind ?? 'professional';
  if (creditorKind !== 'professional' && creditorKind !== 'individual') {
    throw validation(E('creditor_kind', { kind: String(creditorKind) }), { field: 'creditorKind' });
  }
  const rules: LateFeeRules = input.rules ? { ...DEFAULT_LATE_FEE_RULES, ...input.rules } : DEFAULT_LATE_FEE_RULES;
  if (rules.dayCount !== '365' && rules.dayCount !== 'actual') throw validation(E('day_count'), { field: 'rules.dayCount' });
  const dueDay = toDay(input.dueDate, { field: 'dueDate' });
  const untilDay = toDay(input.until, { field: 'until' });
  const noticeDay = input.noticeDate === undefined ? undefined : toDay(input.noticeDate, { field: 'noticeDate' });

  const pays: DatedAmount[] = [];
  const inputPayments = input.payments;
  if (inputPayments) {
    for (let i = 0; i < inputPayments.length; i++) {
      const p = inputPayments[i]!;
      if (typeof p.amountMinor !== 'bigint' || p.amountMinor <= 0n) {
        throw validation(E('payment_positive'), { field: `payments[${i}].amountMinor` });
      }
      pays.push({ day: toDay(p.date, { field: `payments[${i}].date` }), amount: p.amountMinor });
    }
    if (pays.length > 1) pays.sort(byDay);
  }

  const notes: LawNote[] = [];
  const c = cacheFor(rates);

  // The regime: which rate, from which day.
  const consumer = debtor === 'consumer';
  let contract: bigint | undefined;
  if (input.contractRatePercent !== undefined && input.contractRatePercent !== '') {
    contract = parseRatePercent(input.contractRatePercent, { field: 'contractRatePercent' });
    if (contract < 0n) throw validation(E('contract_negative'), { field: 'contractRatePercent' });
    if (consumer) {
      addNote(notes, { key: 'contract_rate_ignored_consumer', vars: { rate: formatRatePercent(contract) } });
      contract = undefined;
    }
  }
  let startDay = dueDay + 1;
  let covered = true;
  if (consumer) {
    if (jurisdiction === 'FR') {
      if (noticeDay === undefined) {
        covered = false;
        addNote(notes, NOTE_NEEDS_NOTICE);
      } else startDay = Math.max(dueDay, noticeDay) + 1;
    } else if (jurisdiction === 'DE') {
      addNote(notes, NOTE_DE_CONSUMER);
    } else {
      covered = false;
      addNote(notes, NOT_COVERED[jurisdiction]);
    }
  }

  const startSem = semesterOfDay(startDay);
  const regime = regimeOf(jurisdiction, consumer, creditorKind);
  let fixed: Resolved | undefined;
  if (contract !== undefined) {
    fixed = resolved(contract, { key: 'source_contract', vars: { rate: formatRatePercent(contract) } }, false, undefined);
  } else if (regime === REGIME_GB && covered) {
    fixed = ukRate(c, rates, startSem);
    addNote(notes, fixed.info);
  }

  // Late at all? Payments on or before the due date count; the 40 EUR is owed from the first day late.
  let pi = 0;
  let paid = 0n;
  while (pi < pays.length && pays[pi]!.day <= dueDay) paid += pays[pi++]!.amount;
  const late = untilDay > dueDay && amountMinor - paid > 0n;

  const periods: LateFeePeriod[] = [];
  let interest = 0n;
  let provisional = false;
  if (late && covered) {
    // The UK rate is fixed for the debt: periods change only with payments.
    const split = rules.semesterSplit && regime !== REGIME_GB;
    const checkFrenchFloor = contract !== undefined && jurisdiction === 'FR';
    let cursor = startDay;
    while (cursor <= untilDay) {
      while (pi < pays.length && pays[pi]!.day < cursor) paid += pays[pi++]!.amount;
      const base = amountMinor - paid;
      if (base <= 0n) break;
      const sem = semesterOfDay(cursor);
      let end = untilDay;
      if (split || rules.dayCount === 'actual') {
        const boundary = split ? semesterStartDay(sem + 1) - 1 : civilToDay(Math.floor(sem / 2) + 1, 1, 1) - 1;
        if (boundary < end) end = boundary;
      }
      if (pi < pays.length && pays[pi]!.day < end) end = pays[pi]!.day;
      const days = end - cursor + 1;
      const r = fixed ?? semesterRate(c, rates, regime, rules.semesterSplit ? sem : startSem);
      if (checkFrenchFloor) checkFloor(c, rates, contract!, sem, notes);
      const basis = rules.dayCount === '365' ? 365n : BigInt(daysInYear(dayToCivil(cursor)[0]));
      const scaled = r.scaled > 0n ? r.scaled : 0n;
      const amount = divRoundHalfUp(base * scaled * BigInt(days), 100n * RATE_SCALE * basis);
      interest += amount;
      if (r.provisional) {
        provisional = true;
        addNote(notes, r.note);
      }
      periods.push({
        from: fromDay(cursor),
        to: fromDay(end),
        days,
        ratePercent: r.percent,
        baseMinor: base,
        interestMinor: amount,
        rateSource: r.source,
        rateSourceDetail: r.sourceNote,
        provisional: r.provisional,
      });
      cursor = end + 1;
    }
  }

  let indemnity = 0n;
  if (late && !consumer) {
    const fixedCurrency = jurisdiction === 'GB' ? 'GBP' : 'EUR';
    const sum = jurisdiction === 'GB' ? ukFixedSum(amountMinor) : EUR_INDEMNITY;
    if (currency === fixedCurrency) indemnity = sum;
    else addNote(notes, { key: 'indemnity_other_currency', vars: { amount: `${toDecimalString(sum)} ${fixedCurrency}`, fixedCurrency, currency } });
  } else if (late && consumer && jurisdiction === 'FR') addNote(notes, NOTE_NO_INDEMNITY);

  return {
    interestMinor: interest,
    indemnityMinor: indemnity,
    totalMinor: interest + indemnity,
    currency,
    periods,
    provisional,
    notes: notes.length ? notes.map(inEnglish) : [],
    noteDetails: notes,
    roundingRule: roundingRule(rules.dayCount),
    daysLate: late ? untilDay - dueDay : 0,
  };
}

function checkFloor(c: Map<number, Resolved>, rates: RateTables, contract: bigint, sem: number, notes: LawNote[]): void {
  const floor = frenchFloor(c, rates, sem);
  if (floor.provisional) addNote(notes, floor.note);
  if (contract < floor.scaled) {
    throw new RelanceError(
      ERROR_CODES.LEGAL_RULE,
      E('below_floor', {
        rate: formatRatePercent(contract),
        floor: floor.percent,
        semester: semesterLabel(sem),
        source: floor.source,
        provisional: floor.provisional ? E('floor_provisional') : '',
      }),
      {
        where: { field: 'contractRatePercent' },
        details: { contractRatePercent: formatRatePercent(contract), floorPercent: floor.percent, semester: semesterLabel(sem) },
      },
    );
  }
}
