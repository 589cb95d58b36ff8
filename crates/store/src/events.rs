//! The outbox: one event row per job state change, written in the same transaction as
//! the change, so a change is never visible without its event (or the reverse). The
//! webhook dispatcher and other readers page through it with `events_after`.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::on_pool;
use crate::clock::from_ms;
use crate::rows::parse_uuid;
use crate::{JobStatus, Result, Store, StoreError};

/// Largest page `events_after` returns.
pub const MAX_EVENT_PAGE: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EventKind {
    #[serde(rename = "job.queued")]
    Queued,
    #[serde(rename = "job.started")]
    Started,
    #[serde(rename = "job.build_succeeded")]
    BuildSucceeded,
    #[serde(rename = "job.completed")]
    Completed,
    #[serde(rename = "job.failed")]
    Failed,
    #[serde(rename = "job.cancelled")]
    Cancelled,
}

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::Queued,
        EventKind::Started,
        EventKind::BuildSucceeded,
        EventKind::Completed,
        EventKind::Failed,
        EventKind::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Queued => "job.queued",
            EventKind::Started => "job.started",
            EventKind::BuildSucceeded => "job.build_succeeded",
            EventKind::Completed => "job.completed",
            EventKind::Failed => "job.failed",
            EventKind::Cancelled => "job.cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The event announcing that a job entered `status`. Both processing states are
    /// "started" (of the build or of the validation; the payload says which).
    pub fn for_status(status: JobStatus) -> Self {
        match status {
            JobStatus::Queued => EventKind::Queued,
            JobStatus::ProcessingBuild | JobStatus::ProcessingValidation => EventKind::Started,
            JobStatus::PendingValidation => EventKind::BuildSucceeded,
            JobStatus::Completed => EventKind::Completed,
            JobStatus::FailedBuild | JobStatus::FailedValidation => EventKind::Failed,
            JobStatus::Cancelled => EventKind::Cancelled,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Row id, stable from the moment the event is written (webhook deliveries refer
    /// to it).
    pub id: i64,
    /// Delivery position: strictly increasing in the order readers see events, without
    /// ever inserting a smaller one later. Page with `events_after(seq, …)`.
    pub seq: i64,
    pub job_id: Uuid,
    pub kind: EventKind,
    /// The job after the change: `job_id`, `status`, `attempt`, `customer_name`,
    /// `motherboard_model`, `worker`, `error`, `output_dir` (null when unset).
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    id: i64,
    seq: i64,
    job_id: String,
    kind: String,
    payload: String,
    created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;

    fn try_from(r: EventRow) -> Result<Event> {
        Ok(Event {
            id: r.id,
            seq: r.seq,
            job_id: parse_uuid("job_id", &r.job_id)?,
            kind: EventKind::parse(&r.kind).ok_or_else(|| StoreError::Invalid {
                field: "kind",
                message: format!("unknown event kind {:?}", r.kind),
            })?,
            payload: serde_json::from_str(&r.payload).map_err(|e| StoreError::Invalid {
                field: "payload",
                message: format!("stored event payload is not JSON: {e}"),
            })?,
            created_at: from_ms("created_at", r.created_at)?,
        })
    }
}

/// Write the event for `job`, which just entered its current status; the payload is
/// built by the database from the row (`backend::payload_sql`). Expands inside an
/// `on_pool!` body (it uses `b`), with the transaction as `$tx`.
macro_rules! record_event {
    ($tx:expr, $job:expr, $now:expr) => {{
        let job: &$crate::Job = $job;
        sqlx::query(b::insert_event_sql())
            .bind(job.job_id.to_string())
            .bind($crate::EventKind::for_status(job.status).as_str())
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(crate) use record_event;

impl Store {
    /// Events with `seq > after_seq`, oldest first, at most `limit` (capped at
    /// `MAX_EVENT_PAGE`). Start with 0 and pass the last `seq` seen.
    ///
    /// Events get their position when first read, in one serialised step, so a reader
    /// never skips an event whose transaction committed after a later one was read.
    pub async fn events_after(&self, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        let limit = limit.clamp(0, MAX_EVENT_PAGE);
        let rows: Vec<EventRow> = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            b::publish_events(&mut tx).await?;
            tx.commit().await?;
            sqlx::query_as(
                "SELECT id, seq, job_id, kind, payload, created_at FROM events
                  WHERE seq > $1 ORDER BY seq ASC LIMIT $2",
            )
            .bind(after_seq)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Event::try_from).collect()
    }

    /// Every event of one job, oldest first.
    pub async fn job_events(&self, job_id: Uuid) -> Result<Vec<Event>> {
        let rows: Vec<EventRow> = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            b::publish_events(&mut tx).await?;
            tx.commit().await?;
            sqlx::query_as(
                "SELECT id, seq, job_id, kind, payload, created_at FROM events
                  WHERE job_id = $1 AND seq IS NOT NULL ORDER BY id ASC",
            )
            .bind(job_id.to_string())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Event::try_from).collect()
    }
}
