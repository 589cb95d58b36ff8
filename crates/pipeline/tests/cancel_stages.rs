//! Cancellation in every stage: a custom stage placed after each built-in stage asks
//! the store to cancel the job (as the API does) and waits until the worker notices.
//! The job must end Cancelled with no output folder, no scratch left in the work dir
//! and no file of the build still open. Also: custom stages run in order and can stage
//! files and add components.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Env;
use common::cancel::assert_left_nothing;
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::{BUILTIN_STAGES, ComponentEntry, PipelineError, Stage, StageContext, Worker};
use wait_store::{JobStatus, Store};

fn worker(env: &Env) -> Worker {
    env.quick_worker("cancel-worker", |_| {})
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_in_every_stage_publishes_nothing_and_leaves_nothing() {
    let spec = TreeSpec::small(71);
    let env = Env::new(spec).await;
    // An ISO base image with ISO output, so that every stage has real work to stop.
    env.add_base_iso(&spec, "MEDIA.iso", "CANCEL_MEDIA");
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
        let job = env.run_job(&w, &req).await;
        assert_eq!(
            job.status,
            JobStatus::Cancelled,
            "after {stage}: {:?}",
            job.error
        );
        assert_left_nothing(&env, &req.customer_name, &format!("after {stage}"));
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
    let job = env.run_job(&w, &env.request()).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    assert_eq!(seen.lock().expect("lock").len(), 1);
    let dir = env.output(job.output_dir.as_deref().expect("output"));
    let listing = common::run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    assert!(listing.contains("/WAIT/marker.txt"));
    let manifest = common::manifest(&dir);
    assert!(manifest.components.iter().any(|c| c.kind == "custom"));
    assert!(
        manifest
            .staged_files
            .iter()
            .any(|s| s.image_path == "/WAIT/marker.txt")
    );
    assert!(manifest.timings.iter().any(|t| t.stage == "marker"));
    let logs = env.logs(job.job_id).await;
    assert!(
        logs.iter()
            .any(|l| l.stage.as_deref() == Some("marker") && l.message == "marker placed")
    );
}
