use sqlx::error::ErrorKind;
use wait_store::{JobFilter, JobStatus, Store, StoreError};

use crate::support::{self, TestDb};

conformance! {
async fn migrations_build_an_empty_database_and_rerun_as_a_no_op(db: &TestDb) {
    let applied = "SELECT COUNT(*) FROM _sqlx_migrations";
    assert_eq!(db.scalar_i64(applied, None).await, migration_count());
    let job = db
        .store
        .create_job(&support::request("X13SAW"), None)
        .await
        .expect("job");

    let again = db.reopen().await.expect("second open");
    let kept = again
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job kept");
    assert_eq!(kept.job_id, job.job_id);
    again.close().await;
    assert_eq!(
        db.scalar_i64(applied, None).await,
        migration_count(),
        "nothing re-applied"
    );
}

async fn a_schema_newer_than_the_binary_is_refused(db: &TestDb) {
    let checksum = match db.backend {
        support::Backend::Sqlite => "X'00'",
        support::Backend::Postgres => "'\\x00'::bytea",
    };
    db.exec(
        &format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum,
                                           execution_time)
             VALUES (9999, 'from a newer WAIT', TRUE, {checksum}, 0)"
        ),
        None,
    )
    .await
    .expect("pretend a newer version migrated this database");
    match db.reopen().await {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (9999, latest_migration_version()));
        }
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("a too-new schema must be refused"),
    }
    // the database was left alone
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM _sqlx_migrations", None).await,
        migration_count() + 1
    );
}

async fn open_url_accepts_both_backends_and_refuses_other_schemes(db: &TestDb) {
    let reopened = db.reopen().await.expect("own url");
    reopened.ping().await.expect("ping");
    let expected = match db.backend {
        support::Backend::Sqlite => "sqlite",
        support::Backend::Postgres => "postgres",
    };
    assert_eq!(reopened.backend_name(), expected);
    reopened.close().await;

    let err = Store::open_url("mysql://localhost/wait")
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

async fn check_constraint_refuses_unknown_status_written_by_raw_sql(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("X13SAW"), None)
        .await
        .expect("job");
    let err = db
        .exec(
            "UPDATE build_jobs SET status = 'Exploded' WHERE job_id = $1",
            Some(&job.job_id.to_string()),
        )
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

async fn legacy_verified_row_reads_as_completed(db: &TestDb) {
    let job = db
        .store
        .create_job(&support::request("X13SAW"), None)
        .await
        .expect("job");
    db.exec(
        "UPDATE build_jobs SET status = 'Verified' WHERE job_id = $1",
        Some(&job.job_id.to_string()),
    )
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

async fn job_round_trips_every_request_field(db: &TestDb) {
    let mut req = support::request("X13SAW");
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

async fn create_job_refuses_unknown_compression(db: &TestDb) {
    let mut req = support::request("X13SAW");
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

async fn list_jobs_filters_pages_and_counts_newest_first(db: &TestDb) {
    let mut ids = Vec::new();
    for (board, by) in [("A", "alice"), ("B", "bob"), ("A", "alice"), ("C", "alice")] {
        ids.push(
            db.store
                .create_job(&support::request(board), Some(by))
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

/// The highest migration version shipped (numbers may skip: 0007 does not need 0006).
fn latest_migration_version() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let files = std::fs::read_dir(dir).expect("migrations folder");
    files
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// The number of migrations shipped (both backends have the same set).
fn migration_count() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let files = std::fs::read_dir(dir).expect("migrations folder");
    files
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count() as i64
}
