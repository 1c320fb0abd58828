-- People and systems told about public incident updates (the status page's
-- subscribers). `kind` is `email` or `webhook`; `address` the e-mail address or URL,
-- unique per kind, so subscribing twice keeps one row; `contact` the e-mail address a
-- webhook's confirmation goes to. `components` is a JSON array of services (empty: all).
-- Confirm and unsubscribe links are HMACs of the id under the `subscriber_link_key`
-- setting; only their SHA-256 is kept here, to find a subscriber by link.
-- `confirmation_sent_at_us` limits confirmation e-mails per address; a permanent
-- delivery failure sets `disabled_at_us`, with `last_failure` saying why.
CREATE TABLE status_subscribers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    contact TEXT,
    components TEXT NOT NULL,
    confirm_hash TEXT NOT NULL UNIQUE,
    unsubscribe_hash TEXT NOT NULL UNIQUE,
    created_at_us BIGINT NOT NULL,
    confirmed_at_us BIGINT,
    confirmation_sent_at_us BIGINT,
    last_failure TEXT,
    last_failure_at_us BIGINT,
    disabled_at_us BIGINT,
    UNIQUE (kind, address)
);
