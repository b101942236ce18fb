-- Handing a customer's invoices over to a collection agency, a lawyer or a commissaire de justice:
-- what was handed over, to whom and when, the reminders stopped for those invoices (a pause of
-- reason 'handover'), and what the agent reports back (status, payments collected, fees).

CREATE TABLE handovers (
  organisation_id     uuid NOT NULL,
  id                  bigint GENERATED ALWAYS AS IDENTITY,
  customer_id         bigint NOT NULL,
  invoice_ids         bigint[] NOT NULL CHECK (cardinality(invoice_ids) > 0),
  agent_kind          text NOT NULL CHECK (agent_kind IN ('agency', 'lawyer', 'bailiff')),
  agent_name          text NOT NULL CHECK (length(agent_name) > 0),
  agent_reference     text,
  -- The reference of the case file handed over with it (relance case-file names its ZIP so).
  case_file_reference text NOT NULL,
  handed_over_on      date NOT NULL,
  handed_over_by      text NOT NULL,
  currency            char(3) NOT NULL,
  -- Open on the handed-over invoices that day.
  amount_minor        bigint NOT NULL CHECK (amount_minor > 0),
  recovered_minor     bigint NOT NULL DEFAULT 0 CHECK (recovered_minor >= 0),
  fees_minor          bigint NOT NULL DEFAULT 0 CHECK (fees_minor >= 0),
  status              text NOT NULL DEFAULT 'handed_over' CHECK (status IN ('handed_over', 'recovered', 'closed')),
  status_on           date NOT NULL,
  pause_id            bigint NOT NULL,
  note                text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, pause_id) REFERENCES pauses (organisation_id, id)
);
CREATE INDEX handovers_customer_idx ON handovers (organisation_id, customer_id);

-- Each report of the agent. Its reference (the agent's own id for the report) is unique per
-- handover: a report sent twice records nothing twice, the payment included.
CREATE TABLE handover_reports (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  handover_id     bigint NOT NULL,
  reference       text,
  reported_on     date NOT NULL,
  status          text CHECK (status IN ('handed_over', 'recovered', 'closed')),
  amount_minor    bigint CHECK (amount_minor > 0),
  paid_on         date,
  payment_id      bigint,
  fees_minor      bigint CHECK (fees_minor > 0),
  note            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT handover_reports_once UNIQUE (organisation_id, handover_id, reference),
  FOREIGN KEY (organisation_id, handover_id) REFERENCES handovers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, payment_id) REFERENCES payments (organisation_id, id)
);
