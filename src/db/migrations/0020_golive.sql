-- Going live with a real company.
-- An organisation starts in review mode (every action waits for approval) until an admin switches
-- it live; the organisations that existed before this migration were live already.
ALTER TABLE organisations ADD COLUMN IF NOT EXISTS live boolean NOT NULL DEFAULT true;
ALTER TABLE organisations ALTER COLUMN live SET DEFAULT false;

-- One organisation per company. A database where the demo was seeded twice keeps the SIREN on the
-- oldest copy only.
UPDATE organisations o SET siren = NULL
 WHERE siren IS NOT NULL
   AND EXISTS (SELECT 1 FROM organisations x WHERE x.siren = o.siren AND (x.created_at, x.id) < (o.created_at, o.id));
CREATE UNIQUE INDEX IF NOT EXISTS organisations_siren_unique ON organisations (siren) WHERE siren IS NOT NULL;

-- Reminders sent before Relance (another tool, spreadsheets): an invoice's last level and its date.
-- They count as the prerequisites of the steps after them and appear in its history.
CREATE TABLE IF NOT EXISTS outside_reminders (
  organisation_id uuid NOT NULL,
  invoice_id      bigint NOT NULL,
  level           text NOT NULL CHECK (level IN ('reminder', 'firm', 'final', 'formal_notice')),
  sent_on         date NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, invoice_id),
  FOREIGN KEY (organisation_id, invoice_id) REFERENCES invoices (organisation_id, id) ON DELETE CASCADE
);
