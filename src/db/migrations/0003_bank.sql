-- Bank statements and their reconciliation with the receivables ledger.
-- Idempotency lives in unique keys: re-importing a file, or an overlapping one, inserts nothing
-- twice because every line has a key unique on its account (the bank's entry id when it gives
-- one, else a hash of its content and its rank among identical lines of the same day).

CREATE TABLE bank_statements (
  organisation_id  uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  format           text NOT NULL CHECK (format IN ('camt053', 'cfonb120', 'ofx', 'csv', 'api')),
  account_key      text NOT NULL,
  account_iban     text,
  account_number   text,
  statement_ref    text,
  currency         char(3),
  opening_minor    bigint,
  opening_date     date,
  closing_minor    bigint,
  closing_date     date,
  filename         text,
  file_sha256      text NOT NULL,
  statement_index  integer NOT NULL,
  imported_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  -- The same file imported twice records its statements once.
  CONSTRAINT bank_statements_file_unique UNIQUE (organisation_id, file_sha256, statement_index)
);

CREATE TABLE bank_lines (
  organisation_id    uuid NOT NULL,
  id                 bigint GENERATED ALWAYS AS IDENTITY,
  statement_id       bigint NOT NULL,
  account_key        text NOT NULL,
  line_key           text NOT NULL,
  booking_date       date NOT NULL,
  value_date         date,
  currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- Signed: credits (money in) positive, debits negative.
  amount_minor       bigint NOT NULL,
  counterparty_name  text,
  counterparty_iban  text,
  remittance_text    text,
  creditor_reference text,
  label              text,
  entry_reference    text,
  end_to_end_id      text,
  bank_reference     text,
  transaction_code   text,
  reversal           boolean NOT NULL DEFAULT false,
  -- new: not looked at yet; matched: a payment was created and allocated; review: candidates wait
  -- for a person; unmatched: no candidate; ignored: a debit or zero line, not a receivable;
  -- reversed: a matched credit the bank later cancelled; reversal: the line that cancelled it.
  status             text NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'matched', 'review', 'unmatched', 'ignored', 'reversed', 'reversal')),
  payment_id         bigint,
  write_off_ids      bigint[] NOT NULL DEFAULT '{}',
  reverses_line_id   bigint,
  matched_by         text CHECK (matched_by IN ('auto', 'manual')),
  -- A person undid a match: the engine proposes again but never applies on its own.
  auto_blocked       boolean NOT NULL DEFAULT false,
  match_confidence   double precision,
  match_reason       jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT bank_lines_key_unique UNIQUE (organisation_id, account_key, line_key),
  CONSTRAINT bank_lines_payment_unique UNIQUE (organisation_id, payment_id),
  CONSTRAINT bank_lines_matched_has_payment CHECK ((status = 'matched') = (payment_id IS NOT NULL)),
  FOREIGN KEY (organisation_id, statement_id) REFERENCES bank_statements (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, payment_id) REFERENCES payments (organisation_id, id),
  FOREIGN KEY (organisation_id, reverses_line_id) REFERENCES bank_lines (organisation_id, id)
);
-- The reconciliation reads the lines still to match; the review screen reads the queue.
CREATE INDEX bank_lines_open_idx ON bank_lines (organisation_id, booking_date) WHERE status IN ('new', 'review', 'unmatched');
CREATE INDEX bank_lines_statement_idx ON bank_lines (organisation_id, statement_id);

-- IBANs known to belong to a customer: entered by hand, or learnt from a matched payment.
CREATE TABLE customer_ibans (
  organisation_id  uuid NOT NULL,
  customer_id      bigint NOT NULL,
  iban             text NOT NULL CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$'),
  source           text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'payment', 'import')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, customer_id, iban),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_ibans_iban_idx ON customer_ibans (organisation_id, iban);

-- The review queue: candidate matches for a line that were not applied automatically, best first.
CREATE TABLE bank_match_proposals (
  organisation_id  uuid NOT NULL,
  id               bigint GENERATED ALWAYS AS IDENTITY,
  line_id          bigint NOT NULL,
  rank             smallint NOT NULL CHECK (rank >= 1),
  customer_id      bigint NOT NULL,
  pass             text NOT NULL CHECK (pass IN ('reference', 'iban_amount', 'name_amount', 'customer_only')),
  confidence       double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  -- [{"invoiceId": "12", "amountMinor": "1000"}], write-offs alike; bigints as strings.
  allocations      jsonb NOT NULL,
  write_offs       jsonb NOT NULL DEFAULT '[]',
  unallocated_minor bigint NOT NULL DEFAULT 0 CHECK (unallocated_minor >= 0),
  reason           jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT bank_match_proposals_rank_unique UNIQUE (organisation_id, line_id, rank),
  FOREIGN KEY (organisation_id, line_id) REFERENCES bank_lines (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
