-- The receivers' alert inbox, in a SQLite file of its own (`<database>-inbox`) so that
-- accepting alerts never queues behind processing on the main database's connection.
-- AUTOINCREMENT: ids are never reused, so the main database's record of applied ids
-- (`inbox_applied`) can never match a later item.
CREATE TABLE alert_inbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    integration    TEXT    NOT NULL,
    received_at_us INTEGER NOT NULL,
    alerts         TEXT    NOT NULL,
    lease_owner    TEXT,
    lease_until_us INTEGER
);
