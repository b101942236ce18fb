-- Credit insurance (assurance-crédit): the organisation's policy and its deadlines, counted from an
-- invoice's original due date: the longest extension of terms the insured may grant alone
-- (prorogation d'échéance) and the day by which an unpaid debt must be declared to the insurer
-- (déclaration de menace de sinistre). Deadlines missed lose the cover: the engine raises a task
-- some days before each.
CREATE TABLE credit_insurance_policies (
  organisation_id     uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  insurer             text NOT NULL CHECK (length(insurer) BETWEEN 1 AND 200),
  policy_number       text,
  declaration_days    integer NOT NULL CHECK (declaration_days BETWEEN 1 AND 365),
  max_extension_days  integer NOT NULL CHECK (max_extension_days BETWEEN 0 AND 365),
  notice_days         integer NOT NULL DEFAULT 10 CHECK (notice_days BETWEEN 0 AND 90),
  active              boolean NOT NULL DEFAULT true,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- One episode of unpaid debt of a customer, as the insurer sees it: opened when its first invoice
-- falls overdue, with the deadlines of that first invoice; invoices falling overdue later join it
-- until it is declared. Settled when everything in it is paid before the declaration.
CREATE TABLE credit_insurance_cases (
  organisation_id       uuid NOT NULL,
  id                    bigint GENERATED ALWAYS AS IDENTITY,
  customer_id           bigint NOT NULL,
  first_due_date        date NOT NULL,
  extension_ends_on     date NOT NULL,
  declaration_due_on    date NOT NULL,
  opened_on             date NOT NULL,
  status                text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'declared', 'settled')),
  declared_on           date,
  insurer_reference     text,
  settled_on            date,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  CONSTRAINT credit_insurance_declared CHECK ((status = 'declared') = (declared_on IS NOT NULL))
);
-- One open case per customer: the daily cycles of two processes cannot open two.
CREATE UNIQUE INDEX credit_insurance_one_open ON credit_insurance_cases (organisation_id, customer_id) WHERE status = 'open';

-- The invoices of a case: an invoice is in one case at most.
CREATE TABLE credit_insurance_case_invoices (
  organisation_id uuid NOT NULL,
  invoice_id      bigint NOT NULL,
  case_id         bigint NOT NULL,
  PRIMARY KEY (organisation_id, invoice_id),
  FOREIGN KEY (organisation_id, case_id) REFERENCES credit_insurance_cases (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX credit_insurance_case_invoices_case ON credit_insurance_case_invoices (organisation_id, case_id);

ALTER TABLE tasks DROP CONSTRAINT tasks_kind_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_kind_check CHECK (kind IN ('broken_promise', 'missed_instalment', 'insolvency_declaration', 'insurance_extension', 'insurance_declaration', 'other'));
