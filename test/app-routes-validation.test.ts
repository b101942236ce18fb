/**
 * Issue 18: every /api/app route that takes a body refuses an invalid one with a 400 that names
 * the field, never a 500. The routes come from their definitions (APP_ROUTES): a new route is
 * covered by itself; the invalid bodies come from each route's own schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addUser, login } from '../src/auth/index.ts';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { APP_ROUTES } from '../src/http/routes/app/index.ts';
import { createOrganisation } from '../src/ledger/repo.ts';
import { dbTargets } from './db.ts';

const HOST = 'relance.test';
const PASSWORD = 'tilleul-boussole-42';
const PARAMS: Record<string, string> = { userId: '6f1c2a7e-3b4d-4c5e-8f90-123456789abc', lang: 'fr', channel: 'email', key: 'reminder_1' };

/** Values of every JSON type, one of which each field refuses. */
const WRONG: unknown[] = [{ nested: [1] }, [[1]], 'not-valid-∅', -12345.5, true];

/** Bodies the schema refuses, each with the field the first problem names. */
function invalidBodies(schema: z.ZodType): { body: unknown; field: string }[] {
  const out: { body: unknown; field: string }[] = [{ body: 42, field: 'body' }];
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  for (const key of Object.keys(shape)) {
    for (const value of WRONG) {
      const r = schema.safeParse({ [key]: value });
      const first = r.error?.issues[0];
      if (first && first.path[0] === key) {
        out.push({ body: { [key]: value }, field: first.path.join('.') });
        break;
      }
    }
  }
  return out;
}

describe.each(dbTargets())('/api/app bodies on $name', (target) => {
  let db: Db;
  let app: ReturnType<typeof createApp>;
  let headers: Record<string, string>;
  beforeAll(async () => {
    db = await target.open();
    const orgId = (await createOrganisation(db, { legalName: 'Menuiserie Validation' })).id;
    await db.tx((q) => addUser(q, orgId, { email: 'admin@validation.fr', role: 'admin', password: PASSWORD }));
    const s = await db.tx((q) => login(q, 'admin@validation.fr', PASSWORD, { organisationId: orgId, now: new Date() }));
    headers = { cookie: `relance_session=${s.token}`, host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
    app = createApp({ db, now: () => new Date() });
  });
  afterAll(async () => db?.close());

  const withBody = APP_ROUTES.filter((r) => r.body);

  it('the routes with a body are found from their definitions', () => {
    expect(withBody.length).toBeGreaterThan(25);
    expect(withBody.map((r) => `${r.method} ${r.path}`)).toContain('post /api/app/customers/{id}/promise'.replace('{id}', ':id'));
  });

  it('an invalid body is a 400 naming the field, on every route that takes one', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const r of withBody) {
      const path = r.path.replace(/:(\w+)/g, (_m, name: string) => PARAMS[name] ?? '1');
      const cases = invalidBodies(r.body!);
      // Every field of an object body is tried, except fields that take anything (checked further on).
      expect(cases.length, `${r.method} ${r.path}`).toBeGreaterThan(0);
      for (const { body, field } of cases) {
        const res = await app.request(`http://${HOST}${path}`, { method: r.method.toUpperCase(), headers, body: JSON.stringify(body) });
        const p = (await res.json()) as { status?: number; code?: string; where?: { field?: string } };
        checked++;
        if (res.status !== 400 || p.code !== 'validation' || p.where?.field !== field) {
          wrong.push(`${r.method} ${r.path} ${JSON.stringify(body)}: ${res.status} ${p.code} field=${p.where?.field} (expected ${field})`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(withBody.length);
  });
});
