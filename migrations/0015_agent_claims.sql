-- Each time a node takes an agent to run it (and each time an agent is moved off a
-- node) its claim counts up; the supervisor's writes (state, history, status,
-- heartbeat, CPU time, restart counters) are for one claim, so a node that lost the
-- agent and holds it again under a newer claim cannot write for the older one.
ALTER TABLE agents ADD COLUMN claim BIGINT NOT NULL DEFAULT 0;
