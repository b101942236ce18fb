-- camt.054 debit/credit notifications (a bank's same-day notice of each credit) are stored as
-- statements of their own format; their lines share the line keys of the end-of-day camt.053, so
-- the statement that repeats them adds nothing.
ALTER TABLE bank_statements DROP CONSTRAINT bank_statements_format_check;
ALTER TABLE bank_statements ADD CONSTRAINT bank_statements_format_check
  CHECK (format IN ('camt053', 'camt054', 'cfonb120', 'ofx', 'csv', 'api'));
