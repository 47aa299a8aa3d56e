-- The complete merchant API: OAuth tokens, event listing filters, simulated events, single-attempt
-- deliveries (simulations), and event-type schemas.

ALTER TABLE events ADD COLUMN resource_id TEXT; -- the resource's own "id", for the transaction_id filter
ALTER TABLE events ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_by_resource ON events(account_id, resource_id) WHERE resource_id IS NOT NULL;

ALTER TABLE deliveries ADD COLUMN single_attempt INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_failed_by_webhook ON deliveries(webhook_id, created_at) WHERE state = 'failed';

ALTER TABLE event_types ADD COLUMN schema TEXT;

CREATE TABLE oauth_tokens (
    token_hash BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX oauth_tokens_by_account ON oauth_tokens(account_id);
