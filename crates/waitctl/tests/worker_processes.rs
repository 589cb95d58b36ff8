//! Workers as separate processes: a worker killed with SIGKILL mid-job, and several
//! worker processes sharing one PostgreSQL queue.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{PgSchema, Proc, waitctl};
use wait_catalog::fixtures::{TreeSpec, demo_repository};
use wait_store::{EventKind, JobRequest, JobStatus, LogLevel, Store, StoreError};

fn request(board: &str, base_image: &str) -> JobRequest {
    JobRequest {
        motherboard_model: board.into(),
        base_image: base_image.into(),
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

fn spawn_worker(data: &Path, repo: &Path, db: &str, extra: &[&str]) -> Proc {
    let child = waitctl()
        .args(["worker", "--lease-seconds", "5", "--data-dir"])
        .arg(data)
        .arg("--repository")
        .arg(repo)
        .args(["--database-url", db])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start waitctl worker");
    Proc(child)
}

async fn wait_until(
    store: &Store,
    id: uuid::Uuid,
    limit: Duration,
    done: impl Fn(JobStatus) -> bool,
) -> wait_store::Job {
    let deadline = Instant::now() + limit;
    loop {
        let job = store
            .get_job(id)
            .await
            .expect("read job")
            .expect("job exists");
        if done(job.status) {
            return job;
        }
        assert!(Instant::now() < deadline, "job stuck in {:?}", job.status);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_job_is_reclaimed_and_completed_on_attempt_2() {
    let tmp = tempfile::tempdir().unwrap();
    let db_file = tmp.path().join("wait.db");
    let store = Store::open_sqlite(&db_file).await.unwrap();
    killed_worker_case(
        tmp.path(),
        &format!("sqlite://{}", db_file.display()),
        &store,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_job_is_reclaimed_on_postgres_too() {
    let Some(schema) = PgSchema::create("killed_worker_job_is_reclaimed_on_postgres_too").await
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open_url(&schema.url).await.unwrap();
    killed_worker_case(tmp.path(), &schema.url, &store).await;
    store.close().await;
    schema.finish().await;
}

async fn killed_worker_case(dir: &Path, db: &str, store: &Store) {
    let repo = dir.join("repo");
    let demo = demo_repository(&repo, &TreeSpec::demo(31)).expect("demo repository");
    let job = store
        .create_job(&request(&demo.board, &demo.base_image), None)
        .await
        .expect("create job");

    let first = spawn_worker(&dir.join("d1"), &repo, db, &[]);
    let held = wait_until(store, job.job_id, Duration::from_secs(60), |s| {
        s != JobStatus::Queued
    })
    .await;
    assert_eq!(
        held.status,
        JobStatus::ProcessingBuild,
        "killed before it finished"
    );
    drop(first); // SIGKILL
    let orphan = store.get_job(job.job_id).await.expect("read").expect("job");
    assert_eq!(orphan.attempt, 1);

    let _second = spawn_worker(&dir.join("d2"), &repo, db, &[]);
    let done = wait_until(store, job.job_id, Duration::from_secs(120), |s| {
        s.is_final()
    })
    .await;
    assert_eq!(done.status, JobStatus::Completed, "error: {:?}", done.error);
    assert_eq!(done.attempt, 2);

    // The dead worker's late heartbeat and completion are refused.
    let late = store
        .heartbeat(job.job_id, 1, Duration::from_secs(60))
        .await;
    assert!(
        matches!(late, Err(StoreError::LeaseLost { .. })),
        "{late:?}"
    );
    let late = store
        .transition(job.job_id, 1, JobStatus::FailedBuild, &Default::default())
        .await;
    assert!(
        matches!(late, Err(StoreError::LeaseLost { .. })),
        "{late:?}"
    );

    // Exactly one published folder, nothing half-written left by the killed attempt.
    let names: Vec<String> = std::fs::read_dir(repo.join("8_Output/ACME"))
        .expect("output folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].starts_with('.'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_worker_processes_share_one_postgres_queue() {
    let Some(schema) = PgSchema::create("four_worker_processes_share_one_postgres_queue").await
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let demo = demo_repository(&repo, &TreeSpec::small(32)).unwrap();
    // Most jobs fail at once (a board without drivers): the test is about claiming.
    std::fs::create_dir_all(repo.join("2_Drivers/EMPTYBOARD")).unwrap();
    let store = Store::open_url(&schema.url).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..200 {
        let board = if n % 50 == 0 {
            demo.board.as_str()
        } else {
            "EMPTYBOARD"
        };
        ids.push(
            store
                .create_job(&request(board, &demo.base_image), None)
                .await
                .unwrap()
                .job_id,
        );
    }

    let workers: Vec<Proc> = (0..4)
        .map(|n| spawn_worker(&tmp.path().join(format!("d{n}")), &repo, &schema.url, &[]))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (open, _) = store
            .list_jobs(&wait_store::JobFilter {
                limit: Some(500),
                ..Default::default()
            })
            .await
            .unwrap();
        if open.iter().all(|j| j.status.is_final()) && open.len() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "jobs did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(workers);

    let mut owners = std::collections::HashSet::new();
    for id in &ids {
        let job = store.get_job(*id).await.unwrap().unwrap();
        assert_eq!(job.attempt, 1, "job {id} ran more than once");
        // One build start per job (a validation start is a separate "started" event).
        let started = store
            .job_events(*id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::Started && e.payload["status"] == "Processing_Build")
            .count();
        assert_eq!(started, 1, "job {id}: {started} start events");
        let expect = if job.request.motherboard_model == "EMPTYBOARD" {
            JobStatus::FailedBuild
        } else {
            JobStatus::Completed
        };
        assert_eq!(job.status, expect, "job {id}: {:?}", job.error);
        let first = store.logs_after(*id, 0, false, 1).await.unwrap();
        if let Some(line) = first.first() {
            owners.insert(
                line.message
                    .split_whitespace()
                    .nth(4)
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    assert!(
        owners.len() >= 2,
        "work was shared by several processes: {owners:?}"
    );
    store.close().await;
    schema.finish().await;
}
