-- How a webhook's deliveries are signed (hmac-sha256 or ed25519), and the api_version of Stripe envelopes.
ALTER TABLE webhooks ADD COLUMN signing TEXT NOT NULL DEFAULT 'hmac-sha256';
ALTER TABLE webhooks ADD COLUMN api_version TEXT;
