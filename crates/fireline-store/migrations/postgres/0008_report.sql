-- Reports read incidents by declaration time and events by kind.
CREATE INDEX incidents_by_declared ON incidents (declared_at_us);
CREATE INDEX incident_events_by_kind ON incident_events (kind, incident);
