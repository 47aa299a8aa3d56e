-- Test and live mode, API keys and request logs. An account's test environment is a row of `accounts`
-- of its own, pointing at its live account; credentials move from `accounts` to `api_keys`, where the
-- account's existing credential becomes its first live key (same client id and secret). Rebuilding
-- `accounts` needs foreign keys off, which the migration runner does for every migration.

CREATE TABLE api_keys (
    id                  TEXT PRIMARY KEY,
    owner_id            TEXT NOT NULL REFERENCES accounts(id),
    account_id          TEXT NOT NULL REFERENCES accounts(id), -- the environment the key opens
    name                TEXT NOT NULL,
    mode                TEXT NOT NULL,
    scope               TEXT NOT NULL,
    client_id           TEXT NOT NULL UNIQUE,
    secret_hash         BLOB NOT NULL,
    previous_hash       BLOB,
    previous_expires_at INTEGER,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER,
    revoked_at          INTEGER
) STRICT;
CREATE INDEX api_keys_by_owner ON api_keys(owner_id, id);

INSERT INTO api_keys (id, owner_id, account_id, name, mode, scope, client_id, secret_hash, created_at)
    SELECT 'key_' || substr(id, 6), id, id, 'Default', 'live', 'full', client_id, secret_hash, created_at
    FROM accounts;

CREATE TABLE accounts_rebuilt (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    live_account_id TEXT REFERENCES accounts(id) -- set on a test environment
) STRICT;
INSERT INTO accounts_rebuilt (id, name, created_at) SELECT id, name, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_rebuilt RENAME TO accounts;
CREATE UNIQUE INDEX accounts_test_environment ON accounts(live_account_id) WHERE live_account_id IS NOT NULL;

ALTER TABLE oauth_tokens ADD COLUMN key_id TEXT REFERENCES api_keys(id);
UPDATE oauth_tokens SET key_id = 'key_' || substr(account_id, 6);
CREATE INDEX oauth_tokens_by_key ON oauth_tokens(key_id);

CREATE TABLE request_logs (
    id              TEXT PRIMARY KEY, -- the request's Request-Id
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    api_key_id      TEXT NOT NULL,
    mode            TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    status          INTEGER NOT NULL,
    duration_ms     INTEGER NOT NULL,
    idempotency_key TEXT,
    client_address  TEXT,
    event_id        TEXT,
    request_body    TEXT,
    response_body   TEXT,
    created_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID; -- the id is the key: one tree fewer to write per request
CREATE INDEX request_logs_by_account ON request_logs(account_id, id);
CREATE INDEX request_logs_by_event ON request_logs(account_id, event_id) WHERE event_id IS NOT NULL;
