/** Entry point of the `relance` command: runs the command tree and turns errors into exit codes. */
import { isRelanceError } from '../errors.ts';
import { createCliContext } from './context.ts';
import { exitCodeFor } from './exit.ts';
import { buildProgram } from './program.ts';

const program = buildProgram(createCliContext());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (isRelanceError(e)) process.stderr.write(`relance: ${e.code}: ${e.describe()}\n`);
  else process.stderr.write(`relance: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = exitCodeFor(e);
}
