-- Sign-in throttling: failed sign-ins counted per key (a normalised email or a
-- client address), and the lock they lead to. The same logical table as
-- migrations/d1/0002_login_throttles.sql.
--
-- The key is not a user id and has no foreign key: throttling must work for
-- emails no account has, so that it reveals nothing about which ones exist.
-- Deleting a user therefore leaves these rows alone; the core clears its key.
-- `failures` is a `bigint` like every count of 0001_init.up.sql (the host hands
-- integers back as INT8); times are `timestamptz`.

CREATE TABLE login_throttles (
    key text NOT NULL,
    -- Failures since `window_started_at`.
    failures bigint NOT NULL,
    window_started_at timestamptz NOT NULL,
    -- Sign-ins under this key are refused until then.
    locked_until timestamptz,
    CONSTRAINT login_throttles_pkey PRIMARY KEY (key),
    CONSTRAINT login_throttles_failures_check CHECK (failures >= 0)
);
