-- The W3C trace context a publisher sent with an event, which every delivery of it continues.
ALTER TABLE events ADD COLUMN traceparent TEXT, ADD COLUMN tracestate TEXT;
