//! Database layer: migrations, jobs and queue, logs, users, sessions, webhooks.
//!
//! API CONTRACT (skeleton: signatures are fixed, bodies to be written). The pipeline
//! (workers) and the server both use exactly these types and methods. Helpers may ADD
//! methods and fields; they must not rename or remove these.
//!
//! Storage conventions: timestamps are Unix milliseconds, lists are JSON text, job ids are
//! UUID text. Two backends, SQLite and PostgreSQL, behind the same API; the SQL that
//! differs between them is kept in the `backend` module.

mod backend;
mod catalog;
mod clock;
mod events;
mod import;
mod jobs;
mod logs;
mod maintenance;
mod mask;
mod queue;
mod queue_read;
mod rows;
mod schema;
mod search;
mod stats;
mod tokens;
mod users;
mod wake;
mod webhooks;
mod workers;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub use catalog::{Customer, Motherboard};
pub use events::{Event, EventKind, MAX_EVENT_PAGE};
pub use import::{ImportSummary, SEED_TABLES, TableSummary};
pub use jobs::{COMPRESSIONS, DEFAULT_LIST_LIMIT, KEY_VARIANTS, MAX_LIST_LIMIT, retry_backoff};
pub use logs::MAX_LOG_PAGE;
pub use maintenance::{BackupInfo, MigrationInfo, MigrationReport, SchemaStatus, check_backup};
pub use mask::mask_product_key;
pub use queue::Stages;
pub use search::JobSearch;
pub use stats::{BUILD_DURATION_BOUNDS_SECS, DurationHistogram, StoreStats, WebhookAttemptCounts};
pub use tokens::{ApiToken, MAX_TOKEN_NAME_LEN, TOKEN_PREFIX};
pub use users::{MAX_USERNAME_LEN, UserAccount, UserChanges, hash_password};
pub use webhooks::{
    AttemptResult, ClaimedDelivery, DeliveryEvent, DeliveryRetry, DeliveryState, MAX_DELIVERY_PAGE,
    MAX_WEBHOOK_SECRET_LEN, MAX_WEBHOOK_URL_LEN, NewWebhook, Webhook, WebhookChanges,
    WebhookDelivery, WebhookFormat, WebhookSecret,
};
pub use workers::WorkerInfo;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{what} not found")]
    NotFound { what: String },
    /// The row exists but is not in a state that allows the change (e.g. cancel a finished job).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Fencing: the caller's attempt no longer owns the job.
    #[error("job {job_id} lease lost (attempt {attempt} no longer current)")]
    LeaseLost { job_id: Uuid, attempt: i64 },
    #[error("invalid value for {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database was migrated by a newer WAIT than this one; it is left untouched.
    #[error(
        "database schema version {found} is newer than this program supports \
         (up to {supported}); upgrade WAIT before using this database"
    )]
    SchemaTooNew { found: i64, supported: i64 },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Job states, exactly the seed's plus `Cancelled`. "Verified" parses as `Completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    Queued,
    #[serde(rename = "Processing_Build")]
    ProcessingBuild,
    #[serde(rename = "Pending_Validation")]
    PendingValidation,
    #[serde(rename = "Processing_Validation")]
    ProcessingValidation,
    Completed,
    #[serde(rename = "Failed_Build")]
    FailedBuild,
    #[serde(rename = "Failed_Validation")]
    FailedValidation,
    Cancelled,
}

impl JobStatus {
    /// Every state, in the order of the normal flow, then the failure states.
    pub const ALL: [JobStatus; 8] = [
        JobStatus::Queued,
        JobStatus::ProcessingBuild,
        JobStatus::PendingValidation,
        JobStatus::ProcessingValidation,
        JobStatus::Completed,
        JobStatus::FailedBuild,
        JobStatus::FailedValidation,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "Queued",
            JobStatus::ProcessingBuild => "Processing_Build",
            JobStatus::PendingValidation => "Pending_Validation",
            JobStatus::ProcessingValidation => "Processing_Validation",
            JobStatus::Completed => "Completed",
            JobStatus::FailedBuild => "Failed_Build",
            JobStatus::FailedValidation => "Failed_Validation",
            JobStatus::Cancelled => "Cancelled",
        }
    }

    /// Accepts the legacy alias "Verified" (= Completed).
    pub fn parse(s: &str) -> Option<Self> {
        if s == "Verified" {
            return Some(JobStatus::Completed);
        }
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed
                | JobStatus::FailedBuild
                | JobStatus::FailedValidation
                | JobStatus::Cancelled
        )
    }

    /// A worker holds the job (it has a lease): Processing_Build, Pending_Validation or
    /// Processing_Validation.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            JobStatus::ProcessingBuild
                | JobStatus::PendingValidation
                | JobStatus::ProcessingValidation
        )
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Normal => "normal",
            LogLevel::Verbose => "verbose",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "normal" => Some(LogLevel::Normal),
            "verbose" => Some(LogLevel::Verbose),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Builder,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Builder => "builder",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Role::Viewer),
            "builder" => Some(Role::Builder),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One recorded input of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub kind: String,
    /// Path relative to the repository root, '/'-separated.
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// What a client asked for; validated by the server before it reaches the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRequest {
    pub motherboard_model: String,
    pub base_image: String,
    pub customer_name: String,
    /// A number ("1") or an edition name.
    pub image_index: String,
    pub driver_set: Option<String>,
    pub langpacks: Vec<String>,
    pub updates: Vec<String>,
    pub software: Vec<String>,
    pub answer_file: Option<String>,
    /// Stored as given; never logged unmasked.
    pub product_key: Option<String>,
    /// "key", "nokey" or "both".
    pub key_variants: String,
    pub create_iso: bool,
    /// "lzx", "xpress", "lzms", "esd" (solid LZMS, written as `.esd`) or "none".
    pub compression: String,
    pub log_level: LogLevel,
    /// Options added after the first release; flattened into the job's JSON.
    #[serde(flatten, default)]
    pub options: JobOptions,
}

/// Request options kept together in one JSON column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobOptions {
    /// File stem of the output image (`<image_name>.wim`, `.esd` for ESD output); None =
    /// `install`.
    pub image_name: Option<String>,
    /// Rewrite WinRE with the job's compression instead of only reporting it.
    pub recompress_winre: bool,
    /// Compress the output image's data again even where the base image already holds
    /// it in the requested format (slower; can give a smaller file).
    pub recompress: bool,
    /// Silent switches per `.exe` in `software` (file name → switches); they take the
    /// place of the file's `.switches` sidecar in the repository.
    pub software_switches: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub job_id: Uuid,
    pub status: JobStatus,
    pub progress: u8,
    pub stage: Option<String>,
    #[serde(flatten)]
    pub request: JobRequest,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub attempt: i64,
    pub max_attempts: i64,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// `<customer>/<folder>` relative to `8_Output/`.
    pub output_dir: Option<String>,
    pub output_files: Vec<String>,
    pub resources: Vec<Resource>,
    pub cancel_requested: bool,
    pub lease_owner: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub lease_expires_at: Option<OffsetDateTime>,
    pub priority: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub job_id: Uuid,
    /// Per-job sequence, 1, 2, 3, … without gaps.
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub ts: OffsetDateTime,
    pub level: LogLevel,
    pub stage: Option<String>,
    pub message: String,
}

/// Result of a cancel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job was queued and is now Cancelled.
    Cancelled,
    /// The job is running; the worker was asked to stop.
    Requested,
}

/// Fields a worker sets when it moves a job to its next state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobUpdate {
    pub stage: Option<String>,
    pub progress: Option<u8>,
    pub error: Option<String>,
    pub output_dir: Option<String>,
    pub output_files: Option<Vec<String>>,
    pub resources: Option<Vec<Resource>>,
    /// Appended to the job's warnings.
    pub add_warnings: Vec<String>,
}

/// Filters for listing jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    pub customer_name: Option<String>,
    pub motherboard_model: Option<String>,
    pub created_by: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The database. Cheap to clone (a pool inside).
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: backend::Pool,
    wake: wake::Wake,
    /// When this store last swept dead jobs (ms), see `queue::SWEEP_EVERY_MS`.
    last_sweep_ms: AtomicI64,
}

impl Inner {
    /// Whether a sweep is due at `now`; claims the slot when it is, so concurrent
    /// claimers of one store do not all sweep at once.
    fn sweep_due(&self, now: i64, every_ms: i64) -> bool {
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= every_ms
            && self
                .last_sweep_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

impl Store {
    /// Open (creating if needed) a SQLite database file in WAL mode and run migrations.
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        let pool = backend::sqlite::connect(backend::sqlite::file_options(path)).await?;
        Ok(Store::from_pool(backend::Pool::Sqlite(pool)))
    }

    /// `sqlite://…` or `postgres://…` (also `postgresql://…`); other schemes give
    /// `Invalid`. Runs migrations; a schema newer than this binary gives `SchemaTooNew`.
    pub async fn open_url(url: &str) -> Result<Self> {
        let pool = backend::connect_url(url).await?;
        Ok(Store::from_pool(pool))
    }

    fn from_pool(pool: backend::Pool) -> Self {
        // Compute the dummy password hash now, so the first login of an unknown user
        // costs the same as any other login.
        users::warm_up();
        Store {
            inner: Arc::new(Inner {
                pool,
                wake: wake::Wake::default(),
                last_sweep_ms: AtomicI64::new(0),
            }),
        }
    }

    pub(crate) fn pool(&self) -> &backend::Pool {
        &self.inner.pool
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        match self.pool() {
            backend::Pool::Sqlite(_) => "sqlite",
            backend::Pool::Postgres(_) => "postgres",
        }
    }

    /// Cheap liveness check (SELECT 1).
    pub async fn ping(&self) -> Result<()> {
        backend::on_pool!(self.pool(), |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Close the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.inner.wake.stop();
        self.inner.pool.close().await;
    }
}

/// Map constraint violations to store errors; everything else stays a database error.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    use backend::ErrorClass;
    match backend::classify_error(&e) {
        ErrorClass::UniqueViolation => StoreError::Conflict("already exists".to_string()),
        ErrorClass::ForeignKeyViolation => StoreError::NotFound {
            what: "referenced row".to_string(),
        },
        ErrorClass::CheckViolation | ErrorClass::NotNullViolation => StoreError::Invalid {
            field: "value",
            message: "refused by a database constraint".to_string(),
        },
        ErrorClass::Retryable | ErrorClass::Other => StoreError::Database(e),
    }
}
