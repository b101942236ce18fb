/**
 * Escalation prerequisites and the formal notice's deadline (pure).
 *
 * A formal notice is only lawful and credible after the debtor was reminded; a handover to a
 * collection agency (or a final call after the notice) only after the notice's deadline passed.
 * The deadline is the one the letter states: counted from the day a registered letter is expected
 * to be presented (its sending day plus the postal delay, in working days), from sending for an
 * e-mail, and moved to the next working day when it ends on a non-working day (CPC art. 642). The
 * letter, the engine's next step and the handover prerequisite all take it from `formalNoticeDeadline`.
 */
import { MESSAGE_CHANNEL_KEYS } from '../channels.ts';
import { addDays, type CalendarDate } from '../dates.ts';
import { workingDays } from './holidays.ts';
import type { Channel, ScenarioDefinition, ScenarioOptions, Step, Tone } from './scenario.ts';

export interface EscalationOptions {
  /** A formal notice needs an earlier reminder actually sent for the invoice, and the minimum gap since. */
  formalNoticeNeedsReminder: boolean;
  /** A handover (and a final call after the notice) needs a formal notice sent and its deadline passed. */
  handoverNeedsFormalNotice: boolean;
  /** Days the formal notice gives the debtor, from its receipt. */
  formalNoticeDeadlineDays: number;
  /** Working days between sending a letter and its expected presentation to the debtor. */
  postalDelayWorkingDays: number;
}

export const DEFAULT_ESCALATION: EscalationOptions = {
  formalNoticeNeedsReminder: true,
  handoverNeedsFormalNotice: true,
  formalNoticeDeadlineDays: 8,
  postalDelayWorkingDays: 2,
};

/** The scenario's escalation options, defaults filled in (scenarios saved before they existed have none). */
export function escalationOf(options: Pick<ScenarioOptions, 'escalation'>): EscalationOptions {
  return { ...DEFAULT_ESCALATION, ...(options.escalation ?? {}) };
}

/** Tones of the reminders that count before a formal notice (a courtesy notice before the due date does not). */
export const REMINDER_TONES: ReadonlySet<Tone> = new Set(['reminder', 'firm', 'final']);
export const MESSAGE_CHANNELS: ReadonlySet<Channel> = new Set(MESSAGE_CHANNEL_KEYS);

/** A step that counts as a reminder sent once it went out. */
export const isReminderStep = (s: Pick<Step, 'tone' | 'channel'>) => REMINDER_TONES.has(s.tone) && MESSAGE_CHANNELS.has(s.channel);

export type Prerequisite = 'reminder_sent' | 'formal_notice_expired';

/** What a step needs before it may go out under the scenario's options, if anything. */
export function prerequisiteOf(step: Pick<Step, 'tone' | 'offset'>, scenario: ScenarioDefinition): Prerequisite | null {
  const esc = escalationOf(scenario.options);
  if (step.tone === 'formal_notice') return esc.formalNoticeNeedsReminder ? 'reminder_sent' : null;
  if (!esc.handoverNeedsFormalNotice) return null;
  if (step.tone === 'handover') return 'formal_notice_expired';
  // A final call placed after the formal notice is the last word before the handover.
  if (step.tone === 'final' && scenario.steps.some((s) => s.tone === 'formal_notice' && s.offset < step.offset)) return 'formal_notice_expired';
  return null;
}

export interface FormalNoticeDeadline {
  /** The day the debtor is expected to receive it: the sending day for an e-mail. */
  receivedOn: CalendarDate;
  /** The last day to pay, as stated in the notice. */
  deadline: CalendarDate;
  days: number;
}

/**
 * The deadline a formal notice sent on `sentOn` by `channel` states. Letters are expected to be
 * presented `postalDelayWorkingDays` working days after sending; e-mails and SMS the same day.
 */
export function formalNoticeDeadline(
  sentOn: CalendarDate,
  channel: Channel,
  options: Pick<ScenarioOptions, 'escalation' | 'holidayCalendar'>,
): FormalNoticeDeadline {
  const esc = escalationOf(options);
  const cal = workingDays(options.holidayCalendar);
  const postal = channel === 'letter' || channel === 'registered_letter';
  const receivedOn = postal ? cal.addWorkingDays(sentOn, esc.postalDelayWorkingDays) : sentOn;
  const deadline = cal.nextWorkingDay(addDays(receivedOn, esc.formalNoticeDeadlineDays));
  return { receivedOn, deadline, days: esc.formalNoticeDeadlineDays };
}
