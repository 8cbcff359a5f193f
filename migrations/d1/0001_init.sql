-- QHub schema for SQLite and Cloudflare D1.
--
-- Applied by sqlx's migrator (native host) and by `wrangler d1 migrations apply`
-- (Worker), so it holds only statements D1 accepts: no PRAGMA, no BEGIN/COMMIT.
--
-- Conventions:
-- - ids are TEXT (UUID v4 strings chosen by the store plugin);
-- - timestamps are INTEGER milliseconds since the Unix epoch, UTC;
-- - JSON documents are TEXT checked with json_valid();
-- - columns are NOT NULL exactly where the WIT record field is not an option;
-- - every constraint and index has an explicit name that also reads well in
--   PostgreSQL (`<table>_pkey`, `<table>_<cols>_key`, `<table>_<col>_fkey`,
--   `<table>_<col>_check`, `idx_<table>_<cols>`), because the PostgreSQL schema is
--   checked logically equal to this one.
--
-- Foreign keys cascade on user deletion as a safety net; the store plugin still
-- deletes a user's rows explicitly. SQLite only enforces them when the connection
-- has `foreign_keys` on (sqlx does this by default, D1 always does).

CREATE TABLE users (
    id TEXT NOT NULL,
    -- Arrives normalised (trimmed, lowercase); NOCASE is defence in depth so that
    -- uniqueness and lookups stay case-insensitive even if a caller slips.
    email TEXT NOT NULL COLLATE NOCASE,
    display_name TEXT,
    -- Argon2id PHC string; NULL for accounts that only sign in through OAuth.
    password_hash TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE user_sessions (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_agent TEXT,
    ip TEXT,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT user_sessions_pkey PRIMARY KEY (id),
    CONSTRAINT user_sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- list-sessions and revoke-sessions: a user's sessions, newest first.
CREATE INDEX idx_user_sessions_user_id_created_at
    ON user_sessions (user_id, created_at);

CREATE TABLE oauth_connections (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    -- The provider's stable subject identifier.
    subject TEXT NOT NULL,
    email TEXT,
    created_at INTEGER NOT NULL,
    CONSTRAINT oauth_connections_pkey PRIMARY KEY (id),
    CONSTRAINT oauth_connections_provider_subject_key UNIQUE (provider, subject),
    CONSTRAINT oauth_connections_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- list-oauth-connections and delete-user.
CREATE INDEX idx_oauth_connections_user_id
    ON oauth_connections (user_id);

CREATE TABLE api_keys (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- The visible start of the key, so a user can tell keys apart.
    prefix TEXT NOT NULL,
    -- Only a hash of the secret is ever stored.
    secret_hash TEXT NOT NULL,
    -- A JSON array of strings.
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_scopes_check
        CHECK (json_valid(scopes) AND json_type(scopes) = 'array')
);

-- list-api-keys and delete-user.
CREATE INDEX idx_api_keys_user_id
    ON api_keys (user_id);

CREATE TABLE user_preferences (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    -- A JSON document.
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    -- Also serves list-preferences (lookups by user_id), so no separate index.
    CONSTRAINT user_preferences_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_preferences_value_check CHECK (json_valid(value))
);

-- One row per user and quota period; counters only ever grow, and only through
-- submit-job's conditional update.
CREATE TABLE usage_records (
    user_id TEXT NOT NULL,
    -- The period's label, chosen by the core ("2026-11").
    period TEXT NOT NULL,
    jobs INTEGER NOT NULL,
    shots INTEGER NOT NULL,
    -- Also serves get-usage and submit-job's upsert target, so no separate index.
    CONSTRAINT usage_records_pkey PRIMARY KEY (user_id, period),
    CONSTRAINT usage_records_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT usage_records_jobs_check CHECK (jobs >= 0),
    CONSTRAINT usage_records_shots_check CHECK (shots >= 0)
);

CREATE TABLE quantum_jobs (
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    backend TEXT NOT NULL,
    shots INTEGER NOT NULL,
    -- The OpenQASM source as submitted.
    source TEXT NOT NULL,
    -- A JSON document with the measurement results, once completed.
    result TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT quantum_jobs_pkey PRIMARY KEY (id),
    CONSTRAINT quantum_jobs_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT quantum_jobs_status_check
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT quantum_jobs_shots_check CHECK (shots >= 0),
    CONSTRAINT quantum_jobs_result_check CHECK (result IS NULL OR json_valid(result))
);

-- list-jobs without a status filter: a user's jobs, newest first.
CREATE INDEX idx_quantum_jobs_user_id_created_at
    ON quantum_jobs (user_id, created_at);

-- list-jobs with a status filter, newest first.
CREATE INDEX idx_quantum_jobs_user_id_status_created_at
    ON quantum_jobs (user_id, status, created_at);
