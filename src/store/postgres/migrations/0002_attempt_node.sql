-- Which Herald process made each attempt.
ALTER TABLE attempts ADD COLUMN node TEXT;
