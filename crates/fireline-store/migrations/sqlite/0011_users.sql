-- People who sign in to the web UI with a username and password (argon2 hashes).
-- password_changed_at_us doubles as the sessions' generation: a session signed for an
-- earlier value is void, so changing a password ends every session of that user.
CREATE TABLE users (
    name                   TEXT    PRIMARY KEY,
    role                   TEXT    NOT NULL,
    password_hash          TEXT    NOT NULL,
    created_at_us          INTEGER NOT NULL,
    password_changed_at_us INTEGER NOT NULL,
    disabled_at_us         INTEGER
);
