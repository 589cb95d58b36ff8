//! `search_jobs`: text search, the `created_at` window, and both combined with the
//! exact-match filters and paging of `list_jobs`.

use time::OffsetDateTime;
use uuid::Uuid;
use wait_store::{JobFilter, JobRequest, JobSearch, JobStatus};

use crate::support::{self, TestDb};

fn request(board: &str, customer: &str, base_image: &str) -> JobRequest {
    let mut r = support::request(board);
    r.customer_name = customer.to_string();
    r.base_image = base_image.to_string();
    r
}

async fn ids(db: &TestDb, search: &JobSearch) -> (Vec<Uuid>, i64) {
    let (jobs, total) = db.store.search_jobs(search).await.expect("search");
    (jobs.into_iter().map(|j| j.job_id).collect(), total)
}

fn text(t: &str) -> JobSearch {
    JobSearch {
        text: Some(t.to_string()),
        ..JobSearch::default()
    }
}

/// Pin a job's creation time (milliseconds since the epoch).
async fn set_created(db: &TestDb, id: Uuid, ms: i64) {
    db.exec(
        &format!("UPDATE build_jobs SET created_at = {ms} WHERE job_id = $1"),
        Some(&id.to_string()),
    )
    .await
    .expect("set created_at");
}

fn at_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).expect("time")
}

conformance! {
async fn text_search_matches_id_prefix_board_customer_image_and_creator_without_case(db: &TestDb) {
    let a = db
        .store
        .create_job(&request("X13SAW", "ACME", "Win11_IoT.wim"), Some("alice"))
        .await
        .expect("job");
    let b = db
        .store
        .create_job(&request("A2SDi", "Globex", "server_2022.iso"), Some("bob"))
        .await
        .expect("job");
    let c = db
        .store
        .create_job(&request("X11SCL", "default", "100%_done.wim"), None)
        .await
        .expect("job");

    assert_eq!(ids(db, &text("x13saw")).await, (vec![a.job_id], 1));
    assert_eq!(ids(db, &text("GLOBEX")).await, (vec![b.job_id], 1));
    assert_eq!(ids(db, &text("iot")).await, (vec![a.job_id], 1));
    assert_eq!(ids(db, &text("BOB")).await, (vec![b.job_id], 1));
    // newest first
    assert_eq!(ids(db, &text("x1")).await, (vec![c.job_id, a.job_id], 2));

    // job ids match by prefix only, in either case. Ids made in the same millisecond
    // share the timestamp and the counter's high bits (UUIDv7): 30 characters reach
    // the counter's low bits and the random tail.
    let id = b.job_id.to_string();
    assert_eq!(ids(db, &text(&id[..30].to_uppercase())).await, (vec![b.job_id], 1));
    assert_eq!(ids(db, &text(&id)).await, (vec![b.job_id], 1));
    let inner = &c.job_id.simple().to_string()[20..28];
    assert!(!a.job_id.to_string().contains(inner) && !b.job_id.to_string().contains(inner));
    assert_eq!(ids(db, &text(inner)).await.1, 0, "not a prefix of any id");

    // LIKE wildcards are literal: '%' matches only a real '%', '_' only a real '_'
    assert_eq!(ids(db, &text("100%")).await, (vec![c.job_id], 1));
    assert_eq!(ids(db, &text("%")).await, (vec![c.job_id], 1));
    assert_eq!(ids(db, &text("r_2")).await, (vec![b.job_id], 1), "server_2022");
    assert_eq!(ids(db, &text("s_rver")).await.1, 0, "'_' is not a wildcard");
    assert_eq!(ids(db, &text("1_i")).await, (vec![a.job_id], 1), "Win11_IoT");
    assert_eq!(ids(db, &text("nothing-like-this")).await, (vec![], 0));

    // blank text is no text
    assert_eq!(ids(db, &text("  ")).await.1, 3);

    // text combines with the exact filters
    let search = JobSearch {
        filter: JobFilter {
            created_by: Some("alice".into()),
            ..JobFilter::default()
        },
        ..text("x1")
    };
    assert_eq!(ids(db, &search).await, (vec![a.job_id], 1));
}

async fn created_window_is_inclusive_and_combines_with_filters_and_paging(db: &TestDb) {
    let mut jobs = Vec::new();
    for i in 0..10i64 {
        let board = if i % 2 == 0 { "EVEN" } else { "ODD" };
        let job = db
            .store
            .create_job(&request(board, "default", "a.wim"), Some("ci"))
            .await
            .expect("job");
        set_created(db, job.job_id, 1_700_000_000_000 + i * 1000).await;
        jobs.push(job.job_id);
    }
    db.store.request_cancel(jobs[4]).await.expect("cancel");

    let window = |since: Option<i64>, until: Option<i64>| JobSearch {
        since: since.map(at_ms),
        until: until.map(at_ms),
        ..JobSearch::default()
    };
    // [t2, t5], both ends included
    let (got, total) = ids(db, &window(Some(1_700_000_002_000), Some(1_700_000_005_000))).await;
    assert_eq!(total, 4);
    assert_eq!(got, vec![jobs[5], jobs[4], jobs[3], jobs[2]]);
    // open ends
    assert_eq!(ids(db, &window(Some(1_700_000_008_000), None)).await.1, 2);
    assert_eq!(ids(db, &window(None, Some(1_700_000_000_000))).await, (vec![jobs[0]], 1));
    // a bound between two milliseconds rounds towards the inside of the window
    let since = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_008_999_000_001).expect("t");
    let search = JobSearch { since: Some(since), ..JobSearch::default() };
    assert_eq!(ids(db, &search).await, (vec![jobs[9]], 1));
    // an empty window
    assert_eq!(ids(db, &window(Some(1_700_000_005_000), Some(1_700_000_004_000))).await.1, 0);

    // with filters and a page: even boards in [t0, t9], two per page
    let page = |offset: i64| JobSearch {
        filter: JobFilter {
            motherboard_model: Some("EVEN".into()),
            limit: Some(2),
            offset: Some(offset),
            ..JobFilter::default()
        },
        ..window(Some(1_700_000_000_000), Some(1_700_000_009_000))
    };
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let (got, total) = ids(db, &page(offset)).await;
        assert_eq!(total, 5);
        seen.extend(got);
    }
    assert_eq!(seen, vec![jobs[8], jobs[6], jobs[4], jobs[2], jobs[0]]);

    let cancelled = JobSearch {
        filter: JobFilter {
            status: Some(JobStatus::Cancelled),
            ..JobFilter::default()
        },
        ..window(Some(1_700_000_000_000), None)
    };
    assert_eq!(ids(db, &cancelled).await, (vec![jobs[4]], 1));
}
}
