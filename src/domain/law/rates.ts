/**
 * Dated rate tables. Every legal rate the late-payment rules need is data with a date, never a
 * constant in code: the tables below ship with Relance, an operator adds newer rates (stored in
 * rate_overrides, merged with `withOverrides`), and a lookup past what a table knows still answers
 * with the latest known rate but says so (`provisional`), so nothing is ever silently guessed.
 *
 * Rates are exact decimal strings ("2.15"), held as bigint scaled by RATE_SCALE (1/10,000 of a
 * percentage point): "13.15" -> 131500n. No float ever holds a rate.
 */
import { type CalendarDate, maxDate } from '../dates.ts';
import { ERROR_CODES, RelanceError, validation, type ErrorPlace } from '../../errors.ts';
import { fromDay, semesterEnd, semesterOfDay, toDay } from './calendar.ts';
import { defineErrors } from '../../i18n/index.ts';

const E = defineErrors('law-rates', {
  not_rate: { fr: "« {text} » n’est pas un taux en pourcentage (par exemple 2.15, au plus 4 décimales)", en: "\"{text}\" is not a rate in percent (e.g. 2.15, at most 4 decimals)" },
  unknown_table: { fr: "table de taux inconnue « {table} » ; tables connues : {known}", en: "unknown rate table \"{table}\"; known tables: {known}" },
  range: { fr: "le taux {rate} % est hors de l’intervalle -100..100", en: "rate {rate} % is outside -100..100" },
  half_year: { fr: "{table} est fixé par semestre : ses taux commencent le 1er janvier ou le 1er juillet, pas le {from}", en: "{table} is set per half-year: its rates start on 1 January or 1 July, not {from}" },
  unknown_date: { fr: "aucun taux {table} n’est connu pour le {date} (la table commence le {first}) ; ajoutez-le avec : relance rates set --table {table} --from <date> --rate <taux>", en: "no {table} rate is known for {date} (the table starts on {first}); add it with: relance rates set --table {table} --from <date> --rate <rate>" },
});

/** A rate of 1 % is RATE_SCALE; four decimals of a percentage point are representable. */
export const RATE_SCALE = 10_000n;

const RATE_RE = /^(-?)(\d{1,3})(?:[.,](\d{1,4}))?$/;

/** "2.15" or "2,15" -> 21500n. More than four decimals is refused, not rounded. */
export function parseRatePercent(text: string, where?: ErrorPlace): bigint {
  const m = RATE_RE.exec(String(text).trim().replace(/\s*%$/, ''));
  if (!m) throw validation(E('not_rate', { text }), where);
  const v = BigInt(m[2]!) * RATE_SCALE + BigInt((m[3] ?? '').padEnd(4, '0'));
  return m[1] === '-' ? -v : v;
}

/** 131500n -> "13.15"; at least two decimals, trailing zeros beyond them dropped. */
export function formatRatePercent(scaled: bigint): string {
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  const int = abs / RATE_SCALE;
  let frac = (abs % RATE_SCALE).toString().padStart(4, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${neg ? '-' : ''}${int}.${frac}`;
}

export const RATE_TABLE_NAMES = ['ecb-mro', 'fr-taux-legal-particulier', 'fr-taux-legal-autres', 'de-basiszinssatz', 'boe-bank-rate'] as const;
export type RateTableName = (typeof RATE_TABLE_NAMES)[number];

export interface RateWarning {
  table: RateTableName;
  /** Last day the table is known for: past it, the latest known rate is assumed. */
  knownThrough: CalendarDate;
  /** The regimes of this organisation's overdue debts that need it ("fr-business", "de-business"). */
  regimes: string[];
}


export function isRateTableName(s: string): s is RateTableName {
  return (RATE_TABLE_NAMES as readonly string[]).includes(s);
}

export interface RateEntry {
  /** First day the rate is in force. */
  from: CalendarDate;
  ratePercent: string;
  /** Where the value comes from, as precisely as known (the publication, or "operator"). */
  source: string;
  origin: 'shipped' | 'operator';
}

export interface RateTable {
  name: RateTableName;
  description: string;
  /**
   * 'semester': one rate per half-year, entries start on 1 January or 1 July and are known to the
   * end of their half-year (French taux légal, German Basiszinssatz).
   * 'changes': a policy rate that changes on any date (ECB, Bank of England); it is known up to
   * `knownThrough`, after which it may have changed without the table knowing.
   */
  kind: 'semester' | 'changes';
  /** Last day for which the table is known to give the rate in force. */
  knownThrough: CalendarDate;
  entries: readonly RateEntry[];
}

export type RateTables = { readonly [K in RateTableName]: RateTable };

/** One rate an operator added (`relance rates set`), as stored in rate_overrides. */
export interface RateOverride {
  table: RateTableName;
  from: CalendarDate;
  ratePercent: string;
  note?: string | null;
}

const d = (s: string) => s as CalendarDate;
const shipped = (from: string, ratePercent: string, source: string): RateEntry => ({ from: d(from), ratePercent, source, origin: 'shipped' });

const ECB_SRC = 'ECB press release (date the rate took effect); values from 2023-09-20 checked against the bsi.si table (docs/rates.md)';
const ECB_2023 =
  'ECB press release (date the rate took effect): consistent with the Basiszinssatz moves (§247 BGB) and the French default rates 12.50 % (2023-H1) / 14.00 % (2023-H2) (docs/rates.md)';
const TL_SRC_2023 = 'arrêté du 26-12-2022 (2023-H1) / arrêté du 27-06-2023, JO 30-06-2023 (2023-H2); secondary sources notaires2normandie.com, legifiscal.fr';
const BUBA = 'Deutsche Bundesbank, Bundesanzeiger (§247 BGB)';
const BOE = 'Bank of England, Bank Rate history (MPC decision date)';

const SHIPPED: RateTables = {
  'ecb-mro': {
    name: 'ecb-mro',
    description: 'ECB main refinancing operations rate (fixed rate tenders), by the date each change took effect',
    kind: 'changes',
    // The last value confirmed (docs/rates.md) is the rate in force on 1 January 2026 (2.15 %, unchanged on
    // 18-12-2025); whether it changed before 1 July 2026 is not known here.
    knownThrough: d('2026-01-01'),
    entries: [
      shipped('2022-12-21', '2.50', ECB_2023),
      shipped('2023-02-08', '3.00', ECB_2023),
      shipped('2023-03-22', '3.50', ECB_2023),
      shipped('2023-05-10', '3.75', ECB_2023),
      shipped('2023-06-21', '4.00', ECB_2023),
      shipped('2023-08-02', '4.25', ECB_2023),
      shipped('2023-09-20', '4.50', ECB_SRC),
      shipped('2024-06-12', '4.25', ECB_SRC),
      shipped('2024-09-18', '3.65', ECB_SRC),
      shipped('2024-10-23', '3.40', ECB_SRC),
      shipped('2024-12-18', '3.15', ECB_SRC),
      shipped('2025-02-05', '2.90', ECB_SRC),
      shipped('2025-03-12', '2.65', ECB_SRC),
      shipped('2025-04-23', '2.40', ECB_SRC),
      shipped('2025-06-11', '2.15', `${ECB_SRC}; unchanged on 18-12-2025 [V econotimes, finanzmarktnachrichten]`),
    ],
  },
  'fr-taux-legal-particulier': {
    name: 'fr-taux-legal-particulier',
    description: "Taux de l'intérêt légal, créances des personnes physiques n'agissant pas pour des besoins professionnels (C. mon. fin. L313-2)",
    kind: 'semester',
    knownThrough: d('2026-06-30'),
    entries: [
      shipped('2023-01-01', '4.47', TL_SRC_2023),
      shipped('2023-07-01', '6.82', TL_SRC_2023),
      shipped('2024-01-01', '8.01', 'secondary sources infonet.fr, medef.nc (docs/rates.md)'),
      shipped('2024-07-01', '8.16', 'secondary source bpifrance-creation (docs/rates.md)'),
      shipped('2025-01-01', '7.21', 'secondary source enligne.biz/legifiscal (docs/rates.md)'),
      shipped('2025-07-01', '6.65', 'secondary source enligne.biz/legifiscal (docs/rates.md)'),
      shipped('2026-01-01', '6.67', 'arrêté du 15-12-2025, JORF 26-12-2025 (docs/rates.md)'),
    ],
  },
  'fr-taux-legal-autres': {
    name: 'fr-taux-legal-autres',
    description: "Taux de l'intérêt légal, tous les autres cas (créancier professionnel)",
    kind: 'semester',
    knownThrough: d('2026-06-30'),
    entries: [
      shipped('2023-01-01', '2.06', TL_SRC_2023),
      shipped('2023-07-01', '4.22', TL_SRC_2023),
      shipped('2024-01-01', '5.07', 'secondary sources infonet.fr, medef.nc (docs/rates.md)'),
      shipped('2024-07-01', '4.92', 'secondary source bpifrance-creation (docs/rates.md)'),
      shipped('2025-01-01', '3.71', 'secondary source enligne.biz/legifiscal (docs/rates.md)'),
      shipped('2025-07-01', '2.76', 'secondary source enligne.biz/legifiscal (docs/rates.md)'),
      shipped('2026-01-01', '2.62', 'arrêté du 15-12-2025, JORF 26-12-2025 (docs/rates.md)'),
    ],
  },
  'de-basiszinssatz': {
    name: 'de-basiszinssatz',
    description: 'Basiszinssatz nach §247 BGB (Deutsche Bundesbank), je Halbjahr',
    kind: 'semester',
    knownThrough: d('2026-06-30'),
    entries: [
      // The values from 2023-07 to 2025-01 were not read in a publication: each follows from §247 BGB
      // (the rate moves by the change of the ECB MRO rate before the half-year) applied to the ECB
      // table above. The 2023-01-01 value is confirmed by secondary sources (stb-bruns.com,
      // anlegerschutz.blogspot.com); see docs/rates.md.
      shipped('2023-01-01', '1.62', `${BUBA}; secondary sources stb-bruns.com`),
      shipped('2023-07-01', '3.12', `${BUBA}; = 1.62 + (4.00 − 2.50) ECB MRO change`),
      shipped('2024-01-01', '3.62', `${BUBA}; = 3.12 + (4.50 − 4.00) ECB MRO change`),
      shipped('2024-07-01', '3.37', `${BUBA}; = 3.62 + (4.25 − 4.50) ECB MRO change`),
      shipped('2025-01-01', '2.27', `${BUBA}; = 3.37 + (3.15 − 4.25) ECB MRO change`),
      shipped('2025-07-01', '1.27', `${BUBA} (docs/rates.md)`),
      shipped('2026-01-01', '1.27', `${BUBA} (docs/rates.md)`),
    ],
  },
  'boe-bank-rate': {
    name: 'boe-bank-rate',
    description: 'Bank of England official Bank Rate, by the date each change took effect',
    kind: 'changes',
    // Only the rates on 30 June and 31 December matter (SI 2002/1675). A secondary source reports
    // Bank Rate held at 3.75 % in February 2026, so the 31-12-2025 value is settled; 30-06-2026 is not.
    knownThrough: d('2025-12-31'),
    entries: [
      shipped('2022-12-15', '3.50', BOE),
      shipped('2023-02-02', '4.00', BOE),
      shipped('2023-03-23', '4.25', BOE),
      shipped('2023-05-11', '4.50', BOE),
      shipped('2023-06-22', '5.00', BOE),
      shipped('2023-08-03', '5.25', `${BOE}; end-2023 5.25 % confirmed by focus-economics.com`),
      shipped('2024-08-01', '5.00', `${BOE}; cut 5.25 -> 5.00 (londondevelopmentsites.com)`),
      shipped('2024-11-07', '4.75', `${BOE}; end-2024 4.75 % confirmed by focus-economics.com`),
      shipped('2025-02-06', '4.50', `${BOE}; cut to 4.5 % (londondevelopmentsites.com)`),
      shipped('2025-05-08', '4.25', `${BOE}; "On 8 May ... to 4.25%" (focus-economics.com)`),
      shipped('2025-08-07', '4.00', `${BOE}; "On 7 August ... from 4.25% to 4.00%" (focus-economics.com)`),
      shipped('2025-12-18', '3.75', `${BOE}; 150 bp of cuts Aug 2024–Dec 2025, held at 3.75 % in Feb 2026 (focus-economics.com, secondary source)`),
    ],
  },
};

deepFreeze(SHIPPED);

function deepFreeze(o: object): void {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v);
  Object.freeze(o);
}

/**
 * The rate tables shipped with this version of Relance. Always the same frozen object, so lookups
 * compiled for it are reused across calls; `withOverrides` returns new objects instead of mutating.
 */
export function defaultRateTables(): RateTables {
  return SHIPPED;
}

/** Refuse a rate an operator could not mean: unknown table, impossible date, mid-semester start. */
export function validateRateOverride(o: { table: string; from: string; ratePercent: string }, where: ErrorPlace = {}): RateOverride {
  if (!isRateTableName(o.table)) {
    throw validation(E('unknown_table', { table: String(o.table), known: RATE_TABLE_NAMES.join(', ') }), { ...where, field: where.field ?? 'table' });
  }
  toDay(o.from, { ...where, field: 'from' });
  const scaled = parseRatePercent(o.ratePercent, { ...where, field: 'rate' });
  if (scaled < -100n * RATE_SCALE || scaled > 100n * RATE_SCALE) {
    throw validation(E('range', { rate: String(o.ratePercent) }), { ...where, field: 'rate' });
  }
  if (SHIPPED[o.table].kind === 'semester' && !/-(01|07)-01$/.test(o.from)) {
    throw validation(E('half_year', { table: o.table, from: o.from }), { ...where, field: 'from' });
  }
  return { table: o.table, from: o.from as CalendarDate, ratePercent: formatRatePercent(scaled) };
}

/**
 * The shipped tables with the operator's rates merged in. An operator rate for a date the table
 * already has replaces it (an operator may correct a value); a newer one extends what the table
 * knows: a half-year table then knows to the end of that half-year, a policy-rate table to that date.
 */
export function withOverrides(tables: RateTables, overrides: readonly RateOverride[]): RateTables {
  if (overrides.length === 0) return tables;
  const out = { ...tables } as Record<RateTableName, RateTable>;
  overrides.forEach((raw, i) => {
    const o = validateRateOverride(raw, { path: `overrides[${i}]` });
    const t = out[o.table];
    const entry: RateEntry = {
      from: o.from,
      ratePercent: o.ratePercent,
      source: raw.note ? `operator: ${raw.note}` : 'operator (relance rates set)',
      origin: 'operator',
    };
    const entries = t.entries.filter((e) => e.from !== o.from).concat(entry);
    entries.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    const covers = t.kind === 'semester' ? semesterEnd(semesterOfDay(toDay(o.from))) : o.from;
    out[o.table] = { ...t, entries, knownThrough: maxDate(covers, t.knownThrough) };
  });
  return out;
}

/** A table made ready for lookups: day numbers and scaled rates computed once per table object. */
interface Compiled {
  fromDays: number[];
  scaled: bigint[];
  knownThroughDay: number;
}
const compiled = new WeakMap<RateTable, Compiled>();

function compile(t: RateTable): Compiled {
  let c = compiled.get(t);
  if (!c) {
    c = {
      fromDays: t.entries.map((e) => toDay(e.from, { path: `${t.name}.${e.from}` })),
      scaled: t.entries.map((e) => parseRatePercent(e.ratePercent, { path: `${t.name}.${e.from}` })),
      knownThroughDay: toDay(t.knownThrough),
    };
    compiled.set(t, c);
  }
  return c;
}

export interface RateLookup {
  table: RateTableName;
  /** The day asked about. */
  on: CalendarDate;
  scaled: bigint;
  ratePercent: string;
  entry: RateEntry;
  /** True when `on` is past what the table knows: the latest known rate was assumed. */
  provisional: boolean;
  knownThrough: CalendarDate;
}

/** The rate of `table` in force on day `day` (a day number). */
export function rateOnDay(tables: RateTables, name: RateTableName, day: number): RateLookup {
  const t = tables[name];
  const c = compile(t);
  let i = c.fromDays.length - 1;
  while (i >= 0 && c.fromDays[i]! > day) i--;
  if (i < 0) {
    const first = t.entries[0]?.from ?? 'none';
    throw new RelanceError(
      ERROR_CODES.CONFIG,
      E('unknown_date', { table: name, date: fromDay(day), first }),
      { details: { table: name, date: fromDay(day) } },
    );
  }
  return {
    table: name,
    on: fromDay(day),
    scaled: c.scaled[i]!,
    ratePercent: t.entries[i]!.ratePercent,
    entry: t.entries[i]!,
    provisional: day > c.knownThroughDay,
    knownThrough: t.knownThrough,
  };
}

export function rateOn(tables: RateTables, name: RateTableName, date: CalendarDate): RateLookup {
  return rateOnDay(tables, name, toDay(date, { field: 'date' }));
}
