//! Jobs: creation, reads, listing, priority and deletion. The worker side of the queue
//! (claim, lease, transitions, cancel) is in `queue`.

use std::time::Duration;

use rand::Rng;
use uuid::Uuid;

use crate::backend::{ErrorClass, RUNNING_SQL, classify_error, on_pool};
use crate::clock::now_ms;
use crate::events::record_event;
use crate::rows::{JobRow, jobs_from_rows, to_json};
use crate::{Job, JobFilter, JobRequest, JobStatus, Result, Store, StoreError};

/// Accepted `compression` values. `lzms` is a non-solid LZMS `.wim`; `esd` is solid
/// LZMS written as `.esd`.
pub const COMPRESSIONS: [&str; 5] = ["lzx", "xpress", "lzms", "esd", "none"];
/// Accepted `key_variants` values.
pub const KEY_VARIANTS: [&str; 3] = ["key", "nokey", "both"];
/// Default and largest page size of `list_jobs`.
pub const DEFAULT_LIST_LIMIT: i64 = 100;
pub const MAX_LIST_LIMIT: i64 = 1000;
/// Longest wait before a requeued job may run again.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// How long a job that failed `attempt` times waits before its next try:
/// `attempt^4` seconds plus up to one second of jitter, capped at ten minutes.
pub fn retry_backoff(attempt: i64) -> Duration {
    let a = u64::try_from(attempt.clamp(0, 100)).unwrap_or(0);
    let base = Duration::from_secs(a.saturating_pow(4));
    let jitter = Duration::from_millis(rand::thread_rng().gen_range(0..=1000));
    (base + jitter).min(MAX_BACKOFF)
}

fn check_request(r: &JobRequest) -> Result<()> {
    let required = [
        ("motherboard_model", &r.motherboard_model),
        ("base_image", &r.base_image),
        ("customer_name", &r.customer_name),
        ("image_index", &r.image_index),
    ];
    for (field, value) in required {
        if value.trim().is_empty() {
            return Err(StoreError::Invalid {
                field,
                message: "must not be empty".to_string(),
            });
        }
    }
    if !COMPRESSIONS.contains(&r.compression.as_str()) {
        return Err(StoreError::Invalid {
            field: "compression",
            message: format!("expected one of {}", COMPRESSIONS.join(", ")),
        });
    }
    if !KEY_VARIANTS.contains(&r.key_variants.as_str()) {
        return Err(StoreError::Invalid {
            field: "key_variants",
            message: format!("expected one of {}", KEY_VARIANTS.join(", ")),
        });
    }
    Ok(())
}

/// The stored values that read as `status` ("Verified" is the legacy Completed).
fn stored_values(status: JobStatus) -> &'static [&'static str] {
    match status {
        JobStatus::Queued => &["Queued"],
        JobStatus::ProcessingBuild => &["Processing_Build"],
        JobStatus::PendingValidation => &["Pending_Validation"],
        JobStatus::ProcessingValidation => &["Processing_Validation"],
        JobStatus::Completed => &["Completed", "Verified"],
        JobStatus::FailedBuild => &["Failed_Build"],
        JobStatus::FailedValidation => &["Failed_Validation"],
        JobStatus::Cancelled => &["Cancelled"],
    }
}

fn push_filter<'a, DB>(qb: &mut sqlx::QueryBuilder<'a, DB>, filter: &'a JobFilter)
where
    DB: sqlx::Database,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if let Some(status) = filter.status {
        qb.push(" AND status IN (");
        let mut values = qb.separated(", ");
        for v in stored_values(status) {
            values.push_bind(*v);
        }
        qb.push(")");
    }
    let text_filters = [
        ("customer_name", &filter.customer_name),
        ("motherboard_model", &filter.motherboard_model),
        ("created_by", &filter.created_by),
    ];
    for (column, value) in text_filters {
        if let Some(value) = value {
            qb.push(format_args!(" AND {column} = "))
                .push_bind(value.as_str());
        }
    }
}

impl Store {
    /// Record a new job as Queued (with its `job.queued` event) and wake idle workers.
    pub async fn create_job(&self, request: &JobRequest, created_by: Option<&str>) -> Result<Job> {
        check_request(request)?;
        let langpacks = to_json("langpacks", &request.langpacks)?;
        let updates = to_json("updates", &request.updates)?;
        let software = to_json("software", &request.software)?;
        let options = to_json("options", &request.options)?;
        // `seq` is computed by the INSERT itself (see `NEXT_JOB_SEQ`); should two inserts
        // still collide on it, the UNIQUE constraint refuses one and it simply retries.
        let mut tries = 0;
        let job = loop {
            tries += 1;
            let now = now_ms();
            let result: Result<Job> = on_pool!(self.pool(), |pool| {
                let insert = sqlx::query_as::<_, JobRow>(b::create_job_sql())
                    .bind(Uuid::now_v7().to_string())
                    .bind(&request.motherboard_model)
                    .bind(&request.base_image)
                    .bind(&request.customer_name)
                    .bind(&request.image_index)
                    .bind(&request.driver_set)
                    .bind(&langpacks)
                    .bind(&updates)
                    .bind(&software)
                    .bind(&request.answer_file)
                    .bind(&request.product_key)
                    .bind(&request.key_variants)
                    .bind(request.create_iso)
                    .bind(&request.compression)
                    .bind(request.log_level.as_str())
                    .bind(created_by)
                    .bind(now)
                    .bind(&options);
                if b::STATEMENTS_WRITE_EVENTS {
                    // one statement writes job, event and notification
                    match insert.fetch_one(pool).await {
                        Ok(row) => Job::try_from(row),
                        Err(e) => Err(StoreError::Database(e)),
                    }
                } else {
                    let mut tx = b::begin_write(pool).await?;
                    match insert.fetch_one(&mut *tx).await {
                        Ok(row) => {
                            let job = Job::try_from(row)?;
                            record_event!(tx, &job, now);
                            b::notify_work(&mut tx).await?;
                            tx.commit().await?;
                            Ok(job)
                        }
                        Err(e) => Err(StoreError::Database(e)),
                    }
                }
            });
            match result {
                Ok(job) => break job,
                Err(StoreError::Database(e))
                    if tries < 5 && classify_error(&e) == ErrorClass::UniqueViolation =>
                {
                    continue;
                }
                Err(StoreError::Database(e)) => return Err(crate::classify(e)),
                Err(e) => return Err(e),
            }
        };
        self.inner.wake.wake();
        Ok(job)
    }

    /// The seed's name for `create_job`.
    pub async fn create_build_job(
        &self,
        request: &JobRequest,
        created_by: Option<&str>,
    ) -> Result<Job> {
        self.create_job(request, created_by).await
    }

    pub async fn get_job(&self, job_id: Uuid) -> Result<Option<Job>> {
        let row: Option<JobRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as("SELECT * FROM build_jobs WHERE job_id = $1")
                .bind(job_id.to_string())
                .fetch_optional(pool)
                .await?
        });
        row.map(Job::try_from).transpose()
    }

    /// The running job (oldest first), else the most recently created one.
    pub async fn current_or_latest_job(&self) -> Result<Option<Job>> {
        let row: Option<JobRow> = on_pool!(self.pool(), |pool| {
            let running: Option<JobRow> = sqlx::query_as(&format!(
                "SELECT * FROM build_jobs WHERE status IN {RUNNING_SQL}
                  ORDER BY started_at ASC, seq ASC LIMIT 1"
            ))
            .fetch_optional(pool)
            .await?;
            match running {
                Some(row) => Some(row),
                None => {
                    sqlx::query_as("SELECT * FROM build_jobs ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(pool)
                        .await?
                }
            }
        });
        row.map(Job::try_from).transpose()
    }

    /// Queued and running jobs in run order (running first, then queued FIFO by priority).
    /// Read as one JSON text per row (see `queue_read`).
    pub async fn queue(&self) -> Result<Vec<Job>> {
        let rows: Vec<(String,)> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(b::queue_sql()).fetch_all(pool).await?
        });
        rows.iter()
            .map(|(text,)| crate::queue_read::job_from_json(text))
            .collect()
    }

    /// 1-based position among queued jobs; None when not queued.
    pub async fn queue_position(&self, job_id: Uuid) -> Result<Option<u32>> {
        let (ahead,): (i64,) = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT COUNT(*)
                   FROM build_jobs q,
                        (SELECT priority, seq FROM build_jobs
                          WHERE job_id = $1 AND status = 'Queued') me
                  WHERE q.status = 'Queued'
                    AND (q.priority > me.priority
                         OR (q.priority = me.priority AND q.seq <= me.seq))",
            )
            .bind(job_id.to_string())
            .fetch_one(pool)
            .await?
        });
        Ok(u32::try_from(ahead).ok().filter(|n| *n > 0))
    }

    /// Newest first, with the total number of matching jobs.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<(Vec<Job>, i64)> {
        let limit = filter
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT);
        let offset = filter.offset.unwrap_or(0).max(0);
        let (rows, total): (Vec<JobRow>, i64) = on_pool!(self.pool(), |pool| {
            let mut count = sqlx::QueryBuilder::<b::Db>::new("SELECT COUNT(*) FROM build_jobs");
            push_filter(&mut count, filter);
            let (total,): (i64,) = count.build_query_as().fetch_one(pool).await?;

            let mut select = sqlx::QueryBuilder::<b::Db>::new("SELECT * FROM build_jobs");
            push_filter(&mut select, filter);
            select
                .push(" ORDER BY seq DESC LIMIT ")
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
            let rows: Vec<JobRow> = select.build_query_as().fetch_all(pool).await?;
            (rows, total)
        });
        Ok((jobs_from_rows(rows)?, total))
    }

    /// Oldest first.
    pub async fn get_jobs_by_status(&self, status: JobStatus) -> Result<Vec<Job>> {
        let rows: Vec<JobRow> = on_pool!(self.pool(), |pool| {
            let mut qb =
                sqlx::QueryBuilder::<b::Db>::new("SELECT * FROM build_jobs WHERE status IN (");
            let mut values = qb.separated(", ");
            for v in stored_values(status) {
                values.push_bind(*v);
            }
            qb.push(") ORDER BY seq ASC");
            qb.build_query_as().fetch_all(pool).await?
        });
        jobs_from_rows(rows)
    }

    /// Change the priority of a queued job (higher runs first).
    pub async fn set_priority(&self, job_id: Uuid, priority: i64) -> Result<()> {
        let changed = on_pool!(self.pool(), |pool| {
            sqlx::query(
                "UPDATE build_jobs SET priority = $1 WHERE job_id = $2 AND status = 'Queued'",
            )
            .bind(priority)
            .bind(job_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 1 {
            return Ok(());
        }
        match self.get_job(job_id).await? {
            None => Err(not_found(job_id)),
            Some(job) => Err(StoreError::Conflict(format!(
                "job {job_id} is {}, only queued jobs can be reprioritised",
                job.status
            ))),
        }
    }

    /// Delete a finished job and its logs; running/queued → Conflict. Its events stay in
    /// the outbox: they are history, and deliveries may still be pending.
    pub async fn delete_job(&self, job_id: Uuid) -> Result<()> {
        on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            let status: Option<(String,)> = sqlx::query_as(&format!(
                "SELECT status FROM build_jobs WHERE job_id = $1{}",
                b::FOR_UPDATE
            ))
            .bind(job_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((status,)) = status else {
                return Err(not_found(job_id));
            };
            let finished = JobStatus::parse(&status).is_some_and(JobStatus::is_final);
            if !finished {
                return Err(StoreError::Conflict(format!(
                    "job {job_id} is {status}; only finished jobs can be deleted"
                )));
            }
            sqlx::query("DELETE FROM job_logs WHERE job_id = $1")
                .bind(job_id.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM build_jobs WHERE job_id = $1")
                .bind(job_id.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

pub(crate) fn not_found(job_id: Uuid) -> StoreError {
    StoreError::NotFound {
        what: format!("job {job_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JobOptions, LogLevel};

    fn request(compression: &str) -> JobRequest {
        JobRequest {
            motherboard_model: "B".into(),
            base_image: "base.wim".into(),
            customer_name: "C".into(),
            image_index: "1".into(),
            driver_set: None,
            langpacks: vec![],
            updates: vec![],
            software: vec![],
            answer_file: None,
            product_key: None,
            key_variants: "nokey".into(),
            create_iso: false,
            compression: compression.into(),
            log_level: LogLevel::Normal,
            options: JobOptions::default(),
        }
    }

    #[test]
    fn every_listed_compression_is_accepted_and_others_name_the_field() {
        for c in COMPRESSIONS {
            assert!(check_request(&request(c)).is_ok(), "{c}");
        }
        assert!(COMPRESSIONS.contains(&"esd"));
        match check_request(&request("wim")) {
            Err(StoreError::Invalid { field, message }) => {
                assert_eq!(field, "compression");
                assert!(message.contains("esd"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
