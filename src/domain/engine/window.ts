import { Temporal } from 'temporal-polyfill';
import type { CalendarDate } from '../dates.ts';

/**
 * The instant a message planned for `date` may first go out: the start of the sending window in
 * the organisation's time zone (DST-aware: 09:00 in Paris is 08:00Z in winter, 07:00Z in summer).
 */
export function windowStart(date: CalendarDate, timeZone: string, hhmm: string): string {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return Temporal.PlainDate.from(date)
    .toZonedDateTime({ timeZone, plainTime: Temporal.PlainTime.from({ hour: h, minute: m }) })
    .toInstant()
    .toString();
}

/** Whether an instant falls inside the window on a given day in the time zone. */
export function insideWindow(instantIso: string, timeZone: string, window: { start: string; end: string }): boolean {
  const local = Temporal.Instant.from(instantIso).toZonedDateTimeISO(timeZone);
  const hhmm = `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
  return hhmm >= window.start && hhmm < window.end;
}
