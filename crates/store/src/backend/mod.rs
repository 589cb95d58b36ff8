//! The two databases behind one `Store`.
//!
//! Most SQL is the same on SQLite and PostgreSQL (both take `$1` placeholders, timestamps
//! are BIGINT milliseconds, JSON is TEXT), so the queue logic is written once. What
//! differs lives in the two submodules, which expose the same item names: the `Db` type,
//! `begin_write`, the claim statement, row locking, event publishing, `NOTIFY` and the
//! error-code tables. [`on_pool!`] expands a method body once per backend with `b`
//! naming the right submodule, so each copy is type-checked against its own driver
//! without a wall of generic bounds.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use crate::{Result, StoreError};

/// A connection pool to one of the supported databases.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Pool {
    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// Run `$body` with `$pool` bound to the concrete pool and `b` to the backend module
/// (`backend::sqlite` or `backend::postgres`). The body is duplicated at compile time,
/// not in the source.
macro_rules! on_pool {
    ($pool_enum:expr, |$pool:ident| $body:expr) => {
        match $pool_enum {
            $crate::backend::Pool::Sqlite($pool) => {
                #[allow(unused_imports)]
                use $crate::backend::sqlite as b;
                $body
            }
            $crate::backend::Pool::Postgres($pool) => {
                #[allow(unused_imports)]
                use $crate::backend::postgres as b;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// Open a pool for a `sqlite:` or `postgres:` URL and bring its schema up to date.
pub(crate) async fn connect_url(url: &str) -> Result<Pool> {
    if url.starts_with("sqlite:") {
        Ok(Pool::Sqlite(
            sqlite::connect(sqlite::url_options(url)?).await?,
        ))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Pool::Postgres(postgres::connect(url).await?))
    } else {
        Err(StoreError::Invalid {
            field: "database_url",
            message: "expected a sqlite:// or postgres:// URL".to_string(),
        })
    }
}

/// What a database error means for the store, decided by the driver's error code
/// (SQLSTATE on PostgreSQL, extended result code on SQLite), never by message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    UniqueViolation,
    ForeignKeyViolation,
    CheckViolation,
    NotNullViolation,
    /// Lost a race with another transaction (deadlock, serialization failure, busy):
    /// running the same transaction again is safe.
    Retryable,
    Other,
}

pub(crate) fn classify_error(e: &sqlx::Error) -> ErrorClass {
    let sqlx::Error::Database(db) = e else {
        return ErrorClass::Other;
    };
    let Some(code) = db.code() else {
        return ErrorClass::Other;
    };
    if db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        postgres::class_of_code(&code)
    } else {
        sqlite::class_of_code(&code)
    }
}

/// Statuses that mean "a worker holds or held a lease on this job", as an SQL list.
pub(crate) const RUNNING_SQL: &str =
    "('Processing_Build', 'Pending_Validation', 'Processing_Validation')";

/// The columns a claim sets; shared by both claim statements.
/// Binds: $1 worker, $2 lease expiry (ms), $3 now (ms).
pub(crate) const CLAIM_SET: &str = "
       status = CASE WHEN status IN ('Pending_Validation', 'Processing_Validation')
                     THEN 'Processing_Validation' ELSE 'Processing_Build' END,
       attempt = attempt + 1,
       lease_owner = $1,
       lease_expires_at = $2,
       started_at = COALESCE(started_at, $3),
       progress = CASE WHEN status IN ('Pending_Validation', 'Processing_Validation')
                       THEN progress ELSE 0 END";

/// The event payload, computed by the database from the job row aliased `t` (after the
/// change), so an event can be written inside the statement that makes the change.
/// `json_object` is the backend's JSON object constructor; `cast` turns its result into
/// text.
pub(crate) fn payload_sql(json_object: &str, cast: &str, t: &str) -> String {
    format!(
        "{json_object}('job_id', {t}.job_id, 'status', {t}.status, 'attempt', {t}.attempt,
                       'customer_name', {t}.customer_name,
                       'motherboard_model', {t}.motherboard_model,
                       'worker', {t}.lease_owner, 'error', {t}.error,
                       'output_dir', {t}.output_dir){cast}"
    )
}

/// Write the event of a job that just entered its current status, from its row.
/// Binds: $1 job id, $2 kind, $3 now (ms).
pub(crate) fn insert_event_sql(json_object: &str, cast: &str) -> String {
    format!(
        "INSERT INTO events (job_id, kind, payload, created_at)
         SELECT t.job_id, $2, {}, $3 FROM build_jobs t WHERE t.job_id = $1",
        payload_sql(json_object, cast, "t")
    )
}

/// The INSERT of a new job; `{seq}` is the backend's next FIFO number.
/// Binds: $1 job id, $2..$16 the request and creator, $17 now (ms), $18 options (JSON).
pub(crate) fn insert_job_sql(next_seq: &str) -> String {
    format!(
        "INSERT INTO build_jobs (
            job_id, seq, status, motherboard_model, base_image, customer_name,
            image_index, driver_set, langpacks, updates, software, answer_file,
            product_key, key_variants, create_iso, compression, log_level,
            created_by, created_at, run_after, options)
         VALUES ($1, {next_seq}, 'Queued', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                 $12, $13, $14, $15, $16, $17, $17, $18)
         RETURNING *"
    )
}
