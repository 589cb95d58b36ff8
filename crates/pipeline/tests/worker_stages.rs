//! Worker roles and failure handling: build-only and validation-only workers, transient
//! failures going back to the queue, permanent ones not, and the hand-back on shutdown.

mod common;

use std::time::Duration;

use common::Env;
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::{EventKind, JobStatus, Stages};

fn worker(env: &Env, name: &str, stages: Stages) -> Worker {
    let mut config = WorkerConfig::new(name, env.dir.path().join("work"));
    config.heartbeat = Duration::from_millis(20);
    config.poll_interval = Duration::from_millis(20);
    config.stages = stages;
    Worker::new(env.store.clone(), env.repo.clone(), config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_worker_hands_over_to_validation_worker() {
    let env = Env::new(TreeSpec::small(21)).await;
    let job = env.store.create_job(&env.request(), None).await.unwrap();

    let validator = worker(&env, "validator", Stages::Validate);
    assert_eq!(
        validator.run_until_idle().await.unwrap(),
        0,
        "nothing to validate yet"
    );

    let builder = worker(&env, "builder", Stages::Build);
    assert_eq!(
        builder.run_one().await.unwrap(),
        Some(JobStatus::PendingValidation)
    );
    let waiting = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(waiting.status, JobStatus::PendingValidation);
    assert!(
        waiting.lease_owner.is_none(),
        "the builder released the job"
    );
    assert_eq!(
        builder.run_until_idle().await.unwrap(),
        0,
        "a build worker does not validate"
    );

    assert_eq!(
        validator.run_one().await.unwrap(),
        Some(JobStatus::Completed)
    );
    let done = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Completed);
    assert!(
        env.output(done.output_dir.as_deref().unwrap())
            .join("install.wim")
            .is_file()
    );

    let kinds: Vec<EventKind> = env
        .store
        .job_events(job.job_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.first(), Some(&EventKind::Queued));
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::BuildSucceeded)
            .count(),
        1
    );
    assert_eq!(kinds.last(), Some(&EventKind::Completed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_failure_is_not_retried() {
    let env = Env::new(TreeSpec::small(22)).await;
    let mut req = env.request();
    req.image_index = "7".into();
    let job = env.store.create_job(&req, None).await.unwrap();
    assert_eq!(
        worker(&env, "w", Stages::All).run_one().await.unwrap(),
        Some(JobStatus::FailedBuild)
    );
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::FailedBuild);
    assert_eq!(job.attempt, 1);
    assert!(job.error.unwrap().contains("image_index"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failure_goes_back_to_the_queue_with_backoff() {
    let env = Env::new(TreeSpec::small(23)).await;
    // The customer's output folder cannot be created: a plain file is in the way.
    std::fs::write(env.output("ACME"), b"in the way").unwrap();
    let job = env.store.create_job(&env.request(), None).await.unwrap();
    assert_eq!(
        worker(&env, "w", Stages::All).run_one().await.unwrap(),
        Some(JobStatus::Queued)
    );
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.attempt, 1);
    assert!(
        job.error.as_deref().unwrap_or("").contains("ACME"),
        "{:?}",
        job.error
    );
    // Backoff: the job is not runnable again at once.
    assert!(
        worker(&env, "w2", Stages::All)
            .run_one()
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_past_the_drain_deadline_hands_the_job_back() {
    let env = Env::new(TreeSpec::demo(24)).await;
    let job = env.store.create_job(&env.request(), None).await.unwrap();
    let mut config = WorkerConfig::new("leaving", env.dir.path().join("work"));
    config.heartbeat = Duration::from_millis(20);
    config.drain_deadline = Duration::ZERO;
    let w = Worker::new(env.store.clone(), env.repo.clone(), config);
    let store = env.store.clone();
    let id = job.job_id;
    // Shut down as soon as the worker holds the job.
    let shutdown = async move {
        loop {
            let j = store.get_job(id).await.unwrap().unwrap();
            if j.status == JobStatus::ProcessingBuild {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    w.run(shutdown).await;
    let back = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(back.status, JobStatus::Queued, "error: {:?}", back.error);
    assert!(back.lease_owner.is_none());
    let left: Vec<_> = std::fs::read_dir(env.output("ACME"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing published or left behind");

    // Another worker picks it up and finishes it.
    assert_eq!(
        worker(&env, "next", Stages::All).run_one().await.unwrap(),
        Some(JobStatus::Completed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_are_hashed_through_the_content_hash_cache() {
    let env = Env::new(TreeSpec::small(25)).await;
    let cache_file = env.dir.path().join("cache/hashes.json");
    let mut config = WorkerConfig::new("cached", env.dir.path().join("work"));
    config.hash_cache = Some(cache_file.clone());
    let w = Worker::new(env.store.clone(), env.repo.clone(), config);
    let job = env.store.create_job(&env.request(), None).await.unwrap();
    assert_eq!(w.run_one().await.unwrap(), Some(JobStatus::Completed));
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    let base = job
        .resources
        .iter()
        .find(|r| r.kind == "base_image")
        .unwrap();

    // The cache now knows the base image, with the digest the job recorded.
    let mut cache = wait_catalog::HashCache::open(&cache_file).unwrap();
    let path = env.repo.root().join(&base.path);
    assert_eq!(cache.hash(&path).unwrap().sha256, base.sha256);
    assert!(cache.stats().entries >= 1);
}
