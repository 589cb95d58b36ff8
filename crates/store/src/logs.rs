//! Job log lines with a per-job sequence number (1, 2, 3, … without gaps).

use uuid::Uuid;

use crate::backend::{ErrorClass, classify_error, on_pool};
use crate::clock::now_ms;
use crate::jobs::not_found;
use crate::rows::LogRow;
use crate::{LogLevel, LogLine, Result, Store, StoreError};

/// How many times an append retries when another writer took the same seq.
const APPEND_TRIES: u32 = 20;
/// Largest page `logs_after` returns.
pub const MAX_LOG_PAGE: i64 = 10_000;

impl Store {
    /// Append a line; returns its sequence number.
    ///
    /// The next seq is computed inside the INSERT itself, and the (job_id, seq) primary
    /// key turns any interleaving into a retry instead of a duplicate. SQLite runs the
    /// statement under its write lock; PostgreSQL first takes a per-job advisory lock
    /// (see `backend::postgres::lock_job_log`) so concurrent appends queue up instead of
    /// colliding.
    pub async fn append_log(
        &self,
        job_id: Uuid,
        level: LogLevel,
        stage: Option<&str>,
        message: &str,
    ) -> Result<i64> {
        let mut tries = 0;
        loop {
            tries += 1;
            let result: Result<i64> = on_pool!(self.pool(), |pool| {
                async {
                    let mut tx = b::begin_write(pool).await?;
                    b::lock_job_log(&mut tx, &job_id.to_string()).await?;
                    let (seq,): (i64,) = sqlx::query_as(
                        "INSERT INTO job_logs (job_id, seq, ts, level, stage, message)
                         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5
                           FROM job_logs WHERE job_id = $1
                         RETURNING seq",
                    )
                    .bind(job_id.to_string())
                    .bind(now_ms())
                    .bind(level.as_str())
                    .bind(stage)
                    .bind(message)
                    .fetch_one(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(seq)
                }
                .await
            });
            match result {
                Ok(seq) => return Ok(seq),
                Err(StoreError::Database(e)) => match classify_error(&e) {
                    ErrorClass::UniqueViolation | ErrorClass::Retryable if tries < APPEND_TRIES => {
                        continue;
                    }
                    ErrorClass::ForeignKeyViolation => return Err(not_found(job_id)),
                    _ => return Err(StoreError::Database(e)),
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Lines with seq > after_seq, in order. `verbose = false` hides verbose lines.
    pub async fn logs_after(
        &self,
        job_id: Uuid,
        after_seq: i64,
        verbose: bool,
        limit: i64,
    ) -> Result<Vec<LogLine>> {
        let rows: Vec<LogRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT job_id, seq, ts, level, stage, message FROM job_logs
                  WHERE job_id = $1 AND seq > $2 AND ($3 OR level = 'normal')
                  ORDER BY seq ASC LIMIT $4",
            )
            .bind(job_id.to_string())
            .bind(after_seq)
            .bind(verbose)
            .bind(limit.clamp(0, MAX_LOG_PAGE))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(LogLine::try_from).collect()
    }

    /// The highest seq written for a job (0 when it has no lines).
    pub async fn last_log_seq(&self, job_id: Uuid) -> Result<i64> {
        let (seq,): (i64,) = on_pool!(self.pool(), |pool| {
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM job_logs WHERE job_id = $1")
                .bind(job_id.to_string())
                .fetch_one(pool)
                .await?
        });
        Ok(seq)
    }
}
