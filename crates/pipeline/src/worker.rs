//! The worker loop: claim a job, keep its lease alive, run the build on a blocking
//! thread, then validation, and record every state change.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use wait_catalog::Repository;
use wait_store::{Job, JobStatus, JobUpdate, LogLevel, Store, StoreError};

use crate::build::{self, BuildOutcome};
use crate::report::{Event, Reporter};
use crate::{PipelineError, validate};

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process; recorded as the lease owner.
    pub name: String,
    /// A job whose lease is not renewed within this time is reclaimed by another worker.
    pub lease: Duration,
    /// How often the lease is renewed and cancellation is checked.
    pub heartbeat: Duration,
    /// Pause between empty polls of the queue.
    pub poll_interval: Duration,
    /// Scratch space for files being added to images (inside the data directory).
    pub work_dir: PathBuf,
}

impl WorkerConfig {
    pub fn new(name: impl Into<String>, work_dir: PathBuf) -> Self {
        Self {
            name: name.into(),
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            work_dir,
        }
    }
}

/// One build worker. Runs one job at a time (the seed's single-job mode); run several
/// workers for more.
#[derive(Debug, Clone)]
pub struct Worker {
    store: Store,
    repo: Repository,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(store: Store, repo: Repository, config: WorkerConfig) -> Self {
        Self {
            store,
            repo,
            config,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Run jobs until none is runnable; returns how many ran. Tests drive workers with
    /// this instead of sleeping.
    pub async fn run_until_idle(&self) -> Result<usize, PipelineError> {
        let mut ran = 0;
        while self.run_one().await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    /// Claim one job and run it to a final state. None when nothing was runnable.
    pub async fn run_one(&self) -> Result<Option<JobStatus>, PipelineError> {
        self.store.worker_heartbeat(&self.config.name).await?;
        let Some(job) = self
            .store
            .claim_job(&self.config.name, self.config.lease)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(self.run_job(job).await))
    }

    /// Poll the queue until `shutdown` resolves. A job in progress is finished first.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.run_one().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(worker = %self.config.name, error = %e, "queue poll failed")
                }
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    async fn run_job(&self, job: Job) -> JobStatus {
        let job_id = job.job_id;
        let attempt = job.attempt;
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = Arc::new(AtomicBool::new(job.cancel_requested));
        let lost = Arc::new(AtomicBool::new(false));
        let verbose = job.request.log_level == LogLevel::Verbose;
        let reporter = Reporter::new(tx, Arc::clone(&cancel), verbose);
        let drain = tokio::spawn(drain_events(self.store.clone(), job_id, attempt, rx));
        let beat = tokio::spawn(keep_lease(
            self.store.clone(),
            self.config.clone(),
            job_id,
            attempt,
            Arc::clone(&cancel),
            Arc::clone(&lost),
        ));

        reporter.info(
            "build",
            format!(
                "Build started on worker {} (attempt {} of {})",
                self.config.name, attempt, job.max_attempts
            ),
        );
        let status = self.build_and_validate(&job, &reporter).await;
        reporter.flush().await;
        let status = match status {
            Ok(s) => s,
            Err(e) if lost.load(Ordering::Relaxed) => {
                tracing::warn!(%job_id, attempt, error = %e, "lease lost; another worker owns the job now");
                JobStatus::Queued
            }
            Err(e) => {
                tracing::error!(%job_id, error = %e, "could not record the job's outcome");
                JobStatus::FailedBuild
            }
        };
        beat.abort();
        drop(reporter);
        let _ = drain.await;
        status
    }

    async fn build_and_validate(
        &self,
        job: &Job,
        r: &Reporter,
    ) -> Result<JobStatus, PipelineError> {
        let (id, attempt) = (job.job_id, job.attempt);
        let built = {
            let (job, repo, work, rep) = (
                job.clone(),
                self.repo.clone(),
                self.config.work_dir.clone(),
                r.clone(),
            );
            tokio::task::spawn_blocking(move || build::run(&job, &repo, &work, &rep))
                .await
                .unwrap_or_else(|e| {
                    Err(PipelineError::Permanent(format!(
                        "internal error in the build stage: {e}"
                    )))
                })
        };
        let outcome: BuildOutcome = match built {
            Ok(o) => o,
            Err(PipelineError::Cancelled) => return self.finish_cancelled(job, r, None).await,
            Err(e) => {
                r.info("build", format!("Build failed: {e}"));
                r.flush().await;
                let update = JobUpdate {
                    error: Some(e.to_string()),
                    stage: Some("build".into()),
                    ..JobUpdate::default()
                };
                self.store
                    .transition(id, attempt, JobStatus::FailedBuild, &update)
                    .await?;
                return Ok(JobStatus::FailedBuild);
            }
        };

        r.info("build", "Build finished; validation is next");
        r.flush().await;
        let update = JobUpdate {
            stage: Some("validate".into()),
            progress: Some(90),
            output_dir: Some(outcome.output_dir.clone()),
            output_files: Some(outcome.output_files.clone()),
            resources: Some(outcome.resources.clone()),
            add_warnings: outcome.warnings.clone(),
            error: None,
        };
        self.store
            .transition(id, attempt, JobStatus::PendingValidation, &update)
            .await?;
        let start = JobUpdate {
            stage: Some("validate".into()),
            ..JobUpdate::default()
        };
        self.store
            .transition(id, attempt, JobStatus::ProcessingValidation, &start)
            .await?;

        let dir = self.repo.output_root().join(&outcome.output_dir);
        r.info(
            "validate",
            format!("Validating 8_Output/{}", outcome.output_dir),
        );
        let checked = {
            let (dir, flag) = (dir.clone(), r.cancel_flag());
            tokio::task::spawn_blocking(move || validate::validate_output(&dir, flag))
                .await
                .unwrap_or_else(|e| {
                    Err(PipelineError::Permanent(format!(
                        "internal error in validation: {e}"
                    )))
                })
        };
        let report = match checked {
            Ok(report) => report,
            Err(PipelineError::Cancelled) => {
                return self.finish_cancelled(job, r, Some(&dir)).await;
            }
            Err(e) => {
                let failed = format!("validation could not run: {e}");
                return self.fail_validation(job, r, &dir, &outcome, failed).await;
            }
        };
        for c in &report.checks {
            r.info(
                "validate",
                format!(
                    "{} {}: {}",
                    if c.ok { "PASS" } else { "FAIL" },
                    c.name,
                    c.detail
                ),
            );
        }
        if !report.passed() {
            let failed = report
                .failures()
                .iter()
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect::<Vec<_>>()
                .join("; ");
            return self.fail_validation(job, r, &dir, &outcome, failed).await;
        }
        r.info(
            "validate",
            format!("Completed: 8_Output/{}", outcome.output_dir),
        );
        r.flush().await;
        let done = JobUpdate {
            stage: Some("done".into()),
            progress: Some(100),
            ..JobUpdate::default()
        };
        self.store
            .transition(id, attempt, JobStatus::Completed, &done)
            .await?;
        Ok(JobStatus::Completed)
    }

    /// A folder that failed validation must not look like a good build: it is renamed
    /// with a `_FAILED_VALIDATION` suffix and kept for inspection.
    async fn fail_validation(
        &self,
        job: &Job,
        r: &Reporter,
        dir: &std::path::Path,
        outcome: &BuildOutcome,
        failed: String,
    ) -> Result<JobStatus, PipelineError> {
        let mut output_dir = outcome.output_dir.clone();
        let renamed = dir.with_file_name(format!(
            "{}_FAILED_VALIDATION",
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        if std::fs::rename(dir, &renamed).is_ok() {
            output_dir.push_str("_FAILED_VALIDATION");
        }
        r.info("validate", format!("Validation failed: {failed}"));
        r.flush().await;
        let update = JobUpdate {
            stage: Some("validate".into()),
            error: Some(format!("validation failed: {failed}")),
            output_dir: Some(output_dir),
            ..JobUpdate::default()
        };
        self.store
            .transition(
                job.job_id,
                job.attempt,
                JobStatus::FailedValidation,
                &update,
            )
            .await?;
        Ok(JobStatus::FailedValidation)
    }

    /// Cancelled jobs publish nothing: a build's private folder is already gone, and an
    /// output that was being validated is removed.
    async fn finish_cancelled(
        &self,
        job: &Job,
        r: &Reporter,
        published: Option<&std::path::Path>,
    ) -> Result<JobStatus, PipelineError> {
        if let Some(dir) = published {
            let _ = std::fs::remove_dir_all(dir);
        }
        r.info("cancel", "Cancelled on request; nothing was published");
        r.flush().await;
        let update = JobUpdate {
            error: Some("cancelled by request".into()),
            ..JobUpdate::default()
        };
        self.store
            .transition(job.job_id, job.attempt, JobStatus::Cancelled, &update)
            .await?;
        Ok(JobStatus::Cancelled)
    }
}

/// Write log lines and progress changes in order. Progress is written only when the
/// percentage or stage changes, so a fast libwim callback costs no database writes.
async fn drain_events(
    store: Store,
    job_id: uuid::Uuid,
    attempt: i64,
    mut rx: mpsc::UnboundedReceiver<Event>,
) {
    let mut last: Option<(u8, &'static str)> = None;
    while let Some(event) = rx.recv().await {
        let result = match event {
            Event::Log {
                level,
                stage,
                message,
            } => store
                .append_log(job_id, level, Some(stage), &message)
                .await
                .map(drop),
            Event::Progress { percent, stage } => {
                if last == Some((percent, stage)) {
                    continue;
                }
                last = Some((percent, stage));
                store.set_progress(job_id, attempt, percent, stage).await
            }
            Event::Flush(done) => {
                let _ = done.send(());
                Ok(())
            }
        };
        if let Err(e) = result {
            if !matches!(e, StoreError::LeaseLost { .. }) {
                tracing::warn!(%job_id, error = %e, "could not record job progress");
            }
        }
    }
}

/// Renew the lease, watch for cancellation, and keep the worker visible to /api/health.
async fn keep_lease(
    store: Store,
    config: WorkerConfig,
    job_id: uuid::Uuid,
    attempt: i64,
    cancel: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
) {
    let mut ticks = 0u64;
    loop {
        tokio::time::sleep(config.heartbeat).await;
        match store.heartbeat(job_id, attempt, config.lease).await {
            Ok(true) => cancel.store(true, Ordering::Relaxed),
            Ok(false) => {}
            Err(StoreError::LeaseLost { .. }) => {
                lost.store(true, Ordering::Relaxed);
                cancel.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!(%job_id, error = %e, "lease heartbeat failed"),
        }
        ticks += 1;
        if ticks % 10 == 0 {
            let _ = store.worker_heartbeat(&config.name).await;
        }
    }
}
