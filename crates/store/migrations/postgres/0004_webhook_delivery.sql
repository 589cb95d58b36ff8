-- WAIT store, fourth schema version (PostgreSQL): webhook delivery bookkeeping.
-- Kept in step with migrations/sqlite/0004.
--
-- `webhook_deliveries` becomes one row per ATTEMPT: a row is written 'pending' (by the
-- outbox reader, or later as the retry of a failed attempt) and takes the attempt's
-- result when it is tried. All attempts of one delivery share `delivery_id`, the
-- X-WAIT-Delivery header. A test delivery ('ping') has no outbox row, so `event_id`
-- becomes optional.

ALTER TABLE webhook_deliveries ALTER COLUMN event_id DROP NOT NULL;

-- UUID text, the same on every attempt of one delivery
ALTER TABLE webhook_deliveries ADD COLUMN delivery_id TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN event TEXT;
-- pending: not tried yet; delivered: 2xx; retrying: failed, the next attempt is a newer
-- row; failed: failed and given up
ALTER TABLE webhook_deliveries ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE webhook_deliveries ADD COLUMN attempted_at BIGINT;
-- the dispatcher that claimed the attempt (a token per claim) and until when
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN lease_expires_at BIGINT;

-- Rows written before this version, if any, keep their result.
UPDATE webhook_deliveries d
   SET delivery_id = '00000000-0000-4000-8000-' || lpad(d.id::text, 12, '0'),
       event = e.kind,
       state = CASE WHEN d.next_attempt_at IS NOT NULL THEN 'pending'
                    WHEN d.status_code BETWEEN 200 AND 299 THEN 'delivered'
                    ELSE 'failed' END
  FROM events e
 WHERE e.id = d.event_id;

ALTER TABLE webhook_deliveries ALTER COLUMN delivery_id SET NOT NULL;
ALTER TABLE webhook_deliveries ALTER COLUMN event SET NOT NULL;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_event_check CHECK (event IN (
    'job.queued', 'job.started', 'job.build_succeeded', 'job.completed', 'job.failed',
    'job.cancelled', 'ping'));
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_state_check CHECK (state IN (
    'pending', 'delivered', 'retrying', 'failed'));

-- The first attempt of an event for a webhook exists once, whoever reads the outbox.
CREATE UNIQUE INDEX webhook_deliveries_once_idx
    ON webhook_deliveries (webhook_id, event_id) WHERE attempt = 1;
DROP INDEX webhook_deliveries_due_idx;
CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);

-- How far the outbox has been turned into deliveries (an `events.seq`). One row; the
-- reader that holds its row lock is the only one enqueueing (others skip it). Starts at
-- the current end: events from before webhooks could be delivered are not sent.
CREATE TABLE webhook_cursor (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
INSERT INTO webhook_cursor (id, last_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;
