/**
 * Escalation on the command line: `relance insolvency record|list|publication|declaration|declared|
 * close|write-off|approve|refuse|settings` (collective proceedings against a customer). They go
 * through src/escalation like the API: the same checks, the same stop of the recovery.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Db } from '../../db/driver.ts';
import { jsonReplacer } from '../../db/driver.ts';
import { type CalendarDate, calendarDate, formatLongDate, todayIn } from '../../domain/dates.ts';
import { PROCEEDING_KINDS } from '../../domain/escalation/insolvency.ts';
import { formatMoney, parseAmount } from '../../domain/money.ts';
import {
  closeProceeding,
  decideWriteOff,
  declarationPdf,
  declarationRuleOf,
  listProceedings,
  markDeclared,
  proposeWriteOff,
  recordProceeding,
  setClaimDeclarationRule,
  setPublication,
  type WriteOffVat,
} from '../../escalation/insolvency.ts';
import { validation } from '../../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../../i18n/index.ts';
import { loadRateTables } from '../../law/rates-repo.ts';
import { buildCaseFile } from '../../escalation/casefile.ts';
import { injonctionRequest } from '../../escalation/injonction.ts';
import { AGENT_KINDS, handOver, handoverCsv, handoverExport, listHandovers, reportHandover, resumeAfterHandover } from '../../escalation/handover.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';
import { cliLang } from '../exit.ts';

const E = defineErrors('cli-escalation', {
  id: { fr: '{option} attend un nombre, reçu « {value} »', en: '{option} takes a number, got "{value}"' },
  kind: { fr: '--kind doit valoir l’une de ces valeurs : {allowed}', en: '--kind must be one of {allowed}' },
  amount: { fr: '--amount attend FACTURE=MONTANT, par exemple F-12=1500.00, reçu « {value} »', en: '--amount takes INVOICE=AMOUNT, e.g. F-12=1500.00, got "{value}"' },
  target: { fr: 'indiquez --proceeding ou --customer', en: 'give --proceeding or --customer' },
  months: { fr: '{option} attend un nombre entier de mois, reçu « {value} »', en: '{option} takes a whole number of months, got "{value}"' },
  agent_kind: { fr: '--kind doit valoir l’une de ces valeurs : {allowed}', en: '--kind must be one of {allowed}' },
  format: { fr: '--format doit valoir csv ou json', en: '--format must be csv or json' },
});

const M = defineMessages({
  recorded: {
    fr: 'Procédure {id} enregistrée ({kind}, jugement du {judgment}) : relances et pénalités arrêtées pour ce client, {cancelled} action(s) en attente annulée(s).',
    en: 'Proceedings {id} recorded ({kind}, judgment of {judgment}): reminders and penalties stopped for this customer, {cancelled} pending action(s) cancelled.',
  },
  deadline: { fr: 'Déclaration de créance à faire au plus tard le {date} ({rule}) : tâche créée.', en: 'Claim to declare by {date} ({rule}): task raised.' },
  no_publication: { fr: 'Date de publication au BODACC inconnue : indiquez-la (relance insolvency publication) pour calculer le délai de déclaration.', en: 'BODACC publication date unknown: give it (relance insolvency publication) to compute the declaration deadline.' },
  line: { fr: '{id} client {customer} : {kind}, jugement du {judgment}, publication {publication}, déclaration avant le {deadline}{declared} — {status}', en: '{id} customer {customer}: {kind}, judgment of {judgment}, publication {publication}, declare by {deadline}{declared} — {status}' },
  declared: { fr: ', déclarée le {date}', en: ', declared on {date}' },
  unknown: { fr: 'inconnue', en: 'unknown' },
  none: { fr: 'Aucune procédure collective.', en: 'No collective proceedings.' },
  pdf: { fr: '{file} : déclaration de créance, {n} facture(s), {total} au {date} (principal {principal}, intérêts {interest}, indemnités {indemnity}).', en: '{file}: declaration of claim, {n} invoice(s), {total} as at {date} (principal {principal}, interest {interest}, indemnities {indemnity}).' },
  marked: { fr: 'Créance déclarée le {date} : tâche faite.', en: 'Claim declared on {date}: task done.' },
  closed: { fr: 'Procédure {id} close.', en: 'Proceedings {id} closed.' },
  resumed: { fr: 'Procédure {id} close : les relances reprennent.', en: 'Proceedings {id} closed: reminders resume.' },
  proposed: { fr: 'Passage en perte {id} proposé : {amount} sur {n} facture(s), à approuver par une autre personne (relance insolvency approve {id}).', en: 'Write-off {id} proposed: {amount} on {n} invoice(s), to be approved by someone else (relance insolvency approve {id}).' },
  approved: { fr: 'Passage en perte {id} approuvé par {by} : {amount} TTC passés en perte.', en: 'Write-off {id} approved by {by}: {amount} incl. tax written off.' },
  refused: { fr: 'Passage en perte {id} refusé par {by}.', en: 'Write-off {id} refused by {by}.' },
  vat_head: { fr: 'Pour le comptable (TVA sur créance irrécouvrable) :', en: 'For the accountant (VAT on the bad debt):' },
  vat_line: { fr: '  {invoice} : {ttc} TTC dont TVA {vat}, HT {ht}{rate}', en: '  {invoice}: {ttc} incl. tax of which VAT {vat}, excl. tax {ht}{rate}' },
  vat_rate: { fr: ' (taux apparent {rate} %)', en: ' (implied rate {rate}%)' },
  vat_total: { fr: '  Total : {ttc} TTC, TVA {vat}, HT {ht}', en: '  Total: {ttc} incl. tax, VAT {vat}, excl. tax {ht}' },
  rule: { fr: 'Délai de déclaration : {months} mois après la publication, +{abroad} mois pour un créancier hors de France métropolitaine ({source}{verified}).', en: 'Declaration deadline: {months} months after publication, +{abroad} months for a creditor outside metropolitan France ({source}{verified}).' },
  unverified: { fr: ' ; règle à vérifier', en: '; rule to verify' },
  handed: { fr: 'Transmission {id} : {n} facture(s), {amount}, confiée(s) à {agent} ; relances arrêtées pour ces factures ({cancelled} action(s) en attente annulée(s)). Dossier {ref}.', en: 'Handover {id}: {n} invoice(s), {amount}, handed over to {agent}; reminders stopped for them ({cancelled} pending action(s) cancelled). Case file {ref}.' },
  exported: { fr: '{file} : export pour {agent} ({n} facture(s)).', en: '{file}: export for {agent} ({n} invoice(s)).' },
  ho_line: { fr: '{id} client {customer} : {agent} ({kind}) depuis le {on}, {amount} confiés, {recovered} recouvrés, frais {fees} — {status}', en: '{id} customer {customer}: {agent} ({kind}) since {on}, {amount} handed over, {recovered} recovered, fees {fees} — {status}' },
  no_handover: { fr: 'Aucune transmission.', en: 'No handover.' },
  reported: { fr: 'Rapport enregistré : {recovered} recouvrés au total, frais {fees} — {status}.', en: 'Report recorded: {recovered} recovered in all, fees {fees} — {status}.' },
  replayed: { fr: 'Rapport déjà reçu (référence {ref}) : rien de changé.', en: 'Report already received (reference {ref}): nothing changed.' },
  case_file: { fr: '{file} : dossier {ref}, {n} fichier(s) (manifest.json donne l’empreinte SHA-256 de chacun) ; créance {total} au {date}.', en: '{file}: case file {ref}, {n} file(s) (manifest.json gives the SHA-256 of each); claim {total} as at {date}.' },
  injonction: { fr: '{file} : requête en injonction de payer ({procedure}), {total} au {date}.', en: '{file}: request for an order for payment ({procedure}), {total} as at {date}.' },
  proc_commercial_court: { fr: 'tribunal de commerce, dépôt en ligne', en: 'commercial court, online filing' },
  proc_cerfa: { fr: 'formulaire Cerfa', en: 'Cerfa form' },
  proc_european_order: { fr: 'injonction de payer européenne, formulaire A', en: 'European order for payment, form A' },
  kind_agency: { fr: 'société de recouvrement', en: 'collection agency' },
  kind_lawyer: { fr: 'avocat', en: 'lawyer' },
  kind_bailiff: { fr: 'commissaire de justice', en: 'commissaire de justice (bailiff)' },
  status_handed_over: { fr: 'en cours', en: 'in progress' },
  status_recovered: { fr: 'recouvré', en: 'recovered' },
  status_closed: { fr: 'clos', en: 'closed' },
  ho_resumed: { fr: 'Transmission {id} close : les relances reprennent pour ce qui reste dû.', en: 'Handover {id} closed: reminders resume for what is still owed.' },
});

const json = (v: unknown) => JSON.stringify(v, jsonReplacer);
const collect = (v: string, prev: string[]) => prev.concat(v);
export const ORG = ['--org <id>', 'organisation (id, SIREN or name)'] as const;
const DATE = ['--date <YYYY-MM-DD>', 'the day it is recorded (default: today)'] as const;
const who = (by?: string) => by ?? process.env.RELANCE_USER ?? process.env.USER ?? 'cli';

export function idOf(v: string, option: string): bigint {
  if (!/^\d{1,18}$/.test(v)) throw validation(E('id', { option, value: v }), { field: option });
  return BigInt(v);
}

export async function withOrg<T>(ctx: CliContext, org: string | undefined, date: string | undefined, fn: (db: Db, orgId: string, today: CalendarDate, lang: Lang) => Promise<T>): Promise<T> {
  const db = await ctx.openDb();
  try {
    const orgId = await ctx.resolveOrg(db, org);
    const o = await getOrganisation(db, orgId);
    const today = date ? calendarDate(date, { field: '--date' }) : todayIn(o.timeZone, Date.now());
    return await fn(db, orgId, today, cliLang(process.env));
  } finally {
    await db.close();
  }
}

function vatLines(v: WriteOffVat, lang: Lang): string[] {
  const m = (x: bigint) => formatMoney(x, v.request.currency, lang);
  return [
    t(M, lang, 'vat_head'),
    ...v.lines.map((l) =>
      t(M, lang, 'vat_line', {
        invoice: l.invoiceNumber, ttc: m(l.writtenOffMinor), vat: m(l.vatMinor), ht: m(l.exclTaxMinor),
        rate: l.impliedRateBp === null ? '' : t(M, lang, 'vat_rate', { rate: (l.impliedRateBp / 100).toFixed(2) }),
      }),
    ),
    t(M, lang, 'vat_total', { ttc: m(v.writtenOffMinor), vat: m(v.vatMinor), ht: m(v.exclTaxMinor) }),
  ];
}

export function register(program: Command, ctx: CliContext): void {
  registerHandover(program, ctx);
  program
    .command('injonction')
    .description("the request for an order for payment prefilled from the ledger: the commercial court's online filing data (business), the Cerfa form's fields (consumer or civil debt), or the European order for payment form A (EU debtor); refused with the reason when disputed, time-barred or without a formal notice")
    .requiredOption('--customer <id>', 'customer id')
    .option('--invoices <numbers>', 'only these invoices (comma-separated)')
    .requiredOption('--out <file>', 'PDF to write')
    .option('--lang <fr|en>', "language (default: the organisation's)")
    .option('--date <YYYY-MM-DD>', 'the day it is prepared (default: today)')
    .option(...ORG)
    .action(async (o: { customer: string; invoices?: string; out: string; lang?: string; date?: string; org?: string }) => {
      const customerId = idOf(o.customer, '--customer');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const invoiceNumbers = o.invoices ? o.invoices.split(',').map((x) => x.trim()).filter(Boolean) : null;
        const rates = await loadRateTables(db);
        const r = await injonctionRequest(db, orgId, customerId, rates, today, { invoiceNumbers, lang: o.lang === 'en' || o.lang === 'fr' ? o.lang : undefined });
        writeFileSync(o.out, r.pdf);
        ctx.out(t(M, lang, 'injonction', { file: o.out, procedure: t(M, lang, `proc_${r.procedure}`), total: formatMoney(r.totalMinor, r.currency, lang), date: formatLongDate(today, lang) }));
      });
    });
  program
    .command('case-file')
    .description('the recovery case file as a ZIP: cover PDF (claim to the day, payments, limitation dates), statement of account, invoices held, formal notice and proofs, every message sent, history, manifest of SHA-256')
    .requiredOption('--customer <id>', 'customer id')
    .option('--invoices <numbers>', 'only these invoices (comma-separated)')
    .requiredOption('--out <file>', 'ZIP to write')
    .option('--lang <fr|en>', "language of the documents (default: the organisation's)")
    .option('--date <YYYY-MM-DD>', 'the day the file states (default: today)')
    .option(...ORG)
    .action(async (o: { customer: string; invoices?: string; out: string; lang?: string; date?: string; org?: string }) => {
      const customerId = idOf(o.customer, '--customer');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const invoiceNumbers = o.invoices ? o.invoices.split(',').map((x) => x.trim()).filter(Boolean) : null;
        const f = await buildCaseFile(db, orgId, customerId, await loadRateTables(db), today, { invoiceNumbers, lang: o.lang === 'en' || o.lang === 'fr' ? o.lang : undefined });
        writeFileSync(o.out, f.zip);
        ctx.out(t(M, lang, 'case_file', { file: o.out, ref: f.reference, n: String(f.files.length + 1), total: formatMoney(f.claim.totalMinor, f.claim.currency, lang), date: formatLongDate(today, lang) }));
      });
    });
  const ins = program.command('insolvency').description('collective proceedings against a customer: stop the recovery, declare the claim, write off');

  ins
    .command('record')
    .description('record safeguard, receivership or liquidation proceedings: every reminder and penalty stops for the customer; the declaration task gets its deadline')
    .requiredOption('--customer <id>', 'customer id')
    .requiredOption('--kind <kind>', PROCEEDING_KINDS.join(', '))
    .requiredOption('--judgment <YYYY-MM-DD>', 'date of the opening judgment')
    .option('--publication <YYYY-MM-DD>', 'date of its publication in the BODACC (starts the declaration deadline)')
    .option('--court <name>', 'the court')
    .option('--case <number>', 'the case number')
    .option('--representative <name>', 'the court-appointed representative (mandataire judiciaire, liquidator)')
    .option('--representative-address <text>', "the representative's address")
    .option('--abroad', 'the creditor is outside metropolitan France (longer deadline; default: the organisation is not in France)')
    .option('--privilege <text>', 'security attached to the claim (retention of title...)')
    .option('--note <text>', 'note')
    .option('--json', 'JSON output')
    .option(...DATE)
    .option(...ORG)
    .action(async (o: Record<string, string | boolean | undefined>) => {
      if (!(PROCEEDING_KINDS as readonly string[]).includes(String(o.kind))) throw validation(E('kind', { allowed: PROCEEDING_KINDS.join(', ') }), { field: '--kind' });
      const customerId = idOf(String(o.customer), '--customer');
      await withOrg(ctx, o.org as string | undefined, o.date as string | undefined, async (db, orgId, today, lang) => {
        const r = await db.tx((q) =>
          recordProceeding(
            q, orgId,
            {
              customerId, kind: String(o.kind), judgmentDate: String(o.judgment), publicationDate: (o.publication as string | undefined) ?? null,
              court: (o.court as string | undefined) ?? null, caseNumber: (o.case as string | undefined) ?? null,
              representativeName: (o.representative as string | undefined) ?? null, representativeAddress: (o.representativeAddress as string | undefined) ?? null,
              creditorAbroad: o.abroad === true ? true : null, privilege: (o.privilege as string | undefined) ?? null, note: (o.note as string | undefined) ?? null,
            },
            today,
          ),
        );
        if (o.json) return ctx.out(json(r));
        const p = r.proceeding;
        ctx.out(t(M, lang, 'recorded', { id: String(p.id), kind: p.kind, judgment: formatLongDate(p.judgmentDate, lang), cancelled: String(r.cancelledActions) }));
        ctx.out(p.declarationDeadline ? t(M, lang, 'deadline', { date: formatLongDate(p.declarationDeadline, lang), rule: String(p.deadlineRule) }) : t(M, lang, 'no_publication'));
      });
    });

  ins
    .command('publication')
    .description('the BODACC publication date of the judgment: the declaration deadline and its task follow')
    .argument('<id>', 'proceedings id')
    .requiredOption('--date-published <YYYY-MM-DD>', 'publication date')
    .option(...ORG)
    .action(async (id: string, o: { datePublished: string; org?: string }) => {
      const pid = idOf(id, 'id');
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const p = await db.tx((q) => setPublication(q, orgId, pid, o.datePublished));
        ctx.out(t(M, lang, 'deadline', { date: formatLongDate(p.declarationDeadline!, lang), rule: String(p.deadlineRule) }));
      });
    });

  ins
    .command('list')
    .description('collective proceedings recorded, with their declaration deadlines')
    .option('--customer <id>', 'customer id')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: { customer?: string; json?: boolean; org?: string }) => {
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const list = await listProceedings(db, orgId, { customerId: o.customer ? idOf(o.customer, '--customer') : null });
        if (o.json) return ctx.out(json(list));
        if (list.length === 0) ctx.out(t(M, lang, 'none'));
        const d = (x: CalendarDate | null) => (x ? formatLongDate(x, lang) : t(M, lang, 'unknown'));
        for (const p of list) {
          ctx.out(
            t(M, lang, 'line', {
              id: String(p.id), customer: String(p.customerId), kind: p.kind, judgment: d(p.judgmentDate), publication: d(p.publicationDate), deadline: d(p.declarationDeadline),
              declared: p.declaredOn ? t(M, lang, 'declared', { date: d(p.declaredOn) }) : '', status: p.status,
            }),
          );
        }
      });
    });

  ins
    .command('declaration')
    .description('the declaration of claim as a PDF: amounts to the judgment date, nature of the claim, supporting documents')
    .argument('<id>', 'proceedings id')
    .requiredOption('--out <file>', 'PDF to write')
    .option('--lang <fr|en>', "language (default: the organisation's)")
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { out: string; lang?: string; date?: string; org?: string }) => {
      const pid = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const r = await declarationPdf(db, orgId, pid, await loadRateTables(db), today, o.lang === 'en' || o.lang === 'fr' ? o.lang : undefined);
        writeFileSync(o.out, r.pdf);
        const c = r.claim;
        const m = (x: bigint) => formatMoney(x, c.currency, lang);
        ctx.out(t(M, lang, 'pdf', { file: o.out, n: String(c.lines.length), total: m(c.totalMinor), date: formatLongDate(c.asOf, lang), principal: m(c.principalMinor), interest: m(c.interestMinor), indemnity: m(c.indemnityMinor) }));
      });
    });

  ins
    .command('declared')
    .description('the claim was declared: its task is done')
    .argument('<id>', 'proceedings id')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { date?: string; org?: string }) => {
      const pid = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        await db.tx((q) => markDeclared(q, orgId, pid, today));
        ctx.out(t(M, lang, 'marked', { date: formatLongDate(today, lang) }));
      });
    });

  ins
    .command('close')
    .description('the proceedings are over; --resume lifts the stop of the reminders')
    .argument('<id>', 'proceedings id')
    .option('--resume', 'resume the reminders for what is still open')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { resume?: boolean; date?: string; org?: string }) => {
      const pid = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        await db.tx((q) => closeProceeding(q, orgId, pid, today, { resume: o.resume === true }));
        ctx.out(t(M, lang, o.resume ? 'resumed' : 'closed', { id }));
      });
    });

  ins
    .command('write-off')
    .description('propose writing off the irrecoverable part (every open amount, or --amount INVOICE=AMOUNT); another person approves')
    .option('--proceeding <id>', 'proceedings id (its debtor)')
    .option('--customer <id>', 'customer id (without proceedings)')
    .option('--amount <invoice=amount>', 'amount of an invoice to write off (repeatable; default: all that is open)', collect, [])
    .requiredOption('--reason <text>', 'why it will not be recovered')
    .option('--by <name>', 'who proposes it (default: RELANCE_USER or USER)')
    .option(...DATE)
    .option(...ORG)
    .action(async (o: { proceeding?: string; customer?: string; amount: string[]; reason: string; by?: string; date?: string; org?: string }) => {
      if (!o.proceeding && !o.customer) throw validation(E('target'), { field: '--proceeding' });
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const org = await getOrganisation(db, orgId);
        const amounts = o.amount.map((a) => {
          const m = /^(.+)=(\d+(?:[.,]\d{1,3})?)$/.exec(a);
          if (!m) throw validation(E('amount', { value: a }), { field: '--amount' });
          return { invoiceNumber: m[1]!, amountMinor: parseAmount(m[2]!, org.currency, { field: '--amount' }) };
        });
        const r = await db.tx((q) =>
          proposeWriteOff(q, orgId, {
            proceedingId: o.proceeding ? idOf(o.proceeding, '--proceeding') : null, customerId: o.customer ? idOf(o.customer, '--customer') : null,
            amounts, reason: o.reason, by: who(o.by),
          }, today),
        );
        ctx.out(t(M, lang, 'proposed', { id: String(r.id), amount: formatMoney(r.amountMinor, r.currency, lang), n: String(r.lines.length) }));
      });
    });

  for (const [name, approve] of [['approve', true], ['refuse', false]] as const) {
    ins
      .command(name)
      .description(approve ? 'approve a proposed write-off (someone other than who proposed it): the ledger writes it off; prints the VAT figures' : 'refuse a proposed write-off')
      .argument('<id>', 'write-off request id')
      .option('--by <name>', 'who decides (default: RELANCE_USER or USER)')
      .option('--json', 'JSON output')
      .option(...DATE)
      .option(...ORG)
      .action(async (id: string, o: { by?: string; json?: boolean; date?: string; org?: string }) => {
        const rid = idOf(id, 'id');
        await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
          const v = await db.tx((q) => decideWriteOff(q, orgId, rid, { approve, by: who(o.by) }, today));
          if (o.json) return ctx.out(json(v));
          ctx.out(t(M, lang, approve ? 'approved' : 'refused', { id, by: who(o.by), amount: formatMoney(v.writtenOffMinor, v.request.currency, lang) }));
          if (approve) for (const l of vatLines(v, lang)) ctx.out(l);
        });
      });
  }

  ins
    .command('settings')
    .description('the declaration deadline rule (shipped: 2 months after publication, +2 abroad); override it for this organisation')
    .option('--months <n>', 'months after the publication')
    .option('--abroad-extra-months <n>', 'months added for a creditor outside metropolitan France')
    .option('--reset', 'back to the shipped rule')
    .option(...ORG)
    .action(async (o: { months?: string; abroadExtraMonths?: string; reset?: boolean; org?: string }) => {
      const num = (v: string | undefined, option: string) => {
        if (v === undefined) return undefined;
        if (!/^\d{1,2}$/.test(v)) throw validation(E('months', { option, value: v }), { field: option });
        return Number(v);
      };
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const months = num(o.months, '--months');
        const abroad = num(o.abroadExtraMonths, '--abroad-extra-months');
        const rule = o.reset
          ? await db.tx((q) => setClaimDeclarationRule(q, orgId, null))
          : months !== undefined || abroad !== undefined
            ? await db.tx((q) => setClaimDeclarationRule(q, orgId, { ...(months !== undefined ? { months } : {}), ...(abroad !== undefined ? { abroadExtraMonths: abroad } : {}) }))
            : await declarationRuleOf(db, orgId);
        ctx.out(t(M, lang, 'rule', { months: String(rule.months), abroad: String(rule.abroadExtraMonths), source: rule.source, verified: rule.verified ? '' : t(M, lang, 'unverified') }));
      });
    });
}

function registerHandover(program: Command, ctx: CliContext): void {
  const ho = program.command('handover').description('hand invoices over to a collection agency, a lawyer or a commissaire de justice; their reports');
  ho.command('create')
    .description('record a handover: the reminders of those invoices stop; --out writes the export (.csv or .json)')
    .requiredOption('--customer <id>', 'customer id')
    .option('--invoice <number>', 'an invoice handed over (repeatable)', collect, [])
    .option('--all-open', 'every open invoice of the customer')
    .requiredOption('--to <name>', 'the agency, lawyer or commissaire de justice')
    .option('--kind <kind>', AGENT_KINDS.join(', '), 'agency')
    .option('--reference <ref>', "the agent's reference for the case")
    .option('--by <name>', 'who hands it over (default: RELANCE_USER or USER)')
    .option('--out <file>', 'write the export for the agent (.csv or .json)')
    .option(...DATE)
    .option(...ORG)
    .action(async (o: { customer: string; invoice: string[]; allOpen?: boolean; to: string; kind: string; reference?: string; by?: string; out?: string; date?: string; org?: string }) => {
      if (!(AGENT_KINDS as readonly string[]).includes(o.kind)) throw validation(E('agent_kind', { allowed: AGENT_KINDS.join(', ') }), { field: '--kind' });
      const customerId = idOf(o.customer, '--customer');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const r = await db.tx((q) =>
          handOver(q, orgId, { customerId, invoiceNumbers: o.invoice, allOpenInvoices: o.allOpen === true, agentKind: o.kind, agentName: o.to, agentReference: o.reference ?? null, by: who(o.by) }, today),
        );
        const h = r.handover;
        ctx.out(t(M, lang, 'handed', { id: String(h.id), n: String(h.invoiceIds.length), amount: formatMoney(h.amountMinor, h.currency, lang), agent: h.agentName, cancelled: String(r.cancelledActions), ref: h.caseFileReference }));
        if (o.out) await writeExport(ctx, db, orgId, h.id, o.out.endsWith('.json') ? 'json' : 'csv', o.out, today, lang);
      });
    });
  ho.command('export')
    .description('the export for the agent: debtor, contacts, invoices, amounts to the day, what was done, case file reference')
    .argument('<id>', 'handover id')
    .option('--format <csv|json>', 'csv or json', 'csv')
    .requiredOption('--out <file>', 'file to write')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { format: string; out: string; date?: string; org?: string }) => {
      if (o.format !== 'csv' && o.format !== 'json') throw validation(E('format'), { field: '--format' });
      const hid = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => writeExport(ctx, db, orgId, hid, o.format as 'csv' | 'json', o.out, today, lang));
    });
  ho.command('list')
    .description('handovers, with what was recovered and the fees')
    .option('--customer <id>', 'customer id')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: { customer?: string; json?: boolean; org?: string }) => {
      await withOrg(ctx, o.org, undefined, async (db, orgId, _today, lang) => {
        const list = await listHandovers(db, orgId, { customerId: o.customer ? idOf(o.customer, '--customer') : null });
        if (o.json) return ctx.out(json(list));
        if (list.length === 0) ctx.out(t(M, lang, 'no_handover'));
        for (const h of list) {
          const m = (x: bigint) => formatMoney(x, h.currency, lang);
          ctx.out(t(M, lang, 'ho_line', { id: String(h.id), customer: String(h.customerId), agent: h.agentName, kind: t(M, lang, `kind_${h.agentKind}`), on: formatLongDate(h.handedOverOn, lang), amount: m(h.amountMinor), recovered: m(h.recoveredMinor), fees: m(h.feesMinor), status: t(M, lang, `status_${h.status}`) }));
        }
      });
    });
  ho.command('report')
    .description("the agent's report: its status, a payment it collected (settles the invoices through the ledger), its fees")
    .argument('<id>', 'handover id')
    .option('--status <status>', 'handed_over, recovered or closed')
    .option('--paid <amount>', 'amount the agent collected')
    .option('--paid-on <YYYY-MM-DD>', 'the day it was collected (default: today)')
    .option('--fees <amount>', "the agent's fees")
    .option('--reference <ref>', "the agent's reference for this report (a report sent twice is recorded once)")
    .option('--note <text>', 'note')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { status?: string; paid?: string; paidOn?: string; fees?: string; reference?: string; note?: string; date?: string; org?: string }) => {
      const hid = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        const org = await getOrganisation(db, orgId);
        const r = await db.tx((q) =>
          reportHandover(q, orgId, hid, {
            reference: o.reference ?? null, status: o.status ?? null, note: o.note ?? null,
            payment: o.paid ? { amountMinor: parseAmount(o.paid, org.currency, { field: '--paid' }), paidOn: o.paidOn ?? today } : null,
            feesMinor: o.fees ? parseAmount(o.fees, org.currency, { field: '--fees' }) : null,
          }, today),
        );
        if (r.replayed) return ctx.out(t(M, lang, 'replayed', { ref: String(o.reference) }));
        const m = (x: bigint) => formatMoney(x, r.handover.currency, lang);
        ctx.out(t(M, lang, 'reported', { recovered: m(r.handover.recoveredMinor), fees: m(r.handover.feesMinor), status: t(M, lang, `status_${r.handover.status}`) }));
      });
    });
  ho.command('resume')
    .description('the mandate ended: close the handover and resume the reminders for what is still owed')
    .argument('<id>', 'handover id')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { date?: string; org?: string }) => {
      const hid = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today, lang) => {
        await db.tx((q) => resumeAfterHandover(q, orgId, hid, today));
        ctx.out(t(M, lang, 'ho_resumed', { id }));
      });
    });
}

async function writeExport(ctx: CliContext, db: Db, orgId: string, id: bigint, format: 'csv' | 'json', out: string, today: CalendarDate, lang: Lang): Promise<void> {
  const x = await handoverExport(db, orgId, id, await loadRateTables(db), today);
  writeFileSync(out, format === 'csv' ? handoverCsv(x) : `${JSON.stringify(x, null, 2)}\n`);
  ctx.out(t(M, lang, 'exported', { file: out, agent: x.handover.agentName, n: String(x.invoices.length) }));
}
