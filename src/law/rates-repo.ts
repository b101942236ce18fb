/**
 * Operator-added legal rates (table rate_overrides, instance-wide: see migration 0002). Validation
 * is the domain's (`validateRateOverride`), so the CLI, the API and the settings page refuse the same
 * inputs with the same messages.
 */
import type { Queryable } from '../db/driver.ts';
import { type CalendarDate, calendarDate } from '../domain/dates.ts';
import {
  defaultRateTables,
  isRateTableName,
  RATE_TABLE_NAMES,
  type RateOverride, type RateTableName, type RateTables, validateRateOverride, withOverrides } from '../domain/law/index.ts';
import { notFound, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('law-rates-repo', {
  unknown_table: { fr: "table de taux inconnue « {table} » ; tables connues : {known}", en: "unknown rate table \"{table}\"; known tables: {known}" },
});

export interface StoredRateOverride extends RateOverride {
  note: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  table_name: string;
  effective_from: string;
  rate_percent: string;
  note: string | null;
  created_at: string;
  updated_at: string;
}

const toOverride = (r: Row): StoredRateOverride => ({
  table: r.table_name as RateTableName,
  from: r.effective_from as CalendarDate,
  ratePercent: r.rate_percent,
  note: r.note,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function listRateOverrides(q: Queryable): Promise<StoredRateOverride[]> {
  const rows = await q.query<Row>('SELECT * FROM rate_overrides ORDER BY table_name, effective_from');
  return rows.map(toOverride);
}

/** Add a rate, or correct the one already set for that table and date. */
export async function setRateOverride(
  q: Queryable,
  input: { table: string; from: string; ratePercent: string; note?: string | null },
): Promise<StoredRateOverride> {
  const o = validateRateOverride(input);
  const note = input.note?.trim() || null;
  const [row] = await q.query<Row>(
    `INSERT INTO rate_overrides (table_name, effective_from, rate_percent, note)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (table_name, effective_from)
     DO UPDATE SET rate_percent = EXCLUDED.rate_percent, note = EXCLUDED.note, updated_at = now()
     RETURNING *`,
    [o.table, o.from, o.ratePercent, note],
  );
  return toOverride(row!);
}

export async function removeRateOverride(q: Queryable, table: string, from: string): Promise<void> {
  if (!isRateTableName(table)) throw validation(E('unknown_table', { table, known: RATE_TABLE_NAMES.join(', ') }), { field: 'table' });
  calendarDate(from, { field: 'from' });
  const rows = await q.query('DELETE FROM rate_overrides WHERE table_name = $1 AND effective_from = $2 RETURNING table_name', [table, from]);
  if (rows.length === 0) throw notFound('rate override', `${table} ${from}`);
}

/** The shipped tables with every operator rate merged: what every computation should use. */
export async function loadRateTables(q: Queryable): Promise<RateTables> {
  return withOverrides(defaultRateTables(), await listRateOverrides(q));
}
