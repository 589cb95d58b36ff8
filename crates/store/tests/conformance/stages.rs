//! Stage-specific claims (build-only and validation-only workers), hand-off between
//! them, and waking idle workers.

use std::time::Duration;

use wait_store::{CancelOutcome, JobStatus, JobUpdate, Stages, StoreError};

use crate::support::{self, TestDb};

const LEASE: Duration = Duration::from_secs(60);

conformance! {
async fn validate_workers_take_only_jobs_handed_to_validation(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    assert!(
        db.store.claim_job_for("v", LEASE, Stages::Validate).await.expect("claim").is_none(),
        "a queued job is not for a validation worker"
    );
    let built = db
        .store
        .claim_job_for("b", LEASE, Stages::Build)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(built.status, JobStatus::ProcessingBuild);
    db.store
        .transition(job.job_id, built.attempt, JobStatus::PendingValidation, &JobUpdate {
            output_dir: Some("default/x".into()),
            ..JobUpdate::default()
        })
        .await
        .expect("built");
    assert!(
        db.store.claim_job_for("v", LEASE, Stages::Validate).await.expect("claim").is_none(),
        "still held by the build worker"
    );
    let handed = db.store.release_lease(job.job_id, built.attempt).await.expect("hand off");
    assert_eq!(handed.status, JobStatus::PendingValidation);
    assert!(
        db.store.claim_job_for("b2", LEASE, Stages::Build).await.expect("claim").is_none(),
        "a build worker does not take validation work"
    );
    let v = db
        .store
        .claim_job_for("v", LEASE, Stages::Validate)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(v.status, JobStatus::ProcessingValidation);
    assert_eq!(v.attempt, built.attempt + 1);
    assert_eq!(v.lease_owner.as_deref(), Some("v"));
    assert_eq!(v.output_dir.as_deref(), Some("default/x"));
    assert!(matches!(
        db.store.heartbeat(job.job_id, built.attempt, LEASE).await,
        Err(StoreError::LeaseLost { .. })
    ));
    let done = db
        .store
        .transition(job.job_id, v.attempt, JobStatus::Completed, &JobUpdate::default())
        .await
        .expect("done");
    assert_eq!(done.status, JobStatus::Completed);
}

async fn an_expired_validation_is_reclaimed_by_a_validation_worker(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let b = db.store.claim_job_for("b", LEASE, Stages::Build).await.expect("claim").expect("job");
    db.store
        .transition(job.job_id, b.attempt, JobStatus::PendingValidation, &JobUpdate::default())
        .await
        .expect("built");
    db.expire_lease(job.job_id).await;
    assert!(db.store.claim_job_for("b2", LEASE, Stages::Build).await.expect("claim").is_none());
    let v = db
        .store
        .claim_job_for("v", LEASE, Stages::Validate)
        .await
        .expect("claim")
        .expect("reclaimed");
    assert_eq!(v.status, JobStatus::ProcessingValidation);
    assert_eq!(v.attempt, 2);
}

async fn releasing_a_validation_returns_it_to_pending_validation(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let got = db.store.claim_job("w", LEASE).await.expect("claim").expect("job");
    let none = JobUpdate::default();
    db.store
        .transition(job.job_id, got.attempt, JobStatus::PendingValidation, &none)
        .await
        .expect("built");
    db.store
        .transition(job.job_id, got.attempt, JobStatus::ProcessingValidation, &none)
        .await
        .expect("validating");
    let back = db.store.release_lease(job.job_id, got.attempt).await.expect("release");
    assert_eq!(back.status, JobStatus::PendingValidation);
    assert!(back.lease_owner.is_none());
    // an all-stages worker picks it up again, as a validation
    let again = db.store.claim_job("w2", LEASE).await.expect("claim").expect("job");
    assert_eq!(again.status, JobStatus::ProcessingValidation);
}

async fn cancelling_a_job_waiting_for_validation_cancels_it_at_once(db: &TestDb) {
    let job = db.store.create_job(&support::request("A"), None).await.expect("job");
    let b = db.store.claim_job_for("b", LEASE, Stages::Build).await.expect("claim").expect("job");
    db.store
        .transition(job.job_id, b.attempt, JobStatus::PendingValidation, &JobUpdate::default())
        .await
        .expect("built");
    db.store.release_lease(job.job_id, b.attempt).await.expect("hand off");
    assert_eq!(
        db.store.request_cancel(job.job_id).await.expect("cancel"),
        CancelOutcome::Cancelled
    );
    assert!(db.store.claim_job_for("v", LEASE, Stages::Validate).await.expect("claim").is_none());
}

async fn wait_for_work_returns_early_when_a_job_is_queued(db: &TestDb) {
    // A waiter parked for a long time is woken by a job queued through another store
    // handle (on PostgreSQL: another pool, as another process would be).
    let other = db.reopen().await.expect("second store");
    // a first short wait starts the PostgreSQL listener before the job is queued
    db.store.wait_for_work(Duration::from_millis(300)).await;
    let waiter = {
        let store = db.store.clone();
        tokio::spawn(async move {
            let start = std::time::Instant::now();
            let mut woken = false;
            // the SQLite wait is capped at 250 ms, so loop until a job is visible
            while start.elapsed() < Duration::from_secs(20) {
                woken = store.wait_for_work(Duration::from_secs(20)).await;
                if woken || !store.queue().await.expect("queue").is_empty() {
                    break;
                }
            }
            (woken, start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    other.create_job(&support::request("A"), None).await.expect("job");
    let (woken, waited) = waiter.await.expect("waiter");
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    if db.backend == support::Backend::Postgres {
        assert!(woken, "PostgreSQL wakes waiters through NOTIFY");
    }
    other.close().await;
}

async fn wait_for_work_is_woken_by_a_job_queued_on_the_same_store(db: &TestDb) {
    let waiter = {
        let store = db.store.clone();
        tokio::spawn(async move { store.wait_for_work(Duration::from_secs(30)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    db.store.create_job(&support::request("A"), None).await.expect("job");
    let woken = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("woken in time")
        .expect("waiter");
    // SQLite may also return at its 250 ms poll; either way it returned quickly
    if db.backend == support::Backend::Postgres {
        assert!(woken);
    }
}
}
