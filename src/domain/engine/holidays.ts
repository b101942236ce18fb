/**
 * Public holiday calendars as data: fixed days (MM-DD) and days relative to Easter Sunday. France
 * (Code du travail L3133-1), Alsace-Moselle (L3134-13: Good Friday, 26 December) and the overseas
 * departments' abolition-of-slavery days (L3422-2). Another country is one more entry here.
 */
import { type CalendarDate, dayOfWeek, fromEpochDay, toEpochDay } from '../dates.ts';
import { ERROR_CODES, RelanceError } from '../../errors.ts';
import { defineErrors } from '../../i18n/index.ts';

export interface HolidayCalendarDef {
  name: string;
  fixed: string[];
  easterOffsets: number[];
}

const FR_FIXED = ['01-01', '05-01', '05-08', '07-14', '08-15', '11-01', '11-11', '12-25'];
const FR_EASTER = [1, 39, 50]; // Easter Monday, Ascension, Whit Monday

export const HOLIDAY_CALENDARS: Record<string, HolidayCalendarDef> = {
  FR: { name: 'France (métropole)', fixed: FR_FIXED, easterOffsets: FR_EASTER },
  'FR-ALSACE-MOSELLE': { name: 'Alsace-Moselle (57, 67, 68)', fixed: [...FR_FIXED, '12-26'], easterOffsets: [-2, ...FR_EASTER] },
  'FR-YT': { name: 'Mayotte', fixed: [...FR_FIXED, '04-27'], easterOffsets: FR_EASTER },
  'FR-MQ': { name: 'Martinique', fixed: [...FR_FIXED, '05-22'], easterOffsets: FR_EASTER },
  'FR-GP': { name: 'Guadeloupe', fixed: [...FR_FIXED, '05-27'], easterOffsets: FR_EASTER },
  'FR-MF': { name: 'Saint-Martin', fixed: [...FR_FIXED, '05-27'], easterOffsets: FR_EASTER },
  'FR-GF': { name: 'Guyane', fixed: [...FR_FIXED, '06-10'], easterOffsets: FR_EASTER },
  'FR-BL': { name: 'Saint-Barthélemy', fixed: [...FR_FIXED, '10-09'], easterOffsets: FR_EASTER },
  'FR-RE': { name: 'La Réunion', fixed: [...FR_FIXED, '12-20'], easterOffsets: FR_EASTER },
  NONE: { name: 'weekends only', fixed: [], easterOffsets: [] },
};

/** Easter Sunday, anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): CalendarDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` as CalendarDate;
}

/** A calendar answers "is this a working day?" quickly, caching each year's holidays. */
export class WorkingDays {
  private readonly years = new Map<number, Set<number>>();
  constructor(readonly def: HolidayCalendarDef) {}

  holidays(year: number): Set<number> {
    let set = this.years.get(year);
    if (!set) {
      set = new Set<number>();
      for (const md of this.def.fixed) set.add(toEpochDay(`${year}-${md}` as CalendarDate));
      const easter = toEpochDay(easterSunday(year));
      for (const off of this.def.easterOffsets) set.add(easter + off);
      this.years.set(year, set);
    }
    return set;
  }

  isWorkingDay(d: CalendarDate): boolean {
    const dow = dayOfWeek(d);
    if (dow >= 6) return false;
    return !this.holidays(Number(d.slice(0, 4))).has(toEpochDay(d));
  }

  /** The same day if it is a working day, else the next one. */
  nextWorkingDay(d: CalendarDate): CalendarDate {
    return fromEpochDay(this.nextWorkingEpochDay(toEpochDay(d)));
  }

  /** The working day `n` working days after `d` (n = 0: `d` itself if it is a working day, else the next one). */
  addWorkingDays(d: CalendarDate, n: number): CalendarDate {
    let day = this.nextWorkingEpochDay(toEpochDay(d));
    for (let i = 0; i < n; i++) day = this.nextWorkingEpochDay(day + 1);
    return fromEpochDay(day);
  }

  private readonly next = new Map<number, number>();
  /** nextWorkingDay on day numbers (see dates.ts), remembered: the planner asks it millions of times. */
  nextWorkingEpochDay(n: number): number {
    let r = this.next.get(n);
    if (r === undefined) {
      r = n + 30;
      for (let i = 0; i < 30; i++) {
        if (this.isWorkingDay(fromEpochDay(n + i))) {
          r = n + i;
          break;
        }
      }
      this.next.set(n, r);
    }
    return r;
  }
}

const E = defineErrors('holidays', {
  unknown_calendar: {
    fr: 'calendrier de jours fériés inconnu « {calendar} » (calendriers connus : {known}) : corrigez le scénario, rien n’est envoyé selon un autre calendrier',
    en: 'unknown holiday calendar "{calendar}" (known: {known}): correct the scenario; nothing is sent by another calendar instead',
  },
});

const calendars = new Map<string, WorkingDays>();
/** One calendar per name for the process: its answers are remembered (the planner asks millions of times). */
export function workingDays(calendar: string): WorkingDays {
  let c = calendars.get(calendar);
  if (c) return c;
  const def = HOLIDAY_CALENDARS[calendar];
  if (!def) throw new RelanceError(ERROR_CODES.CONFIG, E('unknown_calendar', { calendar, known: Object.keys(HOLIDAY_CALENDARS).join(', ') }), { where: { field: 'options.holidayCalendar' } });
  calendars.set(calendar, (c = new WorkingDays(def)));
  return c;
}
