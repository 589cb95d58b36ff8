//! Database rows and their conversion into the public types. Rows hold only plain
//! column types so the same structs decode from SQLite and PostgreSQL.

use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::clock::{from_ms, opt_from_ms};
use crate::{Job, JobRequest, JobStatus, LogLevel, LogLine, Result, Role, StoreError, User};

/// Decodes from a row, or from the row's JSON object (`queue_read`), where booleans
/// arrive as `true`/`false` from PostgreSQL and as 0/1 from SQLite.
#[derive(Debug, sqlx::FromRow, serde::Deserialize)]
pub(crate) struct JobRow {
    job_id: String,
    status: String,
    progress: i64,
    stage: Option<String>,
    motherboard_model: String,
    base_image: String,
    customer_name: String,
    image_index: String,
    driver_set: Option<String>,
    langpacks: String,
    updates: String,
    software: String,
    answer_file: Option<String>,
    product_key: Option<String>,
    key_variants: String,
    #[serde(deserialize_with = "flag")]
    create_iso: bool,
    compression: String,
    log_level: String,
    options: String,
    created_by: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    attempt: i64,
    max_attempts: i64,
    /// Claims that ended without failing; see the 0002 migration. Not in the queue's
    /// JSON: only the claim reads it.
    #[serde(default)]
    pub(crate) handoffs: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
    #[serde(deserialize_with = "flag")]
    cancel_requested: bool,
    priority: i64,
    error: Option<String>,
    warnings: String,
    output_dir: Option<String>,
    output_files: String,
    resources: String,
}

impl JobRow {
    pub(crate) fn job_id(&self) -> &str {
        &self.job_id
    }
}

fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match <Flag as serde::Deserialize>::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(i) => i != 0,
    })
}

pub(crate) fn parse_uuid(field: &'static str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Invalid {
        field,
        message: format!("{s:?} is not a UUID: {e}"),
    })
}

fn json_list<T: DeserializeOwned>(field: &'static str, s: &str) -> Result<Vec<T>> {
    serde_json::from_str(s).map_err(|e| StoreError::Invalid {
        field,
        message: format!("stored JSON is not a list of the expected shape: {e}"),
    })
}

/// Serialise a list for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize>(field: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid {
        field,
        message: e.to_string(),
    })
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> Result<Job> {
        let status = JobStatus::parse(&r.status).ok_or_else(|| StoreError::Invalid {
            field: "status",
            message: format!("unknown job status {:?}", r.status),
        })?;
        let log_level = LogLevel::parse(&r.log_level).ok_or_else(|| StoreError::Invalid {
            field: "log_level",
            message: format!("unknown log level {:?}", r.log_level),
        })?;
        Ok(Job {
            job_id: parse_uuid("job_id", &r.job_id)?,
            status,
            progress: u8::try_from(r.progress.clamp(0, 100)).unwrap_or(100),
            stage: r.stage,
            request: JobRequest {
                motherboard_model: r.motherboard_model,
                base_image: r.base_image,
                customer_name: r.customer_name,
                image_index: r.image_index,
                driver_set: r.driver_set,
                langpacks: json_list("langpacks", &r.langpacks)?,
                updates: json_list("updates", &r.updates)?,
                software: json_list("software", &r.software)?,
                answer_file: r.answer_file,
                product_key: r.product_key,
                key_variants: r.key_variants,
                create_iso: r.create_iso,
                compression: r.compression,
                log_level,
                options: serde_json::from_str(&r.options).map_err(|e| StoreError::Invalid {
                    field: "options",
                    message: format!("stored job options are not valid: {e}"),
                })?,
            },
            created_by: r.created_by,
            created_at: from_ms("created_at", r.created_at)?,
            started_at: opt_from_ms("started_at", r.started_at)?,
            finished_at: opt_from_ms("finished_at", r.finished_at)?,
            attempt: r.attempt,
            max_attempts: r.max_attempts,
            error: r.error,
            warnings: json_list("warnings", &r.warnings)?,
            output_dir: r.output_dir,
            output_files: json_list("output_files", &r.output_files)?,
            resources: json_list("resources", &r.resources)?,
            cancel_requested: r.cancel_requested,
            lease_owner: r.lease_owner,
            lease_expires_at: opt_from_ms("lease_expires_at", r.lease_expires_at)?,
            priority: r.priority,
        })
    }
}

pub(crate) fn jobs_from_rows(rows: Vec<JobRow>) -> Result<Vec<Job>> {
    rows.into_iter().map(Job::try_from).collect()
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) role: String,
    pub(crate) created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<User> {
        Ok(User {
            id: r.id,
            role: Role::parse(&r.role).ok_or_else(|| StoreError::Invalid {
                field: "role",
                message: format!("unknown role {:?}", r.role),
            })?,
            username: r.username,
            created_at: from_ms("created_at", r.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    job_id: String,
    seq: i64,
    ts: i64,
    level: String,
    stage: Option<String>,
    message: String,
}

impl TryFrom<LogRow> for LogLine {
    type Error = StoreError;

    fn try_from(r: LogRow) -> Result<LogLine> {
        Ok(LogLine {
            job_id: parse_uuid("job_id", &r.job_id)?,
            seq: r.seq,
            ts: from_ms("ts", r.ts)?,
            level: LogLevel::parse(&r.level).ok_or_else(|| StoreError::Invalid {
                field: "level",
                message: format!("unknown log level {:?}", r.level),
            })?,
            stage: r.stage,
            message: r.message,
        })
    }
}
