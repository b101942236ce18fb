-- Credit policy and risk (issue 22).
-- Per customer: the deposit asked for new orders and the early-payment discount, in basis points
-- (1 % = 100) so no float ever holds a rate; the risk class the organisation gives the customer.
ALTER TABLE customers
  ADD COLUMN deposit_bp integer CHECK (deposit_bp BETWEEN 0 AND 10000),
  ADD COLUMN early_discount_bp integer CHECK (early_discount_bp BETWEEN 1 AND 5000),
  ADD COLUMN early_discount_days integer CHECK (early_discount_days BETWEEN 0 AND 365),
  ADD COLUMN risk_class text CHECK (risk_class IN ('low', 'medium', 'high')),
  ADD CONSTRAINT customers_early_discount_whole CHECK ((early_discount_bp IS NULL) = (early_discount_days IS NULL));

-- Orders a customer placed that are not invoiced yet, announced through the API: they count in the
-- customer's exposure until they are invoiced or cancelled (closed_on set).
CREATE TABLE customer_orders (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  external_id     text NOT NULL,
  currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
  announced_on    date NOT NULL,
  closed_on       date,
  PRIMARY KEY (organisation_id, id),
  CONSTRAINT customer_orders_external_id_unique UNIQUE (organisation_id, external_id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_orders_open_idx ON customer_orders (organisation_id, customer_id) WHERE closed_on IS NULL;

-- A customer over its credit limit: one open alert at a time (the unique index is what tells the
-- webhook customer.credit_limit_exceeded once per crossing, whoever checks first), cleared when the
-- exposure is back under the limit.
CREATE TABLE credit_alerts (
  organisation_id uuid NOT NULL,
  id              bigint GENERATED ALWAYS AS IDENTITY,
  customer_id     bigint NOT NULL,
  raised_on       date NOT NULL,
  exposure_minor  bigint NOT NULL,
  limit_minor     bigint NOT NULL,
  cleared_on      date,
  PRIMARY KEY (organisation_id, id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX credit_alerts_one_open ON credit_alerts (organisation_id, customer_id) WHERE cleared_on IS NULL;

-- The stricter scenario the organisation chose for customers over their limit ('over_limit') or in
-- a risk class ('medium', 'high'). Below an assignment to the customer or the invoice, above tags
-- and the default.
CREATE TABLE credit_policy_scenarios (
  organisation_id uuid NOT NULL,
  trigger         text NOT NULL CHECK (trigger IN ('over_limit', 'medium', 'high')),
  scenario_id     bigint NOT NULL,
  PRIMARY KEY (organisation_id, trigger),
  FOREIGN KEY (organisation_id, scenario_id) REFERENCES scenarios (organisation_id, id) ON DELETE CASCADE
);

-- Each customer's payment behaviour and risk score as last computed (src/risk), with the reasons
-- and figures the score came from.
CREATE TABLE customer_risk (
  organisation_id uuid NOT NULL,
  customer_id     bigint NOT NULL,
  score           integer NOT NULL CHECK (score BETWEEN 0 AND 100),
  computed_on     date NOT NULL,
  details         jsonb NOT NULL,
  PRIMARY KEY (organisation_id, customer_id),
  FOREIGN KEY (organisation_id, customer_id) REFERENCES customers (organisation_id, id) ON DELETE CASCADE
);

-- customer.credit_limit_exceeded: told once per crossing (credit_alerts above).
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_type_check;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_type_check
  CHECK (type IN ('invoice.paid', 'invoice.overdue', 'action.sent', 'action.exported', 'action.failed',
                  'promise.created', 'promise.kept', 'promise.broken',
                  'payment_plan.created', 'payment_plan.completed', 'payment_plan.broken',
                  'dispute.opened', 'dispute.resolved', 'pause.created', 'pause.lifted',
                  'customer.suspension_recommended', 'case.escalated', 'customer.credit_limit_exceeded', 'webhook.test'));
