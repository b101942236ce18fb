/** Texts of the late-payment module, French and English. Notes carry a key and variables so a letter can render them in either language. */
import { defineMessages, type Lang, t } from '../../i18n/index.ts';

export const LAW_MESSAGES = defineMessages({
  provisional_rate: {
    fr: 'Taux provisoire : aucun taux {table} connu pour le {on} (table connue jusqu’au {knownThrough}) ; pour {period}, le dernier taux connu {assumed} % (en vigueur depuis le {since}) a été retenu, soit {applied} %. Ajoutez le taux officiel : relance rates set --table {table} --from {on} --rate <taux>.',
    en: 'Provisional rate: no {table} rate is known for {on} (table known through {knownThrough}); for {period} the latest known rate {assumed}% (in force since {since}) was assumed, giving {applied}%. Add the official rate: relance rates set --table {table} --from {on} --rate <rate>.',
  },
  consumer_needs_notice: {
    fr: 'Débiteur consommateur : les intérêts au taux légal ne courent qu’à compter de la mise en demeure (C. civ. 1231-6, 1344-1) ; aucune date de mise en demeure, donc aucun intérêt.',
    en: 'Consumer debtor: interest at the legal rate only runs from the formal notice (C. civ. 1231-6, 1344-1); no notice date given, so no interest.',
  },
  consumer_no_indemnity: {
    fr: 'Débiteur consommateur : pas d’indemnité forfaitaire de 40 € ; les frais de recouvrement amiable restent à la charge du créancier (CPCE L111-8).',
    en: 'Consumer debtor: no 40 EUR recovery indemnity; amicable collection costs stay with the creditor (CPCE L111-8).',
  },
  consumer_not_covered: {
    fr: 'Débiteur consommateur : les règles de retard de paiement entre entreprises ({law}) ne s’appliquent pas ; aucun intérêt ni indemnité calculé.',
    en: 'Consumer debtor: the business-to-business late-payment rules ({law}) do not apply; no interest or indemnity computed.',
  },
  contract_rate_ignored_consumer: {
    fr: 'Le taux contractuel {rate} % n’est pas appliqué à un consommateur : le taux légal s’applique.',
    en: 'The contractual rate {rate}% is not applied to a consumer: the statutory rate applies.',
  },
  indemnity_other_currency: {
    fr: 'L’indemnité forfaitaire de {amount} est fixée en {fixedCurrency} ; la créance est en {currency} : elle est due mais n’est pas convertie ici.',
    en: 'The fixed recovery compensation of {amount} is set in {fixedCurrency}; the debt is in {currency}: it is owed but not converted here.',
  },
  de_consumer_from_due: {
    fr: 'Débiteur consommateur (DE) : intérêts dès l’échéance, la date de paiement étant fixée au calendrier (BGB §286(2) n° 1) ; sinon ils ne courent qu’après une Mahnung.',
    en: 'Consumer debtor (DE): interest from the due date, since it is a calendar date (BGB §286(2) no. 1); otherwise it only runs after a reminder (Mahnung).',
  },
  gb_fixed_rate: {
    fr: 'Royaume-Uni : taux de la Banque d’Angleterre au {refDate} + 8 points, fixe pour toute la durée de la dette (SI 2002/1675).',
    en: 'United Kingdom: Bank of England rate on {refDate} + 8 points, fixed for the whole debt (SI 2002/1675).',
  },
  source_ecb: {
    fr: 'taux BCE des opérations principales de refinancement {rate} % en vigueur le {on} + {margin} points ({law})',
    en: 'ECB MRO {rate}% in force on {on} + {margin} points ({law})',
  },
  source_taux_legal: {
    fr: 'taux de l’intérêt légal « {category} » {rate} % ({semester}) ({law})',
    en: 'taux légal "{category}" {rate}% ({semester}) ({law})',
  },
  source_basiszins: {
    fr: 'Basiszinssatz {rate} % ({semester}) + {margin} points ({law})',
    en: 'Basiszinssatz {rate}% ({semester}) + {margin} points ({law})',
  },
  source_boe: {
    fr: 'taux directeur de la Banque d’Angleterre {rate} % au {on} + 8 points, fixe pour la dette (LPCDIA 1998, SI 2002/1675)',
    en: 'Bank of England Bank Rate {rate}% on {on} + 8 points, fixed for the debt (LPCDIA 1998, SI 2002/1675)',
  },
  source_contract: { fr: 'taux contractuel {rate} %', en: 'contractual rate {rate}%' },
  source_floor: {
    fr: '3 × taux de l’intérêt légal « autres cas » {rate} % ({semester})',
    en: '3 × taux légal "autres cas" {rate}% ({semester})',
  },
  rounding_rule: {
    fr: 'Intérêts simples, jours exacts / {basis} ; chaque période arrondie au centime le plus proche (demi-centime vers le haut) ; total = somme des périodes arrondies.',
    en: 'Simple interest, actual days / {basis}; each period rounded to the nearest cent (half a cent up); total = sum of the rounded periods.',
  },
});

export type LawMessageKey = keyof typeof LAW_MESSAGES;

/** A note attached to a result: a message key and its variables, renderable in French or English. */
export interface LawNote {
  key: LawMessageKey;
  vars: Record<string, string>;
}

/**
 * The notes a debtor may read in a document: explanations of the law. The others are advice to
 * the operator (a rate not yet known and how to add it, an amount not converted, a consumer
 * without a notice date) and never leave the operator's screens.
 */
const DEBTOR_NOTES: ReadonlySet<LawMessageKey> = new Set(['gb_fixed_rate', 'de_consumer_from_due']);
export const forTheDebtor = (n: LawNote) => DEBTOR_NOTES.has(n.key);

const RATE_VARS = new Set(['rate', 'assumed', 'applied']);

export function renderLawNote(note: LawNote, lang: Lang): string {
  if (lang === 'en') return t(LAW_MESSAGES, lang, note.key, note.vars);
  // French writes "2,15 %": rates get a decimal comma, dates and table names stay as they are.
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(note.vars)) vars[k] = RATE_VARS.has(k) ? v.replace('.', ',') : v;
  return t(LAW_MESSAGES, lang, note.key, vars);
}
