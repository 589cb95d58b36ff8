//! `waitctl import-seed-db` as a real process on an original-style WAIT database written
//! here with SQLite: awkward rows (unknown states, NULLs, a duplicate user name, text
//! that is not UTF-8, a value of the wrong type, missing columns), a second run that
//! adds nothing, a dry run that writes nothing, and files that are not such a database.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Output;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use support::waitctl;
use uuid::Uuid;
use wait_store::{JobFilter, JobStatus, Role, Store};

const DONE: &str = "6f9619ff-8b86-d011-b42d-00cf4fc964ff";
const NON_UTF8: &str = "0b1c2d3e-0000-4000-8000-000000000006";

const PASSWORD: &str = "correct horse battery";

async fn write_old_db(path: &Path, admin_hash: &str) {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    // The original's tables as SQLAlchemy writes them into SQLite: DATETIME text, no
    // UNIQUE on the user name, and no image_index, progress or product_key column.
    let schema = "
        CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(80),
            password_hash VARCHAR(256), role VARCHAR(20), is_active BOOLEAN,
            created_at DATETIME);
        CREATE TABLE build_jobs (job_id VARCHAR(36) PRIMARY KEY, status VARCHAR(32),
            motherboard_model VARCHAR(100), base_image VARCHAR(200), customer_name VARCHAR(100),
            driver_path TEXT, langpack_paths TEXT, update_paths TEXT, created_by INTEGER,
            created_at DATETIME, started_at DATETIME, completed_at DATETIME,
            error_message TEXT, output_image_path TEXT, log_level VARCHAR(10));
        CREATE TABLE job_logs (job_id VARCHAR(36), timestamp DATETIME, log_level VARCHAR(10),
            message TEXT, PRIMARY KEY (job_id, timestamp));
        CREATE TABLE webhooks (id INTEGER PRIMARY KEY, url VARCHAR(500), events TEXT,
            secret VARCHAR(256), is_active BOOLEAN, created_by INTEGER);";
    sqlx::raw_sql(schema).execute(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO users VALUES
            (1, 'admin', $1, 'admin', 1, '2024-01-02 03:04:05.000000'),
            (2, 'alice', 'pbkdf2:sha256:600000$salt$abcdef', 'user', 1, NULL),
            (3, 'alice', 'pbkdf2:sha256:600000$salt$other', 'user', 1, NULL),
            (4, NULL, 'x', 'user', 1, NULL),
            (5, 'bad name!', 'x', 'user', 1, NULL)",
    )
    .bind(admin_hash)
    .execute(&pool)
    .await
    .unwrap();
    let rows = format!(
        "INSERT INTO build_jobs VALUES
          ('{DONE}', 'Completed', 'X13SAW', 'W11.wim', 'AABBCCE', 'D:\\2_Drivers\\X13SAW',
           '[\"3_LangPacks/de-de.cab\"]', 'kb1.msu, kb2.msu', 1, '2024-05-01 12:00:00.000000',
           '2024-05-01 12:01:00', '2024-05-01 12:30:00', NULL,
           'D:\\WAIT_Repository\\8_Output\\AABBCCE\\install.wim', 'verbose'),
          ('1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'Verified', 'X13SAW', 'W11.wim', 'C2',
           NULL, NULL, NULL, 2, '2024-05-02 08:00:00', NULL, NULL, NULL, NULL, NULL),
          ('17', 'Failed_Build', 'X12', 'W10.wim', 'C3', NULL, NULL, NULL, 'someone',
           1714566896, NULL, NULL, 'DISM error 87', NULL, 'normal'),
          ('a0000000-0000-4000-8000-000000000004', 'Exploded', 'X12', 'W10.wim', 'C4',
           NULL, NULL, NULL, NULL, '2024-05-03 00:00:00', NULL, NULL, NULL, NULL, NULL),
          ('a0000000-0000-4000-8000-000000000005', 'Queued', 'X12', 'W10.wim', 'C5',
           NULL, NULL, NULL, NULL, '2024-05-03 00:00:00', NULL, NULL, NULL, NULL, NULL),
          ('{NON_UTF8}', 'Failed_Validation', NULL, 'W10.wim', CAST(X'414142FF43' AS TEXT),
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (NULL, 'Completed', 'X12', 'W10.wim', 'C7', NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL),
          ('a0000000-0000-4000-8000-000000000008', 'Completed', 'X12', 'W10.wim', 'C8',
           NULL, NULL, NULL, NULL, X'DEADBEEF', NULL, NULL, NULL, NULL, NULL)"
    );
    sqlx::raw_sql(&rows).execute(&pool).await.unwrap();
    let logs = format!(
        "INSERT INTO job_logs VALUES
          ('{DONE}', '2024-05-01 12:01:00', 'normal', 'Build started'),
          ('{DONE}', '2024-05-01 12:02:00', 'verbose', 'dism /Add-Driver ...'),
          ('{DONE}', '2024-05-01 12:03:00', 'normal', NULL),
          ('{DONE}', '2024-05-01 12:30:00', 'normal', 'Build finished'),
          ('ghost', '2024-05-01 12:30:00', 'normal', 'a line of a job that is gone')"
    );
    sqlx::raw_sql(&logs).execute(&pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO webhooks VALUES
          (1, 'https://hooks.example/a', '[\"job_completed\", \"job_failed\"]', 'keep-me', 1, 1),
          (2, 'ftp://hooks.example/x', NULL, NULL, 1, NULL),
          (3, 'https://hooks.example/b', 'bogus', 's', 1, NULL),
          (4, 'https://hooks.example/c', NULL, NULL, 0, NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
}

fn import(data: &Path, old: &Path, extra: &[&str]) -> Output {
    waitctl()
        .arg("import-seed-db")
        .arg(old)
        .args(extra)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn ok_stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn target(data: &Path) -> Store {
    Store::open_sqlite(&data.join("wait.db")).await.unwrap()
}

async fn all_jobs(store: &Store) -> Vec<wait_store::Job> {
    let filter = JobFilter {
        limit: Some(100),
        ..JobFilter::default()
    };
    store.list_jobs(&filter).await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_database_is_imported_once_with_every_skip_explained() {
    let dir = tempfile::tempdir().unwrap();
    let (old, data) = (dir.path().join("OLD.db"), dir.path().join("data"));
    write_old_db(&old, &wait_store::hash_password(PASSWORD).await.unwrap()).await;

    let dry = ok_stdout(&import(&data, &old, &["--dry-run"]));
    assert!(dry.contains("dry run: nothing was written"), "{dry}");
    assert!(
        dry.contains("build_jobs: imported 7, already imported 0, skipped 1"),
        "{dry}"
    );
    let store = target(&data).await;
    assert!(
        all_jobs(&store).await.is_empty(),
        "a dry run writes nothing"
    );
    assert!(store.list_users().await.unwrap().is_empty());
    store.close().await;

    let first = ok_stdout(&import(&data, &old, &[]));
    assert_eq!(
        first,
        dry.replacen("dry run: nothing was written\n", "", 1),
        "dry run = real run"
    );
    for expected in [
        "users: imported 2, already imported 0, skipped 3",
        "duplicate username",
        "\"alice\": imported disabled, its password hash is pbkdf2",
        "build_jobs: imported 7, already imported 0, skipped 1",
        "no column for: progress, image_index",
        "unknown status \"Exploded\"",
        "was Queued in the original database",
        "job_logs: imported 3, already imported 0, skipped 2",
        "line(s) of job ghost, which is not in build_jobs",
        "webhooks: imported 2, already imported 0, skipped 2",
        "not an http(s) URL",
        "none of its events exists here",
    ] {
        assert!(
            first.contains(expected),
            "missing {expected:?} in:\n{first}"
        );
    }

    let second = ok_stdout(&import(&data, &old, &[]));
    assert!(
        second.contains("users: imported 0, already imported 2, skipped 3"),
        "{second}"
    );
    assert!(
        second.contains("build_jobs: imported 0, already imported 7, skipped 1"),
        "{second}"
    );
    assert!(
        second.contains("job_logs: imported 0, already imported 4, skipped 1"),
        "{second}"
    );
    assert!(
        second.contains("webhooks: imported 0, already imported 2, skipped 2"),
        "{second}"
    );

    let store = target(&data).await;
    let jobs = all_jobs(&store).await;
    assert_eq!(jobs.len(), 7, "nothing duplicated");
    let by_id = |id: &str| {
        jobs.iter()
            .find(|j| j.job_id == Uuid::parse_str(id).unwrap())
            .unwrap()
    };
    let done = by_id(DONE);
    assert_eq!(done.status, JobStatus::Completed);
    assert_eq!(done.progress, 100);
    assert_eq!(
        done.created_by.as_deref(),
        Some("admin"),
        "old user id resolved"
    );
    assert_eq!(done.request.langpacks, ["3_LangPacks/de-de.cab"]);
    assert_eq!(done.request.updates, ["kb1.msu", "kb2.msu"]);
    assert_eq!(done.request.image_index, "1");
    assert!(
        done.warnings
            .iter()
            .any(|w| w.contains("8_Output\\AABBCCE"))
    );
    let lines = store.logs_after(done.job_id, 0, true, 10).await.unwrap();
    let messages: Vec<&str> = lines.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        messages,
        ["Build started", "dism /Add-Driver ...", "Build finished"]
    );
    assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        by_id("1b4e28ba-2fa1-11d2-883f-0016d3cca427").status,
        JobStatus::Completed
    );
    assert_eq!(
        by_id("a0000000-0000-4000-8000-000000000004").status,
        JobStatus::Cancelled
    );
    assert_eq!(
        by_id("a0000000-0000-4000-8000-000000000005").status,
        JobStatus::Cancelled
    );
    let odd = by_id(NON_UTF8);
    assert_eq!(odd.status, JobStatus::FailedValidation);
    assert_eq!(odd.request.customer_name, "AAB\u{FFFD}C");
    assert!(odd.warnings.iter().any(|w| w.contains("not valid UTF-8")));
    assert!(
        odd.warnings
            .iter()
            .any(|w| w.contains("motherboard_model was empty"))
    );
    let numbered = jobs
        .iter()
        .find(|j| j.error.as_deref() == Some("DISM error 87"))
        .unwrap();
    assert_eq!(numbered.status, JobStatus::FailedBuild);
    assert_eq!(numbered.created_at.unix_timestamp(), 1_714_566_896);
    assert_eq!(numbered.created_by.as_deref(), Some("someone"));

    // argon2id hashes are kept (the old password works); others are disabled.
    let admin = store.verify_login("admin", PASSWORD).await.unwrap();
    assert_eq!(admin.map(|u| u.role), Some(Role::Admin));
    let accounts = store.list_accounts().await.unwrap();
    let alice = accounts
        .iter()
        .find(|a| a.user.username == "alice")
        .unwrap();
    assert!(alice.disabled, "a non-argon2id user needs a reset");
    assert_eq!(alice.user.role, Role::Builder);

    let hooks = store.list_webhooks().await.unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].created_by.as_deref(), Some("admin"));
    assert!(!hooks[1].active, "inactive stays inactive");
    store.close().await;
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("wait.db").display()))
        .await
        .unwrap();
    let secrets: Vec<String> = sqlx::query_scalar("SELECT secret FROM webhooks ORDER BY id")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(secrets[0], "keep-me", "a given secret is kept");
    assert_eq!(secrets[1].len(), 64, "a missing secret is generated");
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_the_original_database_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let missing = import(&data, &dir.path().join("nope.db"), &[]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.db: no such file"));

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let not_sqlite = import(&data, &text, &[]);
    assert!(!not_sqlite.status.success());
    let err = String::from_utf8_lossy(&not_sqlite.stderr);
    assert!(
        err.contains("notes.txt") && err.contains("not a SQLite database"),
        "{err}"
    );

    let other = dir.path().join("other.db");
    write_raw(
        &other,
        "CREATE TABLE things (id INTEGER); INSERT INTO things VALUES (1);",
    )
    .await;
    let unrelated = import(&data, &other, &[]);
    assert!(!unrelated.status.success());
    let err = String::from_utf8_lossy(&unrelated.stderr);
    assert!(
        err.contains("none of the tables users, build_jobs, job_logs, webhooks"),
        "{err}"
    );

    // Wrong column types and a job table without any id column: rows are read as text
    // or skipped, never a crash.
    let odd = dir.path().join("odd.db");
    write_raw(
        &odd,
        "CREATE TABLE users (id BLOB, username INTEGER, password_hash INTEGER);
         INSERT INTO users VALUES (X'00FF', 12345, 42);
         CREATE TABLE build_jobs (name TEXT);
         INSERT INTO build_jobs VALUES ('x');",
    )
    .await;
    let out = ok_stdout(&import(&data, &odd, &[]));
    assert!(
        out.contains("users: imported 1, already imported 0, skipped 0"),
        "{out}"
    );
    assert!(
        out.contains("build_jobs: imported 0, already imported 0, skipped 1"),
        "{out}"
    );
    assert!(out.contains("a job without a job_id"), "{out}");
    assert!(out.contains("job_logs: not in the old database"), "{out}");
    let store = target(&data).await;
    assert!(store.get_user("12345").await.unwrap().is_some());
    store.close().await;
}

async fn write_raw(path: &Path, sql: &str) {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    pool.close().await;
}
