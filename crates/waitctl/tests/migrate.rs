//! `waitctl migrate [--dry-run]` as a real process: what it prints, what it changes, and
//! the refusal (exit 2) of a database migrated by a newer WAIT — on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Output;

use support::{PgSchema, waitctl};

fn migrate(data: &Path, db: Option<&str>, extra: &[&str]) -> Output {
    let mut c = waitctl();
    c.arg("migrate").args(extra).arg("--data-dir").arg(data);
    if let Some(url) = db {
        c.args(["--database-url", url]);
    }
    c.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn migration_files() -> usize {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../store/migrations/sqlite");
    std::fs::read_dir(dir).unwrap().count()
}

fn latest() -> i64 {
    wait_store::Store::known_migrations()
        .last()
        .unwrap()
        .version
}

/// The schema version the database is at, read without migrating it.
async fn version(data: &Path, db: Option<&str>) -> i64 {
    let store = match db {
        Some(url) => wait_store::Store::open_url_unmigrated(url).await.unwrap(),
        None => {
            let url = format!("sqlite://{}", data.join("wait.db").display());
            wait_store::Store::open_url_unmigrated(&url).await.unwrap()
        }
    };
    let status = store.schema_status().await.unwrap();
    store.close().await;
    status.current
}

async fn dry_run_then_migrate_then_nothing(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let n = migration_files();

    let dry = migrate(&data, db, &["--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        stdout(&dry).contains(&format!("would apply {n} migration(s)")),
        "{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("0001 initial"));
    if db.is_none() {
        assert!(
            !data.join("wait.db").exists(),
            "a dry run creates no database"
        );
    } else {
        assert_eq!(version(&data, db).await, 0, "a dry run applies nothing");
    }

    let real = migrate(&data, db, &[]);
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    let text = stdout(&real);
    assert!(text.contains("schema version before: 0"), "{text}");
    assert!(
        text.contains(&format!("applied {n} migration(s)")),
        "{text}"
    );
    assert!(text.contains("seed import"), "{text}");
    assert_eq!(version(&data, db).await, latest());

    let again = migrate(&data, db, &[]);
    assert!(again.status.success());
    assert!(
        stdout(&again).contains("up to date: nothing to apply"),
        "{}",
        stdout(&again)
    );
    let dry = migrate(&data, db, &["--dry-run"]);
    assert!(stdout(&dry).contains("up to date"), "{}", stdout(&dry));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_pending_migrations_once_on_sqlite() {
    dry_run_then_migrate_then_nothing(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_pending_migrations_once_on_postgres() {
    let Some(schema) =
        PgSchema::create("migrate_applies_pending_migrations_once_on_postgres").await
    else {
        return;
    };
    dry_run_then_migrate_then_nothing(Some(&schema.url)).await;
    schema.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused_with_exit_code_2_and_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(migrate(&data, None, &[]).status.success());
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("wait.db").display()))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from a newer WAIT', TRUE, X'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    for extra in [&[][..], &["--dry-run"][..]] {
        let out = migrate(&data, None, extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("version 9999"), "{err}");
        assert!(
            err.contains(&format!("up to version {}", latest())),
            "{err}"
        );
    }
}
