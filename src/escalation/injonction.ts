/**
 * The request for an order for payment (injonction de payer), prefilled from the ledger: which
 * procedure (a business debtor: the commercial court's online filing; a consumer or civil debt:
 * the Cerfa request form; a debtor in another EU country: the European order for payment,
 * Regulation (EC) 1896/2006, form A), and the data each asks, with the supporting documents of the
 * case file. Refused, with the reason, when the debt is disputed, time-barred, or was never the
 * subject of a formal notice (CPC 1405 needs a claim of a determined amount; a disputed one is not
 * what the summary procedure is for; a formal notice is the practice the brief records).
 *
 * The form numbers come from secondary sources in the brief (Cerfa 12948*06 for the tribunal
 * judiciaire, 12946*02 for the tribunal de commerce: "check service-public"): printed as such.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import { type CalendarDate, formatShortDate } from '../domain/dates.ts';
import type { RateTables } from '../domain/law/index.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';
import { getCustomer, getOrganisation } from '../ledger/repo.ts';
import { claimAt } from './claim.ts';
import { caseFileReference } from './handover.ts';
import { escalationPdf, fields, heading, longDate, money, para, table, title } from './pdf.ts';

const E = defineErrors('escalation-injonction', {
  disputed: { fr: "injonction de payer refusée : la facture {invoice} fait l’objet d’un litige en cours ({reason}) ; une créance contestée ne relève pas de cette procédure", en: "order for payment refused: invoice {invoice} is under an open dispute ({reason}); a contested claim is not for this procedure" },
  prescribed: { fr: "injonction de payer refusée : la créance de la facture {invoice} est prescrite depuis le {date} ({basis})", en: "order for payment refused: the claim of invoice {invoice} has been time-barred since {date} ({basis})" },
  no_notice: { fr: "injonction de payer refusée : la facture {invoice} n’a fait l’objet d’aucune mise en demeure envoyée ; envoyez-la d’abord", en: "order for payment refused: no formal notice was sent for invoice {invoice}; send one first" },
  insolvent: { fr: "injonction de payer refusée : le client fait l’objet d’une procédure collective ; la créance se déclare au mandataire", en: "order for payment refused: the customer is under collective proceedings; the claim is declared to the representative" },
});

export type InjonctionProcedure = 'commercial_court' | 'cerfa' | 'european_order';

/** The Member States of Regulation 1896/2006: the EU without Denmark (art. 2(3)). */
export const EOP_MEMBER_STATES = ['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE'] as const;

/** Which procedure: cross-border in the EU first, then business or consumer/civil. */
export function injonctionProcedure(creditorCountry: string, debtorCountry: string, debtorKind: 'business' | 'consumer'): InjonctionProcedure {
  const eu = (c: string) => (EOP_MEMBER_STATES as readonly string[]).includes(c.toUpperCase());
  if (debtorCountry !== creditorCountry && eu(debtorCountry) && eu(creditorCountry)) return 'european_order';
  return debtorKind === 'business' ? 'commercial_court' : 'cerfa';
}

const M = defineMessages({
  title_commercial_court: { fr: 'Requête en injonction de payer — tribunal de commerce', en: 'Request for an order for payment — commercial court' },
  title_cerfa: { fr: 'Requête en injonction de payer — formulaire Cerfa', en: 'Request for an order for payment — Cerfa form' },
  title_european_order: { fr: 'Injonction de payer européenne — formulaire A (règlement (CE) n° 1896/2006)', en: 'European order for payment — form A (Regulation (EC) No 1896/2006)' },
  how_commercial_court: { fr: 'Données demandées par le dépôt en ligne au greffe du tribunal de commerce du siège du débiteur (Infogreffe / Tribunal Digital), ou formulaire Cerfa 12946*02 (référence à vérifier sur service-public.fr).', en: "Data the online filing with the registry of the commercial court of the debtor's registered office asks for (Infogreffe / Tribunal Digital), or form Cerfa 12946*02 (number to check on service-public.fr)." },
  how_cerfa: { fr: 'Champs du formulaire Cerfa 12948*06 (requête en injonction de payer devant le tribunal judiciaire ; référence à vérifier sur service-public.fr), à déposer au tribunal du domicile du débiteur.', en: "Fields of form Cerfa 12948*06 (request for an order for payment before the tribunal judiciaire; number to check on service-public.fr), filed with the court of the debtor's domicile." },
  how_european_order: { fr: 'Champs du formulaire A, à déposer devant la juridiction compétente de l’État membre choisi selon le règlement (CE) n° 1215/2012 (art. 6 du règlement 1896/2006).', en: 'Fields of form A, filed with the competent court of the Member State chosen under Regulation (EC) No 1215/2012 (art. 6 of Regulation 1896/2006).' },
  claimant: { fr: 'Demandeur (créancier)', en: 'Claimant (creditor)' },
  defendant: { fr: 'Défendeur (débiteur)', en: 'Defendant (debtor)' },
  name: { fr: 'Dénomination', en: 'Name' },
  siren: { fr: 'SIREN', en: 'SIREN' },
  vat: { fr: 'N° de TVA', en: 'VAT number' },
  address: { fr: 'Adresse', en: 'Address' },
  country: { fr: 'Pays', en: 'Country' },
  email: { fr: 'Courriel', en: 'E-mail' },
  iban: { fr: 'Compte pour le paiement', en: 'Account for payment' },
  capacity: { fr: 'Qualité', en: 'Capacity' },
  business: { fr: 'professionnel', en: 'business' },
  consumer: { fr: 'consommateur', en: 'consumer' },
  claim: { fr: 'Montant réclamé', en: 'Amount claimed' },
  principal: { fr: 'Principal', en: 'Principal' },
  interest: { fr: 'Intérêts de retard au {date}', en: 'Late-payment interest to {date}' },
  indemnity: { fr: 'Indemnités forfaitaires', en: 'Fixed indemnities' },
  total: { fr: 'Total', en: 'Total' },
  interest_basis: { fr: 'Fondement des intérêts', en: 'Basis of the interest' },
  cause: { fr: 'Cause de la créance', en: 'Cause of the claim' },
  cause_text: { fr: 'Factures impayées de biens livrés ou de services rendus, détaillées ci-dessous.', en: 'Unpaid invoices for goods delivered or services rendered, listed below.' },
  col_invoice: { fr: 'Facture', en: 'Invoice' },
  col_issue: { fr: 'Émise le', en: 'Issued' },
  col_due: { fr: 'Échéance', en: 'Due' },
  col_open: { fr: 'Reste dû', en: 'Open' },
  notices: { fr: 'Mise en demeure', en: 'Formal notice' },
  notice_line: { fr: 'Envoyée le {date}', en: 'Sent on {date}' },
  documents: { fr: 'Pièces justificatives (dossier {ref})', en: 'Supporting documents (case file {ref})' },
  doc_invoice: { fr: 'Facture {number}', en: 'Invoice {number}' },
  doc_notice: { fr: 'Mise en demeure et preuve d’envoi', en: 'Formal notice and proof of dispatch' },
  doc_statement: { fr: 'Relevé de compte', en: 'Statement of account' },
  cross_border: { fr: 'Caractère transfrontalier : le demandeur est en {c1}, le défendeur en {c2}.', en: 'Cross-border: the claimant is in {c1}, the defendant in {c2}.' },
  made: { fr: 'Établi le {date}.', en: 'Prepared on {date}.' },
});

export interface Injonction {
  procedure: InjonctionProcedure;
  pdf: Buffer;
  totalMinor: bigint;
  currency: string;
}

/** The request's data as a PDF, or a refusal naming the invoice and the reason. */
export async function injonctionRequest(q: Queryable, orgId: string, customerId: bigint, rates: RateTables, today: CalendarDate, opts: { invoiceNumbers?: string[] | null; lang?: Lang } = {}): Promise<Injonction> {
  const org = await getOrganisation(q, orgId);
  const customer = await getCustomer(q, orgId, customerId);
  const [insolvent] = await q.query(`SELECT 1 FROM insolvency_proceedings WHERE organisation_id = $1 AND customer_id = $2 AND status = 'open'`, [orgId, customerId]);
  if (insolvent) throw new RelanceError(ERROR_CODES.LEGAL_RULE, E('insolvent'), { where: { field: '--customer' } });
  const claim = await claimAt(q, orgId, customerId, today, rates, { invoiceNumbers: opts.invoiceNumbers ?? null, today });
  const ids = claim.lines.map((l) => l.invoiceId);
  const disputes = await q.query<{ reason: string; invoice_ids: bigint[] | null }>(
    `SELECT reason, invoice_ids FROM disputes WHERE organisation_id = $1 AND customer_id = $2 AND resolved_on IS NULL AND (invoice_ids IS NULL OR invoice_ids && $3::bigint[]) ORDER BY id`,
    [orgId, customerId, pgArray(ids)],
  );
  for (const l of claim.lines) {
    const d = disputes.find((x) => x.invoice_ids === null || x.invoice_ids.map(String).includes(String(l.invoiceId)));
    if (d) throw new RelanceError(ERROR_CODES.LEGAL_RULE, E('disputed', { invoice: l.number, reason: d.reason }), { where: { field: 'invoices' } });
    if (l.limitation.status === 'prescribed') {
      throw new RelanceError(ERROR_CODES.LEGAL_RULE, E('prescribed', { invoice: l.number, date: l.limitation.deadline, basis: l.limitation.legalBasis }), { where: { field: 'invoices' } });
    }
  }
  // A formal notice sent by Relance for the invoice, or one sent before Relance (its history).
  const notices = await q.query<{ invoice_id: bigint; sent_on: CalendarDate }>(
    `SELECT sr.invoice_id, (a.sent_at AT TIME ZONE o.time_zone)::date AS sent_on
       FROM step_records sr JOIN actions a ON a.organisation_id = sr.organisation_id AND a.id = sr.action_id JOIN organisations o ON o.id = a.organisation_id
      WHERE sr.organisation_id = $1 AND sr.invoice_id = ANY($2::bigint[]) AND a.tone = 'formal_notice' AND a.status = 'sent'
     UNION ALL
     SELECT invoice_id, sent_on FROM outside_reminders WHERE organisation_id = $1 AND invoice_id = ANY($2::bigint[]) AND level = 'formal_notice'
     ORDER BY 2`,
    [orgId, pgArray(ids)],
  );
  for (const l of claim.lines) {
    if (!notices.some((n) => n.invoice_id === l.invoiceId)) throw new RelanceError(ERROR_CODES.LEGAL_RULE, E('no_notice', { invoice: l.number }), { where: { field: 'invoices' } });
  }

  const procedure = injonctionProcedure(org.country, customer.country, customer.kind);
  const L: Lang = opts.lang ?? org.language;
  const m = (k: keyof typeof M, v: Record<string, string> = {}) => t(M, L, k, v);
  const cur = claim.currency;
  const contact = customer.contacts.find((c) => c.addressLine1) ?? customer.contacts[0] ?? null;
  const addr = (c: { addressLine1: string | null; postalCode: string | null; city: string | null } | null) => (c ? [c.addressLine1, [c.postalCode, c.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') : null);
  const { doc, bytes } = escalationPdf(m(`title_${procedure}`), L, today);
  title(doc, m(`title_${procedure}`));
  para(doc, m(`how_${procedure}`), { size: 8.5, color: '#333333' });
  if (procedure === 'european_order') para(doc, m('cross_border', { c1: org.country, c2: customer.country }));
  heading(doc, m('claimant'));
  fields(doc, [[m('name'), org.legalName], [m('siren'), org.siren], [m('vat'), org.vatNumber], [m('address'), addr(org)], [m('country'), org.country], [m('iban'), org.iban]], L);
  heading(doc, m('defendant'));
  fields(
    doc,
    [[m('name'), customer.legalName], [m('capacity'), m(customer.kind)], [m('siren'), customer.siren], [m('vat'), customer.vatNumber], [m('address'), addr(contact)], [m('country'), customer.country], [m('email'), contact?.email]],
    L,
  );
  heading(doc, m('claim'));
  fields(
    doc,
    [
      [m('principal'), money(claim.principalMinor, cur, L)],
      [m('interest', { date: longDate(today, L) }), money(claim.interestMinor, cur, L)],
      [m('indemnity'), money(claim.indemnityMinor, cur, L)],
      [m('total'), money(claim.totalMinor, cur, L)],
      [m('interest_basis'), [claim.regime.regime.basis.interest?.[L], claim.regime.regime.basis.law[L]].filter(Boolean).join(' — ')],
    ],
    L,
  );
  heading(doc, m('cause'));
  para(doc, m('cause_text'));
  table(
    doc,
    [{ header: m('col_invoice'), width: 90 }, { header: m('col_issue'), width: 70 }, { header: m('col_due'), width: 70 }, { header: m('col_open'), width: 90, align: 'right' }],
    claim.lines.map((l) => [l.number, formatShortDate(l.issueDate, L), formatShortDate(l.dueDate, L), money(l.principalMinor, cur, L)]),
  );
  heading(doc, m('notices'));
  for (const d of [...new Set(notices.map((n) => n.sent_on))]) para(doc, m('notice_line', { date: formatShortDate(d, L) }));
  heading(doc, m('documents', { ref: caseFileReference(customerId, today) }));
  for (const l of claim.lines) para(doc, `- ${m('doc_invoice', { number: l.number })}`);
  para(doc, `- ${m('doc_notice')}`);
  para(doc, `- ${m('doc_statement')}`);
  doc.moveDown(0.6);
  para(doc, m('made', { date: longDate(today, L) }));
  doc.end();
  return { procedure, pdf: await bytes, totalMinor: claim.totalMinor, currency: cur };
}
