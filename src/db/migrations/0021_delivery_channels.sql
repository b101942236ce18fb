-- Delivery channels as a registry (src/domain/channels.ts, src/delivery/channels/registry.ts):
-- the channels the database accepts are named once, by is_delivery_channel(), which both the
-- actions and the proof store check (adding a channel replaces this function, nothing else).
-- Actions gain `exported`: a local channel (no SMTP server, no SMS or registered-mail provider,
-- the print batch) wrote the message and nothing left; it becomes `sent` when a human confirms it.
-- Each channel's provider and its own settings move to one JSON column, checked by the provider's
-- declared settings when saved; secrets in it are sealed, or named as a server variable.

CREATE FUNCTION is_delivery_channel(c text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT c IN ('email', 'sms', 'letter', 'registered_letter', 'call_task', 'manual_task')
$$;

ALTER TABLE actions DROP CONSTRAINT actions_channel_check;
ALTER TABLE actions ADD CONSTRAINT actions_channel_check CHECK (is_delivery_channel(channel));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check CHECK (is_delivery_channel(channel));

ALTER TABLE actions DROP CONSTRAINT actions_status_check;
ALTER TABLE actions ADD CONSTRAINT actions_status_check
  CHECK (status IN ('planned', 'awaiting_approval', 'queued', 'sending', 'sent', 'exported', 'failed', 'uncertain', 'cancelled'));

-- A sent action stays sent; an exported one (its proof is kept, it may have been sent by hand)
-- only becomes sent (confirmed) or cancelled (it will not be sent).
CREATE OR REPLACE FUNCTION actions_sent_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'sent' AND NEW.status <> 'sent' THEN
    RAISE EXCEPTION 'action % was sent: its status cannot go back to %', OLD.id, NEW.status USING ERRCODE = 'RL001';
  END IF;
  IF OLD.status = 'exported' AND NEW.status NOT IN ('exported', 'sent', 'cancelled') THEN
    RAISE EXCEPTION 'action % was exported: it can only be confirmed sent or cancelled, not %', OLD.id, NEW.status USING ERRCODE = 'RL001';
  END IF;
  RETURN NEW;
END $$;

ALTER TABLE delivery_events DROP CONSTRAINT delivery_events_kind_check;
ALTER TABLE delivery_events ADD CONSTRAINT delivery_events_kind_check
  CHECK (kind IN ('handed_over', 'accepted', 'exported', 'refused_temporary', 'refused_permanent', 'uncertain', 'bounced',
                  'delivered', 'printed', 'deposited', 'receipt', 'returned', 'resolved_sent', 'resolved_not_sent',
                  'confirmed_sent', 'requeued', 'task_created', 'fallback', 'cancelled', 'approved', 'replied', 'auto_replied'));

-- {"sms": {"provider": "brevo", "options": {"sender": "ACME"}, "secrets": {"apiKey": "<sealed>"}, "secretEnv": {}}, ...}
-- (secrets sealed by src/secrets.ts; the former columns' values keep the context they were sealed with)
ALTER TABLE delivery_settings ADD COLUMN providers jsonb NOT NULL DEFAULT '{}'::jsonb;
UPDATE delivery_settings SET providers =
    CASE WHEN sms_provider = 'http' AND sms_url IS NOT NULL THEN jsonb_build_object('sms', jsonb_strip_nulls(jsonb_build_object(
      'provider', 'http',
      'options', jsonb_strip_nulls(jsonb_build_object('url', sms_url, 'sender', sms_sender)),
      'secrets', jsonb_strip_nulls(jsonb_build_object('token', CASE WHEN sms_token_env IS NULL THEN sms_token END)),
      'secretEnv', jsonb_strip_nulls(jsonb_build_object('token', sms_token_env)),
      -- Sealed as the column it was in: opened with that context (sealed again when changed).
      'secretContext', jsonb_build_object('token', organisation_id::text || ':sms_token'))))
    WHEN sms_sender IS NOT NULL THEN jsonb_build_object('sms', jsonb_build_object('provider', 'local', 'options', jsonb_build_object('sender', sms_sender)))
    ELSE '{}'::jsonb END
  || CASE WHEN registered_provider = 'http' AND registered_url IS NOT NULL THEN jsonb_build_object('registered_letter', jsonb_strip_nulls(jsonb_build_object(
      'provider', 'http',
      'options', jsonb_build_object('url', registered_url),
      'secrets', jsonb_strip_nulls(jsonb_build_object('token', CASE WHEN registered_token_env IS NULL THEN registered_token END)),
      'secretEnv', jsonb_strip_nulls(jsonb_build_object('token', registered_token_env)),
      'secretContext', jsonb_build_object('token', organisation_id::text || ':registered_token'))))
    ELSE '{}'::jsonb END;
ALTER TABLE delivery_settings
  DROP COLUMN sms_provider, DROP COLUMN sms_url, DROP COLUMN sms_token, DROP COLUMN sms_token_env, DROP COLUMN sms_sender,
  DROP COLUMN registered_provider, DROP COLUMN registered_url, DROP COLUMN registered_token, DROP COLUMN registered_token_env;
ALTER TABLE delivery_settings ADD CONSTRAINT delivery_settings_providers_object CHECK (jsonb_typeof(providers) = 'object');

-- The online payment link of documents, as a pattern with {invoice}, {amount}, {currency},
-- {reference}, {customer}: empty, no document mentions online payment.
ALTER TABLE document_branding ADD COLUMN payment_link text CHECK (payment_link IS NULL OR payment_link ~ '^https://');

-- action.exported: told when a local channel wrote a message (action.sent when it is confirmed sent).
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_type_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_type_check
  CHECK (type IN ('invoice.paid', 'invoice.overdue', 'action.sent', 'action.exported', 'action.failed',
                  'promise.created', 'promise.kept', 'promise.broken',
                  'payment_plan.created', 'payment_plan.completed', 'payment_plan.broken',
                  'dispute.opened', 'dispute.resolved', 'pause.created', 'pause.lifted',
                  'customer.suspension_recommended', 'case.escalated', 'webhook.test'));
