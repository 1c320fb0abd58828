-- Heartbeat monitors: a job pings every interval; a missed ping (after grace) raises an
-- alert through the monitor's integration, and the next ping resolves it.
CREATE TABLE heartbeats (
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    integration     TEXT    NOT NULL REFERENCES integrations (id),
    key_hash        TEXT    NOT NULL UNIQUE,
    interval_s      INTEGER NOT NULL,
    grace_s         INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    last_ping_at_us INTEGER,
    deadline_at_us  INTEGER,
    created_at_us   INTEGER NOT NULL
);
CREATE INDEX heartbeats_by_deadline ON heartbeats (deadline_at_us) WHERE state = 'up';
