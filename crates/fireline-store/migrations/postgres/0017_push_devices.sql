-- Browsers and phones subscribed to Web Push from the web UI, by person. `id` is a
-- digest of the endpoint (the endpoint itself is a capability URL and stays here only).
-- A device the push service no longer knows (404/410) is kept as removed, with why, so
-- its owner sees what happened on their page.
CREATE TABLE push_devices (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    subscription TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at_us BIGINT NOT NULL,
    removed_at_us BIGINT,
    removed_reason TEXT
);
CREATE INDEX push_devices_person ON push_devices (person);
