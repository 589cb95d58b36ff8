//! Cancellation in every stage: a custom stage placed after each built-in stage asks
//! the store to cancel the job (as the API does) and waits until the worker notices.
//! The job must end Cancelled with no output folder, no scratch left in the work dir
//! and no file of the build still open. Also: custom stages run in order and can stage
//! files and add components.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::{
    BUILTIN_STAGES, ComponentEntry, Manifest, PipelineError, Stage, StageContext, Worker,
    WorkerConfig,
};
use wait_store::{JobStatus, Store};

fn worker(env: &Env) -> Worker {
    let mut config = WorkerConfig::new("cancel-worker", env.dir.path().join("work"));
    config.heartbeat = Duration::from_millis(20);
    config.poll_interval = Duration::from_millis(20);
    Worker::new(env.store.clone(), env.repo.clone(), config)
}

/// Cancels the job through the store, then waits for the worker to notice.
struct CancelHere {
    store: Store,
    handle: tokio::runtime::Handle,
}

impl Stage for CancelHere {
    fn name(&self) -> &str {
        "cancel-here"
    }

    fn run(&self, cx: &mut StageContext<'_>) -> Result<(), PipelineError> {
        let id = cx.job().job_id;
        self.handle
            .block_on(self.store.request_cancel(id))
            .map_err(PipelineError::Store)?;
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            cx.check_cancel()?;
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(PipelineError::Permanent(
            "the worker never noticed the cancel".into(),
        ))
    }
}

/// Files under `dir` this process still has open.
fn open_files_under(dir: &Path) -> Vec<String> {
    let mut open = Vec::new();
    for fd in std::fs::read_dir("/proc/self/fd")
        .expect("fd list")
        .flatten()
    {
        if let Ok(target) = std::fs::read_link(fd.path()) {
            if target.starts_with(dir) {
                open.push(target.display().to_string());
            }
        }
    }
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_in_every_stage_publishes_nothing_and_leaves_nothing() {
    let spec = TreeSpec::small(71);
    let env = Env::new(spec).await;
    // An ISO base image with ISO output, so that every stage has real work to stop.
    wait_catalog::fixtures::write_base_iso(
        &env.repo.root().join("1_BaseImages/MEDIA.iso"),
        &spec,
        "CANCEL_MEDIA",
    )
    .expect("base ISO");
    for stage in BUILTIN_STAGES {
        let mut w = worker(&env);
        w.add_stage(
            stage,
            Arc::new(CancelHere {
                store: env.store.clone(),
                handle: tokio::runtime::Handle::current(),
            }),
        )
        .expect("add stage");
        let mut req = env.request();
        req.customer_name = format!("C-{stage}");
        req.base_image = "MEDIA.iso".into();
        req.create_iso = true;
        let job = env.store.create_job(&req, None).await.expect("create");
        w.run_until_idle().await.expect("worker");

        let job = env
            .store
            .get_job(job.job_id)
            .await
            .expect("get")
            .expect("job");
        assert_eq!(
            job.status,
            JobStatus::Cancelled,
            "after {stage}: {:?}",
            job.error
        );
        let customer = env.repo.output_root().join(&req.customer_name);
        let left: Vec<_> = std::fs::read_dir(&customer)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "after {stage}: output left {left:?}");
        let work = env.dir.path().join("work");
        let scratch: Vec<_> = std::fs::read_dir(&work)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("job-"))
                    .map(|e| e.file_name())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            scratch.is_empty(),
            "after {stage}: scratch left {scratch:?}"
        );
        let open = open_files_under(env.dir.path());
        let open: Vec<_> = open.iter().filter(|p| !p.contains("wait.db")).collect();
        assert!(open.is_empty(), "after {stage}: still open {open:?}");
    }
}

/// Records the stages it saw and stages one file of its own.
struct Marker {
    seen: Arc<Mutex<Vec<String>>>,
}

impl Stage for Marker {
    fn name(&self) -> &str {
        "marker"
    }

    fn run(&self, cx: &mut StageContext<'_>) -> Result<(), PipelineError> {
        let host = cx.scratch_dir().join("marker.txt");
        std::fs::write(&host, b"placed by a custom stage\r\n")
            .map_err(|e| PipelineError::Permanent(e.to_string()))?;
        cx.stage_file(&host, "/WAIT/marker.txt")?;
        cx.add_component(ComponentEntry {
            kind: "custom".into(),
            name: "marker".into(),
            staged_at: r"C:\WAIT\marker.txt".into(),
            how: "copied by a custom stage".into(),
            when: "in the image".into(),
        });
        cx.info("marker placed");
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(cx.job().request.customer_name.clone());
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_stage_files_reach_the_image_and_the_manifest() {
    let env = Env::new(TreeSpec::small(72)).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut w = worker(&env);
    w.add_stage(
        "software",
        Arc::new(Marker {
            seen: Arc::clone(&seen),
        }),
    )
    .expect("add stage");
    assert!(
        w.add_stage(
            "nowhere",
            Arc::new(Marker {
                seen: Arc::clone(&seen)
            })
        )
        .is_err(),
        "an unknown stage name is refused"
    );
    let job = env
        .store
        .create_job(&env.request(), None)
        .await
        .expect("create");
    w.run_until_idle().await.expect("worker");
    let job = env
        .store
        .get_job(job.job_id)
        .await
        .expect("get")
        .expect("job");
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    assert_eq!(seen.lock().expect("lock").len(), 1);
    let dir = env.output(job.output_dir.as_deref().expect("output"));
    let listing = common::run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    assert!(listing.contains("/WAIT/marker.txt"));
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("parses");
    assert!(manifest.components.iter().any(|c| c.kind == "custom"));
    assert!(
        manifest
            .staged_files
            .iter()
            .any(|s| s.image_path == "/WAIT/marker.txt")
    );
    assert!(manifest.timings.iter().any(|t| t.stage == "marker"));
    let logs = env
        .store
        .logs_after(job.job_id, 0, true, 10_000)
        .await
        .expect("logs");
    assert!(
        logs.iter()
            .any(|l| l.stage.as_deref() == Some("marker") && l.message == "marker placed")
    );
}
