-- Temporary delivery channels (`herald listen`): a merchant's events streamed to a developer's machine,
-- signed with the listener's own secret. They go when the CLI exits, or after an hour without a stream.
CREATE TABLE listeners (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    format        TEXT NOT NULL,
    event_types   TEXT NOT NULL, -- JSON array of names, "*" for all
    sealed_secret BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX listeners_by_last_seen ON listeners(last_seen_at);
