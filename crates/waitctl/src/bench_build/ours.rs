//! Our side: submit the job to a real SQLite store and let a `waitctl worker` child
//! process (this same binary) take it to Completed, validation included.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Deserialize;
use wait_pipeline::StageTiming;
use wait_store::{Job, JobRequest, JobStatus, LogLevel, LogLine, Store};

use super::fixture::{BenchRepo, CUSTOMER, SOFTWARE_FILE};
use crate::cli::Common;
use crate::env::Env;

/// How often the store is asked whether the job is done.
const POLL: Duration = Duration::from_millis(100);
/// A job still running after this long is given up on (a hung worker).
const GIVE_UP: Duration = Duration::from_secs(3 * 3600);
/// How long the idle worker gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(60);
/// Settings a worker would otherwise pick up from the caller's environment.
const INHERITED: [&str; 7] = [
    "WAIT_DATA_DIR",
    "WAIT_REPOSITORY",
    "WAIT_DATABASE_URL",
    "WAIT_CONCURRENCY",
    "WAIT_LEASE_SECONDS",
    "WAIT_DRAIN_SECONDS",
    "WAIT_BIND",
];

/// What our build cost.
#[derive(Debug, Clone)]
pub struct OursResult {
    /// Submit to Completed, from the store's own timestamps.
    pub total: f64,
    /// Submit to the worker's first log line (process start, queue poll, claim).
    pub start: Option<f64>,
    /// First to last line of the validation stage.
    pub validation: Option<f64>,
    /// Build time not in any stage timing: the publish stage (its own timing is taken
    /// after manifest.json is written) and the move to validation.
    pub handoff: Option<f64>,
    /// `timings[]` of the job's manifest.json.
    pub timings: Vec<StageTiming>,
    /// The worker's high-water RSS (VmHWM), read once the job was done.
    pub peak_rss_kib: Option<u64>,
    pub image_size: u64,
    pub output_dir: PathBuf,
}

#[derive(Deserialize)]
struct ManifestTimings {
    timings: Vec<StageTiming>,
    outputs: Vec<ManifestImage>,
}

/// The image file of one output (`install.wim`, or `install.esd` for ESD output).
#[derive(Debug, Deserialize)]
struct ManifestImage {
    image_file: String,
}

/// The worker child; killed if the benchmark stops early.
struct WorkerProcess(Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub async fn run(
    data_dir: &Path,
    bench: &BenchRepo,
    compression: &str,
) -> anyhow::Result<OursResult> {
    let common = Common {
        data_dir: data_dir.to_path_buf(),
        repository: None,
        database_url: None,
    };
    let env = Env::open(&common).await?;
    let request = JobRequest {
        motherboard_model: bench.board.clone(),
        base_image: bench.base_image.clone(),
        customer_name: CUSTOMER.to_string(),
        image_index: "1".to_string(),
        driver_set: None,
        langpacks: Vec::new(),
        updates: Vec::new(),
        software: vec![SOFTWARE_FILE.to_string()],
        answer_file: Some(bench.answer_file.clone()),
        product_key: None,
        key_variants: "nokey".to_string(),
        create_iso: false,
        compression: compression.to_string(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    };
    let log_path = data_dir.join("worker.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find this program's own path")?;

    let started = Instant::now();
    let job = env.store.create_job(&request, Some("bench")).await?;
    let mut command = Command::new(exe);
    command
        .arg("worker")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--concurrency", "1"])
        .stdin(Stdio::null())
        // The log is a file, not a terminal.
        .env("NO_COLOR", "1")
        .stdout(log.try_clone().context("worker log")?)
        .stderr(log);
    for var in INHERITED {
        command.env_remove(var);
    }
    let mut worker = WorkerProcess(command.spawn().context("cannot start `waitctl worker`")?);
    let pid = worker.0.id();

    let mut peak = None;
    let finished = loop {
        let current = env
            .store
            .get_job(job.job_id)
            .await?
            .with_context(|| format!("job {} disappeared", job.job_id))?;
        // VmHWM only grows; keep the last reading in case the worker dies.
        peak = vm_hwm_kib(pid).or(peak);
        if current.status.is_final() {
            break current;
        }
        if let Some(status) = worker.0.try_wait()? {
            bail!(
                "the worker exited ({status}) before job {} finished; see {}",
                job.job_id,
                log_path.display()
            );
        }
        if started.elapsed() > GIVE_UP {
            bail!(
                "job {} did not finish within {} s; see {}",
                job.job_id,
                GIVE_UP.as_secs(),
                log_path.display()
            );
        }
        tokio::time::sleep(POLL).await;
    };
    // The worker is idle now, so its high-water mark is the job's peak.
    let peak_rss_kib = vm_hwm_kib(pid).or(peak);
    stop(&mut worker.0, &log_path).await?;

    if finished.status != JobStatus::Completed {
        bail!(
            "job {} ended {}: {}; see {}",
            finished.job_id,
            finished.status.as_str(),
            finished.error.as_deref().unwrap_or("-"),
            log_path.display()
        );
    }
    let output = finished
        .output_dir
        .as_deref()
        .with_context(|| format!("job {} has no output folder", finished.job_id))?;
    let output_dir = env.repo.output_root().join(output);
    let manifest_path = output_dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest: ManifestTimings = serde_json::from_str(&text)
        .with_context(|| format!("{}: no timings[]", manifest_path.display()))?;
    let image_file = manifest
        .outputs
        .first()
        .map(|o| o.image_file.as_str())
        .with_context(|| format!("{}: no outputs[]", manifest_path.display()))?;
    let image = output_dir.join(image_file);
    let image_size = std::fs::metadata(&image)
        .with_context(|| format!("cannot read {}", image.display()))?
        .len();
    let logs = all_logs(&env.store, &finished).await?;
    let staged: f64 = manifest.timings.iter().map(|t| t.seconds).sum();
    let handoff = logs
        .first()
        .zip(logs.iter().find(|l| l.stage.as_deref() == Some("validate")))
        .map(|(first, validate)| {
            let build = seconds_between(
                first.ts.unix_timestamp_nanos(),
                validate.ts.unix_timestamp_nanos(),
            );
            (build - staged).max(0.0)
        });
    Ok(OursResult {
        total: store_span(&finished).unwrap_or_else(|| started.elapsed().as_secs_f64()),
        start: logs.first().map(|l| {
            seconds_between(
                finished.created_at.unix_timestamp_nanos(),
                l.ts.unix_timestamp_nanos(),
            )
        }),
        validation: stage_span(&logs, "validate"),
        handoff,
        timings: manifest.timings,
        peak_rss_kib,
        image_size,
        output_dir,
    })
}

/// SIGTERM, then wait for the worker to finish its shutdown.
async fn stop(child: &mut Child, log: &Path) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .context("cannot run kill")?;
    if !status.success() {
        bail!("kill -TERM {} failed", child.id());
    }
    let asked = Instant::now();
    while asked.elapsed() < STOP_GRACE {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                eprintln!(
                    "note: the worker exited with {status}; see {}",
                    log.display()
                );
            }
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
    bail!(
        "the worker did not stop within {} s of SIGTERM; see {}",
        STOP_GRACE.as_secs(),
        log.display()
    )
}

async fn all_logs(store: &Store, job: &Job) -> anyhow::Result<Vec<LogLine>> {
    let mut out: Vec<LogLine> = Vec::new();
    loop {
        let after = out.last().map_or(0, |l| l.seq);
        let page = store.logs_after(job.job_id, after, false, 1000).await?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

/// Seconds between two instants given in Unix nanoseconds.
fn seconds_between(from: i128, to: i128) -> f64 {
    (to - from) as f64 / 1e9
}

fn store_span(job: &Job) -> Option<f64> {
    job.finished_at.map(|end| {
        seconds_between(
            job.created_at.unix_timestamp_nanos(),
            end.unix_timestamp_nanos(),
        )
    })
}

/// From the first to the last log line of `stage`.
fn stage_span(logs: &[LogLine], stage: &str) -> Option<f64> {
    let in_stage = |l: &&LogLine| l.stage.as_deref() == Some(stage);
    let first = logs.iter().find(in_stage)?;
    let last = logs.iter().rev().find(in_stage)?;
    Some(seconds_between(
        first.ts.unix_timestamp_nanos(),
        last.ts.unix_timestamp_nanos(),
    ))
}

/// The peak resident set of a live process, from `/proc/<pid>/status`.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
