-- The engine's schedule: when the incident's policy next has something due, and which
-- engine holds it. Written in the same transaction as the events it follows from.
ALTER TABLE incidents ADD COLUMN next_due_at_us INTEGER;
ALTER TABLE incidents ADD COLUMN lease_owner TEXT;
ALTER TABLE incidents ADD COLUMN lease_until_us INTEGER;
CREATE INDEX incidents_by_next_due ON incidents (next_due_at_us) WHERE next_due_at_us IS NOT NULL;
