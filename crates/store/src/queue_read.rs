//! Reading the queue (queued and running jobs) cheaply: each row comes back as one JSON
//! text built by the database, not as ~36 separate column values.
//!
//! Why: the SQLite driver copies every column value of every row it hands over
//! (`sqlite3_value_dup`, two allocations each, under SQLite's global allocator mutex);
//! for the ~50 rows of a busy queue that was ~3,600 allocations per `GET /api/queue`
//! and most of its time, with the pool's threads queueing on that mutex. One value per
//! row makes it ~50. The JSON decodes into the same `rows::JobRow` as a plain row does;
//! `tests/conformance` compares the two reads on both backends.

use crate::rows::JobRow;
use crate::{Job, Result, StoreError};

/// The statuses of `build_jobs_active_idx` (0002 migration), spelled exactly as there so
/// both databases read the queue from that partial index, which holds only these rows.
pub(crate) const ACTIVE_SQL: &str =
    "('Queued', 'Processing_Build', 'Pending_Validation', 'Processing_Validation')";

/// The queue in run order: running first (oldest start first), then queued by priority
/// and FIFO. `json_object` / `cast` are the backend's JSON constructor and text cast.
pub(crate) fn queue_sql(json_object: &str, cast: &str) -> String {
    let pairs = COLUMNS
        .iter()
        .map(|c| format!("'{c}', {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {json_object}({pairs}){cast} FROM build_jobs
          WHERE status IN {ACTIVE_SQL}
          ORDER BY CASE WHEN status = 'Queued' THEN 1 ELSE 0 END,
                   CASE WHEN status = 'Queued' THEN NULL ELSE started_at END,
                   priority DESC, seq ASC"
    )
}

/// The columns a `Job` is made of (68 arguments: under PostgreSQL's limit of 100).
const COLUMNS: [&str; 34] = [
    "job_id",
    "status",
    "progress",
    "stage",
    "motherboard_model",
    "base_image",
    "customer_name",
    "image_index",
    "driver_set",
    "langpacks",
    "updates",
    "software",
    "answer_file",
    "product_key",
    "key_variants",
    "create_iso",
    "compression",
    "log_level",
    "options",
    "created_by",
    "created_at",
    "started_at",
    "finished_at",
    "attempt",
    "max_attempts",
    "lease_owner",
    "lease_expires_at",
    "cancel_requested",
    "priority",
    "error",
    "warnings",
    "output_dir",
    "output_files",
    "resources",
];

/// A job from one row's JSON text (see `queue_sql`).
pub(crate) fn job_from_json(text: &str) -> Result<Job> {
    let row: JobRow = serde_json::from_str(text).map_err(|e| StoreError::Invalid {
        field: "build_jobs",
        message: format!("queue row is not the expected JSON: {e}"),
    })?;
    Job::try_from(row)
}
