/** Scenarios of an organisation: built-in copies, versioned edits, assignments and resolution. */
import type { Queryable } from '../db/driver.ts';
import { BUILTIN_SCENARIOS, type ScenarioDefinition, type StoredScenarioDefinition, validateScenario } from '../domain/engine/scenario.ts';
import { checkSending, DEFAULT_SENDING, effectiveDefinition, followedFields, SENDING_FIELDS, type SendingField, type SendingOptions, toStored } from '../domain/engine/sending.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';
import { TEMPLATE_KEYS } from '../documents/registry.ts';

const E = defineErrors('scenarios', {
  key: {
    fr: "« {key} » ne convient pas comme clé de scénario : des minuscules, chiffres et tirets, 2 à 63 caractères, commençant par une lettre (par exemple btp-strict)",
    en: "\"{key}\" is not a valid scenario key: lower-case letters, digits and hyphens, 2 to 63 characters, starting with a letter (e.g. strict-trade)",
  },
  name: { fr: 'donnez un nom au scénario (200 caractères au plus)', en: 'give the scenario a name (at most 200 characters)' },
  steps: { fr: 'donnez les étapes du scénario, ou le scénario à copier', en: 'give the steps of the scenario, or the scenario to copy' },
  template: { fr: "modèle inconnu « {template} » : choisissez un des modèles de la liste", en: "unknown template \"{template}\": choose one of the templates listed" },
  taken: { fr: 'un scénario de clé « {key} » existe déjà dans cette organisation', en: 'a scenario with key "{key}" exists already in this organisation' },
});

const SCENARIO_KEY = /^[a-z][a-z0-9-]{1,62}$/;

/** The domain checks the shape of a definition; the templates its steps name must also exist. */
function checkDefinition(definition: StoredScenarioDefinition): StoredScenarioDefinition {
  const def = validateScenario(definition);
  definition.steps.forEach((s, i) => {
    if (!(TEMPLATE_KEYS as readonly string[]).includes(s.template)) throw validation(E('template', { template: s.template }), { field: `steps[${i}].template` });
  });
  return def;
}

function checkName(input: unknown): string {
  const name = String(input ?? '').trim();
  if (!name || name.length > 200) throw validation(E('name'), { field: 'name' });
  return name;
}
import type { PolicyTrigger, RiskClass } from '../domain/credit-policy.ts';

export interface ScenarioRow {
  id: bigint;
  key: string;
  name: string;
  version: number;
  /** The effective definition: its own sending options, the organisation's where it follows them. */
  definition: ScenarioDefinition;
  /** The sending options it takes from the organisation (left out of what is stored). */
  follows: SendingField[];
  isDefault: boolean;
}

/** A definition as stored (scenarios, scenario_versions), JSON text or already parsed. */
export const storedDefinition = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as StoredScenarioDefinition;

const toRow = (r: Record<string, unknown>, sending: SendingOptions): ScenarioRow => {
  const stored = storedDefinition(r.definition);
  return {
    id: r.id as bigint,
    key: String(r.key),
    name: String(r.name),
    version: Number(r.version),
    definition: effectiveDefinition(stored, sending),
    follows: followedFields(stored.options),
    isDefault: Boolean(r.is_default),
  };
};

/** What the definition of a row stores: its effective one without the options it follows. */
const storedOf = (row: ScenarioRow): StoredScenarioDefinition => {
  const options: StoredScenarioDefinition['options'] = { ...row.definition.options };
  for (const f of row.follows) delete options[f];
  return { ...row.definition, options };
};

/** The organisation's sending options (engine_settings), the defaults when it never chose. */
export async function loadSendingDefaults(q: Queryable, orgId: string): Promise<SendingOptions> {
  const [r] = await q.query<{ window_start: string; window_end: string; holiday_calendar: string; working_days_only: boolean }>(
    'SELECT window_start, window_end, holiday_calendar, working_days_only FROM engine_settings WHERE organisation_id = $1',
    [orgId],
  );
  return r ? { window: { start: r.window_start, end: r.window_end }, holidayCalendar: r.holiday_calendar, workingDaysOnly: r.working_days_only } : DEFAULT_SENDING;
}

/**
 * Changes the organisation's sending options (those given; each checked, the error naming it).
 * The scenarios that follow them plan with the new ones from the next run; the caller replans
 * what is pending (events.replanAfterScenarioChange), as after a scenario's edit.
 */
export async function saveSendingDefaults(q: Queryable, orgId: string, change: Partial<SendingOptions>): Promise<SendingOptions> {
  checkSending(change);
  const next: SendingOptions = { ...(await loadSendingDefaults(q, orgId)) };
  for (const f of SENDING_FIELDS) if (change[f] !== undefined) Object.assign(next, { [f]: change[f] });
  await q.query(
    `INSERT INTO engine_settings (organisation_id, window_start, window_end, holiday_calendar, working_days_only) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (organisation_id) DO UPDATE SET window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
       holiday_calendar = EXCLUDED.holiday_calendar, working_days_only = EXCLUDED.working_days_only, updated_at = now()`,
    [orgId, next.window.start, next.window.end, next.holidayCalendar, next.workingDaysOnly],
  );
  await lookAgainAtOpenInvoices(q, orgId);
  return next;
}

/** Gives an organisation its editable copies of the built-in scenarios (once: keyed by name). */
export async function ensureBuiltinScenarios(q: Queryable, orgId: string, lang: 'fr' | 'en' = 'fr'): Promise<void> {
  for (const [key, b] of Object.entries(BUILTIN_SCENARIOS)) {
    // What a built-in scenario does not set apart (the consumers' window) follows the organisation.
    const s = { ...b, definition: toStored(b.definition, SENDING_FIELDS, DEFAULT_SENDING) };
    const rows = await q.query<{ id: bigint }>(
      `INSERT INTO scenarios (organisation_id, key, name, definition, is_default)
       VALUES ($1, $2, $3, $4::jsonb, $5 AND NOT EXISTS (SELECT 1 FROM scenarios WHERE organisation_id = $1 AND is_default))
       ON CONFLICT (organisation_id, key) DO NOTHING RETURNING id`,
      [orgId, key, s.name[lang], JSON.stringify(s.definition), key === 'standard-b2b'],
    );
    if (rows[0]) {
      await q.query('INSERT INTO scenario_versions (organisation_id, scenario_id, version, definition) VALUES ($1, $2, 1, $3::jsonb)', [
        orgId,
        rows[0].id,
        JSON.stringify(s.definition),
      ]);
    }
  }
  // Consumers get the consumer scenario unless the organisation assigned something else.
  await q.query(
    `INSERT INTO scenario_assignments (organisation_id, scenario_id, tag, priority)
     SELECT $1, id, 'particuliers', 50 FROM scenarios WHERE organisation_id = $1 AND key = 'consumer'
     ON CONFLICT DO NOTHING`,
    [orgId],
  );
}

export async function listScenarios(q: Queryable, orgId: string): Promise<ScenarioRow[]> {
  const sending = await loadSendingDefaults(q, orgId);
  return (await q.query<Record<string, unknown>>('SELECT * FROM scenarios WHERE organisation_id = $1 ORDER BY id', [orgId])).map((r) => toRow(r, sending));
}

/** The organisation's default scenario (the first one when none is marked), or null before any exists. */
export async function defaultScenario(q: Queryable, orgId: string): Promise<ScenarioRow | null> {
  const [r] = await q.query<Record<string, unknown>>('SELECT * FROM scenarios WHERE organisation_id = $1 ORDER BY is_default DESC, id LIMIT 1', [orgId]);
  return r ? toRow(r, await loadSendingDefaults(q, orgId)) : null;
}

export async function getScenario(q: Queryable, orgId: string, keyOrId: string | bigint): Promise<ScenarioRow> {
  const [r] = await q.query<Record<string, unknown>>(
    typeof keyOrId === 'bigint' ? 'SELECT * FROM scenarios WHERE organisation_id = $1 AND id = $2' : 'SELECT * FROM scenarios WHERE organisation_id = $1 AND key = $2',
    [orgId, keyOrId],
  );
  if (!r) throw notFound('scenario', String(keyOrId));
  return toRow(r, await loadSendingDefaults(q, orgId));
}

/**
 * Saves a new version (and a new name, when given); invoices in progress follow it from their next
 * step. A sending option it followed and that is given at the organisation's value keeps following
 * (sending.ts, toStored).
 */
export async function updateScenario(q: Queryable, orgId: string, key: string, definition: StoredScenarioDefinition, rename?: string | null): Promise<ScenarioRow> {
  const before = await getScenario(q, orgId, key);
  const sending = await loadSendingDefaults(q, orgId);
  const def = toStored(checkDefinition(definition), before.follows, sending);
  const name = rename === undefined || rename === null ? null : checkName(rename);
  const [r] = await q.query<Record<string, unknown>>(
    `UPDATE scenarios SET definition = $3::jsonb, version = version + 1, updated_at = now(), name = COALESCE($4, name)
      WHERE organisation_id = $1 AND key = $2 RETURNING *`,
    [orgId, key, JSON.stringify(def), name],
  );
  if (!r) throw notFound('scenario', key);
  const row = toRow(r, sending);
  await q.query('INSERT INTO scenario_versions (organisation_id, scenario_id, version, definition) VALUES ($1,$2,$3,$4::jsonb)', [orgId, row.id, row.version, JSON.stringify(def)]);
  await lookAgainAtOpenInvoices(q, orgId);
  return row;
}

/**
 * A scenario of the organisation's own: a new key, a name, and its steps given or copied from
 * another scenario (`from`, its current version). It starts unassigned: nothing changes for any
 * invoice until it is assigned or made the default.
 */
export async function createScenario(
  q: Queryable,
  orgId: string,
  input: { key: string; name: string; definition?: StoredScenarioDefinition | null; from?: string | null },
): Promise<ScenarioRow> {
  const key = String(input.key ?? '').trim();
  if (!SCENARIO_KEY.test(key)) throw validation(E('key', { key }), { field: 'key' });
  const name = checkName(input.name);
  const sending = await loadSendingDefaults(q, orgId);
  let def: StoredScenarioDefinition;
  if (input.definition) def = toStored(checkDefinition(input.definition), SENDING_FIELDS, sending);
  else if (input.from) def = storedOf(await getScenario(q, orgId, input.from));
  else throw validation(E('steps'), { field: 'definition' });
  const [r] = await q.query<Record<string, unknown>>(
    `INSERT INTO scenarios (organisation_id, key, name, definition) VALUES ($1,$2,$3,$4::jsonb)
     ON CONFLICT (organisation_id, key) DO NOTHING RETURNING *`,
    [orgId, key, name, JSON.stringify(def)],
  );
  if (!r) throw new RelanceError(ERROR_CODES.CONFLICT, E('taken', { key }), { where: { field: 'key' } });
  const row = toRow(r, sending);
  await q.query('INSERT INTO scenario_versions (organisation_id, scenario_id, version, definition) VALUES ($1,$2,1,$3::jsonb)', [orgId, row.id, JSON.stringify(def)]);
  return row;
}

/**
 * Invoices in progress follow a changed scenario from their next step: the next run must look at
 * every open invoice again (events.replanAfterScenarioChange also cancels pending actions whose
 * step is gone).
 */
async function lookAgainAtOpenInvoices(q: Queryable, orgId: string): Promise<void> {
  await q.query(
    'DELETE FROM invoice_schedule WHERE organisation_id = $1',
    [orgId],
  );
}

export type AssignmentTarget = { organisationDefault: true } | { tag: string; priority?: number } | { customerId: bigint } | { invoiceId: bigint };

export async function assignScenario(q: Queryable, orgId: string, scenarioKey: string, target: AssignmentTarget): Promise<void> {
  const s = await getScenario(q, orgId, scenarioKey);
  await lookAgainAtOpenInvoices(q, orgId);
  if ('organisationDefault' in target) {
    await q.query('UPDATE scenarios SET is_default = false WHERE organisation_id = $1 AND is_default', [orgId]);
    await q.query('UPDATE scenarios SET is_default = true WHERE organisation_id = $1 AND id = $2', [orgId, s.id]);
    return;
  }
  const [col, value] = 'tag' in target ? ['tag', target.tag] : 'customerId' in target ? ['customer_id', target.customerId] : ['invoice_id', target.invoiceId];
  await q.query(`DELETE FROM scenario_assignments WHERE organisation_id = $1 AND ${col} = $2`, [orgId, value]);
  await q.query(`INSERT INTO scenario_assignments (organisation_id, scenario_id, ${col}, priority) VALUES ($1,$2,$3,$4)`, [
    orgId,
    s.id,
    value,
    'tag' in target ? (target.priority ?? 100) : 0,
  ]);
}

export interface Assignments {
  byInvoice: Map<bigint, bigint>;
  byCustomer: Map<bigint, bigint>;
  byTag: { tag: string; priority: number; scenarioId: bigint }[];
  defaultId: bigint;
  scenarios: Map<bigint, ScenarioRow>;
  /** The credit policy's stricter scenarios: over the limit, or in a risk class (credit_policy_scenarios). */
  byPolicy: Map<PolicyTrigger, bigint>;
}

/** What the credit policy knows of a customer when its scenario is chosen. */
export interface CreditStanding {
  overLimit: boolean;
  riskClass: RiskClass | null;
}

export async function loadAssignments(q: Queryable, orgId: string): Promise<Assignments> {
  const scenarios = new Map((await listScenarios(q, orgId)).map((s) => [s.id, s]));
  const def = [...scenarios.values()].find((s) => s.isDefault) ?? [...scenarios.values()][0];
  if (!def) throw notFound('default scenario for organisation', orgId);
  const rows = await q.query<Record<string, unknown>>('SELECT * FROM scenario_assignments WHERE organisation_id = $1 AND invoice_id IS NULL', [orgId]);
  const policy = await q.query<{ trigger: PolicyTrigger; scenario_id: bigint }>('SELECT trigger, scenario_id FROM credit_policy_scenarios WHERE organisation_id = $1', [orgId]);
  const a: Assignments = { byInvoice: new Map(), byCustomer: new Map(), byTag: [], defaultId: def.id, scenarios, byPolicy: new Map(policy.map((p) => [p.trigger, p.scenario_id])) };
  for (const r of rows) {
    if (r.customer_id != null) a.byCustomer.set(r.customer_id as bigint, r.scenario_id as bigint);
    else if (r.tag != null) a.byTag.push({ tag: String(r.tag), priority: Number(r.priority), scenarioId: r.scenario_id as bigint });
  }
  a.byTag.sort((x, y) => x.priority - y.priority);
  return a;
}

/**
 * Most specific wins: invoice, customer, then the credit policy's stricter scenario (over the
 * limit, then the customer's risk class), tag or segment (by priority), organisation default.
 */
export function resolveScenario(
  a: Assignments,
  invoiceAssignment: bigint | null,
  customerId: bigint,
  tags: string[],
  segment: string | null,
  credit: CreditStanding | null = null,
): ScenarioRow {
  const byPolicy = credit ? ((credit.overLimit ? a.byPolicy.get('over_limit') : undefined) ?? (credit.riskClass && credit.riskClass !== 'low' ? a.byPolicy.get(credit.riskClass) : undefined)) : undefined;
  const id =
    invoiceAssignment ??
    a.byCustomer.get(customerId) ??
    byPolicy ??
    a.byTag.find((t) => tags.includes(t.tag) || t.tag === segment)?.scenarioId ??
    a.defaultId;
  return a.scenarios.get(id)!;
}
