-- The dunning engine: scenarios and their versions, assignments, pauses, disputes, promises,
-- payment plans, the actions the daily cycle materialises, and the per-invoice step records that
-- make "never the same reminder twice" a database guarantee.

CREATE TABLE scenarios (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  key             text NOT NULL,
  name            text NOT NULL,
  version         integer NOT NULL DEFAULT 1,
  definition      jsonb NOT NULL,
  is_default      boolean NOT NULL DEFAULT false,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT scenarios_key_unique UNIQUE (organisation_id, key)
);
CREATE UNIQUE INDEX scenarios_one_default ON scenarios (organisation_id) WHERE is_default;

-- Every version a scenario ever had: an action names the version that planned it.
CREATE TABLE scenario_versions (
  organisation_id uuid NOT NULL,
  scenario_id     bigint NOT NULL,
  version         integer NOT NULL,
  definition      jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, scenario_id, version),
  FOREIGN KEY (organisation_id, scenario_id) REFERENCES scenarios (organisation_id, id) ON DELETE CASCADE
);

-- Most specific wins: invoice, then customer, then tag (lowest priority number), then the default.
CREATE TABLE scenario_assignments (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  scenario_id     bigint NOT NULL,
  tag             text,
  customer_id     bigint,
  invoice_id      bigint,
  priority        integer NOT NULL DEFAULT 100,
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT scenario_assignments_one_target CHECK (num_nonnulls(tag, customer_id, invoice_id) = 1),
  FOREIGN KEY (organisation_id, scenario_id) REFERENCES scenarios (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX scenario_assignments_tag ON scenario_assignments (organisation_id, tag) WHERE tag IS NOT NULL;
CREATE UNIQUE INDEX scenario_assignments_customer ON scenario_assignments (organisation_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE UNIQUE INDEX scenario_assignments_invoice ON scenario_assignments (organisation_id, invoice_id) WHERE invoice_id IS NOT NULL;

-- A pause covers one invoice, or a whole customer when invoice_id is null, from starts_on until
-- ends_on (planned end, exclusive) or lifted_on (when it was ended early), whichever comes first.
CREATE TABLE pauses (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  invoice_id      bigint,
  reason          text NOT NULL CHECK (reason IN ('dispute', 'promise_to_pay', 'payment_plan', 'manual_hold', 'insolvency', 'other')),
  starts_on       date NOT NULL,
  ends_on         date,
  lifted_on       date,
  note            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT pauses_end_after_start CHECK (ends_on IS NULL OR ends_on > starts_on),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX pauses_customer_idx ON pauses (organisation_id, customer_id);

CREATE TABLE disputes (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  invoice_id      bigint,
  reason          text NOT NULL,
  opened_on       date NOT NULL,
  resolved_on     date,
  resolution      text,
  pause_id        bigint NOT NULL,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, pause_id) REFERENCES pauses (organisation_id, id)
);

CREATE TABLE promises (
  organisation_id   uuid NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  customer_id       bigint NOT NULL,
  invoice_ids       bigint[] NOT NULL,
  promised_on       date NOT NULL,
  currency          char(3) NOT NULL,
  amount_minor      bigint NOT NULL CHECK (amount_minor > 0),
  open_at_promise_minor bigint NOT NULL,
  status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'kept', 'broken')),
  closed_on         date,
  pause_id          bigint NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, pause_id) REFERENCES pauses (organisation_id, id)
);
CREATE INDEX promises_open_idx ON promises (organisation_id) WHERE status = 'open';

CREATE TABLE payment_plans (
  organisation_id   uuid NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  customer_id       bigint NOT NULL,
  invoice_ids       bigint[] NOT NULL,
  currency          char(3) NOT NULL,
  open_at_start_minor bigint NOT NULL,
  started_on        date NOT NULL,
  grace_days        integer NOT NULL DEFAULT 5,
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'broken')),
  closed_on         date,
  pause_id          bigint NOT NULL,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, pause_id) REFERENCES pauses (organisation_id, id)
);

CREATE TABLE payment_plan_instalments (
  organisation_id uuid NOT NULL,
  plan_id         bigint NOT NULL,
  seq             integer NOT NULL,
  due_date        date NOT NULL,
  amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
  PRIMARY KEY (organisation_id, plan_id, seq),
  FOREIGN KEY (organisation_id, plan_id) REFERENCES payment_plans (organisation_id, id) ON DELETE CASCADE
);

-- What a human must do: calls are actions; these are the follow-ups the engine raises itself.
CREATE TABLE tasks (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('broken_promise', 'missed_instalment', 'other')),
  source_id       bigint NOT NULL,
  due_on          date NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
  note            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT tasks_once UNIQUE (organisation_id, kind, source_id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);

-- One message or task the engine decided. dedupe_key (day, customer or invoice, channel) is
-- unique: a rerun, or a second process racing, collides on it and adds nothing.
CREATE TABLE actions (
  organisation_id  uuid NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  dedupe_key       text NOT NULL,
  customer_id      bigint NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'registered_letter', 'call_task', 'manual_task')),
  fallback_from    text,
  tone             text NOT NULL,
  template         text NOT NULL,
  step_offset      integer NOT NULL,
  scenario_id      bigint NOT NULL,
  scenario_version integer NOT NULL,
  planned_on       date NOT NULL,
  send_after       timestamptz NOT NULL,
  status           text NOT NULL CHECK (status IN ('planned', 'awaiting_approval', 'queued', 'sending', 'sent', 'failed', 'uncertain', 'cancelled')),
  status_reason    text,
  hold_reason      text,
  -- Set for the reminder of one instalment of a payment plan (template 'instalment').
  payment_plan_id  bigint,
  instalment_seq   integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT actions_once UNIQUE (organisation_id, dedupe_key),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX actions_customer_idx ON actions (organisation_id, customer_id, planned_on);
CREATE INDEX actions_pending_idx ON actions (organisation_id, status) WHERE status IN ('planned', 'awaiting_approval', 'queued');

-- Per invoice and step (offset:channel): planned (with its action), skipped (with the reason), or
-- cancelled. The primary key is the promise "never the same reminder twice" for an invoice.
CREATE TABLE step_records (
  organisation_id uuid NOT NULL,
  invoice_id      bigint NOT NULL,
  step_key        text NOT NULL,
  step_offset     integer NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('planned', 'skipped', 'cancelled')),
  reason          text,
  action_id       bigint,
  recorded_on     date NOT NULL,
  -- Earlier steps that were due at the same time and skipped because this later one went out
  -- (catch-up after downtime): kept on this record rather than one row each, so catching up a
  -- whole ledger writes one row per invoice.
  superseded      text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (organisation_id, invoice_id, step_key),
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, action_id) REFERENCES actions (organisation_id, id)
);
CREATE INDEX step_records_action_idx ON step_records (organisation_id, action_id) WHERE action_id IS NOT NULL;

CREATE TABLE engine_settings (
  organisation_id      uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  stale_bank_days      integer NOT NULL DEFAULT 3 CHECK (stale_bank_days BETWEEN 1 AND 60),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Each run of the daily cycle, with what it decided and whether sending was held.
CREATE TABLE cycle_runs (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  run_on          date NOT NULL,
  actions_created integer NOT NULL,
  steps_skipped   integer NOT NULL,
  hold_reason     text,
  finished_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id)
);

-- When the planner next has something to decide for an invoice: NULL = evaluate at the next run,
-- 'infinity' = nothing left (paid, no step left, paused without end). The daily cycle reads only
-- invoices whose day has come, through this index, instead of every open invoice.
ALTER TABLE invoices ADD COLUMN next_step_on date;
CREATE INDEX invoices_next_step_idx ON invoices (organisation_id, next_step_on);

-- An undone allocation or write-off reopens the invoice: the planner must look at it again.
CREATE OR REPLACE FUNCTION reopen_for_planning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE invoices i SET next_step_on = NULL
    FROM (SELECT DISTINCT organisation_id, invoice_id FROM changed) d
   WHERE i.organisation_id = d.organisation_id AND i.id = d.invoice_id AND i.next_step_on IS NOT NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER allocations_reopen AFTER DELETE ON allocations
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION reopen_for_planning();
CREATE TRIGGER write_offs_reopen AFTER DELETE ON write_offs
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION reopen_for_planning();

-- Events told once per invoice (webhooks invoice.overdue / invoice.paid), keyed so a rerun or a
-- racing process cannot tell them twice.
CREATE TABLE invoice_notices (
  organisation_id uuid NOT NULL,
  invoice_id      bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('overdue', 'paid')),
  noticed_on      date NOT NULL,
  PRIMARY KEY (organisation_id, invoice_id, kind),
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE
);
