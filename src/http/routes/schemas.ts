/**
 * The zod building blocks of request and response shapes, shared by /api/v1 (define.ts) and the
 * web app's /api/app (routes/app/shapes). Only zod: the web app imports these shapes too (types).
 */
import { z } from 'zod';

export const Id = z.string().regex(/^\d{1,18}$/, 'an id is a positive integer').meta({ description: 'numeric id (as a string)' });
export const IdParams = z.object({ id: Id });
export const MinorString = z.string().regex(/^-?\d+$/).meta({ description: 'amount in minor units (cents), as a string' });
export const DecimalAmount = z
  .string()
  .regex(/^\d{1,15}([.,]\d{1,3})?$/, 'an amount is a decimal like "1234.56"')
  .meta({ description: 'amount as a decimal string in the currency ("1234.56")', example: '1234.56' });
export const IsoDate = z.iso.date().meta({ description: 'calendar date YYYY-MM-DD' });
export const Currency = z.string().regex(/^[A-Z]{3}$/).meta({ description: 'ISO 4217 code', example: 'EUR' });
export const Limit = z.coerce.number().int().min(1).max(500).default(50);
export const Cursor = z.string().max(64).optional().meta({ description: 'nextCursor of the previous page' });
export const PageQuery = z.object({ limit: Limit, cursor: Cursor });
export const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  where: z.object({ file: z.string().optional(), line: z.number().optional(), field: z.string().optional(), path: z.string().optional() }).optional(),
});
