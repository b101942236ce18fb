-- An allocation's organisation is already vouched for: allocations_apply (0001) refuses, per
-- statement, an allocation whose invoice and payment or credit note are not of its organisation,
-- and those exist only under an existing organisation's customers. The organisation key checked
-- it again, row by row, with a lock on the one organisation row: 6 µs per allocation, a second of
-- a large FEC import. Its ON DELETE CASCADE never acted alone: an organisation with allocations
-- has invoices, which keep its customers (and so the organisation) from being deleted until they
-- are gone (deleteOrganisation removes allocations first).
ALTER TABLE allocations DROP CONSTRAINT allocations_organisation_id_fkey;
