/**
 * The debtor portal on the command line (issue 20): `relance portal link --customer ID [--days N]
 * [--json]` prints the customer's link (made, or renewed), `relance portal revoke --customer ID`
 * ends it at once, `relance portal settings` shows or changes the organisation's rules (on/off,
 * public address, link days, limits of promises and plans, attachments, the pre-due question),
 * `relance portal payments` sets the payment link adapter (none by default).
 */
import type { Command } from 'commander';
import { jsonReplacer } from '../../db/driver.ts';
import { formatMoney, parseAmount } from '../../domain/money.ts';
import { validation } from '../../errors.ts';
import { defineErrors, defineMessages, t } from '../../i18n/index.ts';
import { getOrganisation } from '../../ledger/repo.ts';
import { linkForOperator, type PortalSettings, revokeLink, savePortalSettings } from '../../portal/links.ts';
import { paymentSettingsFor } from '../../portal/payments.ts';
import type { CliContext } from '../context.ts';
import { cliLang } from '../exit.ts';

const E = defineErrors('cli-portal', {
  id: { fr: '{option} attend un nombre, reçu « {value} »', en: '{option} takes a number, got "{value}"' },
  int: { fr: '{option} attend un nombre entier, reçu « {value} »', en: '{option} takes a whole number, got "{value}"' },
  provider: { fr: '--provider vaut stripe ou none', en: '--provider is stripe or none' },
});

const M = defineMessages({
  link: { fr: 'Lien du client {customer}, valable jusqu’au {until} :\n{url}', en: 'Link of customer {customer}, valid until {until}:\n{url}' },
  revoked: { fr: 'Lien du client {customer} révoqué : il ne s’ouvre plus. Le prochain message ou `relance portal link` en crée un nouveau.', en: 'Link of customer {customer} revoked: it no longer opens. The next message or `relance portal link` makes a new one.' },
  none: { fr: 'Le client {customer} n’avait pas de lien en cours.', en: 'Customer {customer} had no current link.' },
  on: { fr: 'activé', en: 'on' },
  off: { fr: 'désactivé', en: 'off' },
  settings: {
    fr: 'Portail client : {state}\nAdresse publique : {url}\nDurée d’un lien : {days} jours (renouvelée à chaque message)\n« J’ai déjà payé » suspend les relances : {hold} jours\nPromesse : au plus {promise} jours\nÉchéancier : {max} mensualités au plus, {min} au moins chacune, première dans {first} jours au plus\nAcceptation automatique : {auto}\nJustificatif : {size} Mo au plus (PDF, PNG, JPEG)\nQuestion avant échéance : {check}\nPaiement en ligne : {provider}',
    en: 'Customer portal: {state}\nPublic address: {url}\nLink lasts: {days} days (renewed by each message)\n"I have paid" holds reminders: {hold} days\nPromise: at most {promise} days\nPayment plan: at most {max} instalments, at least {min} each, the first within {first} days\nAutomatic acceptance: {auto}\nSupporting document: up to {size} MB (PDF, PNG, JPEG)\nPre-due question: {check}\nOnline payment: {provider}',
  },
  unset: { fr: 'non réglée (aucun lien dans les messages)', en: 'not set (no link in messages)' },
  auto: { fr: 'dernière mensualité dans {days} jours au plus{max}', en: 'last instalment within {days} days{max}' },
  auto_max: { fr: ', total de {amount} au plus', en: ', total up to {amount}' },
  auto_off: { fr: 'non (chaque échéancier attend une personne)', en: 'no (every plan waits for a person)' },
  provider_none: { fr: 'aucun', en: 'none' },
});

const idOf = (v: string, option: string) => {
  if (!/^\d{1,18}$/.test(v)) throw validation(E('id', { option, value: v }), { field: option });
  return BigInt(v);
};
const intOf = (v: string | undefined, option: string) => {
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v)) throw validation(E('int', { option, value: v }), { field: option });
  return Number(v);
};

export function register(program: Command, ctx: CliContext): void {
  const lang = () => cliLang(process.env);
  const portal = program.command('portal').description('the debtor portal: links per customer, settings, payment link adapter');
  const ORG = ['--org <id>', 'organisation (id, SIREN or name)'] as const;

  portal
    .command('link')
    .description("print the customer's portal link (made, or its expiry renewed)")
    .requiredOption('--customer <id>', 'customer id')
    .option('--days <n>', 'days the link lasts from now (default: the organisation setting, 60)')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: { customer: string; days?: string; json?: boolean; org?: string }) => {
      const customer = idOf(o.customer, '--customer');
      const days = intOf(o.days, '--days');
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const link = await db.tx((q) => linkForOperator(q, orgId, customer, new Date(), days));
        if (o.json) ctx.out(JSON.stringify({ customerId: String(customer), url: link.url, expiresAt: link.expiresAt.toISOString() }, jsonReplacer));
        else ctx.out(t(M, lang(), 'link', { customer: String(customer), until: link.expiresAt.toISOString().slice(0, 10), url: link.url }));
      } finally {
        await db.close();
      }
    });

  portal
    .command('revoke')
    .description("revoke the customer's portal link at once")
    .requiredOption('--customer <id>', 'customer id')
    .option(...ORG)
    .action(async (o: { customer: string; org?: string }) => {
      const customer = idOf(o.customer, '--customer');
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const had = await db.tx((q) => revokeLink(q, orgId, customer, new Date()));
        ctx.out(t(M, lang(), had ? 'revoked' : 'none', { customer: String(customer) }));
      } finally {
        await db.close();
      }
    });

  portal
    .command('settings')
    .description("show or change the organisation's portal settings")
    .option('--on', 'switch the portal on')
    .option('--off', 'switch the portal off (every link stops opening)')
    .option('--url <url>', 'the public address customers reach this server at (https://…)')
    .option('--days <n>', 'days a link lasts, renewed by each message')
    .option('--hold-days <n>', '"I have paid" and a plan waiting for a person hold reminders this many days')
    .option('--promise-days <n>', 'a promise may be at most this many days ahead')
    .option('--plan-max <n>', 'most instalments of a plan')
    .option('--plan-min <amount>', 'smallest instalment, in the organisation currency')
    .option('--plan-first-days <n>', 'the first instalment at most this many days ahead')
    .option('--plan-auto <on|off>', 'accept a plan within the rules at once')
    .option('--plan-auto-days <n>', 'accepted at once when the last instalment is within this many days')
    .option('--plan-auto-max <amount>', 'accepted at once up to this total (none: any)')
    .option('--attachment-mb <n>', 'largest supporting document, in MB')
    .option('--predue-check <on|off>', 'the pre-due message asks "is everything in order?"')
    .option('--json', 'JSON output')
    .option(...ORG)
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org as string | undefined);
        const org = await getOrganisation(db, orgId);
        const onOff = (v: unknown, option: string) => (v === undefined ? undefined : v === 'on' ? true : v === 'off' ? false : (() => { throw validation(E('int', { option, value: String(v) }), { field: option }); })());
        const mb = intOf(o.attachmentMb as string | undefined, '--attachment-mb');
        const patch: Partial<PortalSettings> = {
          enabled: o.on ? true : o.off ? false : undefined,
          publicUrl: o.url as string | undefined,
          linkDays: intOf(o.days as string | undefined, '--days'),
          paidHoldDays: intOf(o.holdDays as string | undefined, '--hold-days'),
          promiseMaxDays: intOf(o.promiseDays as string | undefined, '--promise-days'),
          planMaxInstalments: intOf(o.planMax as string | undefined, '--plan-max'),
          planMinInstalmentMinor: o.planMin === undefined ? undefined : parseAmount(String(o.planMin), org.currency, { field: '--plan-min' }),
          planMaxFirstDays: intOf(o.planFirstDays as string | undefined, '--plan-first-days'),
          planAutoAccept: onOff(o.planAuto, '--plan-auto'),
          planAutoMaxDays: intOf(o.planAutoDays as string | undefined, '--plan-auto-days'),
          planAutoMaxMinor: o.planAutoMax === undefined ? undefined : o.planAutoMax === 'none' ? null : parseAmount(String(o.planAutoMax), org.currency, { field: '--plan-auto-max' }),
          attachmentMaxBytes: mb === undefined ? undefined : mb * 1024 * 1024,
          predueCheck: onOff(o.predueCheck, '--predue-check'),
        };
        const s = await db.tx((q) => savePortalSettings(q, orgId, patch));
        printSettings(ctx, s, org.currency, lang(), Boolean(o.json));
      } finally {
        await db.close();
      }
    });

  portal
    .command('payments')
    .description('the online payment link of the portal: stripe (Stripe Checkout) or none (default)')
    .requiredOption('--provider <name>', 'stripe or none')
    .option('--secret-key <key>', "the provider account's secret key (stored sealed)")
    .option('--api-url <url>', "the provider's API address, when not its own (a test double)")
    .option(...ORG)
    .action(async (o: { provider: string; secretKey?: string; apiUrl?: string; org?: string }) => {
      if (o.provider !== 'stripe' && o.provider !== 'none') throw validation(E('provider'), { field: '--provider' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const s = await db.tx((q) =>
          savePortalSettings(
            q,
            orgId,
            o.provider === 'none' ? { paymentProvider: null, paymentSettings: {} } : { paymentProvider: 'stripe', paymentSettings: paymentSettingsFor(orgId, 'stripe', { secretKey: o.secretKey, apiUrl: o.apiUrl }) },
          ),
        );
        printSettings(ctx, s, org.currency, lang(), false);
      } finally {
        await db.close();
      }
    });
}

function printSettings(ctx: CliContext, s: PortalSettings, currency: string, lang: 'fr' | 'en', json: boolean): void {
  if (json) {
    const { paymentSettings: _secret, ...shown } = s;
    ctx.out(JSON.stringify(shown, jsonReplacer));
    return;
  }
  const money = (m: bigint) => formatMoney(m, currency, lang);
  ctx.out(
    t(M, lang, 'settings', {
      state: t(M, lang, s.enabled ? 'on' : 'off'),
      url: s.publicUrl ?? t(M, lang, 'unset'),
      days: s.linkDays,
      hold: s.paidHoldDays,
      promise: s.promiseMaxDays,
      max: s.planMaxInstalments,
      min: money(s.planMinInstalmentMinor),
      first: s.planMaxFirstDays,
      auto: s.planAutoAccept ? t(M, lang, 'auto', { days: s.planAutoMaxDays, max: s.planAutoMaxMinor === null ? '' : t(M, lang, 'auto_max', { amount: money(s.planAutoMaxMinor) }) }) : t(M, lang, 'auto_off'),
      size: Math.floor(s.attachmentMaxBytes / 1024 / 1024),
      check: t(M, lang, s.predueCheck ? 'on' : 'off'),
      provider: s.paymentProvider ?? t(M, lang, 'provider_none'),
    }),
  );
}
