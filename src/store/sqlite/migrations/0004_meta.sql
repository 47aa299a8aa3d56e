-- Installation-wide facts, such as the fingerprint of the master key the data was sealed with.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
