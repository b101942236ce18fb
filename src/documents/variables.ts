/**
 * The variables a template may use: the one documented list (VARIABLES, shown in the template
 * editor and checked by validateTemplate), and buildVariables, which makes them from ledger data.
 *
 * Every value reaches the template already formatted for the document's language ("1 234,56 €",
 * "22 novembre 2026"): templates never do arithmetic or date formatting, so a user editing one
 * cannot get a rounding or a month name wrong. Absent optional values are null (a template tests
 * them with {% if %}); every documented variable is always present, so strict rendering turns a
 * misspelt name into an error instead of a blank.
 */
import { addDays, type CalendarDate, daysPastDue, formatLongDate, formatShortDate } from '../domain/dates.ts';
import { creditorReference, isValidIban, normaliseIban } from '../domain/identifiers.ts';
import { formatMoney, type Minor, toDecimalString } from '../domain/money.ts';
import { validation } from '../errors.ts';
import { decideRegime, type RegimeDecision } from '../domain/law/index.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';

const E = defineErrors('documents-variables', {
  no_invoice: { fr: 'un document porte sur au moins une facture', en: 'a document concerns at least one invoice' },
  one_currency: { fr: 'un document par devise : la facture {number} est en {currency}, et non en {expected}', en: 'one document per currency: invoice {number} is in {currency}, not {expected}' },
});

// ------------------------------------------------------------------ documentation

export type VarType = 'string' | 'number' | 'boolean' | 'list' | 'object';

export interface VarDoc {
  type: VarType;
  fr: string;
  en: string;
  /** May be null (absent): test it with {% if %} before use. */
  optional?: boolean;
  /** Fields of an object, or of each item of a list. */
  fields?: Record<string, VarDoc>;
}

const str = (fr: string, en: string, optional = false): VarDoc => ({ type: 'string', fr, en, optional });
const num = (fr: string, en: string): VarDoc => ({ type: 'number', fr, en });
const bool = (fr: string, en: string): VarDoc => ({ type: 'boolean', fr, en });
const obj = (fr: string, en: string, fields: Record<string, VarDoc>, optional = false): VarDoc => ({ type: 'object', fr, en, fields, optional });
const list = (fr: string, en: string, fields: Record<string, VarDoc> | undefined): VarDoc => ({ type: 'list', fr, en, fields });

const INVOICE_FIELDS: Record<string, VarDoc> = {
  number: str('Numéro de facture', 'Invoice number'),
  issue_date: str('Date d’émission (« 22 novembre 2026 »)', 'Issue date ("22 November 2026")'),
  issue_date_short: str('Date d’émission courte (22/11/2026)', 'Short issue date (22/11/2026)'),
  due_date: str('Date d’échéance', 'Due date'),
  due_date_short: str('Date d’échéance courte', 'Short due date'),
  amount: str('Montant TTC (« 1 234,56 € »)', 'Amount including tax ("€1,234.56")'),
  paid_amount: str('Déjà réglé ou avoir imputé', 'Already paid or credited'),
  open_amount: str('Reste dû', 'Amount still open'),
  days_past_due: num('Jours de retard (0 avant l’échéance)', 'Days past due (0 before the due date)'),
  is_overdue: bool('Échéance dépassée', 'Past its due date'),
  reference: str('Référence de paiement RF (ISO 11649)', 'RF payment reference (ISO 11649)', true),
  interest: str('Pénalités de retard de cette facture', 'Late-payment interest on this invoice', true),
  indemnity: str('Indemnité forfaitaire de cette facture', 'Fixed recovery compensation on this invoice', true),
  interest_detail: str('Détail du calcul des pénalités (taux et périodes)', 'Interest computation detail (rates and periods)', true),
};

/** The documented variables, by top-level name. */
export const VARIABLES: Record<string, VarDoc> = {
  lang: str('Langue du document (fr ou en)', 'Document language (fr or en)'),
  today: str('Date du document (« 22 novembre 2026 »)', 'Document date ("22 November 2026")'),
  today_short: str('Date du document courte', 'Short document date'),
  organisation: obj('Votre entreprise', 'Your company', {
    name: str('Raison sociale', 'Legal name'),
    address_line1: str('Adresse, ligne 1', 'Address line 1', true),
    address_line2: str('Adresse, ligne 2', 'Address line 2', true),
    postal_code: str('Code postal', 'Postcode', true),
    city: str('Ville', 'City', true),
    address: str('Adresse sur une ligne', 'Address on one line'),
    siren: str('SIREN (« 732 829 320 »)', 'SIREN number', true),
    siret: str('SIRET', 'SIRET number', true),
    vat_number: str('Numéro de TVA intracommunautaire', 'EU VAT number', true),
    legal_mentions: str('Mentions légales (pied de page)', 'Legal mentions (footer)'),
    email: str('Adresse e-mail de contact', 'Contact email', true),
    phone: str('Téléphone', 'Phone', true),
    website: str('Site web', 'Website', true),
    place: str('Lieu de la ligne de date (« Paris »)', 'Place of the date line', true),
    signatory_name: str('Nom du signataire', 'Signatory name'),
    signatory_title: str('Fonction du signataire', 'Signatory title', true),
  }),
  customer: obj('Le client', 'The customer', {
    name: str('Raison sociale ou nom', 'Legal name or name'),
    number: str('Numéro de compte client', 'Customer account number'),
    is_business: bool('Client professionnel', 'Business customer'),
    is_consumer: bool('Client particulier (consommateur)', 'Consumer customer'),
    siren: str('SIREN', 'SIREN number', true),
    vat_number: str('Numéro de TVA', 'VAT number', true),
    address_lines: list('Adresse postale, une ligne par élément', 'Postal address, one line per item', undefined),
  }),
  contact: obj('L’interlocuteur chez le client', 'The contact at the customer', {
    name: str('Nom', 'Name', true),
    salutation: str('Formule d’appel (« Madame, Monsieur, »)', 'Salutation ("Dear Ms Curie,")'),
    email: str('E-mail', 'Email', true),
    phone: str('Téléphone', 'Phone', true),
  }),
  invoice: obj('La facture concernée (la première si plusieurs)', 'The invoice concerned (the first when several)', INVOICE_FIELDS),
  invoices: list('Les factures concernées, par échéance', 'The invoices concerned, by due date', INVOICE_FIELDS),
  totals: obj('Totaux', 'Totals', {
    count: num('Nombre de factures', 'Number of invoices'),
    amount: str('Total TTC', 'Total including tax'),
    open_amount: str('Total restant dû (principal)', 'Total still open (principal)'),
    overdue_amount: str('Dont échu', 'Of which overdue'),
    overdue_count: num('Nombre de factures échues', 'Number of overdue invoices'),
    credits: str('Règlements ou avoirs non encore imputés', 'Payments or credit notes not yet allocated', true),
    max_days_past_due: num('Plus grand retard en jours', 'Longest delay in days'),
    claimed: str('Somme réclamée (principal, plus pénalités et indemnité quand elles sont réclamées)', 'Amount claimed (principal, plus interest and compensation when claimed)'),
  }),
  penalties: obj('Pénalités de retard et indemnité forfaitaire, selon la loi qui régit la créance (pays et qualité du client)', 'Late-payment interest and fixed compensation, under the law that governs the debt (the customer’s country and kind)', {
    applicable: bool('Des pénalités de retard courent de plein droit dès l’échéance', 'Late-payment interest runs by law from the due date'),
    indemnity_applicable: bool('Une indemnité forfaitaire pour frais de recouvrement est due', 'A fixed compensation for recovery costs is owed'),
    from_notice: bool('Les intérêts ne courent qu’à compter d’une mise en demeure (consommateur, droit français)', 'Interest only runs from a formal notice (consumer, French law)'),
    computed: bool('Les montants ont été calculés', 'Amounts were computed'),
    claimed: bool('Ce document réclame les pénalités (mise en demeure, transmission)', 'This document claims them (formal notice, handover)'),
    interest: str('Pénalités de retard', 'Late-payment interest'),
    indemnity: str('Indemnité forfaitaire pour frais de recouvrement', 'Fixed compensation for recovery costs'),
    total: str('Pénalités + indemnité', 'Interest + compensation'),
    law: str('Le texte qui les prévoit (« l’article L441-10 du Code de commerce »)', 'Where the law provides for them ("article L441-10 of the French Commercial Code")'),
    interest_basis: str('Taux et point de départ des intérêts (sans le texte)', 'Rate and start of the interest (without the citation)'),
    indemnity_rule: str('L’indemnité en clair (« 40 € par facture payée en retard »)', 'The compensation in words ("€40 per invoice paid late")', true),
    indemnity_basis: str('L’indemnité et son fondement', 'The compensation and its legal basis'),
    provisional: bool('Calcul provisoire (taux de la période non publié) : pour la logique du modèle, jamais à imprimer', 'Provisional (rate for the period not yet published): for the template’s logic, never to print'),
    notes: str('Précisions sur le calcul destinées au débiteur', 'Notes on the computation meant for the debtor', true),
  }),
  payment: obj('Instructions de paiement', 'Payment instructions', {
    beneficiary: str('Bénéficiaire du virement', 'Transfer beneficiary'),
    iban: str('IBAN, par groupes de 4', 'IBAN, in groups of 4', true),
    bic: str('BIC', 'BIC', true),
    reference: str('Référence RF à indiquer (une seule facture)', 'RF reference to quote (one invoice)', true),
    remittance: str('Libellé à indiquer sur le virement', 'Text to quote on the transfer'),
    amount: str('Montant à régler', 'Amount to pay'),
    link: str('Lien de paiement en ligne', 'Online payment link', true),
    portal_link: str('Lien vers l’espace client', 'Customer portal link', true),
  }),
  deadline: obj('Délai accordé', 'Deadline given', {
    days: num('Nombre de jours', 'Number of days'),
    date: str('Date limite', 'Deadline date'),
  }),
  reminders: list('Relances effectivement envoyées pour ces factures, de la plus ancienne à la plus récente (vide : aucune)', 'Reminders actually sent for these invoices, oldest first (empty: none)', {
    date: str('Date', 'Date'),
    channel: str('Canal (« courrier », « e-mail »…), vide pour une relance envoyée avant Relance', 'Channel ("letter", "email"…), empty for one sent before Relance', true),
    label: str('Nature de la relance', 'Kind of reminder'),
    text: str('La relance en quelques mots : « première relance du 3 mars 2026 par e-mail »', 'The reminder in words: "first reminder of 3 March 2026 by email"'),
  }),
  last_reminder: obj('Dernière relance envoyée', 'Last reminder sent', {
    date: str('Date', 'Date'),
    channel: str('Canal', 'Channel', true),
    label: str('Nature', 'Kind'),
    text: str('La relance en une phrase', 'The reminder in words'),
  }, true),
  attachments: obj('Pièces jointes du message', 'Attachments of the message', {
    invoices: bool('Le PDF de la facture (des factures) est joint : le texte peut le dire', 'The invoice PDF (or PDFs) is attached: the text may say so'),
  }),
  links: obj('Liens', 'Links', {
    satisfaction_happy: str('Lien « tout va bien » de la question de satisfaction', 'Satisfaction question: "all good" link', true),
    satisfaction_unhappy: str('Lien « un problème » (signale un litige possible)', 'Satisfaction question: "a problem" link (flags a possible dispute)', true),
  }),
  plan: obj('Échéancier accordé', 'Payment plan agreed', {
    count: num('Nombre d’échéances', 'Number of instalments'),
    total: str('Montant total', 'Total amount'),
    installments: list('Échéances', 'Instalments', { number: num('Rang', 'Rank'), date: str('Date', 'Date'), amount: str('Montant', 'Amount') }),
    current: obj('Échéance concernée par ce rappel', 'Instalment this reminder is about', {
      number: num('Rang', 'Rank'),
      date: str('Date', 'Date'),
      amount: str('Montant restant dû', 'Amount still due'),
      overdue: bool('Date dépassée', 'Date passed'),
    }, true),
  }, true),
  promise: obj('Promesse de paiement', 'Promise to pay', {
    date: str('Date promise', 'Promised date'),
    amount: str('Montant promis', 'Promised amount'),
  }, true),
  dispute: obj('Contestation reçue', 'Dispute received', {
    received_on: str('Date de réception', 'Date received'),
    reason: str('Motif indiqué', 'Reason given', true),
    reference: str('Référence du dossier', 'Case reference'),
  }, true),
  receipt: obj('Démarche du client sur l’espace client (confirmation)', 'What the customer did on the customer portal (confirmation)', {
    is_paid: bool('Le client signale un paiement', 'The customer reports a payment'),
    is_plan_request: bool('Le client propose un échéancier, en attente de réponse', 'The customer proposes a payment plan, awaiting an answer'),
    is_contact: bool('Le client a changé le contact de facturation', 'The customer changed the billing contact'),
    paid_on: str('Date du paiement signalé', 'Date of the payment reported', true),
    amount: str('Montant signalé ou proposé', 'Amount reported or proposed', true),
    reference: str('Référence donnée par le client', 'Reference given by the customer', true),
    hold_until: str('Relances suspendues jusqu’au', 'Reminders held until', true),
    installments: list('Mensualités proposées', 'Instalments proposed', { number: num('Rang', 'Rank'), date: str('Date', 'Date'), amount: str('Montant', 'Amount') }),
    contact_name: str('Nouveau contact : nom', 'New contact: name', true),
    contact_email: str('Nouveau contact : e-mail', 'New contact: email', true),
    contact_phone: str('Nouveau contact : téléphone', 'New contact: phone', true),
  }, true),
  handover: obj('Transmission du dossier', 'File handed over', {
    agency: str('Nom du cabinet ou de l’avocat', 'Agency or lawyer name'),
    date: str('Date de transmission', 'Handover date'),
  }, true),
};

// ------------------------------------------------------------------ inputs

export interface OrganisationData {
  legalName: string;
  addressLine1?: string | null;
  addressLine2?: string | null;
  postalCode?: string | null;
  city?: string | null;
  country?: string | null;
  siren?: string | null;
  siret?: string | null;
  vatNumber?: string | null;
  iban?: string | null;
  bic?: string | null;
}

/** What an organisation sets once for its documents (stored in document_branding). */
export interface Branding {
  /** Main colour, "#RRGGBB". */
  colour: string;
  logoPng: Uint8Array | null;
  signaturePng: Uint8Array | null;
  signatoryName: string | null;
  signatoryTitle: string | null;
  /** Extra legal mentions for the footer: legal form, capital, RCS registration. */
  footer: string | null;
  email: string | null;
  phone: string | null;
  website: string | null;
  /** Place printed on the date line; the organisation's city when absent. */
  place: string | null;
  /**
   * The online payment page, as a pattern: https://... with {invoice}, {amount}, {currency},
   * {reference}, {customer} filled per document. Absent: no document offers to pay online.
   */
  paymentLink?: string | null;
}

export const DEFAULT_BRANDING: Branding = {
  colour: '#1F4E79',
  logoPng: null,
  signaturePng: null,
  signatoryName: null,
  signatoryTitle: null,
  footer: null,
  email: null,
  phone: null,
  website: null,
  place: null,
  paymentLink: null,
};

/** What a payment link pattern may name. */
export const PAYMENT_LINK_FIELDS = ['invoice', 'amount', 'currency', 'reference', 'customer'] as const;

/** A payment link pattern filled for one document (each value URL-encoded), or null without a pattern. */
export function paymentLinkFor(pattern: string | null | undefined, v: Record<(typeof PAYMENT_LINK_FIELDS)[number], string>): string | null {
  if (!pattern) return null;
  return pattern.replace(/\{(invoice|amount|currency|reference|customer)\}/g, (_m, k: keyof typeof v) => encodeURIComponent(v[k]));
}

export interface CustomerData {
  legalName: string;
  kind: 'business' | 'consumer';
  /** ISO country (the law that governs the debt depends on it); the organisation's when absent. */
  country?: string | null;
  /** Account number shown to the customer (external id, else internal id). */
  number: string;
  siren?: string | null;
  vatNumber?: string | null;
}

export interface ContactData {
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  postalCode?: string | null;
  city?: string | null;
  country?: string | null;
}

export interface InvoiceData {
  number: string;
  issueDate: CalendarDate;
  dueDate: CalendarDate;
  currency: string;
  amountInclTaxMinor: Minor;
  openMinor: Minor;
}

/**
 * Late fees of one invoice, computed by the caller (src/domain/law computeLateFees): structurally a
 * subset of its result so the result can be passed as is.
 */
export interface InvoiceFees {
  interestMinor: Minor;
  indemnityMinor: Minor;
  provisional?: boolean;
  notes?: readonly string[];
  /** One line per rate period (a delay spanning 30 June or 31 December has two). */
  periods?: ReadonlyArray<{ from: CalendarDate; to: CalendarDate; days: number; ratePercent: string; interestMinor: Minor }>;
}

export interface ReminderData {
  date: CalendarDate;
  /** Null: sent outside Relance (another tool, by hand), the channel is not known. */
  channel: 'email' | 'sms' | 'letter' | 'call' | null;
  /** Template key of the step that sent it (reminder, firm, formal_notice…). */
  key: string;
}

export interface DocumentInput {
  lang: Lang;
  /** The document's date ("today" is a parameter). */
  at: CalendarDate;
  organisation: OrganisationData;
  branding?: Partial<Branding>;
  customer: CustomerData;
  contact?: ContactData | null;
  /** The invoices concerned, at least one, all in one currency. */
  invoices: readonly InvoiceData[];
  /** The late-payment regime of the debt (decideRegime); absent: decided from the organisation's and customer's countries. */
  law?: RegimeDecision | null;
  /** Late fees by invoice number; absent means not computed (the texts then speak of principle, not amounts). */
  fees?: ReadonlyMap<string, InvoiceFees> | null;
  /** Whether this document claims the penalties in the amount to pay (formal notice, handover). */
  claimPenalties?: boolean;
  /** Payments and credit notes received but not yet allocated, in the invoices' currency. */
  creditsMinor?: Minor;
  reminders?: readonly ReminderData[];
  deadlineDays?: number;
  /** The deadline's date when it is not the document's date plus deadlineDays (a formal notice: escalation.ts). */
  deadlineDate?: CalendarDate | null;
  links?: { payment?: string | null; portal?: string | null; satisfactionHappy?: string | null; satisfactionUnhappy?: string | null };
  /** How many of the invoices' own PDFs travel with the message (only a message can carry them). */
  attachedInvoices?: number;
  plan?: {
    installments: ReadonlyArray<{ date: CalendarDate; amountMinor: Minor }>;
    /** The instalment a reminder is about, with what is still due on it. */
    current?: { seq: number; date: CalendarDate; amountMinor: Minor; overdue: boolean } | null;
  } | null;
  promise?: { date: CalendarDate; amountMinor: Minor } | null;
  dispute?: { receivedOn: CalendarDate; reason?: string | null; reference: string } | null;
  handover?: { agency: string; date: CalendarDate } | null;
  /** The confirmation of an action on the debtor portal (template portal_receipt). */
  receipt?: {
    kind: 'paid' | 'plan_request' | 'contact';
    paidOn?: CalendarDate | null;
    amountMinor?: Minor | null;
    reference?: string | null;
    holdUntil?: CalendarDate | null;
    installments?: ReadonlyArray<{ date: CalendarDate; amountMinor: Minor }>;
    contact?: { name: string; email: string; phone: string | null } | null;
  } | null;
}

// ------------------------------------------------------------------ messages

const M = defineMessages({
  salutation_named: { fr: 'Madame, Monsieur,', en: 'Dear {name},' },
  salutation_anonymous: { fr: 'Madame, Monsieur,', en: 'Dear Sir or Madam,' },
  channel_email: { fr: 'e-mail', en: 'email' },
  channel_sms: { fr: 'SMS', en: 'text message' },
  channel_letter: { fr: 'courrier', en: 'letter' },
  channel_call: { fr: 'appel téléphonique', en: 'phone call' },
  key_courtesy: { fr: 'rappel avant échéance', en: 'courtesy notice' },
  key_due: { fr: 'rappel d’échéance', en: 'due-date reminder' },
  key_reminder: { fr: 'première relance', en: 'first reminder' },
  key_firm: { fr: 'deuxième relance', en: 'second reminder' },
  key_final: { fr: 'dernier rappel avant mise en demeure', en: 'final notice before formal notice' },
  key_formal_notice: { fr: 'mise en demeure', en: 'formal notice' },
  key_handover: { fr: 'transmission au recouvrement', en: 'handover to collection' },
  key_other: { fr: 'relance', en: 'reminder' },
  not_applicable: { fr: 'sans objet', en: 'not applicable' },
  no_indemnity: { fr: 'aucune indemnité forfaitaire n’est due', en: 'no fixed compensation is owed' },
  reminder_text: { fr: '{label} du {date} par {channel}', en: '{label} of {date} by {channel}' },
  reminder_text_outside: { fr: '{label} du {date}', en: '{label} of {date}' },
  siren: { fr: 'SIREN {v}', en: 'SIREN {v}' },
  period: { fr: '{rate} du {from} au {to} ({days})\u202f: {amount}', en: '{rate} from {from} to {to} ({days}): {amount}' },
  days_one: { fr: '1 jour', en: '1 day' },
  days_many: { fr: '{n} jours', en: '{n} days' },
  vat: { fr: 'TVA {v}', en: 'VAT {v}' },
});

// ------------------------------------------------------------------ builder

/** A variables object handed to templates; its shape is VARIABLES. */
export type TemplateVariables = Record<string, unknown>;

const nz = (s: string | null | undefined): string | null => {
  const v = s?.trim();
  return v ? v : null;
};

const groupSiren = (s: string) => s.replace(/\s/g, '').replace(/^(\d{3})(\d{3})(\d{3})$/, '$1 $2 $3');
const groupIban = (s: string) => normaliseIban(s).replace(/(.{4})(?=.)/g, '$1 ');

/** RF reference of an invoice (creditorReference(invoice.number)), or null when the number does not fit in 21 alphanumerics. */
export function invoiceReference(number: string): string | null {
  try {
    return creditorReference(number);
  } catch {
    return null;
  }
}

export function buildVariables(input: DocumentInput): DocumentVariables {
  return computeDocument(input).vars;
}

export type DocumentVariables = ReturnType<typeof computeDocument>['vars'];

/**
 * The variables and, beside them, the unformatted facts the layouts need: the amount to pay in
 * minor units (for the EPC QR code) and the remittance reference.
 */
export function computeDocument(input: DocumentInput) {
  const { lang, at } = input;
  if (input.invoices.length === 0) throw validation(E('no_invoice'), { field: 'invoices' });
  const currency = input.invoices[0]!.currency;
  const other = input.invoices.find((i) => i.currency !== currency);
  if (other) throw validation(E('one_currency', { number: other.number, currency: other.currency, expected: currency }), { field: 'invoices' });

  const branding: Branding = { ...DEFAULT_BRANDING, ...input.branding };
  const money = (m: Minor) => formatMoney(m, currency, lang);
  const long = (d: CalendarDate) => formatLongDate(d, lang);
  const short = (d: CalendarDate) => formatShortDate(d, lang);
  const isBusiness = input.customer.kind === 'business';
  const law = input.law ?? decideRegime({ creditorCountry: input.organisation.country, debtorCountry: input.customer.country, debtorKind: input.customer.kind });
  const regime = law.regime;
  const fees = input.fees ?? null;

  const invoices = [...input.invoices]
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.number.localeCompare(b.number)))
    .map((i) => {
      const f = fees?.get(i.number);
      return {
        number: i.number,
        issue_date: long(i.issueDate),
        issue_date_short: short(i.issueDate),
        due_date: long(i.dueDate),
        due_date_short: short(i.dueDate),
        amount: money(i.amountInclTaxMinor),
        paid_amount: money(i.amountInclTaxMinor - i.openMinor),
        open_amount: money(i.openMinor),
        days_past_due: daysPastDue(i.dueDate, at),
        is_overdue: i.openMinor > 0n && at > i.dueDate,
        reference: invoiceReference(i.number),
        interest: f ? money(f.interestMinor) : null,
        indemnity: f && regime.indemnity ? money(f.indemnityMinor) : null,
        interest_detail: f?.periods?.length ? f.periods.map((p) => periodText(lang, p, money)).join(lang === 'fr' ? ' ; ' : '; ') : null,
        _open: i.openMinor,
        _amount: i.amountInclTaxMinor,
        _overdue: i.openMinor > 0n && at > i.dueDate,
        _fees: f,
      };
    });

  let interest = 0n;
  let indemnity = 0n;
  let provisional = false;
  const notes: string[] = [];
  for (const i of invoices) {
    if (!i._fees) continue;
    interest += i._fees.interestMinor;
    if (regime.indemnity) indemnity += i._fees.indemnityMinor;
    if (i._fees.provisional) provisional = true;
    for (const n of i._fees.notes ?? []) if (!notes.includes(n)) notes.push(n);
  }

  const open = invoices.reduce((s, i) => s + i._open, 0n);
  const overdue = invoices.filter((i) => i._overdue);
  const claimPenalties = input.claimPenalties === true && fees !== null;
  const claimed = open + (claimPenalties ? interest + indemnity : 0n);

  const org = input.organisation;
  const orgAddress = [nz(org.addressLine1), nz(org.addressLine2), [nz(org.postalCode), nz(org.city)].filter(Boolean).join(' ') || null]
    .filter(Boolean)
    .join(', ');
  const legalMentions = [
    org.legalName,
    nz(branding.footer),
    org.siren ? t(M, lang, 'siren', { v: groupSiren(org.siren) }) : null,
    org.vatNumber ? t(M, lang, 'vat', { v: org.vatNumber }) : null,
    orgAddress || null,
  ]
    .filter(Boolean)
    .join(' · ');

  const contact = input.contact ?? null;
  const contactName = nz(contact?.name);
  const customerAddress = [
    input.customer.legalName,
    contactName && contactName !== input.customer.legalName ? (lang === 'fr' ? `À l’attention de ${contactName}` : `For the attention of ${contactName}`) : null,
    nz(contact?.addressLine1),
    nz(contact?.addressLine2),
    [nz(contact?.postalCode), nz(contact?.city)].filter(Boolean).join(' ') || null,
    contact?.country && contact.country !== (org.country ?? 'FR') ? contact.country : null,
  ].filter((x): x is string => Boolean(x));

  const first = invoices[0]!;
  const single = invoices.length === 1;
  const iban = nz(org.iban);
  const remittance = single
    ? (first.reference ?? first.number)
    : truncate((lang === 'fr' ? 'Factures ' : 'Invoices ') + invoices.map((i) => i.number).join(' '), 140);

  const reminders = [...(input.reminders ?? [])]
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))
    .map((r) => {
      const date = long(r.date);
      const label = reminderLabel(lang, r.key);
      if (!r.channel) return { date, channel: null, label, text: t(M, lang, 'reminder_text_outside', { date, label }) };
      const channel = t(M, lang, `channel_${r.channel}`);
      return { date, channel, label, text: t(M, lang, 'reminder_text', { date, channel, label }) };
    });

  const deadlineDays = input.deadlineDays ?? 8;
  const strip = ({ _open, _amount, _overdue, _fees, ...rest }: (typeof invoices)[number]) => rest;

  const vars = {
    lang,
    today: long(at),
    today_short: short(at),
    organisation: {
      name: org.legalName,
      address_line1: nz(org.addressLine1),
      address_line2: nz(org.addressLine2),
      postal_code: nz(org.postalCode),
      city: nz(org.city),
      address: orgAddress,
      siren: org.siren ? groupSiren(org.siren) : null,
      siret: nz(org.siret),
      vat_number: nz(org.vatNumber),
      legal_mentions: legalMentions,
      email: nz(branding.email),
      phone: nz(branding.phone),
      website: nz(branding.website),
      place: nz(branding.place) ?? nz(org.city),
      signatory_name: nz(branding.signatoryName) ?? (lang === 'fr' ? 'Le service comptabilité clients' : 'Accounts receivable'),
      signatory_title: nz(branding.signatoryTitle),
    },
    customer: {
      name: input.customer.legalName,
      number: input.customer.number,
      is_business: isBusiness,
      is_consumer: !isBusiness,
      siren: input.customer.siren ? groupSiren(input.customer.siren) : null,
      vat_number: nz(input.customer.vatNumber),
      address_lines: customerAddress,
    },
    contact: {
      name: contactName,
      salutation: contactName ? t(M, lang, 'salutation_named', { name: contactName }) : t(M, lang, 'salutation_anonymous'),
      email: nz(contact?.email),
      phone: nz(contact?.phone),
    },
    invoice: strip(first),
    invoices: invoices.map(strip),
    totals: {
      count: invoices.length,
      amount: money(invoices.reduce((s, i) => s + i._amount, 0n)),
      open_amount: money(open),
      overdue_amount: money(overdue.reduce((s, i) => s + i._open, 0n)),
      overdue_count: overdue.length,
      credits: input.creditsMinor && input.creditsMinor > 0n ? money(input.creditsMinor) : null,
      max_days_past_due: Math.max(0, ...invoices.map((i) => i.days_past_due)),
      claimed: money(claimed),
    },
    penalties: {
      applicable: regime.interest !== null && regime.interest.runsFrom === 'due-date',
      indemnity_applicable: regime.indemnity !== null,
      from_notice: regime.interest?.runsFrom === 'formal-notice',
      computed: fees !== null,
      claimed: claimPenalties,
      interest: money(interest),
      indemnity: money(indemnity),
      total: money(interest + indemnity),
      law: regime.basis.law[lang],
      interest_basis: regime.basis.interest?.[lang] ?? t(M, lang, 'not_applicable'),
      indemnity_rule: regime.basis.indemnity?.[lang] ?? null,
      indemnity_basis: regime.basis.indemnity ? `${regime.basis.indemnity[lang]} (${(regime.basis.indemnityLaw ?? regime.basis.law)[lang]})` : t(M, lang, 'no_indemnity'),
      provisional,
      notes: notes.length ? notes.join(lang === 'fr' ? ' ; ' : '; ') : null,
    },
    payment: {
      beneficiary: org.legalName,
      iban: iban && isValidIban(iban) ? groupIban(iban) : null,
      bic: nz(org.bic),
      reference: single ? first.reference : null,
      remittance,
      // An instalment reminder asks for the instalment, not the whole balance.
      amount: money(input.plan?.current ? input.plan.current.amountMinor : claimed),
      link:
        nz(input.links?.payment) ??
        paymentLinkFor(branding.paymentLink, {
          invoice: invoices.map((i) => i.number).join(','),
          amount: toDecimalString(input.plan?.current ? input.plan.current.amountMinor : claimed, currency),
          currency,
          reference: single ? (first.reference ?? first.number) : remittance,
          customer: input.customer.number,
        }),
      portal_link: nz(input.links?.portal),
    },
    deadline: { days: deadlineDays, date: long(input.deadlineDate ?? addDays(at, deadlineDays)) },
    reminders,
    last_reminder: reminders.length ? reminders[reminders.length - 1]! : null,
    attachments: { invoices: (input.attachedInvoices ?? 0) > 0 },
    links: {
      satisfaction_happy: nz(input.links?.satisfactionHappy),
      satisfaction_unhappy: nz(input.links?.satisfactionUnhappy),
    },
    plan: input.plan
      ? {
          count: input.plan.installments.length,
          total: money(input.plan.installments.reduce((s, i) => s + i.amountMinor, 0n)),
          installments: input.plan.installments.map((i, n) => ({ number: n + 1, date: long(i.date), amount: money(i.amountMinor) })),
          current: input.plan.current
            ? { number: input.plan.current.seq, date: long(input.plan.current.date), amount: money(input.plan.current.amountMinor), overdue: input.plan.current.overdue }
            : null,
        }
      : null,
    promise: input.promise ? { date: long(input.promise.date), amount: money(input.promise.amountMinor) } : null,
    dispute: input.dispute
      ? { received_on: long(input.dispute.receivedOn), reason: nz(input.dispute.reason), reference: input.dispute.reference }
      : null,
    handover: input.handover ? { agency: input.handover.agency, date: long(input.handover.date) } : null,
    receipt: input.receipt
      ? {
          is_paid: input.receipt.kind === 'paid',
          is_plan_request: input.receipt.kind === 'plan_request',
          is_contact: input.receipt.kind === 'contact',
          paid_on: input.receipt.paidOn ? long(input.receipt.paidOn) : null,
          amount:
            input.receipt.amountMinor !== undefined && input.receipt.amountMinor !== null
              ? money(input.receipt.amountMinor)
              : input.receipt.installments?.length
                ? money(input.receipt.installments.reduce((s, i) => s + i.amountMinor, 0n))
                : null,
          reference: nz(input.receipt.reference),
          hold_until: input.receipt.holdUntil ? long(input.receipt.holdUntil) : null,
          installments: (input.receipt.installments ?? []).map((i, n) => ({ number: n + 1, date: long(i.date), amount: money(i.amountMinor) })),
          contact_name: input.receipt.contact?.name ?? null,
          contact_email: input.receipt.contact?.email ?? null,
          contact_phone: input.receipt.contact?.phone ?? null,
        }
      : null,
  };
  return {
    vars,
    currency,
    /** What the document asks to pay now (the QR code's amount): the instalment for an instalment reminder. */
    claimedMinor: input.plan?.current ? input.plan.current.amountMinor : claimed,
    /** RF reference when the document concerns one invoice whose number fits ISO 11649. */
    reference: single ? first.reference : null,
    remittance,
    iban: iban && isValidIban(iban) ? normaliseIban(iban) : null,
    bic: nz(org.bic),
    beneficiary: org.legalName,
  };
}

/** "13,15 % du 16 juin 2025 au 30 juin 2025 (15 jours) : 64,85 €". */
function periodText(lang: Lang, p: NonNullable<InvoiceFees['periods']>[number], money: (m: Minor) => string): string {
  const rate = lang === 'fr' ? `${p.ratePercent.replace('.', ',')}\u202f%` : `${p.ratePercent}%`;
  return t(M, lang, 'period', { rate, from: formatLongDate(p.from, lang), to: formatLongDate(p.to, lang), days: p.days === 1 ? t(M, lang, 'days_one') : t(M, lang, 'days_many', { n: p.days }), amount: money(p.interestMinor) });
}

function reminderLabel(lang: Lang, key: string): string {
  const k = `key_${key}`;
  return t(M, lang, (k in M ? k : 'key_other') as keyof typeof M);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * Check a variables object against VARIABLES: every documented name present, nothing else, types
 * right. Used by the tests and by validateTemplate's sample data.
 */
export function checkVariablesShape(vars: TemplateVariables): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, docs: Record<string, VarDoc>, path: string) => {
    const o = value as Record<string, unknown>;
    for (const [name, doc] of Object.entries(docs)) {
      const p = path ? `${path}.${name}` : name;
      if (!(name in o)) {
        problems.push(`${p} missing`);
        continue;
      }
      const v = o[name];
      if (v === null || v === undefined) {
        if (!doc.optional || v === undefined) problems.push(`${p} is ${v}`);
        continue;
      }
      const type = Array.isArray(v) ? 'list' : typeof v === 'object' ? 'object' : typeof v;
      if (type !== doc.type) problems.push(`${p} is a ${type}, documented as ${doc.type}`);
      if (doc.type === 'object' && doc.fields) walk(v, doc.fields, p);
      if (doc.type === 'list' && Array.isArray(v)) {
        v.forEach((item, i) => {
          if (doc.fields) walk(item, doc.fields, `${p}[${i}]`);
          else if (typeof item !== 'string') problems.push(`${p}[${i}] is not a string`);
        });
      }
    }
    for (const name of Object.keys(o)) if (!(name in docs)) problems.push(`${path ? `${path}.` : ''}${name} is not documented`);
  };
  walk(vars, VARIABLES, '');
  return problems;
}
