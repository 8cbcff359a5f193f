-- Sign-in throttling: failed sign-ins counted per key (a normalised email or a
-- client address), and the lock they lead to.
--
-- The key is not a user id and has no foreign key: throttling must work for
-- emails no account has, so that it reveals nothing about which ones exist.
-- Deleting a user therefore leaves these rows alone; the core clears its key.
-- Times are INTEGER milliseconds since the Unix epoch, as in 0001_init.sql.

CREATE TABLE login_throttles (
    key TEXT NOT NULL,
    -- Failures since `window_started_at`.
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    -- Sign-ins under this key are refused until then.
    locked_until INTEGER,
    CONSTRAINT login_throttles_pkey PRIMARY KEY (key),
    CONSTRAINT login_throttles_failures_check CHECK (failures >= 0)
);
