-- Herald's schema on PostgreSQL: the same tables and meaning as on SQLite. Times are integer milliseconds
-- since the Unix epoch.

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    client_id   TEXT NOT NULL UNIQUE,
    secret_hash BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE event_types (
    name             TEXT PRIMARY KEY,
    description      TEXT NOT NULL,
    resource_type    TEXT,
    resource_version TEXT,
    sample           TEXT,
    schema           TEXT,
    status           TEXT NOT NULL DEFAULT 'ENABLED',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    status          TEXT NOT NULL,
    format          TEXT NOT NULL,
    description     TEXT,
    disabled_reason TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT
);
CREATE UNIQUE INDEX webhooks_one_per_url ON webhooks(account_id, url) WHERE deleted_at IS NULL;

CREATE TABLE webhook_secrets (
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX webhook_secrets_by_webhook ON webhook_secrets(webhook_id, created_at);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    event_type  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    resource_id TEXT,
    simulated   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX events_by_account ON events(account_id, id);
CREATE INDEX events_by_resource ON events(account_id, resource_id) WHERE resource_id IS NOT NULL;
CREATE INDEX events_by_time ON events(created_at);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events(id),
    webhook_id       TEXT NOT NULL REFERENCES webhooks(id),
    account_id       TEXT NOT NULL,
    state            TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    attempt_count    INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    next_attempt_at  BIGINT,
    leased_until     BIGINT,
    lease_token      BIGINT,
    single_attempt   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries(webhook_id, id);
CREATE INDEX deliveries_by_event ON deliveries(event_id);
CREATE INDEX deliveries_failed_by_webhook ON deliveries(webhook_id, created_at) WHERE state = 'failed';

CREATE TABLE attempts (
    id                 TEXT PRIMARY KEY,
    delivery_id        TEXT NOT NULL REFERENCES deliveries(id),
    number             INTEGER NOT NULL,
    started_at         BIGINT NOT NULL,
    duration_ms        BIGINT NOT NULL,
    trigger            TEXT NOT NULL,
    request_url        TEXT NOT NULL,
    request_headers    TEXT NOT NULL,
    response_status    INTEGER,
    response_headers   TEXT,
    response_body      BYTEA,
    response_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    error_code         TEXT,
    error_message      TEXT
);
CREATE INDEX attempts_by_delivery ON attempts(delivery_id, number);

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash BYTEA NOT NULL,
    response     BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE oauth_tokens (
    token_hash BYTEA PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oauth_tokens_by_account ON oauth_tokens(account_id);
