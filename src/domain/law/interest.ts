/**
 * Statutory late-payment interest and fixed recovery compensation, by jurisdiction and date.
 *
 * Rules (docs/law.md §1–4 and §7):
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
import { allRegimes, indemnityFor, type InterestRule, type Regime, type RegimeDecision, regimeOf } from './regimes.ts';

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

/** Choices the law leaves open (docs/law.md §1, "choice"); the defaults follow French practice. */
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

/** s.5A LPCDIA 1998: the UK fixed sum by size of the debt, in pence (the GB regime's bands). */
export function ukFixedSum(amountMinor: bigint): bigint {
  return indemnityFor(regimeOf('GB', 'business')!.indemnity!, amountMinor);
}

/**
 * Resolved rates per rate-table object, keyed by regime (and creditor kind) × 100,000 + half-year
 * index: a million invoices share a few dozen half-years, so each is looked up and described once.
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

/** A stable number per regime, for the cache keys (the French floor has its own). */
const REGIME_INDEX = new Map<Regime, number>(allRegimes().map((r, i) => [r, i]));
const FLOOR_KEY = 1_000;

/** The reference table of a regime's interest: the French taux légal depends on who the creditor is. */
function referenceTable(rule: InterestRule, creditorKind: CreditorKind): RateTableName {
  return typeof rule.table === 'string' ? rule.table : rule.table[creditorKind];
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
function semesterRate(c: Map<number, Resolved>, tables: RateTables, regime: Regime, creditorKind: CreditorKind, sem: number): Resolved {
  const key = (REGIME_INDEX.get(regime)! * 2 + (creditorKind === 'individual' ? 1 : 0)) * 100_000 + sem;
  const hit = c.get(key);
  if (hit) return hit;
  const rule = regime.interest!;
  const table = referenceTable(rule, creditorKind);
  const l = rateOnDay(tables, table, semesterStartDay(sem));
  const scaled = l.scaled + rule.marginPoints * RATE_SCALE;
  const vars = { rate: l.ratePercent, on: l.on, margin: String(rule.marginPoints), law: rule.law, semester: semesterLabel(sem) };
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

/** A rate fixed for the debt (GB): Bank Rate on 31 December (interest starting January–June) or 30 June (July–December), + the margin. */
function perDebtRate(c: Map<number, Resolved>, tables: RateTables, regime: Regime, startSem: number): Resolved {
  const key = REGIME_INDEX.get(regime)! * 2 * 100_000 + startSem;
  const hit = c.get(key);
  if (hit) return hit;
  const rule = regime.interest!;
  const year = Math.floor(startSem / 2);
  const refDay = startSem % 2 === 0 ? civilToDay(year - 1, 12, 31) : civilToDay(year, 6, 30);
  const l = rateOnDay(tables, referenceTable(rule, 'professional'), refDay);
  const scaled = l.scaled + rule.marginPoints * RATE_SCALE;
  const sourceNote: LawNote = { key: 'source_boe', vars: { rate: l.ratePercent, on: l.on } };
  const r = resolved(scaled, sourceNote, l.provisional, provisionalNote(l, semesterPeriod(startSem), scaled));
  r.info = { key: 'gb_fixed_rate', vars: { refDate: fromDay(refDay) } };
  c.set(key, r);
  return r;
}

/** FR: a contractual rate must be at least 3 × the taux légal "autres cas" of the half-year (L441-10). */
function frenchFloor(c: Map<number, Resolved>, tables: RateTables, sem: number): Resolved {
  const key = FLOOR_KEY * 100_000 + sem;
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
/** A regime's own notes, made once (notes are compared by identity). */
const REGIME_NOTES = new Map<Regime, { always: LawNote[]; whenLate: LawNote[] }>();
for (const r of allRegimes()) {
  REGIME_NOTES.set(r, { always: (r.notes?.always ?? []).map((key) => ({ key, vars: {} })), whenLate: (r.notes?.whenLate ?? []).map((key) => ({ key, vars: {} })) });
}
/** Per consumer regime without interest rules: "the B2B rules (<law>) do not apply". */
const NOT_COVERED = new Map<Regime, LawNote>();
for (const r of allRegimes()) {
  if (r.interest === null) NOT_COVERED.set(r, { key: 'consumer_not_covered', vars: { law: regimeOf(r.jurisdiction, 'business')?.interest?.law ?? r.jurisdiction } });
}

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
  if (!(JURISDICTIONS as readonly string[]).includes(jurisdiction)) {
    throw validation(E('jurisdiction', { jurisdiction: String(jurisdiction), known: JURISDICTIONS.join(', ') }), { field: 'jurisdiction' });
  }
  if (debtor !== 'business' && debtor !== 'consumer') throw validation(E('debtor', { debtor: String(debtor) }), { field: 'debtor' });
  const regime = regimeOf(jurisdiction, debtor)!;
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
  let contract: bigint | undefined;
  if (input.contractRatePercent !== undefined && input.contractRatePercent !== '') {
    contract = parseRatePercent(input.contractRatePercent, { field: 'contractRatePercent' });
    if (contract < 0n) throw validation(E('contract_negative'), { field: 'contractRatePercent' });
    if (regime.contractRate === 'ignored') {
      addNote(notes, { key: 'contract_rate_ignored_consumer', vars: { rate: formatRatePercent(contract) } });
      contract = undefined;
    }
  }
  const rule = regime.interest;
  let startDay = dueDay + 1;
  let covered = rule !== null;
  if (rule === null) addNote(notes, NOT_COVERED.get(regime));
  else if (rule.runsFrom === 'formal-notice') {
    if (noticeDay === undefined) {
      covered = false;
      addNote(notes, NOTE_NEEDS_NOTICE);
    } else startDay = Math.max(dueDay, noticeDay) + 1;
  }
  const own = REGIME_NOTES.get(regime)!;
  for (const n of own.always) addNote(notes, n);

  const startSem = semesterOfDay(startDay);
  const perDebt = rule !== null && rule.fixing === 'per-debt';
  let fixed: Resolved | undefined;
  if (contract !== undefined) {
    fixed = resolved(contract, { key: 'source_contract', vars: { rate: formatRatePercent(contract) } }, false, undefined);
  } else if (perDebt && covered) {
    fixed = perDebtRate(c, rates, regime, startSem);
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
    // A rate fixed for the debt (UK): periods change only with payments.
    const split = rules.semesterSplit && !perDebt;
    const checkFrenchFloor = contract !== undefined && regime.contractRate === 'floor';
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
      const r = fixed ?? semesterRate(c, rates, regime, creditorKind, rules.semesterSplit ? sem : startSem);
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
  if (late && regime.indemnity) {
    const fixedCurrency = regime.indemnity.currency;
    const sum = indemnityFor(regime.indemnity, amountMinor);
    if (currency === fixedCurrency) indemnity = sum;
    else addNote(notes, { key: 'indemnity_other_currency', vars: { amount: `${toDecimalString(sum)} ${fixedCurrency}`, fixedCurrency, currency } });
  }
  if (late) for (const n of own.whenLate) addNote(notes, n);

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

/** A debt as the ledger knows it, for `lateFeesUnder`. */
export interface LedgerDebt {
  currency: string;
  amountMinor: bigint;
  dueDate: CalendarDate;
  until: CalendarDate;
  payments?: { date: CalendarDate; amountMinor: bigint }[];
  noticeDate?: CalendarDate;
}

/**
 * The late fees of a debt under the regime decided for its parties (decideRegime): every surface
 * (documents, dashboard, customer screen, penalty statements) computes through here, so they agree.
 */
export function lateFeesUnder(decision: RegimeDecision, debt: LedgerDebt, rates: RateTables): LateFeeResult {
  return computeLateFees(
    {
      jurisdiction: decision.jurisdiction,
      debtor: decision.debtor,
      currency: debt.currency,
      amountMinor: debt.amountMinor,
      dueDate: debt.dueDate,
      until: debt.until,
      ...(debt.payments ? { payments: debt.payments } : {}),
      ...(decision.contractRatePercent ? { contractRatePercent: decision.contractRatePercent } : {}),
      ...(debt.noticeDate ? { noticeDate: debt.noticeDate } : {}),
    },
    rates,
  );
}
