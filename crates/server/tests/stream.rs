//! `GET /api/job/stream`: logs with ids, resume, status/progress events, end of stream.
mod common;

use std::time::Duration;

use reqwest::StatusCode;
use wait_server::ServerConfig;
use wait_store::{Job, JobRequest, JobStatus, JobUpdate, LogLevel, Role};

use common::{BOARD, SseReader, TestApp, start_bare, start_bare_with};

const LEASE: Duration = Duration::from_secs(60);

fn request() -> JobRequest {
    JobRequest {
        motherboard_model: BOARD.into(),
        base_image: "placeholder.wim".into(),
        customer_name: "default".into(),
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

/// A job with `lines` log lines that went through claim → Completed.
async fn finished_job(app: &TestApp, lines: usize) -> Job {
    let job = app
        .store
        .create_job(&request(), Some("builder"))
        .await
        .expect("job");
    let got = app
        .store
        .claim_job("w1", LEASE)
        .await
        .expect("claim")
        .expect("job");
    for i in 1..=lines {
        app.store
            .append_log(
                job.job_id,
                LogLevel::Normal,
                Some("build"),
                &format!("line {i}"),
            )
            .await
            .expect("log");
    }
    app.store
        .transition(
            job.job_id,
            got.attempt,
            JobStatus::Completed,
            &JobUpdate::default(),
        )
        .await
        .expect("completed");
    job
}

async fn open(
    app: &TestApp,
    client: &reqwest::Client,
    query: &str,
    last_event_id: Option<&str>,
) -> SseReader {
    let mut req = client.get(app.url(&format!("/api/job/stream?{query}")));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let r = req.send().await.expect("stream");
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    SseReader::new(r)
}

fn log_ids(events: &[common::SseEvent]) -> Vec<i64> {
    events
        .iter()
        .filter(|e| e.event == "log")
        .map(|e| {
            e.id.as_deref()
                .and_then(|id| id.parse().ok())
                .expect("log events carry an id")
        })
        .collect()
}

#[tokio::test]
async fn stream_sends_every_log_line_with_its_seq_as_id_then_ends() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let job = finished_job(&app, 5).await;

    let mut reader = open(&app, &client, &format!("job_id={}", job.job_id), None).await;
    let events = reader.rest().await;
    assert!(reader.ended);
    assert_eq!(log_ids(&events), vec![1, 2, 3, 4, 5]);
    let first_log = events
        .iter()
        .find(|e| e.event == "log")
        .expect("a log event")
        .json();
    assert_eq!(first_log["seq"], 1);
    assert_eq!(first_log["message"], "line 1");
    assert_eq!(first_log["level"], "normal");
    assert_eq!(first_log["stage"], "build");
    let statuses: Vec<String> = events
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| e.json()["status"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(statuses.last().map(String::as_str), Some("Completed"));
}

#[tokio::test]
async fn resuming_with_last_event_id_skips_what_was_sent() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let job = finished_job(&app, 6).await;

    let mut reader = open(&app, &client, &format!("job_id={}", job.job_id), Some("4")).await;
    let events = reader.rest().await;
    assert_eq!(log_ids(&events), vec![5, 6]);

    let mut reader = open(&app, &client, &format!("job_id={}", job.job_id), Some("6")).await;
    assert!(log_ids(&reader.rest().await).is_empty());

    let r = client
        .get(app.url(&format!("/api/job/stream?job_id={}", job.job_id)))
        .header("Last-Event-ID", "abc")
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn stream_follows_a_live_job_without_gaps_or_duplicates() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let job = app
        .store
        .create_job(&request(), Some("builder"))
        .await
        .expect("job");
    app.store
        .append_log(job.job_id, LogLevel::Normal, None, "queued")
        .await
        .expect("log");

    let mut reader = open(&app, &client, &format!("job_id={}", job.job_id), None).await;
    let first = reader.next().await.expect("initial status");
    assert_eq!(first.event, "status");
    assert_eq!(first.json()["status"], "Queued");
    assert_eq!(first.json()["queue_position"], 1);

    // The "worker": drives the job through the store while the client reads.
    let store = app.store.clone();
    let id = job.job_id;
    let worker = tokio::spawn(async move {
        let got = store
            .claim_job("w1", LEASE)
            .await
            .expect("claim")
            .expect("job");
        for i in 1..=20 {
            store
                .append_log(id, LogLevel::Normal, Some("build"), &format!("step {i}"))
                .await
                .expect("log");
            if i % 5 == 0 {
                store
                    .set_progress(id, got.attempt, i * 4, "build")
                    .await
                    .expect("progress");
                tokio::task::yield_now().await;
            }
        }
        store
            .transition(
                id,
                got.attempt,
                JobStatus::PendingValidation,
                &JobUpdate::default(),
            )
            .await
            .expect("pending");
        store
            .append_log(id, LogLevel::Normal, Some("validate"), "validating")
            .await
            .expect("log");
        store
            .transition(id, got.attempt, JobStatus::Completed, &JobUpdate::default())
            .await
            .expect("completed");
    });

    let events = reader.rest().await;
    worker.await.expect("worker");
    assert_eq!(log_ids(&events), (1..=22).collect::<Vec<i64>>());
    let statuses: Vec<String> = events
        .iter()
        .filter(|e| e.event == "status")
        .map(|e| e.json()["status"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(statuses.last().map(String::as_str), Some("Completed"));
    assert!(
        events
            .iter()
            .any(|e| e.event == "progress" && e.json()["progress"].as_u64().unwrap_or(0) > 0)
    );
}

#[tokio::test]
async fn verbose_lines_follow_the_requested_level() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let job = app.store.create_job(&request(), None).await.expect("job");
    app.store
        .append_log(job.job_id, LogLevel::Normal, None, "a")
        .await
        .expect("log");
    app.store
        .append_log(job.job_id, LogLevel::Verbose, None, "b")
        .await
        .expect("log");
    app.store.request_cancel(job.job_id).await.expect("cancel");

    let mut normal = open(&app, &client, &format!("job_id={}", job.job_id), None).await;
    assert_eq!(log_ids(&normal.rest().await), vec![1]);
    let mut verbose = open(
        &app,
        &client,
        &format!("job_id={}&level=verbose", job.job_id),
        None,
    )
    .await;
    assert_eq!(log_ids(&verbose.rest().await), vec![1, 2]);
}

#[tokio::test]
async fn stream_sends_heartbeat_comments_while_idle() {
    let config = ServerConfig {
        stream_heartbeat: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let app = start_bare_with(config).await;
    let client = app.login(Role::Viewer).await;
    let job = app.store.create_job(&request(), None).await.expect("job");
    let mut reader = open(&app, &client, &format!("job_id={}", job.job_id), None).await;
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(e) = reader.next().await {
            if e.event == "comment" {
                return true;
            }
        }
        false
    })
    .await
    .expect("a heartbeat arrives");
    assert!(found);
}

#[tokio::test]
async fn stream_of_unknown_job_is_404() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let r = client
        .get(app.url(&format!("/api/job/stream?job_id={}", uuid::Uuid::now_v7())))
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .get(app.url("/api/job/stream"))
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no jobs at all");
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let app = start_bare().await;
    let client = app.login(Role::Viewer).await;
    let job = app.store.create_job(&request(), None).await.expect("job");
    let mut reader = open(&app, &client, &format!("job_id={}", job.job_id), None).await;
    assert_eq!(reader.next().await.expect("status").event, "status");
    let stopped = tokio::spawn(app.shutdown());
    reader.rest().await;
    tokio::time::timeout(Duration::from_secs(20), stopped)
        .await
        .expect("serve returns")
        .expect("task")
        .expect("clean shutdown");
}
