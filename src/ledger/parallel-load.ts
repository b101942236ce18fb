/**
 * Loading a whole new organisation's ledger (initial migration from another tool, the demo, the
 * benches) on PostgreSQL with several connections at once: each worker writes its share of the
 * batches in its own transaction while the organisation stays hidden (`loading`). Only when every
 * worker committed does the organisation appear; if one fails, everything written for it is
 * deleted. From the user's side it is all or nothing, like a single transaction, at the speed of
 * every core. On PGlite (one connection) it is one transaction.
 */
import type { Db, Queryable } from '../db/driver.ts';
import { type BulkCounts, emptyCounts, loadBatches, validateBatch, writeBatch } from './bulk.ts';
import type { LedgerBatch } from './bulk-types.ts';
import { createOrganisation, type Organisation, type OrganisationInput } from './repo.ts';

class AnotherLoaderFailed extends Error {
  constructor() {
    super('another loader failed');
  }
}

export async function loadNewOrganisation(
  db: Db,
  input: OrganisationInput,
  batches: Iterable<LedgerBatch>,
  opts: { parallel?: number } = {},
): Promise<{ organisation: Organisation; counts: BulkCounts }> {
  const parallel = db.kind === 'postgres' ? Math.max(1, opts.parallel ?? 2) : 1;
  if (parallel === 1) {
    return db.tx(async (q) => {
      const organisation = await createOrganisation(q, input);
      const counts = await loadBatches(q, organisation.id, batches, emptyCounts());
      return { organisation, counts };
    });
  }
  const organisation = await db.tx(async (q) => {
    const o = await createOrganisation(q, input);
    await q.query('UPDATE organisations SET loading = true WHERE id = $1', [o.id]);
    return o;
  });
  const it = batches[Symbol.iterator]();
  let failed = false;
  const worker = () =>
    db.tx(async (q) => {
      const counts = emptyCounts();
      for (;;) {
        if (failed) throw new AnotherLoaderFailed();
        const n = it.next(); // one shared iterator: JavaScript hands each batch to one worker
        if (n.done) return counts;
        validateBatch(n.value);
        await writeBatch(q, organisation.id, n.value, counts);
      }
    });
  const results = await Promise.allSettled(Array.from({ length: parallel }, () => worker().catch((e) => {
    failed = true;
    throw e;
  })));
  // The cause, not a worker that merely stopped because another one failed.
  const rejected =
    results.find((r) => r.status === 'rejected' && !(r.reason instanceof AnotherLoaderFailed)) ?? results.find((r) => r.status === 'rejected');
  if (rejected) {
    await db.tx((q) => deleteOrganisation(q, organisation.id));
    throw (rejected as PromiseRejectedResult).reason;
  }
  await db.query('UPDATE organisations SET loading = false WHERE id = $1', [organisation.id]);
  const counts = emptyCounts();
  for (const r of results) {
    const c = (r as PromiseFulfilledResult<BulkCounts>).value;
    for (const k of Object.keys(counts) as (keyof BulkCounts)[]) counts[k] += c[k];
  }
  return { organisation, counts };
}

/** Everything of one organisation, children first (settled rows refuse to go before their allocations). */
export async function deleteOrganisation(q: Queryable, orgId: string): Promise<void> {
  for (const table of ['allocations', 'write_offs', 'payments', 'credit_notes', 'invoices', 'contacts', 'customers']) {
    await q.query(`DELETE FROM ${table} WHERE organisation_id = $1`, [orgId]);
  }
  await q.query('DELETE FROM organisations WHERE id = $1', [orgId]);
}
