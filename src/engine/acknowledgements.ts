/**
 * Acknowledgements: recording a promise to pay, a dispute or a payment plan queues a message to
 * the debtor confirming it (templates promise, dispute_ack, payment_plan; the plan's confirmation
 * lists its instalments). A credit controller expects the debtor to get it in writing the same
 * day: on by default (engine_settings.acknowledge_agreements), and an organisation that confirms
 * agreements itself turns it off; each recording may also say otherwise (the debtor already has
 * the plan signed, say).
 *
 * The acknowledgement is an action like any other message (approval, outbox, proof, timeline),
 * with one step record per invoice keyed `ack:<kind>:<id>` (outside the scenario: the planner
 * leaves it out of the invoice's history, and the pause the agreement made lets it through).
 * Its channel is the first of the template's channels the customer can be reached on.
 */
import { pgArray, type Queryable } from '../db/driver.ts';
import type { CalendarDate } from '../domain/dates.ts';
import { type AgreementKind, ackStepKey } from '../domain/engine/scenario.ts';
import { defaultScenario } from './scenarios.ts';
import { windowStart } from '../domain/engine/window.ts';

export interface Agreement {
  kind: AgreementKind;
  id: bigint;
  customerId: bigint;
  /** The invoices it covers; null: the whole customer (its open invoices are named in the message). */
  invoiceIds: readonly bigint[] | null;
}

const TEMPLATE: Record<AgreementKind, { template: string; channels: readonly ('email' | 'sms' | 'letter')[]; column: string }> = {
  promise: { template: 'promise', channels: ['email', 'sms'], column: 'promise_id' },
  dispute: { template: 'dispute_ack', channels: ['email', 'letter'], column: 'dispute_id' },
  payment_plan: { template: 'payment_plan', channels: ['email', 'letter'], column: 'payment_plan_id' },
  portal: { template: 'portal_receipt', channels: ['email'], column: 'portal_event_id' },
};

/** Whether the organisation acknowledges agreements (default: yes). */
export async function acknowledgesAgreements(q: Queryable, orgId: string): Promise<boolean> {
  const [r] = await q.query<{ acknowledge_agreements: boolean }>('SELECT acknowledge_agreements FROM engine_settings WHERE organisation_id = $1', [orgId]);
  return r?.acknowledge_agreements ?? true;
}

export async function setAcknowledgeAgreements(q: Queryable, orgId: string, on: boolean): Promise<void> {
  await q.query(
    `INSERT INTO engine_settings (organisation_id, acknowledge_agreements) VALUES ($1, $2)
     ON CONFLICT (organisation_id) DO UPDATE SET acknowledge_agreements = EXCLUDED.acknowledge_agreements, updated_at = now()`,
    [orgId, on],
  );
}

/**
 * Queues the acknowledgement of an agreement, once (its dedupe key names the agreement). Returns
 * the action's id, or null when there is nothing to write about or no way to reach the customer.
 */
export async function queueAcknowledgement(q: Queryable, orgId: string, a: Agreement, today: CalendarDate): Promise<bigint | null> {
  const spec = TEMPLATE[a.kind];
  const invoices = await q.query<{ id: bigint }>(
    `SELECT id FROM invoices WHERE organisation_id = $1 AND customer_id = $2 AND allocated_minor + written_off_minor < amount_incl_tax_minor
        AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[])) ORDER BY due_date, id`,
    [orgId, a.customerId, a.invoiceIds ? pgArray(a.invoiceIds) : null],
  );
  if (invoices.length === 0) return null;
  // How the customer can be reached: the contacts flagged for reminders (all when none is), and
  // neither an address that bounced nor a wrong number.
  const [reach] = await q.query<{ email: boolean; sms: boolean; letter: boolean }>(
    `SELECT coalesce(bool_or(ct.email IS NOT NULL AND ct.email <> '' AND NOT EXISTS (SELECT 1 FROM contact_address_status x
                 WHERE x.organisation_id = ct.organisation_id AND x.contact_id = ct.id AND x.kind = 'email' AND x.value = ct.email)), false) AS email,
            coalesce(bool_or(ct.phone IS NOT NULL AND ct.phone <> '' AND NOT EXISTS (SELECT 1 FROM contact_address_status x
                 WHERE x.organisation_id = ct.organisation_id AND x.contact_id = ct.id AND x.kind = 'phone' AND x.value = ct.phone)), false) AS sms,
            coalesce(bool_or(ct.address_line1 IS NOT NULL AND ct.postal_code IS NOT NULL AND ct.city IS NOT NULL), false) AS letter
       FROM contacts ct
      WHERE ct.organisation_id = $1 AND ct.customer_id = $2
        AND (ct.receives_reminders OR NOT EXISTS (SELECT 1 FROM contacts x WHERE x.organisation_id = $1 AND x.customer_id = $2 AND x.receives_reminders))`,
    [orgId, a.customerId],
  );
  const channel = spec.channels.find((c) => reach?.[c]);
  if (!channel) return null;
  const scenario = await defaultScenario(q, orgId);
  if (!scenario) return null;
  const [org] = await q.query<{ time_zone: string }>('SELECT time_zone FROM organisations WHERE id = $1', [orgId]);
  const def = scenario.definition;
  const stepKey = ackStepKey(a.kind, a.id);
  const [action] = await q.query<{ id: bigint }>(
    `INSERT INTO actions (organisation_id, dedupe_key, customer_id, channel, tone, template, step_offset, scenario_id, scenario_version,
                          planned_on, send_after, status, ${spec.column})
     VALUES ($1, $2, $3, $4, 'courtesy', $5, 0, $6, $7, $8, $9, 'queued', $10)
     ON CONFLICT (organisation_id, dedupe_key) DO NOTHING RETURNING id`,
    [orgId, stepKey, a.customerId, channel, spec.template, scenario.id, scenario.version, today, windowStart(today, org!.time_zone, def.options.window.start), a.id],
  );
  if (!action) return null;
  await q.query(
    `INSERT INTO step_records (organisation_id, invoice_id, step_key, step_offset, outcome, action_id, recorded_on)
     SELECT $1, x, $3, 0, 'planned', $4, $5 FROM unnest($2::bigint[]) AS x ON CONFLICT DO NOTHING`,
    [orgId, pgArray(invoices.map((i) => i.id)), stepKey, action.id, today],
  );
  return action.id;
}
