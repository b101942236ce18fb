-- Mail that comes back: bounces (delivery status notifications, RFC 3464), automatic replies
-- and customers' replies, kept exactly as received (append-only, like the proof store) and tied to
-- the action and the customer they answer when Relance can tell (the original Message-ID, or the
-- plus-addressed reply-to of the customer case). The same message ingested twice is kept once.

CREATE TABLE inbound_messages (
  organisation_id uuid NOT NULL REFERENCES organisations(id),
  id              bigint GENERATED ALWAYS AS IDENTITY,
  kind            text NOT NULL CHECK (kind IN ('bounce_hard', 'bounce_soft', 'delivered', 'auto_reply', 'reply', 'unmatched')),
  received_at     timestamptz NOT NULL,
  customer_id     bigint,
  action_id       bigint,
  delivery_id     bigint,
  -- How the message was tied to its action: the original Message-ID, the X-Relance-Action header
  -- of the returned copy, or the plus-addressed reply-to.
  matched_by      text CHECK (matched_by IN ('message_id', 'action_header', 'reply_address')),
  message_id      text,
  from_address    text,
  subject         text,
  content         bytea NOT NULL,
  sha256          text NOT NULL,
  detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT inbound_messages_once UNIQUE (organisation_id, sha256),
  CONSTRAINT inbound_messages_sha256 CHECK (sha256 = encode(sha256(content), 'hex')),
  FOREIGN KEY (organisation_id, action_id) REFERENCES actions (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id),
  FOREIGN KEY (organisation_id, delivery_id) REFERENCES deliveries (organisation_id, id)
);
CREATE INDEX inbound_messages_customer_idx ON inbound_messages (organisation_id, customer_id, received_at);
CREATE INDEX inbound_messages_action_idx ON inbound_messages (organisation_id, action_id);

CREATE TRIGGER inbound_messages_append_only BEFORE UPDATE OR DELETE ON inbound_messages FOR EACH ROW EXECUTE FUNCTION delivery_proof_immutable();
CREATE TRIGGER inbound_messages_no_truncate BEFORE TRUNCATE ON inbound_messages FOR EACH STATEMENT EXECUTE FUNCTION delivery_proof_immutable();

-- A reply (human or automatic) is an event of the action it answers, like a bounce.
ALTER TABLE delivery_events DROP CONSTRAINT delivery_events_kind_check;
ALTER TABLE delivery_events ADD CONSTRAINT delivery_events_kind_check CHECK (kind IN (
  'handed_over', 'accepted', 'refused_temporary', 'refused_permanent', 'uncertain', 'bounced', 'delivered', 'printed', 'deposited',
  'receipt', 'returned', 'resolved_sent', 'resolved_not_sent', 'task_created', 'fallback', 'cancelled', 'approved', 'replied', 'auto_replied'));
