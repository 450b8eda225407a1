-- Agents: long-running scripts under supervision, and their event history
-- (state transitions, emitted events and log lines).

CREATE TABLE agents (
    id                   TEXT PRIMARY KEY,
    owner_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    script_id            TEXT NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    args                 TEXT NOT NULL DEFAULT '{}',
    -- never, on-failure, always
    restart_policy       TEXT NOT NULL DEFAULT 'on-failure',
    -- Restarts within a minute of starting, in a row, before the agent is `fatal`.
    max_quick_restarts   BIGINT NOT NULL DEFAULT 5,
    backoff_seconds      BIGINT NOT NULL DEFAULT 1,
    memory_mb            BIGINT NOT NULL DEFAULT 128,
    autostart            BIGINT NOT NULL DEFAULT 0,
    -- Restart when no agent call happened for this long (0: never).
    hang_timeout_seconds BIGINT NOT NULL DEFAULT 0,
    stop_grace_seconds   BIGINT NOT NULL DEFAULT 10,
    -- stopped, starting, running, backoff, stopping, exited, fatal
    state                TEXT NOT NULL DEFAULT 'stopped',
    state_reason         TEXT,
    status_text          TEXT,
    status_metrics       TEXT,
    restarts             BIGINT NOT NULL DEFAULT 0,
    started_at           BIGINT,
    last_heartbeat_at    BIGINT,
    last_exit            TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (owner_id, name)
);

CREATE TABLE agent_events (
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    seq      BIGINT NOT NULL,
    at       BIGINT NOT NULL,
    -- event, transition, stdout, stderr, log
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (agent_id, seq)
);
