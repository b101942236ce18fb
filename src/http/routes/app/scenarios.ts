/** Scenarios: the list and editor, the simulation of a sample invoice, the default. */
import { z } from 'zod';
import { HOLIDAY_CALENDARS } from '../../../domain/engine/holidays.ts';
import { simulateScenario } from '../../../domain/engine/sample-scenario.ts';
import { CHANNELS as SCENARIO_CHANNELS, type StoredScenarioDefinition, TONES, validateScenario } from '../../../domain/engine/scenario.ts';
import { effectiveDefinition } from '../../../domain/engine/sending.ts';
import { TEMPLATE_KEYS } from '../../../documents/registry.ts';
import { replanAfterScenarioChange } from '../../../engine/events.ts';
import { assignScenario, createScenario, ensureBuiltinScenarios, listScenarios, loadSendingDefaults, updateScenario } from '../../../engine/scenarios.ts';
import { appRoute, minorIn } from './common.ts';
import { AnyMinor, blankAsAbsent, Day, Ok } from './shapes/common.ts';
import type { ScenarioListResponse, ScenarioSaved, ScenarioSimulation } from './shapes/scenarios.ts';

const KeyParams = z.object({ key: z.string().min(1) });
/** A scenario definition is checked by validateScenario (it names the step and field). */
const Definition = z.record(z.string(), z.unknown());

export const scenarioRoutes = [
  appRoute({
    method: 'get',
    path: '/scenarios',
    scope: 'read',
    response: z.custom<ScenarioListResponse>(),
    handler: async ({ q, db, orgId, org }) => {
      await db.tx((t) => ensureBuiltinScenarios(t, orgId, org.language));
      const list = await listScenarios(q, orgId);
      const assigned = await q.query<{ scenario_id: bigint; n: bigint; tags: string[] | null }>(
        `SELECT scenario_id, count(customer_id) AS n, array_remove(array_agg(tag), NULL) AS tags FROM scenario_assignments WHERE organisation_id = $1 GROUP BY scenario_id`,
        [orgId],
      );
      return {
        scenarios: list.map((x) => {
          const a = assigned.find((y) => y.scenario_id === x.id);
          return { ...x, id: String(x.id), customers: Number(a?.n ?? 0n), tags: a?.tags ?? [] };
        }),
        channels: SCENARIO_CHANNELS,
        tones: TONES,
        templates: TEMPLATE_KEYS,
        holidayCalendars: Object.entries(HOLIDAY_CALENDARS).map(([key, v]) => ({ key, name: v.name })),
      };
    },
  }),
  appRoute({
    method: 'post',
    path: '/scenarios/preview',
    scope: 'read',
    readOnly: true,
    response: z.custom<ScenarioSimulation>(),
    body: z.object({
      definition: Definition,
      sample: z
        .object({
          dueDate: blankAsAbsent(Day),
          amountMinor: blankAsAbsent(AnyMinor),
          kind: z.string().optional(),
          hasEmail: z.boolean().optional(),
          hasPhone: z.boolean().optional(),
          hasPostalAddress: z.boolean().optional(),
          paidOn: blankAsAbsent(Day),
          firstRunOn: blankAsAbsent(Day),
        })
        .optional(),
    }),
    handler: async ({ q, orgId, today, body }) => {
      // Sending options left out are the organisation's, as for a stored scenario.
      const def = effectiveDefinition(validateScenario(body.definition as unknown as StoredScenarioDefinition), await loadSendingDefaults(q, orgId));
      const sample = body.sample ?? {};
      return simulateScenario(def, {
        dueDate: sample.dueDate ?? today,
        amountMinor: sample.amountMinor !== undefined ? minorIn(sample.amountMinor, 'sample.amountMinor') : 120_000n,
        kind: sample.kind === 'consumer' ? 'consumer' : 'business',
        hasEmail: sample.hasEmail !== false,
        hasPhone: sample.hasPhone !== false,
        hasPostalAddress: sample.hasPostalAddress !== false,
        paidOn: sample.paidOn ?? null,
        firstRunOn: sample.firstRunOn ?? null,
      });
    },
  }),
  appRoute({
    method: 'post',
    path: '/scenarios',
    scope: 'admin',
    status: 201,
    response: z.custom<ScenarioSaved>(),
    body: z.object({ key: z.string(), name: z.string(), from: z.string().nullish(), definition: Definition.nullish() }),
    handler: async ({ q, orgId, body: b }) => {
      const row = await createScenario(q, orgId, { key: b.key, name: b.name, from: b.from || null, definition: (b.definition as unknown as StoredScenarioDefinition | undefined) ?? null });
      return { ...row, id: String(row.id) };
    },
  }),
  appRoute({
    method: 'put',
    path: '/scenarios/:key',
    scope: 'admin',
    params: KeyParams,
    response: z.custom<ScenarioSaved>(),
    body: z.object({ definition: Definition, name: z.string().nullish() }),
    handler: async ({ q, orgId, today, params, body: b }) => {
      const updated = await updateScenario(q, orgId, params.key, b.definition as unknown as StoredScenarioDefinition, b.name);
      await replanAfterScenarioChange(q, orgId, today);
      return { ...updated, id: String(updated.id) };
    },
  }),
  appRoute({
    method: 'post',
    path: '/scenarios/:key/default',
    scope: 'admin',
    params: KeyParams,
    response: Ok,
    handler: async ({ q, orgId, today, params }) => {
      await assignScenario(q, orgId, params.key, { organisationDefault: true });
      await replanAfterScenarioChange(q, orgId, today);
      return { ok: true };
    },
  }),
];
