-- The daily cycle's bookkeeping, made cheap enough to catch up a whole ledger at once.
--
-- 1. When the planner next has something to decide for an invoice moves from a column of
--    invoices to a narrow table of its own. Setting it on every invoice of a freshly imported
--    ledger rewrote each wide invoice row and every index of invoices; here it is one small row.
--    No row = evaluate at the next run; 'infinity' = nothing left to decide until something
--    happens (a payment undone, a pause lifted, a scenario changed: those delete the row).
CREATE TABLE invoice_schedule (
  organisation_id uuid NOT NULL,
  invoice_id      bigint NOT NULL,
  next_step_on    date NOT NULL,
  PRIMARY KEY (organisation_id, invoice_id)
) WITH (fillfactor = 80);

INSERT INTO invoice_schedule (organisation_id, invoice_id, next_step_on)
  SELECT organisation_id, id, next_step_on FROM invoices WHERE next_step_on IS NOT NULL;
DROP INDEX invoices_next_step_idx;
ALTER TABLE invoices DROP COLUMN next_step_on;

CREATE OR REPLACE FUNCTION reopen_for_planning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM invoice_schedule s
   USING (SELECT DISTINCT organisation_id, invoice_id FROM changed) d
   WHERE s.organisation_id = d.organisation_id AND s.invoice_id = d.invoice_id;
  RETURN NULL;
END $$;

-- 2. Step records are checked per statement, not per row. The two foreign keys cost two lookups
--    per inserted row (1.7 million for the first run over a million invoices); one anti-join over
--    the statement's new rows gives the same refusal. Like the ledger's settled totals, the check
--    takes no row locks: an invoice deleted by a concurrent transaction could leave records
--    behind, which nothing reads (invoices are never deleted once followed up; see
--    refuse_delete_settled) and which the deletion trigger below removes otherwise.
ALTER TABLE step_records DROP CONSTRAINT step_records_organisation_id_invoice_id_fkey;
ALTER TABLE step_records DROP CONSTRAINT step_records_organisation_id_action_id_fkey;

CREATE FUNCTION step_records_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
BEGIN
  SELECT n.invoice_id INTO bad FROM added n
   WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = n.organisation_id AND i.id = n.invoice_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'step record for invoice % which does not exist in this organisation', bad.invoice_id
      USING ERRCODE = 'foreign_key_violation', TABLE = 'step_records', COLUMN = 'invoice_id';
  END IF;
  SELECT n.action_id INTO bad FROM added n
   WHERE n.action_id IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.organisation_id = n.organisation_id AND a.id = n.action_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'step record for action % which does not exist in this organisation', bad.action_id
      USING ERRCODE = 'foreign_key_violation', TABLE = 'step_records', COLUMN = 'action_id';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER step_records_references_insert AFTER INSERT ON step_records
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION step_records_check_references();
CREATE TRIGGER step_records_references_update AFTER UPDATE ON step_records
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION step_records_check_references();

-- What the foreign keys' ON DELETE CASCADE did: an invoice that goes takes its engine rows along.
CREATE FUNCTION invoices_forget_engine_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM step_records s USING gone g WHERE s.organisation_id = g.organisation_id AND s.invoice_id = g.id;
  DELETE FROM invoice_schedule s USING gone g WHERE s.organisation_id = g.organisation_id AND s.invoice_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER invoices_forget_engine AFTER DELETE ON invoices
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION invoices_forget_engine_rows();

-- An action that goes (its customer deleted) leaves no record pointing at it.
CREATE FUNCTION actions_forget_step_records() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE step_records s SET action_id = NULL FROM gone g
   WHERE s.organisation_id = g.organisation_id AND s.action_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER actions_forget_step_records AFTER DELETE ON actions
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION actions_forget_step_records();
