-- Rights follow the owner: disabling a user pauses their enabled schedules and stops
-- their running agents. These flags remember exactly what the disable paused, so
-- enabling the user again resumes that and nothing the user had stopped themselves.

ALTER TABLE schedules ADD COLUMN paused_by_owner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN paused_by_owner BIGINT NOT NULL DEFAULT 0;
