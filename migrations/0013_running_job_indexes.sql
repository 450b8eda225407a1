-- The claim counts running jobs per script and per owner for every candidate: only the
-- running ones, not each script's and owner's whole history.
CREATE INDEX jobs_running_by_script ON jobs (script_id) WHERE status = 'running';
CREATE INDEX jobs_running_by_owner ON jobs (owner_id) WHERE status = 'running';
