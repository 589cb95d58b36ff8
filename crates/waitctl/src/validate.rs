//! `waitctl validate JOB [--json]`: run the validation stage again on a job's published
//! output (old jobs too) and say what holds. The job's state is left as it is; the
//! result lines are appended to the job's log so the history shows the re-check.
//!
//! Exit codes: 0 every check passed, 1 some check failed, 2 nothing could be checked
//! (unknown job, no output folder, validation could not run).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use serde::Serialize;
use uuid::Uuid;
use wait_pipeline::{ValidationReport, validate_output};
use wait_store::LogLevel;

use crate::cli::Common;
use crate::env::Env;

/// The log stage the lines are filed under, as the validation worker files its own.
const STAGE: &str = "validate";

#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    job_id: Uuid,
    output_dir: &'a str,
    passed: bool,
    #[serde(flatten)]
    report: &'a ValidationReport,
}

pub async fn run(common: &Common, job: &str, json: bool) -> anyhow::Result<ExitCode> {
    match validate_job(common, job, json).await {
        Ok(passed) => Ok(if passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }),
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Whether every check passed; `Err` when there was nothing to check.
async fn validate_job(common: &Common, job: &str, json: bool) -> anyhow::Result<bool> {
    let id = Uuid::parse_str(job.trim()).with_context(|| format!("JOB {job:?} is not a job id"))?;
    let env = Env::open(common).await?;
    let Some(job) = env.store.get_job(id).await? else {
        bail!("job {id} not found in {}", env.database_display());
    };
    let Some(rel) = job.output_dir.clone() else {
        bail!("job {id} ({}) has no output folder to validate", job.status);
    };
    let dir = env.repo.output_root().join(&rel);
    if !dir.is_dir() {
        bail!(
            "the output folder of job {id}, 8_Output/{rel}, is not there ({})",
            dir.display()
        );
    }

    let cancel = Arc::new(AtomicBool::new(false));
    let on_interrupt = {
        let cancel = Arc::clone(&cancel);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::Relaxed);
            }
        })
    };
    let checked = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || validate_output(&dir, cancel)).await
    };
    on_interrupt.abort();
    let report = checked
        .context("validation stopped unexpectedly")?
        .with_context(|| format!("validation of 8_Output/{rel} could not run"))?;

    let lines: Vec<String> = report
        .checks
        .iter()
        .map(|c| {
            format!(
                "{} {}: {}",
                if c.ok { "PASS" } else { "FAIL" },
                c.name,
                c.detail
            )
        })
        .collect();
    let passed = report.passed();
    let mut log_lines = Vec::with_capacity(lines.len() + 2);
    log_lines.push(format!(
        "Re-validating 8_Output/{rel} on request (waitctl validate)"
    ));
    log_lines.extend(lines.iter().cloned());
    log_lines.push(format!(
        "Re-validation {}: {} of {} checks passed; the job stays {}",
        if passed { "passed" } else { "failed" },
        report.checks.iter().filter(|c| c.ok).count(),
        report.checks.len(),
        job.status
    ));
    for message in &log_lines {
        env.store
            .append_log(id, LogLevel::Normal, Some(STAGE), message)
            .await
            .context("cannot append to the job's log")?;
    }

    if json {
        let out = JsonReport {
            job_id: id,
            output_dir: &rel,
            passed,
            report: &report,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for line in &lines {
            println!("{line}");
        }
    }
    Ok(passed)
}
