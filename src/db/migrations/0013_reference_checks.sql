-- The customer (and PDF) an invoice or payment refers to, checked once per statement instead of
-- once per row. A foreign key runs, for every inserted row, its own lookup of the customer and
-- takes a row lock on it: importing a million invoices spent about a third of its database time
-- there. The triggers below keep what the keys promised:
-- - a statement that inserts rows joins them to the customers (and documents) once, as a set: one
--   pass the planner chooses (a hash join for a large batch, probes for a few rows); if one is
--   missing, the statement fails with foreign_key_violation under the old constraint's name.
--   Customers created by another transaction are then locked FOR KEY SHARE, as a foreign key
--   does, so none can be deleted before this transaction ends; one deleted meanwhile by a
--   transaction that committed is not locked, and the statement fails the same way. Customers
--   this transaction created need no lock: no one else sees them (an import creates a file's
--   customers and their invoices in one transaction);
-- - an update that changes the reference is checked the same way, row by row (rare);
-- - deleting a customer or a document still referred to fails. The check runs after the delete
--   has taken its row lock, so an insert that locked the row first has committed and is seen.

ALTER TABLE invoices DROP CONSTRAINT invoices_organisation_id_customer_id_fkey,
  DROP CONSTRAINT invoices_organisation_id_pdf_document_id_fkey;
ALTER TABLE payments DROP CONSTRAINT payments_organisation_id_customer_id_fkey;

-- Most invoices have no external id: they need no entry in its unique index (NULLs never
-- conflicted anyway). One index less to write per imported invoice.
ALTER TABLE invoices DROP CONSTRAINT invoices_external_id_unique;
CREATE UNIQUE INDEX invoices_external_id_unique ON invoices (organisation_id, external_id) WHERE external_id IS NOT NULL;

CREATE FUNCTION refuse_missing_reference(tbl text, cons text, what text, id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% refers to % % which does not exist in this organisation', tbl, what, id
    USING ERRCODE = 'foreign_key_violation', TABLE = tbl, CONSTRAINT = cons;
END $$;

-- One function for the customer of invoices and of payments: the trigger names the constraint
-- (TG_ARGV[0]) the refusal reports, as the foreign key did. A payment's customer may be NULL.
CREATE FUNCTION check_customer_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  wanted bigint;
  found bigint;
  others bigint;
  locked bigint := 0;
  missing bigint;
  seqscan text := current_setting('enable_seqscan');
BEGIN
  -- An import turns sequential scans off for its own lookups; here, for a batch naming many
  -- customers, one pass over the customers beats one index probe per customer: let the planner
  -- choose.
  PERFORM set_config('enable_seqscan', 'on', true);
  -- Counted per row, not per customer (the planner cannot size a DISTINCT over the transition
  -- table and then probes, one customer at a time): wanted and found are rows, others the
  -- customers created by other transactions, each to be locked.
  SELECT count(*), count(c.id), count(DISTINCT c.id) FILTER (WHERE c.xmin::text::bigint <> txid_current() % 4294967296) INTO wanted, found, others
    FROM added a LEFT JOIN customers c ON c.organisation_id = a.organisation_id AND c.id = a.customer_id
   WHERE a.customer_id IS NOT NULL;
  IF others > 0 THEN
    SELECT count(*) INTO locked FROM (
      SELECT 1 FROM customers c
       WHERE (c.organisation_id, c.id) IN (SELECT organisation_id, customer_id FROM added)
         AND c.xmin::text::bigint <> txid_current() % 4294967296
         FOR KEY SHARE OF c) l;
  END IF;
  IF found < wanted OR locked < others THEN
    SELECT a.customer_id INTO missing FROM added a
     WHERE a.customer_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.organisation_id = a.organisation_id AND c.id = a.customer_id) LIMIT 1;
    PERFORM refuse_missing_reference(TG_TABLE_NAME, TG_ARGV[0], 'customer', missing);
  END IF;
  PERFORM set_config('enable_seqscan', seqscan, true);
  RETURN NULL;
END $$;
CREATE TRIGGER invoices_references_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION check_customer_references('invoices_organisation_id_customer_id_fkey');
CREATE TRIGGER payments_references_insert AFTER INSERT ON payments REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION check_customer_references('payments_organisation_id_customer_id_fkey');

-- An invoice rarely has its PDF when it is inserted, and documents are few: always locked.
CREATE FUNCTION invoices_check_documents() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  wanted bigint;
  locked bigint;
  missing bigint;
BEGIN
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT organisation_id, pdf_document_id FROM added WHERE pdf_document_id IS NOT NULL) k;
  IF wanted > 0 THEN
    SELECT count(*) INTO locked FROM (
      SELECT 1 FROM documents d WHERE (d.organisation_id, d.id) IN (SELECT organisation_id, pdf_document_id FROM added) FOR KEY SHARE OF d) l;
    IF locked < wanted THEN
      SELECT a.pdf_document_id INTO missing FROM added a
       WHERE a.pdf_document_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.organisation_id = a.organisation_id AND d.id = a.pdf_document_id) LIMIT 1;
      PERFORM refuse_missing_reference('invoices', 'invoices_organisation_id_pdf_document_id_fkey', 'document', missing);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER invoices_documents_insert AFTER INSERT ON invoices REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION invoices_check_documents();

-- A changed reference, row by row: settling an invoice or a payment (the allocation triggers'
-- updates) leaves it as it is and does not fire these.
CREATE FUNCTION check_changed_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.customer_id IS NOT NULL THEN
    PERFORM 1 FROM customers c WHERE c.organisation_id = NEW.organisation_id AND c.id = NEW.customer_id FOR KEY SHARE;
    IF NOT FOUND THEN
      PERFORM refuse_missing_reference(TG_TABLE_NAME, TG_ARGV[0], 'customer', NEW.customer_id);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER invoices_references_update AFTER UPDATE OF customer_id ON invoices FOR EACH ROW
  WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)
  EXECUTE FUNCTION check_changed_customer('invoices_organisation_id_customer_id_fkey');
CREATE TRIGGER payments_references_update AFTER UPDATE OF customer_id ON payments FOR EACH ROW
  WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)
  EXECUTE FUNCTION check_changed_customer('payments_organisation_id_customer_id_fkey');

CREATE FUNCTION invoices_check_changed_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.pdf_document_id IS NOT NULL THEN
    PERFORM 1 FROM documents d WHERE d.organisation_id = NEW.organisation_id AND d.id = NEW.pdf_document_id FOR KEY SHARE;
    IF NOT FOUND THEN
      PERFORM refuse_missing_reference('invoices', 'invoices_organisation_id_pdf_document_id_fkey', 'document', NEW.pdf_document_id);
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER invoices_documents_update AFTER UPDATE OF pdf_document_id ON invoices FOR EACH ROW
  WHEN (OLD.pdf_document_id IS DISTINCT FROM NEW.pdf_document_id)
  EXECUTE FUNCTION invoices_check_changed_document();

-- What NO ACTION did on the other side.
CREATE FUNCTION customers_refuse_delete_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad bigint;
BEGIN
  SELECT g.id INTO bad FROM gone g
   WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = g.organisation_id AND i.customer_id = g.id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'customer % still has invoices', bad
      USING ERRCODE = 'foreign_key_violation', TABLE = 'invoices', CONSTRAINT = 'invoices_organisation_id_customer_id_fkey';
  END IF;
  SELECT g.id INTO bad FROM gone g
   WHERE EXISTS (SELECT 1 FROM payments p WHERE p.organisation_id = g.organisation_id AND p.customer_id = g.id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'customer % still has payments', bad
      USING ERRCODE = 'foreign_key_violation', TABLE = 'payments', CONSTRAINT = 'payments_organisation_id_customer_id_fkey';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER customers_references_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION customers_refuse_delete_referenced();

CREATE FUNCTION documents_refuse_delete_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad bigint;
BEGIN
  SELECT g.id INTO bad FROM gone g
   WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.organisation_id = g.organisation_id AND i.pdf_document_id = g.id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'document % is still the PDF of an invoice', bad
      USING ERRCODE = 'foreign_key_violation', TABLE = 'invoices', CONSTRAINT = 'invoices_organisation_id_pdf_document_id_fkey';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER documents_references_delete AFTER DELETE ON documents
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION documents_refuse_delete_referenced();
