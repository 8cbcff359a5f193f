-- Reverts 0002_login_throttles.up.sql.

DROP TABLE login_throttles;
