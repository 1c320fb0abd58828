-- When an incident was first acknowledged, kept through reopenings (the listing's
-- acknowledged_at_us is the latest acknowledgement, cleared by a reopen): what the
-- response report measures time to acknowledge to.
ALTER TABLE incidents ADD COLUMN first_acknowledged_at_us BIGINT;
UPDATE incidents SET first_acknowledged_at_us = (
    SELECT MIN(e.at_us) FROM incident_events e
    WHERE e.incident = incidents.number AND e.kind = 'acknowledged'
);
