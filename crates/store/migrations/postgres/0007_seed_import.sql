-- WAIT store, seed-import bookkeeping (PostgreSQL). Kept in step with migrations/sqlite/0007.
-- (Numbered 0007 so it cannot collide with a 0006 written at the same time.)
--
-- One row per row imported from the original WAIT database by `waitctl import-seed-db`:
-- running the import again finds the old id here and skips the row instead of
-- duplicating it.
CREATE TABLE seed_import (
    -- 'user', 'job' or 'webhook'
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'job', 'webhook')),
    -- the id in the original database, as text
    old_id      TEXT    NOT NULL,
    -- the id given here (users.id, build_jobs.job_id or webhooks.id, as text)
    new_id      TEXT    NOT NULL,
    imported_at BIGINT  NOT NULL,
    PRIMARY KEY (kind, old_id)
);
