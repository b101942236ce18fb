-- A credit controller's day in the web app (issue 19).
-- A call the controller made without a planned call task (the customer rang, or a call on the
-- spot from the customer page) is recorded like any other, with no task behind it.
ALTER TABLE call_outcomes ALTER COLUMN call_task_id DROP NOT NULL;

-- Who looks after a customer's account (a user's e-mail): the "my accounts" filter reads it.
ALTER TABLE customers ADD COLUMN owner text CHECK (owner IS NULL OR length(owner) BETWEEN 3 AND 320);
CREATE INDEX customers_owner_idx ON customers (organisation_id, owner) WHERE owner IS NOT NULL;

-- A note may ask to come back to the account on a day: it reappears in Today from that day until done.
ALTER TABLE customer_notes ADD COLUMN follow_up_on date;
ALTER TABLE customer_notes ADD COLUMN follow_up_done_at timestamptz;
CREATE INDEX customer_notes_follow_up_idx ON customer_notes (organisation_id, follow_up_on) WHERE follow_up_on IS NOT NULL AND follow_up_done_at IS NULL;
