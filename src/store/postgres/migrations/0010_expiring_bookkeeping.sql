-- Idempotency keys and access tokens expire; the retention job finds the old ones by time.
CREATE INDEX idempotency_keys_by_time ON idempotency_keys(created_at);
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens(expires_at);
