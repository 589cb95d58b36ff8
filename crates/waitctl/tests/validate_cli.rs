//! `waitctl validate JOB` as an operator runs it: against a job built through the real
//! store and worker, on SQLite (and on PostgreSQL when `WAIT_TEST_DATABASE_URL` is set).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use support::{PgSchema, waitctl};
use uuid::Uuid;
use wait_catalog::Repository;
use wait_catalog::fixtures::{TreeSpec, demo_repository};
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::{JobRequest, JobStatus, LogLevel, Store};

/// A data folder with the repository where `waitctl` looks by default
/// (`DATA/WAIT_Repository`) and a database.
struct Setup {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    repo: Repository,
    store: Store,
    /// `--database-url` for the child process, when not the default SQLite file.
    database_url: Option<String>,
    board: String,
    base_image: String,
}

impl Setup {
    async fn new(database_url: Option<String>) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let demo = demo_repository(&data.join("WAIT_Repository"), &TreeSpec::small(51))
            .expect("demo repository");
        let repo = Repository::open(&data.join("WAIT_Repository")).expect("open repository");
        let store = match &database_url {
            Some(url) => Store::open_url(url).await.expect("open PostgreSQL store"),
            None => Store::open_sqlite(&data.join("wait.db"))
                .await
                .expect("open SQLite store"),
        };
        Self {
            _tmp: tmp,
            data,
            repo,
            store,
            database_url,
            board: demo.board,
            base_image: demo.base_image,
        }
    }

    fn request(&self) -> JobRequest {
        JobRequest {
            motherboard_model: self.board.clone(),
            base_image: self.base_image.clone(),
            customer_name: "ACME".into(),
            image_index: "1".into(),
            driver_set: None,
            langpacks: vec![],
            updates: vec![],
            software: vec![],
            answer_file: None,
            product_key: None,
            key_variants: "nokey".into(),
            create_iso: false,
            compression: "lzx".into(),
            log_level: LogLevel::Normal,
            options: Default::default(),
        }
    }

    /// Submit a job and run it to the end with an in-process worker.
    async fn completed_job(&self) -> (Uuid, PathBuf) {
        let job = self
            .store
            .create_job(&self.request(), None)
            .await
            .expect("create job");
        let mut config = WorkerConfig::new("cli-test-worker", self.data.join("work"));
        config.poll_interval = Duration::from_millis(20);
        Worker::new(self.store.clone(), self.repo.clone(), config)
            .run_until_idle()
            .await
            .expect("run the job");
        let job = self.job(job.job_id).await;
        assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
        let dir = self
            .repo
            .output_root()
            .join(job.output_dir.expect("output dir"));
        (job.job_id, dir)
    }

    async fn job(&self, id: Uuid) -> wait_store::Job {
        self.store
            .get_job(id)
            .await
            .expect("read job")
            .expect("job exists")
    }

    fn validate(&self, args: &[&str]) -> Output {
        let mut cmd = waitctl();
        cmd.arg("validate")
            .args(args)
            .arg("--data-dir")
            .arg(&self.data);
        if let Some(url) = &self.database_url {
            cmd.args(["--database-url", url]);
        }
        cmd.output().expect("run waitctl validate")
    }

    async fn log_messages(&self, id: Uuid) -> Vec<String> {
        self.store
            .logs_after(id, 0, true, 10_000)
            .await
            .expect("read logs")
            .into_iter()
            .map(|l| l.message)
            .collect()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn passing_job_case(setup: &Setup) {
    let (id, _) = setup.completed_job().await;
    let before = setup.log_messages(id).await.len();
    let out = setup.validate(&[&id.to_string()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 13, "{stdout}");
    assert!(lines.iter().all(|l| l.starts_with("PASS ")), "{stdout}");
    assert!(
        lines.iter().any(|l| l.starts_with("PASS wim_verify: ")),
        "{stdout}"
    );
    // The same lines went to the job's log, framed by a start and a summary line.
    let logged = setup.log_messages(id).await;
    let added = &logged[before..];
    assert!(
        added[0].starts_with("Re-validating 8_Output/ACME/"),
        "{added:?}"
    );
    assert_eq!(&added[1..=lines.len()], lines.as_slice());
    assert!(
        added[lines.len() + 1].starts_with("Re-validation passed"),
        "{added:?}"
    );
    assert_eq!(setup.job(id).await.status, JobStatus::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_job_passes_prints_pass_lines_and_logs_them() {
    let setup = Setup::new(None).await;
    passing_job_case(&setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_job_passes_on_postgresql_too() {
    let Some(schema) = PgSchema::create("a_good_job_passes_on_postgresql_too").await else {
        return;
    };
    let setup = Setup::new(Some(schema.url.clone())).await;
    passing_job_case(&setup).await;
    setup.store.close().await;
    schema.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_prints_the_whole_report() {
    let setup = Setup::new(None).await;
    let (id, _) = setup.completed_job().await;
    let out = setup.validate(&[&id.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(v["job_id"], id.to_string());
    assert_eq!(v["passed"], true);
    let checks = v["checks"].as_array().expect("checks");
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "content_digest" && c["ok"] == true)
    );
    assert!(checks.iter().all(|c| c["detail"].is_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_output_fails_with_exit_1_and_the_job_keeps_its_state() {
    let setup = Setup::new(None).await;
    let (id, dir) = setup.completed_job().await;
    std::fs::write(dir.join("stray.txt"), b"not from the build").expect("write stray file");
    let out = setup.validate(&[&id.to_string()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("FAIL checksum.md5: stray.txt is in the folder but not listed"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS wim_verify: "), "{stdout}");
    assert_eq!(setup.job(id).await.status, JobStatus::Completed);
    let logged = setup.log_messages(id).await;
    assert!(
        logged
            .last()
            .is_some_and(|l| l.starts_with("Re-validation failed")),
        "{logged:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_to_validate_is_exit_2_with_a_clear_error() {
    let setup = Setup::new(None).await;
    let queued = setup
        .store
        .create_job(&setup.request(), None)
        .await
        .expect("create job");
    let out = setup.validate(&[&queued.job_id.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "job {} (Queued) has no output folder to validate",
            queued.job_id
        )),
        "{err}"
    );
    assert_eq!(setup.job(queued.job_id).await.status, JobStatus::Queued);
    assert!(setup.log_messages(queued.job_id).await.is_empty());

    let unknown = Uuid::now_v7();
    let out = setup.validate(&[&unknown.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("job {unknown} not found")),
        "{}",
        text(&out.stderr)
    );

    let out = setup.validate(&["not-a-job"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("\"not-a-job\" is not a job id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_folder_was_removed_is_exit_2() {
    let setup = Setup::new(None).await;
    let (id, dir) = setup.completed_job().await;
    std::fs::remove_dir_all(&dir).expect("remove output");
    let out = setup.validate(&[&id.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("is not there"), "{err}");
    assert!(err.contains(path_tail(&dir)), "{err}");
}

fn path_tail(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).expect("utf-8 name")
}
