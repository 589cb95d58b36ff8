//! Shared set-up for pipeline tests: a generated repository and a real SQLite file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use wait_catalog::Repository;
use wait_catalog::fixtures::{DemoRepository, TreeSpec, demo_repository};
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::{JobRequest, LogLevel, Store};

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
