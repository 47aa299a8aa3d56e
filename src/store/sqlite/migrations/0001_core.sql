-- Herald's core schema: accounts, the event-type catalog, webhooks and their secrets, events, deliveries,
-- attempts and idempotency keys. Times are integer milliseconds since the Unix epoch.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    client_id   TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE event_types (
    name             TEXT PRIMARY KEY,
    description      TEXT NOT NULL,
    resource_type    TEXT,
    resource_version TEXT,
    sample           TEXT,
    status           TEXT NOT NULL DEFAULT 'ENABLED',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL, -- JSON array of names, "*" for all
    status          TEXT NOT NULL,
    format          TEXT NOT NULL,
    description     TEXT,
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER
) STRICT;
CREATE UNIQUE INDEX webhooks_one_per_url ON webhooks(account_id, url) WHERE deleted_at IS NULL;

-- Signing secrets, encrypted with the installation's key. More than one is live during a roll.
CREATE TABLE webhook_secrets (
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) STRICT;
CREATE INDEX webhook_secrets_by_webhook ON webhook_secrets(webhook_id, created_at);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    event_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL -- the exact bytes every delivery sends
) STRICT;
CREATE INDEX events_by_account ON events(account_id, id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events(id),
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id),
    account_id       TEXT NOT NULL,
    state            TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    leased_until     INTEGER,
    lease_token      INTEGER
) STRICT;
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries(webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries(event_id);

-- Append-only: one row per HTTP try. The request body is the event's body and is not copied.
CREATE TABLE attempts (
    id                 TEXT PRIMARY KEY,
    delivery_id        TEXT NOT NULL REFERENCES deliveries(id),
    number             INTEGER NOT NULL,
    started_at         INTEGER NOT NULL,
    duration_ms        INTEGER NOT NULL,
    trigger            TEXT NOT NULL,
    request_url        TEXT NOT NULL,
    request_headers    TEXT NOT NULL, -- JSON array of [name, value]
    response_status    INTEGER,
    response_headers   TEXT,
    response_body      BLOB,
    response_truncated INTEGER NOT NULL DEFAULT 0,
    error_code         TEXT,
    error_message      TEXT
) STRICT;
CREATE INDEX attempts_by_delivery ON attempts(delivery_id, number);

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash BLOB NOT NULL,
    response     BLOB NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
