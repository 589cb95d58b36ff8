//! `waitctl serve` as a user starts it: real process, real port, real HTTP, the embedded
//! worker building the job that the API accepted — on SQLite and on PostgreSQL.

// The shared body below is not a #[test] fn itself; a panic is still the failure report.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{PgSchema, Proc, waitctl};

/// `waitctl` with the data directory and, when given, a database URL.
fn with_db(args: &[&str], data: &Path, db: Option<&str>) -> std::process::Command {
    let mut c = waitctl();
    c.args(args).arg("--data-dir").arg(data);
    if let Some(url) = db {
        c.args(["--database-url", url]);
    }
    c
}

/// Start `waitctl serve` on an ephemeral port and return it with its base URL, read
/// from the line the server logs once it listens.
fn start(data: &Path, db: Option<&str>) -> (Proc, String) {
    let mut child = with_db(
        &["serve", "--bind", "127.0.0.1:0", "--lease-seconds", "30"],
        data,
        db,
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start waitctl serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("serving http://") {
                let _ = tx.send(line[at + "serving ".len()..].trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server did not report its address");
    (Proc(child), url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_submitted_over_http_is_built_by_the_embedded_worker() {
    submit_and_follow(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_works_the_same_on_postgres() {
    let Some(schema) = PgSchema::create("serve_works_the_same_on_postgres").await else {
        return;
    };
    submit_and_follow(Some(&schema.url)).await;
    schema.finish().await;
}

async fn submit_and_follow(db: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    // A repository with the demo fixtures, and a builder account.
    let status = with_db(&["init"], &data, db).status().unwrap();
    assert!(status.success());
    wait_catalog::fixtures::demo_repository(
        &data.join("WAIT_Repository"),
        &wait_catalog::fixtures::TreeSpec::small(11),
    )
    .unwrap();
    let mut add = with_db(
        &[
            "user",
            "add",
            "bob",
            "--role",
            "builder",
            "--password-stdin",
        ],
        &data,
        db,
    )
    .stdin(Stdio::piped())
    .spawn()
    .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    assert!(add.wait().unwrap().success());

    let (_server, url) = start(&data, db);
    // a browser on the web UI names the server as its Origin; the session cookie's
    // CSRF check wants that on every POST
    let mut origin = reqwest::header::HeaderMap::new();
    origin.insert(reqwest::header::ORIGIN, url.parse().unwrap());
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(origin)
        .build()
        .unwrap();
    let health: Value = http
        .get(format!("{url}/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let login = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"username": "bob", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    let created = http
        .post(format!("{url}/api/job"))
        .json(&json!({
            "motherboard_model": "X13SAW",
            "base_image": "WINDOWS11_IOT_LTSC_24H2_EN_US_X64.wim",
            "customer_name": "AABBCCE"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "Queued");
    let job_id = created["job_id"].as_str().unwrap().to_string();

    let deadline = Instant::now() + Duration::from_secs(120);
    let job = loop {
        let job: Value = http
            .get(format!("{url}/api/job?job_id={job_id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = job["status"].as_str().unwrap_or_default().to_string();
        if [
            "Completed",
            "Failed_Build",
            "Failed_Validation",
            "Cancelled",
        ]
        .contains(&status.as_str())
        {
            break job;
        }
        assert!(Instant::now() < deadline, "job did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["progress"], 100);
    assert_eq!(job["created_by"], "bob");
    let out = job["output_dir"].as_str().unwrap();
    assert!(
        out.starts_with("AABBCCE/") && out.ends_with("_X13SAW"),
        "{out}"
    );
    assert!(
        data.join("WAIT_Repository/8_Output")
            .join(out)
            .join("install.wim")
            .is_file()
    );
    let resources = job["resources"].as_array().unwrap();
    assert!(
        resources
            .iter()
            .any(|r| r["kind"] == "base_image" && r["sha256"].as_str().unwrap().len() == 64)
    );

    // The finished job's log streams to the end and the stream closes.
    let body = http
        .get(format!("{url}/api/job/stream?job_id={job_id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("event: log"));
    assert!(body.contains("Completed"));
}
