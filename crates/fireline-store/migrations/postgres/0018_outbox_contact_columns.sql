-- An outbox message's contact in columns of its own (its kind is `channel`), instead
-- of a JSON document every reader had to parse again. Pending messages keep theirs.
ALTER TABLE outbox ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN secret TEXT;
UPDATE outbox SET address = COALESCE(destination::jsonb->>'address', ''), secret = destination::jsonb->>'secret';
ALTER TABLE outbox DROP COLUMN destination;
