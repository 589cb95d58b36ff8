//! Everything that is specific to SQLite lives here: connection options, the migrator,
//! how a write transaction starts, and the queue statements whose shape depends on the
//! database's locking model. A PostgreSQL backend gets a sibling module with the same
//! items (`FOR UPDATE SKIP LOCKED` instead of `BEGIN IMMEDIATE`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{Result, StoreError};

/// The database type the store talks to.
pub(crate) type Db = sqlx::Sqlite;
pub(crate) type Pool = sqlx::Pool<Db>;
pub(crate) type Tx = sqlx::Transaction<'static, Db>;

/// How long a statement waits for another writer before giving up with "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Options for a database file: created if missing, WAL, foreign keys, busy timeout.
pub(crate) fn file_options(path: &std::path::Path) -> SqliteConnectOptions {
    tune(SqliteConnectOptions::new().filename(path))
}

/// Options from a `sqlite:` URL; anything else is refused.
pub(crate) fn url_options(url: &str) -> Result<SqliteConnectOptions> {
    if !(url.starts_with("sqlite:")) {
        return Err(StoreError::Invalid {
            field: "database_url",
            message: "only sqlite: URLs are supported".to_string(),
        });
    }
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
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Start a transaction that holds the write lock from its first statement, so a
/// read-then-write inside it cannot interleave with another writer.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Statuses that mean "a worker holds a lease on this job", as an SQL list.
pub(crate) const RUNNING_SQL: &str =
    "('Processing_Build', 'Pending_Validation', 'Processing_Validation')";

/// Claim the next runnable job in one statement. The subquery picks either a queued job
/// whose `run_after` has passed or a running job whose lease expired; priority first,
/// then FIFO by `seq`. Runs inside `begin_write`, so two claimers never pick the same row.
///
/// Binds: $1 worker, $2 lease expiry (ms), $3 now (ms).
pub(crate) const CLAIM_SQL: &str = "
UPDATE build_jobs
   SET status = 'Processing_Build',
       attempt = attempt + 1,
       lease_owner = $1,
       lease_expires_at = $2,
       started_at = COALESCE(started_at, $3),
       progress = 0
 WHERE job_id = (
        SELECT job_id FROM build_jobs
         WHERE (status = 'Queued' AND run_after <= $3)
            OR (status IN ('Processing_Build', 'Pending_Validation', 'Processing_Validation')
                AND lease_expires_at < $3
                AND attempt < max_attempts
                AND cancel_requested = FALSE)
         ORDER BY priority DESC, seq ASC
         LIMIT 1)
RETURNING *";

/// Before claiming: jobs whose lease expired and that have used all their attempts fail.
/// Binds: $1 now (ms).
pub(crate) const FAIL_EXHAUSTED_SQL: &str = "
UPDATE build_jobs
   SET status = 'Failed_Build',
       error = 'lease expired too many times (' || attempt || ' of ' || max_attempts
               || ' attempts used); the worker running it stopped responding',
       finished_at = $1,
       lease_owner = NULL,
       lease_expires_at = NULL
 WHERE status IN ('Processing_Build', 'Pending_Validation', 'Processing_Validation')
   AND lease_expires_at < $1
   AND attempt >= max_attempts";

/// Before claiming: a job whose cancellation was requested and whose worker died is
/// cancelled rather than run again. Binds: $1 now (ms).
pub(crate) const CANCEL_ABANDONED_SQL: &str = "
UPDATE build_jobs
   SET status = 'Cancelled',
       finished_at = $1,
       lease_owner = NULL,
       lease_expires_at = NULL
 WHERE status IN ('Processing_Build', 'Pending_Validation', 'Processing_Validation')
   AND lease_expires_at < $1
   AND cancel_requested = TRUE";
