/**
 * The recovery case file: one ZIP an agency, a lawyer or a court can work from. A cover PDF
 * (creditor, debtor with SIREN and address, the claim to the day — principal, interest and
 * indemnities by the law module — payments received, limitation dates, formal notices with their
 * proof, disputes, promises, the list of files), the statement of account, every invoice PDF held,
 * the formal notice as sent with its proofs of dispatch and receipt, every message sent as it left
 * (its SHA-256 in the manifest equals the proof store's), the evidence history (delivery events,
 * calls), the same facts as JSON, and a manifest of every file with its hash.
 *
 * Reproducible: everything is dated by the day the file states (never the clock), entries sorted,
 * ZIP timestamps fixed (zip.ts): the same ledger on the same day gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { pgArray, type Queryable } from '../db/driver.ts';
import { type CalendarDate, formatShortDate } from '../domain/dates.ts';
import type { RateTables } from '../domain/law/index.ts';
import { type Minor, toDecimalString } from '../domain/money.ts';
import { customerHistoryPdf } from '../delivery/proof.ts';
import { defineMessages, type Lang, t } from '../i18n/index.ts';
import { getCustomer, getOrganisation } from '../ledger/repo.ts';
import { type Claim, claimAt } from './claim.ts';
import { caseFileReference } from './handover.ts';
import { recoveryHistory, type RecoveryHistory } from './history.ts';
import { escalationPdf, fields, heading, longDate, money, para, table, title } from './pdf.ts';
import { zip, type ZipEntry } from './zip.ts';

const M = defineMessages({
  title: { fr: 'Dossier de recouvrement', en: 'Recovery case file' },
  reference: { fr: 'Référence', en: 'Reference' },
  as_of: { fr: 'Arrêté au', en: 'As at' },
  creditor: { fr: 'Créancier', en: 'Creditor' },
  debtor: { fr: 'Débiteur', en: 'Debtor' },
  siren: { fr: 'SIREN', en: 'SIREN' },
  vat: { fr: 'N° de TVA', en: 'VAT number' },
  address: { fr: 'Adresse', en: 'Address' },
  iban: { fr: 'IBAN', en: 'IBAN' },
  kind: { fr: 'Qualité', en: 'Capacity' },
  business: { fr: 'professionnel', en: 'business' },
  consumer: { fr: 'consommateur', en: 'consumer' },
  claim: { fr: 'La créance', en: 'The claim' },
  principal: { fr: 'Principal restant dû', en: 'Principal still owed' },
  interest: { fr: 'Intérêts de retard au {date}', en: 'Late-payment interest to {date}' },
  indemnity: { fr: 'Indemnités forfaitaires de recouvrement', en: 'Fixed recovery indemnities' },
  total: { fr: 'Total', en: 'Total' },
  law: { fr: 'Régime appliqué', en: 'Law applied' },
  provisional: { fr: 'Une partie des intérêts repose sur un taux de référence non encore publié : montant à confirmer.', en: 'Part of the interest assumes a reference rate not yet published: amount to be confirmed.' },
  invoices: { fr: 'Factures', en: 'Invoices' },
  col_invoice: { fr: 'Facture', en: 'Invoice' },
  col_issue: { fr: 'Émise le', en: 'Issued' },
  col_due: { fr: 'Échéance', en: 'Due' },
  col_amount: { fr: 'Montant TTC', en: 'Amount incl. tax' },
  col_paid: { fr: 'Réglé', en: 'Paid' },
  col_open: { fr: 'Reste dû', en: 'Open' },
  col_interest: { fr: 'Intérêts', en: 'Interest' },
  col_indemnity: { fr: 'Indemnité', en: 'Indemnity' },
  col_limitation: { fr: 'Prescription le', en: 'Time-barred on' },
  col_date: { fr: 'Date', en: 'Date' },
  col_source: { fr: 'Origine', en: 'Source' },
  col_ref: { fr: 'Référence', en: 'Reference' },
  payment: { fr: 'paiement', en: 'payment' },
  credit_note: { fr: 'avoir', en: 'credit note' },
  payments: { fr: 'Paiements reçus', en: 'Payments received' },
  no_payment: { fr: 'Aucun paiement reçu sur ces factures.', en: 'No payment received on these invoices.' },
  limitation_note: { fr: 'Prescription : {basis}, à compter de l’échéance ou du dernier paiement partiel.', en: 'Limitation: {basis}, from the due date or the last part payment.' },
  steps: { fr: 'Démarches amiables', en: 'Amicable steps' },
  reminders: { fr: '{n} relance(s) envoyée(s){range}.', en: '{n} reminder(s) sent{range}.' },
  range: { fr: ' du {from} au {to}', en: ' from {from} to {to}' },
  notice: { fr: 'Mise en demeure envoyée le {date} ({channel}){tracking}{receipt}.', en: 'Formal notice sent on {date} ({channel}){tracking}{receipt}.' },
  tracking: { fr: ', suivi {n}', en: ', tracking {n}' },
  receipt: { fr: ', accusé de réception signé le {date}', en: ', acknowledgement of receipt signed on {date}' },
  no_notice: { fr: 'Aucune mise en demeure envoyée.', en: 'No formal notice sent.' },
  calls: { fr: '{n} appel(s) consigné(s) (voir l’historique).', en: '{n} call(s) on record (see the history).' },
  dispute: { fr: 'Litige ouvert le {date} : {reason}{resolved}', en: 'Dispute opened on {date}: {reason}{resolved}' },
  resolved: { fr: ' — résolu le {date} : {resolution}', en: ' — resolved on {date}: {resolution}' },
  promise: { fr: 'Promesse de payer {amount} le {date} : {status}', en: 'Promise to pay {amount} on {date}: {status}' },
  contents: { fr: 'Contenu du dossier (empreintes SHA-256 dans manifest.json)', en: 'Contents of the file (SHA-256 fingerprints in manifest.json)' },
  statement: { fr: 'Relevé de compte', en: 'Statement of account' },
  statement_intro: { fr: 'Relevé du compte de {debtor} chez {creditor} au {date}.', en: 'Statement of the account of {debtor} with {creditor} as at {date}.' },
  balance: { fr: 'Solde dû', en: 'Balance owed' },
});

const PROMISE_STATUS = defineMessages({
  open: { fr: 'en cours', en: 'open' },
  kept: { fr: 'tenue', en: 'kept' },
  broken: { fr: 'non tenue', en: 'broken' },
  withdrawn: { fr: 'retirée', en: 'withdrawn' },
});

export interface CaseFile {
  reference: string;
  zip: Buffer;
  files: { path: string; size: number; sha256: string }[];
  claim: Claim;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
const addressOf = (c: { addressLine1: string | null; addressLine2?: string | null; postalCode: string | null; city: string | null; country?: string | null }) =>
  [c.addressLine1, c.addressLine2, [c.postalCode, c.city].filter(Boolean).join(' '), c.country && c.country !== 'FR' ? c.country : null].filter(Boolean).join(', ');
const EXT: Record<string, string> = { 'message/rfc822': 'eml', 'application/pdf': 'pdf', 'text/plain': 'txt', 'image/png': 'png', 'image/jpeg': 'jpg' };
const extOf = (type: string | null) => EXT[(type ?? '').split(';')[0]!.trim()] ?? 'bin';

/** The case file of a customer (or of the invoices named) as it stands on `asOf`. */
export async function buildCaseFile(q: Queryable, orgId: string, customerId: bigint, rates: RateTables, asOf: CalendarDate, opts: { invoiceNumbers?: string[] | null; lang?: Lang } = {}): Promise<CaseFile> {
  const org = await getOrganisation(q, orgId);
  const customer = await getCustomer(q, orgId, customerId);
  const L: Lang = opts.lang ?? org.language;
  const m = (k: keyof typeof M, v: Record<string, string> = {}) => t(M, L, k, v);
  const claim = await claimAt(q, orgId, customerId, asOf, rates, { invoiceNumbers: opts.invoiceNumbers ?? null, today: asOf });
  const ids = claim.lines.map((l) => l.invoiceId);
  const history = await recoveryHistory(q, orgId, customerId, opts.invoiceNumbers?.length ? ids : null);
  const reference = caseFileReference(customerId, asOf);
  const cur = claim.currency;
  const entries: ZipEntry[] = [];

  // Invoices as held.
  const docs = await q.query<{ number: string; content: Uint8Array; content_type: string }>(
    `SELECT i.number, d.content, d.content_type FROM invoices i JOIN documents d ON d.organisation_id = i.organisation_id AND d.id = i.pdf_document_id
      WHERE i.organisation_id = $1 AND i.id = ANY($2::bigint[]) ORDER BY i.number`,
    [orgId, pgArray(ids)],
  );
  for (const d of docs) entries.push({ name: `invoices/${safe(d.number)}.${extOf(d.content_type)}`, data: Buffer.from(d.content) });

  // Every message sent about these invoices, as it left; the formal notices apart with their proofs.
  const deliveries = await q.query<{ id: bigint; channel: string; content: Uint8Array; content_type: string; tone: string; sent_on: CalendarDate }>(
    `SELECT d.id, d.channel, d.content, d.content_type, a.tone, (a.sent_at AT TIME ZONE o.time_zone)::date AS sent_on
       FROM deliveries d JOIN actions a ON a.organisation_id = d.organisation_id AND a.id = d.action_id JOIN organisations o ON o.id = d.organisation_id
      WHERE d.organisation_id = $1 AND d.customer_id = $2 AND a.status = 'sent' AND d.invoice_ids && $3::bigint[] ORDER BY d.id`,
    [orgId, customerId, pgArray(ids)],
  );
  for (const d of deliveries) {
    const folder = d.tone === 'formal_notice' ? 'formal-notice' : 'messages';
    entries.push({ name: `${folder}/${d.sent_on}-${d.id}-${d.channel}.${extOf(d.content_type)}`, data: Buffer.from(d.content) });
  }
  const proofs = await q.query<{ id: bigint; delivery_id: bigint; kind: string; content: Uint8Array; content_type: string }>(
    `SELECT p.id, p.delivery_id, p.kind, p.content, p.content_type FROM registered_letter_proofs p
      WHERE p.organisation_id = $1 AND p.content IS NOT NULL AND p.delivery_id = ANY($2::bigint[]) ORDER BY p.id`,
    [orgId, pgArray(deliveries.map((d) => d.id))],
  );
  for (const p of proofs) {
    const d = deliveries.find((x) => x.id === p.delivery_id)!;
    entries.push({ name: `${d.tone === 'formal_notice' ? 'formal-notice' : 'messages'}/${d.sent_on}-${d.id}-proof-${p.kind}-${p.id}.${extOf(p.content_type)}`, data: Buffer.from(p.content) });
  }

  // The evidence history (every action, delivery events, calls), dated by the day of the file.
  const hist = await customerHistoryPdf(q, orgId, customerId, new Date(`${asOf}T00:00:00Z`));
  entries.push({ name: 'history.pdf', data: hist.pdf });

  const calls = await q.query<Record<string, unknown>>(
    'SELECT recorded_on, outcome, non_payment_reason, note, promised_on, dispute_reason, recorded_by FROM call_outcomes WHERE organisation_id = $1 AND customer_id = $2 ORDER BY id',
    [orgId, customerId],
  );
  entries.push({ name: 'statement-of-account.pdf', data: await statementPdf(claim, org.legalName, customer.legalName, L) });
  entries.push({ name: 'case.json', data: Buffer.from(`${JSON.stringify(caseJson(reference, claim, history, calls), null, 2)}\n`) });

  const files = entries.map((e) => ({ path: e.name, size: e.data.length, sha256: sha(e.data) })).sort((a, b) => (a.path < b.path ? -1 : 1));

  // The cover, listing every other file with its fingerprint.
  const { doc, bytes } = escalationPdf(`${m('title')} ${reference}`, L, asOf);
  title(doc, `${m('title')} — ${customer.legalName}`);
  fields(doc, [[m('reference'), reference], [m('as_of'), longDate(asOf, L)]], L);
  heading(doc, m('creditor'));
  para(doc, org.legalName);
  fields(doc, [[m('siren'), org.siren], [m('vat'), org.vatNumber], [m('address'), addressOf(org)], [m('iban'), org.iban]], L);
  heading(doc, m('debtor'));
  para(doc, customer.legalName);
  const billing = customer.contacts.find((c) => c.addressLine1) ?? null;
  fields(doc, [[m('siren'), customer.siren], [m('vat'), customer.vatNumber], [m('address'), billing ? addressOf(billing) : null], [m('kind'), m(customer.kind)]], L);
  heading(doc, m('claim'));
  fields(
    doc,
    [
      [m('principal'), money(claim.principalMinor, cur, L)],
      [m('interest', { date: longDate(asOf, L) }), money(claim.interestMinor, cur, L)],
      [m('indemnity'), money(claim.indemnityMinor, cur, L)],
      [m('total'), money(claim.totalMinor, cur, L)],
      [m('law'), `${claim.regime.jurisdiction} (${claim.regime.debtor === 'consumer' ? m('consumer') : m('business')})`],
    ],
    L,
  );
  if (claim.provisional) para(doc, m('provisional'), { size: 8.5 });
  heading(doc, m('invoices'));
  table(
    doc,
    [
      { header: m('col_invoice'), width: 70 }, { header: m('col_due'), width: 55 }, { header: m('col_amount'), width: 70, align: 'right' },
      { header: m('col_open'), width: 70, align: 'right' }, { header: m('col_interest'), width: 60, align: 'right' }, { header: m('col_indemnity'), width: 55, align: 'right' },
      { header: m('col_limitation'), width: 60 },
    ],
    claim.lines.map((l) => [l.number, formatShortDate(l.dueDate, L), money(l.amountInclTaxMinor, cur, L), money(l.principalMinor, cur, L), money(l.interestMinor, cur, L), money(l.indemnityMinor, cur, L), formatShortDate(l.limitation.deadline, L)]),
  );
  const bases = [...new Set(claim.lines.map((l) => l.limitation.legalBasis))].join(', ');
  para(doc, m('limitation_note', { basis: bases }), { size: 8.5, color: '#333333' });
  heading(doc, m('payments'));
  if (claim.payments.length === 0) para(doc, m('no_payment'));
  else paymentsTable(doc, claim, L);
  heading(doc, m('steps'));
  para(doc, m('reminders', { n: String(history.remindersSent), range: history.firstReminderOn ? m('range', { from: formatShortDate(history.firstReminderOn, L), to: formatShortDate(history.lastReminderOn!, L) }) : '' }));
  if (history.formalNotices.length === 0) para(doc, m('no_notice'));
  for (const f of history.formalNotices) {
    para(doc, m('notice', { date: formatShortDate(f.sentOn, L), channel: f.channel, tracking: f.tracking ? m('tracking', { n: f.tracking }) : '', receipt: f.receiptOn ? m('receipt', { date: formatShortDate(f.receiptOn, L) }) : '' }));
  }
  if (history.calls) para(doc, m('calls', { n: String(history.calls) }));
  for (const d of history.disputes) {
    para(doc, m('dispute', { date: formatShortDate(d.openedOn, L), reason: d.reason, resolved: d.resolvedOn ? m('resolved', { date: formatShortDate(d.resolvedOn, L), resolution: d.resolution ?? '' }) : '' }));
  }
  for (const p of history.promises) {
    para(doc, m('promise', { amount: money(p.amountMinor, p.currency, L), date: formatShortDate(p.promisedOn, L), status: t(PROMISE_STATUS, L, p.status as 'open') }));
  }
  heading(doc, m('contents'));
  for (const f of files) para(doc, `${f.path} — ${f.sha256}`, { size: 7.5 });
  para(doc, 'manifest.json', { size: 7.5 });
  doc.end();
  const cover = await bytes;
  const all = [...files, { path: 'cover.pdf', size: cover.length, sha256: sha(cover) }].sort((a, b) => (a.path < b.path ? -1 : 1));
  entries.push({ name: 'cover.pdf', data: cover });
  const manifest = { reference, asOf, creditor: org.legalName, debtor: customer.legalName, algorithm: 'SHA-256', files: all };
  entries.push({ name: 'manifest.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) });
  return { reference, zip: zip(entries), files: all, claim };
}

function paymentsTable(doc: PDFKit.PDFDocument, claim: Claim, L: Lang): void {
  table(
    doc,
    [{ header: t(M, L, 'col_date'), width: 60 }, { header: t(M, L, 'col_invoice'), width: 80 }, { header: t(M, L, 'col_source'), width: 70 }, { header: t(M, L, 'col_ref'), width: 140 }, { header: t(M, L, 'col_paid'), width: 80, align: 'right' }],
    claim.payments.map((p) => [formatShortDate(p.date, L), p.invoiceNumber, t(M, L, p.source), p.reference ?? '', money(p.amountMinor, claim.currency, L)]),
  );
}

async function statementPdf(claim: Claim, creditor: string, debtor: string, L: Lang): Promise<Buffer> {
  const cur = claim.currency;
  const { doc, bytes } = escalationPdf(`${t(M, L, 'statement')} — ${debtor}`, L, claim.asOf);
  title(doc, t(M, L, 'statement'));
  para(doc, t(M, L, 'statement_intro', { debtor, creditor, date: longDate(claim.asOf, L) }));
  doc.moveDown(0.5);
  const rows = claim.lines.map((l) => [l.number, formatShortDate(l.issueDate, L), formatShortDate(l.dueDate, L), money(l.amountInclTaxMinor, cur, L), money(l.settledMinor + l.writtenOffMinor, cur, L), money(l.principalMinor, cur, L)]);
  const sum = (f: (l: Claim['lines'][number]) => Minor) => claim.lines.reduce((a, l) => a + f(l), 0n);
  rows.push([t(M, L, 'balance'), '', '', money(sum((l) => l.amountInclTaxMinor), cur, L), money(sum((l) => l.settledMinor + l.writtenOffMinor), cur, L), money(claim.principalMinor, cur, L)]);
  table(
    doc,
    [{ header: t(M, L, 'col_invoice'), width: 80 }, { header: t(M, L, 'col_issue'), width: 60 }, { header: t(M, L, 'col_due'), width: 60 }, { header: t(M, L, 'col_amount'), width: 80, align: 'right' }, { header: t(M, L, 'col_paid'), width: 80, align: 'right' }, { header: t(M, L, 'col_open'), width: 80, align: 'right' }],
    rows,
    { boldLast: true },
  );
  if (claim.payments.length) {
    heading(doc, t(M, L, 'payments'));
    paymentsTable(doc, claim, L);
  }
  doc.end();
  return bytes;
}

function caseJson(reference: string, claim: Claim, history: RecoveryHistory, calls: Record<string, unknown>[]) {
  const cur = claim.currency;
  const a = (x: Minor) => toDecimalString(x, cur);
  return {
    reference,
    asOf: claim.asOf,
    currency: cur,
    law: { jurisdiction: claim.regime.jurisdiction, debtor: claim.regime.debtor, provisional: claim.provisional },
    totals: { principal: a(claim.principalMinor), interest: a(claim.interestMinor), indemnity: a(claim.indemnityMinor), total: a(claim.totalMinor) },
    invoices: claim.lines.map((l) => ({
      number: l.number, issueDate: l.issueDate, dueDate: l.dueDate, amountInclTax: a(l.amountInclTaxMinor), paid: a(l.settledMinor), writtenOff: a(l.writtenOffMinor),
      open: a(l.principalMinor), interest: a(l.interestMinor), indemnity: a(l.indemnityMinor), limitation: { deadline: l.limitation.deadline, basis: l.limitation.legalBasis, status: l.limitation.status },
    })),
    payments: claim.payments.map((p) => ({ date: p.date, invoice: p.invoiceNumber, source: p.source, reference: p.reference, amount: a(p.amountMinor) })),
    history: {
      remindersSent: history.remindersSent, firstReminderOn: history.firstReminderOn, lastReminderOn: history.lastReminderOn,
      formalNotices: history.formalNotices.map((f) => ({ sentOn: f.sentOn, channel: f.channel, tracking: f.tracking, trackingStatus: f.trackingStatus, receiptOn: f.receiptOn })),
      disputes: history.disputes.map((d) => ({ openedOn: d.openedOn, reason: d.reason, resolvedOn: d.resolvedOn, resolution: d.resolution })),
      promises: history.promises.map((p) => ({ promisedOn: p.promisedOn, amount: toDecimalString(p.amountMinor, p.currency), status: p.status })),
      callNotes: calls.map((c) => ({ on: c.recorded_on, outcome: c.outcome, reason: c.non_payment_reason ?? null, note: c.note ?? c.dispute_reason ?? null, promisedOn: c.promised_on ?? null, by: c.recorded_by })),
    },
  };
}
