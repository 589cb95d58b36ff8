//! Hooks in a real build (environment, output in the job log, a failing hook fails the
//! build, after publication only a warning) and the clean-up of stale work at worker
//! start.

mod common;

use common::{Env, names_in};
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::{Worker, parse_hook};
use wait_store::{Job, JobStatus};

fn worker(env: &Env, hooks: &[&str]) -> Worker {
    env.quick_worker("hook-worker", |config| {
        config.hooks = hooks
            .iter()
            .map(|h| parse_hook(h).expect("valid hook"))
            .collect();
    })
}

/// Build the demo request with `hooks` set and return the finished job.
async fn build_with_hooks(env: &Env, hooks: &[&str]) -> Job {
    env.run_job(&worker(env, hooks), &env.request()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_see_the_build_and_write_to_the_job_log() {
    let env = Env::new(TreeSpec::small(91)).await;
    let marker = env.dir.path().join("published.txt");
    let hooks = [
        "after_stage.drivers=echo \"stage=$WAIT_STAGE job=$WAIT_JOB_ID board=$WAIT_BOARD\"; test -d \"$WAIT_SCRATCH_DIR\"",
        "before_publish=ls \"$WAIT_OUTPUT_DIR\" | grep -c . | sed 's/^/files=/'",
    ];
    let after = format!(
        "after_publish=echo \"$WAIT_OUTPUT_DIR\" > {}",
        marker.display()
    );
    let mut all: Vec<&str> = hooks.to_vec();
    all.push(&after);
    let job = build_with_hooks(&env, &all).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    let logs = env.logs(job.job_id).await;
    let text: Vec<&str> = logs.iter().map(|l| l.message.as_str()).collect();
    let expected = format!(
        "[after_stage.drivers] stage=drivers job={} board={}",
        job.job_id, job.request.motherboard_model
    );
    assert!(text.iter().any(|l| *l == expected), "{text:#?}");
    // Before publication the output folder already holds every file but the folder name.
    assert!(
        text.iter()
            .any(|l| l.starts_with("[before_publish] files=")),
        "{text:#?}"
    );
    let published = std::fs::read_to_string(&marker).expect("after_publish ran");
    let out = env.output(job.output_dir.as_deref().expect("output"));
    assert_eq!(published.trim(), out.display().to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hook_fails_the_build_and_publishes_nothing() {
    let env = Env::new(TreeSpec::small(92)).await;
    let job = build_with_hooks(
        &env,
        &["after_stage.answer-file=echo scanning; echo 'virus found' >&2; exit 3"],
    )
    .await;
    assert_eq!(job.status, JobStatus::FailedBuild);
    let error = job.error.unwrap_or_default();
    assert!(error.contains("after_stage.answer-file"), "{error}");
    let left = names_in(&env.repo.output_root().join("ACME"));
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hook_after_publication_is_a_warning() {
    let env = Env::new(TreeSpec::small(93)).await;
    let job = build_with_hooks(&env, &["after_publish=exit 1"]).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    assert!(
        job.warnings.iter().any(|w| w.contains("after_publish")),
        "{:?}",
        job.warnings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_work_of_finished_or_unknown_jobs_is_removed_at_start() {
    let env = Env::new(TreeSpec::small(94)).await;
    // A finished job, and one the database never heard of.
    let job = build_with_hooks(&env, &[]).await;
    let unknown = uuid::Uuid::now_v7();
    let work = env.dir.path().join("work");
    let customer = env.repo.output_root().join("ACME");
    let stale = [
        work.join(format!("job-{}-x1", job.job_id)),
        work.join(format!("job-{unknown}-x2")),
        customer.join(format!(".partial-{}-1", job.job_id)),
        customer.join(format!(".partial-{unknown}-3")),
    ];
    for dir in &stale {
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
        std::fs::write(dir.join("sub/file.bin"), b"left by a crash").expect("write");
    }
    let keep = work.join("downloads");
    std::fs::create_dir_all(&keep).expect("mkdir");

    // Start a worker and stop it at once: the clean-up runs before it looks for work.
    worker(&env, &[]).run(async {}).await;
    for dir in &stale {
        assert!(!dir.exists(), "{} was not removed", dir.display());
    }
    assert!(keep.exists(), "other folders are left alone");
    let finished = env.job(job.job_id).await;
    let out = env.output(finished.output_dir.as_deref().expect("output"));
    assert!(
        out.join("install.wim").is_file(),
        "published output untouched"
    );
}
