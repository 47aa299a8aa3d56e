-- Per-webhook delivery rules (rate limit, concurrency, ordering, custom headers) as one JSON object;
-- whether they pace deliveries (which then wait for the claim instead of going straight to a worker); and
-- the rate limiter's state: the earliest time the webhook's next delivery may start.
ALTER TABLE webhooks ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE webhooks ADD COLUMN paced BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE webhooks ADD COLUMN next_slot_at BIGINT;
CREATE INDEX deliveries_pending_by_webhook ON deliveries(webhook_id, id) WHERE state = 'pending';
