/**
 * `relance org create|list|show|update` (a company's own organisation, its first admin, review
 * mode) and `relance golive` (what would go out over the next days once live).
 */
import type { Command } from 'commander';
import { addUser } from '../../auth/index.ts';
import { jsonReplacer } from '../../db/driver.ts';
import { calendarDate, todayIn } from '../../domain/dates.ts';
import { toDecimalString } from '../../domain/money.ts';
import { isPlausibleEmail } from '../../domain/delivery.ts';
import { describeSettings, saveDeliverySettings } from '../../delivery/settings.ts';
import { goLivePreview, setLive } from '../../engine/golive.ts';
import { ensureBuiltinScenarios } from '../../engine/scenarios.ts';
import { RelanceError, validation } from '../../errors.ts';
import { defineMessages, t } from '../../i18n/index.ts';
import { createOrganisation, getOrganisation, listOrganisations, type Organisation, type OrganisationInput, updateOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';
import { CE } from '../errors.ts';
import { cliLang } from '../exit.ts';
import { positiveInt } from './core.ts';

const M = defineMessages({
  created: { fr: 'organisation créée : {name} (SIREN {siren}), identifiant {id}', en: 'organisation created: {name} (SIREN {siren}), id {id}' },
  admin: { fr: 'premier administrateur : {email} / {password} (affiché une seule fois : changez-le après la première connexion)', en: 'first admin: {email} / {password} (shown once: change it after signing in)' },
  adminExisting: { fr: 'premier administrateur : {email} (compte existant, son mot de passe ne change pas)', en: 'first admin: {email} (existing account, its password is unchanged)' },
  review: {
    fr: 'mode revue : chaque relance attend une approbation. `relance golive` montre ce qui partirait ; `relance org update --live` passe en envoi réel.',
    en: 'review mode: every reminder waits for approval. `relance golive` shows what would go out; `relance org update --live` starts sending.',
  },
  live: { fr: 'en service : les relances partent sans attendre (sauf les mises en demeure, toujours approuvées)', en: 'live: reminders go out without waiting (formal notices are still approved first)' },
  wentLive: { fr: '{name} est en service. Relances du jour libérées : {released} ; plus anciennes replanifiées au prochain cycle : {replanned}.', en: '{name} is live. Today’s reminders released: {released}; older ones re-planned at the next cycle: {replanned}.' },
  backToReview: { fr: '{name} repasse en mode revue : chaque relance attend une approbation.', en: '{name} is back in review mode: every reminder waits for approval.' },
  updated: { fr: 'organisation mise à jour : {name}', en: 'organisation updated: {name}' },
  none: { fr: 'aucune organisation : créez la vôtre avec `relance org create --name … --siren …`', en: 'no organisation: create yours with `relance org create --name … --siren …`' },
  stateLive: { fr: 'en service', en: 'live' },
  stateReview: { fr: 'revue', en: 'review' },
  sender: { fr: 'expéditeur', en: 'sender' },
  admins: { fr: 'administrateurs', en: 'admins' },
  noSender: { fr: '(aucun : les e-mails ne peuvent pas partir)', en: '(none: e-mails cannot go out)' },
  glHeader: { fr: 'Si {name} était en service, du {from} au {to} ({days} jours) :', en: 'If {name} were live, from {from} to {to} ({days} days):' },
  glTotals: { fr: '{actions} envois ou tâches pour {customers} clients, {invoices} factures, {amount} ; dont {approval} à approuver', en: '{actions} messages or tasks for {customers} customers, {invoices} invoices, {amount}; {approval} of them to approve' },
  glFirstDay: { fr: 'le premier jour : {actions} envois ou tâches pour {customers} clients', en: 'on the first day: {actions} messages or tasks for {customers} customers' },
  glFirstContacts: { fr: 'premières relances de factures jamais relancées : {n}', en: 'first reminders of invoices never chased: {n}' },
  glEscalations: { fr: 'escalades (mise en demeure, transmission) en premier contact : {n}', en: 'escalations (formal notice, handover) as first contact: {n}' },
  glByStep: { fr: 'par étape :', en: 'by step:' },
  glByChannel: { fr: 'par canal :', en: 'by channel:' },
  glByTone: { fr: 'par ton :', en: 'by tone:' },
  glStepLine: { fr: '{step} {template} ({channel}, {tone}) : {actions} envois, {customers} clients, {invoices} factures, {amount}', en: '{step} {template} ({channel}, {tone}): {actions} sent, {customers} customers, {invoices} invoices, {amount}' },
  glStillReview: { fr: 'Rien n’est parti : l’organisation est en mode revue. `relance org update --live` pour commencer.', en: 'Nothing was sent: the organisation is in review mode. `relance org update --live` to start.' },
  glIsLive: { fr: 'L’organisation est déjà en service.', en: 'The organisation is live already.' },
});


const json = (v: unknown) => JSON.stringify(v, jsonReplacer);

/** The option that sets each organisation field: errors from the shared checks name the option. */
const OPTION_OF: Record<string, string> = {
  legalName: '--name', siren: '--siren', siret: '--siret', vatNumber: '--vat', addressLine1: '--address-line1', addressLine2: '--address-line2',
  postalCode: '--postal-code', city: '--city', country: '--country', iban: '--iban', bic: '--bic', timeZone: '--timezone', currency: '--currency',
  language: '--lang', fromAddress: '--email', email: '--admin-email',
};

async function namingOptions<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof RelanceError && e.text && e.where?.field && OPTION_OF[e.where.field]) {
      throw new RelanceError(e.code, e.text, { where: { ...e.where, field: OPTION_OF[e.where.field] }, details: e.details, cause: e });
    }
    throw e;
  }
}

interface OrgOptions {
  name?: string;
  siren?: string;
  siret?: string;
  vat?: string;
  addressLine1?: string;
  addressLine2?: string;
  postalCode?: string;
  city?: string;
  country?: string;
  timezone?: string;
  currency?: string;
  lang?: string;
  iban?: string;
  bic?: string;
  email?: string;
  adminEmail?: string;
  json?: boolean;
  org?: string;
  live?: boolean;
  review?: boolean;
}

function fieldsOf(o: OrgOptions): Partial<OrganisationInput> {
  const f: Record<string, unknown> = {
    legalName: o.name, siren: o.siren, siret: o.siret, vatNumber: o.vat, addressLine1: o.addressLine1, addressLine2: o.addressLine2,
    postalCode: o.postalCode, city: o.city, country: o.country, timeZone: o.timezone, currency: o.currency, language: o.lang, iban: o.iban, bic: o.bic,
  };
  for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
  return f as Partial<OrganisationInput>;
}

function checkEmail(value: string, option: string): string {
  const v = value.trim().toLowerCase();
  if (!isPlausibleEmail(v)) throw validation(CE('email', { value }), { field: option });
  return v;
}

function withOrgOptions(cmd: Command): Command {
  return cmd
    .option('--siret <siret>', 'SIRET of the head office (14 digits)')
    .option('--vat <number>', 'intra-community VAT number (FR + key + SIREN)')
    .option('--address-line1 <text>', 'street address')
    .option('--address-line2 <text>', 'address complement')
    .option('--postal-code <code>', 'postal code')
    .option('--city <city>', 'city')
    .option('--country <XX>', 'country, two letters (default FR)')
    .option('--timezone <zone>', 'IANA time zone (default Europe/Paris)')
    .option('--currency <XXX>', 'currency (default EUR)')
    .option('--lang <fr|en>', 'language of the documents (default fr)')
    .option('--iban <iban>', 'bank account the debtors pay to')
    .option('--bic <bic>', 'BIC of that account')
    .option('--email <address>', 'sender and reply-to address of the reminders');
}

export function register(program: Command, ctx: CliContext): void {
  const lang = () => cliLang(process.env);
  const org = program.command('org').description("organisations: your company's own, its first admin, review mode and going live");

  withOrgOptions(
    org
      .command('create')
      .description('create your organisation and its first admin (one-time password); it starts in review mode')
      .requiredOption('--name <name>', 'legal name')
      .requiredOption('--siren <siren>', 'SIREN (9 digits)'),
  )
    .option('--admin-email <email>', 'the first admin, who signs in to the web app (default: --email)')
    .option('--json', 'print {"id","name","siren","admin":{"email","password"}}')
    .action(async (o: OrgOptions) => {
      const db = await ctx.openDb();
      try {
        const adminEmail = o.adminEmail ?? o.email;
        const created = await namingOptions(async () => {
          if (!adminEmail) throw validation(CE('admin_email'), { field: '--admin-email' });
          const admin = checkEmail(adminEmail, o.adminEmail ? '--admin-email' : '--email');
          const sender = o.email ? checkEmail(o.email, '--email') : null;
          // One transaction: an error anywhere leaves nothing written.
          return db.tx(async (q) => {
            const organisation = await createOrganisation(q, { ...fieldsOf(o), legalName: o.name ?? '' } as OrganisationInput);
            await ensureBuiltinScenarios(q, organisation.id, organisation.language);
            if (sender) await saveDeliverySettings(q, organisation.id, { fromAddress: sender, fromName: organisation.legalName, replyTo: sender });
            const user = await addUser(q, organisation.id, { email: admin, role: 'admin', language: organisation.language });
            return { organisation, user };
          });
        });
        const { organisation, user } = created;
        if (o.json) {
          ctx.out(json({ id: organisation.id, name: organisation.legalName, siren: organisation.siren, admin: { email: user.email, password: user.password } }));
          return;
        }
        const l = lang();
        ctx.out(t(M, l, 'created', { name: organisation.legalName, siren: organisation.siren ?? '-', id: organisation.id }));
        ctx.out(user.password ? t(M, l, 'admin', { email: user.email, password: user.password }) : t(M, l, 'adminExisting', { email: user.email }));
        ctx.out(t(M, l, 'review'));
      } finally {
        await db.close();
      }
    });

  org
    .command('list')
    .description('list the organisations (id, SIREN, name, live or review)')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const db = await ctx.openDb();
      try {
        const list = await listOrganisations(db);
        if (o.json) {
          ctx.out(json(list.map((x) => ({ id: x.id, name: x.legalName, siren: x.siren, live: x.live }))));
          return;
        }
        const l = lang();
        if (list.length === 0) ctx.out(t(M, l, 'none'));
        for (const x of list) ctx.out(`${x.id}  ${(x.siren ?? '-').padEnd(9)}  ${t(M, l, x.live ? 'stateLive' : 'stateReview').padEnd(10)}  ${x.legalName}`);
      } finally {
        await db.close();
      }
    });

  org
    .command('show')
    .description('show the organisation: identity, bank account, sender, admins, live or review')
    .option('--json', 'JSON output')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { json?: boolean; org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const x = await getOrganisation(db, orgId);
        const delivery = await describeSettings(db, orgId);
        const admins = (await db.query<{ email: string }>(
          `SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = $1 AND m.role = 'admin' ORDER BY u.email`,
          [orgId],
        )).map((r) => r.email);
        const sender = (delivery as { fromAddress?: string | null }).fromAddress ?? null;
        if (o.json) {
          ctx.out(json({ ...x, sender, admins }));
          return;
        }
        const l = lang();
        printOrganisation(ctx, x);
        ctx.out(`${t(M, l, 'sender')}: ${sender ?? t(M, l, 'noSender')}`);
        ctx.out(`${t(M, l, 'admins')}: ${admins.join(', ') || '-'}`);
        ctx.out(t(M, l, x.live ? 'live' : 'review'));
      } finally {
        await db.close();
      }
    });

  withOrgOptions(
    org
      .command('update')
      .description('change the organisation (only the options given); --live starts sending, --review goes back to approving everything')
      .option('--name <name>', 'legal name')
      .option('--siren <siren>', 'SIREN (9 digits)'),
  )
    .option('--live', 'switch the organisation live: reminders go out without waiting for approval')
    .option('--review', 'back to review mode: every action waits for approval')
    .option('--json', 'JSON output')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: OrgOptions) => {
      if (o.live && o.review) throw validation(CE('one_of', { option: '--live / --review', allowed: '--live, --review' }), { field: '--live' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const result = await namingOptions(() =>
          db.tx(async (q) => {
            let organisation = await updateOrganisation(q, orgId, fieldsOf(o));
            if (o.email) {
              const sender = checkEmail(o.email, '--email');
              await saveDeliverySettings(q, orgId, { fromAddress: sender, replyTo: sender });
            }
            let released = 0;
            let replanned = 0;
            if (o.live || o.review) {
              const r = await setLive(q, orgId, Boolean(o.live), todayIn(organisation.timeZone, Date.now()));
              ({ organisation, released, replanned } = r);
            }
            return { organisation, released, replanned };
          }),
        );
        if (o.json) {
          ctx.out(json({ ...result.organisation, released: result.released, replanned: result.replanned }));
          return;
        }
        const l = lang();
        const name = result.organisation.legalName;
        if (o.live) ctx.out(t(M, l, 'wentLive', { name, released: result.released, replanned: result.replanned }));
        else if (o.review) ctx.out(t(M, l, 'backToReview', { name }));
        else ctx.out(t(M, l, 'updated', { name }));
      } finally {
        await db.close();
      }
    });

  program
    .command('golive')
    .description('what would go out over the next days if the organisation were live: per step, channel and tone, customers and amounts')
    .option('--days <n>', 'how many days to look ahead', positiveInt('--days'), 30)
    .option('--date <YYYY-MM-DD>', "the first day (default: today in the organisation's time zone)")
    .option('--json', 'JSON output')
    .option('--org <org>', 'organisation (id, SIREN or name)')
    .action(async (o: { days: number; date?: string; json?: boolean; org?: string }) => {
      if (o.days < 1 || o.days > 366) throw validation(CE('whole_number', { name: '--days', value: String(o.days) }), { field: '--days' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const organisation = await getOrganisation(db, orgId);
        const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(organisation.timeZone, Date.now());
        const preview = await db.tx((q) => goLivePreview(q, orgId, today, o.days));
        if (o.json) {
          ctx.out(json({ ...preview, amount: money(preview.amountMinor), byStep: preview.byStep.map((s) => ({ ...s, amount: money(s.amountMinor) })) }));
          return;
        }
        const l = lang();
        ctx.out(t(M, l, 'glHeader', { name: organisation.legalName, from: preview.from, to: preview.to, days: preview.days }));
        ctx.out(`  ${t(M, l, 'glTotals', { actions: preview.actions, customers: preview.customers, invoices: preview.invoices, amount: moneyText(preview.amountMinor), approval: preview.awaitingApproval })}`);
        ctx.out(`  ${t(M, l, 'glFirstDay', preview.firstDay)}`);
        ctx.out(`  ${t(M, l, 'glFirstContacts', { n: preview.firstContacts })}`);
        ctx.out(`  ${t(M, l, 'glEscalations', { n: preview.escalationsAsFirstContact })}`);
        ctx.out(t(M, l, 'glByStep'));
        for (const s of preview.byStep) {
          const step = `J${s.stepOffset >= 0 ? '+' : ''}${s.stepOffset}`;
          ctx.out(`  ${t(M, l, 'glStepLine', { step, template: s.template, channel: s.channel, tone: s.tone, actions: s.actions, customers: s.customers, invoices: s.invoices, amount: moneyText(s.amountMinor) })}`);
        }
        ctx.out(`${t(M, l, 'glByChannel')} ${Object.entries(preview.byChannel).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
        ctx.out(`${t(M, l, 'glByTone')} ${Object.entries(preview.byTone).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
        ctx.out(t(M, l, organisation.live ? 'glIsLive' : 'glStillReview'));
      } finally {
        await db.close();
      }
    });
}

const money = (m: Record<string, bigint>) => Object.fromEntries(Object.entries(m).map(([c, v]) => [c, toDecimalString(v)]));
const moneyText = (m: Record<string, bigint>) => Object.entries(m).map(([c, v]) => `${toDecimalString(v)} ${c}`).join(' + ') || '0';

function printOrganisation(ctx: CliContext, x: Organisation): void {
  const lines: [string, string | null][] = [
    ['id', x.id], ['name', x.legalName], ['SIREN', x.siren], ['SIRET', x.siret], ['VAT', x.vatNumber],
    ['address', [x.addressLine1, x.addressLine2, [x.postalCode, x.city].filter(Boolean).join(' '), x.country].filter(Boolean).join(', ')],
    ['IBAN', x.iban], ['BIC', x.bic], ['time zone', x.timeZone], ['currency', x.currency], ['language', x.language],
  ];
  for (const [k, v] of lines) ctx.out(`${k.padEnd(10)} ${v ?? '-'}`);
}
