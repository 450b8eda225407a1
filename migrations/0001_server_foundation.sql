-- Users, personal API tokens and the hash-chained audit log.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Ids are TEXT (UUIDv7),
-- timestamps are BIGINT unix milliseconds, integers are BIGINT so the `Any` driver
-- decodes them as i64 on both backends; flags are BIGINT 0/1 because the `Any` driver
-- cannot decode SQLite's BOOLEAN.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    disabled       BIGINT NOT NULL DEFAULT 0,
    theme          TEXT NOT NULL DEFAULT 'system' CHECK (theme IN ('light', 'dark', 'system')),
    -- Bumped on password change, disable and role change; access tokens carry it and
    -- stop working when it moves.
    auth_version   BIGINT NOT NULL DEFAULT 0,
    totp_secret    TEXT,
    totp_enabled   BIGINT NOT NULL DEFAULT 0,
    -- Last accepted TOTP time step: a code is never accepted twice.
    totp_last_step BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- SHA-256 (hex) of the full token; the token itself is never stored.
    token_hash   TEXT NOT NULL UNIQUE,
    -- First characters of the token, shown in listings to recognise it.
    prefix       TEXT NOT NULL,
    -- Space-separated subset of: read write admin
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE audit_log (
    -- Position in the hash chain, assigned by the appender (1, 2, 3, ...).
    seq        BIGINT PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    source_ip  TEXT,
    outcome    TEXT NOT NULL,
    -- Canonical JSON text (sorted keys); hashed as stored.
    details    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE INDEX audit_log_actor ON audit_log (actor);
CREATE INDEX audit_log_action ON audit_log (action);
CREATE INDEX audit_log_at ON audit_log (at);
