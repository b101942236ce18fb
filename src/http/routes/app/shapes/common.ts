/**
 * Zod pieces of the web app's request shapes (/api/app). Only zod and pure domain code: the web
 * app imports the shapes of src/http/routes/app/shapes as types.
 */
import { z } from 'zod';
import type { CalendarDate } from '../../../../domain/dates.ts';

/** A numeric id, as the screens send it (a string, or a number). */
export const AnyId = z.union([z.string().regex(/^\d{1,18}$/, 'an id is a positive integer'), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)]).transform((v) => BigInt(v));
/** At least one id. */
export const Ids = z.array(AnyId).min(1, 'give at least one id');
/** An amount in minor units: a whole number, as a string (or a number). Its range is checked where it is used. */
export const AnyMinor = z.union([z.string().regex(/^-?\d{1,18}$/, 'an amount in minor units (a whole number as a string)'), z.number().int().refine(Number.isSafeInteger)]);
/** A number of days from 0 to 365 (a number, or digits). */
export const WholeDays = z.union([z.number(), z.string().regex(/^\s*\d{1,3}\s*$/, 'a number of days from 0 to 365').transform(Number)]).pipe(z.number().int().min(0).max(365));
/** A calendar date, YYYY-MM-DD. */
export const Day = z.iso.date().transform((v) => v as CalendarDate);
export const Lang = z.enum(['fr', 'en']);
/** An empty form field is the same as an absent one. */
export const blankAsAbsent = <T extends z.ZodType>(t: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), t.optional());
/** A whole-number query parameter within bounds; absent or empty: the default. */
export const intQuery = (dflt: number, min: number, max: number) => z.preprocess((v) => (v === undefined || v === '' ? dflt : v), z.coerce.number().int().min(min).max(max));
/** Anything the screens send as an object (the fields are checked by the domain function). */
export const AnyObject = z.looseObject({});
export const Empty = z.object({});
export const Ok = z.object({ ok: z.literal(true) });

/** What a pause or an agreement covers: invoices, or the whole customer when ticked. */
export const Coverage = {
  customerWide: z.boolean().optional(),
  allOpenInvoices: z.boolean().optional(),
  invoiceIds: z.array(AnyId).optional(),
};

/**
 * What a handler may return for an answer of type T: a bigint where T has a string (jsonReplacer
 * writes it as its decimal string, which is what the web app receives).
 */
export type Serialisable<T> = T extends string
  ? T | bigint
  : T extends readonly (infer U)[]
    ? readonly Serialisable<U>[]
    : T extends object
      ? { [K in keyof T]: Serialisable<T[K]> }
      : T;

/** The bank data guard (engine/cycle.ts HoldStatus) as the screens receive it. */
export interface BankHold {
  held: boolean;
  reason: 'stale_bank_data' | null;
  message: string | null;
  lastImportOn: CalendarDate | null;
}
