-- Events, deliveries and attempts become tables partitioned by event id. Event ids begin with their creation
-- time (see domain::ids), so a range of ids is a span of time, and a delivery or an attempt lives in the
-- partition of its event: retention drops an old span's three tables at once instead of deleting rows, and
-- each partition's indexes hold only its own span. Herald creates the partitions ahead of time and lists
-- them in history_partitions. The rows stored before this migration become the first partition, which
-- covers every id made until now ("p0").

-- The smallest id with `prefix` made at `at_ms`: the 48 bits of milliseconds in 10 base32 characters,
-- then zeros (the same as EventId::floor_at).
CREATE FUNCTION herald_id_floor(prefix TEXT, at_ms BIGINT) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    alphabet CONSTANT TEXT := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    digits TEXT := '';
    rest BIGINT := at_ms;
BEGIN
    FOR i IN 1..10 LOOP
        digits := substr(alphabet, (rest % 32)::INTEGER + 1, 1) || digits;
        rest := rest / 32;
    END LOOP;
    RETURN prefix || digits || repeat('0', 16);
END $$;

-- One row per span: its tables are events_p<starts_at>, deliveries_p<starts_at>, attempts_p<starts_at>, and
-- they hold the events made in [starts_at, ends_at) (milliseconds since the epoch; p0 starts at 0).
CREATE TABLE history_partitions (
    starts_at BIGINT PRIMARY KEY,
    ends_at   BIGINT NOT NULL
);

-- A partitioned table's keys must contain its partition key, and dropping a span must not wait on
-- references between spans: the links between events, deliveries and attempts are kept by Herald, which
-- writes them together and drops them together. The references to accounts and webhooks go too: neither
-- is ever deleted (a webhook is marked deleted), and checking them cost a lookup and a row lock per event
-- and per delivery written.
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_webhook_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_account_id_fkey;
-- The deliveries' key leads with their event, so it also finds an event's deliveries.
DROP INDEX deliveries_by_event;
ALTER TABLE attempts DROP CONSTRAINT attempts_pkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_pkey;

ALTER TABLE attempts ADD COLUMN event_id TEXT COLLATE "C";
UPDATE attempts a SET event_id = d.event_id FROM deliveries d WHERE d.id = a.delivery_id;
DELETE FROM attempts WHERE event_id IS NULL;
ALTER TABLE attempts ALTER COLUMN event_id SET NOT NULL;
-- Only a pending delivery holds a lease token (recording an attempt relies on it); cancelling used to
-- leave the token behind.
UPDATE deliveries SET lease_token = NULL WHERE state <> 'pending' AND lease_token IS NOT NULL;
-- Ids compare byte by byte, whatever the database's collation.
ALTER TABLE events ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE deliveries ALTER COLUMN event_id TYPE TEXT COLLATE "C";

ALTER TABLE events RENAME TO events_p0;
ALTER TABLE events_p0 RENAME CONSTRAINT events_pkey TO events_p0_pkey;
ALTER INDEX events_by_account RENAME TO events_p0_by_account;
ALTER INDEX events_by_resource RENAME TO events_p0_by_resource;
ALTER INDEX events_by_time RENAME TO events_p0_by_time;
ALTER TABLE deliveries RENAME TO deliveries_p0;
ALTER INDEX deliveries_due RENAME TO deliveries_p0_due;
ALTER INDEX deliveries_by_webhook RENAME TO deliveries_p0_by_webhook;
ALTER INDEX deliveries_failed_by_webhook RENAME TO deliveries_p0_failed_by_webhook;
ALTER INDEX deliveries_pending_by_webhook RENAME TO deliveries_p0_pending_by_webhook;
ALTER INDEX deliveries_failed_by_webhook_id RENAME TO deliveries_p0_failed_by_webhook_id;
ALTER TABLE attempts RENAME TO attempts_p0;
ALTER INDEX attempts_by_delivery RENAME TO attempts_p0_by_delivery;

CREATE TABLE events (
    id          TEXT COLLATE "C" NOT NULL,
    account_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    resource_id TEXT,
    simulated   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);
CREATE INDEX events_by_account ON events(account_id, id);
CREATE INDEX events_by_resource ON events(account_id, resource_id) WHERE resource_id IS NOT NULL;

CREATE TABLE deliveries (
    id               TEXT NOT NULL,
    event_id         TEXT COLLATE "C" NOT NULL,
    webhook_id       TEXT NOT NULL,
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
    single_attempt   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (event_id, id)
) PARTITION BY RANGE (event_id);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_webhook ON deliveries(webhook_id, id);
CREATE INDEX deliveries_failed_by_webhook ON deliveries(webhook_id, created_at) WHERE state = 'failed';
CREATE INDEX deliveries_pending_by_webhook ON deliveries(webhook_id, id) WHERE state = 'pending';
CREATE INDEX deliveries_failed_by_webhook_id ON deliveries(webhook_id, id) WHERE state = 'failed';

CREATE TABLE attempts (
    id                 TEXT NOT NULL,
    delivery_id        TEXT NOT NULL,
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
    error_message      TEXT,
    node               TEXT,
    event_id           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (id, event_id)
) PARTITION BY RANGE (event_id);
CREATE INDEX attempts_by_delivery ON attempts(delivery_id, number);

DO $$
DECLARE
    upto BIGINT := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    bound TEXT := herald_id_floor('evt_', upto);
BEGIN
    EXECUTE format('ALTER TABLE events ATTACH PARTITION events_p0 FOR VALUES FROM (MINVALUE) TO (%L)', bound);
    EXECUTE format('ALTER TABLE deliveries ATTACH PARTITION deliveries_p0 FOR VALUES FROM (MINVALUE) TO (%L)', bound);
    EXECUTE format('ALTER TABLE attempts ATTACH PARTITION attempts_p0 FOR VALUES FROM (MINVALUE) TO (%L)', bound);
    INSERT INTO history_partitions VALUES (0, upto);
END $$;
