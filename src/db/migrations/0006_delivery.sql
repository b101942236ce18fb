-- Delivery: the outbox columns on the engine's actions, per-organisation channel settings, the
-- proof store (every message kept as it went out, append-only: the database refuses to change or
-- delete it), call tasks and their outcomes, SMS and registered-letter provider records.

-- ------------------------------------------------------------------ outbox

-- An action is claimed by one worker at a time (lease_owner until lease_until; a dead worker's
-- lease expires). handed_over_at is committed *before* the first byte of the message leaves: after
-- a crash, an action without it was certainly not sent (retried), one with it may have been
-- (uncertain, for a human), so nothing is ever sent twice.
ALTER TABLE actions
  ADD COLUMN attempts           integer NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt_at    timestamptz,
  ADD COLUMN lease_owner        text,
  ADD COLUMN lease_until        timestamptz,
  ADD COLUMN handed_over_at     timestamptz,
  ADD COLUMN provider           text,
  ADD COLUMN provider_message_id text,
  ADD COLUMN last_error         text,
  ADD COLUMN sent_at            timestamptz,
  ADD COLUMN approved_by        text,
  ADD COLUMN approved_at        timestamptz,
  ADD COLUMN cancelled_by       text,
  ADD COLUMN resolved_by        text,
  ADD COLUMN fallback_action_id bigint,
  ADD CONSTRAINT actions_lease_pair CHECK ((lease_owner IS NULL) = (lease_until IS NULL));

CREATE INDEX actions_outbox_due_idx ON actions ((coalesce(next_attempt_at, send_after)), id)
  WHERE status = 'queued' AND hold_reason IS NULL;
CREATE INDEX actions_outbox_lease_idx ON actions (lease_until) WHERE status = 'sending';

-- ------------------------------------------------------------------ settings

-- Secrets (SMTP password, provider tokens) may be stored here or, better, named by an environment
-- variable (*_env) read by the worker; they are never printed or logged.
CREATE TABLE delivery_settings (
  organisation_id      uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  smtp_host            text,
  smtp_port            integer CHECK (smtp_port BETWEEN 1 AND 65535),
  smtp_security        text NOT NULL DEFAULT 'starttls' CHECK (smtp_security IN ('none', 'starttls', 'tls')),
  smtp_user            text,
  smtp_password        text,
  smtp_password_env    text,
  smtp_pool_size       integer NOT NULL DEFAULT 5 CHECK (smtp_pool_size BETWEEN 1 AND 50),
  from_address         text,
  from_name            text,
  -- Base reply address; replies go to local+c<customer>-a<action>@domain so they can be matched.
  reply_to             text,
  sms_provider         text NOT NULL DEFAULT 'local' CHECK (sms_provider IN ('local', 'http')),
  sms_url              text,
  sms_token            text,
  sms_token_env        text,
  sms_sender           text,
  registered_provider  text NOT NULL DEFAULT 'local' CHECK (registered_provider IN ('local', 'http')),
  registered_url       text,
  registered_token     text,
  registered_token_env text,
  call_assignee        text NOT NULL DEFAULT 'team:recouvrement',
  max_attempts         integer NOT NULL DEFAULT 8 CHECK (max_attempts BETWEEN 1 AND 50),
  -- Messages per minute and channel: {"email": 600, "sms": 60, ...}; absent channels use defaults.
  rate_limits          jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Fixed one-minute windows per organisation and channel; the upsert's row lock makes concurrent
-- workers share one budget.
CREATE TABLE delivery_rate_usage (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  channel         text NOT NULL,
  window_start    timestamptz NOT NULL,
  used            integer NOT NULL CHECK (used >= 0),
  PRIMARY KEY (organisation_id, channel, window_start)
);

-- An address that bounced or a number that turned out wrong: not used again for this contact.
CREATE TABLE contact_address_status (
  organisation_id uuid NOT NULL,
  contact_id      bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('email', 'phone')),
  value           text NOT NULL,
  invalid_since   timestamptz NOT NULL DEFAULT now(),
  reason          text NOT NULL,
  PRIMARY KEY (organisation_id, contact_id, kind, value),
  FOREIGN KEY (organisation_id, contact_id) REFERENCES contacts (organisation_id, id) ON DELETE CASCADE
);

-- ------------------------------------------------------------------ proof

-- One row per message handed over (an email to the SMTP server, an SMS to the provider, a letter
-- to the print batch or the registered-mail provider), with the exact bytes: the .eml, the text,
-- the PDF. Written once, never changed, never deleted.
CREATE TABLE deliveries (
  organisation_id uuid NOT NULL REFERENCES organisations(id),
  id              bigint GENERATED ALWAYS AS IDENTITY,
  action_id       bigint NOT NULL,
  attempt         integer NOT NULL,
  customer_id     bigint NOT NULL,
  channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'letter', 'registered_letter')),
  provider        text NOT NULL,
  recipients      jsonb NOT NULL,
  subject         text,
  message_id      text,
  invoice_ids     bigint[] NOT NULL,
  content_type    text NOT NULL,
  content         bytea NOT NULL,
  sha256          text NOT NULL,
  handed_over_at  timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT deliveries_once UNIQUE (organisation_id, action_id, attempt),
  CONSTRAINT deliveries_sha256 CHECK (sha256 = encode(sha256(content), 'hex')),
  FOREIGN KEY (organisation_id, action_id) REFERENCES actions (organisation_id, id)
);
CREATE INDEX deliveries_customer_idx ON deliveries (organisation_id, customer_id, handed_over_at);
CREATE INDEX deliveries_message_id_idx ON deliveries (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX deliveries_day_idx ON deliveries (organisation_id, channel, handed_over_at);

-- What happened to an action or a delivery afterwards: accepted (with the provider's id and
-- response), refused, uncertain, bounced, delivered, printed, a registered letter's receipt...
CREATE TABLE delivery_events (
  organisation_id uuid NOT NULL REFERENCES organisations(id),
  id              bigint GENERATED ALWAYS AS IDENTITY,
  action_id       bigint NOT NULL,
  delivery_id     bigint,
  kind            text NOT NULL CHECK (kind IN ('handed_over', 'accepted', 'refused_temporary', 'refused_permanent', 'uncertain', 'bounced',
                                                'delivered', 'printed', 'deposited', 'receipt', 'returned', 'resolved_sent', 'resolved_not_sent',
                                                'task_created', 'fallback', 'cancelled', 'approved')),
  at              timestamptz NOT NULL,
  provider_message_id text,
  detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, action_id) REFERENCES actions (organisation_id, id),
  FOREIGN KEY (organisation_id, delivery_id) REFERENCES deliveries (organisation_id, id)
);
CREATE INDEX delivery_events_action_idx ON delivery_events (organisation_id, action_id);

-- ------------------------------------------------------------------ providers

CREATE TABLE sms_messages (
  organisation_id     uuid NOT NULL,
  delivery_id         bigint NOT NULL,
  to_number           text NOT NULL CHECK (to_number ~ '^\+[1-9][0-9]{1,14}$'),
  encoding            text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
  segments            integer NOT NULL CHECK (segments >= 1),
  provider            text NOT NULL,
  provider_message_id text,
  PRIMARY KEY (organisation_id, delivery_id),
  FOREIGN KEY (organisation_id, delivery_id) REFERENCES deliveries (organisation_id, id)
);

CREATE TABLE registered_letters (
  organisation_id  uuid NOT NULL,
  delivery_id      bigint NOT NULL,
  provider         text NOT NULL,
  tracking_number  text NOT NULL,
  status           text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'deposited', 'delivered', 'returned')),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, delivery_id),
  CONSTRAINT registered_letters_tracking UNIQUE (organisation_id, provider, tracking_number),
  FOREIGN KEY (organisation_id, delivery_id) REFERENCES deliveries (organisation_id, id)
);

-- Proof documents returned by the provider (deposit slip, signed acknowledgement of receipt).
CREATE TABLE registered_letter_proofs (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  delivery_id     bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('deposit', 'receipt', 'return')),
  at              timestamptz NOT NULL,
  content_type    text,
  content         bytea,
  sha256          text,
  detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT registered_letter_proofs_sha256 CHECK (content IS NULL OR sha256 = encode(sha256(content), 'hex')),
  FOREIGN KEY (organisation_id, delivery_id) REFERENCES registered_letters (organisation_id, delivery_id)
);

-- ------------------------------------------------------------------ calls and manual tasks

CREATE TABLE call_tasks (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  action_id       bigint NOT NULL,
  customer_id     bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('call', 'manual')),
  assigned_to     text NOT NULL,
  script          text,
  phone_numbers   text[] NOT NULL DEFAULT '{}',
  invoices        jsonb NOT NULL,
  due_on          date NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  closed_at       timestamptz,
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT call_tasks_once UNIQUE (organisation_id, action_id),
  FOREIGN KEY (organisation_id, action_id) REFERENCES actions (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id)
);
CREATE INDEX call_tasks_open_idx ON call_tasks (organisation_id, assigned_to, due_on) WHERE status = 'open';

CREATE TABLE call_outcomes (
  organisation_id    uuid NOT NULL,
  id                 bigint GENERATED ALWAYS AS IDENTITY,
  call_task_id       bigint NOT NULL,
  customer_id        bigint NOT NULL,
  outcome            text NOT NULL CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'promise_to_pay', 'dispute', 'already_paid', 'payment_plan_requested')),
  non_payment_reason text CHECK (non_payment_reason IN ('forgot', 'invoice_not_received', 'missing_purchase_order', 'dispute', 'cash_difficulty', 'bad_faith', 'other')),
  note               text,
  promised_on        date,
  promised_minor     bigint CHECK (promised_minor > 0),
  dispute_reason     text,
  phone_number       text,
  promise_id         bigint,
  dispute_id         bigint,
  recorded_by        text NOT NULL,
  recorded_on        date NOT NULL,
  recorded_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT call_outcomes_promise CHECK (outcome <> 'promise_to_pay' OR (promised_on IS NOT NULL AND promised_minor IS NOT NULL)),
  CONSTRAINT call_outcomes_dispute CHECK (outcome <> 'dispute' OR dispute_reason IS NOT NULL),
  FOREIGN KEY (organisation_id, call_task_id) REFERENCES call_tasks (organisation_id, id)
);

-- Follow-ups an outcome raises for a human: check the bank for a payment the customer says was
-- made, prepare a payment plan, call back.
CREATE TABLE call_followups (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  call_outcome_id bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('reconciliation', 'payment_plan_request', 'callback')),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
  note            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT call_followups_once UNIQUE (organisation_id, call_outcome_id, kind),
  FOREIGN KEY (organisation_id, call_outcome_id) REFERENCES call_outcomes (organisation_id, id)
);

-- ------------------------------------------------------------------ append-only

CREATE FUNCTION delivery_proof_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is an append-only proof store: rows cannot be % ', TG_TABLE_NAME,
    CASE TG_OP WHEN 'UPDATE' THEN 'modified' WHEN 'DELETE' THEN 'deleted' ELSE 'truncated' END
    USING ERRCODE = 'RL001';
END $$;

CREATE TRIGGER deliveries_append_only BEFORE UPDATE OR DELETE ON deliveries FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER deliveries_no_truncate BEFORE TRUNCATE ON deliveries FOR EACH STATEMENT EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER delivery_events_append_only BEFORE UPDATE OR DELETE ON delivery_events FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER delivery_events_no_truncate BEFORE TRUNCATE ON delivery_events FOR EACH STATEMENT EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER sms_messages_append_only BEFORE UPDATE OR DELETE ON sms_messages FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER registered_letter_proofs_append_only BEFORE UPDATE OR DELETE ON registered_letter_proofs FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER call_outcomes_append_only BEFORE UPDATE OR DELETE ON call_outcomes FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();

-- A registered letter keeps its provider, and the tracking number a provider gave; only the
-- provisional number of a letter posted by hand (provider 'local') is replaced by the real one.
CREATE FUNCTION registered_letters_keep_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.provider <> OLD.provider OR NEW.delivery_id <> OLD.delivery_id OR NEW.organisation_id <> OLD.organisation_id
     OR (NEW.tracking_number <> OLD.tracking_number AND (OLD.provider <> 'local' OR OLD.tracking_number NOT LIKE 'LOCAL-%')) THEN
    RAISE EXCEPTION 'a registered letter keeps its provider and tracking number' USING ERRCODE = 'RL001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER registered_letters_identity BEFORE UPDATE ON registered_letters FOR EACH ROW EXECUTE FUNCTION registered_letters_keep_identity();
CREATE TRIGGER registered_letters_no_delete BEFORE DELETE ON registered_letters FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();

-- A sent action stays sent: its proof refers to it.
CREATE FUNCTION actions_sent_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'sent' AND NEW.status <> 'sent' THEN
    RAISE EXCEPTION 'action % was sent: its status cannot go back to %', OLD.id, NEW.status USING ERRCODE = 'RL001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER actions_sent_final BEFORE UPDATE OF status ON actions FOR EACH ROW EXECUTE FUNCTION actions_sent_is_final();
