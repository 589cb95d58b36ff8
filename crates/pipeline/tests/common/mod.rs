//! Shared set-up for pipeline tests: a generated repository and a real SQLite file.
// Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod cancel;
pub mod http;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use uuid::Uuid;
use wait_catalog::Repository;
use wait_catalog::fixtures::{DemoRepository, TreeSpec, demo_repository};
use wait_pipeline::{Manifest, Worker, WorkerConfig, validate_output};
use wait_store::{Job, JobRequest, LogLevel, LogLine, Store};

#[derive(Debug)]
pub struct Env {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
    pub demo: DemoRepository,
    pub store: Store,
}

impl Env {
    pub async fn new(spec: TreeSpec) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("repo");
        let demo = demo_repository(&root, &spec).expect("demo repository");
        let repo = Repository::open(&root).expect("open repository");
        let store = Store::open_sqlite(&dir.path().join("wait.db"))
            .await
            .expect("open store");
        Self {
            dir,
            repo,
            demo,
            store,
        }
    }

    pub fn worker(&self) -> Worker {
        let mut config = WorkerConfig::new("test-worker", self.dir.path().join("work"));
        config.heartbeat = Duration::from_millis(50);
        config.poll_interval = Duration::from_millis(20);
        Worker::new(self.store.clone(), self.repo.clone(), config)
    }

    pub fn request(&self) -> JobRequest {
        JobRequest {
            motherboard_model: self.demo.board.clone(),
            base_image: self.demo.base_image.clone(),
            customer_name: "ACME".into(),
            image_index: "1".into(),
            driver_set: None,
            langpacks: vec![],
            updates: vec![],
            software: vec![],
            answer_file: Some(self.demo.answer_file.clone()),
            product_key: None,
            key_variants: "nokey".into(),
            create_iso: false,
            compression: "lzx".into(),
            log_level: LogLevel::Verbose,
            options: Default::default(),
        }
    }

    pub fn output(&self, rel: &str) -> PathBuf {
        self.repo.output_root().join(rel)
    }

    /// A worker named `name` that beats and polls every 20 ms, with `tweak` applied to
    /// its configuration (hooks, stages, downloads, ...).
    pub fn quick_worker(&self, name: &str, tweak: impl FnOnce(&mut WorkerConfig)) -> Worker {
        let mut config = WorkerConfig::new(name, self.dir.path().join("work"));
        config.heartbeat = Duration::from_millis(20);
        config.poll_interval = Duration::from_millis(20);
        tweak(&mut config);
        Worker::new(self.store.clone(), self.repo.clone(), config)
    }

    /// The demo base image in `1_BaseImages/`.
    pub fn base_image_path(&self) -> PathBuf {
        self.repo
            .root()
            .join("1_BaseImages")
            .join(&self.demo.base_image)
    }

    /// Write an installation ISO labelled `label` to `1_BaseImages/<name>`, holding the
    /// demo image built from `spec`.
    pub fn add_base_iso(&self, spec: &TreeSpec, name: &str, label: &str) {
        let path = self.repo.root().join("1_BaseImages").join(name);
        wait_catalog::fixtures::write_base_iso(&path, spec, label).expect("base ISO");
    }

    /// Queue `req` and return the new job's id.
    pub async fn submit(&self, req: &JobRequest, created_by: Option<&str>) -> Uuid {
        self.store
            .create_job(req, created_by)
            .await
            .expect("create")
            .job_id
    }

    pub async fn job(&self, id: Uuid) -> Job {
        self.store.get_job(id).await.expect("get").expect("job")
    }

    /// Queue `req`, let `worker` run everything, and return the finished job.
    pub async fn run_job(&self, worker: &Worker, req: &JobRequest) -> Job {
        let id = self.submit(req, None).await;
        worker.run_until_idle().await.expect("worker");
        self.job(id).await
    }

    pub async fn logs(&self, id: Uuid) -> Vec<LogLine> {
        self.store
            .logs_after(id, 0, true, 100_000)
            .await
            .expect("logs")
    }

    /// The output folder of `job`, which must have completed.
    pub fn completed_dir(&self, job: &Job) -> PathBuf {
        assert_eq!(
            job.status,
            wait_store::JobStatus::Completed,
            "error: {:?}",
            job.error
        );
        self.output(job.output_dir.as_deref().expect("output_dir"))
    }
}

/// The parsed `manifest.json` of an output folder.
pub fn manifest(dir: &Path) -> Manifest {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest parses")
}

/// WAIT's own validation, run again from scratch, passes on `dir`.
pub fn assert_validates(dir: &Path) {
    let report = validate_output(dir, Arc::new(AtomicBool::new(false))).expect("validation runs");
    assert!(
        report.passed(),
        "{}: validation failed: {:?}",
        dir.display(),
        report.failures()
    );
}

/// The text of `image_path` inside image 1 of `install.wim` in `dir`.
pub fn extract_from_image(dir: &Path, image_path: &str) -> String {
    run(
        dir,
        "wimlib-imagex",
        &["extract", "install.wim", "1", image_path, "--to-stdout"],
    )
}

/// Extract `image_path` from image 1 of `wim` (relative to `dir`, or absolute) into the
/// folder `dest`, made first.
pub fn extract_to_dir(dir: &Path, wim: &str, image_path: &str, dest: &Path) {
    std::fs::create_dir_all(dest).expect("extract folder");
    let to = format!("--dest-dir={}", dest.display());
    run(
        dir,
        "wimlib-imagex",
        &["extract", wim, "1", image_path, &to, "--no-acls"],
    );
}

/// The entry names in `dir`, none when it does not exist.
pub fn names_in(dir: &Path) -> Vec<OsString> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default()
}

/// Run a command in `dir` and return stdout; panics with its stderr when it fails.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect(program);
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
