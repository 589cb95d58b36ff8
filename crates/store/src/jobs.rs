//! Jobs: creation, reads, the queue (claim, lease, heartbeat, transition) and cancel.

use std::time::Duration;

use rand::Rng;
use sqlx::error::ErrorKind;
use uuid::Uuid;

use crate::backend::{self, Db, RUNNING_SQL};
use crate::clock::{after_ms, now_ms};
use crate::rows::{JobRow, jobs_from_rows, to_json};
use crate::{
    CancelOutcome, Job, JobFilter, JobRequest, JobStatus, JobUpdate, Result, Store, StoreError,
};

/// Accepted `compression` values.
pub const COMPRESSIONS: [&str; 4] = ["lzx", "xpress", "lzms", "none"];
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

fn check_progress(progress: u8) -> Result<()> {
    if progress > 100 {
        return Err(StoreError::Invalid {
            field: "progress",
            message: format!("{progress} is above 100"),
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

fn push_filter<'a>(qb: &mut sqlx::QueryBuilder<'a, Db>, filter: &'a JobFilter) {
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
    pub async fn create_job(&self, request: &JobRequest, created_by: Option<&str>) -> Result<Job> {
        check_request(request)?;
        let langpacks = to_json("langpacks", &request.langpacks)?;
        let updates = to_json("updates", &request.updates)?;
        let software = to_json("software", &request.software)?;
        // `seq` comes from the same statement, which SQLite runs under its write lock; the
        // UNIQUE constraint on seq catches any other interleaving, and we simply retry.
        let mut tries = 0;
        loop {
            tries += 1;
            let now = now_ms();
            let result = sqlx::query_as::<_, JobRow>(
                "INSERT INTO build_jobs (
                    job_id, seq, status, motherboard_model, base_image, customer_name,
                    image_index, driver_set, langpacks, updates, software, answer_file,
                    product_key, key_variants, create_iso, compression, log_level,
                    created_by, created_at, run_after)
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, 'Queued', $2, $3, $4, $5, $6, $7, $8,
                        $9, $10, $11, $12, $13, $14, $15, $16, $17, $17
                   FROM build_jobs
                 RETURNING *",
            )
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
            .fetch_one(&self.pool)
            .await;
            match result {
                Ok(row) => return Job::try_from(row),
                Err(e)
                    if tries < 5 && crate::error_kind(&e) == Some(ErrorKind::UniqueViolation) =>
                {
                    continue;
                }
                Err(e) => return Err(crate::classify(e)),
            }
        }
    }

    pub async fn get_job(&self, job_id: Uuid) -> Result<Option<Job>> {
        let row: Option<JobRow> = sqlx::query_as("SELECT * FROM build_jobs WHERE job_id = $1")
            .bind(job_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(Job::try_from).transpose()
    }

    /// The running job (oldest first), else the most recently created one.
    pub async fn current_or_latest_job(&self) -> Result<Option<Job>> {
        let running: Option<JobRow> = sqlx::query_as(&format!(
            "SELECT * FROM build_jobs WHERE status IN {RUNNING_SQL}
              ORDER BY started_at ASC, seq ASC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = running {
            return Job::try_from(row).map(Some);
        }
        let latest: Option<JobRow> =
            sqlx::query_as("SELECT * FROM build_jobs ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        latest.map(Job::try_from).transpose()
    }

    /// Queued and running jobs in run order (running first, then queued FIFO by priority).
    pub async fn queue(&self) -> Result<Vec<Job>> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT * FROM build_jobs
              WHERE status = 'Queued' OR status IN {RUNNING_SQL}
              ORDER BY CASE WHEN status = 'Queued' THEN 1 ELSE 0 END,
                       CASE WHEN status = 'Queued' THEN NULL ELSE started_at END,
                       priority DESC, seq ASC"
        ))
        .fetch_all(&self.pool)
        .await?;
        jobs_from_rows(rows)
    }

    /// 1-based position among queued jobs; None when not queued.
    pub async fn queue_position(&self, job_id: Uuid) -> Result<Option<u32>> {
        let (ahead,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*)
               FROM build_jobs q,
                    (SELECT priority, seq FROM build_jobs
                      WHERE job_id = $1 AND status = 'Queued') me
              WHERE q.status = 'Queued'
                AND (q.priority > me.priority OR (q.priority = me.priority AND q.seq <= me.seq))",
        )
        .bind(job_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(ahead).ok().filter(|n| *n > 0))
    }

    /// Newest first, with the total number of matching jobs.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<(Vec<Job>, i64)> {
        let limit = filter
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT);
        let offset = filter.offset.unwrap_or(0).max(0);

        let mut count = sqlx::QueryBuilder::<Db>::new("SELECT COUNT(*) FROM build_jobs");
        push_filter(&mut count, filter);
        let (total,): (i64,) = count.build_query_as().fetch_one(&self.pool).await?;

        let mut select = sqlx::QueryBuilder::<Db>::new("SELECT * FROM build_jobs");
        push_filter(&mut select, filter);
        select
            .push(" ORDER BY seq DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows: Vec<JobRow> = select.build_query_as().fetch_all(&self.pool).await?;
        Ok((jobs_from_rows(rows)?, total))
    }

    /// Oldest first.
    pub async fn get_jobs_by_status(&self, status: JobStatus) -> Result<Vec<Job>> {
        let mut qb = sqlx::QueryBuilder::<Db>::new("SELECT * FROM build_jobs WHERE status IN (");
        let mut values = qb.separated(", ");
        for v in stored_values(status) {
            values.push_bind(*v);
        }
        qb.push(") ORDER BY seq ASC");
        let rows: Vec<JobRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        jobs_from_rows(rows)
    }

    /// Change the priority of a queued job (higher runs first).
    pub async fn set_priority(&self, job_id: Uuid, priority: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE build_jobs SET priority = $1 WHERE job_id = $2 AND status = 'Queued'",
        )
        .bind(priority)
        .bind(job_id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
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

    // --- queue (workers) ------------------------------------------------------

    /// Claim the oldest runnable job (Queued, or one whose lease expired), move it to
    /// Processing_Build, set lease owner/expiry and bump `attempt`. One statement.
    ///
    /// In the same transaction, expired jobs that used all their attempts become
    /// Failed_Build, and expired jobs whose cancellation was requested become Cancelled.
    pub async fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        if worker.is_empty() {
            return Err(StoreError::Invalid {
                field: "worker",
                message: "must not be empty".to_string(),
            });
        }
        let mut tx = backend::begin_write(&self.pool).await?;
        let now = now_ms();
        sqlx::query(backend::CANCEL_ABANDONED_SQL)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(backend::FAIL_EXHAUSTED_SQL)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let row: Option<JobRow> = sqlx::query_as(backend::CLAIM_SQL)
            .bind(worker)
            .bind(after_ms(now, lease))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(Job::try_from).transpose()
    }

    /// Extend the lease. Fenced by attempt. Returns whether cancellation was requested.
    pub async fn heartbeat(&self, job_id: Uuid, attempt: i64, lease: Duration) -> Result<bool> {
        let row: Option<(bool,)> = sqlx::query_as(
            "UPDATE build_jobs SET lease_expires_at = $1
              WHERE job_id = $2 AND attempt = $3 AND lease_owner IS NOT NULL
              RETURNING cancel_requested",
        )
        .bind(after_ms(now_ms(), lease))
        .bind(job_id.to_string())
        .bind(attempt)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(c,)| c)
            .ok_or(StoreError::LeaseLost { job_id, attempt })
    }

    /// Progress/stage update, fenced by attempt.
    pub async fn set_progress(
        &self,
        job_id: Uuid,
        attempt: i64,
        progress: u8,
        stage: &str,
    ) -> Result<()> {
        check_progress(progress)?;
        let done = sqlx::query(
            "UPDATE build_jobs SET progress = $1, stage = $2
              WHERE job_id = $3 AND attempt = $4 AND lease_owner IS NOT NULL",
        )
        .bind(i64::from(progress))
        .bind(stage)
        .bind(job_id.to_string())
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::LeaseLost { job_id, attempt });
        }
        Ok(())
    }

    /// Move the job to `to` (fenced by attempt), applying `update`. Final states set
    /// finished_at and clear the lease; Processing_Build sets started_at if unset.
    ///
    /// `to = Queued` gives the job back for a later retry: the lease is cleared and the
    /// job may run again after `retry_backoff(attempt)`; Conflict when no attempt is left.
    pub async fn transition(
        &self,
        job_id: Uuid,
        attempt: i64,
        to: JobStatus,
        update: &JobUpdate,
    ) -> Result<Job> {
        if let Some(p) = update.progress {
            check_progress(p)?;
        }
        let mut tx = backend::begin_write(&self.pool).await?;
        let current: Option<JobRow> = sqlx::query_as(
            "SELECT * FROM build_jobs
              WHERE job_id = $1 AND attempt = $2 AND lease_owner IS NOT NULL",
        )
        .bind(job_id.to_string())
        .bind(attempt)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            return Err(StoreError::LeaseLost { job_id, attempt });
        };
        let current = Job::try_from(current)?;
        let now = now_ms();

        let mut warnings = current.warnings;
        warnings.extend(update.add_warnings.iter().cloned());
        let progress = match (update.progress, to) {
            (Some(p), _) => p,
            (None, JobStatus::Completed) => 100,
            (None, _) => current.progress,
        };
        let stage = update.stage.clone().or(current.stage);
        let error = update.error.clone().or(current.error);
        let output_dir = update.output_dir.clone().or(current.output_dir);
        let output_files = update
            .output_files
            .as_ref()
            .unwrap_or(&current.output_files);
        let resources = update.resources.as_ref().unwrap_or(&current.resources);

        let mut started_at = current.started_at.map(crate::clock::to_ms);
        let mut finished_at = None;
        let mut lease_owner = current.lease_owner;
        let mut lease_expires_at = current.lease_expires_at.map(crate::clock::to_ms);
        let mut run_after = None;
        if to == JobStatus::ProcessingBuild && started_at.is_none() {
            started_at = Some(now);
        }
        if to.is_final() {
            finished_at = Some(now);
            lease_owner = None;
            lease_expires_at = None;
        } else if to == JobStatus::Queued {
            if current.attempt >= current.max_attempts {
                return Err(StoreError::Conflict(format!(
                    "job {job_id} used all {} attempts and cannot be requeued",
                    current.max_attempts
                )));
            }
            lease_owner = None;
            lease_expires_at = None;
            run_after = Some(after_ms(now, retry_backoff(attempt)));
        }

        let row: JobRow = sqlx::query_as(
            "UPDATE build_jobs
                SET status = $1, progress = $2, stage = $3, error = $4, output_dir = $5,
                    output_files = $6, resources = $7, warnings = $8, started_at = $9,
                    finished_at = $10, lease_owner = $11, lease_expires_at = $12,
                    run_after = COALESCE($13, run_after)
              WHERE job_id = $14
             RETURNING *",
        )
        .bind(to.as_str())
        .bind(i64::from(progress))
        .bind(stage)
        .bind(error)
        .bind(output_dir)
        .bind(to_json("output_files", output_files)?)
        .bind(to_json("resources", resources)?)
        .bind(to_json("warnings", &warnings)?)
        .bind(started_at)
        .bind(finished_at)
        .bind(lease_owner)
        .bind(lease_expires_at)
        .bind(run_after)
        .bind(job_id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(crate::classify)?;
        tx.commit().await?;
        Job::try_from(row)
    }

    /// Queued → Cancelled at once; running → cancel_requested; final → Conflict.
    pub async fn request_cancel(&self, job_id: Uuid) -> Result<CancelOutcome> {
        let mut tx = backend::begin_write(&self.pool).await?;
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM build_jobs WHERE job_id = $1")
                .bind(job_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((status,)) = status else {
            return Err(not_found(job_id));
        };
        let status = JobStatus::parse(&status).ok_or_else(|| StoreError::Invalid {
            field: "status",
            message: format!("unknown job status {status:?}"),
        })?;
        let outcome = if status == JobStatus::Queued {
            sqlx::query(
                "UPDATE build_jobs
                    SET status = 'Cancelled', finished_at = $1, lease_owner = NULL,
                        lease_expires_at = NULL
                  WHERE job_id = $2",
            )
            .bind(now_ms())
            .bind(job_id.to_string())
            .execute(&mut *tx)
            .await?;
            CancelOutcome::Cancelled
        } else if status.is_running() {
            sqlx::query("UPDATE build_jobs SET cancel_requested = TRUE WHERE job_id = $1")
                .bind(job_id.to_string())
                .execute(&mut *tx)
                .await?;
            CancelOutcome::Requested
        } else {
            return Err(StoreError::Conflict(format!(
                "job {job_id} already finished ({status})"
            )));
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Delete a finished job and its logs; running/queued → Conflict.
    pub async fn delete_job(&self, job_id: Uuid) -> Result<()> {
        let mut tx = backend::begin_write(&self.pool).await?;
        let status: Option<(String,)> =
            sqlx::query_as("SELECT status FROM build_jobs WHERE job_id = $1")
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
        Ok(())
    }

    // --- workers --------------------------------------------------------------

    /// Register/refresh a live worker.
    pub async fn worker_heartbeat(&self, worker: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (name, last_seen) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen",
        )
        .bind(worker)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Workers seen within `within`.
    pub async fn live_workers(&self, within: Duration) -> Result<i64> {
        let window = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workers WHERE last_seen >= $1")
            .bind(now_ms().saturating_sub(window))
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

pub(crate) fn not_found(job_id: Uuid) -> StoreError {
    StoreError::NotFound {
        what: format!("job {job_id}"),
    }
}
