-- The debtor portal (issue 20, src/portal): a signed, expiring, revocable link per customer; what
-- the customer did through it; the organisation's rules for it.

-- Per organisation. No row: the defaults below (portal on, links of 60 days), and no link in any
-- message until the organisation says at which address the server is reached (public_url).
CREATE TABLE portal_settings (
  organisation_id           uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  enabled                   boolean NOT NULL DEFAULT true,
  public_url                text CHECK (public_url ~ '^https?://[^/?#\s]+(/[^?#\s]*)?$'),
  link_days                 integer NOT NULL DEFAULT 60 CHECK (link_days BETWEEN 1 AND 366),
  paid_hold_days            integer NOT NULL DEFAULT 5 CHECK (paid_hold_days BETWEEN 1 AND 30),
  promise_max_days          integer NOT NULL DEFAULT 30 CHECK (promise_max_days BETWEEN 1 AND 365),
  plan_max_instalments      integer NOT NULL DEFAULT 6 CHECK (plan_max_instalments BETWEEN 2 AND 36),
  plan_min_instalment_minor bigint NOT NULL DEFAULT 5000 CHECK (plan_min_instalment_minor >= 0),
  plan_max_first_days       integer NOT NULL DEFAULT 30 CHECK (plan_max_first_days BETWEEN 0 AND 365),
  -- A plan within these is accepted at once; any other waits for a person.
  plan_auto_accept          boolean NOT NULL DEFAULT true,
  plan_auto_max_days        integer NOT NULL DEFAULT 120 CHECK (plan_auto_max_days BETWEEN 1 AND 1100),
  plan_auto_max_minor       bigint CHECK (plan_auto_max_minor > 0),
  attachment_max_bytes      integer NOT NULL DEFAULT 5242880 CHECK (attachment_max_bytes BETWEEN 1024 AND 20971520),
  -- The pre-due message asks "is everything in order?" with answers on the portal.
  predue_check              boolean NOT NULL DEFAULT true,
  -- The payment link adapter (src/portal/payments): none by default.
  payment_provider          text CHECK (payment_provider IN ('stripe')),
  -- The adapter's settings; its secret sealed by src/secrets.ts.
  payment_settings          jsonb NOT NULL DEFAULT '{}',
  updated_at                timestamptz NOT NULL DEFAULT now()
);

-- One current link per customer. The link itself is never stored: it is derived from the nonce
-- with the instance key (HMAC), so a copy of the database alone opens no portal; it is looked up
-- by its SHA-256.
CREATE TABLE portal_links (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  nonce           text NOT NULL,
  token_sha256    text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  revoked_reason  text CHECK (revoked_reason IN ('revoked', 'expired', 'replaced')),
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX portal_links_token ON portal_links (token_sha256);
CREATE UNIQUE INDEX portal_links_current ON portal_links (organisation_id, customer_id) WHERE revoked_at IS NULL;

-- Every visit and every action through the portal, for the customer's timeline and as evidence.
-- submission_key: the form's own key, so a form sent twice (double click, reload) records once.
CREATE TABLE portal_events (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  link_id         bigint,
  kind            text NOT NULL CHECK (kind IN ('visit', 'document', 'paid', 'promise', 'plan', 'plan_request', 'dispute', 'contact', 'check_ok', 'check_problem', 'pay_online')),
  invoice_ids     bigint[],
  data            jsonb NOT NULL DEFAULT '{}',
  submission_key  text,
  address         text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, link_id) REFERENCES portal_links (organisation_id, id)
);
CREATE UNIQUE INDEX portal_events_once ON portal_events (organisation_id, customer_id, submission_key) WHERE submission_key IS NOT NULL;
CREATE INDEX portal_events_customer ON portal_events (organisation_id, customer_id, created_at);

-- Requests counted per key and fixed window (src/portal/rate.ts), shared by every server process.
CREATE TABLE portal_rate (
  key          text NOT NULL,
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL,
  PRIMARY KEY (key, window_start)
);

-- What the customer did on the portal that needs a person shows in Today with the call follow-ups.
ALTER TABLE call_followups ALTER COLUMN call_outcome_id DROP NOT NULL;
ALTER TABLE call_followups ADD COLUMN portal_event_id bigint;
ALTER TABLE call_followups ADD CONSTRAINT call_followups_source CHECK ((call_outcome_id IS NULL) <> (portal_event_id IS NULL));
ALTER TABLE call_followups ADD CONSTRAINT call_followups_portal FOREIGN KEY (organisation_id, portal_event_id) REFERENCES portal_events (organisation_id, id);
ALTER TABLE call_followups ADD CONSTRAINT call_followups_portal_once UNIQUE (organisation_id, portal_event_id, kind);
ALTER TABLE call_followups DROP CONSTRAINT call_followups_kind_check;
ALTER TABLE call_followups ADD CONSTRAINT call_followups_kind_check CHECK (kind IN ('reconciliation', 'payment_plan_request', 'callback', 'contact_update', 'dispute_document'));

-- The confirmation of a portal action that is no agreement ("I have paid", a plan waiting for a
-- person, a contact changed) is an action of template portal_receipt about that event.
ALTER TABLE actions ADD COLUMN portal_event_id bigint;
