//! SQLite: one file in WAL mode. Writers are serialised by the database itself, so a
//! write transaction takes the lock up front (`BEGIN IMMEDIATE`) and the claim is a plain
//! `UPDATE … WHERE job_id = (SELECT … LIMIT 1)`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::ErrorClass;
use crate::{Result, Stages, StoreError};

pub(crate) type Db = sqlx::Sqlite;
pub(crate) type Pool = sqlx::Pool<Db>;

/// How long a statement waits for another writer before giving up with "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Options for a database file: created if missing, WAL, foreign keys, busy timeout.
pub(crate) fn file_options(path: &std::path::Path) -> SqliteConnectOptions {
    tune(SqliteConnectOptions::new().filename(path))
}

/// Options from a `sqlite:` URL.
pub(crate) fn url_options(url: &str) -> Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url).map_err(|e| StoreError::Invalid {
        field: "database_url",
        message: e.to_string(),
    })?;
    Ok(tune(options))
}

fn tune(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
}

/// Open the pool and bring the schema up to date.
pub(crate) async fn connect(options: SqliteConnectOptions) -> Result<Pool> {
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await?;
    crate::schema::migrate(&MIGRATOR, &pool).await?;
    Ok(pool)
}

/// Writers of one database file take turns here, first come first served, before
/// `BEGIN IMMEDIATE`. Without it, every writer but one spins in SQLite's busy handler,
/// which sleeps 1, 2, 5 … 100 ms between tries and lets a newcomer overtake a writer
/// that has waited long: under load that made write latency both high and erratic.
/// Keyed by file name, so every pool of one file in this process shares the turn;
/// other processes still meet SQLite's own lock (and its busy timeout).
static WRITE_TURNS: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn write_turn(pool: &Pool) -> Arc<tokio::sync::Mutex<()>> {
    let file = pool.connect_options().get_filename().to_path_buf();
    let mut turns = WRITE_TURNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    turns.entry(file).or_default().clone()
}

/// A write transaction that holds this process's write turn until it ends.
pub(crate) struct Tx {
    // Declared first so the transaction is dropped (rolled back) before the turn is
    // handed on.
    inner: sqlx::Transaction<'static, Db>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub(crate) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    #[allow(dead_code)]
    pub(crate) async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

/// Start a transaction that holds the write lock from its first statement, so a
/// read-then-write inside it cannot interleave with another writer. Waits for this
/// process's write turn first (see `WRITE_TURNS`); should the turn not come within
/// the busy timeout (a writer stuck, or one nested inside another), it goes ahead
/// without it and SQLite's own locking decides, as it always did.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx> {
    let turn = tokio::time::timeout(BUSY_TIMEOUT, write_turn(pool).lock_owned())
        .await
        .ok();
    let inner = pool.begin_with("BEGIN IMMEDIATE").await?;
    Ok(Tx { inner, _turn: turn })
}

/// Appended to a `SELECT` that is followed by an update of the same row. Nothing here:
/// `BEGIN IMMEDIATE` already excludes every other writer.
pub(crate) const FOR_UPDATE: &str = "";

/// The next FIFO number for a new job. Computed inside the INSERT, which runs under the
/// write lock; the UNIQUE constraint on `seq` turns any surprise into a retry.
pub(crate) const NEXT_JOB_SEQ: &str = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM build_jobs)";

/// Claim the best runnable job in one statement (binds: see `CLAIM_SET`). Runs inside
/// `begin_write`, so two claimers never pick the same row.
fn claim_sql(stages: Stages) -> &'static str {
    static SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
        Stages::ALL_VARIANTS.map(|s| {
            format!(
                "UPDATE build_jobs SET {set}
                  WHERE job_id = (
                        SELECT job_id FROM build_jobs
                         WHERE {cond}
                         ORDER BY priority DESC, seq ASC
                         LIMIT 1)
                 RETURNING *",
                set = super::CLAIM_SET,
                cond = crate::queue::claimable(s),
            )
        })
    });
    &SQL[stages.index()]
}

/// Write the event of the job that just changed (see `super::insert_event_sql`).
pub(crate) fn insert_event_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| super::insert_event_sql("json_object", ""));
    &SQL
}

/// The queue, one JSON text per job (see `crate::queue_read`).
pub(crate) fn queue_sql() -> &'static str {
    static SQL: LazyLock<String> =
        LazyLock::new(|| crate::queue_read::queue_sql("json_object", ""));
    &SQL
}

/// Insert a job; its event is written by the caller in the same transaction.
pub(crate) fn create_job_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| super::insert_job_sql(NEXT_JOB_SEQ));
    &SQL
}

/// Write a job's mutable columns; the caller writes the event.
pub(crate) fn write_job_sql() -> &'static str {
    crate::queue::WRITE_JOB_SQL
}

/// Whether `create_job_sql`, `write_job_sql` and `claim` write the event themselves.
pub(crate) const STATEMENTS_WRITE_EVENTS: bool = false;

/// Claim one job for `stages` and write its `job.started` event, in one write
/// transaction. Binds of the claim statement: see `CLAIM_SET`.
pub(crate) async fn claim(
    pool: &Pool,
    stages: Stages,
    worker: &str,
    lease_until: i64,
    now: i64,
) -> Result<Option<crate::rows::JobRow>> {
    let mut tx = begin_write(pool).await?;
    let row: Option<crate::rows::JobRow> = sqlx::query_as(claim_sql(stages))
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(row) = &row {
        sqlx::query(insert_event_sql())
            .bind(row.job_id())
            .bind(crate::EventKind::Started.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Give committed events their delivery position. Writers commit one at a time, so
/// AUTOINCREMENT ids are already in commit order and can serve as the position.
pub(crate) async fn publish_events(tx: &mut Tx) -> Result<()> {
    sqlx::query("UPDATE events SET seq = id WHERE seq IS NULL")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Wake waiting workers in other processes: nothing to do on SQLite, whose workers poll.
pub(crate) async fn notify_work(_tx: &mut Tx) -> Result<()> {
    Ok(())
}

/// Extended result codes (the driver reports `sqlite3_extended_errcode`).
pub(crate) fn class_of_code(code: &str) -> ErrorClass {
    match code {
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
        "2067" | "1555" => ErrorClass::UniqueViolation,
        // SQLITE_CONSTRAINT_FOREIGNKEY
        "787" => ErrorClass::ForeignKeyViolation,
        // SQLITE_CONSTRAINT_CHECK
        "275" => ErrorClass::CheckViolation,
        // SQLITE_CONSTRAINT_NOTNULL
        "1299" => ErrorClass::NotNullViolation,
        // SQLITE_BUSY, SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED
        "5" | "261" | "517" | "6" => ErrorClass::Retryable,
        _ => ErrorClass::Other,
    }
}

/// Nothing to lock: the INSERT that computes the next log seq runs under SQLite's single
/// write lock.
pub(crate) async fn lock_job_log(_tx: &mut Tx, _job_id: &str) -> Result<()> {
    Ok(())
}
