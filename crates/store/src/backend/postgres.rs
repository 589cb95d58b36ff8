//! PostgreSQL: many workers on many hosts share one queue. Rows are locked one at a time
//! (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED` for the claim) instead of locking the whole
//! database, and `NOTIFY wait_jobs` wakes idle workers.

use std::sync::LazyLock;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::ErrorClass;
use crate::{Result, Stages, StoreError};

pub(crate) type Db = sqlx::Postgres;
pub(crate) type Pool = sqlx::Pool<Db>;
pub(crate) type Tx = sqlx::Transaction<'static, Db>;

/// Enough for a worker with several job slots plus the API and the wake-up listener.
const MAX_CONNECTIONS: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The channel job creation and re-queueing notify, and idle workers listen on.
pub(crate) const WAKE_CHANNEL: &str = "wait_jobs";

/// Key of the transaction-level advisory lock that serialises event publishing.
const PUBLISH_LOCK_KEY: i64 = 0x5741_4954_4556; // "WAITEV"

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Open the pool and bring the schema up to date.
pub(crate) async fn connect(url: &str) -> Result<Pool> {
    let options: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| StoreError::Invalid {
        field: "database_url",
        message: e.to_string(),
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?;
    crate::schema::migrate(&MIGRATOR, &pool).await?;
    Ok(pool)
}

/// READ COMMITTED; statements lock the rows they change, `FOR_UPDATE` locks rows read
/// before being changed.
pub(crate) async fn begin_write(pool: &Pool) -> Result<Tx> {
    Ok(pool.begin().await?)
}

/// Appended to a `SELECT` whose row is updated later in the same transaction, so a
/// concurrent claim or transition waits instead of interleaving.
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";

/// The next FIFO number for a new job, from a sequence (no read of the table, so
/// concurrent inserts never collide).
pub(crate) const NEXT_JOB_SEQ: &str = "nextval('build_jobs_seq')";

fn payload(t: &str) -> String {
    super::payload_sql("json_build_object", "::text", t)
}

/// Write the event of the job that just changed (see `super::insert_event_sql`).
pub(crate) fn insert_event_sql() -> &'static str {
    static SQL: LazyLock<String> =
        LazyLock::new(|| super::insert_event_sql("json_build_object", "::text"));
    &SQL
}

/// The queue, one JSON text per job (see `crate::queue_read`).
pub(crate) fn queue_sql() -> &'static str {
    static SQL: LazyLock<String> =
        LazyLock::new(|| crate::queue_read::queue_sql("json_build_object", "::text"));
    &SQL
}

/// Insert a job, its `job.queued` event and the wake-up notification in ONE statement
/// (data-modifying CTEs), so creating a job costs one round trip.
pub(crate) fn create_job_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH j AS ({insert}),
                  e AS (INSERT INTO events (job_id, kind, payload, created_at)
                        SELECT j.job_id, 'job.queued', {payload}, $17 FROM j),
                  n AS (SELECT pg_notify('{WAKE_CHANNEL}', ''))
             SELECT j.* FROM j, n",
            insert = super::insert_job_sql(NEXT_JOB_SEQ),
            payload = payload("j"),
        )
    });
    &SQL
}

/// Write a job's mutable columns and, when $16 (the event kind) is not NULL, its event,
/// in one statement. Binds: see `queue::WRITE_JOB_SQL`, then $16 kind, $17 now (ms).
pub(crate) fn write_job_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH w AS ({write}),
                  e AS (INSERT INTO events (job_id, kind, payload, created_at)
                        SELECT w.job_id, $16, {payload}, $17 FROM w
                         WHERE $16::text IS NOT NULL)
             SELECT * FROM w",
            write = crate::queue::WRITE_JOB_SQL,
            payload = payload("w"),
        )
    });
    &SQL
}

/// Whether `create_job_sql`, `write_job_sql` and `claim` write the event themselves.
pub(crate) const STATEMENTS_WRITE_EVENTS: bool = true;

/// Claim the best runnable job in ONE statement, its `job.started` event included.
/// `SKIP LOCKED` lets concurrent claimers pass over a row another claimer is taking
/// instead of queueing behind it. Binds: see `CLAIM_SET`.
fn claim_sql(stages: Stages) -> &'static str {
    static SQL: LazyLock<[String; 3]> = LazyLock::new(|| {
        Stages::ALL_VARIANTS.map(|s| {
            format!(
                "WITH next AS (
                     SELECT job_id FROM build_jobs
                      WHERE {cond}
                      ORDER BY priority DESC, seq ASC
                      LIMIT 1
                      FOR UPDATE SKIP LOCKED),
                 claimed AS (
                     UPDATE build_jobs SET {set}
                       FROM next
                      WHERE build_jobs.job_id = next.job_id
                     RETURNING build_jobs.*),
                 event AS (
                     INSERT INTO events (job_id, kind, payload, created_at)
                     SELECT c.job_id, 'job.started', {payload}, $3 FROM claimed c)
                 SELECT * FROM claimed",
                set = super::CLAIM_SET,
                cond = crate::queue::claimable(s),
                payload = payload("c"),
            )
        })
    });
    &SQL[stages.index()]
}

/// Claim one job for `stages`. A single statement is atomic on its own, so no explicit
/// transaction (and no BEGIN/COMMIT round trips) is needed.
pub(crate) async fn claim(
    pool: &Pool,
    stages: Stages,
    worker: &str,
    lease_until: i64,
    now: i64,
) -> Result<Option<crate::rows::JobRow>> {
    Ok(sqlx::query_as(claim_sql(stages))
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(pool)
        .await?)
}

/// Give committed events their delivery position. Event ids come from a sequence and
/// transactions commit in any order, so an id cursor could skip an event that commits
/// late. Instead, under one lock, every committed event without a position gets the
/// next positions in id order: a reader that saw position N has seen every position
/// below N, forever.
pub(crate) async fn publish_events(tx: &mut Tx) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PUBLISH_LOCK_KEY)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "WITH ready AS (
              SELECT id, row_number() OVER (ORDER BY id) AS n
                FROM events WHERE seq IS NULL),
              top AS (SELECT COALESCE(MAX(seq), 0) AS m FROM events)
         UPDATE events SET seq = top.m + ready.n
           FROM ready, top
          WHERE events.id = ready.id",
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Wake idle workers everywhere once this transaction commits (PostgreSQL delivers
/// notifications only on commit, and drops them on rollback).
pub(crate) async fn notify_work(tx: &mut Tx) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WAKE_CHANNEL)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// SQLSTATE codes.
pub(crate) fn class_of_code(code: &str) -> ErrorClass {
    match code {
        "23505" => ErrorClass::UniqueViolation,
        "23503" => ErrorClass::ForeignKeyViolation,
        "23514" => ErrorClass::CheckViolation,
        "23502" => ErrorClass::NotNullViolation,
        // serialization_failure, deadlock_detected, lock_not_available
        "40001" | "40P01" | "55P03" => ErrorClass::Retryable,
        _ => ErrorClass::Other,
    }
}

/// Serialise log appends of one job until the transaction ends, so the `MAX(seq) + 1`
/// of concurrent appends never collides (a collision would only cost a retry, but under
/// heavy logging retries pile up).
pub(crate) async fn lock_job_log(tx: &mut Tx, job_id: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
