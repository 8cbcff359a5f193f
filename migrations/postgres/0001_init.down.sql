-- Reverts 0001_init.up.sql: drops everything it created. Dropping a table drops
-- its indexes, constraints and triggers with it; children go before `users`.

DROP TABLE quantum_jobs;
DROP TABLE usage_records;
DROP TABLE user_preferences;
DROP TABLE api_keys;
DROP TABLE oauth_connections;
DROP TABLE user_sessions;
DROP TABLE users;
DROP FUNCTION qhub_set_updated_at();
