/**
 * Collective proceedings against a customer (safeguard, receivership, liquidation): recorded with
 * the judgment and its BODACC publication; the recovery stops for the debtor at once (stop.ts);
 * the claim must be declared to the court-appointed representative before the legal deadline (a
 * task due that day); the declaration letter is prefilled from the ledger as it stood on the
 * judgment date; what will not be recovered is written off with a reason and a second person's
 * approval, with the VAT figures the accountant needs.
 */
import type { Queryable } from '../db/driver.ts';
import { type CalendarDate, calendarDate, formatShortDate } from '../domain/dates.ts';
import {
  badDebtVat,
  type BadDebtVatLine,
  claimDeclarationDeadline,
  type ClaimDeclarationOverride,
  claimDeclarationRule,
  type ClaimDeclarationRule,
  creditorAbroadByCountry,
  PROCEEDING_KINDS,
  type ProceedingKind,
} from '../domain/escalation/insolvency.ts';
import type { RateTables } from '../domain/law/index.ts';
import type { Minor } from '../domain/money.ts';
import { replanCustomer } from '../engine/events.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../i18n/index.ts';
import { getCustomer, getInvoice, getOrganisation, writeOff } from '../ledger/repo.ts';
import { claimAt, type Claim } from './claim.ts';
import { escalationPdf, fields, heading, longDate, money, para, table, title } from './pdf.ts';
import { stopRecovery } from './stop.ts';

const E = defineErrors('escalation-insolvency', {
  kind: { fr: "type de procédure inconnu « {kind} » (safeguard, receivership ou liquidation)", en: "unknown kind of proceeding \"{kind}\" (safeguard, receivership or liquidation)" },
  already_open: { fr: "une procédure collective est déjà ouverte pour ce client (n° {id}) : clôturez-la d’abord (conversion)", en: "collective proceedings are already open for this customer (no. {id}): close them first (conversion)" },
  judgment_future: { fr: "la date du jugement ne peut pas être dans le futur", en: "the judgment date cannot be in the future" },
  publication_before: { fr: "la publication au BODACC ne peut pas précéder le jugement", en: "the BODACC publication cannot precede the judgment" },
  closed: { fr: "la procédure {id} est close", en: "proceedings {id} are closed" },
  reason: { fr: "un passage en perte doit avoir un motif", en: "a write-off needs a reason" },
  who: { fr: "indiquez qui propose ou approuve le passage en perte", en: "say who proposes or approves the write-off" },
  same_person: { fr: "le passage en perte doit être approuvé par une autre personne que celle qui l’a proposé ({who})", en: "the write-off must be approved by someone other than who proposed it ({who})" },
  decided: { fr: "la demande de passage en perte {id} est déjà {status}", en: "write-off request {id} is already {status}" },
  nothing: { fr: "rien à passer en perte : aucune facture ouverte retenue", en: "nothing to write off: no open invoice chosen" },
  amount_over: { fr: "la facture {invoice} ne doit plus que {open}", en: "invoice {invoice} owes only {open}" },
  months: { fr: "le délai doit être un nombre entier de mois de 0 à 24", en: "the deadline must be a whole number of months from 0 to 24" },
  under_proceedings: { fr: "le client fait l’objet d’une procédure collective (n° {id}) : plus de pénalités ni de relances, la créance se déclare au mandataire", en: "the customer is under collective proceedings (no. {id}): no more penalties or reminders, the claim is declared to the representative" },
  not_found_request: { fr: "demande de passage en perte {id} introuvable", en: "write-off request {id} not found" },
  not_found_proceeding: { fr: "procédure collective {id} introuvable", en: "collective proceedings {id} not found" },
});

export interface Proceeding {
  id: bigint;
  customerId: bigint;
  kind: ProceedingKind;
  judgmentDate: CalendarDate;
  publicationDate: CalendarDate | null;
  court: string | null;
  caseNumber: string | null;
  representativeName: string | null;
  representativeAddress: string | null;
  creditorAbroad: boolean;
  declarationDeadline: CalendarDate | null;
  deadlineRule: string | null;
  privilege: string | null;
  declaredOn: CalendarDate | null;
  status: 'open' | 'closed';
  closedOn: CalendarDate | null;
  pauseId: bigint;
  recordedOn: CalendarDate;
  note: string | null;
}

const s = (v: unknown) => (v === null || v === undefined ? null : String(v));

function toProceeding(r: Record<string, unknown>): Proceeding {
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    kind: r.kind as ProceedingKind,
    judgmentDate: r.judgment_date as CalendarDate,
    publicationDate: (r.publication_date as CalendarDate | null) ?? null,
    court: s(r.court),
    caseNumber: s(r.case_number),
    representativeName: s(r.representative_name),
    representativeAddress: s(r.representative_address),
    creditorAbroad: Boolean(r.creditor_abroad),
    declarationDeadline: (r.declaration_deadline as CalendarDate | null) ?? null,
    deadlineRule: s(r.deadline_rule),
    privilege: s(r.privilege),
    declaredOn: (r.declared_on as CalendarDate | null) ?? null,
    status: r.status as Proceeding['status'],
    closedOn: (r.closed_on as CalendarDate | null) ?? null,
    pauseId: r.pause_id as bigint,
    recordedOn: r.recorded_on as CalendarDate,
    note: s(r.note),
  };
}

// ------------------------------------------------------------------ settings

export interface EscalationSettings {
  claimDeclaration?: ClaimDeclarationOverride;
}

export async function getEscalationSettings(q: Queryable, orgId: string): Promise<EscalationSettings> {
  const [r] = await q.query<{ settings: unknown }>('SELECT settings FROM escalation_settings WHERE organisation_id = $1', [orgId]);
  if (!r) return {};
  return (typeof r.settings === 'string' ? JSON.parse(r.settings) : r.settings) as EscalationSettings;
}

/** Overrides the shipped declaration deadline (null: back to the shipped rule). */
export async function setClaimDeclarationRule(q: Queryable, orgId: string, o: ClaimDeclarationOverride | null): Promise<ClaimDeclarationRule> {
  for (const [field, v] of Object.entries(o ?? {})) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 24)) throw validation(E('months'), { field });
  }
  const current = await getEscalationSettings(q, orgId);
  const next: EscalationSettings = { ...current, claimDeclaration: o ?? undefined };
  if (!o) delete next.claimDeclaration;
  await q.query(
    `INSERT INTO escalation_settings (organisation_id, settings) VALUES ($1, $2::jsonb)
     ON CONFLICT (organisation_id) DO UPDATE SET settings = excluded.settings, updated_at = now()`,
    [orgId, JSON.stringify(next)],
  );
  return claimDeclarationRule(next.claimDeclaration);
}

export async function declarationRuleOf(q: Queryable, orgId: string): Promise<ClaimDeclarationRule> {
  return claimDeclarationRule((await getEscalationSettings(q, orgId)).claimDeclaration);
}

// ------------------------------------------------------------------ proceedings

export interface ProceedingInput {
  customerId: bigint;
  kind: string;
  judgmentDate: string;
  publicationDate?: string | null;
  court?: string | null;
  caseNumber?: string | null;
  representativeName?: string | null;
  representativeAddress?: string | null;
  /** Default: the organisation's country is not France. */
  creditorAbroad?: boolean | null;
  privilege?: string | null;
  note?: string | null;
}

export async function getProceeding(q: Queryable, orgId: string, id: bigint): Promise<Proceeding> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM insolvency_proceedings WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!r) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('not_found_proceeding', { id: String(id) }), { details: { what: 'insolvency proceeding', id: String(id) } });
  return toProceeding(r);
}

export async function listProceedings(q: Queryable, orgId: string, opts: { customerId?: bigint | null; openOnly?: boolean } = {}): Promise<Proceeding[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT * FROM insolvency_proceedings WHERE organisation_id = $1 AND ($2::bigint IS NULL OR customer_id = $2) AND (NOT $3::boolean OR status = 'open') ORDER BY id`,
    [orgId, opts.customerId ?? null, opts.openOnly === true],
  );
  return rows.map(toProceeding);
}

/** The open proceedings of a customer, if any. */
export async function openProceeding(q: Queryable, orgId: string, customerId: bigint): Promise<Proceeding | null> {
  const [r] = await q.query<Record<string, unknown>>(`SELECT * FROM insolvency_proceedings WHERE organisation_id = $1 AND customer_id = $2 AND status = 'open'`, [orgId, customerId]);
  return r ? toProceeding(r) : null;
}

/** Refuses what collective proceedings forbid (booking penalties...). */
export async function refuseUnderProceedings(q: Queryable, orgId: string, customerId: bigint, field = 'customer'): Promise<void> {
  const p = await openProceeding(q, orgId, customerId);
  if (p) throw new RelanceError(ERROR_CODES.LEGAL_RULE, E('under_proceedings', { id: String(p.id) }), { where: { field } });
}

/** The declaration task: due on the deadline, one per proceeding (its due day follows the deadline). */
async function raiseDeclarationTask(q: Queryable, orgId: string, p: Proceeding): Promise<void> {
  if (!p.declarationDeadline || p.declaredOn) return;
  const note = `declare the claim to ${p.representativeName ?? 'the court-appointed representative'} by ${p.declarationDeadline} (${p.deadlineRule})`;
  await q.query(
    `INSERT INTO tasks (organisation_id, customer_id, kind, source_id, due_on, note) VALUES ($1,$2,'insolvency_declaration',$3,$4,$5)
     ON CONFLICT (organisation_id, kind, source_id) DO UPDATE SET due_on = excluded.due_on, note = excluded.note
       WHERE tasks.status = 'open'`,
    [orgId, p.customerId, p.id, p.declarationDeadline, note],
  );
}

function deadlineOf(publication: CalendarDate | null, abroad: boolean, rule: ClaimDeclarationRule): { deadline: CalendarDate | null; rule: string | null } {
  if (!publication) return { deadline: null, rule: null };
  const months = rule.months + (abroad ? rule.abroadExtraMonths : 0);
  return { deadline: claimDeclarationDeadline(publication, abroad, rule), rule: `${months} months from publication, ${rule.source}${rule.verified ? '' : ' [to verify]'}` };
}

/**
 * Records collective proceedings: the recovery stops for the debtor now (pending actions cancelled
 * with reason "insolvency", a customer-wide pause), and the declaration task is raised when the
 * publication date is known.
 */
export async function recordProceeding(q: Queryable, orgId: string, input: ProceedingInput, today: CalendarDate): Promise<{ proceeding: Proceeding; cancelledActions: number }> {
  if (!(PROCEEDING_KINDS as readonly string[]).includes(input.kind)) throw validation(E('kind', { kind: input.kind }), { field: 'kind' });
  const judgment = calendarDate(input.judgmentDate, { field: 'judgmentDate' });
  if (judgment > today) throw validation(E('judgment_future'), { field: 'judgmentDate' });
  const publication = input.publicationDate ? calendarDate(input.publicationDate, { field: 'publicationDate' }) : null;
  if (publication && publication < judgment) throw validation(E('publication_before'), { field: 'publicationDate' });
  await getCustomer(q, orgId, input.customerId);
  const existing = await openProceeding(q, orgId, input.customerId);
  if (existing) throw new RelanceError(ERROR_CODES.CONFLICT, E('already_open', { id: String(existing.id) }), { where: { field: 'customerId' } });
  const org = await getOrganisation(q, orgId);
  const abroad = input.creditorAbroad ?? creditorAbroadByCountry(org.country);
  const { deadline, rule } = deadlineOf(publication, abroad, await declarationRuleOf(q, orgId));
  const stop = await stopRecovery(q, orgId, { customerId: input.customerId, invoiceIds: null, reason: 'insolvency', note: `${input.kind} judgment ${judgment}` }, today);
  const [row] = await q.query<Record<string, unknown>>(
    `INSERT INTO insolvency_proceedings (organisation_id, customer_id, kind, judgment_date, publication_date, court, case_number, representative_name,
       representative_address, creditor_abroad, declaration_deadline, deadline_rule, privilege, pause_id, recorded_on, note)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING *`,
    [
      orgId, input.customerId, input.kind, judgment, publication, input.court ?? null, input.caseNumber ?? null, input.representativeName ?? null,
      input.representativeAddress ?? null, abroad, deadline, rule, input.privilege ?? null, stop.pauseId, today, input.note ?? null,
    ],
  );
  const proceeding = toProceeding(row!);
  await raiseDeclarationTask(q, orgId, proceeding);
  return { proceeding, cancelledActions: stop.cancelledActions };
}

/** The publication date, once known (or corrected): the deadline and its task follow. */
export async function setPublication(q: Queryable, orgId: string, id: bigint, publicationDate: string): Promise<Proceeding> {
  const p = await getProceeding(q, orgId, id);
  if (p.status !== 'open') throw validation(E('closed', { id: String(id) }), { field: 'id' });
  const publication = calendarDate(publicationDate, { field: 'publicationDate' });
  if (publication < p.judgmentDate) throw validation(E('publication_before'), { field: 'publicationDate' });
  const { deadline, rule } = deadlineOf(publication, p.creditorAbroad, await declarationRuleOf(q, orgId));
  await q.query(
    'UPDATE insolvency_proceedings SET publication_date = $3, declaration_deadline = $4, deadline_rule = $5 WHERE organisation_id = $1 AND id = $2',
    [orgId, id, publication, deadline, rule],
  );
  const next = await getProceeding(q, orgId, id);
  await raiseDeclarationTask(q, orgId, next);
  return next;
}

/** The claim was declared: the task is done. */
export async function markDeclared(q: Queryable, orgId: string, id: bigint, on: CalendarDate): Promise<Proceeding> {
  await getProceeding(q, orgId, id);
  await q.query('UPDATE insolvency_proceedings SET declared_on = $3 WHERE organisation_id = $1 AND id = $2', [orgId, id, on]);
  await q.query(`UPDATE tasks SET status = 'done' WHERE organisation_id = $1 AND kind = 'insolvency_declaration' AND source_id = $2 AND status = 'open'`, [orgId, id]);
  return getProceeding(q, orgId, id);
}

/**
 * Proceedings over (a plan adopted, closed, a conversion recorded as new proceedings): the pause
 * is lifted only when asked (`resume`), since a plan's terms, not the old calendar, govern what is paid.
 */
export async function closeProceeding(q: Queryable, orgId: string, id: bigint, today: CalendarDate, opts: { resume?: boolean } = {}): Promise<Proceeding> {
  const p = await getProceeding(q, orgId, id);
  if (p.status !== 'open') throw validation(E('closed', { id: String(id) }), { field: 'id' });
  await q.query(`UPDATE insolvency_proceedings SET status = 'closed', closed_on = $3 WHERE organisation_id = $1 AND id = $2`, [orgId, id, today]);
  await q.query(`UPDATE tasks SET status = 'cancelled' WHERE organisation_id = $1 AND kind = 'insolvency_declaration' AND source_id = $2 AND status = 'open'`, [orgId, id]);
  if (opts.resume) {
    await q.query('UPDATE pauses SET lifted_on = $3 WHERE organisation_id = $1 AND id = $2 AND lifted_on IS NULL', [orgId, p.pauseId, today]);
    await replanCustomer(q, orgId, p.customerId, today);
  }
  return getProceeding(q, orgId, id);
}

// ------------------------------------------------------------------ the declaration letter

const KIND = defineMessages({
  safeguard: { fr: 'procédure de sauvegarde', en: 'safeguard proceedings' },
  receivership: { fr: 'redressement judiciaire', en: 'receivership (redressement judiciaire)' },
  liquidation: { fr: 'liquidation judiciaire', en: 'judicial liquidation' },
});

const D = defineMessages({
  title: { fr: 'Déclaration de créance', en: 'Declaration of claim' },
  to: { fr: 'Destinataire', en: 'To' },
  representative: { fr: 'Mandataire ou liquidateur judiciaire', en: 'Court-appointed representative or liquidator' },
  creditor: { fr: 'Créancier', en: 'Creditor' },
  debtor: { fr: 'Débiteur', en: 'Debtor' },
  siren: { fr: 'SIREN', en: 'SIREN' },
  address: { fr: 'Adresse', en: 'Address' },
  proceedings: { fr: 'Procédure', en: 'Proceedings' },
  judgment: { fr: 'Jugement d’ouverture du', en: 'Opening judgment of' },
  court: { fr: 'Tribunal', en: 'Court' },
  case: { fr: 'N° de procédure', en: 'Case number' },
  publication: { fr: 'Publication au BODACC', en: 'BODACC publication' },
  deadline: { fr: 'Délai de déclaration', en: 'Declaration deadline' },
  intro: {
    fr: 'Nous déclarons au passif de {debtor} la créance détaillée ci-dessous, arrêtée à la date du jugement d’ouverture ({date}).',
    en: 'We declare against {debtor} the claim detailed below, stated as at the date of the opening judgment ({date}).',
  },
  col_invoice: { fr: 'Facture', en: 'Invoice' },
  col_issue: { fr: 'Émise le', en: 'Issued' },
  col_due: { fr: 'Échéance', en: 'Due' },
  col_state: { fr: 'Nature', en: 'Status' },
  col_principal: { fr: 'Principal TTC', en: 'Principal incl. tax' },
  col_interest: { fr: 'Intérêts au jugement', en: 'Interest to judgment' },
  col_indemnity: { fr: 'Indemnité forfaitaire', en: 'Fixed indemnity' },
  col_total: { fr: 'Total', en: 'Total' },
  echue: { fr: 'échue', en: 'due' },
  a_echoir: { fr: 'à échoir', en: 'not yet due' },
  total: { fr: 'Total', en: 'Total' },
  nature: { fr: 'Nature de la créance', en: 'Nature of the claim' },
  unsecured: { fr: 'chirographaire (sans sûreté ni privilège)', en: 'unsecured (no security or privilege)' },
  secured: { fr: 'assortie de : {privilege}', en: 'secured by: {privilege}' },
  interest_note: {
    fr: 'Les intérêts et indemnités sont calculés jusqu’à la date du jugement d’ouverture, qui en arrête le cours ; rien n’est réclamé au-delà.',
    en: 'Interest and indemnities are computed up to the date of the opening judgment, which stops them running; nothing is claimed beyond it.',
  },
  provisional: { fr: 'Une partie des intérêts repose sur un taux de référence non encore publié : montant à confirmer.', en: 'Part of the interest assumes a reference rate not yet published: amount to be confirmed.' },
  documents: { fr: 'Pièces justificatives jointes', en: 'Supporting documents enclosed' },
  doc_invoice: { fr: 'Facture {number} du {date}{held}', en: 'Invoice {number} of {date}{held}' },
  doc_not_held: { fr: ' (copie à joindre)', en: ' (copy to enclose)' },
  doc_statement: { fr: 'Relevé de compte du client au {date}', en: 'Customer statement of account as at {date}' },
  doc_notice: { fr: 'Mise en demeure du {date}', en: 'Formal notice of {date}' },
  certify: {
    fr: 'Nous certifions sincère et véritable le montant de la créance déclarée.',
    en: 'We certify the amount of the claim declared to be true and accurate.',
  },
  made_at: { fr: 'Fait le {date}, pour {org}', en: 'Made on {date}, for {org}' },
  signature: { fr: 'Signature :', en: 'Signature:' },
});

export interface Declaration {
  pdf: Buffer;
  claim: Claim;
  proceeding: Proceeding;
}

const addressOf = (c: { addressLine1: string | null; addressLine2?: string | null; postalCode: string | null; city: string | null; country?: string | null }) =>
  [c.addressLine1, c.addressLine2, [c.postalCode, c.city].filter(Boolean).join(' '), c.country && c.country !== 'FR' ? c.country : null].filter(Boolean).join(', ');

/**
 * The declaration letter prefilled from the ledger as it stood on the judgment date: each invoice
 * issued by then with its principal, interest and indemnity to that day, due or not yet due, the
 * nature of the claim and the supporting documents. Dated `on` (the day it is prepared).
 */
export async function declarationPdf(q: Queryable, orgId: string, id: bigint, rates: RateTables, on: CalendarDate, lang?: Lang): Promise<Declaration> {
  const p = await getProceeding(q, orgId, id);
  const org = await getOrganisation(q, orgId);
  const customer = await getCustomer(q, orgId, p.customerId);
  const L: Lang = lang ?? org.language;
  const claim = await claimAt(q, orgId, p.customerId, p.judgmentDate, rates, { today: on });
  const notices = await q.query<{ planned_on: CalendarDate }>(
    `SELECT DISTINCT a.planned_on FROM actions a WHERE a.organisation_id = $1 AND a.customer_id = $2 AND a.tone = 'formal_notice' AND a.status = 'sent' AND a.planned_on <= $3 ORDER BY 1`,
    [orgId, p.customerId, p.judgmentDate],
  );
  const m = (k: keyof typeof D, v: Record<string, string> = {}) => t(D, L, k, v);
  const cur = claim.currency;
  const { doc, bytes } = escalationPdf(`${m('title')} — ${customer.legalName}`, L, on);
  title(doc, m('title'));
  fields(doc, [[m('to'), [p.representativeName ?? m('representative'), p.representativeAddress].filter(Boolean).join(', ')]], L);
  heading(doc, m('creditor'));
  para(doc, org.legalName);
  fields(doc, [[m('siren'), org.siren], [m('address'), addressOf(org)]], L);
  heading(doc, m('debtor'));
  const debtorAddress = customer.contacts.find((c) => c.addressLine1) ?? null;
  para(doc, customer.legalName);
  fields(doc, [[m('siren'), customer.siren], [m('address'), debtorAddress ? addressOf(debtorAddress) : null]], L);
  heading(doc, m('proceedings'));
  fields(
    doc,
    [
      [m('proceedings'), t(KIND, L, p.kind)],
      [m('judgment'), longDate(p.judgmentDate, L)],
      [m('court'), p.court],
      [m('case'), p.caseNumber],
      [m('publication'), p.publicationDate ? longDate(p.publicationDate, L) : null],
      [m('deadline'), p.declarationDeadline ? longDate(p.declarationDeadline, L) : null],
    ],
    L,
  );
  doc.moveDown(0.5);
  para(doc, m('intro', { debtor: customer.legalName, date: longDate(p.judgmentDate, L) }));
  doc.moveDown(0.3);
  const rows = claim.lines.map((l) => [
    l.number,
    formatShortDate(l.issueDate, L),
    formatShortDate(l.dueDate, L),
    l.due ? m('echue') : m('a_echoir'),
    money(l.principalMinor, cur, L),
    money(l.interestMinor, cur, L),
    money(l.indemnityMinor, cur, L),
    money(l.principalMinor + l.interestMinor + l.indemnityMinor, cur, L),
  ]);
  rows.push([m('total'), '', '', '', money(claim.principalMinor, cur, L), money(claim.interestMinor, cur, L), money(claim.indemnityMinor, cur, L), money(claim.totalMinor, cur, L)]);
  table(
    doc,
    [
      { header: m('col_invoice'), width: 70 },
      { header: m('col_issue'), width: 52 },
      { header: m('col_due'), width: 52 },
      { header: m('col_state'), width: 62 },
      { header: m('col_principal'), width: 70, align: 'right' },
      { header: m('col_interest'), width: 65, align: 'right' },
      { header: m('col_indemnity'), width: 60, align: 'right' },
      { header: m('col_total'), width: 70, align: 'right' },
    ],
    rows,
    { boldLast: true },
  );
  para(doc, m('interest_note'), { size: 8.5, color: '#333333' });
  if (claim.provisional) para(doc, m('provisional'), { size: 8.5, color: '#333333' });
  heading(doc, m('nature'));
  para(doc, p.privilege ? m('secured', { privilege: p.privilege }) : m('unsecured'));
  heading(doc, m('documents'));
  for (const l of claim.lines) para(doc, `- ${m('doc_invoice', { number: l.number, date: formatShortDate(l.issueDate, L), held: l.pdfDocumentId ? '' : m('doc_not_held') })}`);
  for (const n of notices) para(doc, `- ${m('doc_notice', { date: formatShortDate(n.planned_on, L) })}`);
  para(doc, `- ${m('doc_statement', { date: formatShortDate(p.judgmentDate, L) })}`);
  doc.moveDown(0.8);
  para(doc, m('certify'));
  doc.moveDown(0.5);
  para(doc, m('made_at', { date: longDate(on, L), org: org.legalName }));
  para(doc, m('signature'));
  doc.end();
  return { pdf: await bytes, claim, proceeding: p };
}

// ------------------------------------------------------------------ write-off

export interface WriteOffRequest {
  id: bigint;
  customerId: bigint;
  proceedingId: bigint | null;
  lines: { invoiceId: bigint; number: string; amountMinor: Minor }[];
  currency: string;
  amountMinor: Minor;
  reason: string;
  requestedBy: string;
  requestedOn: CalendarDate;
  status: 'proposed' | 'approved' | 'refused';
  decidedBy: string | null;
  decidedOn: CalendarDate | null;
}

function toRequest(r: Record<string, unknown>): WriteOffRequest {
  const lines = (typeof r.lines === 'string' ? JSON.parse(r.lines) : r.lines) as { invoiceId: string; number: string; amountMinor: string }[];
  return {
    id: r.id as bigint,
    customerId: r.customer_id as bigint,
    proceedingId: (r.proceeding_id as bigint | null) ?? null,
    lines: lines.map((l) => ({ invoiceId: BigInt(l.invoiceId), number: l.number, amountMinor: BigInt(l.amountMinor) })),
    currency: String(r.currency),
    amountMinor: r.amount_minor as bigint,
    reason: String(r.reason),
    requestedBy: String(r.requested_by),
    requestedOn: r.requested_on as CalendarDate,
    status: r.status as WriteOffRequest['status'],
    decidedBy: s(r.decided_by),
    decidedOn: (r.decided_on as CalendarDate | null) ?? null,
  };
}

export async function getWriteOffRequest(q: Queryable, orgId: string, id: bigint): Promise<WriteOffRequest> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM write_off_requests WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  if (!r) throw new RelanceError(ERROR_CODES.NOT_FOUND, E('not_found_request', { id: String(id) }), { details: { what: 'write-off request', id: String(id) } });
  return toRequest(r);
}

/**
 * Proposes writing off the irrecoverable part: the amounts named per invoice, or everything still
 * open on the customer's invoices (of the proceedings' debtor). Nothing changes in the ledger until
 * someone else approves.
 */
export async function proposeWriteOff(
  q: Queryable,
  orgId: string,
  w: { customerId?: bigint | null; proceedingId?: bigint | null; amounts?: { invoiceNumber: string; amountMinor: Minor }[] | null; reason: string; by: string },
  today: CalendarDate,
): Promise<WriteOffRequest> {
  if (!w.reason?.trim()) throw validation(E('reason'), { field: 'reason' });
  if (!w.by?.trim()) throw validation(E('who'), { field: 'by' });
  const proceeding = w.proceedingId ? await getProceeding(q, orgId, w.proceedingId) : null;
  const customerId = proceeding?.customerId ?? w.customerId;
  if (!customerId) throw validation(E('nothing'), { field: 'customerId' });
  const open = await q.query<{ id: bigint; number: string; currency: string; open_minor: bigint }>(
    `SELECT id, number, currency, amount_incl_tax_minor - allocated_minor - written_off_minor AS open_minor FROM invoices
      WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor ORDER BY due_date, id`,
    [orgId, customerId],
  );
  let lines: { invoiceId: bigint; number: string; amountMinor: Minor; currency: string }[];
  if (w.amounts?.length) {
    lines = w.amounts.map((a, k) => {
      const inv = open.find((o) => o.number === a.invoiceNumber);
      if (!inv) throw notFound('invoice', a.invoiceNumber);
      if (a.amountMinor <= 0n || a.amountMinor > inv.open_minor) {
        throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('amount_over', { invoice: inv.number, open: money(inv.open_minor, inv.currency, 'en') }), { where: { field: `amounts[${k}]` } });
      }
      return { invoiceId: inv.id, number: inv.number, amountMinor: a.amountMinor, currency: inv.currency };
    });
  } else lines = open.map((o) => ({ invoiceId: o.id, number: o.number, amountMinor: o.open_minor, currency: o.currency }));
  if (lines.length === 0) throw validation(E('nothing'), { field: 'amounts' });
  const currencies = new Set(lines.map((l) => l.currency));
  if (currencies.size > 1) throw new RelanceError(ERROR_CODES.LEDGER_INVARIANT, E('nothing'), { where: { field: 'amounts' } });
  const total = lines.reduce((a, l) => a + l.amountMinor, 0n);
  const [row] = await q.query<Record<string, unknown>>(
    `INSERT INTO write_off_requests (organisation_id, customer_id, proceeding_id, lines, currency, amount_minor, reason, requested_by, requested_on)
     VALUES ($1,$2,$3,$4::jsonb,$5,$6,$7,$8,$9) RETURNING *`,
    [
      orgId, customerId, proceeding?.id ?? null,
      JSON.stringify(lines.map((l) => ({ invoiceId: String(l.invoiceId), number: l.number, amountMinor: String(l.amountMinor) }))),
      lines[0]!.currency, total, w.reason.trim(), w.by.trim(), today,
    ],
  );
  return toRequest(row!);
}

export interface WriteOffVat {
  request: WriteOffRequest;
  lines: BadDebtVatLine[];
  writtenOffMinor: Minor;
  vatMinor: Minor;
  exclTaxMinor: Minor;
}

/** The VAT inside a write-off, invoice by invoice, for the accountant. */
export async function writeOffVat(q: Queryable, orgId: string, id: bigint): Promise<WriteOffVat> {
  const request = await getWriteOffRequest(q, orgId, id);
  const lines: BadDebtVatLine[] = [];
  for (const l of request.lines) {
    const inv = await getInvoice(q, orgId, l.invoiceId);
    lines.push(badDebtVat(inv, l.amountMinor));
  }
  const sum = (f: (l: BadDebtVatLine) => Minor) => lines.reduce((a, l) => a + f(l), 0n);
  return { request, lines, writtenOffMinor: sum((l) => l.writtenOffMinor), vatMinor: sum((l) => l.vatMinor), exclTaxMinor: sum((l) => l.exclTaxMinor) };
}

/**
 * Approves (someone other than who proposed it) or refuses a write-off. Approval writes the
 * ledger's write-offs, dated today, each naming the request; the customer is re-planned.
 */
export async function decideWriteOff(q: Queryable, orgId: string, id: bigint, d: { approve: boolean; by: string }, today: CalendarDate): Promise<WriteOffVat> {
  if (!d.by?.trim()) throw validation(E('who'), { field: 'by' });
  await q.query('SELECT 1 FROM write_off_requests WHERE organisation_id = $1 AND id = $2 FOR UPDATE', [orgId, id]);
  const r = await getWriteOffRequest(q, orgId, id);
  if (r.status !== 'proposed') throw new RelanceError(ERROR_CODES.CONFLICT, E('decided', { id: String(id), status: r.status }), { where: { field: 'id' } });
  if (d.approve && d.by.trim().toLowerCase() === r.requestedBy.toLowerCase()) {
    throw new RelanceError(ERROR_CODES.FORBIDDEN, E('same_person', { who: r.requestedBy }), { where: { field: 'by' } });
  }
  if (d.approve) {
    for (const l of r.lines) {
      await writeOff(q, orgId, { invoiceId: l.invoiceId, amountMinor: l.amountMinor, writtenOffOn: today, reason: `${r.reason} (request ${id}, approved by ${d.by.trim()})`, requestId: id });
    }
    await replanCustomer(q, orgId, r.customerId, today);
  }
  await q.query('UPDATE write_off_requests SET status = $3, decided_by = $4, decided_on = $5 WHERE organisation_id = $1 AND id = $2', [
    orgId, id, d.approve ? 'approved' : 'refused', d.by.trim(), today,
  ]);
  return writeOffVat(q, orgId, id);
}
