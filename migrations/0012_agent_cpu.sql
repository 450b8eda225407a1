-- An agent's CPU budget per interval (NULL: the owner's ceiling, [quotas]
-- agent_cpu_seconds_per_minute) and the CPU time its instances used; an admin's
-- per-user override of that ceiling.

ALTER TABLE agents ADD COLUMN cpu_seconds BIGINT;
ALTER TABLE agents ADD COLUMN cpu_interval_seconds BIGINT NOT NULL DEFAULT 60;
ALTER TABLE agents ADD COLUMN cpu_time_ms BIGINT NOT NULL DEFAULT 0;

ALTER TABLE user_quotas ADD COLUMN agent_cpu_seconds_per_minute BIGINT;
