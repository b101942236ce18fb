/**
 * The `relance` command. Each command lives in src/cli/commands/<name>.ts and exports
 * `register(program, ctx)`; this file only wires them and turns errors into exit codes.
 */
import { Command } from 'commander';
import { isRelanceError } from '../errors.ts';
import { createCliContext } from './context.ts';
import { exitCodeFor } from './exit.ts';
import * as core from './commands/core.ts';
import * as law from './commands/law.ts';
import * as documents from './commands/documents.ts';
import * as engine from './commands/engine.ts';
import * as bank from './commands/bank.ts';
import * as imports from './commands/imports.ts';
import * as delivery from './commands/delivery.ts';

const program = new Command('relance')
  .description('Relance: get unpaid invoices paid — receivables ledger, dunning, reconciliation, late-payment law')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true });

const ctx = createCliContext();
for (const mod of [core, law, documents, engine, bank, imports, delivery]) mod.register(program, ctx);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isRelanceError(e)) process.stderr.write(`relance: ${e.code}: ${e.describe()}\n`);
  else process.stderr.write(`relance: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = exitCodeFor(e);
}
