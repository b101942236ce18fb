/**
 * A payment plan's schedule: an optional down payment due on the first date, then equal monthly
 * instalments from the month after (or from the first date when there is no down payment), the
 * last one taking the rounding remainder so the plan adds up to the amount owed to the cent. A
 * day that a month lacks falls on that month's last day (31 January, 28 February, 31 March), each
 * date counted from the first, never from the previous one. The web app shows the schedule the
 * engine records (createPaymentPlan checks that the instalments add up).
 */
import { addMonths, type CalendarDate } from './dates.ts';
import type { Minor } from './money.ts';

export interface ScheduledInstalment {
  dueDate: CalendarDate;
  amountMinor: Minor;
  /** The down payment, due on the first date. */
  down: boolean;
}

export interface PlanScheduleInput {
  /** What the plan settles: the open amount of its invoices. */
  totalMinor: Minor;
  firstDate: CalendarDate;
  /** Monthly instalments after the down payment (at least 1). */
  instalments: number;
  downPaymentMinor?: Minor;
}

/** The schedule, or null when it cannot be made (nothing owed, a down payment of all or more, no instalment). */
export function planSchedule(p: PlanScheduleInput): ScheduledInstalment[] | null {
  const down = p.downPaymentMinor ?? 0n;
  const rest = p.totalMinor - down;
  if (!Number.isInteger(p.instalments) || p.instalments < 1 || down < 0n || rest <= 0n) return null;
  const count = BigInt(p.instalments);
  const each = rest / count;
  if (each <= 0n) return null;
  const offset = down > 0n ? 1 : 0;
  const out: ScheduledInstalment[] = down > 0n ? [{ dueDate: p.firstDate, amountMinor: down, down: true }] : [];
  for (let k = 0; k < p.instalments; k++) {
    const last = k === p.instalments - 1;
    out.push({ dueDate: addMonths(p.firstDate, k + offset), amountMinor: last ? rest - each * (count - 1n) : each, down: false });
  }
  return out;
}
