-- The web app: notes on a customer's timeline, and the pre-aggregated dashboard (KPIs and
-- per-customer balances) so a dashboard call reads one row instead of scanning the ledger.

CREATE TABLE customer_notes (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  invoice_id      bigint,
  body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  author          text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_notes_customer_idx ON customer_notes (organisation_id, customer_id, created_at);

-- One snapshot per organisation: the KPIs as of a day, recomputed in the background when stale
-- (a day passed, a few minutes went by, or the app changed the ledger). Readers never wait for it
-- once a first one exists.
CREATE TABLE dashboard_snapshots (
  organisation_id uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  as_of           date NOT NULL,
  computed_at     timestamptz NOT NULL,
  stale           boolean NOT NULL DEFAULT false,
  compute_ms      integer NOT NULL,
  payload         jsonb NOT NULL
);

-- Each customer's open and overdue amounts as of the last snapshot, for sorting the customer list
-- by balance without summing a million invoices per page (the rows shown are re-read live).
CREATE TABLE customer_balance_snapshots (
  organisation_id uuid NOT NULL,
  customer_id     bigint NOT NULL,
  open_minor      bigint NOT NULL,
  overdue_minor   bigint NOT NULL,
  oldest_due      date,
  PRIMARY KEY (organisation_id, customer_id)
);
CREATE INDEX customer_balance_snapshots_open_idx ON customer_balance_snapshots (organisation_id, open_minor DESC, customer_id);
CREATE INDEX customer_balance_snapshots_overdue_idx ON customer_balance_snapshots (organisation_id, overdue_minor DESC, customer_id);
