/**
 * The database matrix: every database test runs on the embedded PGlite, and on PostgreSQL too when
 * TEST_DATABASE_URL is set (CI sets it). Each PostgreSQL test database is a fresh schema, dropped
 * at the end, so test files can run in parallel against one server.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Db, openPglite, openPostgres } from '../src/db/driver.ts';
import { migrate } from '../src/db/migrate.ts';

export interface DbTarget {
  name: 'pglite' | 'postgres';
  open(): Promise<Db>;
}

export function dbTargets(): DbTarget[] {
  const targets: DbTarget[] = [
    {
      name: 'pglite',
      async open() {
        const db = await openPglite();
        await migrate(db);
        return db;
      },
    },
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    targets.push({
      name: 'postgres',
      async open() {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        await admin.end();
        const db = await openPostgres(url, { searchPath: schema, max: 8 });
        await migrate(db);
        const close = db.close.bind(db);
        return Object.assign(db, {
          async close() {
            await close();
            const c = new pg.Client({ connectionString: url });
            await c.connect();
            await c.query(`DROP SCHEMA ${schema} CASCADE`);
            await c.end();
          },
        });
      },
    });
  }
  return targets;
}
