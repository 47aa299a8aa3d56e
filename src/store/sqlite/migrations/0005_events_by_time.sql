-- The retention job walks events by age.
CREATE INDEX events_by_time ON events(created_at);
