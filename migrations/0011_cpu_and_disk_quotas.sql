-- CPU used per job (measured CPU time, and fuel when the runtime counts it), and the
-- per-user overrides of the CPU budget and the disk quotas ([quotas] in the config).

ALTER TABLE jobs ADD COLUMN cpu_time_ms BIGINT;
ALTER TABLE jobs ADD COLUMN fuel_consumed BIGINT;

ALTER TABLE user_quotas ADD COLUMN cpu_seconds BIGINT;
ALTER TABLE user_quotas ADD COLUMN data_mb BIGINT;
ALTER TABLE user_quotas ADD COLUMN artifacts_mb BIGINT;
ALTER TABLE user_quotas ADD COLUMN tmp_mb BIGINT;
