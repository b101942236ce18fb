/**
 * Operator-added legal rates (table rate_overrides, instance-wide: see migration 0002), written only
 * by the instance operator (`relance rates set` on the server): a tenant asking through the web app
 * or the API gets `ratesAreTheOperators()` (403), since one organisation's change would move every
 * other organisation's late fees. Validation is the domain's (`validateRateOverride`), so the CLI
 * and the API refuse the same inputs with the same messages.
 *
 * An organisation's own contractual rate (organisation_contract_rates, migration 0017) is the
 * organisation's to set: `getContractRate` / `setContractRate`.
 */
import type { Queryable } from '../db/driver.ts';
import { type CalendarDate, calendarDate } from '../domain/dates.ts';
import {
  defaultRateTables,
  formatRatePercent,
  isRateTableName,
  parseRatePercent,
  RATE_SCALE,
  RATE_TABLE_NAMES,
  type RateOverride, type RateTableName, type RateTables, validateRateOverride, withOverrides } from '../domain/law/index.ts';
import { ERROR_CODES, notFound, RelanceError, validation } from '../errors.ts';
import { defineErrors } from '../i18n/index.ts';

const E = defineErrors('law-rates-repo', {
  operator_only: {
    fr: "les tables de taux légaux (BCE, taux légal…) valent pour toute l’instance : seul son exploitant les complète, avec `relance rates set` sur le serveur ; une organisation peut enregistrer son propre taux contractuel",
    en: "the legal rate tables (ECB, taux légal…) are instance-wide: only the instance's operator adds to them, with `relance rates set` on the server; an organisation may set its own contractual rate",
  },
  contract_range: { fr: "un taux contractuel est compris entre 0 et 100 %, reçu « {rate} »", en: "a contractual rate is between 0 and 100 %, got \"{rate}\"" },
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

/** What a tenant (web app, API key) gets when it tries to change an official rate table. */
export function ratesAreTheOperators(): RelanceError {
  return new RelanceError(ERROR_CODES.FORBIDDEN, E('operator_only'), { where: { field: 'table' } });
}

export interface ContractRate {
  ratePercent: string;
  note: string | null;
  updatedAt: string;
}

/** The organisation's contractual late-payment rate, or null when its terms state none. */
export async function getContractRate(q: Queryable, orgId: string): Promise<ContractRate | null> {
  const [r] = await q.query<{ rate_percent: string; note: string | null; updated_at: string }>(
    'SELECT rate_percent, note, updated_at FROM organisation_contract_rates WHERE organisation_id = $1',
    [orgId],
  );
  return r ? { ratePercent: r.rate_percent, note: r.note, updatedAt: String(r.updated_at) } : null;
}

/** Sets (or, with null, removes) the organisation's contractual rate: this organisation's fees only. */
export async function setContractRate(q: Queryable, orgId: string, input: { ratePercent: string; note?: string | null } | null): Promise<ContractRate | null> {
  if (input === null) {
    await q.query('DELETE FROM organisation_contract_rates WHERE organisation_id = $1', [orgId]);
    return null;
  }
  const scaled = parseRatePercent(String(input.ratePercent).replace(',', '.'), { field: 'ratePercent' });
  if (scaled < 0n || scaled > 100n * RATE_SCALE) throw validation(E('contract_range', { rate: String(input.ratePercent) }), { field: 'ratePercent' });
  const [r] = await q.query<{ rate_percent: string; note: string | null; updated_at: string }>(
    `INSERT INTO organisation_contract_rates (organisation_id, rate_percent, note) VALUES ($1, $2, $3)
     ON CONFLICT (organisation_id) DO UPDATE SET rate_percent = EXCLUDED.rate_percent, note = EXCLUDED.note, updated_at = now()
     RETURNING rate_percent, note, updated_at`,
    [orgId, formatRatePercent(scaled), input.note?.trim() || null],
  );
  return { ratePercent: r!.rate_percent, note: r!.note, updatedAt: String(r!.updated_at) };
}
