-- Post-mortems: one per incident, its text edited with optimistic concurrency (`version`
-- grows with every save). Every version is kept in postmortem_revisions, so the history
-- says who changed what, when.
CREATE TABLE postmortems (
    incident      INTEGER PRIMARY KEY REFERENCES incidents (number),
    version       INTEGER NOT NULL,
    text          TEXT    NOT NULL,
    template      TEXT    NOT NULL,
    created_at_us INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    updated_at_us INTEGER NOT NULL,
    updated_by    TEXT    NOT NULL
);

CREATE TABLE postmortem_revisions (
    incident INTEGER NOT NULL REFERENCES postmortems (incident),
    version  INTEGER NOT NULL,
    text     TEXT    NOT NULL,
    summary  TEXT    NOT NULL,
    at_us    INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    PRIMARY KEY (incident, version)
);

-- Action items from post-mortems. `due` is a calendar date, YYYY-MM-DD, which sorts and
-- compares as text on both backends.
CREATE TABLE action_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident      INTEGER NOT NULL REFERENCES incidents (number),
    title         TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    priority      TEXT    NOT NULL,
    due           TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    note          TEXT,
    created_at_us INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    updated_at_us INTEGER NOT NULL,
    updated_by    TEXT    NOT NULL
);
CREATE INDEX action_items_by_incident ON action_items (incident, id);
CREATE INDEX action_items_open_by_due ON action_items (due, id) WHERE status IN ('open', 'in_progress');

-- Every incident each alert identity ever joined (the `alerts` projection keeps only the
-- latest), so related incidents sharing an alert are found by index. Written with the
-- alert_attached event; filled here from the events already stored.
CREATE TABLE incident_alert_keys (
    integration TEXT    NOT NULL,
    dedup_key   TEXT    NOT NULL,
    incident    INTEGER NOT NULL REFERENCES incidents (number),
    PRIMARY KEY (integration, dedup_key, incident)
);
INSERT OR IGNORE INTO incident_alert_keys (integration, dedup_key, incident)
SELECT json_extract(data, '$.integration'), json_extract(data, '$.dedup_key'), incident
FROM incident_events WHERE kind = 'alert_attached';
