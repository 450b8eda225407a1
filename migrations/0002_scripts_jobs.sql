-- Scripts with immutable versions, the job queue, job logs and per-script state.
-- Same portability rules as 0001: TEXT ids, BIGINT unix milliseconds and 0/1 flags.

CREATE TABLE scripts (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    -- JSON array of strings.
    tags            TEXT NOT NULL DEFAULT '[]',
    current_version BIGINT NOT NULL,
    -- Run settings as JSON: timeout_seconds, memory_mb, retries, retry_backoff_seconds.
    settings        TEXT NOT NULL,
    -- Most jobs of this script running at once.
    max_concurrency BIGINT NOT NULL DEFAULT 1,
    -- The script's capabilities (HTTP and email allowlists, secrets) as JSON.
    capabilities    TEXT NOT NULL DEFAULT '{}',
    expose_as_tool  BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE script_versions (
    script_id   TEXT NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    source      TEXT NOT NULL,
    -- JSON Schema of main()'s arguments, read from its signature.
    parameters  TEXT NOT NULL,
    has_main    BIGINT NOT NULL,
    doc         TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (script_id, version)
);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    script_id         TEXT NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    script_version    BIGINT NOT NULL,
    owner_id          TEXT NOT NULL,
    -- manual, webhook, schedule
    trigger_kind      TEXT NOT NULL,
    args              TEXT NOT NULL,
    -- queued, running, succeeded, failed, timed_out, memory_exceeded, cancelled, interrupted
    status            TEXT NOT NULL,
    attempt           BIGINT NOT NULL DEFAULT 1,
    max_attempts      BIGINT NOT NULL DEFAULT 1,
    -- Not claimed before this time (retry backoff).
    run_after         BIGINT NOT NULL,
    worker_id         TEXT,
    cancel_requested  BIGINT NOT NULL DEFAULT 0,
    result            TEXT,
    error             TEXT,
    stdout            TEXT,
    stderr            TEXT,
    progress          DOUBLE PRECISION,
    progress_message  TEXT,
    duration_ms       BIGINT,
    peak_memory_bytes BIGINT,
    host_calls        BIGINT,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT,
    finished_at       BIGINT
);

CREATE INDEX jobs_queue ON jobs (status, run_after, created_at);
CREATE INDEX jobs_script ON jobs (script_id, created_at);
CREATE INDEX jobs_owner ON jobs (owner_id, created_at);

CREATE TABLE job_logs (
    job_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    -- stdout, stderr, log, progress, system
    stream  TEXT NOT NULL,
    level   TEXT,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE script_state (
    script_id  TEXT NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (script_id, key)
);
