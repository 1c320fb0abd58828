-- People who sign in to the web UI with a username and password (argon2 hashes).
-- sessions_from_us is the sessions' generation: a session signed for an earlier value
-- is void. A new password and disabling both move it, so either ends every session of
-- that user (and re-enabling does not bring old sessions back).
CREATE TABLE users (
    name                   TEXT    PRIMARY KEY,
    role                   TEXT    NOT NULL,
    password_hash          TEXT    NOT NULL,
    created_at_us          INTEGER NOT NULL,
    password_changed_at_us INTEGER NOT NULL,
    disabled_at_us         INTEGER,
    sessions_from_us       INTEGER NOT NULL
);
