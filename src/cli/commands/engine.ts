import type { Command } from 'commander';
import { jsonReplacer } from '../../db/driver.ts';
import { calendarDate, formatShortDate, todayIn } from '../../domain/dates.ts';
import { reasonText } from '../../domain/engine/reasons.ts';
import { toDecimalString } from '../../domain/money.ts';
import { runCycle } from '../../engine/cycle.ts';
import { customerCalendar } from '../../engine/preview.ts';
import { createScenario, ensureBuiltinScenarios, listScenarios } from '../../engine/scenarios.ts';
import type { ScenarioDefinition } from '../../domain/engine/scenario.ts';
import { readFileSync } from 'node:fs';
import { validation } from '../../errors.ts';
import { CE } from '../errors.ts';
import { getInvoiceByNumber, getOrganisation } from '../../ledger/repo.ts';
import type { CliContext } from '../context.ts';
import { rateWarningText } from '../../law/regime.ts';
import { cliLang } from '../exit.ts';
import { defineMessages, renderText, t } from '../../i18n/index.ts';

const RUN = defineMessages({
  dry_run: { fr: '[simulation, rien n’est écrit] ', en: '[dry run, nothing written] ' },
  summary: {
    fr: '{today} : {planned} actions planifiées ({approval} à valider), {skipped} étapes sautées, {gap} factures retenues par l’écart minimum, {already} déjà planifiées ; promesses non tenues {broken}, tenues {kept} ; échéanciers rompus {plansBroken}',
    en: '{today}: {planned} actions planned ({approval} awaiting approval), {skipped} steps skipped, {gap} invoices held by the minimum gap, {already} already planned; promises broken {broken}, kept {kept}; plans broken {plansBroken}',
  },
  held: { fr: 'ENVOI RETENU : ', en: 'SENDING HELD: ' },
  note: { fr: 'à noter : ', en: 'note: ' },
});

const json = (v: unknown) => JSON.stringify(v, jsonReplacer);

/** "J+8" in French, "day +8" in English (issue 16: no French day counts for English readers). */
const step = (offset: number) =>
  cliLang(process.env) === 'fr' ? `J${offset >= 0 ? '+' : ''}${offset}` : offset === 0 ? 'due day' : `day ${offset > 0 ? '+' : '-'}${Math.abs(offset)}`;

export function register(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run the daily dunning cycle: plan the reminders and tasks due today, idempotently')
    .option('--date <YYYY-MM-DD>', "the day to run for (default: today in the organisation's time zone)")
    .option('--dry-run', 'print exactly the decisions the real run would make, and write nothing')
    .option('--json', 'one JSON object per action, then a summary object')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { date?: string; dryRun?: boolean; json?: boolean; org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        const summary = await runCycle(db, orgId, {
          today,
          dryRun: o.dryRun,
          onChunk(actions, skipped) {
            for (const a of actions) {
              const line = {
                type: 'action',
                customerId: a.customerId,
                customer: a.customerName,
                invoices: a.invoices.map((i) => i.number),
                step: `J${a.stepOffset >= 0 ? '+' : ''}${a.stepOffset}`,
                tone: a.tone,
                template: a.template,
                channel: a.channel,
                fallbackFrom: a.fallbackFrom,
                plannedOn: a.plannedOn,
                requiresApproval: a.requiresApproval,
                amounts: a.invoices.map((i) => `${toDecimalString(i.openMinor, i.currency)} ${i.currency}`),
              };
              if (o.json) ctx.out(json(line));
              else ctx.out(`${line.plannedOn}  ${line.channel.padEnd(17)} ${line.step.padEnd(5)} ${line.tone.padEnd(13)} ${a.customerName} — ${line.invoices.join(', ')}${a.requiresApproval ? '  [approval]' : ''}`);
            }
            if (!o.json) for (const s of skipped) ctx.out(`${today}  skipped            ${step(s.stepOffset)} ${s.channel} of ${s.number}: ${reasonText(s.reason, cliLang(process.env))}`);
            else for (const s of skipped) ctx.out(json({ type: 'skipped', invoice: s.number, step: s.stepKey, reason: s.reason }));
          },
        });
        if (o.json) ctx.out(json({ type: 'summary', ...summary }));
        else {
          const lang = cliLang(process.env);
          ctx.out(
            `${summary.dryRun ? t(RUN, lang, 'dry_run') : ''}${t(RUN, lang, 'summary', {
              today: lang === 'fr' ? formatShortDate(today, 'fr') : today,
              planned: summary.actionsCreated,
              approval: summary.awaitingApproval,
              skipped: summary.stepsSkipped,
              gap: summary.invoicesHeldByGap,
              already: summary.actionsAlreadyThere,
              broken: summary.promisesBroken,
              kept: summary.promisesKept,
              plansBroken: summary.plansBroken,
            })}`,
          );
          if (summary.hold.text) ctx.out(`${t(RUN, lang, summary.hold.held ? 'held' : 'note')}${renderText(summary.hold.text, lang)}`);
          for (const w of summary.rateWarnings) ctx.out(rateWarningText(w, cliLang(process.env), summary.heldForProvisionalRate));
        }
      } finally {
        await db.close();
      }
    });

  program
    .command('preview')
    .description("print an invoice's or a customer's dunning calendar: past steps and what happened, future steps with dates")
    .option('--invoice <number>', 'invoice number')
    .option('--customer <id>', 'customer id')
    .option('--date <YYYY-MM-DD>', 'as of this day (default: today)')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { invoice?: string; customer?: string; date?: string; json?: boolean; org?: string }) => {
      if (!o.invoice === !o.customer) throw validation(CE('invoice_or_customer'), { field: '--invoice' });
      if (o.customer && !/^\d+$/.test(o.customer)) throw validation(CE('customer_id', { value: o.customer }), { field: '--customer' });
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const org = await getOrganisation(db, orgId);
        await db.tx((q) => ensureBuiltinScenarios(q, orgId));
        const today = o.date ? calendarDate(o.date, { field: '--date' }) : todayIn(org.timeZone, Date.now());
        const invoice = o.invoice ? await getInvoiceByNumber(db, orgId, o.invoice) : null;
        const customerId = invoice ? invoice.customerId : BigInt(o.customer!);
        let lines = await customerCalendar(db, orgId, customerId, today);
        if (invoice) lines = lines.filter((l) => l.invoice === invoice.number);
        if (o.json) {
          ctx.out(json({ today, customerId, lines }));
          return;
        }
        if (lines.length === 0) ctx.out(invoice ? `invoice ${invoice.number} is ${invoice.status}: nothing to follow up` : 'no open invoice for this customer');
        for (const l of lines) {
          const why = reasonText(l.reason, cliLang(process.env));
          const lang = cliLang(process.env);
          const what =
            l.state === 'done' ? `done (${l.actionStatus ?? 'planned'}${l.actionStatus === 'awaiting_approval' && l.reason === 'review' ? `: ${why}` : ''})`
            : l.state === 'skipped' ? `skipped: ${why}`
            : l.state === 'cancelled' ? `cancelled: ${why}`
            : l.state === 'outside' ? why
            : l.waiting && l.prerequisite ? `${l.state}: ${reasonText(l.prerequisite, lang)}`
            : l.state;
          ctx.out(`${l.invoice}  ${l.date}  ${step(l.offset)}`.padEnd(36) + `${l.channel.padEnd(18)}${l.tone.padEnd(14)}${what}${l.paused ? ' (paused)' : ''}`);
        }
      } finally {
        await db.close();
      }
    });

  const scenarios = program.command('scenarios').description('dunning scenarios of the organisation');
  scenarios
    .command('list')
    .description('list scenarios with their steps')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { json?: boolean; org?: string }) => {
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        await db.tx((q) => ensureBuiltinScenarios(q, orgId));
        const list = await listScenarios(db, orgId);
        if (o.json) ctx.out(json(list));
        else
          for (const s of list) {
            ctx.out(`${s.key} (v${s.version})${s.isDefault ? ' [default]' : ''}: ${s.name}`);
            for (const st of s.definition.steps) ctx.out(`  ${step(st.offset).padEnd(8)}  ${st.channel.padEnd(18)} ${st.tone.padEnd(14)} ${st.template}${st.requiresApproval ? '  [approval]' : ''}`);
          }
      } finally {
        await db.close();
      }
    });
  scenarios
    .command('create')
    .description("a scenario of the organisation's own: a copy of another (--from) or steps from a JSON file (--file, as `scenarios list --json` prints a definition); unassigned until assigned")
    .requiredOption('--key <key>', 'its key: lower-case letters, digits and hyphens (e.g. strict-trade)')
    .requiredOption('--name <name>', 'its name, as the credit controller reads it')
    .option('--from <key>', 'copy the steps of this scenario')
    .option('--file <definition.json>', 'the steps, as JSON ({"steps": [...], ...})')
    .option('--json', 'JSON output')
    .option('--org <id>', 'organisation (id, SIREN or name)')
    .action(async (o: { key: string; name: string; from?: string; file?: string; json?: boolean; org?: string }) => {
      let definition: ScenarioDefinition | null = null;
      if (o.file) {
        try {
          definition = JSON.parse(readFileSync(o.file, 'utf8')) as ScenarioDefinition;
        } catch (e) {
          throw validation(CE('cannot_read', { file: o.file, reason: (e as Error).message }), { file: o.file });
        }
      }
      const db = await ctx.openDb();
      try {
        const orgId = await ctx.resolveOrg(db, o.org);
        const row = await db.tx(async (q) => {
          const org = await getOrganisation(q, orgId);
          await ensureBuiltinScenarios(q, orgId, org.language);
          return createScenario(q, orgId, { key: o.key, name: o.name, definition, from: o.from });
        });
        if (o.json) ctx.out(json(row));
        else ctx.out(`${row.key} (v${row.version}): ${row.name}, ${row.definition.steps.length} steps`);
      } finally {
        await db.close();
      }
    });
}
