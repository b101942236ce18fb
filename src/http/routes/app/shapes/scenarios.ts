/**
 * The scenario editor's answers (src/http/routes/app/scenarios.ts), as web/src/screens/Scenarios.tsx
 * reads them. A definition is the domain's own (src/domain/engine/scenario.ts): the screen edits it as is.
 */
import type { EscalationOptions } from '../../../../domain/engine/escalation.ts';
import type { simulateScenario } from '../../../../domain/engine/sample-scenario.ts';
import type { Channel, ScenarioDefinition, Step, Tone } from '../../../../domain/engine/scenario.ts';
import type { SendingField } from '../../../../domain/engine/sending.ts';

export type { Channel, EscalationOptions, ScenarioDefinition, Step, Tone };

/** A scenario as saved or created (engine/scenarios.ts ScenarioRow, its id as a string). */
export interface ScenarioSaved {
  id: string;
  key: string;
  name: string;
  version: number;
  isDefault: boolean;
  /** The effective definition: the organisation's sending options where the scenario follows them. */
  definition: ScenarioDefinition;
  /** The sending options it takes from the organisation's settings (domain/engine/sending.ts). */
  follows: SendingField[];
}

/** A scenario in the editor's list: how many customers are assigned to it, and the tags that are. */
export interface ScenarioRow extends ScenarioSaved {
  customers: number;
  tags: string[];
}

/** GET /api/app/scenarios: the scenarios and what a step may be made of. */
export interface ScenarioListResponse {
  scenarios: ScenarioRow[];
  channels: readonly Channel[];
  tones: readonly Tone[];
  templates: readonly string[];
  holidayCalendars: { key: string; name: string }[];
}

/** POST /api/app/scenarios/preview: one sample invoice, day by day (domain/engine/sample-scenario.ts). */
export type ScenarioSimulation = ReturnType<typeof simulateScenario>;
