-- Which Herald process made each attempt (several share one database on PostgreSQL).
ALTER TABLE attempts ADD COLUMN node TEXT;
