-- The customer-search terms of 0009, computed as one array expression per customer instead of a
-- set-returning SQL function called once per row: same terms, written by the same triggers, about
-- two and a half times cheaper to compute when an import creates a hundred thousand customers.
CREATE FUNCTION customer_search_term_list(name text, siren text, external_id text) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_split_to_array(customer_search_fold(name), '[^a-z0-9]+') || ARRAY[customer_search_fold(name), siren, lower(external_id)]
$$;

CREATE OR REPLACE FUNCTION customer_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO customer_search_terms (organisation_id, term, customer_id)
  SELECT DISTINCT n.organisation_id, left(t, 200), n.id
    FROM changed n CROSS JOIN LATERAL unnest(customer_search_term_list(n.legal_name, n.siren, n.external_id)) AS t
   WHERE t IS NOT NULL AND t <> ''
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

-- Two statements, not one: see 0009.
CREATE OR REPLACE FUNCTION customer_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM customer_search_terms s
   USING new_rows n JOIN old_rows o ON o.organisation_id = n.organisation_id AND o.id = n.id
   WHERE s.organisation_id = n.organisation_id AND s.customer_id = n.id
     AND (o.legal_name IS DISTINCT FROM n.legal_name OR o.siren IS DISTINCT FROM n.siren OR o.external_id IS DISTINCT FROM n.external_id);
  INSERT INTO customer_search_terms (organisation_id, term, customer_id)
  SELECT DISTINCT n.organisation_id, left(t, 200), n.id
    FROM new_rows n JOIN old_rows o ON o.organisation_id = n.organisation_id AND o.id = n.id
         CROSS JOIN LATERAL unnest(customer_search_term_list(n.legal_name, n.siren, n.external_id)) AS t
   WHERE (o.legal_name IS DISTINCT FROM n.legal_name OR o.siren IS DISTINCT FROM n.siren OR o.external_id IS DISTINCT FROM n.external_id)
     AND t IS NOT NULL AND t <> ''
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
