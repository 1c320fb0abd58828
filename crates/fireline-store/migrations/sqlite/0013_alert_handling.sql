-- Heartbeat items in this file's inbox fail and park like the inbox file's (see
-- sqlite-inbox/0002_dead_letters.sql).
ALTER TABLE alert_inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_inbox ADD COLUMN last_error TEXT;
ALTER TABLE alert_inbox ADD COLUMN dead_at_us INTEGER;

-- Accepted alerts that joined no incident, with the reason (a route dropped them, they
-- arrived resolved, their integration was revoked, …): one row per alert identity and
-- reason, repeats counted, so an admin can see why an alert paged nobody. Pruned by age
-- and count.
CREATE TABLE alert_drops (
    integration    TEXT    NOT NULL,
    dedup_key      TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    count          INTEGER NOT NULL,
    first_at_us    INTEGER NOT NULL,
    last_at_us     INTEGER NOT NULL,
    PRIMARY KEY (integration, dedup_key, reason)
);
CREATE INDEX alert_drops_by_time ON alert_drops (last_at_us);
