-- A log entry's structured fields (JSON) in a column of their own. They used to follow
-- the message after a NUL byte, which PostgreSQL's text type cannot hold: such entries
-- were refused there. Rows written before keep that form and are still read.
ALTER TABLE job_logs ADD COLUMN fields TEXT;
