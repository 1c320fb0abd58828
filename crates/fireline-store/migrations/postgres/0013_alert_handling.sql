-- Processing failures: an item that keeps failing is retried with backoff (its lease
-- runs to the next try), then parked as a dead letter (`dead_at_us`) that claims skip
-- until an admin re-drives or discards it. One bad item never holds back the others.
ALTER TABLE alert_inbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alert_inbox ADD COLUMN last_error TEXT;
ALTER TABLE alert_inbox ADD COLUMN dead_at_us BIGINT;

-- Accepted alerts that joined no incident, with the reason (a route dropped them, they
-- arrived resolved, their integration was revoked, …): one row per alert identity and
-- reason, repeats counted, so an admin can see why an alert paged nobody. Pruned by age
-- and count.
CREATE TABLE alert_drops (
    integration    TEXT    NOT NULL,
    dedup_key      TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    summary        TEXT    NOT NULL,
    count          BIGINT  NOT NULL,
    first_at_us    BIGINT  NOT NULL,
    last_at_us     BIGINT  NOT NULL,
    PRIMARY KEY (integration, dedup_key, reason)
);
CREATE INDEX alert_drops_by_time ON alert_drops (last_at_us);
