-- Host plugins: WASM components of the `plugin` world, installed by admins.
-- The component itself lives in plugin_blobs (base64 text, portable to both
-- backends), keyed by its SHA-256, so listing plugins never reads megabytes.

CREATE TABLE plugins (
    name         TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    description  TEXT NOT NULL,
    -- The manifest the plugin returned at install (JSON).
    manifest     TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    enabled      BIGINT NOT NULL DEFAULT 0,
    -- What an admin granted: {"http": [rules], "secrets": [names], "state": bool}.
    grants       TEXT NOT NULL DEFAULT '{}',
    memory_mb    BIGINT NOT NULL DEFAULT 128,
    timeout_ms   BIGINT NOT NULL DEFAULT 10000,
    -- upload (API/UI) or folder (dropped into the data dir's plugins folder)
    source       TEXT NOT NULL,
    installed_by TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE plugin_blobs (
    sha256 TEXT PRIMARY KEY,
    wasm   TEXT NOT NULL
);

-- A plugin's own key-value state (granted with "state": true).
CREATE TABLE plugin_state (
    plugin     TEXT NOT NULL REFERENCES plugins (name) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (plugin, key)
);
