/**
 * The delivery codes as a reader words them (French and English): channels, delivery events,
 * registered-letter tracking, call outcomes and reasons for non-payment. Documents a user or a
 * court reads (the evidence file, CLI reports) say these words, never the stored codes.
 */
import { CHANNEL_WORDS } from '../domain/channels.ts';
import { CALL_OUTCOMES, NON_PAYMENT_REASONS } from '../domain/delivery.ts';
import { defineMessages, type Lang, t } from '../i18n/index.ts';

const CHANNEL = defineMessages(CHANNEL_WORDS);

const EVENT = defineMessages({
  handed_over: { fr: 'remis au prestataire', en: 'handed over to the provider' },
  accepted: { fr: 'accepté par le serveur destinataire', en: 'accepted by the receiving server' },
  exported: { fr: 'écrit pour un envoi à la main (rien n’est parti)', en: 'written for sending by hand (nothing left)' },
  refused_temporary: { fr: 'refus temporaire', en: 'temporarily refused' },
  refused_permanent: { fr: 'refus définitif', en: 'permanently refused' },
  uncertain: { fr: 'issue incertaine', en: 'outcome uncertain' },
  bounced: { fr: 'revenu en erreur (adresse rejetée)', en: 'bounced (address rejected)' },
  delivered: { fr: 'distribué', en: 'delivered' },
  printed: { fr: 'imprimé', en: 'printed' },
  deposited: { fr: 'déposé à la poste', en: 'posted' },
  receipt: { fr: 'avis de réception', en: 'proof of receipt' },
  returned: { fr: 'retourné à l’expéditeur', en: 'returned to sender' },
  resolved_sent: { fr: 'confirmé envoyé', en: 'confirmed sent' },
  resolved_not_sent: { fr: 'confirmé non envoyé', en: 'confirmed not sent' },
  confirmed_sent: { fr: 'envoi à la main confirmé', en: 'sending by hand confirmed' },
  requeued: { fr: 'remis en file', en: 'queued again' },
  task_created: { fr: 'tâche créée', en: 'task created' },
  fallback: { fr: 'remplacé par un autre canal', en: 'replaced by another channel' },
  cancelled: { fr: 'annulé', en: 'cancelled' },
  approved: { fr: 'validé', en: 'approved' },
  replied: { fr: 'réponse du client', en: 'reply from the customer' },
  auto_replied: { fr: 'réponse automatique', en: 'automatic reply' },
});

const TRACKING = defineMessages({
  submitted: { fr: 'confié au prestataire', en: 'submitted to the provider' },
  deposited: { fr: 'déposé à la poste', en: 'posted' },
  delivered: { fr: 'distribué', en: 'delivered' },
  returned: { fr: 'retourné à l’expéditeur', en: 'returned to sender' },
});

const CALL_OUTCOME = defineMessages({
  reached: { fr: 'client joint', en: 'customer reached' },
  no_answer: { fr: 'pas de réponse', en: 'no answer' },
  wrong_number: { fr: 'mauvais numéro', en: 'wrong number' },
  promise_to_pay: { fr: 'promesse de paiement', en: 'promise to pay' },
  dispute: { fr: 'litige', en: 'dispute' },
  already_paid: { fr: 'dit avoir déjà payé', en: 'says already paid' },
  payment_plan_requested: { fr: 'demande un échéancier', en: 'asks for a payment plan' },
} satisfies Record<(typeof CALL_OUTCOMES)[number], { fr: string; en: string }>);

const NON_PAYMENT = defineMessages({
  forgot: { fr: 'oubli', en: 'forgot' },
  invoice_not_received: { fr: 'facture non reçue', en: 'invoice not received' },
  missing_purchase_order: { fr: 'bon de commande manquant', en: 'missing purchase order' },
  dispute: { fr: 'litige', en: 'dispute' },
  cash_difficulty: { fr: 'difficultés de trésorerie', en: 'cash difficulty' },
  bad_faith: { fr: 'mauvaise foi', en: 'bad faith' },
  other: { fr: 'autre', en: 'other' },
} satisfies Record<(typeof NON_PAYMENT_REASONS)[number], { fr: string; en: string }>);

/** A code of one of these families in words; a code the catalogue does not know is kept as it is. */
function word<M extends Record<string, { fr: string; en: string }>>(catalogue: M, code: string, lang: Lang): string {
  return Object.hasOwn(catalogue, code) ? t(catalogue, lang, code as keyof M & string) : code;
}

export const channelWord = (code: string, lang: Lang) => word(CHANNEL, code, lang);
export const eventWord = (code: string, lang: Lang) => word(EVENT, code, lang);
export const trackingWord = (code: string, lang: Lang) => word(TRACKING, code, lang);
export const callOutcomeWord = (code: string, lang: Lang) => word(CALL_OUTCOME, code, lang);
export const nonPaymentWord = (code: string, lang: Lang) => word(NON_PAYMENT, code, lang);
