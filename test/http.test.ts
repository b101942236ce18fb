import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/driver.ts';
import { createApp } from '../src/http/app.ts';
import { dbTargets } from './db.ts';

describe.each(dbTargets())('HTTP on $name', (target) => {
  let db: Db;
  beforeAll(async () => {
    db = await target.open();
  });
  afterAll(async () => db?.close());

  it('GET /api/health says ok and which database', async () => {
    const app = createApp({ db, now: () => new Date('2026-11-22T09:00:00Z') });
    const res = await app.request('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: target.name });
  });
});
