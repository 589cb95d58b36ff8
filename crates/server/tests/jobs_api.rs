//! The job history and job action endpoints: `GET /api/jobs` (filters, pages),
//! `GET /api/jobs/search`, `GET /api/jobs/{id}`, `GET /api/jobs/{id}/logs`,
//! `GET /api/job/manifest`, `POST /api/job/cancel` and `DELETE /api/job`. Jobs are put
//! in the store directly and moved by the store's worker calls; no image is built.
#![allow(clippy::unwrap_used)]
mod common;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use wait_store::{Job, JobRequest, JobStatus, JobUpdate, LogLevel, Role};

use common::{BOARD, TestApp, error_parts, json, send, start_bare};

const KEY: &str = "ABCDE-FGHIJ-KLMNO-PQRST-VWXYZ";
const MASKED: &str = "*****-*****-*****-*****-VWXYZ";
const LEASE: Duration = Duration::from_secs(60);

fn request(board: &str, customer: &str, base_image: &str) -> JobRequest {
    JobRequest {
        motherboard_model: board.into(),
        base_image: base_image.into(),
        customer_name: customer.into(),
        image_index: "1".into(),
        driver_set: Some("WINDOWS11_X64".into()),
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

fn plain() -> JobRequest {
    request(BOARD, "ACME", "placeholder.wim")
}

/// Claim the next queued job (it must be `job`) and move it to a final `status`.
async fn finish(app: &TestApp, job: &Job, status: JobStatus, output_dir: Option<&str>) -> Job {
    let claimed = app
        .store
        .claim_job("test-worker", LEASE)
        .await
        .expect("claim")
        .expect("a queued job");
    assert_eq!(claimed.job_id, job.job_id, "claimed another job");
    let update = JobUpdate {
        output_dir: output_dir.map(str::to_string),
        ..JobUpdate::default()
    };
    app.store
        .transition(job.job_id, claimed.attempt, status, &update)
        .await
        .expect("final state")
}

/// A new job that finished as Completed with `output_dir`.
async fn completed(app: &TestApp, req: &JobRequest, output_dir: Option<&str>) -> Job {
    let job = app
        .store
        .create_job(req, Some("builder"))
        .await
        .expect("job");
    finish(app, &job, JobStatus::Completed, output_dir).await
}

async fn get(client: &Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    send(client, Method::GET, &app.url(path), None).await
}

fn ids(page: &Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("no jobs in {page}"))
        .iter()
        .map(|j| j["job_id"].as_str().unwrap().to_string())
        .collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// GET with query pairs, encoded by the client.
async fn get_query(
    client: &Client,
    app: &TestApp,
    path: &str,
    query: &[(&str, &str)],
) -> (StatusCode, Value) {
    let r = client.get(app.url(path)).query(query).send().await.unwrap();
    let (status, _, body) = json(r).await;
    (status, body)
}

/// Thirty jobs over three boards, two customers and three creators, in every state.
/// Returns their ids in creation order.
async fn thirty_jobs(app: &TestApp) -> Vec<Uuid> {
    let boards = ["X13SAW", "A2SDI", "X11SCL"];
    let customers = ["ACME", "GLOBEX"];
    let creators = [Some("alice"), Some("bob"), None];
    let mut jobs = Vec::new();
    for i in 0..30 {
        let image = if i % 5 == 0 {
            "Special_LTSC.wim"
        } else {
            "placeholder.wim"
        };
        let job = app
            .store
            .create_job(
                &request(boards[i % 3], customers[i % 2], image),
                creators[i % 3],
            )
            .await
            .unwrap();
        jobs.push(job.job_id);
    }
    // The oldest ten are claimed in order: 5 complete, 3 fail, 2 keep running.
    for (i, id) in jobs.iter().take(10).enumerate() {
        let claimed = app.store.claim_job("w", LEASE).await.unwrap().unwrap();
        assert_eq!(claimed.job_id, *id);
        let to = match i {
            0..5 => JobStatus::Completed,
            5..8 => JobStatus::FailedBuild,
            _ => continue,
        };
        app.store
            .transition(*id, claimed.attempt, to, &JobUpdate::default())
            .await
            .unwrap();
    }
    for id in &jobs[10..12] {
        app.store.request_cancel(*id).await.unwrap();
    }
    jobs
}

#[tokio::test]
async fn jobs_list_filters_and_pages_thirty_jobs() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let jobs = thirty_jobs(&app).await;
    let newest_first: Vec<String> = jobs.iter().rev().map(Uuid::to_string).collect();

    let (status, all) = get(&viewer, &app, "/api/jobs").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 30);
    assert_eq!(all["limit"], wait_store::DEFAULT_LIST_LIMIT);
    assert_eq!(ids(&all), newest_first);

    // Pages of 7 cover every job once, in order, each page knowing the total.
    let mut paged = Vec::new();
    for offset in (0..35).step_by(7) {
        let (status, page) =
            get(&viewer, &app, &format!("/api/jobs?limit=7&offset={offset}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 30);
        assert_eq!(page["offset"], offset);
        paged.extend(ids(&page));
    }
    assert_eq!(paged, newest_first);
    let (_, beyond) = get(&viewer, &app, "/api/jobs?offset=30").await;
    assert_eq!(
        (ids(&beyond).len(), beyond["total"].as_i64()),
        (0, Some(30))
    );

    let count = |query: &'static str| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            let (status, page) = get(&viewer, app, &format!("/api/jobs?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            assert_eq!(ids(&page).len() as i64, page["total"].as_i64().unwrap());
            page
        }
    };
    assert_eq!(count("status=Queued").await["total"], 18);
    assert_eq!(count("status=Completed").await["total"], 5);
    assert_eq!(count("status=Verified").await["total"], 5, "legacy alias");
    assert_eq!(count("status=Failed_Build").await["total"], 3);
    assert_eq!(count("status=Processing_Build").await["total"], 2);
    assert_eq!(count("status=Cancelled").await["total"], 2);
    assert_eq!(count("customer_name=ACME").await["total"], 15);
    assert_eq!(count("motherboard_model=A2SDI").await["total"], 10);
    assert_eq!(count("created_by=alice").await["total"], 10);
    let combined = count("status=Completed&customer_name=ACME").await;
    let expected: Vec<String> = [4, 2, 0].iter().map(|i| jobs[*i].to_string()).collect();
    assert_eq!(ids(&combined), expected);

    // queued jobs carry their place in the queue, others do not
    let queued = count("status=Queued&limit=1000").await;
    let mut positions: Vec<i64> = queued["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["queue_position"].as_i64().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=18).collect::<Vec<i64>>());
    let done = count("status=Completed").await;
    assert!(done["jobs"][0].get("queue_position").is_none());

    // the creation window
    let now = OffsetDateTime::now_utc();
    let hour = time::Duration::hours(1);
    let window = |since: Option<OffsetDateTime>, until: Option<OffsetDateTime>| {
        let mut q = Vec::new();
        if let Some(s) = since {
            q.push(("since", rfc3339(s)));
        }
        if let Some(u) = until {
            q.push(("until", rfc3339(u)));
        }
        q
    };
    for (since, until, total) in [
        (Some(now - hour), Some(now + hour), 30),
        (Some(now + hour), None, 0),
        (None, Some(now - hour), 0),
        (Some(now - hour), None, 30),
    ] {
        let q = window(since, until);
        let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, page) = get_query(&viewer, &app, "/api/jobs", &pairs).await;
        assert_eq!(status, StatusCode::OK, "{pairs:?}: {page}");
        assert_eq!(page["total"], total, "{pairs:?}");
    }
}

#[tokio::test]
async fn jobs_list_refuses_bad_values_naming_the_parameter() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let cases = [
        ("status=Done", "status"),
        ("status=queued", "status"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("since=yesterday", "since"),
        ("until=2025-01-31", "until"),
        (
            "since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z",
            "until",
        ),
        ("customer_name=a%07b", "customer_name"),
    ];
    for (query, field) in cases {
        for path in ["/api/jobs", "/api/jobs/search"] {
            let (status, body) = get(&viewer, &app, &format!("{path}?q=x&{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}?{query}: {body}");
            assert_eq!(
                error_parts(&body),
                ("invalid_query".to_string(), Some(field.to_string())),
                "{path}?{query}"
            );
        }
    }
    let (status, body) = get(&viewer, &app, &format!("/api/jobs?limit={}", 1000)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the largest page is allowed: {body}"
    );

    for path in ["/api/jobs", "/api/jobs/search?q=x"] {
        let r = Client::new().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn job_search_matches_id_prefix_board_customer_image_and_creator() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let jobs = thirty_jobs(&app).await;
    let total = |query: &'static str| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            let (status, page) = get_query(&viewer, app, "/api/jobs/search", &[("q", query)]).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            page["total"].as_i64().unwrap()
        }
    };
    assert_eq!(total("x13saw").await, 10);
    assert_eq!(total("x1").await, 20, "X13SAW and X11SCL");
    assert_eq!(total("Globex").await, 15);
    assert_eq!(total("special_ltsc").await, 6);
    assert_eq!(total("ALICE").await, 10);
    assert_eq!(total("no such thing").await, 0);

    // a job id prefix long enough to reach its random part finds that job alone
    let id = jobs[17].to_string();
    let (_, page) = get_query(&viewer, &app, "/api/jobs/search", &[("q", &id[..28])]).await;
    assert_eq!(ids(&page), vec![id.clone()]);
    let (_, page) = get_query(
        &viewer,
        &app,
        "/api/jobs/search",
        &[("q", &id.to_uppercase())],
    )
    .await;
    assert_eq!(ids(&page), vec![id]);

    // the listing filters apply too
    let (_, page) = get(&viewer, &app, "/api/jobs/search?q=acme&status=Completed").await;
    assert_eq!(page["total"], 3);

    for query in ["", "?q=", "?q=%20%20"] {
        let (status, body) = get(&viewer, &app, &format!("/api/jobs/search{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            error_parts(&body),
            ("missing_parameter".to_string(), Some("q".to_string()))
        );
    }
}

#[tokio::test]
async fn job_by_id_is_404_when_unknown_and_400_when_not_a_uuid() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let mut req = plain();
    req.product_key = Some(KEY.into());
    req.key_variants = "key".into();
    let job = app.store.create_job(&req, Some("builder")).await.unwrap();

    let (status, body) = get(&viewer, &app, &format!("/api/jobs/{}", job.job_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["job_id"], job.job_id.to_string());
    assert_eq!(body["status"], "Queued");
    assert_eq!(body["queue_position"], 1);
    assert_eq!(body["product_key"], MASKED);

    let (status, body) = get(&viewer, &app, &format!("/api/jobs/{}", Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_parts(&body).0, "not_found");

    for bad in ["not-a-uuid", "1234"] {
        let (status, body) = get(&viewer, &app, &format!("/api/jobs/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            error_parts(&body),
            ("invalid_job_id".to_string(), Some("job_id".to_string()))
        );
    }
    let r = Client::new()
        .get(app.url(&format!("/api/jobs/{}", job.job_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn job_logs_page_without_gaps_at_either_level() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let mut req = plain();
    req.product_key = Some(KEY.into());
    req.key_variants = "key".into();
    let job = app.store.create_job(&req, Some("builder")).await.unwrap();
    let mut normal = Vec::new();
    for i in 1..=25i64 {
        let level = if i % 3 == 0 {
            LogLevel::Verbose
        } else {
            normal.push(i);
            LogLevel::Normal
        };
        let message = if i == 5 {
            format!("answer file uses key {KEY}")
        } else {
            format!("line {i}")
        };
        let seq = app
            .store
            .append_log(job.job_id, level, Some("build"), &message)
            .await
            .unwrap();
        assert_eq!(seq, i);
    }

    let read_all = |level: Option<&'static str>| {
        let viewer = viewer.clone();
        let app = &app;
        let id = job.job_id;
        async move {
            let mut after = 0i64;
            let mut seqs = Vec::new();
            let mut texts = String::new();
            for _ in 0..100 {
                let level = level.map(|l| format!("&level={l}")).unwrap_or_default();
                let path = format!("/api/jobs/{id}/logs?limit=4&after={after}{level}");
                let (status, page) = get(&viewer, app, &path).await;
                assert_eq!(status, StatusCode::OK, "{path}: {page}");
                assert_eq!(page["status"], "Queued");
                let lines = page["lines"].as_array().unwrap();
                assert!(lines.len() <= 4);
                if lines.is_empty() {
                    assert_eq!(page["next_after"], after, "an empty page keeps the cursor");
                    return (seqs, texts);
                }
                for line in lines {
                    seqs.push(line["seq"].as_i64().unwrap());
                    for field in ["ts", "level", "stage", "message"] {
                        assert!(line.get(field).is_some(), "{field} missing in {line}");
                    }
                    texts.push_str(line["message"].as_str().unwrap());
                }
                after = page["next_after"].as_i64().unwrap();
                assert_eq!(after, *seqs.last().unwrap());
            }
            panic!("paging never ended");
        }
    };
    let (verbose, texts) = read_all(Some("verbose")).await;
    assert_eq!(verbose, (1..=25).collect::<Vec<i64>>());
    assert!(texts.contains(MASKED) && !texts.contains(KEY), "{texts}");
    let (only_normal, _) = read_all(Some("normal")).await;
    assert_eq!(only_normal, normal);
    let (by_job_level, _) = read_all(None).await;
    assert_eq!(by_job_level, normal, "the job asked for normal logs");

    for (query, field) in [
        ("level=loud", "level"),
        ("after=-1", "after"),
        ("after=x", "after"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
    ] {
        let (status, body) = get(
            &viewer,
            &app,
            &format!("/api/jobs/{}/logs?{query}", job.job_id),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_parts(&body).1.as_deref(), Some(field), "{query}");
    }
    let (status, _) = get(&viewer, &app, &format!("/api/jobs/{}/logs", Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&viewer, &app, "/api/jobs/nope/logs").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cancel_answers_200_for_queued_202_for_running_and_409_for_finished() {
    let app = start_bare().await;
    let builder = app.login(Role::Builder).await;
    let cancel = |query: String| {
        let builder = builder.clone();
        let url = app.url(&format!("/api/job/cancel{query}"));
        async move { send(&builder, Method::POST, &url, None).await }
    };

    // queued: cancelled at once
    let queued = app.store.create_job(&plain(), None).await.unwrap();
    let (status, body) = cancel(format!("?job_id={}", queued.job_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "Cancelled");
    assert_eq!(
        app.store
            .get_job(queued.job_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Cancelled
    );

    // nothing running: no default
    let (status, body) = cancel(String::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // running: the worker is asked to stop; the default is the running job
    let running = app.store.create_job(&plain(), None).await.unwrap();
    app.store.claim_job("w", LEASE).await.unwrap().unwrap();
    let (status, body) = cancel(String::new()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["job_id"], running.job_id.to_string());
    assert_eq!(body["status"], "Processing_Build");
    assert_eq!(body["cancel_requested"], true);
    let log = app
        .store
        .logs_after(running.job_id, 0, true, 100)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|l| l.message == "cancellation requested by builder"),
        "{log:?}"
    );

    // finished: nothing to cancel
    let (status, body) = cancel(format!("?job_id={}", queued.job_id)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_parts(&body).0, "conflict");

    let (status, _) = cancel(format!("?job_id={}", Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = cancel("?job_id=zzz".to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).1.as_deref(), Some("job_id"));

    let viewer = app.login(Role::Viewer).await;
    let url = app.url(&format!("/api/job/cancel?job_id={}", running.job_id));
    let (status, _) = send(&viewer, Method::POST, &url, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = Client::new().post(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// `8_Output/<rel>` with an image and a manifest in it.
fn output_folder(app: &TestApp, rel: &str) -> PathBuf {
    let dir = app.root.join("8_Output").join(rel);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("install.wim"), b"image").unwrap();
    std::fs::write(dir.join("manifest.json"), b"{}").unwrap();
    dir
}

#[tokio::test]
async fn delete_removes_finished_records_and_purges_only_inside_8_output() {
    let app = start_bare().await;
    let builder = app.login(Role::Builder).await;
    let admin = app.login(Role::Admin).await;
    let delete = |client: &Client, query: String| {
        let client = client.clone();
        let url = app.url(&format!("/api/job{query}"));
        async move { send(&client, Method::DELETE, &url, None).await }
    };
    let exists = |id: Uuid| {
        let store = app.store.clone();
        async move { store.get_job(id).await.unwrap().is_some() }
    };

    // queued or running: refused
    let queued = app.store.create_job(&plain(), None).await.unwrap();
    let (status, body) = delete(&builder, format!("?job_id={}", queued.job_id)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_parts(&body).0, "job_not_finished");
    app.store.request_cancel(queued.job_id).await.unwrap();

    // the record only: the output stays
    let kept_dir = output_folder(&app, "ACME/20250101_000000_X13SAW");
    let kept = completed(&app, &plain(), Some("ACME/20250101_000000_X13SAW")).await;
    let (status, body) = delete(&builder, format!("?job_id={}", kept.job_id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(!exists(kept.job_id).await);
    assert!(kept_dir.join("install.wim").is_file());
    let (status, _) = get(&builder, &app, &format!("/api/jobs/{}", kept.job_id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // with the output: admin only
    let purged_dir = output_folder(&app, "ACME/20250102_000000_X13SAW");
    let purged = completed(&app, &plain(), Some("ACME/20250102_000000_X13SAW")).await;
    let query = format!("?job_id={}&purge_output=true", purged.job_id);
    let (status, _) = delete(&builder, query.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(exists(purged.job_id).await && purged_dir.is_dir());
    let (status, body) = delete(&admin, query).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(!exists(purged.job_id).await);
    assert!(!purged_dir.exists(), "output folder still there");
    assert!(kept_dir.is_dir(), "another job's output was touched");
    assert!(app.root.join("8_Output/ACME").is_dir());

    // an output folder already gone is no reason to keep the record
    let gone = completed(&app, &plain(), Some("ACME/20250103_000000_X13SAW")).await;
    let (status, _) = delete(&admin, format!("?job_id={}&purge_output=true", gone.job_id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // a tampered output_dir cannot reach outside 8_Output: nothing is deleted
    let outside = app.root.parent().unwrap().join("x");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("precious.txt"), b"keep me").unwrap();
    let linked_target = app.root.parent().unwrap().join("linked");
    std::fs::create_dir_all(&linked_target).unwrap();
    std::fs::write(linked_target.join("precious.txt"), b"keep me").unwrap();
    std::os::unix::fs::symlink(&linked_target, app.root.join("8_Output/ACME/link")).unwrap();
    for tampered in ["../../x", "ACME/../../x", "ACME", "ACME/link", "/tmp"] {
        let job = completed(&app, &plain(), Some(tampered)).await;
        let (status, body) =
            delete(&admin, format!("?job_id={}&purge_output=true", job.job_id)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{tampered}: {body}");
        assert_eq!(error_parts(&body).0, "invalid_output_dir", "{tampered}");
        assert!(exists(job.job_id).await, "{tampered}: record deleted");
        assert!(outside.join("precious.txt").is_file(), "{tampered}");
        assert!(linked_target.join("precious.txt").is_file(), "{tampered}");
        assert!(kept_dir.join("install.wim").is_file(), "{tampered}");
    }

    // request checks
    let (status, body) = delete(&builder, String::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        ("missing_parameter".to_string(), Some("job_id".to_string()))
    );
    let (status, body) = delete(&admin, format!("?job_id={}&purge_output=yes", gone.job_id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).1.as_deref(), Some("purge_output"));
    let (status, _) = delete(&builder, format!("?job_id={}", Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let viewer = app.login(Role::Viewer).await;
    let (status, _) = delete(&viewer, format!("?job_id={}", queued.job_id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = Client::new()
        .delete(app.url(&format!("/api/job?job_id={}", queued.job_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // the other methods of /api/job are still there
    let (status, _) = get(&viewer, &app, "/api/job").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&builder, Method::PUT, &app.url("/api/job"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn manifest_is_served_as_json_or_text_and_404_without_output() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;

    let (status, body) = get(&viewer, &app, "/api/job/manifest").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no jobs yet: {body}");

    let waiting = app.store.create_job(&plain(), None).await.unwrap();
    let (status, body) = get(
        &viewer,
        &app,
        &format!("/api/job/manifest?job_id={}", waiting.job_id),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_parts(&body).0, "no_output");
    app.store.request_cancel(waiting.job_id).await.unwrap();

    let rel = "ACME/20250101_000000_X13SAW";
    let dir = output_folder(&app, rel);
    let manifest = json!({"job_id": "x", "product_key": KEY, "outputs": [{"folder": rel}]});
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(
        dir.join("manifest.txt"),
        format!("WAIT build manifest\nKey: {KEY}\n"),
    )
    .unwrap();
    let mut req = plain();
    req.product_key = Some(KEY.into());
    req.key_variants = "key".into();
    let job = completed(&app, &req, Some(rel)).await;

    for query in [
        format!("?job_id={}", job.job_id),
        String::new(),
        "?format=json".into(),
    ] {
        let r = viewer
            .get(app.url(&format!("/api/job/manifest{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(body["outputs"][0]["folder"], rel);
        assert_eq!(body["product_key"], MASKED, "key shown unmasked");
    }
    let r = viewer
        .get(app.url(&format!(
            "/api/job/manifest?job_id={}&format=text",
            job.job_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert_eq!(text, format!("WAIT build manifest\nKey: {MASKED}\n"));

    // the folder is there but the manifest is not
    std::fs::remove_file(dir.join("manifest.txt")).unwrap();
    let (status, body) = get(&viewer, &app, "/api/job/manifest?format=text").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_parts(&body).0, "no_output");

    let (status, body) = get(&viewer, &app, "/api/job/manifest?format=xml").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).1.as_deref(), Some("format"));
    let (status, _) = get(&viewer, &app, "/api/job/manifest?job_id=nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(
        &viewer,
        &app,
        &format!("/api/job/manifest?job_id={}", Uuid::now_v7()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // a tampered folder is not read
    let outside = app.root.parent().unwrap().join("x");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("manifest.json"), b"{\"secret\": 1}").unwrap();
    let tampered = completed(&app, &plain(), Some("../../x")).await;
    let (status, body) = get(
        &viewer,
        &app,
        &format!("/api/job/manifest?job_id={}", tampered.job_id),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_parts(&body).0, "invalid_output_dir");

    let r = Client::new()
        .get(app.url("/api/job/manifest"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn job_pages_never_show_the_product_key() {
    let app = start_bare().await;
    let viewer = app.login(Role::Viewer).await;
    let mut req = plain();
    req.product_key = Some(KEY.into());
    req.key_variants = "key".into();
    let job = app.store.create_job(&req, Some("builder")).await.unwrap();
    let mut seen = HashSet::new();
    for path in [
        "/api/jobs".to_string(),
        "/api/jobs/search?q=acme".to_string(),
        format!("/api/jobs/{}", job.job_id),
    ] {
        let text = viewer
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains(MASKED), "{path}: {text}");
        assert!(!text.contains("ABCDE-FGHIJ"), "{path}: {text}");
        seen.insert(path);
    }
    assert_eq!(seen.len(), 3);
}
