/** Seeds the demo company and its ledger, in one transaction: a failed seed leaves nothing behind. */
import type { Db } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import type { BulkCounts } from '../ledger/bulk.ts';
import { loadNewOrganisation } from '../ledger/parallel-load.ts';
import { listOrganisations, type Organisation } from '../ledger/repo.ts';
import { DEMO_ORGANISATION, generateLedger } from './generate.ts';

export interface SeedOptions {
  customers?: number;
  invoices?: number;
  seed?: number | string;
  today: CalendarDate;
}

export async function seedDemo(db: Db, opts: SeedOptions): Promise<{ organisation: Organisation; counts: BulkCounts }> {
  const existing = (await listOrganisations(db)).find((o) => o.siren === DEMO_ORGANISATION.siren);
  if (existing) {
    throw new RelanceError(ERROR_CODES.CONFLICT, `the demo organisation already exists (${existing.legalName}, ${existing.id})`);
  }
  const batches = generateLedger({ customers: opts.customers ?? 200, invoices: opts.invoices ?? 2000, seed: opts.seed ?? 42, today: opts.today });
  return loadNewOrganisation(db, DEMO_ORGANISATION, batches);
}
