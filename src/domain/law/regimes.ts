/**
 * The late-payment regimes as data: for each jurisdiction and kind of debtor, which countries it
 * governs, how interest runs (reference rate table and margin, fixed per half-year or per debt,
 * from the due date or from the formal notice), whether a contractual rate may replace it, the
 * fixed compensation for recovery costs (flat, or by bands like the UK's), and the legal basis a
 * document cites, in French and English. `decideRegime` is the one entry point that picks the
 * regime of a debt from the organisation and the customer; the law engine (interest.ts), the
 * documents, the dashboard, the customer screen and `relance penalties` all go through it.
 *
 * Which law governs: the debtor's country when a regime of the table names it (France, Germany,
 * Belgium, Spain, Italy, the United Kingdom), the EU directive 2011/7/EU for a business in another
 * EU member state; otherwise the organisation's own. (A contract may choose another law: the
 * regime then is the one of that jurisdiction, given explicitly.) Adding a jurisdiction is one
 * entry here, its citations, and its rate table in rates.ts when it needs a new one.
 */
import type { DebtorKind, Jurisdiction } from './interest.ts';
import type { LawMessageKey } from './messages.ts';
import type { RateTableName } from './rates.ts';

export interface Citation {
  fr: string;
  en: string;
}

export interface InterestRule {
  /** The reference rate table; the French taux légal depends on who the creditor is. */
  table: RateTableName | { professional: RateTableName; individual: RateTableName };
  /** Percentage points added to the reference rate. */
  marginPoints: bigint;
  /**
   * 'half-year': the reference rate in force on 1 January (January–June) or 1 July (July–December);
   * 'per-debt': the rate in force on 31 December or 30 June before interest starts, fixed for the
   * whole debt (UK, SI 2002/1675).
   */
  fixing: 'half-year' | 'per-debt';
  /** From the day after the due date, or only from the formal notice (French consumers). */
  runsFrom: 'due-date' | 'formal-notice';
  /** Short label of the rule, in rate sources and notes: "C. com. L441-10". */
  law: string;
}

export interface IndemnityRule {
  currency: string;
  /** By size of the debt: the first band whose ceiling (exclusive) is above the amount; the last has none. */
  bands: ReadonlyArray<{ belowMinor: bigint | null; amountMinor: bigint }>;
}

export interface Regime {
  id: string;
  jurisdiction: Jurisdiction;
  /** ISO 3166-1 alpha-2 countries of the debtor it governs ([] : only when named). */
  countries: readonly string[];
  debtor: DebtorKind;
  /** null: late-payment interest rules do not apply to this debtor (consumers in most jurisdictions). */
  interest: InterestRule | null;
  /**
   * 'floor': a contractual rate replaces the statutory one but may not be below 3 × the French taux
   * légal "autres cas" of each half-year (L441-10); 'allowed': it replaces it; 'ignored': a consumer
   * owes the statutory rate whatever the contract says.
   */
  contractRate: 'floor' | 'allowed' | 'ignored';
  indemnity: IndemnityRule | null;
  /** What the computation always explains (notes), and what it adds when the debt is late. */
  notes?: { always?: readonly LawMessageKey[]; whenLate?: readonly LawMessageKey[] };
  /** What a document says, in the debtor's language: the rule, the compensation, and where the law says so. */
  basis: {
    /** Where the rule is written, to follow "under …" / "conformément à …". */
    law: Citation;
    /** How interest runs (rate and start), without the citation. */
    interest: Citation | null;
    /** The compensation in words ("40 € par facture"), without the citation. */
    indemnity: Citation | null;
    /** Where the compensation is written, when not in `law`. */
    indemnityLaw: Citation | null;
  };
}

const EUR_40: IndemnityRule = { currency: 'EUR', bands: [{ belowMinor: null, amountMinor: 4000n }] };

/** Member states of the EU other than those with a regime of their own below. */
export const EU_DIRECTIVE_COUNTRIES = [
  'AT', 'BG', 'CY', 'CZ', 'DK', 'EE', 'FI', 'GR', 'HR', 'HU', 'IE', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
] as const;

/** France and the overseas departments and collectivities where French civil and commercial law applies. */
const FRANCE = ['FR', 'GP', 'MQ', 'GF', 'RE', 'YT', 'PM', 'BL', 'MF'] as const;

const EU8 = (law: string): InterestRule => ({ table: 'ecb-mro', marginPoints: 8n, fixing: 'half-year', runsFrom: 'due-date', law });

export const REGIMES: readonly Regime[] = [
  {
    id: 'fr-business',
    jurisdiction: 'FR',
    countries: FRANCE,
    debtor: 'business',
    interest: { table: 'ecb-mro', marginPoints: 10n, fixing: 'half-year', runsFrom: 'due-date', law: 'C. com. L441-10' },
    contractRate: 'floor',
    indemnity: EUR_40,
    basis: {
      law: { fr: 'l’article L441-10 du Code de commerce', en: 'article L441-10 of the French Commercial Code' },
      interest: {
        fr: 'taux de refinancement de la Banque centrale européenne majoré de 10 points, en intérêts simples sur le montant TTC, à compter du lendemain de l’échéance',
        en: 'European Central Bank refinancing rate plus 10 percentage points, simple interest on the amount including tax, from the day after the due date',
      },
      indemnity: { fr: '40 € par facture payée en retard', en: '€40 per invoice paid late' },
      indemnityLaw: { fr: 'article D441-5 du Code de commerce', en: 'article D441-5 of the French Commercial Code' },
    },
  },
  {
    id: 'fr-consumer',
    jurisdiction: 'FR',
    countries: FRANCE,
    debtor: 'consumer',
    interest: {
      table: { professional: 'fr-taux-legal-autres', individual: 'fr-taux-legal-particulier' },
      marginPoints: 0n,
      fixing: 'half-year',
      runsFrom: 'formal-notice',
      law: 'C. civ. 1231-6',
    },
    contractRate: 'ignored',
    indemnity: null,
    // CPCE L111-8: amicable collection costs stay with the creditor.
    notes: { whenLate: ['consumer_no_indemnity'] },
    basis: {
      law: { fr: 'les articles 1231-6 et 1344-1 du Code civil', en: 'articles 1231-6 and 1344-1 of the French Civil Code' },
      // Runs from the formal notice: the notice itself says so ("from the date of this notice").
      interest: { fr: 'taux de l’intérêt légal', en: 'French statutory rate of interest' },
      indemnity: null,
      indemnityLaw: null,
    },
  },
  {
    id: 'de-business',
    jurisdiction: 'DE',
    countries: ['DE'],
    debtor: 'business',
    interest: { table: 'de-basiszinssatz', marginPoints: 9n, fixing: 'half-year', runsFrom: 'due-date', law: 'BGB §288(2)' },
    contractRate: 'allowed',
    indemnity: EUR_40,
    basis: {
      law: { fr: 'le § 288 du Code civil allemand', en: 'section 288 of the German Civil Code' },
      interest: {
        fr: 'taux de base publié par la Bundesbank majoré de 9 points, à compter du lendemain de l’échéance',
        en: 'base rate published by the Bundesbank plus 9 percentage points, from the day after the due date',
      },
      indemnity: { fr: '40 € par facture payée en retard', en: '€40 per invoice paid late' },
      indemnityLaw: { fr: '§ 288, alinéa 5, du Code civil allemand', en: 'section 288(5) of the German Civil Code' },
    },
  },
  {
    id: 'de-consumer',
    jurisdiction: 'DE',
    countries: ['DE'],
    debtor: 'consumer',
    interest: { table: 'de-basiszinssatz', marginPoints: 5n, fixing: 'half-year', runsFrom: 'due-date', law: 'BGB §288(1)' },
    contractRate: 'ignored',
    indemnity: null,
    // BGB §286(2) no. 1: from the due date when it is a calendar date, else after a reminder.
    notes: { always: ['de_consumer_from_due'] },
    basis: {
      law: { fr: 'le § 288 du Code civil allemand', en: 'section 288 of the German Civil Code' },
      interest: {
        fr: 'taux de base publié par la Bundesbank majoré de 5 points, à compter du lendemain de l’échéance',
        en: 'base rate published by the Bundesbank plus 5 percentage points, from the day after the due date',
      },
      indemnity: null,
      indemnityLaw: null,
    },
  },
  {
    id: 'be-business',
    jurisdiction: 'BE',
    countries: ['BE'],
    debtor: 'business',
    interest: EU8('loi du 2 août 2002'),
    contractRate: 'allowed',
    indemnity: EUR_40,
    basis: {
      law: {
        fr: 'la loi belge du 2 août 2002 concernant la lutte contre le retard de paiement dans les transactions commerciales',
        en: 'the Belgian Act of 2 August 2002 on combating late payment in commercial transactions',
      },
      interest: {
        fr: 'taux directeur de la Banque centrale européenne majoré de 8 points, à compter du lendemain de l’échéance',
        en: 'European Central Bank reference rate plus 8 percentage points, from the day after the due date',
      },
      indemnity: { fr: '40 € par facture payée en retard', en: '€40 per invoice paid late' },
      indemnityLaw: null,
    },
  },
  {
    id: 'es-business',
    jurisdiction: 'ES',
    countries: ['ES'],
    debtor: 'business',
    interest: EU8('Ley 3/2004'),
    contractRate: 'allowed',
    indemnity: EUR_40,
    basis: {
      law: { fr: 'la loi espagnole 3/2004 du 29 décembre 2004', en: 'Spanish Act 3/2004 of 29 December 2004' },
      interest: {
        fr: 'taux de la Banque centrale européenne majoré de 8 points, à compter du lendemain de l’échéance',
        en: 'European Central Bank rate plus 8 percentage points, from the day after the due date',
      },
      indemnity: { fr: '40 € par facture payée en retard', en: '€40 per invoice paid late' },
      indemnityLaw: null,
    },
  },
  {
    id: 'it-business',
    jurisdiction: 'IT',
    countries: ['IT'],
    debtor: 'business',
    interest: EU8('D.Lgs. 231/2002'),
    contractRate: 'allowed',
    indemnity: EUR_40,
    basis: {
      law: { fr: 'le décret législatif italien n° 231 du 9 octobre 2002', en: 'Italian Legislative Decree no. 231 of 9 October 2002' },
      interest: {
        fr: 'taux de la Banque centrale européenne majoré de 8 points, à compter du lendemain de l’échéance',
        en: 'European Central Bank rate plus 8 percentage points, from the day after the due date',
      },
      indemnity: { fr: '40 € par facture payée en retard', en: '€40 per invoice paid late' },
      indemnityLaw: null,
    },
  },
  {
    id: 'eu-business',
    jurisdiction: 'EU',
    countries: EU_DIRECTIVE_COUNTRIES,
    debtor: 'business',
    interest: EU8('Directive 2011/7/EU art. 2(6)'),
    contractRate: 'allowed',
    indemnity: EUR_40,
    basis: {
      law: {
        fr: 'la directive 2011/7/UE du 16 février 2011 concernant la lutte contre le retard de paiement dans les transactions commerciales',
        en: 'Directive 2011/7/EU of 16 February 2011 on combating late payment in commercial transactions',
      },
      interest: {
        fr: 'taux de la Banque centrale européenne majoré de 8 points, à compter du lendemain de l’échéance',
        en: 'European Central Bank rate plus 8 percentage points, from the day after the due date',
      },
      indemnity: { fr: '40 € par facture payée en retard', en: '€40 per invoice paid late' },
      indemnityLaw: { fr: 'article 6 de la directive', en: 'article 6 of the Directive' },
    },
  },
  {
    id: 'gb-business',
    jurisdiction: 'GB',
    countries: ['GB'],
    debtor: 'business',
    interest: { table: 'boe-bank-rate', marginPoints: 8n, fixing: 'per-debt', runsFrom: 'due-date', law: 'Late Payment of Commercial Debts (Interest) Act 1998' },
    contractRate: 'allowed',
    indemnity: {
      currency: 'GBP',
      bands: [
        { belowMinor: 100_000n, amountMinor: 4000n },
        { belowMinor: 1_000_000n, amountMinor: 7000n },
        { belowMinor: null, amountMinor: 10_000n },
      ],
    },
    basis: {
      law: {
        fr: 'la loi britannique de 1998 sur les intérêts de retard des créances commerciales',
        en: 'the Late Payment of Commercial Debts (Interest) Act 1998',
      },
      interest: {
        fr: 'taux de la Banque d’Angleterre majoré de 8 points, fixé pour toute la durée de la dette',
        en: 'Bank of England base rate plus 8 percentage points, fixed for the whole debt',
      },
      indemnity: {
        fr: 'somme fixe de 40 £, 70 £ ou 100 £ par facture selon son montant',
        en: 'fixed sum of £40, £70 or £100 per invoice depending on its amount',
      },
      indemnityLaw: { fr: 'section 5A de la loi', en: 'section 5A of the Act' },
    },
  },
];

/** Consumers outside France and Germany: the business-to-business rules do not apply. */
function consumerNotCovered(b: Regime): Regime {
  return { ...b, id: `${b.jurisdiction.toLowerCase()}-consumer`, debtor: 'consumer', interest: null, contractRate: 'ignored', indemnity: null, notes: {}, basis: { ...b.basis, interest: null, indemnity: null, indemnityLaw: null } };
}

const BY_KEY = new Map<string, Regime>();
for (const r of REGIMES) BY_KEY.set(`${r.jurisdiction}/${r.debtor}`, r);
for (const r of REGIMES) if (!BY_KEY.has(`${r.jurisdiction}/consumer`)) BY_KEY.set(`${r.jurisdiction}/consumer`, consumerNotCovered(r));
const ALL = [...BY_KEY.values()];
for (const r of ALL) Object.freeze(r);

/** Every regime, consumers' included: a stable index per regime (the law engine's cache keys). */
export function allRegimes(): readonly Regime[] {
  return ALL;
}

/** The regime of a jurisdiction for a kind of debtor (undefined for an unknown jurisdiction). */
export function regimeOf(jurisdiction: string, debtor: DebtorKind): Regime | undefined {
  return BY_KEY.get(`${jurisdiction}/${debtor}`);
}

/** The fixed compensation of a debt of `amountMinor` under a rule (its own currency). */
export function indemnityFor(rule: IndemnityRule, amountMinor: bigint): bigint {
  for (const b of rule.bands) if (b.belowMinor === null || amountMinor < b.belowMinor) return b.amountMinor;
  return rule.bands.at(-1)!.amountMinor;
}

export interface RegimeDecision {
  regime: Regime;
  jurisdiction: Jurisdiction;
  debtor: DebtorKind;
  /** The organisation's contractual rate, when its terms state one and the regime lets it apply. */
  contractRatePercent: string | null;
  /** Why this jurisdiction: the debtor's country, the EU directive for its country, or the organisation's own. */
  reason: 'debtor_country' | 'eu_directive' | 'creditor_country' | 'chosen';
}

export interface RegimeParties {
  /** The organisation's country (ISO 3166-1 alpha-2). */
  creditorCountry: string | null | undefined;
  /** The customer's country; unknown: the organisation's. */
  debtorCountry: string | null | undefined;
  debtorKind: DebtorKind;
  /** The organisation's contractual late-payment rate, if its terms state one. */
  contractRatePercent?: string | null;
  /** A jurisdiction chosen by the contract, overriding the countries. */
  chosenJurisdiction?: Jurisdiction | null;
}

const ISO2 = /^[A-Z]{2}$/;
const countryOf = (c: string | null | undefined) => {
  const v = c?.trim().toUpperCase();
  return v && ISO2.test(v) ? v : null;
};

/** The one entry point: which late-payment regime governs a debt between this organisation and this customer. */
export function decideRegime(p: RegimeParties): RegimeDecision {
  const debtor = p.debtorKind;
  const creditor = countryOf(p.creditorCountry) ?? 'FR';
  const country = countryOf(p.debtorCountry) ?? creditor;
  let jurisdiction: Jurisdiction;
  let reason: RegimeDecision['reason'];
  const named = (c: string) => REGIMES.find((r) => r.jurisdiction !== 'EU' && r.countries.includes(c));
  if (p.chosenJurisdiction && regimeOf(p.chosenJurisdiction, debtor)) {
    jurisdiction = p.chosenJurisdiction;
    reason = 'chosen';
  } else if (named(country)) {
    jurisdiction = named(country)!.jurisdiction;
    reason = 'debtor_country';
  } else if ((EU_DIRECTIVE_COUNTRIES as readonly string[]).includes(country)) {
    jurisdiction = 'EU';
    reason = 'eu_directive';
  } else {
    jurisdiction = named(creditor)?.jurisdiction ?? 'EU';
    reason = 'creditor_country';
  }
  const regime = regimeOf(jurisdiction, debtor)!;
  const contract = p.contractRatePercent?.trim() || null;
  return { regime, jurisdiction, debtor, contractRatePercent: regime.contractRate === 'ignored' ? null : contract, reason };
}
