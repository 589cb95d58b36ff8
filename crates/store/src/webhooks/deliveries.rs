//! Webhook deliveries: the outbox reader that turns events into pending deliveries,
//! the claim of due attempts, the record of each attempt with its retry, and the log.
//!
//! One row per attempt. The outbox reader writes attempt 1 as `pending`; a dispatcher
//! claims due pending rows with a lease (a fresh token per claim) and records the
//! result on the same row, fenced by that token, so a dispatcher whose lease ran out and
//! whose row was claimed again cannot overwrite the other's result. A failure that may
//! be retried marks the row `retrying` and writes the next attempt as a new pending row,
//! due after the backoff.
//!
//! Each event is enqueued once per webhook: the reader advances a single cursor row
//! (`webhook_cursor`) in the transaction that writes the deliveries. On PostgreSQL it
//! takes that row with `FOR UPDATE SKIP LOCKED`, so a second reader skips its turn
//! instead of waiting; SQLite's write transaction serialises readers. A unique index on
//! the first attempt of (webhook, event) backs this up.

use std::time::Duration;

use rand::Rng;
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Webhook, WebhookFormat, WebhookRow, WebhookSecret, parse_format};
use crate::backend::{Pool, on_pool};
use crate::clock::{after_ms, from_ms, now_ms, opt_from_ms};
use crate::rows::parse_uuid;
use crate::{EventKind, MAX_EVENT_PAGE, Result, Store, StoreError};

/// Largest page `list_webhook_deliveries` returns.
pub const MAX_DELIVERY_PAGE: i64 = 500;
/// Stored error texts are cut to this many bytes, so a chatty receiver cannot bloat
/// the log.
const MAX_ERROR_LEN: usize = 2000;
/// Rows per multi-row INSERT; eight binds each stays far below both databases' limits.
const INSERT_CHUNK: usize = 500;

/// What a delivery announces: a job event, or the test delivery (`ping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryEvent {
    Job(EventKind),
    Ping,
}

impl DeliveryEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryEvent::Job(kind) => kind.as_str(),
            DeliveryEvent::Ping => "ping",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s == "ping" {
            return Some(DeliveryEvent::Ping);
        }
        EventKind::parse(s).map(DeliveryEvent::Job)
    }
}

impl std::fmt::Display for DeliveryEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DeliveryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not tried yet (or being tried).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// This attempt failed; the next one is a newer row.
    Retrying,
    /// This attempt failed and no other follows.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Retrying,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// One attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub id: i64,
    /// The same on every attempt of one delivery (the `X-WAIT-Delivery` header).
    pub delivery_id: Uuid,
    pub webhook_id: i64,
    pub event: DeliveryEvent,
    /// The outbox row; None for a test delivery.
    pub event_id: Option<i64>,
    pub job_id: Option<Uuid>,
    /// 1 for the first try.
    pub attempt: i64,
    pub state: DeliveryState,
    pub status_code: Option<u16>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub attempted_at: Option<OffsetDateTime>,
    /// When a pending attempt is due.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// An attempt a dispatcher holds: everything it needs to send it. Record the result
/// with `record_webhook_attempt` before the lease runs out.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub delivery_id: Uuid,
    pub webhook_id: i64,
    pub url: String,
    pub format: WebhookFormat,
    /// None only for webhooks written without one (not through this store).
    pub secret: Option<WebhookSecret>,
    pub event: DeliveryEvent,
    pub event_id: Option<i64>,
    pub job_id: Option<Uuid>,
    /// The job as the event recorded it (see `Event::payload`); None for a ping.
    pub payload: Option<serde_json::Value>,
    pub attempt: i64,
    /// Fencing token of this claim.
    lease: String,
}

/// When to try again and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryRetry {
    /// Attempts in all, the first one included.
    pub max_attempts: i64,
    /// After failed attempt `n` the next waits `unit * n^4` plus up to one `unit` of
    /// jitter (so concurrent failures do not retry in lockstep).
    pub unit: Duration,
    /// Longest wait between two attempts.
    pub cap: Duration,
}

impl Default for DeliveryRetry {
    /// Eight attempts over about 80 minutes: 1 s, 16 s, 81 s, … capped at one hour.
    fn default() -> Self {
        DeliveryRetry {
            max_attempts: 8,
            unit: Duration::from_secs(1),
            cap: Duration::from_secs(3600),
        }
    }
}

impl DeliveryRetry {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: i64) -> Duration {
        let n = u32::try_from(attempt.clamp(1, 1000)).unwrap_or(1);
        let base = self.unit.saturating_mul(n.saturating_pow(4));
        let unit_ms = u64::try_from(self.unit.as_millis()).unwrap_or(u64::MAX);
        let jitter = Duration::from_millis(rand::thread_rng().gen_range(0..=unit_ms));
        base.saturating_add(jitter).min(self.cap)
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// The receiver's status; None when no answer came.
    pub status_code: Option<u16>,
    pub duration: Duration,
    pub error: Option<String>,
    /// Trying again cannot help (the target is refused by policy): give up now.
    pub permanent: bool,
}

impl AttemptResult {
    /// A 2xx answer.
    pub fn delivered(&self) -> bool {
        matches!(self.status_code, Some(200..=299)) && self.error.is_none()
    }
}

#[derive(Debug, sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    delivery_id: String,
    webhook_id: i64,
    event: String,
    event_id: Option<i64>,
    job_id: Option<String>,
    attempt: i64,
    state: String,
    status_code: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
    created_at: i64,
    attempted_at: Option<i64>,
    next_attempt_at: Option<i64>,
}

const DELIVERY_SELECT: &str = "
    SELECT d.id, d.delivery_id, d.webhook_id, d.event, d.event_id, e.job_id, d.attempt,
           d.state, d.status_code, d.duration_ms, d.error, d.created_at, d.attempted_at,
           d.next_attempt_at
      FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id";

fn parse_event(stored: &str) -> Result<DeliveryEvent> {
    DeliveryEvent::parse(stored).ok_or_else(|| StoreError::Invalid {
        field: "event",
        message: format!("unknown delivery event {stored:?}"),
    })
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<WebhookDelivery> {
        Ok(WebhookDelivery {
            id: r.id,
            delivery_id: parse_uuid("delivery_id", &r.delivery_id)?,
            webhook_id: r.webhook_id,
            event: parse_event(&r.event)?,
            event_id: r.event_id,
            job_id: r
                .job_id
                .as_deref()
                .map(|s| parse_uuid("job_id", s))
                .transpose()?,
            attempt: r.attempt,
            state: DeliveryState::parse(&r.state).ok_or_else(|| StoreError::Invalid {
                field: "state",
                message: format!("unknown delivery state {:?}", r.state),
            })?,
            status_code: r.status_code.and_then(|c| u16::try_from(c).ok()),
            duration_ms: r.duration_ms,
            error: r.error,
            created_at: from_ms("created_at", r.created_at)?,
            attempted_at: opt_from_ms("attempted_at", r.attempted_at)?,
            next_attempt_at: opt_from_ms("next_attempt_at", r.next_attempt_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    delivery_id: String,
    webhook_id: i64,
    event: String,
    event_id: Option<i64>,
    attempt: i64,
    lease_owner: Option<String>,
    url: String,
    format: String,
    secret: Option<String>,
    job_id: Option<String>,
    payload: Option<String>,
}

const CLAIM_SELECT: &str = "
    SELECT d.id, d.delivery_id, d.webhook_id, d.event, d.event_id, d.attempt,
           d.lease_owner, w.url, w.format, w.secret, e.job_id, e.payload
      FROM webhook_deliveries d
      JOIN webhooks w ON w.id = d.webhook_id
      LEFT JOIN events e ON e.id = d.event_id";

impl TryFrom<ClaimRow> for ClaimedDelivery {
    type Error = StoreError;

    fn try_from(r: ClaimRow) -> Result<ClaimedDelivery> {
        let payload = r
            .payload
            .as_deref()
            .map(|p| {
                serde_json::from_str(p).map_err(|e| StoreError::Invalid {
                    field: "payload",
                    message: format!("stored event payload is not JSON: {e}"),
                })
            })
            .transpose()?;
        Ok(ClaimedDelivery {
            id: r.id,
            delivery_id: parse_uuid("delivery_id", &r.delivery_id)?,
            webhook_id: r.webhook_id,
            format: parse_format(&r.format)?,
            url: r.url,
            // an empty secret cannot sign anything meaningful
            secret: r.secret.and_then(|s| WebhookSecret::new(s).ok()),
            event: parse_event(&r.event)?,
            event_id: r.event_id,
            job_id: r
                .job_id
                .as_deref()
                .map(|s| parse_uuid("job_id", s))
                .transpose()?,
            payload,
            attempt: r.attempt,
            lease: r.lease_owner.unwrap_or_default(),
        })
    }
}

/// Row-lock clause for a SELECT whose rows this transaction changes next, skipping rows
/// another transaction holds. SQLite needs none: its write transaction excludes every
/// other writer.
fn skip_locked(pool: &Pool, of: &str) -> String {
    match pool {
        Pool::Sqlite(_) => String::new(),
        Pool::Postgres(_) => format!(" FOR UPDATE{of} SKIP LOCKED"),
    }
}

fn truncated(text: &str) -> String {
    if text.len() <= MAX_ERROR_LEN {
        return text.to_string();
    }
    let mut end = MAX_ERROR_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// One event read from the outbox by the enqueuer.
#[derive(Debug, sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    seq: i64,
    kind: String,
    created_at: i64,
}

/// The first attempts to write for `events`: one per event and active webhook that
/// wants it and existed when the event happened.
fn first_attempts<'a>(events: &'a [OutboxRow], hooks: &[Webhook]) -> Vec<(i64, i64, &'a str)> {
    let mut out = Vec::new();
    for event in events {
        let Some(kind) = EventKind::parse(&event.kind) else {
            continue;
        };
        let created = from_ms("created_at", event.created_at).ok();
        for hook in hooks {
            let existed = created.is_some_and(|at| at >= hook.created_at);
            if hook.active && existed && hook.wants(kind) {
                out.push((hook.id, event.id, event.kind.as_str()));
            }
        }
    }
    out
}

impl Store {
    /// Turn up to `limit` new outbox events into first attempts for the webhooks that
    /// want them, and advance the cursor past them; returns how many attempts were
    /// written. Each event is enqueued once per webhook however many processes call
    /// this at once (on PostgreSQL a caller that finds another one busy returns 0).
    pub async fn enqueue_webhook_deliveries(&self, limit: i64) -> Result<u64> {
        let limit = limit.clamp(1, MAX_EVENT_PAGE);
        let lock = skip_locked(self.pool(), "");
        let now = now_ms();
        let written = on_pool!(self.pool(), |pool| {
            // Give committed events their positions first, in a short transaction of
            // its own, so the publish lock is not held while deliveries are written.
            let mut tx = b::begin_write(pool).await?;
            b::publish_events(&mut tx).await?;
            tx.commit().await?;

            let mut tx = b::begin_write(pool).await?;
            let cursor: Option<(i64,)> = sqlx::query_as(&format!(
                "SELECT last_seq FROM webhook_cursor WHERE id = 1{lock}"
            ))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((last_seq,)) = cursor else {
                return Ok(0);
            };
            let events: Vec<OutboxRow> = sqlx::query_as(
                "SELECT id, seq, kind, created_at FROM events
                  WHERE seq > $1 ORDER BY seq ASC LIMIT $2",
            )
            .bind(last_seq)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = events.last() else {
                return Ok(0);
            };
            let new_seq = last.seq;
            let rows: Vec<WebhookRow> = sqlx::query_as(&format!(
                "SELECT {} FROM webhooks WHERE active = TRUE",
                super::COLUMNS
            ))
            .fetch_all(&mut *tx)
            .await?;
            let hooks = rows
                .into_iter()
                .map(Webhook::try_from)
                .collect::<Result<Vec<_>>>()?;
            let mut written = 0;
            for chunk in first_attempts(&events, &hooks).chunks(INSERT_CHUNK) {
                let mut insert = sqlx::QueryBuilder::<b::Db>::new(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, delivery_id, event,
                                                     attempt, state, created_at,
                                                     next_attempt_at) ",
                );
                insert.push_values(chunk, |mut row, (hook, event, kind)| {
                    row.push_bind(*hook)
                        .push_bind(*event)
                        .push_bind(Uuid::now_v7().to_string())
                        .push_bind(*kind)
                        .push("1")
                        .push("'pending'")
                        .push_bind(now)
                        .push_bind(now);
                });
                insert.push(" ON CONFLICT (webhook_id, event_id) WHERE attempt = 1 DO NOTHING");
                written += insert.build().execute(&mut *tx).await?.rows_affected();
            }
            sqlx::query("UPDATE webhook_cursor SET last_seq = $1 WHERE id = 1")
                .bind(new_seq)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            written
        });
        Ok(written)
    }

    /// Claim up to `limit` due pending attempts of active webhooks (attempts whose
    /// earlier claim expired included) for `lease`.
    pub async fn claim_webhook_deliveries(
        &self,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedDelivery>> {
        let limit = limit.clamp(1, MAX_DELIVERY_PAGE);
        let token = Uuid::now_v7().to_string();
        let now = now_ms();
        let claim = format!(
            "WITH due AS (
                 SELECT d.id FROM webhook_deliveries d
                   JOIN webhooks w ON w.id = d.webhook_id
                  WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                    AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $1)
                    AND w.active = TRUE
                  ORDER BY d.next_attempt_at, d.id
                  LIMIT $2{lock})
             UPDATE webhook_deliveries SET lease_owner = $3, lease_expires_at = $4
              WHERE id IN (SELECT id FROM due)
             RETURNING id",
            lock = skip_locked(self.pool(), " OF d"),
        );
        let rows: Vec<ClaimRow> = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            let ids: Vec<(i64,)> = sqlx::query_as(&claim)
                .bind(now)
                .bind(limit)
                .bind(&token)
                .bind(after_ms(now, lease))
                .fetch_all(&mut *tx)
                .await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut select = sqlx::QueryBuilder::<b::Db>::new(CLAIM_SELECT);
            select.push(" WHERE d.id IN (");
            let mut list = select.separated(", ");
            for (id,) in &ids {
                list.push_bind(*id);
            }
            select.push(") ORDER BY d.next_attempt_at, d.id");
            let rows: Vec<ClaimRow> = select.build_query_as().fetch_all(&mut *tx).await?;
            tx.commit().await?;
            rows
        });
        rows.into_iter().map(ClaimedDelivery::try_from).collect()
    }

    /// A test delivery (`ping`) of webhook `id`, claimed by the caller for `lease`, to
    /// be sent at once; it is never retried. NotFound when the webhook does not exist.
    pub async fn create_test_delivery(
        &self,
        webhook_id: i64,
        lease: Duration,
    ) -> Result<ClaimedDelivery> {
        let token = Uuid::now_v7().to_string();
        let now = now_ms();
        let row: Option<ClaimRow> = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            // next_attempt_at stays NULL: no dispatcher ever claims it
            let id: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO webhook_deliveries (webhook_id, delivery_id, event, attempt,
                                                 state, created_at, lease_owner,
                                                 lease_expires_at)
                 SELECT id, $2, 'ping', 1, 'pending', $3, $4, $5 FROM webhooks WHERE id = $1
                 RETURNING id",
            )
            .bind(webhook_id)
            .bind(Uuid::now_v7().to_string())
            .bind(now)
            .bind(&token)
            .bind(after_ms(now, lease))
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id,)) = id else {
                return Err(super::webhook_not_found(webhook_id));
            };
            let row = sqlx::query_as(&format!("{CLAIM_SELECT} WHERE d.id = $1"))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        ClaimedDelivery::try_from(row.ok_or_else(|| super::webhook_not_found(webhook_id))?)
    }

    /// Record the result of a claimed attempt and, when it failed and attempts are
    /// left (and the failure is not permanent), write the next attempt due after
    /// `retry.delay`. Returns the recorded attempt. Conflict when the claim was lost
    /// (its lease expired and another dispatcher took the attempt).
    pub async fn record_webhook_attempt(
        &self,
        claim: &ClaimedDelivery,
        result: &AttemptResult,
        retry: &DeliveryRetry,
    ) -> Result<WebhookDelivery> {
        let state = if result.delivered() {
            DeliveryState::Delivered
        } else if !result.permanent
            && claim.event != DeliveryEvent::Ping
            && claim.attempt < retry.max_attempts
        {
            DeliveryState::Retrying
        } else {
            DeliveryState::Failed
        };
        let now = now_ms();
        let duration_ms = i64::try_from(result.duration.as_millis()).unwrap_or(i64::MAX);
        let error = result.error.as_deref().map(truncated);
        let next_due = after_ms(now, retry.delay(claim.attempt));
        let row: Option<DeliveryRow> = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            let updated = sqlx::query(
                "UPDATE webhook_deliveries
                    SET state = $3, status_code = $4, duration_ms = $5, error = $6,
                        attempted_at = $7, next_attempt_at = NULL, lease_owner = NULL,
                        lease_expires_at = NULL
                  WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
            )
            .bind(claim.id)
            .bind(&claim.lease)
            .bind(state.as_str())
            .bind(result.status_code.map(i64::from))
            .bind(duration_ms)
            .bind(error.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::Conflict(format!(
                    "webhook delivery attempt {} is no longer held by this dispatcher",
                    claim.id
                )));
            }
            if state == DeliveryState::Retrying {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (webhook_id, event_id, delivery_id, event,
                                                     attempt, state, created_at,
                                                     next_attempt_at)
                     SELECT webhook_id, event_id, delivery_id, event, attempt + 1, 'pending',
                            $2, $3
                       FROM webhook_deliveries WHERE id = $1",
                )
                .bind(claim.id)
                .bind(now)
                .bind(next_due)
                .execute(&mut *tx)
                .await?;
            }
            let row = sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE d.id = $1"))
                .bind(claim.id)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        let row = row.ok_or_else(|| StoreError::NotFound {
            what: format!("webhook delivery attempt {}", claim.id),
        })?;
        WebhookDelivery::try_from(row)
    }

    /// The attempts of one webhook, newest first, at most `limit` (capped at
    /// `MAX_DELIVERY_PAGE`). NotFound when the webhook does not exist.
    pub async fn list_webhook_deliveries(
        &self,
        webhook_id: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let limit = limit.clamp(1, MAX_DELIVERY_PAGE);
        let rows: Option<Vec<DeliveryRow>> = on_pool!(self.pool(), |pool| {
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM webhooks WHERE id = $1")
                .bind(webhook_id)
                .fetch_optional(pool)
                .await?;
            match exists {
                None => None,
                Some(_) => Some(
                    sqlx::query_as(&format!(
                        "{DELIVERY_SELECT} WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2"
                    ))
                    .bind(webhook_id)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?,
                ),
            }
        });
        rows.ok_or_else(|| super::webhook_not_found(webhook_id))?
            .into_iter()
            .map(WebhookDelivery::try_from)
            .collect()
    }
}
