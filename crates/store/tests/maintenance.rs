//! Explicit migration, backups and the seed import at the store level, on real SQLite
//! files and (with `WAIT_TEST_DATABASE_URL`) a real PostgreSQL schema.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use wait_store::{JobFilter, JobStatus, Store, StoreError};

async fn sqlite_exec(path: &Path, sql: &str) {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .expect("open raw sqlite");
    sqlx::raw_sql(sql).execute(&pool).await.expect("raw sql");
    pool.close().await;
}

#[tokio::test]
async fn migrate_reports_what_it_applies_and_nothing_the_second_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("wait.db").display());
    let store = Store::open_url_unmigrated(&url).await.expect("open");
    let status = store.schema_status().await.expect("status");
    assert_eq!(status.current, 0);
    assert_eq!(status.pending, Store::known_migrations());
    let report = store.migrate().await.expect("migrate");
    assert_eq!((report.before, report.after), (0, status.supported));
    assert_eq!(report.applied, status.pending);
    let again = store.migrate().await.expect("again");
    assert!(again.applied.is_empty());
    assert_eq!(again.before, again.after);
    store.close().await;
}

#[tokio::test]
async fn migrate_refuses_a_newer_schema_without_changing_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wait.db");
    Store::open_sqlite(&path)
        .await
        .expect("create")
        .close()
        .await;
    sqlite_exec(
        &path,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'newer', TRUE, X'00', 0)",
    )
    .await;
    let store = Store::open_url_unmigrated(&format!("sqlite://{}", path.display()))
        .await
        .expect("opening without migrating works");
    let status = store.schema_status().await.expect("status");
    assert!(status.too_new());
    match store.migrate().await {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (9999, status.supported));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    store.close().await;
}

#[tokio::test]
async fn postgres_status_and_migrate() {
    let Some(base) = support::postgres_url("postgres_status_and_migrate") else {
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::PgPool::connect(&base).await.expect("connect");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("schema");
    let url = support::with_search_path(&base, &schema);
    let store = Store::open_url_unmigrated(&url).await.expect("open");
    assert_eq!(store.schema_status().await.expect("status").current, 0);
    let report = store.migrate().await.expect("migrate");
    assert_eq!(report.applied.len(), Store::known_migrations().len());
    assert!(store.migrate().await.expect("again").applied.is_empty());
    // A backup file is SQLite-only; PostgreSQL says to use pg_dump.
    let err = store
        .backup_sqlite(Path::new("/nonexistent/x.db"))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("pg_dump"), "{err}");
    store.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .expect("drop");
    admin.close().await;
}

#[tokio::test]
async fn backup_is_checked_and_opens_as_a_store() {
    let db = support::sqlite().await;
    let job = db
        .store
        .create_job(&support::request("X13SAW"), None)
        .await
        .expect("job");
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.db");
    let info = db.store.backup_sqlite(&copy).await.expect("backup");
    assert_eq!(info.jobs, 1);
    assert!(info.bytes > 0);
    let restored = Store::open_sqlite(&copy).await.expect("restore");
    assert!(restored.get_job(job.job_id).await.expect("read").is_some());
    restored.close().await;
    // VACUUM INTO never overwrites: replacing a file is the caller's decision.
    assert!(db.store.backup_sqlite(&copy).await.is_err());
    db.finish().await;
}

/// The seed import also writes into PostgreSQL (one transaction, no duplicates).
#[tokio::test]
async fn seed_import_into_postgres_is_idempotent() {
    let Some(db) = support::postgres("seed_import_into_postgres_is_idempotent").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let old = dir.path().join("old.db");
    sqlite_exec(
        &old,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT, password_hash TEXT, role TEXT);
         INSERT INTO users VALUES (1, 'ops', 'pbkdf2:sha256:600000$x$y', 'admin');
         CREATE TABLE build_jobs (job_id TEXT PRIMARY KEY, status TEXT, motherboard_model TEXT,
             base_image TEXT, customer_name TEXT, created_by INTEGER, created_at DATETIME);
         INSERT INTO build_jobs VALUES ('1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'Verified',
             'X13SAW', 'w11.wim', 'AABBCCE', 1, '2024-05-01 12:34:56.000000');
         CREATE TABLE job_logs (job_id TEXT, timestamp DATETIME, message TEXT, log_level TEXT);
         INSERT INTO job_logs VALUES ('1b4e28ba-2fa1-11d2-883f-0016d3cca427',
             '2024-05-01 12:35:00', 'Mounting image', 'normal');",
    )
    .await;
    let first = db.store.import_seed_db(&old, false).await.expect("import");
    let jobs = first.table("build_jobs").expect("jobs");
    assert_eq!(jobs.imported, 1);
    let second = db.store.import_seed_db(&old, false).await.expect("again");
    assert_eq!(
        second.table("build_jobs").expect("jobs").already_imported,
        1
    );
    assert_eq!(second.table("users").expect("users").already_imported, 1);
    let (listed, total) = db
        .store
        .list_jobs(&JobFilter::default())
        .await
        .expect("list");
    assert_eq!(total, 1);
    assert_eq!(listed[0].status, JobStatus::Completed);
    assert_eq!(listed[0].created_by.as_deref(), Some("ops"));
    let lines = db
        .store
        .logs_after(listed[0].job_id, 0, true, 10)
        .await
        .expect("logs");
    assert_eq!(lines.len(), 1);
    db.finish().await;
}
