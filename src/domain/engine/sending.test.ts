import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS, type StoredScenarioDefinition, validateScenario } from './scenario.ts';
import { checkSending, DEFAULT_SENDING, effectiveDefinition, effectiveOptions, followedFields, SENDING_FIELDS, toStored } from './sending.ts';

const org = { window: { start: '08:30', end: '17:00' }, holidayCalendar: 'FR-ALSACE-MOSELLE', workingDaysOnly: false };
const b2b = BUILTIN_SCENARIOS['standard-b2b']!.definition;
const following: StoredScenarioDefinition = toStored(b2b, SENDING_FIELDS, DEFAULT_SENDING);
const consumer = toStored(BUILTIN_SCENARIOS.consumer!.definition, SENDING_FIELDS, DEFAULT_SENDING);

describe("a scenario's sending options", () => {
  it("a scenario that sets none follows the organisation's window, calendar and working days", () => {
    expect(followedFields(following.options)).toEqual(['window', 'holidayCalendar', 'workingDaysOnly']);
    const eff = effectiveOptions(following.options, org);
    expect(eff.window).toEqual(org.window);
    expect(eff.holidayCalendar).toBe('FR-ALSACE-MOSELLE');
    expect(eff.workingDaysOnly).toBe(false);
    // The rest is the scenario's own.
    expect(eff.minGapDays).toBe(b2b.options.minGapDays);
  });

  it("the consumer scenario keeps its own 10:00-19:00 window and follows the organisation's calendar", () => {
    expect(followedFields(consumer.options)).toEqual(['holidayCalendar', 'workingDaysOnly']);
    const eff = effectiveDefinition(consumer, org);
    expect(eff.options.window).toEqual({ start: '10:00', end: '19:00' });
    expect(eff.options.holidayCalendar).toBe('FR-ALSACE-MOSELLE');
    expect(eff.steps).toEqual(consumer.steps);
  });

  it('an edit that leaves a followed option at the organisation\'s value keeps following; a different value becomes its own', () => {
    const shown = effectiveDefinition(following, org);
    const same = toStored(shown, followedFields(following.options), org);
    expect(followedFields(same.options)).toEqual(['window', 'holidayCalendar', 'workingDaysOnly']);
    const changed = toStored({ ...shown, options: { ...shown.options, window: { start: '10:00', end: '12:00' } } }, followedFields(following.options), org);
    expect(followedFields(changed.options)).toEqual(['holidayCalendar', 'workingDaysOnly']);
    expect(changed.options.window).toEqual({ start: '10:00', end: '12:00' });
    // A scenario's own window that happens to equal the organisation's stays its own.
    const own = { ...following, options: { ...following.options, window: org.window } };
    expect(followedFields(toStored(own, followedFields(own.options), org).options)).toEqual(['holidayCalendar', 'workingDaysOnly']);
  });

  it('a bad window or an unknown calendar is refused, naming the field', () => {
    const field = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as { where?: { field?: string } }).where?.field;
      }
      return null;
    };
    expect(field(() => checkSending({ window: { start: '18:00', end: '09:00' } }))).toBe('window');
    expect(field(() => checkSending({ window: { start: '9h', end: '18:00' } }))).toBe('window');
    expect(field(() => checkSending({ window: { start: '09:00', end: '24:00' } }))).toBe('window');
    expect(field(() => checkSending({ holidayCalendar: 'XX' }))).toBe('holidayCalendar');
    expect(field(() => checkSending({ holidayCalendar: 'toString' }))).toBe('holidayCalendar');
    expect(field(() => checkSending({ workingDaysOnly: 'yes' }))).toBe('workingDaysOnly');
    expect(field(() => checkSending({ window: { start: '08:00', end: '12:30' }, holidayCalendar: 'NONE', workingDaysOnly: true }))).toBeNull();
    expect(field(() => validateScenario({ ...following, options: { ...following.options, window: { start: '12:00', end: '12:00' } } }))).toBe('options.window');
    expect(field(() => validateScenario(following))).toBeNull();
  });
});
