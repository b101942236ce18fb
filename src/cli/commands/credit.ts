/**
 * Customers' credit policy from the command line: `relance customers show|update` (credit limit,
 * payment terms, deposit, early-payment discount, risk class, with the exposure against the limit)
 * and `relance credit-policy` (the stricter scenarios for customers over their limit or in a risk class).
 */
import type { Command } from 'commander';
import { jsonReplacer } from '../../db/driver.ts';
import { formatLongDate, todayIn } from '../../domain/dates.ts';
import { configuredRegister } from '../../risk/register/index.ts';
import { discountLabel, formatPercent, parsePercent, parseRiskClass, riskClassLabel } from '../../domain/credit-policy.ts';
import { formatMoney, parseAmount } from '../../domain/money.ts';
import { validation } from '../../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../../i18n/index.ts';
import { type CustomerPatch, getCustomer, getOrganisation, updateCustomer } from '../../ledger/repo.ts';
import { checkCreditLimits, customerExposure, listPolicyScenarios, parseTrigger, setPolicyScenario } from '../../risk/credit.ts';
import { ensureBuiltinScenarios } from '../../engine/scenarios.ts';
import { CE } from '../errors.ts';
import { cliLang } from '../exit.ts';
import type { CliContext } from '../context.ts';

const CCE = defineErrors('cli-credit', {
  discount: { fr: '--early-discount attend pourcentage:jours (ex. 2:10), ou none', en: '--early-discount takes percent:days (e.g. 2:10), or none' },
  nothing: { fr: 'rien à changer : indiquez au moins une option (voir --help)', en: 'nothing to change: give at least one option (see --help)' },
  scenario_pair: { fr: '--scenario attend déclencheur=scénario (over_limit, medium ou high ; scénario none pour retirer), reçu « {value} »', en: '--scenario takes trigger=scenario (over_limit, medium or high; scenario none removes it), got "{value}"' },
});

const M = defineMessages({
  title: { fr: '{name} (client {id})', en: '{name} (customer {id})' },
  terms: { fr: 'Délai de paiement : {days} jours', en: 'Payment terms: {days} days' },
  limit: { fr: 'Encours autorisé : {limit}', en: 'Credit limit: {limit}' },
  no_limit: { fr: 'Encours autorisé : aucun', en: 'Credit limit: none' },
  exposure: { fr: 'Encours : {exposure} (factures ouvertes {open}, commandes annoncées {orders})', en: 'Exposure: {exposure} (open invoices {open}, orders announced {orders})' },
  over: { fr: 'AU-DELÀ DE L’ENCOURS AUTORISÉ de {over}', en: 'OVER THE CREDIT LIMIT by {over}' },
  headroom: { fr: 'Reste disponible : {headroom}', en: 'Headroom: {headroom}' },
  deposit: { fr: 'Acompte demandé : {percent} %', en: 'Deposit required: {percent} %' },
  discount: { fr: 'Escompte : {discount}', en: 'Early-payment discount: {discount}' },
  risk_class: { fr: 'Classe de risque : {class}', en: 'Risk class: {class}' },
  alert: { fr: 'Alerte levée : encours {exposure} au-delà de la limite {limit} (webhook customer.credit_limit_exceeded)', en: 'Alert raised: exposure {exposure} over the limit {limit} (webhook customer.credit_limit_exceeded)' },
  register_none: { fr: 'Ce client n’a pas de SIREN : rien à vérifier au registre.', en: 'This customer has no SIREN: nothing to check in the register.' },
  register_unknown: { fr: 'SIREN {siren} inconnu du registre ({source}).', en: 'SIREN {siren} unknown to the register ({source}).' },
  register_active: { fr: '{name} (SIREN {siren}) : en activité selon le registre ({source}).', en: '{name} (SIREN {siren}): active according to the register ({source}).' },
  register_closed: { fr: '{name} (SIREN {siren}) : FERMÉE{since} selon le registre ({source}) ; classe de risque passée à élevé.', en: '{name} (SIREN {siren}): CLOSED{since} according to the register ({source}); risk class set to high.' },
  since: { fr: ' depuis le {date}', en: ' since {date}' },
  policy_none: { fr: 'Aucun scénario plus strict choisi : les clients au-delà de leur encours ou à risque suivent leur scénario habituel.', en: 'No stricter scenario chosen: customers over their limit or at risk follow their usual scenario.' },
  policy_line: { fr: '{trigger} → {scenario} ({key})', en: '{trigger} → {scenario} ({key})' },
});

const lang = (v: string | undefined): Lang => {
  const l = (v ?? cliLang(process.env)).toLowerCase();
  if (l !== 'fr' && l !== 'en') throw validation(CE('lang_got', { value: String(v) }), { field: '--lang' });
  return l;
};

const customerId = (v: string) => {
  if (!/^\d{1,18}$/.test(v)) throw validation(CE('customer_id', { value: v }), { field: 'ID' });
  return BigInt(v);
};

const none = (v: string) => v.trim().toLowerCase() === 'none';

export function register(program: Command, ctx: CliContext): void {
  const customers = program.command('customers').description("a customer's credit policy and exposure");

  const show = async (db: Awaited<ReturnType<CliContext['openDb']>>, orgId: string, id: bigint, l: Lang, json: boolean, extra: string[] = []) => {
    const org = await getOrganisation(db, orgId);
    const c = await getCustomer(db, orgId, id);
    const x = await customerExposure(db, orgId, id);
    if (json) {
      ctx.out(JSON.stringify({ customer: c, exposure: x }, jsonReplacer));
      return;
    }
    const money = (m: bigint) => formatMoney(m, org.currency, l);
    ctx.out(t(M, l, 'title', { name: c.legalName, id: String(c.id) }));
    ctx.out(t(M, l, 'terms', { days: c.paymentTermsDays }));
    ctx.out(c.creditLimitMinor === null ? t(M, l, 'no_limit') : t(M, l, 'limit', { limit: money(c.creditLimitMinor) }));
    ctx.out(t(M, l, 'exposure', { exposure: money(x.exposureMinor), open: money(x.openMinor), orders: money(x.ordersMinor) }));
    if (x.headroomMinor !== null) ctx.out(x.overLimit ? t(M, l, 'over', { over: money(-x.headroomMinor) }) : t(M, l, 'headroom', { headroom: money(x.headroomMinor) }));
    if (c.depositBp !== null) ctx.out(t(M, l, 'deposit', { percent: formatPercent(c.depositBp, l) }));
    if (c.earlyDiscount) ctx.out(t(M, l, 'discount', { discount: discountLabel(c.earlyDiscount, l) }));
    if (c.riskClass) ctx.out(t(M, l, 'risk_class', { class: riskClassLabel(c.riskClass, l) }));
    for (const line of extra) ctx.out(line);
  };

  customers
    .command('show <id>')
    .description("a customer's credit policy (limit, terms, deposit, discount, risk class) and exposure against its limit")
    .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idText: string, o: { lang?: string; json?: boolean; org?: string }) => {
      const l = lang(o.lang);
      const id = customerId(idText);
      const db = await ctx.openDb();
      try {
        await show(db, await ctx.resolveOrg(db, o.org), id, l, Boolean(o.json));
      } finally {
        await db.close();
      }
    });

  customers
    .command('update <id>')
    .description("change a customer's credit policy; an exposure now over the limit raises the alert (Today, webhook customer.credit_limit_exceeded)")
    .option('--credit-limit <amount>', 'credit limit in the organisation currency (5000 or 5000.00), none to remove it')
    .option('--payment-terms <days>', 'payment terms in days (0 to 365)')
    .option('--deposit <percent>', 'deposit asked on new orders, percent (30), none to remove it')
    .option('--early-discount <percent:days>', 'early-payment discount, e.g. 2:10 (2 % if paid within 10 days), none to remove it')
    .option('--risk-class <class>', 'low, medium or high (none to remove it)')
    .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idText: string, o: { creditLimit?: string; paymentTerms?: string; deposit?: string; earlyDiscount?: string; riskClass?: string; lang?: string; json?: boolean; org?: string }) => {
      const l = lang(o.lang);
      const id = customerId(idText);
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const patch: CustomerPatch = {};
        if (o.creditLimit !== undefined) patch.creditLimitMinor = none(o.creditLimit) ? null : parseAmount(o.creditLimit, org.currency, { field: '--credit-limit' });
        if (o.paymentTerms !== undefined) {
          if (!/^\d{1,3}$/.test(o.paymentTerms)) throw validation(CE('whole_number', { name: '--payment-terms', value: o.paymentTerms }), { field: '--payment-terms' });
          patch.paymentTermsDays = Number(o.paymentTerms);
        }
        if (o.deposit !== undefined) patch.depositBp = none(o.deposit) ? null : parsePercent(o.deposit, '--deposit');
        if (o.earlyDiscount !== undefined) {
          if (none(o.earlyDiscount)) patch.earlyDiscount = null;
          else {
            const m = /^([^:]+):(\d{1,3})$/.exec(o.earlyDiscount.trim());
            if (!m) throw validation(CCE('discount'), { field: '--early-discount' });
            patch.earlyDiscount = { bp: parsePercent(m[1]!, '--early-discount', 50), withinDays: Number(m[2]) };
          }
        }
        if (o.riskClass !== undefined) patch.riskClass = parseRiskClass(o.riskClass, '--risk-class');
        if (Object.keys(patch).length === 0) throw validation(CCE('nothing'));
        const today = todayIn(org.timeZone, Date.now());
        const alerts = await db.tx(async (q) => {
          await updateCustomer(q, orgId, id, patch);
          return checkCreditLimits(q, orgId, today, [id]);
        });
        const money = (m: bigint) => formatMoney(m, org.currency, l);
        await show(db, orgId, id, l, Boolean(o.json), alerts.map((a) => t(M, l, 'alert', { exposure: money(a.exposureMinor), limit: money(a.limitMinor) })));
      } finally {
        await db.close();
      }
    });

  customers
    .command('check <id>')
    .description("look the customer's SIREN up in the company register the operator configured (RELANCE_COMPANY_REGISTER; none by default): a closed company is flagged (risk class high)")
    .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (idText: string, o: { lang?: string; json?: boolean; org?: string }) => {
      const l = lang(o.lang);
      const id = customerId(idText);
      const register = configuredRegister();
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const c = await getCustomer(db, orgId, id);
        if (!c.siren) return ctx.out(o.json ? JSON.stringify({ record: null, reason: 'no_siren' }) : t(M, l, 'register_none'));
        const record = await register.lookup(c.siren);
        const flagged = record !== null && (record.status === 'closed' || record.insolvent === true);
        if (flagged) await db.tx((q) => updateCustomer(q, orgId, id, { riskClass: 'high' }));
        if (o.json) return ctx.out(JSON.stringify({ record, flagged }));
        if (!record) return ctx.out(t(M, l, 'register_unknown', { siren: c.siren, source: register.name }));
        const vars = { name: record.legalName || c.legalName, siren: record.siren, source: record.source, since: record.closedOn ? t(M, l, 'since', { date: formatLongDate(record.closedOn, l) }) : '' };
        ctx.out(t(M, l, flagged ? 'register_closed' : 'register_active', vars));
      } finally {
        await db.close();
      }
    });

  program
    .command('credit-policy')
    .description('the stricter scenario for customers over their credit limit (over_limit) or in a risk class (medium, high); without --scenario, lists them')
    .option('--scenario <trigger=key>', 'e.g. over_limit=weekly or high=weekly; key none removes it (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--lang <fr|en>', 'language of the output (default: RELANCE_LANG or the locale)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { scenario: string[]; lang?: string; json?: boolean; org?: string }) => {
      const l = lang(o.lang);
      const pairs = o.scenario.map((p) => {
        const m = /^([a-z_]+)=(.+)$/.exec(p.trim());
        if (!m) throw validation(CCE('scenario_pair', { value: p }), { field: '--scenario' });
        return [parseTrigger(m[1]!, '--scenario'), none(m[2]!) ? null : m[2]!] as const;
      });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const list = await db.tx(async (q) => {
          await ensureBuiltinScenarios(q, orgId, org.language);
          for (const [trigger, key] of pairs) await setPolicyScenario(q, orgId, trigger, key);
          return listPolicyScenarios(q, orgId);
        });
        if (o.json) {
          ctx.out(JSON.stringify({ scenarios: list }));
          return;
        }
        if (list.length === 0) ctx.out(t(M, l, 'policy_none'));
        for (const s of list) ctx.out(t(M, l, 'policy_line', { trigger: riskClassLabel(s.trigger, l), scenario: s.scenarioName, key: s.scenarioKey }));
      } finally {
        await db.close();
      }
    });
}
