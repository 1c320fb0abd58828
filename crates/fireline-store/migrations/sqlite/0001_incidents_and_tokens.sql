-- Incidents are event-sourced: incident_events is the record; incidents holds the id
-- sequence, the optimistic-concurrency version and a projection of the fold for listing.
-- The projection is written in the same transaction as the events it reflects.
CREATE TABLE incidents (
    number             INTEGER PRIMARY KEY AUTOINCREMENT,
    title              TEXT    NOT NULL,
    service            TEXT    NOT NULL,
    severity           TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    declared_at_us     INTEGER NOT NULL,
    declared_by        TEXT    NOT NULL,
    acknowledged_at_us INTEGER,
    resolved_at_us     INTEGER,
    updated_at_us      INTEGER NOT NULL,
    version            INTEGER NOT NULL
);
CREATE INDEX incidents_by_status ON incidents (status, number);
CREATE INDEX incidents_by_service ON incidents (service, number);
CREATE INDEX incidents_by_severity ON incidents (severity, number);

CREATE TABLE incident_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    incident INTEGER NOT NULL REFERENCES incidents (number),
    seq      INTEGER NOT NULL,
    at_us    INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    UNIQUE (incident, seq)
);

-- Events are append-only: the database refuses to change or remove one.
CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'incident_events is append-only');
END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'incident_events is append-only');
END;

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    hash          TEXT    NOT NULL UNIQUE,
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
);
