mod common;

use sqlx::error::ErrorKind;
use wait_store::{JobFilter, JobStatus, Store, StoreError};

#[tokio::test]
async fn migrations_run_twice_idempotently() {
    let db = common::open().await;
    let job = db
        .store
        .create_job(&common::request("X13SAW"), None)
        .await
        .expect("job");
    db.store.close().await;

    let again = Store::open_sqlite(&db.path).await.expect("second open");
    let kept = again
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job kept");
    assert_eq!(kept.job_id, job.job_id);

    let raw = db.raw().await;
    let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&raw)
        .await
        .expect("count migrations");
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn open_url_accepts_sqlite_and_refuses_other_schemes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("by-url.db").display());
    let store = Store::open_url(&url).await.expect("sqlite url");
    store.ping().await.expect("ping");

    let err = Store::open_url("postgres://localhost/wait")
        .await
        .expect_err("refused");
    assert!(matches!(
        err,
        StoreError::Invalid {
            field: "database_url",
            ..
        }
    ));
}

#[tokio::test]
async fn check_constraint_refuses_unknown_status_written_by_raw_sql() {
    let db = common::open().await;
    let job = db
        .store
        .create_job(&common::request("X13SAW"), None)
        .await
        .expect("job");
    let raw = db.raw().await;
    let err = sqlx::query("UPDATE build_jobs SET status = 'Exploded' WHERE job_id = $1")
        .bind(job.job_id.to_string())
        .execute(&raw)
        .await
        .expect_err("CHECK must refuse the status");
    match err {
        sqlx::Error::Database(e) => assert_eq!(e.kind(), ErrorKind::CheckViolation),
        other => panic!("unexpected error {other:?}"),
    }
    let kept = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(kept.status, JobStatus::Queued);
}

#[tokio::test]
async fn legacy_verified_row_reads_as_completed() {
    let db = common::open().await;
    let job = db
        .store
        .create_job(&common::request("X13SAW"), None)
        .await
        .expect("job");
    let raw = db.raw().await;
    sqlx::query("UPDATE build_jobs SET status = 'Verified' WHERE job_id = $1")
        .bind(job.job_id.to_string())
        .execute(&raw)
        .await
        .expect("legacy value is allowed by the CHECK");

    let read = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(read.status, JobStatus::Completed);

    let by_status = db
        .store
        .get_jobs_by_status(JobStatus::Completed)
        .await
        .expect("by status");
    assert_eq!(by_status.len(), 1);

    let filter = JobFilter {
        status: Some(JobStatus::Completed),
        ..JobFilter::default()
    };
    let (listed, total) = db.store.list_jobs(&filter).await.expect("list");
    assert_eq!((listed.len(), total), (1, 1));
    assert_eq!(
        db.store
            .current_or_latest_job()
            .await
            .expect("latest")
            .map(|j| j.status),
        Some(JobStatus::Completed)
    );
}

#[test]
fn status_names_round_trip_and_verified_is_an_alias() {
    for status in JobStatus::ALL {
        assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        let json = serde_json::to_string(&status).expect("serialize");
        assert_eq!(json, format!("\"{}\"", status.as_str()));
    }
    assert_eq!(JobStatus::parse("Verified"), Some(JobStatus::Completed));
    assert_eq!(JobStatus::parse("queued"), None);
    assert!(JobStatus::Cancelled.is_final());
    assert!(!JobStatus::PendingValidation.is_final());
}

#[tokio::test]
async fn job_round_trips_every_request_field() {
    let db = common::open().await;
    let mut req = common::request("X13SAW");
    req.driver_set = Some("WINDOWS11_X64".into());
    req.langpacks = vec!["a.cab".into()];
    req.updates = vec!["b.msu".into(), "c.cab".into()];
    req.software = vec!["d.msi".into()];
    req.answer_file = Some("X13SAW/WIN11_24H2/autounattend.xml".into());
    req.product_key = Some("ABCDE-ABCDE-ABCDE-ABCDE-ABCDE".into());
    req.key_variants = "both".into();
    req.create_iso = true;
    req.compression = "lzms".into();
    req.log_level = wait_store::LogLevel::Verbose;
    let job = db.store.create_job(&req, Some("alice")).await.expect("job");
    let read = db
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(read, job);
    assert_eq!(read.request, req);
    assert_eq!(read.created_by.as_deref(), Some("alice"));
    assert_eq!((read.attempt, read.max_attempts, read.progress), (0, 3, 0));
}

#[tokio::test]
async fn create_job_refuses_unknown_compression() {
    let db = common::open().await;
    let mut req = common::request("X13SAW");
    req.compression = "zip".into();
    let err = db.store.create_job(&req, None).await.expect_err("refused");
    assert!(matches!(
        err,
        StoreError::Invalid {
            field: "compression",
            ..
        }
    ));
}

#[tokio::test]
async fn list_jobs_filters_pages_and_counts_newest_first() {
    let db = common::open().await;
    let mut ids = Vec::new();
    for (board, by) in [("A", "alice"), ("B", "bob"), ("A", "alice"), ("C", "alice")] {
        ids.push(
            db.store
                .create_job(&common::request(board), Some(by))
                .await
                .expect("job")
                .job_id,
        );
    }
    let by_alice = JobFilter {
        created_by: Some("alice".into()),
        ..JobFilter::default()
    };
    let (jobs, total) = db.store.list_jobs(&by_alice).await.expect("list");
    assert_eq!(total, 3);
    assert_eq!(
        jobs.iter().map(|j| j.job_id).collect::<Vec<_>>(),
        vec![ids[3], ids[2], ids[0]]
    );

    let board_a_page = JobFilter {
        motherboard_model: Some("A".into()),
        limit: Some(1),
        offset: Some(1),
        ..JobFilter::default()
    };
    let (jobs, total) = db.store.list_jobs(&board_a_page).await.expect("list");
    assert_eq!(total, 2);
    assert_eq!(
        jobs.iter().map(|j| j.job_id).collect::<Vec<_>>(),
        vec![ids[0]]
    );

    let queued = JobFilter {
        status: Some(JobStatus::Queued),
        customer_name: Some("default".into()),
        ..JobFilter::default()
    };
    assert_eq!(db.store.list_jobs(&queued).await.expect("list").1, 4);
}
