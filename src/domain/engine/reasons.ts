/**
 * Why a step was skipped or cancelled, in words (French and English): the planner's skip reasons
 * and the re-checks' cancellation reasons, as step records and actions store them (a code each,
 * several joined by commas).
 */
import { defineMessages, type Lang, t } from '../../i18n/index.ts';

const REASONS = defineMessages({
  superseded: { fr: 'remplacée par une étape plus avancée', en: 'superseded by a later step' },
  condition_not_met: { fr: 'condition de l’étape non remplie', en: 'the step’s condition is not met' },
  no_contact_channel: { fr: 'aucun moyen de joindre le client sur ce canal', en: 'no way to reach the customer on this channel' },
  due_date_passed: {
    fr: 'échéance déjà passée : un avis avant échéance n’est plus envoyé',
    en: 'due date already passed: a notice before the due date is no longer sent',
  },
  paused: { fr: 'relances suspendues', en: 'reminders paused' },
  paid: { fr: 'facture réglée', en: 'invoice paid' },
  disputed: { fr: 'facture en litige', en: 'invoice disputed' },
  plan_ended: { fr: 'échéancier terminé', en: 'payment plan ended' },
  scenario_changed: { fr: 'étape retirée du scénario', en: 'step removed from the scenario' },
  no_invoice: { fr: 'plus aucune facture à relancer', en: 'no invoice left to remind' },
  review: { fr: 'en attente d’approbation : l’organisation est en mode revue', en: 'awaiting approval: the organisation is in review mode' },
  review_expired: { fr: 'non approuvée pendant le mode revue : replanifiée', en: 'not approved during review mode: planned again' },
  outside: { fr: 'envoyée hors Relance', en: 'sent outside Relance' },
  reminder_sent: { fr: 'attend une relance effectivement envoyée, puis l’écart minimum', en: 'waits for a reminder actually sent, then the minimum gap' },
  formal_notice_expired: { fr: 'attend une mise en demeure envoyée et l’expiration de son délai', en: 'waits for a formal notice sent and its deadline passed' },
  escalation_apart: { fr: 'attend le message suivant : une escalade ne porte que ses propres factures', en: 'waits for the next message: an escalation carries only its own invoices' },
  provisional_rate: { fr: 'attend un taux officiel encore inconnu : les pénalités réclamées seraient provisoires', en: 'waits for an official rate not yet known: the penalties claimed would be provisional' },
  min_gap: { fr: 'attend l’écart minimum depuis le message précédent', en: 'waits for the minimum gap since the previous message' },
  prerequisite: { fr: 'attend l’étape qui doit la précéder', en: 'waits for the step that must come before it' },
  insolvency: { fr: 'procédure collective : le recouvrement est arrêté', en: 'insolvency proceedings: recovery is stopped' },
  handover: { fr: 'dossier transmis au recouvrement', en: 'case handed over to collection' },
  'confirmed sent by a human': { fr: 'envoi confirmé par une personne', en: 'confirmed sent by a person' },
  'confirmed not sent by a human': { fr: 'non-envoi confirmé par une personne', en: 'confirmed not sent by a person' },
  queued_again_by: { fr: 'remise en file par {who}', en: 'queued again by {who}' },
});

/** "paused,paid" -> "relances suspendues, facture réglée"; an unknown code is kept as it is. */
export function reasonText(codes: string | null | undefined, lang: Lang): string {
  if (!codes) return '';
  return codes
    .split(',')
    .map((c) => {
      // "queued again by <user>" is stored with the user's address.
      const again = /^queued again by (.+)$/.exec(c);
      if (again) return t(REASONS, lang, 'queued_again_by', { who: again[1]! });
      return Object.hasOwn(REASONS, c) ? t(REASONS, lang, c as keyof typeof REASONS) : c;
    })
    .join(', ');
}
