-- Several nodes on one database: each node registers and heartbeats here; a node whose
-- heartbeat is older than the lease is taken over by another (its jobs recovered, its
-- agents restarted elsewhere). Agents record the node that runs them.

CREATE TABLE nodes (
    id             TEXT PRIMARY KEY,
    -- Tells this start of the node apart from an earlier one with the same id.
    instance       TEXT NOT NULL,
    -- all, api, worker
    role           TEXT NOT NULL,
    version        TEXT NOT NULL,
    hostname       TEXT NOT NULL,
    -- alive; lost (its lease lapsed and another node took its work); left (shut down)
    state          TEXT NOT NULL,
    started_at     BIGINT NOT NULL,
    heartbeat_at   BIGINT NOT NULL,
    lease_ms       BIGINT NOT NULL,
    workers        BIGINT NOT NULL DEFAULT 0,
    running_jobs   BIGINT NOT NULL DEFAULT 0,
    running_agents BIGINT NOT NULL DEFAULT 0,
    -- The one-minute load average of the machine, times 100.
    load_centi     BIGINT NOT NULL DEFAULT 0,
    memory_used_mb BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE agents ADD COLUMN node_id TEXT;
-- Set when a stop was asked on another node than the one that runs the agent.
ALTER TABLE agents ADD COLUMN stop_requested BIGINT NOT NULL DEFAULT 0;

-- Messages for an agent that runs on another node than the one that took them; the
-- running node moves them into the agent's mailbox.
CREATE TABLE agent_messages (
    id         TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX agent_messages_by_agent ON agent_messages (agent_id, id);
CREATE INDEX jobs_running_by_worker ON jobs (worker_id, status);
