-- Heartbeat monitors: a job pings every interval; a missed ping (after grace) raises an
-- alert through the monitor's integration, and the next ping resolves it.
CREATE TABLE heartbeats (
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    integration     TEXT    NOT NULL REFERENCES integrations (id),
    key_hash        TEXT    NOT NULL UNIQUE,
    interval_s      BIGINT  NOT NULL,
    grace_s         BIGINT  NOT NULL,
    state           TEXT    NOT NULL,
    last_ping_at_us BIGINT,
    deadline_at_us  BIGINT,
    created_at_us   BIGINT  NOT NULL
);
CREATE INDEX heartbeats_by_deadline ON heartbeats (deadline_at_us) WHERE state = 'up';
