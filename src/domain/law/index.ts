/**
 * Late-payment law: statutory interest and fixed compensation by jurisdiction and date, the dated
 * rate tables they use, payment-term checks, limitation periods and the penalty statement. Pure: the
 * rate tables and "today" are parameters; the database side is src/law/rates-repo.ts.
 */
export {
  computeLateFees,
  lateFeesUnder,
  type LedgerDebt,
  DEFAULT_LATE_FEE_RULES,
  JURISDICTIONS,
  ukFixedSum,
  type CreditorKind,
  type DebtorKind,
  type Jurisdiction,
  type LateFeeInput,
  type LateFeePeriod,
  type LateFeeResult,
  type LateFeeRules,
} from './interest.ts';
export {
  defaultRateTables,
  formatRatePercent,
  isRateTableName,
  parseRatePercent,
  RATE_SCALE,
  RATE_TABLE_NAMES,
  rateOn,
  validateRateOverride,
  withOverrides,
  type RateEntry,
  type RateLookup,
  type RateOverride,
  type RateTable,
  type RateTableName,
  type RateTables,
  type RateWarning,
} from './rates.ts';
export {
  checkPaymentTerms,
  DEFAULT_TERMS_SETTINGS,
  FORTY_FIVE_EOM_METHODS,
  fortyFiveEndOfMonth,
  type FortyFiveEndOfMonthMethod,
  type PaymentTermsCheck,
  type PaymentTermsSettings,
  type TermsRegime,
  type TermsWarning,
} from './terms.ts';
export { PRESCRIPTION_YEARS_FR, prescriptionStatus, type PrescriptionInput, type PrescriptionStatus } from './prescription.ts';
export {
  buildPenaltyStatement,
  penaltyReceivable,
  type PenaltyStatement,
  type PenaltyStatementInput,
  type PenaltyStatementInvoice,
  type PenaltyStatementLine,
} from './penalty-statement.ts';
export { forTheDebtor, LAW_MESSAGES, renderLawNote, type LawNote } from './messages.ts';
export {
  allRegimes,
  decideRegime,
  EU_DIRECTIVE_COUNTRIES,
  indemnityFor,
  REGIMES,
  regimeOf,
  type Citation,
  type IndemnityRule,
  type InterestRule,
  type Regime,
  type RegimeDecision,
  type RegimeParties,
} from './regimes.ts';
export { type ProvisionalRate, ProvisionalRates, provisionalToday } from './provisional.ts';
