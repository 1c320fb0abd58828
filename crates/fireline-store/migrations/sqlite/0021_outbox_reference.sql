-- What the far end calls a message it accepted (Slack: `channel/ts`), so a post about an
-- incident can be edited in place as the incident changes.
ALTER TABLE outbox ADD COLUMN reference TEXT;
