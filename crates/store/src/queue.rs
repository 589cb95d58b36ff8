//! The worker side of the queue: claim with a fenced lease, heartbeat, progress, state
//! transitions, failure with retry, graceful release, and cancellation.
//!
//! Fencing: every claim bumps `attempt`; everything a worker does afterwards names the
//! attempt it holds (`WHERE job_id = … AND attempt = … AND lease_owner IS NOT NULL`), so
//! a worker whose lease expired and was reclaimed cannot change the job any more.
//!
//! Every status change writes its event row (`events`) in the same transaction.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::backend::{ErrorClass, RUNNING_SQL, classify_error, on_pool};
use crate::clock::{after_ms, now_ms, to_ms};
use crate::events::record_event;
use crate::jobs::{not_found, retry_backoff};
use crate::queue_read::ACTIVE_SQL;
use crate::rows::{JobRow, to_json};
use crate::{CancelOutcome, EventKind, Job, JobStatus, JobUpdate, Result, Store, StoreError};

/// How many times a claim is retried after losing a race (deadlock, busy).
const CLAIM_TRIES: u32 = 5;

/// Which part of the work a worker takes from the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stages {
    /// Build and validate (the seed's build worker). Takes queued jobs, expired leases of
    /// any stage, and jobs handed off to validation.
    #[default]
    All,
    /// Build only: queued jobs and expired builds. Hand a built job to the validation
    /// workers with `transition(PendingValidation)` then `release_lease`.
    Build,
    /// Validate only: Pending_Validation jobs nobody holds (or whose lease expired),
    /// moved to Processing_Validation.
    Validate,
}

impl Stages {
    pub(crate) const ALL_VARIANTS: [Stages; 3] = [Stages::All, Stages::Build, Stages::Validate];

    pub(crate) fn index(self) -> usize {
        match self {
            Stages::All => 0,
            Stages::Build => 1,
            Stages::Validate => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stages::All => "all",
            Stages::Build => "build",
            Stages::Validate => "validate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL_VARIANTS.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for Stages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The WHERE condition of the claim for `stages` (binds: $3 now). Shared by both
/// backends' claim statements.
pub(crate) fn claimable(stages: Stages) -> String {
    const QUEUED: &str = "(status = 'Queued' AND run_after <= $3)";
    const HANDED_OFF: &str = "(status = 'Pending_Validation' AND lease_owner IS NULL
                               AND run_after <= $3 AND cancel_requested = FALSE)";
    let expired = |statuses: &str| {
        format!(
            "(status IN {statuses} AND lease_owner IS NOT NULL AND lease_expires_at < $3
              AND attempt - handoffs < max_attempts AND cancel_requested = FALSE)"
        )
    };
    let any_of = match stages {
        Stages::All => format!("{QUEUED} OR {HANDED_OFF} OR {}", expired(RUNNING_SQL)),
        Stages::Build => format!("{QUEUED} OR {}", expired("('Processing_Build')")),
        Stages::Validate => format!(
            "{HANDED_OFF} OR {}",
            expired("('Pending_Validation', 'Processing_Validation')")
        ),
    };
    // The leading `status IN (…)` repeats what the alternatives imply; it lets the
    // planner walk the partial index `build_jobs_active_idx` in claim order and stop at
    // the first match, instead of sorting every queued row on each claim.
    format!("(status IN {ACTIVE_SQL} AND ({any_of}))")
}

/// Finishing jobs whose worker died for good (cancelled or out of attempts) is not
/// needed for correctness, since the claim never takes them; it runs at most this often
/// per store, and whenever a claim finds nothing to do.
const SWEEP_EVERY_MS: i64 = 1000;

/// Run both sweeps and write their events. Expands inside an `on_pool!` body.
macro_rules! sweep {
    ($tx:expr, $now:expr) => {{
        let mut swept: Vec<JobRow> = sqlx::query_as(CANCEL_ABANDONED_SQL)
            .bind($now)
            .fetch_all(&mut *$tx)
            .await?;
        swept.extend(
            sqlx::query_as::<_, JobRow>(FAIL_EXHAUSTED_SQL)
                .bind($now)
                .fetch_all(&mut *$tx)
                .await?,
        );
        for row in swept {
            let job = Job::try_from(row)?;
            record_event!($tx, &job, $now);
        }
    }};
}

/// Before claiming: a job whose cancellation was requested and whose worker died (or
/// that waits for validation with nobody holding it) is cancelled, not run again.
/// Binds: $1 now (ms).
const CANCEL_ABANDONED_SQL: &str = "
UPDATE build_jobs
   SET status = 'Cancelled',
       finished_at = $1,
       lease_owner = NULL,
       lease_expires_at = NULL
 WHERE cancel_requested = TRUE
   AND ((status IN ('Processing_Build', 'Pending_Validation', 'Processing_Validation')
         AND lease_owner IS NOT NULL AND lease_expires_at < $1)
        OR (status = 'Pending_Validation' AND lease_owner IS NULL))
RETURNING *";

/// Before claiming: jobs whose lease expired and that used all their attempts fail.
/// Binds: $1 now (ms).
const FAIL_EXHAUSTED_SQL: &str = "
UPDATE build_jobs
   SET status = CASE WHEN status = 'Processing_Build' THEN 'Failed_Build'
                     ELSE 'Failed_Validation' END,
       error = 'lease expired too many times (' || (attempt - handoffs) || ' of '
               || max_attempts || ' attempts used); the worker running it stopped responding',
       finished_at = $1,
       lease_owner = NULL,
       lease_expires_at = NULL
 WHERE status IN ('Processing_Build', 'Pending_Validation', 'Processing_Validation')
   AND lease_owner IS NOT NULL
   AND lease_expires_at < $1
   AND attempt - handoffs >= max_attempts
RETURNING *";

/// The fenced read that starts every worker-side change (locked on PostgreSQL).
fn fenced_select(for_update: &str) -> String {
    format!(
        "SELECT * FROM build_jobs
          WHERE job_id = $1 AND attempt = $2 AND lease_owner IS NOT NULL{for_update}"
    )
}

/// Writes every mutable column of a job. Binds $1..$14 as below, $15 job id. The
/// PostgreSQL backend wraps it so the same statement writes the event
/// (`backend::postgres::write_job_sql`).
pub(crate) const WRITE_JOB_SQL: &str = "
UPDATE build_jobs
   SET status = $1, progress = $2, stage = $3, error = $4, output_dir = $5,
       output_files = $6, resources = $7, warnings = $8, started_at = $9,
       finished_at = $10, lease_owner = $11, lease_expires_at = $12,
       run_after = COALESCE($13, run_after),
       handoffs = $14
 WHERE job_id = $15
RETURNING *";

/// A job as read from its row, with the bookkeeping columns `Job` does not show.
struct Current {
    job: Job,
    handoffs: i64,
}

impl Current {
    fn from_row(row: JobRow) -> Result<Self> {
        let handoffs = row.handoffs;
        Ok(Current {
            job: Job::try_from(row)?,
            handoffs,
        })
    }

    /// Attempts that count against `max_attempts`.
    fn used(&self) -> i64 {
        self.job.attempt - self.handoffs
    }
}

/// The new values of a job's mutable columns.
struct Next {
    job: Job,
    run_after: Option<i64>,
    handoffs: i64,
}

impl Store {
    /// Claim the oldest runnable job for a worker that does everything
    /// (`claim_job_for(worker, lease, Stages::All)`).
    pub async fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        self.claim_job_for(worker, lease, Stages::All).await
    }

    /// Claim the best runnable job for `stages` (priority, then FIFO), set lease owner
    /// and expiry and bump `attempt`, in one statement. A build claim moves the job to
    /// Processing_Build; a validation claim (of a Pending_Validation job, or of a
    /// validation whose lease expired) moves it to Processing_Validation.
    ///
    /// In the same transaction, expired jobs that used all their attempts fail, and
    /// expired jobs whose cancellation was requested become Cancelled.
    pub async fn claim_job_for(
        &self,
        worker: &str,
        lease: Duration,
        stages: Stages,
    ) -> Result<Option<Job>> {
        if worker.is_empty() {
            return Err(StoreError::Invalid {
                field: "worker",
                message: "must not be empty".to_string(),
            });
        }
        let mut tries = 0;
        loop {
            tries += 1;
            match self.try_claim(worker, lease, stages).await {
                Err(StoreError::Database(e))
                    if tries < CLAIM_TRIES && classify_error(&e) == ErrorClass::Retryable =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    async fn try_claim(
        &self,
        worker: &str,
        lease: Duration,
        stages: Stages,
    ) -> Result<Option<Job>> {
        let now = now_ms();
        let swept_first = self.inner.sweep_due(now, SWEEP_EVERY_MS);
        if swept_first {
            self.sweep(now).await?;
        }
        let row = on_pool!(self.pool(), |pool| {
            b::claim(pool, stages, worker, after_ms(now, lease), now).await?
        });
        let job = row.map(Job::try_from).transpose()?;
        if job.is_none() && !swept_first {
            self.sweep(now).await?;
        }
        Ok(job)
    }

    /// Finish jobs whose worker died for good: cancelled when cancellation was
    /// requested, failed when no attempt is left. One transaction, with their events.
    async fn sweep(&self, now: i64) -> Result<()> {
        on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            sweep!(tx, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Extend the lease. Fenced by attempt. Returns whether cancellation was requested.
    pub async fn heartbeat(&self, job_id: Uuid, attempt: i64, lease: Duration) -> Result<bool> {
        let row: Option<(bool,)> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "UPDATE build_jobs SET lease_expires_at = $1
                  WHERE job_id = $2 AND attempt = $3 AND lease_owner IS NOT NULL
                  RETURNING cancel_requested",
            )
            .bind(after_ms(now_ms(), lease))
            .bind(job_id.to_string())
            .bind(attempt)
            .fetch_optional(pool)
            .await?
        });
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
        let changed = on_pool!(self.pool(), |pool| {
            sqlx::query(
                "UPDATE build_jobs SET progress = $1, stage = $2
                  WHERE job_id = $3 AND attempt = $4 AND lease_owner IS NOT NULL",
            )
            .bind(i64::from(progress))
            .bind(stage)
            .bind(job_id.to_string())
            .bind(attempt)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::LeaseLost { job_id, attempt });
        }
        Ok(())
    }

    /// Move the job to `to` (fenced by attempt), applying `update`. Final states set
    /// finished_at and clear the lease; Processing_Build sets started_at if unset.
    ///
    /// `to = Queued` gives the job back for a later retry: the lease is cleared and the
    /// job may run again after `retry_backoff(attempt)`; Conflict when no attempt is left.
    /// (`fail_attempt` decides between retry and failure by itself.)
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
        self.change(job_id, attempt, |current, now| {
            let used = current.used();
            let mut next = apply(current, to, update, now);
            if to == JobStatus::Queued {
                if used >= next.job.max_attempts {
                    return Err(StoreError::Conflict(format!(
                        "job {job_id} used all {} attempts and cannot be requeued",
                        next.job.max_attempts
                    )));
                }
                next.run_after = Some(after_ms(now, retry_backoff(used)));
            }
            Ok(next)
        })
        .await
    }

    /// Record that the current attempt failed and decide what happens next, in one
    /// transaction (fenced by attempt):
    ///
    /// * `transient` (the failure may go away: I/O hiccup, lost share, worker shutting
    ///   down mid-copy) and attempts left → the job goes back to Queued and runs again
    ///   from the build after `retry_backoff(attempts used)` (`attempt^4` seconds plus
    ///   jitter, capped at ten minutes); `error` is kept on the job.
    /// * permanent (bad input, validation found a real defect), or the last attempt →
    ///   Failed_Build, or Failed_Validation when `failed_in` is a validation state.
    /// * cancellation was requested → Cancelled, never retried.
    ///
    /// `failed_in` is the stage that failed: Processing_Build, Pending_Validation or
    /// Processing_Validation; anything else is `Invalid`.
    pub async fn fail_attempt(
        &self,
        job_id: Uuid,
        attempt: i64,
        transient: bool,
        error: &str,
        failed_in: JobStatus,
    ) -> Result<Job> {
        let failed_status = match failed_in {
            JobStatus::ProcessingBuild => JobStatus::FailedBuild,
            JobStatus::PendingValidation | JobStatus::ProcessingValidation => {
                JobStatus::FailedValidation
            }
            other => {
                return Err(StoreError::Invalid {
                    field: "failed_in",
                    message: format!("{other} is not a stage a job can fail in"),
                });
            }
        };
        self.change(job_id, attempt, |current, now| {
            let used = current.used();
            let max = current.job.max_attempts;
            let cancel = current.job.cancel_requested;
            let retry = transient && used < max && !cancel;
            let (to, message) = if cancel {
                (JobStatus::Cancelled, error.to_string())
            } else if retry {
                (JobStatus::Queued, error.to_string())
            } else if transient {
                (
                    failed_status,
                    format!("{error} (gave up after {used} of {max} attempts)"),
                )
            } else {
                (failed_status, error.to_string())
            };
            let update = JobUpdate {
                error: Some(message),
                ..JobUpdate::default()
            };
            let mut next = apply(current, to, &update, now);
            if retry {
                next.run_after = Some(after_ms(now, retry_backoff(used)));
                next.job.progress = 0;
            }
            Ok(next)
        })
        .await
    }

    /// Hand a running job back without counting the attempt as failed (graceful
    /// shutdown, or a build worker passing a built job to the validation workers). Fenced
    /// by attempt. A build goes back to Queued, a job in validation to
    /// Pending_Validation; either may be claimed again at once. `attempt` stays as it is
    /// (it is the fencing token); `handoffs` grows so the next claim is not charged. A
    /// job whose cancellation was requested is Cancelled instead.
    pub async fn release_lease(&self, job_id: Uuid, attempt: i64) -> Result<Job> {
        self.change(job_id, attempt, |current, now| {
            let handoffs = current.handoffs + 1;
            let to = if current.job.cancel_requested {
                JobStatus::Cancelled
            } else if current.job.status == JobStatus::ProcessingBuild {
                JobStatus::Queued
            } else {
                JobStatus::PendingValidation
            };
            let mut next = apply(current, to, &JobUpdate::default(), now);
            next.handoffs = handoffs;
            if to == JobStatus::Queued {
                next.job.progress = 0;
            }
            if !to.is_final() {
                next.job.lease_owner = None;
                next.job.lease_expires_at = None;
                next.run_after = Some(now);
            }
            Ok(next)
        })
        .await
    }

    /// The shared body of every fenced change: read the job the caller holds (locked),
    /// compute its next values, write them, write the event if the status changed, and
    /// notify idle workers when the job became claimable.
    async fn change(
        &self,
        job_id: Uuid,
        attempt: i64,
        decide: impl FnOnce(Current, i64) -> Result<Next>,
    ) -> Result<Job> {
        let (job, wake) = on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            let row: Option<JobRow> = sqlx::query_as(&fenced_select(b::FOR_UPDATE))
                .bind(job_id.to_string())
                .bind(attempt)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Err(StoreError::LeaseLost { job_id, attempt });
            };
            let current = Current::from_row(row)?;
            let from = current.job.status;
            let now = now_ms();
            let next = decide(current, now)?;
            let n = &next.job;
            let event = (n.status != from).then(|| EventKind::for_status(n.status).as_str());
            let write = sqlx::query_as::<_, JobRow>(b::write_job_sql())
                .bind(n.status.as_str())
                .bind(i64::from(n.progress))
                .bind(&n.stage)
                .bind(&n.error)
                .bind(&n.output_dir)
                .bind(to_json("output_files", &n.output_files)?)
                .bind(to_json("resources", &n.resources)?)
                .bind(to_json("warnings", &n.warnings)?)
                .bind(n.started_at.map(to_ms))
                .bind(n.finished_at.map(to_ms))
                .bind(&n.lease_owner)
                .bind(n.lease_expires_at.map(to_ms))
                .bind(next.run_after)
                .bind(next.handoffs)
                .bind(job_id.to_string());
            let write = if b::STATEMENTS_WRITE_EVENTS {
                write.bind(event).bind(now)
            } else {
                write
            };
            let row = write.fetch_one(&mut *tx).await.map_err(crate::classify)?;
            let job = Job::try_from(row)?;
            if event.is_some() && !b::STATEMENTS_WRITE_EVENTS {
                record_event!(tx, &job, now);
            }
            let wake = job.lease_owner.is_none()
                && matches!(job.status, JobStatus::Queued | JobStatus::PendingValidation);
            if wake {
                b::notify_work(&mut tx).await?;
            }
            tx.commit().await?;
            (job, wake)
        });
        if wake {
            self.inner.wake.wake();
        }
        Ok(job)
    }

    /// Queued → Cancelled at once (also a job waiting for validation that nobody holds);
    /// running → cancel_requested, seen by the worker's next heartbeat; final → Conflict.
    pub async fn request_cancel(&self, job_id: Uuid) -> Result<CancelOutcome> {
        on_pool!(self.pool(), |pool| {
            let mut tx = b::begin_write(pool).await?;
            let row: Option<JobRow> = sqlx::query_as(&format!(
                "SELECT * FROM build_jobs WHERE job_id = $1{}",
                b::FOR_UPDATE
            ))
            .bind(job_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Err(not_found(job_id));
            };
            let job = Job::try_from(row)?;
            let waiting = job.status == JobStatus::Queued
                || (job.status == JobStatus::PendingValidation && job.lease_owner.is_none());
            let outcome = if waiting {
                let now = now_ms();
                let row: JobRow = sqlx::query_as(
                    "UPDATE build_jobs
                        SET status = 'Cancelled', finished_at = $1, lease_owner = NULL,
                            lease_expires_at = NULL, cancel_requested = TRUE
                      WHERE job_id = $2
                     RETURNING *",
                )
                .bind(now)
                .bind(job_id.to_string())
                .fetch_one(&mut *tx)
                .await?;
                let cancelled = Job::try_from(row)?;
                record_event!(tx, &cancelled, now);
                CancelOutcome::Cancelled
            } else if job.status.is_running() {
                sqlx::query("UPDATE build_jobs SET cancel_requested = TRUE WHERE job_id = $1")
                    .bind(job_id.to_string())
                    .execute(&mut *tx)
                    .await?;
                CancelOutcome::Requested
            } else {
                return Err(StoreError::Conflict(format!(
                    "job {job_id} already finished ({})",
                    job.status
                )));
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }
}

/// The job after moving to `to` with `update` applied, before fencing-specific tweaks.
fn apply(current: Current, to: JobStatus, update: &JobUpdate, now: i64) -> Next {
    let handoffs = current.handoffs;
    let mut job = current.job;
    job.warnings.extend(update.add_warnings.iter().cloned());
    job.progress = match (update.progress, to) {
        (Some(p), _) => p,
        (None, JobStatus::Completed) => 100,
        (None, _) => job.progress,
    };
    if let Some(stage) = &update.stage {
        job.stage = Some(stage.clone());
    }
    if let Some(error) = &update.error {
        job.error = Some(error.clone());
    }
    if let Some(dir) = &update.output_dir {
        job.output_dir = Some(dir.clone());
    }
    if let Some(files) = &update.output_files {
        job.output_files = files.clone();
    }
    if let Some(resources) = &update.resources {
        job.resources = resources.clone();
    }
    let now_t = crate::clock::from_ms("now", now).ok();
    if to == JobStatus::ProcessingBuild && job.started_at.is_none() {
        job.started_at = now_t;
    }
    job.finished_at = None;
    if to.is_final() {
        job.finished_at = now_t;
        job.lease_owner = None;
        job.lease_expires_at = None;
    } else if to == JobStatus::Queued {
        job.lease_owner = None;
        job.lease_expires_at = None;
    }
    job.status = to;
    Next {
        job,
        run_after: None,
        handoffs,
    }
}

pub(crate) fn check_progress(progress: u8) -> Result<()> {
    if progress > 100 {
        return Err(StoreError::Invalid {
            field: "progress",
            message: format!("{progress} is above 100"),
        });
    }
    Ok(())
}
