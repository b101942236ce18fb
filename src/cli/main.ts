/**
 * Entry point of the `relance` command: runs the command tree and turns errors into exit codes.
 * Errors are printed in the user's language: RELANCE_LANG (fr|en), else LC_ALL / LANG (fr_* →
 * French), else English. The stable code stays first: `relance: <code>: <place>: <detail>`, the place in words
 * ("file f.csv, line 4, field Montant" / "fichier f.csv, ligne 4, champ Montant").
 */
import { isRelanceError } from '../errors.ts';
import { createCliContext } from './context.ts';
import { cliLang, exitCodeFor } from './exit.ts';
import { buildProgram } from './program.ts';

const program = buildProgram(createCliContext());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isRelanceError(e)) process.stderr.write(`relance: ${e.code}: ${e.describe(cliLang(process.env))}\n`);
  else process.stderr.write(`relance: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = exitCodeFor(e);
}
