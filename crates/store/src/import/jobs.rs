//! Jobs and their log lines from the original database.

use std::collections::HashMap;

use uuid::Uuid;

use super::TableSummary;
use super::convert;
use super::source::{Field, SeedDb, SeedRow, Text, field};
use super::tables::{Usernames, creator, str_of, time_of, value};
use super::write::{ImportTx, NewJob};
use crate::clock::now_ms;
use crate::{JobStatus, Result};

const JOB_FIELDS: &[Field] = &[
    field("job_id", &["job_id", "id", "uuid"]),
    field("status", &["status", "state"]),
    field("progress", &["progress"]),
    field(
        "motherboard_model",
        &["motherboard_model", "motherboard", "board_model", "board"],
    ),
    field("base_image", &["base_image", "base_image_path", "image"]),
    field("customer_name", &["customer_name", "customer"]),
    field("image_index", &["image_index", "wim_index", "index"]),
    field(
        "driver_set",
        &[
            "driver_set",
            "driver_path",
            "drivers_path",
            "driver_version",
        ],
    ),
    field(
        "langpacks",
        &[
            "langpacks",
            "langpack_paths",
            "language_packs",
            "langpack_path",
        ],
    ),
    field("updates", &["updates", "update_paths", "update_path"]),
    field("software", &["software", "software_paths", "software_path"]),
    field(
        "answer_file",
        &["answer_file", "answer_file_path", "unattend_path"],
    ),
    field("product_key", &["product_key"]),
    field("create_iso", &["create_iso"]),
    field("log_level", &["log_level"]),
    field(
        "created_by",
        &["created_by", "user_id", "creator", "username"],
    ),
    field("created_at", &["created_at", "submitted_at", "created"]),
    field("started_at", &["started_at", "start_time"]),
    field(
        "completed_at",
        &["completed_at", "finished_at", "ended_at", "end_time"],
    ),
    field(
        "error_message",
        &["error_message", "error", "failure_reason"],
    ),
    field(
        "output_image_path",
        &["output_image_path", "output_path", "output_dir"],
    ),
];

// Positions in JOB_FIELDS.
const ID: usize = 0;
const STATUS: usize = 1;
const PROGRESS: usize = 2;
const BOARD: usize = 3;
const IMAGE: usize = 4;
const CUSTOMER: usize = 5;

const LOG_FIELDS: &[Field] = &[
    field("job_id", &["job_id"]),
    field("timestamp", &["timestamp", "ts", "created_at", "time"]),
    field("log_level", &["log_level", "level"]),
    field("message", &["message", "msg", "log_message", "text"]),
    field("stage", &["stage", "step", "phase"]),
];

pub(crate) async fn import_jobs(
    seed: &SeedDb,
    job_columns: Option<&[String]>,
    log_columns: Option<&[String]>,
    tx: &mut ImportTx,
    usernames: &Usernames,
) -> Result<(TableSummary, TableSummary)> {
    let mut jobs = TableSummary::new("build_jobs");
    let mut logs = TableSummary::new("job_logs");
    let mut lines: HashMap<String, Vec<SeedRow>> = HashMap::new();
    if let Some(columns) = log_columns {
        logs.found = true;
        let read = seed
            .read("job_logs", columns, LOG_FIELDS, Some("timestamp"))
            .await?;
        logs.missing_columns = read.missing;
        for row in read.rows {
            match value(&row, 0).map(Text::key) {
                Some(key) => lines.entry(key).or_default().push(row),
                None => logs.skip("a log line without a job_id".to_string()),
            }
        }
    }
    if let Some(columns) = job_columns {
        jobs.found = true;
        let read = seed
            .read("build_jobs", columns, JOB_FIELDS, Some("created_at"))
            .await?;
        jobs.missing_columns = read.missing;
        for row in &read.rows {
            let Some(old) = value(row, ID).map(Text::key) else {
                jobs.skip("a job without a job_id".to_string());
                continue;
            };
            let job_lines = lines.remove(&old).unwrap_or_default();
            if tx.mapped("job", &old).await?.is_some() {
                jobs.already_imported += 1;
                logs.already_imported += job_lines.len() as u64;
                continue;
            }
            let job = new_job(row, &old, tx, usernames, &mut jobs).await?;
            tx.insert_job(&job).await?;
            tx.record("job", &old, &job.job_id, now_ms()).await?;
            jobs.imported += 1;
            import_lines(tx, &job, &old, &job_lines, &mut logs).await?;
        }
    }
    let mut orphans: Vec<(String, usize)> = lines.into_iter().map(|(k, v)| (k, v.len())).collect();
    orphans.sort();
    for (old, n) in orphans {
        logs.skipped += n as u64;
        logs.notes.push(format!(
            "skipped: {n} line(s) of job {old}, which is not in build_jobs"
        ));
    }
    Ok((jobs, logs))
}

/// The job row as written here, with a warning for everything that was changed.
async fn new_job(
    row: &SeedRow,
    old: &str,
    tx: &mut ImportTx,
    usernames: &Usernames,
    summary: &mut TableSummary,
) -> Result<NewJob> {
    let now = now_ms();
    let mut warnings = vec![format!(
        "imported from the original WAIT database (job {old})"
    )];
    // Keep a UUID id when it is free, so links to the old job keep pointing at it.
    let job_id = match Uuid::parse_str(old) {
        Ok(id) if !tx.job_exists(&id.to_string()).await? => id.to_string(),
        _ => Uuid::now_v7().to_string(),
    };
    let (status, status_note) = convert::job_status(str_of(row, STATUS));
    if let Some(note) = &status_note {
        summary.notes.push(format!("job {old}: {note}"));
        warnings.push(note.clone());
    }
    let mut required = |i: usize, field: &str| match str_of(row, i) {
        Some(v) => v.to_string(),
        None => {
            warnings.push(format!("{field} was empty in the original database"));
            String::new()
        }
    };
    let motherboard_model = required(BOARD, "motherboard_model");
    let base_image = required(IMAGE, "base_image");
    let customer_name = required(CUSTOMER, "customer_name");
    if row.iter().flatten().any(|t| t.lossy) {
        warnings.push("some text was not valid UTF-8; invalid bytes were replaced".to_string());
        summary.notes.push(format!(
            "job {old}: text that is not valid UTF-8 was repaired"
        ));
    }
    let created_at = time_of(row, 16);
    if created_at.is_none() {
        warnings.push("no readable created_at; the import time is used".to_string());
    }
    if let Some(path) = str_of(row, 20) {
        // The old output path names the old machine's folders; it is kept for reference
        // rather than turned into an output folder here that may not exist.
        warnings.push(format!("original output: {path}"));
    }
    let progress = if status == JobStatus::Completed {
        100
    } else {
        str_of(row, PROGRESS)
            .and_then(|p| p.parse::<f64>().ok())
            .filter(|p| p.is_finite())
            .map_or(0, |p| p.clamp(0.0, 100.0) as i64)
    };
    let list = |i: usize| crate::rows::to_json("list", &convert::list(str_of(row, i)));
    Ok(NewJob {
        job_id,
        status,
        progress,
        motherboard_model,
        base_image,
        customer_name,
        image_index: str_of(row, 6).unwrap_or("1").to_string(),
        driver_set: str_of(row, 7).map(str::to_string),
        langpacks: list(8)?,
        updates: list(9)?,
        software: list(10)?,
        answer_file: str_of(row, 11).map(str::to_string),
        product_key: str_of(row, 12).map(str::to_string),
        create_iso: str_of(row, 13).is_some_and(convert::truthy),
        log_level: level(str_of(row, 14)),
        created_by: creator(row, 15, usernames),
        created_at: created_at.unwrap_or(now),
        started_at: time_of(row, 17),
        finished_at: time_of(row, 18),
        error: str_of(row, 19).map(str::to_string).or(status_note),
        warnings: crate::rows::to_json("warnings", &warnings)?,
    })
}

fn level(text: Option<&str>) -> &'static str {
    if text.is_some_and(|l| l.eq_ignore_ascii_case("verbose") || l.eq_ignore_ascii_case("debug")) {
        "verbose"
    } else {
        "normal"
    }
}

/// A job's lines, numbered 1, 2, 3 … in the old order; a line without a message is
/// skipped, one without a readable time takes the job's.
async fn import_lines(
    tx: &mut ImportTx,
    job: &NewJob,
    old: &str,
    lines: &[SeedRow],
    summary: &mut TableSummary,
) -> Result<()> {
    let mut seq = 0;
    let mut empty = 0;
    for line in lines {
        let Some(message) = value(line, 3)
            .map(|t| t.value.as_str())
            .filter(|m| !m.is_empty())
        else {
            empty += 1;
            continue;
        };
        seq += 1;
        let ts = time_of(line, 1).unwrap_or(job.created_at);
        tx.insert_log(
            &job.job_id,
            seq,
            ts,
            level(str_of(line, 2)),
            str_of(line, 4),
            message,
        )
        .await?;
    }
    summary.imported += seq as u64;
    if empty > 0 {
        summary.skipped += empty;
        summary.notes.push(format!(
            "skipped: {empty} line(s) of job {old} without a message"
        ));
    }
    Ok(())
}
