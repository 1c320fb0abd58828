-- Contacts proven to reach their person: a test page to the address was acknowledged.
-- Keyed by a digest of the address, so changing a number or URL needs a new test and
-- no address is stored twice.
CREATE TABLE contact_checks (
    person TEXT NOT NULL,
    kind TEXT NOT NULL,
    address_digest TEXT NOT NULL,
    verified_at_us BIGINT NOT NULL,
    PRIMARY KEY (person, kind, address_digest)
);
