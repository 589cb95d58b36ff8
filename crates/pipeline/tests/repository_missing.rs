//! A worker whose repository is missing (a shared folder that went away) claims no job
//! and says why; once the folder is back it takes the job and builds it. The folder is
//! renamed away and back, as an unmounted share looks to the worker.

mod common;

use std::time::{Duration, Instant};

use common::Env;
use wait_catalog::fixtures::TreeSpec;
use wait_store::JobStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repository_claims_nothing_until_it_is_back() {
    let env = Env::new(TreeSpec::small(61)).await;
    let worker = env.worker();
    assert_eq!(worker.repository_problem().await, None);

    let root = env.repo.root().to_path_buf();
    let away = env.dir.path().join("repo-away");
    std::fs::rename(&root, &away).expect("move the repository away");
    let problem = worker
        .repository_problem()
        .await
        .expect("a missing repository is a problem");
    assert!(
        problem.contains(&root.display().to_string()) && problem.contains("unavailable"),
        "{problem}"
    );

    let job = env
        .store
        .create_job(&env.request(), None)
        .await
        .expect("create job");
    assert_eq!(
        worker.run_one().await.expect("poll"),
        None,
        "nothing claimed"
    );
    let still = env
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(still.status, JobStatus::Queued);
    assert_eq!(still.attempt, 0, "no attempt was used up");
    assert!(
        !root.exists(),
        "the worker did not create the repository itself"
    );

    std::fs::rename(&away, &root).expect("move the repository back");
    assert_eq!(worker.repository_problem().await, None);
    assert_eq!(worker.run_until_idle().await.expect("worker"), 1);
    let done = env
        .store
        .get_job(job.job_id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(done.status, JobStatus::Completed, "{:?}", done.error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_loop_keeps_running_while_the_output_folder_is_gone() {
    let env = Env::new(TreeSpec::small(62)).await;
    let output = env.repo.output_root();
    let away = env.dir.path().join("output-away");
    std::fs::rename(&output, &away).expect("move 8_Output away");

    let worker = env.worker();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn({
        let worker = worker.clone();
        async move {
            worker
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        }
    });
    let job = env
        .store
        .create_job(&env.request(), None)
        .await
        .expect("create job");
    let problem = worker
        .repository_problem()
        .await
        .expect("8_Output is missing");
    assert!(
        problem.contains(&output.display().to_string()),
        "the message names the folder: {problem}"
    );
    // The loop polls (20 ms) without claiming; the job waits with no attempt used.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = env
            .store
            .get_job(job.job_id)
            .await
            .expect("read")
            .expect("job");
        assert_eq!((now.status, now.attempt), (JobStatus::Queued, 0));
    }
    assert!(!running.is_finished(), "the worker loop is still running");

    std::fs::rename(&away, &output).expect("move 8_Output back");
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let job = env
            .store
            .get_job(job.job_id)
            .await
            .expect("read")
            .expect("job");
        if job.status.is_final() {
            break job;
        }
        assert!(Instant::now() < deadline, "job stuck in {:?}", job.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done.status, JobStatus::Completed, "{:?}", done.error);
    assert_eq!(done.attempt, 1);
    let _ = stop.send(());
    running.await.expect("the worker loop ended cleanly");
}
