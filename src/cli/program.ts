/**
 * The `relance` command tree. Each command lives in src/cli/commands/<name>.ts and exports
 * `register(program, ctx)`; this file only wires them (main.ts runs it, tests inspect it).
 */
import { Command } from 'commander';
import type { CliContext } from './context.ts';
import * as agreements from './commands/agreements.ts';
import * as bank from './commands/bank.ts';
import * as core from './commands/core.ts';
import * as credit from './commands/credit.ts';
import * as risk from './commands/risk.ts';
import * as report from './commands/report.ts';
import * as delivery from './commands/delivery.ts';
import * as documents from './commands/documents.ts';
import * as engine from './commands/engine.ts';
import * as escalation from './commands/escalation.ts';
import * as insurance from './commands/insurance.ts';
import * as imports from './commands/imports.ts';
import * as law from './commands/law.ts';
import * as ledgerLaw from './commands/ledger-law.ts';
import * as org from './commands/org.ts';
import * as portal from './commands/portal.ts';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('relance')
    .description('Relance: get unpaid invoices paid — receivables ledger, dunning, reconciliation, late-payment law')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  for (const mod of [core, org, law, ledgerLaw, documents, engine, agreements, bank, imports, delivery, escalation, insurance, credit, risk, report, portal]) mod.register(program, ctx);
  return program;
}
