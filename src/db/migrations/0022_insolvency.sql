-- Collective proceedings (procédures collectives) against a customer: safeguard, receivership,
-- liquidation. Recording one stops every reminder for the debtor (a customer-wide pause of reason
-- 'insolvency', pending actions cancelled with that reason) and raises the task of declaring the
-- claim before its legal deadline. Writing off what will not be recovered needs a reason and a
-- second person's approval; the write-off rows then go through the ledger's write_offs table.

CREATE TABLE insolvency_proceedings (
  organisation_id          uuid NOT NULL,
  id                       bigint GENERATED ALWAYS AS IDENTITY,
  customer_id              bigint NOT NULL,
  kind                     text NOT NULL CHECK (kind IN ('safeguard', 'receivership', 'liquidation')),
  judgment_date            date NOT NULL,
  publication_date         date,
  court                    text,
  case_number              text,
  representative_name      text,
  representative_address   text,
  -- The creditor does not live in metropolitan France: the declaration deadline is longer.
  creditor_abroad          boolean NOT NULL DEFAULT false,
  -- Computed from the publication date by the rule in src/domain/escalation/insolvency.ts (with
  -- the organisation's override, if any); null until the publication date is known.
  declaration_deadline     date,
  deadline_rule            text,
  -- Security attached to the claim (retention of title...), printed on the declaration.
  privilege                text,
  declared_on              date,
  status                   text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  closed_on                date,
  pause_id                 bigint NOT NULL,
  recorded_on              date NOT NULL,
  note                     text,
  created_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT insolvency_publication_after_judgment CHECK (publication_date IS NULL OR publication_date >= judgment_date),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, pause_id) REFERENCES pauses (organisation_id, id)
);
-- One open proceeding per debtor: a conversion (safeguard to liquidation) closes the first.
CREATE UNIQUE INDEX insolvency_one_open ON insolvency_proceedings (organisation_id, customer_id) WHERE status = 'open';

-- An irrecoverable part proposed for write-off, then approved by someone else (then the write_offs
-- rows exist), or refused.
CREATE TABLE write_off_requests (
  organisation_id   uuid NOT NULL,
  id                bigint GENERATED ALWAYS AS IDENTITY,
  customer_id       bigint NOT NULL,
  proceeding_id     bigint,
  -- [{invoiceId, amountMinor}] as text amounts: what each invoice loses.
  lines             jsonb NOT NULL,
  currency          char(3) NOT NULL,
  amount_minor      bigint NOT NULL CHECK (amount_minor > 0),
  reason            text NOT NULL CHECK (length(reason) > 0),
  requested_by      text NOT NULL,
  requested_on      date NOT NULL,
  status            text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'approved', 'refused')),
  decided_by        text,
  decided_on        date,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE,
  FOREIGN KEY (organisation_id, proceeding_id) REFERENCES insolvency_proceedings (organisation_id, id)
);

ALTER TABLE write_offs ADD COLUMN request_id bigint;

-- Per organisation: overrides of the escalation rules shipped as data (declaration deadlines...).
CREATE TABLE escalation_settings (
  organisation_id uuid PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
  settings        jsonb NOT NULL DEFAULT '{}',
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The tasks the escalation raises (a claim to declare before its deadline...).
ALTER TABLE tasks DROP CONSTRAINT tasks_kind_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_kind_check CHECK (kind IN ('broken_promise', 'missed_instalment', 'insolvency_declaration', 'other'));

-- A handover to an agency or a lawyer pauses the invoices handed over (src/escalation/handover.ts).
ALTER TABLE pauses DROP CONSTRAINT pauses_reason_check;
ALTER TABLE pauses ADD CONSTRAINT pauses_reason_check CHECK (reason IN ('dispute', 'promise_to_pay', 'payment_plan', 'manual_hold', 'insolvency', 'handover', 'other'));
