-- The receivables ledger. Every table carries organisation_id, and every reference between
-- tables goes through a composite key that includes it, so the database itself refuses a row of
-- one organisation pointing at another's. Money is bigint minor units; dates are `date`.

CREATE TABLE organisations (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  legal_name      text NOT NULL CHECK (length(legal_name) > 0),
  siren           text CHECK (siren ~ '^[0-9]{9}$'),
  siret           text CHECK (siret ~ '^[0-9]{14}$'),
  vat_number      text,
  address_line1   text,
  address_line2   text,
  postal_code     text,
  city            text,
  country         char(2) NOT NULL DEFAULT 'FR',
  iban            text,
  bic             text,
  time_zone       text NOT NULL DEFAULT 'Europe/Paris',
  currency        char(3) NOT NULL DEFAULT 'EUR',
  language        text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
  -- True while a parallel bulk load fills a new organisation: nobody lists it until it is whole.
  loading         boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  organisation_id   uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  external_id       text,
  legal_name        text NOT NULL CHECK (length(legal_name) > 0),
  kind              text NOT NULL DEFAULT 'business' CHECK (kind IN ('business', 'consumer')),
  siren             text CHECK (siren ~ '^[0-9]{9}$'),
  siret             text CHECK (siret ~ '^[0-9]{14}$'),
  vat_number        text,
  country           char(2) NOT NULL DEFAULT 'FR',
  language          text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
  payment_terms_days integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
  tags              text[] NOT NULL DEFAULT '{}',
  segment           text,
  credit_limit_minor bigint CHECK (credit_limit_minor >= 0),
  notes             text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT customers_external_id_unique UNIQUE (organisation_id, external_id)
);
CREATE INDEX customers_name_idx ON customers (organisation_id, lower(legal_name));

CREATE TABLE contacts (
  organisation_id   uuid NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  customer_id       bigint NOT NULL,
  name              text NOT NULL,
  role              text,
  email             text,
  phone             text,
  address_line1     text,
  address_line2     text,
  postal_code       text,
  city              text,
  country           char(2),
  receives_reminders boolean NOT NULL DEFAULT false,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX contacts_customer_idx ON contacts (organisation_id, customer_id);

-- Stored files (an invoice's original PDF, later the letters that went out).
CREATE TABLE documents (
  organisation_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  filename        text NOT NULL,
  content_type    text NOT NULL,
  sha256          text NOT NULL,
  content         bytea NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id)
);

CREATE TABLE invoices (
  organisation_id        uuid NOT NULL,
  id                     bigint GENERATED ALWAYS AS IDENTITY,
  customer_id            bigint NOT NULL,
  number                 text NOT NULL CHECK (length(number) > 0),
  external_id            text,
  issue_date             date NOT NULL,
  due_date               date NOT NULL,
  currency               char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_excl_tax_minor  bigint NOT NULL CHECK (amount_excl_tax_minor >= 0),
  amount_incl_tax_minor  bigint NOT NULL CHECK (amount_incl_tax_minor > 0),
  -- Maintained by the triggers on allocations and write_offs, never written by hand.
  allocated_minor        bigint NOT NULL DEFAULT 0,
  written_off_minor      bigint NOT NULL DEFAULT 0,
  pdf_document_id        bigint,
  created_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT invoices_number_unique UNIQUE (organisation_id, number),
  CONSTRAINT invoices_external_id_unique UNIQUE (organisation_id, external_id),
  CONSTRAINT invoices_due_after_issue CHECK (due_date >= issue_date),
  CONSTRAINT invoices_excl_le_incl CHECK (amount_excl_tax_minor <= amount_incl_tax_minor),
  CONSTRAINT invoices_not_overallocated CHECK (
    allocated_minor >= 0 AND written_off_minor >= 0
    AND allocated_minor + written_off_minor <= amount_incl_tax_minor),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id),
  FOREIGN KEY (organisation_id, pdf_document_id) REFERENCES documents (organisation_id, id)
);
CREATE INDEX invoices_customer_idx ON invoices (organisation_id, customer_id, due_date);
-- No index mentions allocated_minor/written_off_minor (not even a partial index predicate), and
-- pages keep free space: settling an invoice is then a HOT update that touches no index, which
-- makes allocating a payment ~10x cheaper. Open items are found through the customer index.
ALTER TABLE invoices SET (fillfactor = 50);

CREATE TABLE credit_notes (
  organisation_id  uuid NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  customer_id      bigint NOT NULL,
  number           text NOT NULL CHECK (length(number) > 0),
  external_id      text,
  issue_date       date NOT NULL,
  currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  allocated_minor  bigint NOT NULL DEFAULT 0,
  reason           text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT credit_notes_number_unique UNIQUE (organisation_id, number),
  CONSTRAINT credit_notes_not_overallocated CHECK (allocated_minor >= 0 AND allocated_minor <= amount_minor),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id)
);
CREATE INDEX credit_notes_customer_idx ON credit_notes (organisation_id, customer_id);

CREATE TABLE payments (
  organisation_id  uuid NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  customer_id      bigint,
  external_id      text,
  payment_date     date NOT NULL,
  currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  allocated_minor  bigint NOT NULL DEFAULT 0,
  method           text NOT NULL DEFAULT 'transfer'
                   CHECK (method IN ('transfer', 'direct_debit', 'card', 'cheque', 'cash', 'lcr', 'other')),
  reference        text,
  payer_name       text,
  payer_iban       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT payments_external_id_unique UNIQUE (organisation_id, external_id),
  CONSTRAINT payments_not_overallocated CHECK (allocated_minor >= 0 AND allocated_minor <= amount_minor),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id)
);
CREATE INDEX payments_customer_idx ON payments (organisation_id, customer_id);
ALTER TABLE payments SET (fillfactor = 50);

-- An allocation applies part of a payment or of a credit note to one invoice. Its invoice,
-- payment or credit note must exist in the same organisation and currency: the statement-level
-- trigger below checks that set-based while it updates their settled totals (one join per
-- statement instead of three foreign-key lookups per row, which made bulk loads 2x slower).
CREATE TABLE allocations (
  organisation_id  uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  invoice_id       bigint NOT NULL,
  payment_id       bigint,
  credit_note_id   bigint,
  currency         char(3) NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  allocated_on     date NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT allocations_one_source CHECK (num_nonnulls(payment_id, credit_note_id) = 1)
);
CREATE INDEX allocations_invoice_idx ON allocations (organisation_id, invoice_id);
CREATE INDEX allocations_payment_idx ON allocations (organisation_id, payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX allocations_credit_note_idx ON allocations (organisation_id, credit_note_id) WHERE credit_note_id IS NOT NULL;

CREATE TABLE write_offs (
  organisation_id  uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  invoice_id       bigint NOT NULL,
  currency         char(3) NOT NULL,
  amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
  written_off_on   date NOT NULL,
  reason           text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id)
);
CREATE INDEX write_offs_invoice_idx ON write_offs (organisation_id, invoice_id);

-- Statement-level triggers keep the settled totals in step with allocations, set-based, so a bulk
-- load of a million allocations costs one UPDATE per statement, not one per row. The CHECK
-- constraints above then refuse any statement that would over-allocate; row locks taken by the
-- UPDATE serialise concurrent allocations to the same invoice or payment. On insert, every
-- referenced row must be found in the same organisation and currency, or nothing is written.
CREATE FUNCTION allocations_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  direction bigint := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
  expected bigint;
  found bigint;
BEGIN
  WITH d AS (SELECT organisation_id, invoice_id, currency, sum(amount_minor) AS total FROM changed GROUP BY 1, 2, 3),
       u AS (UPDATE invoices i SET allocated_minor = i.allocated_minor + direction * d.total FROM d
              WHERE i.organisation_id = d.organisation_id AND i.id = d.invoice_id AND i.currency = d.currency RETURNING 1)
  SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u) INTO expected, found;
  IF found <> expected THEN
    RAISE EXCEPTION 'an allocation refers to an invoice that does not exist in this organisation or is in another currency (currencies do not match)'
      USING ERRCODE = 'RL001';
  END IF;
  WITH d AS (SELECT organisation_id, payment_id, currency, sum(amount_minor) AS total FROM changed WHERE payment_id IS NOT NULL GROUP BY 1, 2, 3),
       u AS (UPDATE payments p SET allocated_minor = p.allocated_minor + direction * d.total FROM d
              WHERE p.organisation_id = d.organisation_id AND p.id = d.payment_id AND p.currency = d.currency RETURNING 1)
  SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u) INTO expected, found;
  IF found <> expected THEN
    RAISE EXCEPTION 'an allocation refers to a payment that does not exist in this organisation or is in another currency (currencies do not match)'
      USING ERRCODE = 'RL001';
  END IF;
  WITH d AS (SELECT organisation_id, credit_note_id, currency, sum(amount_minor) AS total FROM changed WHERE credit_note_id IS NOT NULL GROUP BY 1, 2, 3),
       u AS (UPDATE credit_notes c SET allocated_minor = c.allocated_minor + direction * d.total FROM d
              WHERE c.organisation_id = d.organisation_id AND c.id = d.credit_note_id AND c.currency = d.currency RETURNING 1)
  SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u) INTO expected, found;
  IF found <> expected THEN
    RAISE EXCEPTION 'an allocation refers to a credit note that does not exist in this organisation or is in another currency (currencies do not match)'
      USING ERRCODE = 'RL001';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER allocations_after_insert AFTER INSERT ON allocations
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION allocations_apply();
CREATE TRIGGER allocations_after_delete AFTER DELETE ON allocations
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION allocations_apply();

-- An allocation is a fact: undo it by deleting it (a reversal), never by editing its amount.
CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows cannot be modified; delete and record a new one', TG_TABLE_NAME USING ERRCODE = 'RL001';
END $$;
CREATE TRIGGER allocations_no_update BEFORE UPDATE ON allocations FOR EACH ROW EXECUTE FUNCTION refuse_update();
CREATE TRIGGER write_offs_no_update BEFORE UPDATE ON write_offs FOR EACH ROW EXECUTE FUNCTION refuse_update();

CREATE FUNCTION write_offs_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  direction bigint := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
  expected bigint;
  found bigint;
BEGIN
  WITH d AS (SELECT organisation_id, invoice_id, currency, sum(amount_minor) AS total FROM changed GROUP BY 1, 2, 3),
       u AS (UPDATE invoices i SET written_off_minor = i.written_off_minor + direction * d.total FROM d
              WHERE i.organisation_id = d.organisation_id AND i.id = d.invoice_id AND i.currency = d.currency RETURNING 1)
  SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u) INTO expected, found;
  IF found <> expected THEN
    RAISE EXCEPTION 'a write-off refers to an invoice that does not exist in this organisation or is in another currency' USING ERRCODE = 'RL001';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER write_offs_after_insert AFTER INSERT ON write_offs
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION write_offs_apply();
CREATE TRIGGER write_offs_after_delete AFTER DELETE ON write_offs
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION write_offs_apply();

-- The invoice as every reader sees it: open amount and status derived from what settled it.
CREATE VIEW invoice_balances AS
SELECT i.*,
       i.amount_incl_tax_minor - i.allocated_minor - i.written_off_minor AS open_minor,
       CASE
         WHEN i.allocated_minor + i.written_off_minor = 0 THEN 'open'
         WHEN i.allocated_minor + i.written_off_minor < i.amount_incl_tax_minor THEN 'partially_paid'
         WHEN i.written_off_minor > 0 AND i.allocated_minor = 0 THEN 'written_off'
         ELSE 'paid'
       END AS status
FROM invoices i;

-- Settled invoices and payments cannot disappear from under their allocations.
CREATE FUNCTION refuse_delete_settled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only invoices have written_off_minor: PL/pgSQL would fail resolving it on another table.
  IF OLD.allocated_minor > 0 THEN
    RAISE EXCEPTION '% % has allocations: reverse them first', TG_TABLE_NAME, OLD.id USING ERRCODE = 'RL001';
  END IF;
  IF TG_TABLE_NAME = 'invoices' THEN
    IF OLD.written_off_minor > 0 THEN
      RAISE EXCEPTION 'invoice % has write-offs: reverse them first', OLD.id USING ERRCODE = 'RL001';
    END IF;
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER invoices_no_delete_settled BEFORE DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION refuse_delete_settled();
CREATE TRIGGER payments_no_delete_settled BEFORE DELETE ON payments FOR EACH ROW EXECUTE FUNCTION refuse_delete_settled();
CREATE TRIGGER credit_notes_no_delete_settled BEFORE DELETE ON credit_notes FOR EACH ROW EXECUTE FUNCTION refuse_delete_settled();
