-- Pure-Python dependencies of a script version: the requirement lines as a JSON
-- array, and the content hash of the resolved environment (NULL without any).
ALTER TABLE script_versions ADD COLUMN requirements TEXT NOT NULL DEFAULT '[]';
ALTER TABLE script_versions ADD COLUMN env_hash TEXT;
