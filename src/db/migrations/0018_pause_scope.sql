-- A pause (and the dispute, promise or payment plan behind it) covers the invoices it names, or
-- the whole customer only when it names none (invoice_ids NULL): a promise on one invoice must not
-- stop the customer's other invoices. One column of ids replaces the single invoice_id, since a
-- promise or a plan usually covers several invoices.

ALTER TABLE pauses ADD COLUMN invoice_ids bigint[];
UPDATE pauses SET invoice_ids = ARRAY[invoice_id] WHERE invoice_id IS NOT NULL;
-- Promises and plans recorded before covered their whole customer: they now cover what they are about.
UPDATE pauses p SET invoice_ids = pr.invoice_ids FROM promises pr
 WHERE pr.organisation_id = p.organisation_id AND pr.pause_id = p.id AND p.invoice_ids IS NULL AND cardinality(pr.invoice_ids) > 0;
UPDATE pauses p SET invoice_ids = pp.invoice_ids FROM payment_plans pp
 WHERE pp.organisation_id = p.organisation_id AND pp.pause_id = p.id AND p.invoice_ids IS NULL AND cardinality(pp.invoice_ids) > 0;
ALTER TABLE pauses DROP COLUMN invoice_id;
ALTER TABLE pauses ADD CONSTRAINT pauses_invoices_named CHECK (invoice_ids IS NULL OR cardinality(invoice_ids) > 0);

ALTER TABLE disputes ADD COLUMN invoice_ids bigint[];
UPDATE disputes SET invoice_ids = ARRAY[invoice_id] WHERE invoice_id IS NOT NULL;
ALTER TABLE disputes DROP COLUMN invoice_id;
ALTER TABLE disputes ADD CONSTRAINT disputes_invoices_named CHECK (invoice_ids IS NULL OR cardinality(invoice_ids) > 0);

-- What the foreign key on invoice_id promised, for every id of the list: each is an invoice of the
-- same organisation and customer. Pauses and disputes are written one at a time: a row trigger.
CREATE FUNCTION check_covered_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing bigint;
BEGIN
  IF NEW.invoice_ids IS NULL THEN RETURN NEW; END IF;
  SELECT x.id INTO missing FROM unnest(NEW.invoice_ids) AS x(id)
   WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = NEW.organisation_id AND i.id = x.id AND i.customer_id = NEW.customer_id)
   LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION '% covers invoice % which is not an invoice of customer %', TG_TABLE_NAME, missing, NEW.customer_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = TG_ARGV[0];
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER pauses_invoices_check BEFORE INSERT OR UPDATE OF invoice_ids, customer_id ON pauses
  FOR EACH ROW EXECUTE FUNCTION check_covered_invoices('pauses_invoices_of_customer');
CREATE TRIGGER disputes_invoices_check BEFORE INSERT OR UPDATE OF invoice_ids, customer_id ON disputes
  FOR EACH ROW EXECUTE FUNCTION check_covered_invoices('disputes_invoices_of_customer');

-- An acknowledgement queued when a promise, a dispute or a payment plan is recorded names it.
ALTER TABLE actions ADD COLUMN promise_id bigint, ADD COLUMN dispute_id bigint;

-- Whether recording an agreement queues its acknowledgement to the debtor (on by default).
ALTER TABLE engine_settings ADD COLUMN acknowledge_agreements boolean NOT NULL DEFAULT true;

-- Every state change of an agreement or a pause is told (src/engine/events.ts).
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_type_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_type_check CHECK (type IN (
  'invoice.paid', 'invoice.overdue', 'action.sent', 'action.failed',
  'promise.created', 'promise.kept', 'promise.broken',
  'payment_plan.created', 'payment_plan.completed', 'payment_plan.broken',
  'dispute.opened', 'dispute.resolved', 'pause.created', 'pause.lifted',
  'customer.suspension_recommended', 'case.escalated', 'webhook.test'));
