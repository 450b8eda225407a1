-- Secrets (encrypted at rest), per-script webhook tokens and schedules.

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    -- hex(nonce || XChaCha20-Poly1305 ciphertext), with the name as associated data.
    ciphertext TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- SHA-256 (hex) of the script's webhook token; the token itself is never stored.
ALTER TABLE scripts ADD COLUMN webhook_token_hash TEXT;
CREATE UNIQUE INDEX scripts_webhook_token ON scripts (webhook_token_hash);

CREATE TABLE schedules (
    id            TEXT PRIMARY KEY,
    script_id     TEXT NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    owner_id      TEXT NOT NULL,
    -- once, interval, cron
    kind          TEXT NOT NULL,
    at            BIGINT,
    every_seconds BIGINT,
    cron          TEXT,
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    args          TEXT NOT NULL DEFAULT '{}',
    enabled       BIGINT NOT NULL DEFAULT 1,
    -- skip: no new job while one of this schedule is queued or running; queue: always
    overlap       TEXT NOT NULL DEFAULT 'skip',
    -- after downtime: skip the missed runs, or run_once
    catch_up      TEXT NOT NULL DEFAULT 'run_once',
    -- NULL once a schedule has nothing left to run.
    next_run_at   BIGINT,
    last_run_at   BIGINT,
    last_job_id   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX schedules_due ON schedules (enabled, next_run_at);
