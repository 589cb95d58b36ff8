-- WAIT store, fifth schema version (SQLite): API tokens that expire and are revoked
-- rather than deleted (so a listing still shows them), and users that can be disabled.
-- Kept in step with migrations/postgres/0005.

-- NULL: the token never expires
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
-- set once when the token is revoked; a revoked token never authenticates again
ALTER TABLE api_tokens ADD COLUMN revoked_at INTEGER;
-- set while the account is disabled: no login, and its sessions and tokens are refused
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
