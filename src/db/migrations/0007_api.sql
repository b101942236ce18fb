-- Getting invoices in and events out: users and sessions (web app), API keys, idempotency keys of
-- POST requests, webhook subscriptions with their outbox of deliveries, import runs, and the
-- payment details an e-invoice carries for its invoice.

-- ------------------------------------------------------------------ people and keys

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text NOT NULL CHECK (email = lower(email) AND email ~ '^[^\s@]+@[^\s@]+$'),
  name           text,
  language       text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
  -- "scrypt$N$r$p$salt$hash" (base64url): the parameters travel with each hash so they can rise later.
  password_hash  text NOT NULL,
  disabled_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_email_unique UNIQUE (email)
);

CREATE TABLE memberships (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('admin', 'collector', 'viewer')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Only the SHA-256 of a session token is stored: a leaked table opens no session.
CREATE TABLE sessions (
  token_hash      text PRIMARY KEY,
  organisation_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  FOREIGN KEY (organisation_id, user_id) REFERENCES memberships (organisation_id, user_id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_keys (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  name            text NOT NULL,
  -- The first characters of the key, shown in lists so a key can be recognised; never enough to use it.
  prefix          text NOT NULL,
  key_hash        text NOT NULL,
  scope           text NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz,
  revoked_at      timestamptz,
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT api_keys_hash_unique UNIQUE (key_hash)
);

-- A POST with an Idempotency-Key writes this row in the same transaction as its effects: a retry
-- collides on the key and gets the first response back; a concurrent twin waits on the unique index.
CREATE TABLE idempotency_keys (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  method          text NOT NULL,
  path            text NOT NULL,
  request_sha256  text NOT NULL,
  status_code     integer NOT NULL,
  response_body   text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, key)
);

-- ------------------------------------------------------------------ webhooks

CREATE TABLE webhook_subscriptions (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  url             text NOT NULL CHECK (url ~ '^https?://'),
  -- The signing secret must be readable to sign: it is a per-subscription random value, not a password.
  secret          text NOT NULL,
  events          text[] NOT NULL,
  description     text,
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id)
);

CREATE TABLE webhook_events (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  type            text NOT NULL CHECK (type IN ('invoice.paid', 'invoice.overdue', 'action.sent', 'action.failed', 'promise.broken',
                    'dispute.opened', 'dispute.resolved', 'customer.suspension_recommended', 'case.escalated', 'webhook.test')),
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id)
);

-- The outbox: one row per (event, subscription), written in the transaction that emitted the event.
CREATE TABLE webhook_deliveries (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  event_id        bigint NOT NULL,
  subscription_id bigint NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A worker leases a delivery while it posts it; an expired lease (crash) frees it again.
  leased_until    timestamptz,
  last_status_code integer,
  last_error      text,
  delivered_at    timestamptz,
  replay_of       bigint,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, event_id) REFERENCES webhook_events (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, subscription_id) REFERENCES webhook_subscriptions (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (organisation_id, event_id);

-- The delivery log: every attempt, with what the receiver answered.
CREATE TABLE webhook_attempts (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  delivery_id     bigint NOT NULL,
  attempted_at    timestamptz NOT NULL,
  status_code     integer,
  error           text,
  duration_ms     integer NOT NULL,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, delivery_id) REFERENCES webhook_deliveries (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (organisation_id, delivery_id);

-- ------------------------------------------------------------------ imports

CREATE TABLE import_runs (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  kind            text NOT NULL CHECK (kind IN ('customers', 'invoices', 'payments', 'fec', 'einvoice')),
  filename        text,
  sha256          text,
  outcome         text NOT NULL CHECK (outcome IN ('imported', 'rejected', 'dry_run')),
  rows_read       integer NOT NULL,
  counts          jsonb NOT NULL,
  -- The first rejected rows (line, column, reason); the full list is in the report returned.
  problems        jsonb NOT NULL DEFAULT '[]',
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id)
);

-- What an e-invoice says about how to pay it, and the original file it came from.
CREATE TABLE invoice_payment_details (
  organisation_id    uuid NOT NULL,
  invoice_id         bigint NOT NULL,
  payment_reference  text,
  payee_iban         text,
  payee_bic          text,
  source_format      text NOT NULL,
  profile            text,
  source_document_id bigint,
  PRIMARY KEY (organisation_id, invoice_id),
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, source_document_id) REFERENCES documents (organisation_id, id)
);
CREATE INDEX documents_sha_idx ON documents (organisation_id, sha256);
