/**
 * When messages may go out — the sending window, the holiday calendar, working days only — is the
 * organisation's choice by default; a scenario follows it unless it sets its own (the consumer
 * scenario's 10:00-19:00, a stricter window for one segment...). A scenario's stored options carry
 * only what it sets itself; the planner and the workers see the effective options, resolved here.
 */
import { validation } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';
import { HOLIDAY_CALENDARS } from './holidays.ts';
import type { ScenarioDefinition, ScenarioOptions, StoredScenarioDefinition, StoredScenarioOptions } from './scenario.ts';

const E = defineErrors('sending', {
  calendar: { fr: "calendrier de jours fériés inconnu « {calendar} »", en: "unknown holiday calendar \"{calendar}\"" },
  window: { fr: "la plage d’envoi doit être deux heures HH:MM, le début avant la fin", en: "sending window must be two times HH:MM, start before end" },
  working_days: { fr: "« jours ouvrés seulement » vaut oui ou non", en: "\"working days only\" is yes or no" },
});

export const SENDING_FIELDS = ['window', 'holidayCalendar', 'workingDaysOnly'] as const;
export type SendingField = (typeof SENDING_FIELDS)[number];
export type SendingOptions = Pick<ScenarioOptions, SendingField>;

/** An organisation that never chose: weekdays outside French public holidays, 09:00 to 18:00. */
export const DEFAULT_SENDING: SendingOptions = { window: { start: '09:00', end: '18:00' }, holidayCalendar: 'FR', workingDaysOnly: true };

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Checks the sending options given (absent ones are not checked); `prefix` makes the error name the
 * field as the caller's body spells it ('' for the organisation's, 'options.' in a scenario).
 */
export function checkSending(o: Partial<Record<SendingField, unknown>>, prefix = ''): void {
  if (o.holidayCalendar !== undefined && (typeof o.holidayCalendar !== 'string' || !Object.hasOwn(HOLIDAY_CALENDARS, o.holidayCalendar))) {
    throw validation(E('calendar', { calendar: String(o.holidayCalendar) }), { field: `${prefix}holidayCalendar` });
  }
  if (o.window !== undefined) {
    const w = o.window as { start?: unknown; end?: unknown } | null;
    const start = typeof w?.start === 'string' ? w.start : '';
    const end = typeof w?.end === 'string' ? w.end : '';
    if (!HHMM.test(start) || !HHMM.test(end) || start >= end) throw validation(E('window'), { field: `${prefix}window` });
  }
  if (o.workingDaysOnly !== undefined && typeof o.workingDaysOnly !== 'boolean') throw validation(E('working_days'), { field: `${prefix}workingDaysOnly` });
}

/** The sending options a scenario follows from the organisation: those it does not set itself. */
export function followedFields(options: StoredScenarioOptions): SendingField[] {
  return SENDING_FIELDS.filter((f) => options[f] === undefined);
}

/** A scenario's effective options: its own where it sets them, the organisation's otherwise. */
export function effectiveOptions(options: StoredScenarioOptions, organisation: SendingOptions): ScenarioOptions {
  return {
    ...options,
    window: options.window ?? organisation.window,
    holidayCalendar: options.holidayCalendar ?? organisation.holidayCalendar,
    workingDaysOnly: options.workingDaysOnly ?? organisation.workingDaysOnly,
  };
}

export function effectiveDefinition(def: StoredScenarioDefinition, organisation: SendingOptions): ScenarioDefinition {
  return { ...def, options: effectiveOptions(def.options, organisation) };
}

const same = (f: SendingField, a: unknown, b: unknown) =>
  f === 'window' ? (a as SendingOptions['window']).start === (b as SendingOptions['window']).start && (a as SendingOptions['window']).end === (b as SendingOptions['window']).end : a === b;

/**
 * A definition to store from one a user edited. An editor shows the effective options and sends
 * them back whole: a field the scenario followed and the user left at the organisation's value
 * keeps following (a later change of the organisation's window applies to it); a value that
 * differs becomes the scenario's own. A field left out follows the organisation.
 */
export function toStored(edited: StoredScenarioDefinition, followed: readonly SendingField[], organisation: SendingOptions): StoredScenarioDefinition {
  const options: StoredScenarioOptions = { ...edited.options };
  for (const f of SENDING_FIELDS) {
    if (options[f] !== undefined && followed.includes(f) && same(f, options[f], organisation[f])) delete options[f];
  }
  return { ...edited, options };
}
