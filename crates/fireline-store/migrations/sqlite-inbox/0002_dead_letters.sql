-- Processing failures: an item that keeps failing is retried with backoff (its lease
-- runs to the next try), then parked as a dead letter (`dead_at_us`) that claims skip
-- until an admin re-drives or discards it. One bad item never holds back the others.
ALTER TABLE alert_inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_inbox ADD COLUMN last_error TEXT;
ALTER TABLE alert_inbox ADD COLUMN dead_at_us INTEGER;
