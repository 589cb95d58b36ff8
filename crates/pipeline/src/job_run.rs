//! Running one claimed job: the build stage, then (for workers that do it) validation,
//! and the state change that ends this worker's part — done, failed (retried when the
//! failure is transient), cancelled, or handed back on shutdown.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;
use wait_store::{Job, JobStatus, JobUpdate, LogLevel, Stages};

use crate::build::{self, BuildEnv, BuildOutcome};
use crate::lease::{JobFlags, drain_events, keep_lease};
use crate::report::Reporter;
use crate::{PipelineError, Worker, validate};

impl Worker {
    pub(crate) async fn run_job(&self, job: Job, flags: JobFlags) -> JobStatus {
        let job_id = job.job_id;
        let attempt = job.attempt;
        if job.cancel_requested {
            flags.cancel.store(true, Ordering::Relaxed);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let verbose = job.request.log_level == LogLevel::Verbose;
        let reporter = Reporter::new(tx, Arc::clone(&flags.cancel), verbose);
        let drain = tokio::spawn(drain_events(self.store.clone(), job_id, attempt, rx));
        let beat = tokio::spawn(keep_lease(
            self.store.clone(),
            self.config.clone(),
            job_id,
            attempt,
            flags.clone(),
        ));

        let result = if job.status == JobStatus::ProcessingValidation {
            reporter.info(
                "validate",
                format!(
                    "Validation started on worker {} (attempt {} of {})",
                    self.config.name, attempt, job.max_attempts
                ),
            );
            self.validate_only(&job, &reporter, &flags).await
        } else {
            reporter.info(
                "build",
                format!(
                    "Build started on worker {} (attempt {} of {})",
                    self.config.name, attempt, job.max_attempts
                ),
            );
            self.build_and_validate(&job, &reporter, &flags).await
        };
        reporter.flush().await;
        let status = match result {
            Ok(s) => s,
            Err(e) if flags.lost.load(Ordering::Relaxed) => {
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
        flags: &JobFlags,
    ) -> Result<JobStatus, PipelineError> {
        let (id, attempt) = (job.job_id, job.attempt);
        let env = self.prepare(job, r).await;
        let built = {
            let (job, repo, rep) = (job.clone(), self.repo.clone(), r.clone());
            tokio::task::spawn_blocking(move || build::run(&job, &repo, &env, &rep))
                .await
                .unwrap_or_else(|e| {
                    Err(PipelineError::Permanent(format!(
                        "internal error in the build stage: {e}"
                    )))
                })
        };
        let outcome: BuildOutcome = match built {
            Ok(o) => o,
            Err(PipelineError::Cancelled) => return self.stop(job, r, flags, None).await,
            Err(e) => return self.fail(job, r, e, JobStatus::ProcessingBuild).await,
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
        if self.config.stages == Stages::Build {
            // A validation worker takes it from here.
            self.store.release_lease(id, attempt).await?;
            return Ok(JobStatus::PendingValidation);
        }
        let start = JobUpdate {
            stage: Some("validate".into()),
            ..JobUpdate::default()
        };
        self.store
            .transition(id, attempt, JobStatus::ProcessingValidation, &start)
            .await?;
        self.validate_stage(job, r, flags, &outcome.output_dir)
            .await
    }

    /// What the build needs from outside the job: the customer's naming rule, the
    /// board's downloaded driver archive (a failed download is only a warning: the
    /// build goes on with the repository's drivers), hooks and custom stages.
    async fn prepare(&self, job: &Job, r: &Reporter) -> BuildEnv {
        let req = &job.request;
        let mut env = BuildEnv {
            work_dir: self.config.work_dir.clone(),
            hash_cache: self.config.hash_cache.clone(),
            hooks: self.config.hooks.clone(),
            custom: self.custom.clone(),
            ..BuildEnv::default()
        };
        match self.store.get_customer(&req.customer_name).await {
            Ok(c) => env.folder_template = c.and_then(|c| c.naming_template),
            Err(e) => env.warnings.push(format!(
                "customer {}: naming rule not read ({e}); the default folder name is used",
                req.customer_name
            )),
        }
        let url = match self.store.list_motherboards().await {
            Ok(boards) => boards
                .into_iter()
                .find(|b| b.model == req.motherboard_model)
                .and_then(|b| b.scrape_url),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the motherboard list");
                None
            }
        };
        if let Some(url) = url {
            r.info(
                "resolve",
                format!("Downloading the board's driver archive from {url}"),
            );
            let dir = self
                .config
                .download_dir
                .clone()
                .unwrap_or_else(|| self.config.work_dir.join("downloads"));
            let cancel = r.cancel_flag();
            match crate::download::fetch_driver_archive(
                &url,
                &req.motherboard_model,
                &dir,
                &self.config.download,
                &cancel,
            )
            .await
            {
                Ok(d) => {
                    if d.from_cache {
                        env.warnings.push(format!(
                            "driver download failed ({}); the cached copy from an earlier download (sha256 {}) was used",
                            d.stale_reason.as_deref().unwrap_or("no reason given"),
                            d.sha256
                        ));
                    } else {
                        r.info(
                            "resolve",
                            format!("Downloaded {} bytes, {} INF files", d.size, d.inf_count),
                        );
                    }
                    env.download = Some(d);
                }
                Err(e) => env.warnings.push(format!(
                    "driver download failed: {e}; the build goes on with the repository's drivers"
                )),
            }
        }
        env
    }

    /// A job claimed in Processing_Validation by a validation worker.
    async fn validate_only(
        &self,
        job: &Job,
        r: &Reporter,
        flags: &JobFlags,
    ) -> Result<JobStatus, PipelineError> {
        let Some(output_dir) = job.output_dir.clone() else {
            let e = PipelineError::Permanent("the job has no output folder to validate".into());
            return self.fail(job, r, e, JobStatus::ProcessingValidation).await;
        };
        self.validate_stage(job, r, flags, &output_dir).await
    }

    async fn validate_stage(
        &self,
        job: &Job,
        r: &Reporter,
        flags: &JobFlags,
        output_dir: &str,
    ) -> Result<JobStatus, PipelineError> {
        let dir = self.repo.output_root().join(output_dir);
        r.info("validate", format!("Validating 8_Output/{output_dir}"));
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
            Err(PipelineError::Cancelled) => return self.stop(job, r, flags, Some(&dir)).await,
            Err(e) => {
                let failed = format!("validation could not run: {e}");
                return self.fail_validation(job, r, &dir, output_dir, failed).await;
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
            return self.fail_validation(job, r, &dir, output_dir, failed).await;
        }
        r.info("validate", format!("Completed: 8_Output/{output_dir}"));
        r.flush().await;
        let done = JobUpdate {
            stage: Some("done".into()),
            progress: Some(100),
            ..JobUpdate::default()
        };
        self.store
            .transition(job.job_id, job.attempt, JobStatus::Completed, &done)
            .await?;
        Ok(JobStatus::Completed)
    }

    /// A failed stage: transient failures go back to the queue with backoff while
    /// attempts are left; permanent ones (bad input) end the job at once.
    async fn fail(
        &self,
        job: &Job,
        r: &Reporter,
        e: PipelineError,
        failed_in: JobStatus,
    ) -> Result<JobStatus, PipelineError> {
        let transient = e.is_transient();
        let stage = if failed_in == JobStatus::ProcessingValidation {
            "validate"
        } else {
            "build"
        };
        r.info(
            stage,
            format!(
                "Failed ({}): {e}",
                if transient { "transient" } else { "permanent" }
            ),
        );
        r.flush().await;
        let after = self
            .store
            .fail_attempt(
                job.job_id,
                job.attempt,
                transient,
                &e.to_string(),
                failed_in,
            )
            .await?;
        if after.status == JobStatus::Queued {
            tracing::info!(job_id = %job.job_id, attempt = job.attempt, "transient failure; the job will be retried");
        }
        Ok(after.status)
    }

    /// A folder that failed validation must not look like a good build: it is renamed
    /// with a `_FAILED_VALIDATION` suffix and kept for inspection.
    async fn fail_validation(
        &self,
        job: &Job,
        r: &Reporter,
        dir: &Path,
        output_dir: &str,
        failed: String,
    ) -> Result<JobStatus, PipelineError> {
        let mut shown = output_dir.to_string();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if std::fs::rename(dir, dir.with_file_name(format!("{name}_FAILED_VALIDATION"))).is_ok() {
            shown.push_str("_FAILED_VALIDATION");
        }
        r.info("validate", format!("Validation failed: {failed}"));
        r.flush().await;
        let update = JobUpdate {
            stage: Some("validate".into()),
            error: Some(format!("validation failed: {failed}")),
            output_dir: Some(shown),
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

    /// The work stopped early. On shutdown the job goes back to the queue untouched;
    /// on a cancel request nothing is published: a build's private folder is already
    /// gone, and an output that was being validated is removed.
    async fn stop(
        &self,
        job: &Job,
        r: &Reporter,
        flags: &JobFlags,
        published: Option<&Path>,
    ) -> Result<JobStatus, PipelineError> {
        if flags.handback.load(Ordering::Relaxed) {
            r.info(
                "shutdown",
                "The worker is shutting down; the job goes back to the queue",
            );
            r.flush().await;
            let after = self.store.release_lease(job.job_id, job.attempt).await?;
            return Ok(after.status);
        }
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
