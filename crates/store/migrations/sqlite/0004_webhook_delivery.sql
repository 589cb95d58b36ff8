-- WAIT store, fourth schema version (SQLite): webhook delivery bookkeeping.
-- Kept in step with migrations/postgres/0004.
--
-- `webhook_deliveries` becomes one row per ATTEMPT: a row is written 'pending' (by the
-- outbox reader, or later as the retry of a failed attempt) and takes the attempt's
-- result when it is tried. All attempts of one delivery share `delivery_id`, the
-- X-WAIT-Delivery header. A test delivery ('ping') has no outbox row, so `event_id`
-- becomes optional; SQLite cannot drop a NOT NULL, hence the table is rebuilt.

CREATE TABLE webhook_deliveries_v4 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    -- NULL for a test delivery
    event_id         INTEGER REFERENCES events (id) ON DELETE CASCADE,
    -- UUID text, the same on every attempt of one delivery
    delivery_id      TEXT    NOT NULL,
    event            TEXT    NOT NULL CHECK (event IN (
                         'job.queued', 'job.started', 'job.build_succeeded', 'job.completed',
                         'job.failed', 'job.cancelled', 'ping')),
    attempt          INTEGER NOT NULL DEFAULT 1,
    -- pending: not tried yet; delivered: 2xx; retrying: failed, the next attempt is a
    -- newer row; failed: failed and given up
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN (
                         'pending', 'delivered', 'retrying', 'failed')),
    status_code      INTEGER,
    duration_ms      INTEGER,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    attempted_at     INTEGER,
    -- when a pending attempt is due; NULL once tried (and for a test delivery, which is
    -- sent at once by the request that made it)
    next_attempt_at  INTEGER,
    -- the dispatcher that claimed the attempt (a token per claim) and until when
    lease_owner      TEXT,
    lease_expires_at INTEGER
);

-- Rows written before this version, if any, keep their result.
INSERT INTO webhook_deliveries_v4 (
    id, webhook_id, event_id, delivery_id, event, attempt, state, status_code,
    duration_ms, error, created_at, next_attempt_at)
SELECT d.id, d.webhook_id, d.event_id,
       printf('00000000-0000-4000-8000-%012d', d.id),
       e.kind, d.attempt,
       CASE WHEN d.next_attempt_at IS NOT NULL THEN 'pending'
            WHEN d.status_code BETWEEN 200 AND 299 THEN 'delivered'
            ELSE 'failed' END,
       d.status_code, d.duration_ms, d.error, d.created_at, d.next_attempt_at
  FROM webhook_deliveries d JOIN events e ON e.id = d.event_id;

DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_v4 RENAME TO webhook_deliveries;

-- The first attempt of an event for a webhook exists once, whoever reads the outbox.
CREATE UNIQUE INDEX webhook_deliveries_once_idx
    ON webhook_deliveries (webhook_id, event_id) WHERE attempt = 1;
CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

-- How far the outbox has been turned into deliveries (an `events.seq`). One row; the
-- reader that holds it (write lock) is the only one enqueueing. Starts at the current
-- end: events from before webhooks could be delivered are not sent.
CREATE TABLE webhook_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;
