//! Aggregate counts for monitoring (`/metrics`): jobs by state, how long finished builds
//! took, and how webhook delivery attempts ended. A few aggregate queries, no row reads,
//! so a scrape stays cheap however many jobs are stored.

use sqlx::Row;

use crate::backend::on_pool;
use crate::{JobStatus, Result, Store, StoreError};

/// Upper bounds (seconds, inclusive) of the build duration histogram buckets. An image
/// build takes minutes to hours, so the buckets span one minute to three hours.
pub const BUILD_DURATION_BOUNDS_SECS: [i64; 10] =
    [60, 300, 600, 900, 1200, 1800, 2700, 3600, 7200, 10800];

/// Counts the monitoring endpoint reports, read in one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStats {
    /// Every state of `JobStatus::ALL`, in that order, with its job count (0 included).
    pub jobs_by_status: Vec<(JobStatus, i64)>,
    /// Durations of jobs that have both started and finished.
    pub build_durations: DurationHistogram,
    /// Outcomes of webhook delivery attempts.
    pub webhook_attempts: WebhookAttemptCounts,
}

impl StoreStats {
    /// The count of one state.
    pub fn jobs(&self, status: JobStatus) -> i64 {
        self.jobs_by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// A cumulative histogram of finished builds (started_at → finished_at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationHistogram {
    /// `(bound in seconds, builds that took at most that long)` for each of
    /// `BUILD_DURATION_BOUNDS_SECS`; counts never decrease along the list.
    pub buckets: Vec<(i64, i64)>,
    /// All measured builds (the `+Inf` bucket).
    pub count: i64,
    /// Sum of their durations, in milliseconds.
    pub sum_ms: i64,
}

/// Webhook delivery attempts by result; pending attempts are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookAttemptCounts {
    /// Answered with a 2xx.
    pub delivered: i64,
    /// Failed, and another attempt was scheduled.
    pub failed: i64,
    /// Failed, and no attempt follows (retries exhausted).
    pub gave_up: i64,
}

impl Store {
    /// Job counts per state, the build duration histogram, and webhook attempt results.
    pub async fn stats(&self) -> Result<StoreStats> {
        Ok(StoreStats {
            jobs_by_status: self.jobs_by_status().await?,
            build_durations: self.build_durations().await?,
            webhook_attempts: self.webhook_attempts().await?,
        })
    }

    async fn jobs_by_status(&self) -> Result<Vec<(JobStatus, i64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self.pool(), |pool| {
            sqlx::query_as("SELECT status, COUNT(*) FROM build_jobs GROUP BY status")
                .fetch_all(pool)
                .await?
        });
        let mut counts: Vec<(JobStatus, i64)> = JobStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for (status, n) in rows {
            let parsed = JobStatus::parse(&status).ok_or_else(|| StoreError::Invalid {
                field: "status",
                message: format!("unknown job status {status:?}"),
            })?;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == parsed) {
                slot.1 += n;
            }
        }
        Ok(counts)
    }

    async fn build_durations(&self) -> Result<DurationHistogram> {
        // One pass over the finished jobs: a conditional sum per bucket. The bounds are
        // constants, so they are written into the statement rather than bound.
        let mut sql = String::from("SELECT COUNT(*), CAST(COALESCE(SUM(d), 0) AS BIGINT)");
        for bound in BUILD_DURATION_BOUNDS_SECS {
            let ms = bound * 1000;
            sql.push_str(&format!(
                ", CAST(COALESCE(SUM(CASE WHEN d <= {ms} THEN 1 ELSE 0 END), 0) AS BIGINT)"
            ));
        }
        sql.push_str(
            " FROM (SELECT finished_at - started_at AS d FROM build_jobs
                    WHERE started_at IS NOT NULL AND finished_at IS NOT NULL) AS finished",
        );
        let values: Vec<i64> = on_pool!(self.pool(), |pool| {
            let row = sqlx::query(&sql).fetch_one(pool).await?;
            (0..row.len())
                .map(|i| row.try_get::<i64, _>(i))
                .collect::<std::result::Result<Vec<i64>, sqlx::Error>>()?
        });
        let (count, sum_ms) = match values.as_slice() {
            [count, sum, ..] => (*count, *sum),
            _ => {
                return Err(StoreError::Invalid {
                    field: "build_durations",
                    message: "aggregate query returned too few columns".to_string(),
                });
            }
        };
        let buckets = BUILD_DURATION_BOUNDS_SECS
            .iter()
            .zip(values.iter().skip(2))
            .map(|(bound, n)| (*bound, *n))
            .collect();
        Ok(DurationHistogram {
            buckets,
            count,
            sum_ms,
        })
    }

    async fn webhook_attempts(&self) -> Result<WebhookAttemptCounts> {
        let rows: Vec<(String, i64)> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT state, COUNT(*) FROM webhook_deliveries
                  WHERE state <> 'pending' GROUP BY state",
            )
            .fetch_all(pool)
            .await?
        });
        let mut counts = WebhookAttemptCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "delivered" => counts.delivered += n,
                "retrying" => counts.failed += n,
                "failed" => counts.gave_up += n,
                _ => {
                    return Err(StoreError::Invalid {
                        field: "webhook_deliveries.state",
                        message: format!("unknown delivery state {state:?}"),
                    });
                }
            }
        }
        Ok(counts)
    }
}
