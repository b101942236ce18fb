/**
 * An action's message as the worker would send it now (the same function on the same inputs),
 * for the Today screen's preview; a message that cannot be written says why.
 */
import type { Db } from '../db/driver.ts';
import { loadTemplateOverrides } from '../documents/repo.ts';
import { isRelanceError, notFound } from '../errors.ts';
import { cachedRateTables } from '../law/rates-cache.ts';
import { getOrganisation } from '../ledger/repo.ts';
import { PermanentContentError, type RenderedAction, renderAction } from './content.ts';
import { loadDeliverySettings } from './settings.ts';

/** Renders an action exactly as the worker would send it now (same function, same inputs). */
export async function previewAction(db: Db, now: Date, orgId: string, id: bigint): Promise<{ r: RenderedAction } | { error: string; channel: string }> {
  const [a] = await db.query<{ id: bigint; customer_id: bigint; channel: string; template: string }>(
    'SELECT id, customer_id, channel, template FROM actions WHERE organisation_id = $1 AND id = $2',
    [orgId, id],
  );
  if (!a) throw notFound('action', String(id));
  const inv = await db.query<{ invoice_id: bigint }>(
    `SELECT invoice_id FROM step_records WHERE organisation_id = $1 AND action_id = $2 ORDER BY invoice_id`,
    [orgId, id],
  );
  const org = await getOrganisation(db, orgId);
  try {
    const r = await renderAction(
      db,
      { orgId, id, customerId: a.customer_id, channel: a.channel, template: a.template, invoiceIds: inv.map((x) => x.invoice_id) },
      { now: now, org, settings: await loadDeliverySettings(db, orgId), rates: await cachedRateTables(db), overrides: await loadTemplateOverrides(db, orgId) },
    );
    return { r };
  } catch (e) {
    if (e instanceof PermanentContentError || isRelanceError(e)) return { error: (e as Error).message, channel: a.channel };
    throw e;
  }
}

