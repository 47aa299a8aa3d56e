-- Listener streams read an account's events in commit order: each event carries the id of the transaction
-- that wrote it, and a stream reads only transactions older than every one still running, so one that
-- commits late behind a newer one is waited for. Rows from before this migration have none and are never
-- streamed. Adding the column without a default rewrites nothing; the default applies to new rows.
ALTER TABLE events ADD COLUMN txid xid8;
ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX events_in_commit_order ON events(account_id, txid, id);
