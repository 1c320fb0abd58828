-- Integrations: where alerts come in, each with a hashed key and the service it feeds.
CREATE TABLE integrations (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    key_hash      TEXT    NOT NULL UNIQUE,
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
);

-- Accepted alert payloads, durable before the receiver answers, until processed.
CREATE TABLE alert_inbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    integration    TEXT    NOT NULL,
    received_at_us INTEGER NOT NULL,
    alerts         TEXT    NOT NULL,
    lease_owner    TEXT,
    lease_until_us INTEGER
);

-- Projection of alert events (attached, updated, resolved): one row per alert identity,
-- written in the same transaction as the event.
CREATE TABLE alerts (
    integration   TEXT    NOT NULL,
    dedup_key     TEXT    NOT NULL,
    incident      INTEGER NOT NULL REFERENCES incidents (number),
    status        TEXT    NOT NULL,
    digest        TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    updated_at_us INTEGER NOT NULL,
    PRIMARY KEY (integration, dedup_key)
);
CREATE INDEX alerts_by_incident ON alerts (incident, status);

ALTER TABLE incidents ADD COLUMN alert_group TEXT;
CREATE INDEX incidents_by_alert_group ON incidents (alert_group, number) WHERE alert_group IS NOT NULL;
