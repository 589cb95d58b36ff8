-- WAIT store, initial schema (SQLite).
--
-- Conventions shared with the PostgreSQL schema:
--   * every timestamp is an INTEGER holding Unix time in MILLISECONDS (UTC);
--   * lists and records (langpacks, warnings, resources, ...) are JSON text;
--   * job ids are UUIDs written as lowercase hyphenated text;
--   * booleans are compared with TRUE/FALSE in queries (SQLite stores 1/0).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'builder', 'viewer')),
    -- argon2id PHC string ($argon2id$v=19$...)
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    -- sha256 (hex) of the secret token; the token itself is never stored
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE build_jobs (
    job_id            TEXT    PRIMARY KEY,
    -- insertion order, used for FIFO ordering (ties broken by priority first)
    seq               INTEGER NOT NULL UNIQUE,
    -- 'Verified' is a legacy value that may exist in imported data; it reads as
    -- Completed and is never written by the store.
    status            TEXT    NOT NULL DEFAULT 'Queued' CHECK (status IN (
                          'Queued', 'Processing_Build', 'Pending_Validation',
                          'Processing_Validation', 'Completed', 'Failed_Build',
                          'Failed_Validation', 'Cancelled', 'Verified')),
    progress          INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    stage             TEXT,

    -- the request
    motherboard_model TEXT    NOT NULL,
    base_image        TEXT    NOT NULL,
    customer_name     TEXT    NOT NULL,
    image_index       TEXT    NOT NULL,
    driver_set        TEXT,
    langpacks         TEXT    NOT NULL DEFAULT '[]',
    updates           TEXT    NOT NULL DEFAULT '[]',
    software          TEXT    NOT NULL DEFAULT '[]',
    answer_file       TEXT,
    product_key       TEXT,
    key_variants      TEXT    NOT NULL,
    create_iso        BOOLEAN NOT NULL DEFAULT FALSE,
    compression       TEXT    NOT NULL,
    log_level         TEXT    NOT NULL CHECK (log_level IN ('normal', 'verbose')),

    created_by        TEXT,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,

    -- queue and lease
    attempt           INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL DEFAULT 3,
    run_after         INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    cancel_requested  BOOLEAN NOT NULL DEFAULT FALSE,
    priority          INTEGER NOT NULL DEFAULT 0,

    -- results
    error             TEXT,
    warnings          TEXT    NOT NULL DEFAULT '[]',
    output_dir        TEXT,
    output_files      TEXT    NOT NULL DEFAULT '[]',
    resources         TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX build_jobs_runnable_idx ON build_jobs (status, priority DESC, seq);
CREATE INDEX build_jobs_lease_idx ON build_jobs (status, lease_expires_at);
CREATE INDEX build_jobs_created_at_idx ON build_jobs (created_at);

CREATE TABLE job_logs (
    job_id  TEXT    NOT NULL REFERENCES build_jobs (job_id) ON DELETE CASCADE,
    -- 1, 2, 3, ... per job, without gaps
    seq     INTEGER NOT NULL,
    ts      INTEGER NOT NULL,
    level   TEXT    NOT NULL CHECK (level IN ('normal', 'verbose')),
    stage   TEXT,
    message TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL DEFAULT '[]',
    secret     TEXT,
    format     TEXT    NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
    created_by TEXT,
    created_at INTEGER NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE workers (
    name      TEXT    PRIMARY KEY,
    last_seen INTEGER NOT NULL
);
