-- QHub schema for PostgreSQL (13 or later: gen_random_uuid() is built in).
--
-- The same logical schema as migrations/d1/0001_init.sql: the same tables and
-- columns, the same nullability, and the same names for every primary key, unique
-- constraint, foreign key and index, so that errors name the same constraints on
-- both backends. host/runtime/tests/schema.rs checks the two are equal. Only the
-- types are PostgreSQL's own:
-- - ids are `uuid` (the store plugin lets the database generate them);
-- - times are `timestamptz` (the plugin converts to and from milliseconds since
--   the Unix epoch, the WIT `timestamp`);
-- - JSON documents are `jsonb`, which validates them on the way in (D1 needs
--   json_valid() CHECKs for that) and stores them in a normalised form;
-- - counts are `bigint`: wide enough for the WIT's u32 fields, and for its u64
--   ones up to 2^63 - 1, the same range as SQLite's INTEGER.
--
-- Foreign keys cascade on user deletion as a safety net; the store plugin still
-- deletes a user's rows explicitly, as store-d1 does.

-- Keeps `updated_at` current for UPDATEs that do not set it themselves (a fix made
-- by hand in psql, say). An UPDATE that changes `updated_at` keeps its own value:
-- the store plugin always does, passing the core's clock, so that both backends
-- return the same times. "Sets it" can only be seen as "changes it", so the plugin
-- nudges its value by one microsecond when it equals the old one (see
-- plugins/store-postgres/src/columns.rs); milliseconds read back unchanged.
CREATE FUNCTION qhub_set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Stored normalised (trimmed, lowercase) by the core. D1 adds COLLATE NOCASE as
    -- defence in depth; here the CHECK refuses anything but the lowercase form, so
    -- the plain unique constraint is case-insensitive uniqueness.
    email text NOT NULL,
    display_name text,
    -- Argon2id PHC string; NULL for accounts that only sign in through OAuth.
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_check CHECK (email = lower(email))
);

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION qhub_set_updated_at();

CREATE TABLE user_sessions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    user_agent text,
    ip text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT user_sessions_pkey PRIMARY KEY (id),
    CONSTRAINT user_sessions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- list-sessions and revoke-sessions: a user's sessions, newest first.
CREATE INDEX idx_user_sessions_user_id_created_at
    ON user_sessions (user_id, created_at);

CREATE TABLE oauth_connections (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    provider text NOT NULL,
    -- The provider's stable subject identifier.
    subject text NOT NULL,
    email text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth_connections_pkey PRIMARY KEY (id),
    CONSTRAINT oauth_connections_provider_subject_key UNIQUE (provider, subject),
    CONSTRAINT oauth_connections_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

-- list-oauth-connections and delete-user.
CREATE INDEX idx_oauth_connections_user_id
    ON oauth_connections (user_id);

CREATE TABLE api_keys (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    name text NOT NULL,
    -- The visible start of the key, so a user can tell keys apart.
    prefix text NOT NULL,
    -- Only a hash of the secret is ever stored.
    secret_hash text NOT NULL,
    -- A JSON array of strings.
    scopes jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_scopes_check CHECK (jsonb_typeof(scopes) = 'array')
);

-- list-api-keys and delete-user.
CREATE INDEX idx_api_keys_user_id
    ON api_keys (user_id);

CREATE TABLE user_preferences (
    user_id uuid NOT NULL,
    key text NOT NULL,
    -- A JSON document; jsonb only accepts valid ones, which is what D1's
    -- user_preferences_value_check does.
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Also serves list-preferences (lookups by user_id), so no separate index.
    CONSTRAINT user_preferences_pkey PRIMARY KEY (user_id, key),
    CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE TRIGGER user_preferences_set_updated_at
    BEFORE UPDATE ON user_preferences
    FOR EACH ROW EXECUTE FUNCTION qhub_set_updated_at();

-- One row per user and quota period; counters only ever grow, and only through
-- submit-job's conditional update.
CREATE TABLE usage_records (
    user_id uuid NOT NULL,
    -- The period's label, chosen by the core ("2026-11").
    period text NOT NULL,
    jobs bigint NOT NULL,
    shots bigint NOT NULL,
    -- Also serves get-usage and submit-job's upsert target, so no separate index.
    CONSTRAINT usage_records_pkey PRIMARY KEY (user_id, period),
    CONSTRAINT usage_records_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT usage_records_jobs_check CHECK (jobs >= 0),
    CONSTRAINT usage_records_shots_check CHECK (shots >= 0)
);

CREATE TABLE quantum_jobs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    status text NOT NULL,
    backend text NOT NULL,
    -- A u32 in the WIT, so wider than `integer`.
    shots bigint NOT NULL,
    -- The OpenQASM source as submitted.
    source text NOT NULL,
    -- A JSON document with the measurement results, once completed.
    result jsonb,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT quantum_jobs_pkey PRIMARY KEY (id),
    CONSTRAINT quantum_jobs_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT quantum_jobs_status_check
        CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT quantum_jobs_shots_check CHECK (shots >= 0)
);

CREATE TRIGGER quantum_jobs_set_updated_at
    BEFORE UPDATE ON quantum_jobs
    FOR EACH ROW EXECUTE FUNCTION qhub_set_updated_at();

-- list-jobs without a status filter: a user's jobs, newest first.
CREATE INDEX idx_quantum_jobs_user_id_created_at
    ON quantum_jobs (user_id, created_at);

-- list-jobs with a status filter, newest first.
CREATE INDEX idx_quantum_jobs_user_id_status_created_at
    ON quantum_jobs (user_id, status, created_at);
