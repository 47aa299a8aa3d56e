-- When the webhook's current streak of failed attempts began (null: its last attempt succeeded), so that
-- a webhook failing for days is disabled.
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
