-- Listener streams read an account's events in the order they were committed: row id order (the one
-- writer assigns row ids as it commits). An index on the account alone keeps each account's rows in it.
CREATE INDEX events_in_commit_order ON events(account_id);
