-- Parked items are few: counting and listing them (every /metrics scrape) reads this
-- small index instead of every inbox row and its payload.
CREATE INDEX alert_inbox_dead ON alert_inbox (dead_at_us) WHERE dead_at_us IS NOT NULL;
