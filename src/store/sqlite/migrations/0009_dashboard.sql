-- The dashboard's attempts tabs (Succeeded / Failed / Pending) and its failure rate over the last day read
-- one webhook's deliveries of one state, newest first: this index answers both without visiting the rows.
CREATE INDEX deliveries_by_webhook_state ON deliveries(webhook_id, state, id);
