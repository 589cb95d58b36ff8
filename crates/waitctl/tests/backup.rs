//! `waitctl backup` as a real process while another task keeps writing jobs and log
//! lines into the same SQLite database: the copy passes its checks, opens with the store
//! and holds a consistent point in time.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use support::waitctl;
use wait_store::{JobFilter, JobRequest, LogLevel, Store};

fn request(n: u64) -> JobRequest {
    JobRequest {
        motherboard_model: format!("BOARD{n}"),
        base_image: "WINDOWS11_IOT_LTSC_24H2_EN_US_X64.wim".to_string(),
        customer_name: "AABBCCE".to_string(),
        image_index: "1".to_string(),
        driver_set: None,
        langpacks: Vec::new(),
        updates: Vec::new(),
        software: Vec::new(),
        answer_file: None,
        product_key: None,
        key_variants: "key".to_string(),
        create_iso: false,
        compression: "lzx".to_string(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    }
}

fn backup(data: &Path, output: &Path, extra: &[&str]) -> Output {
    waitctl()
        .arg("backup")
        .arg("--data-dir")
        .arg(data)
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .unwrap()
}

/// Jobs and log lines, written without pause until `stop` is set.
fn spawn_writer(
    store: Store,
    stop: Arc<AtomicBool>,
    jobs: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let job = store.create_job(&request(n), Some("writer")).await.unwrap();
            for line in 0..5 {
                store
                    .append_log(
                        job.job_id,
                        LogLevel::Normal,
                        Some("build"),
                        &format!("line {line}"),
                    )
                    .await
                    .unwrap();
            }
            jobs.fetch_add(1, Ordering::Relaxed);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_restores_and_lists_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open_sqlite(&data.join("wait.db")).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = spawn_writer(store.clone(), stop.clone(), written.clone());
    while written.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let copy = dir.path().join("copy.db");
    let out = {
        let (data, copy) = (data.clone(), copy.clone());
        tokio::task::spawn_blocking(move || backup(&data, &copy, &[]))
            .await
            .unwrap()
    };
    let after_backup = written.load(Ordering::Relaxed);
    // Keep writing a little after the copy, so the live database moves on without it.
    while written.load(Ordering::Relaxed) < after_backup + 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("integrity check: ok"), "{text}");
    assert!(text.contains(" bytes, "), "{text}");

    let restored = Store::open_sqlite(&copy).await.unwrap();
    let filter = JobFilter {
        limit: Some(1000),
        ..JobFilter::default()
    };
    let (jobs, total) = restored.list_jobs(&filter).await.unwrap();
    assert!(
        total >= 20,
        "the copy holds the jobs written before it ({total})"
    );
    let (_, live_total) = store.list_jobs(&filter).await.unwrap();
    assert!(
        total < live_total,
        "the copy is a point in time, not the live database"
    );
    assert!(text.contains(&format!("{total} job(s)")), "{text}");
    // One point in time: every job's log lines are a gap-free prefix 1..n.
    for job in &jobs {
        let lines = restored.logs_after(job.job_id, 0, true, 100).await.unwrap();
        let seqs: Vec<i64> = lines.iter().map(|l| l.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    }
    restored.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open_sqlite(&data.join("wait.db")).await.unwrap();
    store.create_job(&request(1), None).await.unwrap();
    store.close().await;

    let copy = dir.path().join("copy.db");
    std::fs::write(&copy, b"precious").unwrap();
    let refused = backup(&data, &copy, &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(std::fs::read(&copy).unwrap(), b"precious");

    let forced = backup(&data, &copy, &["--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert!(String::from_utf8_lossy(&forced.stdout).contains("1 job(s)"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");

    // The database itself is never a valid target.
    let onto_itself = backup(&data, &data.join("wait.db"), &["--force"]);
    assert!(!onto_itself.status.success());
    // Nothing to back up is an error, not an empty database created on the spot.
    let missing = backup(&dir.path().join("nothing"), &dir.path().join("x.db"), &[]);
    assert!(!missing.status.success());
    assert!(!dir.path().join("nothing/wait.db").exists());
}

#[test]
fn postgres_is_refused_with_the_pg_dump_command_without_the_password() {
    let out = waitctl()
        .args(["backup", "--output", "/tmp/wait.dump"])
        .args([
            "--database-url",
            "postgres://wait:s3cret@db.example:5432/wait",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "pg_dump --format=custom --file=/tmp/wait.dump postgres://wait@db.example:5432/wait"
        ),
        "{err}"
    );
    assert!(!err.contains("s3cret"));
}
