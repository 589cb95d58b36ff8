//! Live workers: who is running, where, and for which stages (for /api/health and the
//! UI). Rows are refreshed by heartbeats; nothing depends on them for correctness.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::backend::on_pool;
use crate::clock::{from_ms, now_ms, opt_from_ms};
use crate::{Result, Stages, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerInfo {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub stages: Stages,
}

#[derive(Debug, sqlx::FromRow)]
struct WorkerRow {
    name: String,
    last_seen: i64,
    started_at: Option<i64>,
    host: Option<String>,
    pid: Option<i64>,
    stages: String,
}

impl TryFrom<WorkerRow> for WorkerInfo {
    type Error = StoreError;

    fn try_from(r: WorkerRow) -> Result<WorkerInfo> {
        Ok(WorkerInfo {
            stages: Stages::parse(&r.stages).ok_or_else(|| StoreError::Invalid {
                field: "stages",
                message: format!("unknown stages {:?}", r.stages),
            })?,
            name: r.name,
            last_seen: from_ms("last_seen", r.last_seen)?,
            started_at: opt_from_ms("started_at", r.started_at)?,
            host: r.host,
            pid: r.pid,
        })
    }
}

impl Store {
    /// Register a worker process at start-up (replacing an earlier row of that name).
    pub async fn register_worker(
        &self,
        name: &str,
        host: Option<&str>,
        pid: Option<u32>,
        stages: Stages,
    ) -> Result<()> {
        if name.is_empty() {
            return Err(StoreError::Invalid {
                field: "worker",
                message: "must not be empty".to_string(),
            });
        }
        let now = now_ms();
        on_pool!(self.pool(), |pool| {
            sqlx::query(
                "INSERT INTO workers (name, last_seen, started_at, host, pid, stages)
                 VALUES ($1, $2, $2, $3, $4, $5)
                 ON CONFLICT (name) DO UPDATE
                    SET last_seen = excluded.last_seen, started_at = excluded.started_at,
                        host = excluded.host, pid = excluded.pid, stages = excluded.stages",
            )
            .bind(name)
            .bind(now)
            .bind(host)
            .bind(pid.map(i64::from))
            .bind(stages.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Register/refresh a live worker.
    pub async fn worker_heartbeat(&self, worker: &str) -> Result<()> {
        let now = now_ms();
        on_pool!(self.pool(), |pool| {
            sqlx::query(
                "INSERT INTO workers (name, last_seen, started_at) VALUES ($1, $2, $2)
                 ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen",
            )
            .bind(worker)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Workers seen within `within`.
    pub async fn live_workers(&self, within: Duration) -> Result<i64> {
        let window = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        let (n,): (i64,) = on_pool!(self.pool(), |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM workers WHERE last_seen >= $1")
                .bind(now_ms().saturating_sub(window))
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// Workers seen within `within`, by name.
    pub async fn list_workers(&self, within: Duration) -> Result<Vec<WorkerInfo>> {
        let window = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        let rows: Vec<WorkerRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT name, last_seen, started_at, host, pid, stages FROM workers
                  WHERE last_seen >= $1 ORDER BY name",
            )
            .bind(now_ms().saturating_sub(window))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(WorkerInfo::try_from).collect()
    }
}
