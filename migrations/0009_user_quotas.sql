-- Per-user overrides of the server's resource ceilings ([quotas] in the config file),
-- set by an admin. NULL in a column: the server's ceiling applies.

CREATE TABLE user_quotas (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    memory_mb        BIGINT,
    timeout_seconds  BIGINT,
    agents           BIGINT,
    running_jobs     BIGINT,
    updated_at       BIGINT NOT NULL
);
