-- Legal rates added by the operator (`relance rates set`, the API, the settings page) on top of the
-- tables shipped in src/domain/law/rates.ts: a newer ECB rate, French taux légal, Basiszinssatz or
-- Bank Rate once published, or a correction.
--
-- Instance-wide, not per organisation: these rates are public facts, the same for every organisation
-- on the instance, so one operator entry serves them all and no organisation can compute with a
-- different "official" rate than another. (Contractual rates are per invoice/organisation and live
-- elsewhere.)
--
-- The rate is exact decimal text in percent ("2.15"), never a float; the code parses it to a scaled
-- integer. Text rather than numeric because numeric would come back as bigint for "2.00" and as a
-- string for "2.15" through the shared type parsers.
CREATE TABLE rate_overrides (
  table_name      text NOT NULL CHECK (table_name ~ '^[a-z][a-z0-9-]{1,40}$'),
  effective_from  date NOT NULL,
  rate_percent    text NOT NULL CHECK (rate_percent ~ '^-?[0-9]{1,3}\.[0-9]{2,4}$'),
  note            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- One rate per table and date: setting it again corrects it (upsert), never a duplicate.
  PRIMARY KEY (table_name, effective_from)
);
