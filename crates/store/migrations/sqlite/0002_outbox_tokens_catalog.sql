-- WAIT store, second schema version (SQLite): the event outbox, webhook delivery log,
-- customers, motherboards, API tokens, worker details and lease hand-offs.
-- Same conventions as 0001; kept in step with migrations/postgres/0002.

-- Claims that ended without a failure (graceful release, build -> validation hand-off).
-- `attempt` stays the fencing token and only grows; `attempt - handoffs` is the number
-- of attempts that count against max_attempts.
ALTER TABLE build_jobs ADD COLUMN handoffs INTEGER NOT NULL DEFAULT 0;

-- The outbox: one row per job state change, written in the same transaction as the
-- change. `seq` is the delivery position, given to committed rows by the reader
-- (see backend::publish_events); NULL until then.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    seq        INTEGER UNIQUE,
    job_id     TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN (
                   'job.queued', 'job.started', 'job.build_succeeded', 'job.completed',
                   'job.failed', 'job.cancelled')),
    payload    TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE INDEX events_unpublished_idx ON events (id) WHERE seq IS NULL;
CREATE INDEX events_job_idx ON events (job_id);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    attempt         INTEGER NOT NULL DEFAULT 1,
    status_code     INTEGER,
    duration_ms     INTEGER,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    -- when the next try is due; NULL once delivered or given up
    next_attempt_at INTEGER
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,
    -- output folder naming rule, e.g. '{date}_{time}_{board}'; NULL = the default rule
    naming_template TEXT,
    -- default request values for this customer (JSON object)
    defaults        TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL
);

CREATE TABLE motherboards (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    model      TEXT    NOT NULL UNIQUE,
    scrape_url TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    -- sha256 (hex) of the secret; the secret itself is shown once and never stored
    token_sha256 TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

ALTER TABLE workers ADD COLUMN started_at INTEGER;
ALTER TABLE workers ADD COLUMN host TEXT;
ALTER TABLE workers ADD COLUMN pid INTEGER;
-- 'all', 'build' or 'validate'
ALTER TABLE workers ADD COLUMN stages TEXT NOT NULL DEFAULT 'all'
    CHECK (stages IN ('all', 'build', 'validate'));

-- The claim walks this index in claim order (priority, then FIFO) and stops at the
-- first runnable row; finished jobs, the vast majority over time, are not in it.
CREATE INDEX build_jobs_active_idx ON build_jobs (priority DESC, seq)
    WHERE status IN ('Queued', 'Processing_Build', 'Pending_Validation', 'Processing_Validation');
