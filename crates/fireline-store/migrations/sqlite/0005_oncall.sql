-- The on-call roster: people, teams and schedules, each kept whole as one JSON document
-- (the shape of fireline_core::oncall), so the file a team keeps in git round-trips.
CREATE TABLE roster (
    kind          TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    doc           TEXT    NOT NULL,
    updated_at_us INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Notifications to deliver, written in the same transaction as the event that causes
-- them. `key` is the idempotency key: a message is stored, and so sent, once.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    key                 TEXT    NOT NULL UNIQUE,
    incident            INTEGER,
    person              TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    destination         TEXT    NOT NULL,
    message             TEXT    NOT NULL,
    unless_acknowledged INTEGER NOT NULL,
    created_at_us       INTEGER NOT NULL,
    due_at_us           INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    state               TEXT    NOT NULL DEFAULT 'pending',
    detail              TEXT,
    done_at_us          INTEGER,
    lease_owner         TEXT,
    lease_until_us      INTEGER
);
CREATE INDEX outbox_pending ON outbox (due_at_us) WHERE state = 'pending';
CREATE INDEX outbox_sent_to ON outbox (person, channel, done_at_us) WHERE state = 'sent';

-- Server-wide values every replica must share (the acknowledge-link signing key).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
