-- An admin's word on a component's public status, over what open incidents say.
CREATE TABLE status_overrides (
    service   TEXT    PRIMARY KEY,
    status    TEXT    NOT NULL,
    until_us  BIGINT,
    note      TEXT,
    set_by    TEXT    NOT NULL,
    set_at_us BIGINT NOT NULL
);
