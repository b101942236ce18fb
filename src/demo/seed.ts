/** Seeds the demo company and its ledger, in one transaction: a failed seed leaves nothing behind. */
import { addUser } from '../auth/index.ts';
import type { Db, Queryable } from '../db/driver.ts';
import { saveDeliverySettings } from '../delivery/settings.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { ERROR_CODES, RelanceError } from '../errors.ts';
import type { BulkCounts } from '../ledger/bulk.ts';
import { deleteOrganisation, loadNewOrganisation } from '../ledger/parallel-load.ts';
import { listOrganisations, type Organisation } from '../ledger/repo.ts';
import { DEMO_ORGANISATION, generateLedger } from './generate.ts';

export interface SeedOptions {
  customers?: number;
  invoices?: number;
  seed?: number | string;
  today: CalendarDate;
}

/** The demo's own first admin (printed once by whoever seeds it); no other organisation gets it. */
export const DEMO_ADMIN_EMAIL = 'admin@relance.local';

/** The demo sends from these (no SMTP server: e-mails go to the local .eml outbox). */
export const DEMO_SENDER = { fromAddress: 'relances@menuiserie-lambert.example', fromName: 'Menuiserie Lambert & Fils', replyTo: 'compta@menuiserie-lambert.example' };

export async function seedDemo(
  db: Db,
  opts: SeedOptions,
): Promise<{ organisation: Organisation; counts: BulkCounts; admin: { email: string; password: string | null } }> {
  const existing = (await listOrganisations(db)).find((o) => o.siren === DEMO_ORGANISATION.siren);
  if (existing) {
    throw new RelanceError(ERROR_CODES.CONFLICT, `the demo organisation already exists (${existing.legalName}, ${existing.id})`);
  }
  const batches = generateLedger({ customers: opts.customers ?? 200, invoices: opts.invoices ?? 2000, seed: opts.seed ?? 42, today: opts.today });
  // The demo has been chasing its customers for a while: it is live, not in review.
  const { organisation, counts } = await loadNewOrganisation(db, { ...DEMO_ORGANISATION, live: true }, batches);
  try {
    const admin = await db.tx(async (q) => {
      await saveDeliverySettings(q, organisation.id, DEMO_SENDER);
      await recordEarlierReminders(q, organisation.id, opts.today);
      const user = await addUser(q, organisation.id, { email: DEMO_ADMIN_EMAIL, role: 'admin' });
      return { email: user.email, password: user.password };
    });
    return { organisation, counts, admin };
  } catch (e) {
    // All or nothing, like the ledger's load.
    await db.tx((q) => deleteOrganisation(q, organisation.id));
    throw e;
  }
}

/**
 * The demo company chased its customers before Relance (spreadsheets): seven overdue invoices in
 * ten carry the last level reached, by their age (a firm reminder from 20 days overdue, a last
 * reminder from 30, a formal notice from 45), the others were never chased. The first run then
 * shows every case: first reminders, a ladder that continues, formal notices, handovers.
 */
async function recordEarlierReminders(q: Queryable, orgId: string, today: CalendarDate): Promise<void> {
  await q.query(
    `INSERT INTO outside_reminders (organisation_id, invoice_id, level, sent_on)
     SELECT organisation_id, id, x.level, due_date + x.after
       FROM (SELECT i.organisation_id, i.id, i.due_date, $2::date - i.due_date AS age, i.number FROM invoices i
              WHERE i.organisation_id = $1 AND i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor AND i.due_date < $2::date - 2) i
       CROSS JOIN LATERAL (SELECT CASE WHEN age >= 45 THEN 'formal_notice' WHEN age >= 30 THEN 'final' WHEN age >= 20 THEN 'firm' ELSE 'reminder' END AS level,
                                  CASE WHEN age >= 45 THEN 30 WHEN age >= 30 THEN 25 WHEN age >= 20 THEN 20 ELSE 1 END AS after) x
      WHERE mod(abs(hashtext(i.number)), 10) < 7`,
    [orgId, today],
  );
}
