-- The dashboard's Failed tab reads one webhook's failed deliveries newest first, and its failure rate
-- counts them since a time: both by id. A partial index holds only failed rows, which enter it once, when
-- they fail for good, so the ordinary path (pending, then succeeded) never touches it. (Pending ones have
-- `deliveries_pending_by_webhook`; the Succeeded tab walks `deliveries_by_webhook`, mostly succeeded rows.)
CREATE INDEX deliveries_failed_by_webhook_id ON deliveries(webhook_id, id) WHERE state = 'failed';
