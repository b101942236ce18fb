/**
 * Pauses and agreements on the command line: `relance pauses list|add|lift`, `relance promises
 * add`, `relance disputes open|resolve`, `relance plans add`. Each says what it covers: the
 * invoices named (--invoice, repeatable), every open invoice of the customer (--all-open), or the
 * whole customer including invoices to come (--customer-wide, pauses and disputes only). They go
 * through src/engine/events.ts like the API and the web app: the same checks, webhook events and
 * acknowledgements to the debtor.
 */
import type { Command } from 'commander';
import type { Db } from '../../db/driver.ts';
import { jsonReplacer, pgArray } from '../../db/driver.ts';
import { type CalendarDate, calendarDate, formatLongDate, todayIn } from '../../domain/dates.ts';
import { formatMoney, parseAmount } from '../../domain/money.ts';
import { type Coverage, createPause, createPaymentPlan, liftPause, openDispute, PAUSE_REASONS, type PauseReason, recordPromise, resolveDispute } from '../../engine/events.ts';
import { acknowledgesAgreements, setAcknowledgeAgreements } from '../../engine/acknowledgements.ts';
import { ACTIVE_PAUSE } from '../../engine/planner-input.ts';
import { validation } from '../../errors.ts';
import { defineErrors, defineMessages, type Lang, t } from '../../i18n/index.ts';
import { getInvoiceByNumber, getOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';
import { cliLang } from '../exit.ts';

const E = defineErrors('cli-agreements', {
  id: { fr: '{option} attend un nombre, reçu « {value} »', en: '{option} takes a number, got "{value}"' },
  reason: { fr: '--reason doit valoir l’une de ces valeurs : {allowed}', en: '--reason must be one of {allowed}' },
  instalment: { fr: '--instalment « {value} » doit être au format DATE:MONTANT, par exemple 2026-04-30:1500.00', en: '--instalment "{value}" must be DATE:AMOUNT, e.g. 2026-04-30:1500.00' },
  on_off: { fr: 'indiquez on ou off, pas « {value} »', en: 'say on or off, not "{value}"' },
  invoice_customer: { fr: 'la facture {invoice} n’est pas une facture du client {customer}', en: 'invoice {invoice} is not an invoice of customer {customer}' },
});

const M = defineMessages({
  covers_invoices: { fr: 'factures {invoices}', en: 'invoices {invoices}' },
  covers_customer: { fr: 'tout le client (factures à venir comprises)', en: 'the whole customer (invoices to come included)' },
  pause_line: { fr: 'pause {id} ({reason}) du {from}{until} : {covers}{state}', en: 'pause {id} ({reason}) from {from}{until}: {covers}{state}' },
  until: { fr: ' au {date}', en: ' to {date}' },
  active: { fr: ' — en cours', en: ' — active' },
  lifted: { fr: ' — levée le {date}', en: ' — lifted on {date}' },
  none: { fr: 'Aucune pause.', en: 'No pause.' },
  pause_added: { fr: 'Pause {id} enregistrée : {covers}.', en: 'Pause {id} recorded: {covers}.' },
  pause_lifted: { fr: 'Pause {id} levée.', en: 'Pause {id} lifted.' },
  promise_added: { fr: 'Promesse {id} enregistrée : {amount} le {date} ; relances suspendues pour {covers}.', en: 'Promise {id} recorded: {amount} on {date}; reminders paused for {covers}.' },
  dispute_opened: { fr: 'Litige {id} ouvert : relances suspendues pour {covers}.', en: 'Dispute {id} opened: reminders paused for {covers}.' },
  dispute_resolved: { fr: 'Litige {id} résolu : les relances reprennent.', en: 'Dispute {id} resolved: reminders resume.' },
  plan_added: { fr: 'Échéancier {id} enregistré ({count} échéances) : relances suspendues pour {covers}.', en: 'Payment plan {id} recorded ({count} instalments): reminders paused for {covers}.' },
  ack_on: { fr: 'Accusés de réception : activés (chaque promesse, litige et échéancier enregistré est confirmé au client).', en: 'Acknowledgements: on (every promise, dispute and payment plan recorded is confirmed to the customer).' },
  ack_off: { fr: 'Accusés de réception : désactivés.', en: 'Acknowledgements: off.' },
  acknowledged: { fr: 'Accusé de réception au client mis en file (action {id}).', en: 'Acknowledgement to the customer queued (action {id}).' },
});

const json = (v: unknown) => JSON.stringify(v, jsonReplacer);
const collect = (v: string, prev: string[]) => prev.concat(v);

function idOf(v: string, option: string): bigint {
  if (!/^\d{1,18}$/.test(v)) throw validation(E('id', { option, value: v }), { field: option });
  return BigInt(v);
}

async function withOrg<T>(ctx: CliContext, org: string | undefined, date: string | undefined, fn: (db: Db, orgId: string, today: CalendarDate) => Promise<T>): Promise<T> {
  const db = await ctx.openDb();
  try {
    const orgId = await ctx.resolveOrg(db, org);
    const o = await getOrganisation(db, orgId);
    const today = date ? calendarDate(date, { field: '--date' }) : todayIn(o.timeZone, Date.now());
    return await fn(db, orgId, today);
  } finally {
    await db.close();
  }
}

interface CoverageOptions {
  invoice: string[];
  allOpen?: boolean;
  customerWide?: boolean;
}

/** --invoice numbers (checked to be the customer's), --all-open or --customer-wide. */
async function coverageOf(db: Db, orgId: string, customerId: bigint, o: CoverageOptions): Promise<Coverage> {
  const invoiceIds: bigint[] = [];
  for (const number of o.invoice) {
    const inv = await getInvoiceByNumber(db, orgId, number);
    if (inv.customerId !== customerId) throw validation(E('invoice_customer', { invoice: number, customer: String(customerId) }), { field: '--invoice' });
    invoiceIds.push(inv.id);
  }
  return { invoiceIds, allOpenInvoices: o.allOpen === true, customerWide: o.customerWide === true };
}

/** "invoices F-1, F-2" or "the whole customer". */
async function describeCoverage(db: Db, orgId: string, invoiceIds: readonly unknown[] | null, lang: Lang): Promise<string> {
  if (invoiceIds === null) return t(M, lang, 'covers_customer');
  const rows = await db.query<{ number: string }>('SELECT number FROM invoices WHERE organisation_id = $1 AND id = ANY($2::bigint[]) ORDER BY due_date, id', [
    orgId,
    pgArray(invoiceIds.map((x) => BigInt(x as string))),
  ]);
  return t(M, lang, 'covers_invoices', { invoices: rows.map((r) => r.number).join(', ') });
}

async function pauseCoverage(db: Db, orgId: string, table: 'pauses' | 'disputes' | 'promises' | 'payment_plans', id: bigint, lang: Lang): Promise<string> {
  const [r] = await db.query<{ invoice_ids: unknown[] | null }>(`SELECT invoice_ids FROM ${table} WHERE organisation_id = $1 AND id = $2`, [orgId, id]);
  return describeCoverage(db, orgId, r?.invoice_ids ?? null, lang);
}

async function acknowledgement(db: Db, orgId: string, column: 'promise_id' | 'dispute_id' | 'payment_plan_id', id: bigint): Promise<bigint | null> {
  const [r] = await db.query<{ id: bigint }>(`SELECT id FROM actions WHERE organisation_id = $1 AND ${column} = $2 AND dedupe_key LIKE 'ack:%'`, [orgId, id]);
  return r?.id ?? null;
}

const ORG = ['--org <id>', 'organisation (id, SIREN or name)'] as const;
const DATE = ['--date <YYYY-MM-DD>', 'the day it is recorded (default: today)'] as const;
const INVOICE = ['--invoice <number>', 'an invoice it covers (repeatable)'] as const;
const ALL_OPEN = ['--all-open', 'every open invoice of the customer today'] as const;
const NO_ACK = ['--no-acknowledge', "do not queue the acknowledgement to the customer (default: the organisation's setting)"] as const;

export function register(program: Command, ctx: CliContext): void {
  const lang = () => cliLang(process.env);
  registerSetting(program, ctx);

  const pauses = program.command('pauses').description('pauses of the reminders: what each covers (invoices, or the whole customer)');
  pauses
    .command('list')
    .description("a customer's pauses (or every active one), with the invoices each covers")
    .option('--customer <id>', 'customer id')
    .option('--active', 'only the pauses in force today')
    .option('--json', 'JSON output')
    .option(...DATE)
    .option(...ORG)
    .action(async (o: { customer?: string; active?: boolean; json?: boolean; date?: string; org?: string }) => {
      const customer = o.customer ? idOf(o.customer, '--customer') : null;
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        const rows = await db.query<Record<string, unknown>>(
          `SELECT p.id, p.customer_id, p.invoice_ids, p.reason, p.starts_on, p.ends_on, p.lifted_on, p.note, ${ACTIVE_PAUSE('p', '$3::date')} AS active,
                  (SELECT array_agg(i.number ORDER BY i.due_date, i.id) FROM invoices i WHERE i.organisation_id = p.organisation_id AND i.id = ANY(p.invoice_ids)) AS invoices
             FROM pauses p WHERE p.organisation_id = $1 AND ($2::bigint IS NULL OR p.customer_id = $2) AND (NOT $4::boolean OR ${ACTIVE_PAUSE('p', '$3::date')})
            ORDER BY p.customer_id, p.starts_on, p.id`,
          [orgId, customer, today, Boolean(o.active) || customer === null],
        );
        const l = lang();
        if (o.json) {
          for (const r of rows) ctx.out(json({ ...r, invoice_ids: (r.invoice_ids as unknown[] | null)?.map(String) ?? null, covers: r.invoice_ids === null ? 'customer' : 'invoices' }));
          return;
        }
        if (rows.length === 0) ctx.out(t(M, l, 'none'));
        for (const r of rows) {
          const until = (r.lifted_on ?? r.ends_on) as CalendarDate | null;
          ctx.out(
            t(M, l, 'pause_line', {
              id: String(r.id),
              reason: String(r.reason),
              from: formatLongDate(r.starts_on as CalendarDate, l),
              until: until && !r.lifted_on ? t(M, l, 'until', { date: formatLongDate(until, l) }) : '',
              covers: r.invoice_ids === null ? t(M, l, 'covers_customer') : t(M, l, 'covers_invoices', { invoices: ((r.invoices as string[] | null) ?? []).join(', ') }),
              state: r.active ? t(M, l, 'active') : r.lifted_on ? t(M, l, 'lifted', { date: formatLongDate(r.lifted_on as CalendarDate, l) }) : '',
            }),
          );
        }
      });
    });
  pauses
    .command('add')
    .description('pause the reminders of the invoices named, or of the whole customer with --customer-wide')
    .requiredOption('--customer <id>', 'customer id')
    .option(...INVOICE, collect, [])
    .option(...ALL_OPEN)
    .option('--customer-wide', 'the whole customer, including invoices issued later')
    .option('--reason <reason>', PAUSE_REASONS.join(', '), 'manual_hold')
    .option('--until <YYYY-MM-DD>', 'the day reminders resume (default: until lifted)')
    .option('--note <text>', 'why')
    .option(...DATE)
    .option(...ORG)
    .action(async (o: CoverageOptions & { customer: string; reason: string; until?: string; note?: string; date?: string; org?: string }) => {
      if (!(PAUSE_REASONS as readonly string[]).includes(o.reason)) throw validation(E('reason', { allowed: PAUSE_REASONS.join(', ') }), { field: '--reason' });
      const customerId = idOf(o.customer, '--customer');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        const cover = await coverageOf(db, orgId, customerId, o);
        const endsOn = o.until ? calendarDate(o.until, { field: '--until' }) : null;
        const id = await db.tx((q) => createPause(q, orgId, { customerId, ...cover, reason: o.reason as PauseReason, startsOn: today, endsOn, note: o.note ?? null }, today));
        ctx.out(t(M, lang(), 'pause_added', { id: String(id), covers: await pauseCoverage(db, orgId, 'pauses', id, lang()) }));
      });
    });
  pauses
    .command('lift')
    .description('end a pause today: the scenario resumes where it was')
    .argument('<id>', 'pause id')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { date?: string; org?: string }) => {
      const pauseId = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        await db.tx((q) => liftPause(q, orgId, pauseId, today));
        ctx.out(t(M, lang(), 'pause_lifted', { id }));
      });
    });

  program
    .command('promises')
    .description('promises to pay')
    .command('add')
    .description('record a promise to pay: the invoices it covers pause until its date; the customer gets its acknowledgement')
    .requiredOption('--customer <id>', 'customer id')
    .option(...INVOICE, collect, [])
    .option(...ALL_OPEN)
    .requiredOption('--promised-on <YYYY-MM-DD>', 'the date the customer promised to pay')
    .requiredOption('--amount <amount>', 'the amount promised ("1 234,56")')
    .option(...NO_ACK)
    .option(...DATE)
    .option(...ORG)
    .action(async (o: CoverageOptions & { customer: string; promisedOn: string; amount: string; acknowledge?: boolean; date?: string; org?: string }) => {
      const customerId = idOf(o.customer, '--customer');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        const cover = await coverageOf(db, orgId, customerId, o);
        const currency = await currencyOf(db, orgId, customerId, cover);
        const promisedOn = calendarDate(o.promisedOn, { field: '--promised-on' });
        const amountMinor = parseAmount(o.amount, currency, { field: '--amount' });
        const id = await db.tx((q) => recordPromise(q, orgId, { customerId, ...cover, promisedOn, amountMinor }, today, o.acknowledge === false ? { acknowledge: false } : {}));
        const l = lang();
        ctx.out(t(M, l, 'promise_added', { id: String(id), amount: formatMoney(amountMinor, currency, l), date: formatLongDate(promisedOn, l), covers: await pauseCoverage(db, orgId, 'promises', id, l) }));
        const ack = await acknowledgement(db, orgId, 'promise_id', id);
        if (ack) ctx.out(t(M, l, 'acknowledged', { id: String(ack) }));
      });
    });

  const disputes = program.command('disputes').description('disputes raised by customers');
  disputes
    .command('open')
    .description('open a dispute: the invoices named pause (the whole customer with --customer-wide); the customer gets its acknowledgement')
    .requiredOption('--customer <id>', 'customer id')
    .option(...INVOICE, collect, [])
    .option('--customer-wide', 'everything the customer owes, including invoices issued later')
    .requiredOption('--reason <text>', 'what the customer contests')
    .option(...NO_ACK)
    .option(...DATE)
    .option(...ORG)
    .action(async (o: CoverageOptions & { customer: string; reason: string; acknowledge?: boolean; date?: string; org?: string }) => {
      const customerId = idOf(o.customer, '--customer');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        const cover = await coverageOf(db, orgId, customerId, o);
        const id = await db.tx((q) => openDispute(q, orgId, { customerId, ...cover, reason: o.reason }, today, o.acknowledge === false ? { acknowledge: false } : {}));
        const l = lang();
        ctx.out(t(M, l, 'dispute_opened', { id: String(id), covers: await pauseCoverage(db, orgId, 'disputes', id, l) }));
        const ack = await acknowledgement(db, orgId, 'dispute_id', id);
        if (ack) ctx.out(t(M, l, 'acknowledged', { id: String(ack) }));
      });
    });
  disputes
    .command('resolve')
    .description('resolve a dispute: reminders resume')
    .argument('<id>', 'dispute id')
    .requiredOption('--resolution <text>', 'how it was resolved')
    .option(...DATE)
    .option(...ORG)
    .action(async (id: string, o: { resolution: string; date?: string; org?: string }) => {
      const disputeId = idOf(id, 'id');
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        await db.tx((q) => resolveDispute(q, orgId, disputeId, o.resolution, today));
        ctx.out(t(M, lang(), 'dispute_resolved', { id }));
      });
    });

  program
    .command('plans')
    .description('payment plans')
    .command('add')
    .description('reschedule invoices into instalments that add up to what they owe: only those invoices pause; the customer gets the schedule')
    .requiredOption('--customer <id>', 'customer id')
    .option(...INVOICE, collect, [])
    .option(...ALL_OPEN)
    .requiredOption('--instalment <date:amount>', 'an instalment, e.g. 2026-04-30:1500.00 (repeatable)', collect, [])
    .option('--grace <days>', 'days of grace before a missed instalment breaks the plan', '5')
    .option(...NO_ACK)
    .option(...DATE)
    .option(...ORG)
    .action(async (o: CoverageOptions & { customer: string; instalment: string[]; grace: string; acknowledge?: boolean; date?: string; org?: string }) => {
      const customerId = idOf(o.customer, '--customer');
      const graceDays = Number(idOf(o.grace, '--grace'));
      await withOrg(ctx, o.org, o.date, async (db, orgId, today) => {
        const cover = await coverageOf(db, orgId, customerId, o);
        const currency = await currencyOf(db, orgId, customerId, cover);
        const instalments = o.instalment.map((v, i) => {
          const m = /^([^:]+):(.+)$/.exec(v);
          if (!m) throw validation(E('instalment', { value: v }), { field: `--instalment[${i}]` });
          return { dueDate: calendarDate(m[1]!, { field: `--instalment[${i}]` }), amountMinor: parseAmount(m[2]!, currency, { field: `--instalment[${i}]` }) };
        });
        const id = await db.tx((q) => createPaymentPlan(q, orgId, { customerId, ...cover, instalments, graceDays }, today, o.acknowledge === false ? { acknowledge: false } : {}));
        const l = lang();
        ctx.out(t(M, l, 'plan_added', { id: String(id), count: instalments.length, covers: await pauseCoverage(db, orgId, 'payment_plans', id, l) }));
        const ack = await acknowledgement(db, orgId, 'payment_plan_id', id);
        if (ack) ctx.out(t(M, l, 'acknowledged', { id: String(ack) }));
      });
    });
}

/** `relance acknowledgements on|off|show`: the organisation's setting. */
function registerSetting(program: Command, ctx: CliContext): void {
  program
    .command('acknowledgements')
    .description('whether recording a promise, a dispute or a payment plan queues its acknowledgement to the customer (on by default)')
    .argument('[state]', 'on or off (nothing: show the setting)')
    .option(...ORG)
    .action(async (state: string | undefined, o: { org?: string }) => {
      if (state !== undefined && state !== 'on' && state !== 'off') throw validation(E('on_off', { value: state }), { field: 'state' });
      await withOrg(ctx, o.org, undefined, async (db, orgId) => {
        if (state !== undefined) await db.tx((q) => setAcknowledgeAgreements(q, orgId, state === 'on'));
        ctx.out(t(M, cliLang(process.env), (await acknowledgesAgreements(db, orgId)) ? 'ack_on' : 'ack_off'));
      });
    });
}

/** The currency amounts are read in: the first invoice named, else the customer's open invoices'. */
async function currencyOf(db: Db, orgId: string, customerId: bigint, c: Coverage): Promise<string> {
  const first = c.invoiceIds?.[0];
  const [r] = await db.query<{ currency: string }>(
    `SELECT currency FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND ($3::bigint IS NULL OR id = $3)
      ORDER BY allocated_minor + written_off_minor >= amount_incl_tax_minor, due_date, id LIMIT 1`,
    [orgId, customerId, first ?? null],
  );
  const [org] = await db.query<{ currency: string }>('SELECT currency FROM organisations WHERE id = $1', [orgId]);
  return r?.currency ?? org?.currency ?? 'EUR';
}
