-- Customer search stays fast at 100,000 customers: every word of a customer's name (lower case,
-- accents folded), its SIREN and external id, in a table ordered byte-wise ("C"), so a search for
-- a word's beginning is a range scan of its primary key instead of a LIKE over every customer.
-- Statement-level triggers keep it in step, set-based (a bulk load adds one INSERT per statement).
CREATE TABLE customer_search_terms (
  organisation_id uuid NOT NULL,
  term            text COLLATE "C" NOT NULL,
  customer_id     bigint NOT NULL,
  PRIMARY KEY (organisation_id, term, customer_id)
);
CREATE INDEX customer_search_terms_customer_idx ON customer_search_terms (organisation_id, customer_id);

CREATE FUNCTION customer_search_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT translate(lower(coalesce(t, '')), 'àâäáãåçéèêëíìîïñóòôöõúùûüýÿ', 'aaaaaaceeeeiiiinooooouuuuyy')
$$;

CREATE FUNCTION customer_search_terms_of(name text, siren text, external_id text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
  SELECT DISTINCT w FROM (
    SELECT regexp_split_to_table(customer_search_fold(name), '[^a-z0-9]+') AS w
    UNION ALL SELECT customer_search_fold(name)
    UNION ALL SELECT siren
    UNION ALL SELECT lower(external_id)) x
  WHERE w IS NOT NULL AND w <> ''
$$;

CREATE FUNCTION customer_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_search_terms (organisation_id, term, customer_id)
  SELECT n.organisation_id, left(t, 200), n.id FROM changed n, customer_search_terms_of(n.legal_name, n.siren, n.external_id) AS t
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- Two statements, not one: a delete and an insert of the same keys in one statement would see the
-- same snapshot, and a term kept by the new name would be skipped by the insert, then deleted.
CREATE FUNCTION customer_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_search_terms s
   USING new_rows n JOIN old_rows o ON o.organisation_id = n.organisation_id AND o.id = n.id
   WHERE s.organisation_id = n.organisation_id AND s.customer_id = n.id
     AND (o.legal_name IS DISTINCT FROM n.legal_name OR o.siren IS DISTINCT FROM n.siren OR o.external_id IS DISTINCT FROM n.external_id);
  INSERT INTO customer_search_terms (organisation_id, term, customer_id)
  SELECT n.organisation_id, left(t, 200), n.id
    FROM new_rows n JOIN old_rows o ON o.organisation_id = n.organisation_id AND o.id = n.id,
         customer_search_terms_of(n.legal_name, n.siren, n.external_id) AS t
   WHERE o.legal_name IS DISTINCT FROM n.legal_name OR o.siren IS DISTINCT FROM n.siren OR o.external_id IS DISTINCT FROM n.external_id
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE FUNCTION customer_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_search_terms s USING changed o WHERE s.organisation_id = o.organisation_id AND s.customer_id = o.id;
  RETURN NULL;
END $$;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION customer_search_insert();
CREATE TRIGGER customers_search_update AFTER UPDATE ON customers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_search_update();
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION customer_search_delete();

-- Customers that existed before this migration.
INSERT INTO customer_search_terms (organisation_id, term, customer_id)
SELECT c.organisation_id, left(t, 200), c.id FROM customers c, customer_search_terms_of(c.legal_name, c.siren, c.external_id) AS t
ON CONFLICT DO NOTHING;
