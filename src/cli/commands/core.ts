import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('migrate')
    .description('apply the database migrations (embedded database, or DATABASE_URL)')
    .action(async () => {
      const db = await ctx.openDb();
      await db.close();
      ctx.out('database is up to date');
    });
}
