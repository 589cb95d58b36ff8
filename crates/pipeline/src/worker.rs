//! The worker loop: claim a job for the stages this worker runs, run it, and wait for
//! the next one (woken by the database where it can, else by polling).

use std::future::Future;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use wait_catalog::Repository;
use wait_store::{Job, JobStatus, Stages, Store};

use crate::lease::JobFlags;
use crate::{PipelineError, Stage};

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process; recorded as the lease owner.
    pub name: String,
    /// A job whose lease is not renewed within this time is reclaimed by another worker.
    pub lease: Duration,
    /// How often the lease is renewed and cancellation is checked.
    pub heartbeat: Duration,
    /// Longest wait for new work before the queue is polled again.
    pub poll_interval: Duration,
    /// Scratch space for files being added to images (inside the data directory).
    pub work_dir: PathBuf,
    /// Build and validation (the seed's default), build only, or validation only.
    pub stages: Stages,
    /// On shutdown, how long a running job may take to finish before it is handed
    /// back to the queue.
    pub drain_deadline: Duration,
    /// The content-hash cache file (shared with `waitctl repo scan`); None hashes every
    /// input on every build.
    pub hash_cache: Option<PathBuf>,
    /// Where downloaded driver archives are kept (default `<work_dir>/downloads`).
    pub download_dir: Option<PathBuf>,
    /// Rules for downloading a board's driver archive (`scrape_url`).
    pub download: crate::download::DownloadPolicy,
    /// External commands run at named points of every build.
    pub hooks: Vec<crate::hooks::Hook>,
}

impl WorkerConfig {
    pub fn new(name: impl Into<String>, work_dir: PathBuf) -> Self {
        Self {
            name: name.into(),
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            work_dir,
            stages: Stages::All,
            drain_deadline: Duration::from_secs(30),
            hash_cache: None,
            download_dir: None,
            download: crate::download::DownloadPolicy::default(),
            hooks: Vec::new(),
        }
    }
}

/// One worker. Runs one job at a time (the seed's single-job mode); run several
/// workers for more.
#[derive(Clone)]
pub struct Worker {
    pub(crate) store: Store,
    pub(crate) repo: Repository,
    pub(crate) config: WorkerConfig,
    /// Custom stages and the built-in stage each runs after.
    pub(crate) custom: Vec<(String, Arc<dyn Stage>)>,
    /// The repository root and output folder when they were mount points at start: if
    /// one stops being a mount point its share went away, and a build would write into
    /// the empty folder below, where no other host sees it.
    mounts: Vec<PathBuf>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .field(
                "custom_stages",
                &self
                    .custom
                    .iter()
                    .map(|(a, s)| (a, s.name()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Worker {
    pub fn new(store: Store, repo: Repository, config: WorkerConfig) -> Self {
        let mounts = [repo.root().to_path_buf(), repo.output_root()]
            .into_iter()
            .filter(|p| is_mount_point(p))
            .collect();
        Self {
            store,
            repo,
            config,
            custom: Vec::new(),
            mounts,
        }
    }

    /// Why this worker cannot run builds now: the repository root or its `8_Output`
    /// is missing or unreadable, or a folder that was a mount point when the worker
    /// started is not one any more. None when the repository is usable.
    pub async fn repository_problem(&self) -> Option<String> {
        let root = self.repo.root().to_path_buf();
        let mounts = self.mounts.clone();
        // A stat on a share whose server went away can block; keep it off the runtime.
        tokio::task::spawn_blocking(move || repository_problem(&root, &mounts))
            .await
            .unwrap_or_else(|e| Some(format!("the repository check did not finish: {e}")))
    }

    /// Run `stage` in every build right after the built-in stage named `after` (one of
    /// [`crate::BUILTIN_STAGES`]).
    pub fn add_stage(&mut self, after: &str, stage: Arc<dyn Stage>) -> Result<(), PipelineError> {
        if !crate::BUILTIN_STAGES.contains(&after) {
            return Err(PipelineError::Permanent(format!(
                "custom stage {}: there is no built-in stage {after:?} (stages: {})",
                stage.name(),
                crate::BUILTIN_STAGES.join(", ")
            )));
        }
        self.custom.push((after.to_string(), stage));
        Ok(())
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

    /// Claim one job and run it until this worker's part is done. None when nothing
    /// was runnable.
    pub async fn run_one(&self) -> Result<Option<JobStatus>, PipelineError> {
        let Some(job) = self.claim().await? else {
            return Ok(None);
        };
        Ok(Some(self.run_job(job, JobFlags::default()).await))
    }

    /// Claim a job, unless the repository is unavailable: then nothing is claimed (the
    /// job would only fail here while another worker may be able to run it) and a
    /// warning is logged on every poll until the repository is back.
    async fn claim(&self) -> Result<Option<Job>, PipelineError> {
        self.store.worker_heartbeat(&self.config.name).await?;
        if let Some(problem) = self.repository_problem().await {
            tracing::warn!(
                worker = %self.config.name,
                "{problem}; no job is claimed until it is back"
            );
            return Ok(None);
        }
        Ok(self
            .store
            .claim_job_for(&self.config.name, self.config.lease, self.config.stages)
            .await?)
    }

    /// Work until `shutdown` resolves. Then no new job is claimed; a running job gets
    /// `drain_deadline` to finish, after which it is stopped and handed back to the
    /// queue (its lease released, the attempt not counted as a failure).
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
        if let Err(e) = self
            .store
            .register_worker(
                &self.config.name,
                host.as_deref().map(str::trim),
                Some(std::process::id()),
                self.config.stages,
            )
            .await
        {
            tracing::warn!(worker = %self.config.name, error = %e, "could not register the worker");
        }
        crate::stale::clean_stale_work(&self.store, &self.repo, &self.config.work_dir).await;
        tokio::pin!(shutdown);
        loop {
            let job = match self.claim().await {
                Ok(job) => job,
                Err(e) => {
                    tracing::warn!(worker = %self.config.name, error = %e, "queue poll failed");
                    None
                }
            };
            let Some(job) = job else {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = self.store.wait_for_work(self.config.poll_interval) => {}
                }
                continue;
            };
            let flags = JobFlags::default();
            let run = self.run_job(job, flags.clone());
            tokio::pin!(run);
            tokio::select! {
                _ = &mut run => continue,
                () = &mut shutdown => {}
            }
            tracing::info!(
                worker = %self.config.name,
                seconds = self.config.drain_deadline.as_secs(),
                "shutting down: letting the running job finish"
            );
            if tokio::time::timeout(self.config.drain_deadline, &mut run)
                .await
                .is_err()
            {
                tracing::info!(worker = %self.config.name, "drain deadline passed: handing the job back");
                flags.handback.store(true, Ordering::Relaxed);
                run.await;
            }
            break;
        }
    }
}

/// See [`Worker::repository_problem`].
fn repository_problem(root: &Path, mounts: &[PathBuf]) -> Option<String> {
    for dir in [root.to_path_buf(), root.join("8_Output")] {
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Some(format!(
                    "the shared folder {} is unavailable: it is not a folder",
                    dir.display()
                ));
            }
            Err(e) => {
                return Some(format!(
                    "the shared folder {} is unavailable ({e}); is the repository mounted?",
                    dir.display()
                ));
            }
        }
    }
    mounts.iter().find(|m| !is_mount_point(m)).map(|m| {
        format!(
            "the shared folder {} is unavailable: it was a mount point when this worker \
             started and is not one now (unmounted, or its server went away)",
            m.display()
        )
    })
}

/// A folder on another filesystem than its parent is a mount point (bind mounts of the
/// same filesystem are not seen, which only weakens the check).
fn is_mount_point(dir: &Path) -> bool {
    match (std::fs::metadata(dir), std::fs::metadata(dir.join(".."))) {
        (Ok(d), Ok(parent)) => d.is_dir() && d.dev() != parent.dev(),
        _ => false,
    }
}
