/** Error texts of the command line's own checks (options and arguments), in French and English. */
import { defineErrors } from '../i18n/index.ts';

export const CE = defineErrors('cli-options', {
  whole_number: { fr: '{name} doit être un nombre entier, reçu « {value} »', en: '{name} must be a whole number, got "{value}"' },
  nothing_to_seed: { fr: 'rien à créer : ajoutez --demo', en: 'nothing to seed: pass --demo' },
  action_id: { fr: 'un identifiant d’action est un nombre, reçu « {value} »', en: 'an action id is a number, got "{value}"' },
  ids_or_all: { fr: 'indiquez des identifiants d’action ou --all avec des filtres, pas les deux', en: 'give action ids or --all with filters, not both' },
  ids_needed: {
    fr: 'indiquez des identifiants d’action, ou --all (éventuellement avec --status, --channel, --customer, --date)',
    en: 'give action ids, or --all (optionally with --status, --channel, --customer, --date)',
  },
  customer_id: { fr: 'l’identifiant client doit être un nombre, reçu « {value} »', en: 'customer id must be a number, got "{value}"' },
  as: { fr: '--as doit valoir sent ou not-sent, reçu « {value} »', en: '--as must be sent or not-sent, got "{value}"' },
  smtp_security: { fr: '--smtp-security doit valoir none, starttls ou tls', en: '--smtp-security must be none, starttls or tls' },
  provider: { fr: '--{which}-provider doit valoir local ou http', en: '--{which}-provider must be local or http' },
  rate: { fr: '--rate attend canal=messages-par-minute, reçu « {value} »', en: '--rate takes channel=messages-per-minute, got "{value}"' },
  proof_kind: { fr: '--kind doit valoir deposit, receipt ou return', en: '--kind must be deposit, receipt or return' },
  proof_kind_needed: { fr: 'précisez la nature de la preuve avec --kind', en: 'say what the proof is with --kind' },
  lang_not: { fr: '--lang doit valoir fr ou en, pas « {value} »', en: '--lang must be fr or en, not "{value}"' },
  lang_got: { fr: '--lang doit valoir fr ou en, reçu « {value} »', en: '--lang must be fr or en, got "{value}"' },
  language_got: { fr: 'la langue doit être fr ou en, reçu « {value} »', en: 'language must be fr or en, got "{value}"' },
  one_of: { fr: '{option} doit valoir l’une de ces valeurs : {allowed}', en: '{option} must be one of {allowed}' },
  one_of_not: { fr: '{option} doit valoir l’une de ces valeurs : {allowed}, pas « {value} »', en: '{option} must be one of {allowed}, not "{value}"' },
  template_parts: { fr: 'un modèle {channel} a pour parties : {parts}', en: 'a {channel} template has parts {parts}' },
  invoice_or_customer: { fr: 'indiquez soit --invoice, soit --customer', en: 'give exactly one of --invoice or --customer' },
  customer_or_invoice: { fr: 'indiquez soit --customer, soit --invoice', en: 'give exactly one of --customer or --invoice' },
  mapping_file: { fr: 'impossible de lire le fichier de correspondance : {reason}', en: 'cannot read the mapping file: {reason}' },
  cannot_read: { fr: 'impossible de lire {file} : {reason}', en: 'cannot read {file}: {reason}' },
  amount_positive: { fr: '--amount doit être positif', en: '--amount must be positive' },
  paid_or_at: { fr: 'indiquez --paid (date de paiement) ou --at (date du calcul), pas les deux', en: 'give --paid (payment date) or --at (date of computation), not both' },
  payment_format: { fr: '--payment « {value} » doit être au format DATE:MONTANT, par exemple 2025-07-31:4000.00', en: '--payment "{value}" must be DATE:AMOUNT, e.g. 2025-07-31:4000.00' },
});
