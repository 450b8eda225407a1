-- Browser sessions for the web dashboard. Only the SHA-256 (hex) of the random session
-- id is stored; the cookie carries the id itself. A session dies at `expires_at`, when
-- revoked (logout), or when the user's `auth_version` moves (password, role or status
-- change), which the lookup checks against the version recorded at login.

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_version BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE INDEX sessions_user ON sessions (user_id);
