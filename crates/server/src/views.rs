//! What the API shows of stored records. Jobs are copied field by field so nothing new
//! in the store leaks by accident; the product key is always masked and lease
//! bookkeeping stays private.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use wait_store::{Job, JobStatus, LogLevel, LogLine, Resource};

use crate::openapi::mirrors;

pub use wait_store::mask_product_key;

/// Replace every occurrence of the job's product key in `text` with its masked form.
pub fn redact(text: &str, product_key: Option<&str>) -> String {
    match product_key {
        Some(key) if !key.is_empty() && text.contains(key) => {
            text.replace(key, &mask_product_key(key))
        }
        _ => text.to_string(),
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    #[schema(value_type = String, format = "uuid")]
    pub job_id: Uuid,
    #[schema(value_type = mirrors::JobStatus)]
    pub status: JobStatus,
    pub progress: u8,
    pub stage: Option<String>,
    pub customer_name: String,
    pub motherboard_model: String,
    pub base_image: String,
    pub image_index: String,
    pub driver_set: Option<String>,
    pub langpacks: Vec<String>,
    pub updates: Vec<String>,
    pub software: Vec<String>,
    pub answer_file: Option<String>,
    /// Masked: only the last group is shown.
    pub product_key: Option<String>,
    pub key_variants: String,
    pub create_iso: bool,
    /// File stem of the output image; null = `install`.
    pub image_name: Option<String>,
    pub recompress_winre: bool,
    /// Image data compressed again even where the base already held it in this format.
    pub recompress: bool,
    /// Silent switches per `.exe`, from the request.
    pub software_switches: std::collections::BTreeMap<String, String>,
    pub compression: String,
    #[schema(value_type = mirrors::LogLevel)]
    pub log_level: LogLevel,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<OffsetDateTime>,
    pub attempt: i64,
    pub max_attempts: i64,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub output_dir: Option<String>,
    pub output_files: Vec<String>,
    #[schema(value_type = Vec<mirrors::Resource>)]
    pub resources: Vec<Resource>,
    pub cancel_requested: bool,
    pub priority: i64,
    /// 1-based place among queued jobs; only present on queued jobs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u32)]
    pub queue_position: Option<u32>,
}

impl JobView {
    pub fn new(job: Job, queue_position: Option<u32>) -> Self {
        let key = job.request.product_key.clone();
        let key = key.as_deref();
        JobView {
            job_id: job.job_id,
            status: job.status,
            progress: job.progress,
            stage: job.stage,
            customer_name: job.request.customer_name,
            motherboard_model: job.request.motherboard_model,
            base_image: job.request.base_image,
            image_index: job.request.image_index,
            driver_set: job.request.driver_set,
            langpacks: job.request.langpacks,
            updates: job.request.updates,
            software: job.request.software,
            answer_file: job.request.answer_file,
            product_key: key.map(mask_product_key),
            key_variants: job.request.key_variants,
            create_iso: job.request.create_iso,
            image_name: job.request.options.image_name,
            recompress_winre: job.request.options.recompress_winre,
            recompress: job.request.options.recompress,
            software_switches: job.request.options.software_switches,
            compression: job.request.compression,
            log_level: job.request.log_level,
            created_by: job.created_by,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            error: job.error.map(|e| redact(&e, key)),
            warnings: job.warnings.iter().map(|w| redact(w, key)).collect(),
            output_dir: job.output_dir,
            output_files: job.output_files,
            resources: job.resources,
            cancel_requested: job.cancel_requested,
            priority: job.priority,
            queue_position: if job.status == JobStatus::Queued {
                queue_position
            } else {
                None
            },
        }
    }
}

/// One log line as sent on the job stream.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogView {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub ts: OffsetDateTime,
    #[schema(value_type = mirrors::LogLevel)]
    pub level: LogLevel,
    pub stage: Option<String>,
    pub message: String,
}

impl LogView {
    pub fn new(line: LogLine, product_key: Option<&str>) -> Self {
        LogView {
            seq: line.seq,
            ts: line.ts,
            level: line.level,
            stage: line.stage,
            message: redact(&line.message, product_key),
        }
    }
}

/// A page of jobs (`GET /api/jobs`, `GET /api/jobs/search`): `total` counts every match,
/// not only this page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A page of a job's log (`GET /api/jobs/{id}/logs`). Ask again with
/// `after=next_after` for the lines that follow; an empty page means none yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogPage {
    #[schema(value_type = String, format = "uuid")]
    pub job_id: Uuid,
    /// The job's status when the page was read, so a reader knows when to stop asking.
    #[schema(value_type = mirrors::JobStatus)]
    pub status: JobStatus,
    pub lines: Vec<LogView>,
    /// The last seq on this page, or the `after` asked for when the page is empty.
    pub next_after: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_keys_are_masked_except_the_last_group() {
        assert_eq!(
            mask_product_key("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"),
            "*****-*****-*****-*****-UVWXY"
        );
        assert_eq!(mask_product_key("short"), "*****");
        assert_eq!(mask_product_key(""), "*****");
        assert_eq!(
            redact(
                "key ABCDE-FGHIJ-KLMNO-PQRST-UVWXY used",
                Some("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY")
            ),
            "key *****-*****-*****-*****-UVWXY used"
        );
        assert_eq!(redact("nothing here", None), "nothing here");
    }
}
