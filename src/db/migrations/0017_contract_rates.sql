-- An organisation's own contractual late-payment rate (issue 15): the rate its terms of sale
-- state, used for its late fees where a contractual rate applies (French B2B: at least three times
-- the taux légal, checked by the law engine for each half-year). The official tables
-- (rate_overrides, 0002) stay instance-wide and are the operator's alone (`relance rates set`).
CREATE TABLE organisation_contract_rates (
  organisation_id uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  -- Exact decimal text in percent, as rate_overrides.rate_percent.
  rate_percent    text NOT NULL CHECK (rate_percent ~ '^[0-9]{1,3}\.[0-9]{2,4}$'),
  note            text,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
